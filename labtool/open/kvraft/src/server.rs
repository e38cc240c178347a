//! The versioned key/value server: a [`StateMachine`](crate::rsm::StateMachine) on the
//! [`Rsm`](crate::rsm::Rsm), exposed as the labrpc service `KVServer` (`KVServer.Get`
//! with [`GetArgs`](crate::rpc::GetArgs), `KVServer.Put` with
//! [`PutArgs`](crate::rpc::PutArgs)).
//!
//! What the tests hold it to:
//! - Every history of clerk operations is linearizable (the tester checks), so a leader
//!   cut off from its majority must not answer from its possibly stale state.
//! - A put is applied at most once per clerk request
//!   ([`RequestId`](crate::rpc::RequestId)), even when the clerk retries it after a
//!   lost reply or a restart, and what remembers that survives snapshots.
//! - Part 4D ([`Reads`]): with `Reads::ReadIndex` or `Reads::Lease`, gets add nothing to
//!   the log, a leader that was deposed without knowing it serves no stale get, and on
//!   a lease a stable leader's gets cost no RPCs beyond its heartbeats; with
//!   `follower_reads`, followers answer gets too, never from a state behind the
//!   leader's commit index when the get arrived.

use std::collections::BTreeSet;
use std::sync::Arc;

use labrpc::{ClientEnd, Service};
use persister::Persister;
use raft::Raft;

/// How a server answers gets (part 4D).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reads {
    /// Through the log, like puts (Lab 4B).
    #[default]
    Log,
    /// At a read index that the leader confirms with a round of requests (§8).
    ReadIndex,
    /// At a read index that the leader gives on its lease (thesis §6.4.1).
    Lease,
}

/// How a server starts.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// Snapshot when Raft's state nears this many bytes; `None` never.
    pub maxraftstate: Option<usize>,
    /// Part 4E: the first configuration, if not every server.
    pub initial_voters: Option<BTreeSet<usize>>,
    /// Part 4D: how gets are served.
    pub reads: Reads,
    /// Part 4D: followers answer gets too, at a read index they ask the leader for.
    pub follower_reads: bool,
}

/// One KV server: its rsm (and through it, its Raft peer).
pub struct KvServer {
    // Your fields.
}

impl KvServer {
    /// Starts server `me` of the cluster reached through `peers` (Go's `StartKVServer`).
    /// `maxraftstate`: snapshot when Raft's state nears this many bytes; `None` never.
    /// Returns at once.
    pub fn new(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        maxraftstate: Option<usize>,
    ) -> Self {
        let options = ServerOptions {
            maxraftstate,
            ..ServerOptions::default()
        };
        Self::with_options(peers, me, persister, options)
    }

    /// Starts server `me` as `options` say (every option but `maxraftstate` is part 4D's
    /// or 4E's). Returns at once.
    pub fn with_options(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        options: ServerOptions,
    ) -> Self {
        let _ = (peers, me, persister, options);
        todo!("4B: start the server's rsm (and through it, its Raft peer), and return")
    }

    /// The services to register on this server's labrpc server: `KVServer` and `Raft`.
    pub fn services(&self) -> Vec<Service> {
        todo!("4B: the KVServer service (Get and Put) and this peer's Raft service")
    }

    /// This server's Raft peer.
    pub fn raft(&self) -> &Arc<Raft> {
        todo!("4B: this server's Raft peer")
    }

    /// Stops the server (Go's `Kill`): Raft stops and waiting requests fail.
    pub fn kill(&self) {
        todo!("4B: stop the server")
    }
}
