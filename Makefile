# Shortcuts for the commands in README.md.

PARTS := 3A 3B 3C 3D 3E 4A 4B 4C 4D 4E
.PHONY: test bench lint raft kv sim sim-stress stress grade handout $(PARTS)

# Everything: unit tests, the network, the checker, and every lab suite.
test:
	cargo test

bench:
	cargo bench

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings

# The whole Raft suite (3A-3E), release build, one Go-style line per test.
raft:
	cargo test --release -p tests --test raft_3a --test raft_3b --test raft_3c --test raft_3d --test raft_3e

# The Lab 4 suites (4A rsm, 4B KV, 4C KV with snapshots, 4D reads without the log, 4E KV under membership change), release build.
kv:
	cargo test --release -p tests --test rsm_4a --test kv_4b --test kv_4c --test kv_4d --test kv_4e

# One part: make 3A, make 3B, ... make 4E (the tests whose names end in that part).
$(PARTS):
	cargo test --release -p tests -- $@

# Every suite in sim mode: each test a seeded simulation on a virtual clock (2 at a time).
sim:
	RAFTLAB_SIM=1 RUST_TEST_THREADS=2 cargo test --release -p tests

# Stress in sim mode, every failure replayable exactly: make sim-stress TESTS=figure8_unreliable_3C N=500
sim-stress:
	cargo run -q --release -p labtool -- stress --sim $(TESTS) -n $(N) -j 2

# labtool. Stress some tests: make stress TESTS="3A backup_3B" N=50 J=16
TESTS ?= 3A
N ?= 20
J ?= 16
stress:
	cargo run -q --release -p labtool -- stress $(TESTS) -n $(N) -j $(J)

# Grade every part once, writing grade.json and grade.xml: make grade PARTS_TO_GRADE=3A,3B RUNS=3
PARTS_TO_GRADE ?= 3A,3B,3C,3D,3E,4A,4B,4C,4D,4E
RUNS ?= 1
grade:
	cargo run -q --release -p labtool -- grade --parts $(PARTS_TO_GRADE) --runs $(RUNS) --json grade.json --junit grade.xml

# The student handout: make handout OUT=../raftlab-handout [LEVEL=guided|open]
OUT ?= ../raftlab-handout
LEVEL ?= guided
handout:
	cargo run -q -p labtool -- handout $(OUT) --level $(LEVEL)
