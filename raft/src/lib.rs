//! raftlab's Raft peer: leader election (3A), log replication (3B),
//! persistence (3C), snapshots (3D) and membership change (3E), after the extended Raft
//! paper (Ongaro and Ousterhout, 2014), Ongaro's thesis (2014) and the MIT 6.5840 lab API.
//!
//! A service (the tester, or the KV server) creates one [`Raft`] per peer, registers
//! [`Raft::service`] on the peer's labrpc server, and hands it commands with
//! [`Raft::start`]. Every command that the cluster commits comes back, in log order, on
//! the apply channel as an [`ApplyMsg::Command`]; a snapshot that a leader installs comes
//! back as an [`ApplyMsg::Snapshot`].
//!
//! Part 3E adds membership change without touching that API: [`Raft::with_initial_voters`]
//! starts a peer of a cluster smaller than its set of ends (or, with no voters, a server
//! that waits to be added); the leader's [`Raft::add_learner`], [`Raft::change_voters`]
//! and [`Raft::transfer_leadership`] change the cluster; a committed configuration comes
//! back on the apply channel as an [`ApplyMsg::Config`], at its own log index.
//!
//! Layout:
//! - [`node`]: the protocol — the peer's state and one function per rule of Figure 2
//!   and §7, free of threads and clocks;
//! - `peer`: the thread that owns a node and carries out its effects (persist, answer,
//!   send, apply), and the labrpc service;
//! - [`config`]: cluster configurations and why a change was refused (3E); `quorum`:
//!   what counts as a majority of a configuration, joint ones included;
//! - [`read`]: reads without the log: leases (4D);
//! - [`log`], [`messages`], [`persist`]: the log with its snapshot cut, the RPCs (and why
//!   a read index was refused), and the encoding of the persistent state.
//!
//! Logging goes through the `log` crate at debug level with one target per topic
//! (`raft::vote`, `raft::append`, `raft::commit`, `raft::leader`, `raft::term`,
//! `raft::snapshot`, `raft::client`, `raft::config`), so `RUST_LOG=raft::vote=debug` shows elections only.
//! Every line starts with the peer (`S2`) and its term (`T5`).

pub mod config;
pub mod log;
pub mod messages;
pub mod node;
mod peer;
pub mod persist;
mod quorum;
pub mod read;

use std::collections::BTreeSet;
use std::sync::Arc;

use labrpc::{ClientEnd, Service};
use labrt::channel::Sender;
use labrt::sync::Mutex;
use persister::Persister;

pub use config::{ChangeError, Config};
pub use read::ReadError;

/// What a peer hands its service, in log order.
///
/// The service (the tester too) takes each index exactly once, in order, without gaps:
/// the first command has index 1 (each [`ApplyMsg::Config`] of part 3E takes an index
/// too), and after a snapshot — an [`ApplyMsg::Snapshot`], or the one the peer restarted
/// from — the next index is the snapshot's index + 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyMsg {
    /// A committed command and its log index (the first command has index 1).
    Command { index: u64, command: Vec<u8> },
    /// A snapshot from the leader that replaces the service's state up to `index`, the
    /// last index it covers; sent only when it goes beyond what the peer has applied.
    Snapshot {
        index: u64,
        term: u64,
        snapshot: Vec<u8>,
    },
    /// Part 3E: a committed configuration and its log index (it takes the place of a
    /// command there).
    Config { index: u64, config: Config },
}

