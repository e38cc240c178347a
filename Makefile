# Shortcuts for the commands in README.md.

PARTS := 3A 3B 3C 3D
.PHONY: test bench lint raft $(PARTS)

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

# One part of the Raft suite: make 3A, make 3B, ...
$(PARTS):
	cargo test --release -p tests --test raft_$(shell echo $@ | tr A-Z a-z)
