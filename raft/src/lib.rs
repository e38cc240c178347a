//! The reference Raft peer of raftlab: leader election (3A), log replication (3B),
//! persistence (3C) and snapshots (3D), after the extended Raft paper (Ongaro and
//! Ousterhout, 2014) and the MIT 6.5840 lab API.
//!
//! A service (the tester, or the KV server) creates one [`Raft`] per peer, registers
//! [`Raft::service`] on the peer's labrpc server, and hands it commands with
//! [`Raft::start`]. Every command that the cluster commits comes back, in log order, on
//! the apply channel as an [`ApplyMsg::Command`]; a snapshot that a leader installs comes
//! back as an [`ApplyMsg::Snapshot`].
//!
//! Layout:
//! - [`node`]: the protocol — the peer's state and one function per rule of Figure 2
//!   and §7, free of threads and clocks, with unit tests;
//! - `peer`: the thread that owns a node and carries out its effects (persist, answer,
//!   send, apply), and the labrpc service;
//! - [`log`], [`messages`], [`persist`]: the log with its snapshot cut, the RPCs, and the
//!   encoding of the persistent state.
//!
//! Logging goes through the `log` crate at debug level with one target per topic
//! (`raft::vote`, `raft::append`, `raft::commit`, `raft::leader`, `raft::term`,
//! `raft::snapshot`, `raft::client`), so `RUST_LOG=raft::vote=debug` shows elections only.
//! Every line starts with the peer (`S2`) and its term (`T5`).

pub mod log;
pub mod messages;
pub mod node;
mod peer;
pub mod persist;

use std::sync::Arc;

use crossbeam_channel::Sender;
use labrpc::{ClientEnd, Service};
use parking_lot::Mutex;
use persister::Persister;

/// What a peer hands its service, in log order.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyMsg {
    /// A committed command and its log index (the first command has index 1).
    Command { index: u64, command: Vec<u8> },
    /// A snapshot from the leader that replaces the service's state up to `index`.
    Snapshot {
        index: u64,
        term: u64,
        snapshot: Vec<u8>,
    },
}

/// One Raft peer. Dropping it kills it.
pub struct Raft {
    events: Sender<peer::Event>,
    published: Arc<peer::Published>,
    persister: Arc<Persister>,
    thread: Mutex<Option<std::thread::JoinHandle<()>>>,
}

impl Raft {
    /// Creates peer `me` of a cluster whose peers are reached through `peers`
    /// (`peers[me]` is this peer's own end, never used). The peer restarts from whatever
    /// `persister` holds and delivers applied messages on `apply`, which should be an
    /// unbounded channel: the peer never waits for the service. Returns at once; the
    /// peer runs on its own thread.
    ///
    /// # Panics
    /// If the persister holds raft state this peer cannot decode.
    pub fn new(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        apply: Sender<ApplyMsg>,
    ) -> Self {
        let handle = peer::spawn(peers, me, Arc::clone(&persister), apply);
        Self {
            events: handle.events,
            published: handle.published,
            persister,
            thread: Mutex::new(Some(handle.thread)),
        }
    }

    /// The labrpc service (`"Raft.RequestVote"`, `"Raft.AppendEntries"`,
    /// `"Raft.InstallSnapshot"`) to register on this peer's server.
    pub fn service(&self) -> Service {
        peer::service(&self.events)
    }

    /// Asks the peer to append `command` to the log. Returns at once: `Some((index,
    /// term))` where the command will appear if it is ever committed, or `None` if this
    /// peer is not the leader (or has been killed). A command is not committed until it
    /// comes back on the apply channel.
    pub fn start(&self, command: Vec<u8>) -> Option<(u64, u64)> {
        peer::start(&self.events, command)
    }

    /// The current term, and whether this peer believes it is the leader.
    pub fn get_state(&self) -> (u64, bool) {
        self.published.load()
    }

    /// The service has a snapshot of its state through `index` (which it has applied):
    /// the peer keeps it and discards the log up to there. Returns once the snapshot is
    /// saved.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        peer::snapshot(&self.events, index, snapshot);
    }

    /// The size of the saved raft state, for a service that snapshots when it grows.
    pub fn persist_bytes(&self) -> usize {
        self.persister.raft_state_size()
    }

    /// Stops the peer: its thread exits (no RPC is sent after this returns), and the
    /// apply channel closes. Idempotent. A peer whose thread died of a panic has already
    /// had its message printed; its service sees the apply channel close.
    pub fn kill(&self) {
        if let Some(thread) = self.thread.lock().take() {
            peer::kill(&self.events);
            let _ = thread.join();
        }
    }
}

impl Drop for Raft {
    fn drop(&mut self) {
        self.kill();
    }
}
