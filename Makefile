# Shortcuts for the commands in README.md.

.PHONY: test bench lint

test:
	cargo test

bench:
	cargo bench

lint:
	cargo fmt --all -- --check
	cargo clippy --all-targets -- -D warnings
