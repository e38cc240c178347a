//! A fault-tolerant key/value service on Raft, after MIT 6.5840's 2025 lab 4.
//!
//! Three layers:
//! - [`rsm`]: a replicated state machine. A service hands [`rsm::Rsm::submit`] an
//!   operation; the rsm puts it through Raft and returns its result once it has been
//!   applied, or [`Error::WrongLeader`] as soon as that cannot happen (leadership lost,
//!   peer shut down). It snapshots the service's state when Raft's log grows near
//!   `maxraftstate` and restores it on restart.
//! - [`server`]: the versioned KV store (`get(key) -> (value, version)`,
//!   `put(key, value, version)`) as a state machine on the rsm, exposed as the labrpc
//!   service `KVServer`. Every operation, reads included, goes through the log (4B), or
//!   (4D, [`server::Reads`]) gets are served at a read index the leader confirms. Puts are
//!   applied at most once per clerk request: a duplicate table, kept in snapshots,
//!   answers a retried request with the first answer.
//! - [`client`]: the clerk, which finds the leader, remembers it, and retries until it
//!   gets an answer.

pub mod client;
pub mod rpc;
pub mod rsm;
pub mod server;

pub use client::Clerk;
pub use rpc::{Error, Version};
pub use server::{KvServer, Reads, ServerOptions};
