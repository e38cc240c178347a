#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder's image (Ubuntu).
# It installs Rust unless a new enough one is there, then builds labtool and the
# pristine handout's tests in release mode, so that grading a submission recompiles
# only the student's crates and what depends on them.
#
# AUTOGRADER_ROOT (default /autograder) lets contrib/gradescope/check run it locally.
set -euo pipefail

root="${AUTOGRADER_ROOT:-/autograder}"
handout="$root/source/handout"
rust_version=1.95

has_rust() {
  [ -f "$HOME/.cargo/env" ] && . "$HOME/.cargo/env"
  command -v cargo >/dev/null || return 1
  # cargo 1.95.0 (...) -> 95
  local minor
  minor="$(cargo --version | sed -E 's/^cargo 1\.([0-9]+).*/\1/')"
  [ "$minor" -ge "${rust_version#1.}" ] 2>/dev/null
}

if ! has_rust; then
  apt-get update
  DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
    curl ca-certificates build-essential python3
  curl --proto '=https' --tlsv1.2 -sSf https://sh.rustup.rs |
    sh -s -- -y --profile minimal --default-toolchain "$rust_version"
  . "$HOME/.cargo/env"
fi
cargo --version

cd "$handout"
# run_autograder reuses this build from here.
export CARGO_TARGET_DIR="$handout/target"
cargo build --release -p labtool
# Dependencies, the network, the tester and the skeleton: built once here.
cargo test --release -p tests --no-run
echo "setup: labtool and the handout's tests are built in $handout/target"
