# Shortcuts for the commands in README.md.

PARTS := 3A 3B 3C 3D 4A 4B 4C
.PHONY: test bench lint raft kv $(PARTS)

# Everything: unit tests, the network, the checker, and every lab suite.
test:
	cargo test

bench:
	cargo bench

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

# The whole Raft suite (3A-3D), release build, one Go-style line per test.
raft:
	cargo test --release -p tests --test raft_3a --test raft_3b --test raft_3c --test raft_3d

# The Lab 4 suites (4A rsm, 4B KV, 4C KV with snapshots), release build.
kv:
	cargo test --release -p tests --test rsm_4a --test kv_4b --test kv_4c

# One part: make 3A, make 3B, ... make 4C (the tests whose names end in that part).
$(PARTS):
	cargo test --release -p tests -- $@
