//! Your fault-tolerant key/value service on Raft, after MIT 6.5840's 2025 lab 4.
//!
//! Three layers, whose public items are the lab's API (the tester calls exactly these:
//! keep their names and signatures, and write the bodies and everything else):
//! - [`rsm`]: a replicated state machine. A service hands [`rsm::Rsm::submit`] an
//!   operation; the rsm puts it through Raft and returns its result once it has been
//!   applied, or [`Error::WrongLeader`] as soon as that cannot happen. It snapshots the
//!   service's state when Raft's saved state grows near `maxraftstate` and restores it
//!   on restart (4C).
//! - [`server`]: the versioned KV store (`get(key) -> (value, version)`,
//!   `put(key, value, version)`) as a state machine on the rsm, exposed as the labrpc
//!   service `KVServer` (`KVServer.Get`, `KVServer.Put`).
//! - [`client`]: the clerk, which finds the leader and retries until it gets an answer.
//!
//! [`rpc`] holds the clerk's and the server's RPC messages and errors, given whole: the
//! tester sends `KVServer.Get` and `KVServer.Put` with them too.

pub mod client;
pub mod rpc;
pub mod rsm;
pub mod server;

pub use client::Clerk;
pub use rpc::{Error, Version};
pub use server::{KvServer, Reads, ServerOptions};