/// One Raft peer. Dropping it kills it.
pub struct Raft {
    events: Sender<peer::Event>,
    published: Arc<peer::Published>,
    persister: Arc<Persister>,
    thread: Mutex<Option<labrt::thread::JoinHandle<()>>>,
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
        let all = (0..peers.len()).collect();
        Self::with_initial_voters(peers, me, all, persister, apply)
    }

    /// Part 3E: like [`Raft::new`], but a log without a configuration means a cluster of
    /// `voters` only (the others of `peers` are servers it may add later). A server that
    /// starts outside the cluster, to be added, gets no voters: it never campaigns and
    /// waits for a leader to send it the log. Once the log (or the snapshot) holds a
    /// configuration, that one counts, on every restart.
    pub fn with_initial_voters(
        peers: Vec<ClientEnd>,
        me: usize,
        voters: BTreeSet<usize>,
        persister: Arc<Persister>,
        apply: Sender<ApplyMsg>,
    ) -> Self {
        let handle = peer::spawn(peers, me, voters, Arc::clone(&persister), apply);
        Self {
            events: handle.events,
            published: handle.published,
            persister,
            thread: Mutex::new(Some(handle.thread)),
        }
    }

    /// The labrpc service (`"Raft.RequestVote"`, `"Raft.AppendEntries"`,
    /// `"Raft.InstallSnapshot"`) to register on this peer's server.
    ///
    /// A handler may be running when the peer is killed, and the tester deletes a
    /// crashed server from the network before it kills it, so no caller sees what such a
    /// handler answers; it must still return at once and must not panic. A killed peer's
    /// handlers answer a reply that says nothing (term 0, refused).
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
    /// saved. The service calls this from the thread that reads the apply channel, so it
    /// must never wait for that channel to be read.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        peer::snapshot(&self.events, index, snapshot);
    }

    /// Part 3E, on the leader: adds `server` as a learner, which gets the log but no vote.
    /// Returns the index and term of the configuration entry; it is committed when it
    /// comes back as an [`ApplyMsg::Config`]. Refused with the reason
    /// ([`ChangeError`]) if this peer is not the leader, a change is in flight, the leader
    /// has committed nothing of its term yet, or the server is unknown or a member.
    pub fn add_learner(&self, server: usize) -> Result<(u64, u64), ChangeError> {
        peer::add_learner(&self.events, server)
    }

    /// Part 3E, on the leader: makes `voters` the voters. A voter more or less is a
    /// single-server change; any other change goes through joint consensus (C_old,new,
    /// then C_new, which the leader appends once C_old,new commits). New voters must be
    /// learners that hold everything committed. Returns the index and term of the first
    /// configuration entry, or why the change was refused ([`ChangeError`]).
    pub fn change_voters(&self, voters: &[usize]) -> Result<(u64, u64), ChangeError> {
        peer::change_voters(&self.events, voters.iter().copied().collect())
    }

    /// Part 3E, on the leader: hands leadership to the voter `to` (thesis §3.10). The
    /// leader takes no commands until `to` has been elected or the transfer was given up
    /// (after an election timeout). Returns once the transfer has begun.
    pub fn transfer_leadership(&self, to: usize) -> Result<(), ChangeError> {
        peer::transfer(&self.events, to)
    }

    /// Part 3E: the configuration in effect on this peer (the latest in its log,
    /// committed or not).
    pub fn membership(&self) -> Config {
        self.published.config()
    }

    /// Part 4D: an index at which a read is linearizable: once the service has applied
    /// this far, its state answers the read (§8, thesis §6.4). On the leader, the commit
    /// index once a quorum has confirmed the leadership (or at once on a valid lease); on
    /// a follower, the leader's answer to a ReadIndex request. Waits at most
    /// [`read::READ_TIMEOUT`]; a refusal says why ([`ReadError`]).
    pub fn read_index(&self) -> Result<u64, ReadError> {
        peer::read_index(&self.events, true)
    }

    /// Part 4D: lets the leader serve reads on a lease (thesis §6.4.1) instead of a round
    /// of heartbeats per batch of reads.
    pub fn set_lease_reads(&self, on: bool) {
        peer::set_lease_reads(&self.events, on);
    }

    /// The size of the saved raft state, for a service that snapshots when it grows.
    pub fn persist_bytes(&self) -> usize {
        self.persister.raft_state_size()
    }

    /// Stops the peer: its thread exits (no RPC is sent after this returns: the tester
    /// fails a killed peer that sends any more than 0.5 s later), and the apply channel
    /// closes. Idempotent. Until then the apply channel stays open: a service that sees
    /// it close while the peer runs takes the peer for dead. A peer whose thread died of
    /// a panic has already had its message printed; its service sees the channel close.
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
