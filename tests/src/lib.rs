//! The raftlab tester: everything the ported 6.5840 suites need to grade a Raft (and, in
//! Lab 4, a service on it) — a cluster on a simulated network, fault injection, Go's
//! checks, limits and messages, and a harness that runs each test under a watchdog and
//! prints Go's result line.
//!
//! The suites are the integration tests of this crate, one file per part
//! (`tests/raft_3a.rs` … `raft_3d.rs`, `rsm_4a.rs`, `kv_4b.rs`, `kv_4c.rs`), with Go's
//! test names in snake case and the part as an upper-case suffix, so `cargo test -- 3B`
//! runs exactly part 3B.

pub mod calls;
pub mod group;
pub mod harness;
pub mod hints;
pub mod kv;
pub mod panics;
pub mod probe;
pub mod raft;
pub mod record;
pub mod rsm;
pub mod sim;
pub mod tester;
pub mod trace;
pub mod viz;
