//! Your Raft peer: leader election (3A), log replication (3B), persistence (3C),
//! snapshots (3D) and membership change (3E), after the extended Raft paper (Ongaro and
//! Ousterhout, 2014), Ongaro's thesis (2014) and the MIT 6.5840 lab API.
//!
//! This file is the lab's API. The tester (`tests/`) and the key/value service
//! (`kvraft/`) call exactly what is here: keep every public item's name and signature, and
//! write the bodies. Everything else is yours to design, in this file or in modules you
//! add: the peer's state, its threads and timers, the log, how the saved state is
//! encoded, and what else your `kvraft` needs of it (e.g. for part 4D's reads). Take
//! threads, sleeps, the clock, locks, channels and random numbers from `labrt`
//! (`labrt::thread`, `labrt::time::Instant`, `labrt::sync`, `labrt::channel`,
//! `labrt::random`), as the tester does, so that a test can also run as a simulation.
//! [`config`] and [`messages`] hold types of the API, given whole: the RPCs peers send
//! each other are [`messages`]' (Figure 2's fields), under the method names
//! `"Raft.RequestVote"`, `"Raft.AppendEntries"` and `"Raft.InstallSnapshot"` (3E adds
//! `"Raft.TimeoutNow"`): the tester's conformance probes (`probe_…`) play your peer's
//! peers with them.
//!
//! A service (the tester, or the KV server) creates one [`Raft`] per peer, registers
//! [`Raft::service`] on the peer's labrpc server, and hands it commands with
//! [`Raft::start`]. Every command the cluster commits comes back, in log order, on the
//! apply channel as an [`ApplyMsg::Command`].
//!
//! # What the tester holds you to
//!
//! - **Calls return promptly.** Every call the tester makes into this API is timed: one
//!   that has not returned after 8 s fails the test. The constructors return at once;
//!   the peer does its work on threads of its own.
//! - **Timing.** At most ten heartbeats a second from a leader to each follower (the
//!   tests count RPCs), and a new leader within five seconds of the old one failing.
//! - **Applying.** Each peer sends the service every committed entry exactly once, in
//!   index order, with no gap: the first command has index 1, and after a snapshot the
//!   next index is the snapshot's index + 1 ([`ApplyMsg`]).
//! - **Saving** (3C). The term, the vote and the log must survive a crash: save them
//!   with [`Persister::save`] whenever they change, before the peer reveals the change
//!   (answers an RPC, sends a request or returns from [`Raft::start`] after it). From
//!   3D the service's latest snapshot goes in the same call. A peer restarts from what
//!   the persister holds, with everything its snapshot covers counted as applied.
//! - **Killing.** After [`Raft::kill`] returns, the peer sends no more RPCs (any sent
//!   more than 0.5 s later fail the test), and its RPC handlers still return at once
//!   without panicking. The apply channel stays open until then: one that closes while
//!   the peer runs tells the tester the peer died.
//! - **No panics.** A panic on any thread of the peer fails the test at once, with the
//!   panic's place and message. Name the peer's main thread `raft-<me>` (with
//!   `labrt::thread::Builder::name`) and a failure names its panic first.
//!
//! # Logging
//!
//! Log through the `log` crate at debug level under the targets `raft::vote`,
//! `raft::leader`, `raft::term`, `raft::append`, `raft::commit`, `raft::snapshot` and
//! `raft::client`, each message starting with the peer and its term, e.g.
//! `log::debug!(target: "raft::vote", "S{} T{} grants its vote to S{}", me, term, c)`.
//! `RUST_LOG=raft=debug` shows them, and `labtool logs` lays them out one column per
//! peer.

pub mod config;
pub mod messages;

use std::collections::BTreeSet;
use std::sync::Arc;

use labrpc::{ClientEnd, Service};
use labrt::channel::Sender;
use persister::Persister;

pub use config::{ChangeError, Config};

/// What a peer hands its service on the apply channel, in log order.
///
/// The service checks that each peer sends every index exactly once, in order, without
/// gaps: the first command has index 1 (each [`ApplyMsg::Config`] of part 3E takes an
/// index too), and after a snapshot — an [`ApplyMsg::Snapshot`], or the one the peer
/// restarted from — the next index is the snapshot's index + 1.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ApplyMsg {
    /// A committed command and its log index.
    Command { index: u64, command: Vec<u8> },
    /// Part 3D: a snapshot from the leader (InstallSnapshot) that replaces the service's
    /// state up to `index`, the last index it covers, of term `term`. Send one only if
    /// it goes beyond what the peer has applied.
    Snapshot {
        index: u64,
        term: u64,
        snapshot: Vec<u8>,
    },
    /// Part 3E: a committed configuration and its log index (it takes the place of a
    /// command there).
    Config { index: u64, config: Config },
}

/// One Raft peer.
pub struct Raft {
    // Your fields: what the API's calls need to reach the peer.
}

impl Raft {
    /// Creates peer `me` of a cluster whose peers are reached through `peers`
    /// (`peers[me]` is this peer's own end, never used); every peer is a voter. The peer
    /// restarts from whatever `persister` holds (3C; on a first start it holds nothing)
    /// and delivers applied messages on `apply`, an unbounded channel: sending never
    /// waits for the service. Returns at once; the peer runs on its own threads.
    pub fn new(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        apply: Sender<ApplyMsg>,
    ) -> Self {
        let all = (0..peers.len()).collect();
        Self::with_initial_voters(peers, me, all, persister, apply)
    }

    /// Like [`Raft::new`], but (part 3E) a log without a configuration means a cluster
    /// of `voters` only; the others of `peers` are servers it may add later. A server
    /// that starts outside the cluster, to be added, gets no voters: it never campaigns
    /// and waits for a leader to send it the log. Once the log (or the snapshot) holds a
    /// configuration, that one counts, on every restart.
    ///
    /// Before part 3E, `voters` holds every peer ([`Raft::new`] calls this).
    pub fn with_initial_voters(
        peers: Vec<ClientEnd>,
        me: usize,
        voters: BTreeSet<usize>,
        persister: Arc<Persister>,
        apply: Sender<ApplyMsg>,
    ) -> Self {
        let _ = (peers, me, voters, persister, apply);
        todo!("3A: create the peer, start its threads (election timer, heartbeats), and return")
    }

    /// The labrpc service, named `"Raft"`, to register on this peer's server: a handler
    /// for each RPC of [`messages`] — `"RequestVote"` takes a
    /// [`messages::RequestVoteArgs`] and returns a [`messages::RequestVoteReply`], and so
    /// on for `"AppendEntries"`, `"InstallSnapshot"` and (3E) `"TimeoutNow"`.
    ///
    /// A handler may be running when the peer is killed, and the tester deletes a
    /// crashed server from the network before it kills it, so no caller sees what such a
    /// handler answers. It must still return at once and must not panic: a killed
    /// peer's handler can answer a reply that says nothing (term 0, refused).
    pub fn service(&self) -> Service {
        todo!("3A: the service with a handler for each RPC your peers send each other")
    }

    /// Asks the peer to append `command` to the log. Returns at once: `Some((index,
    /// term))` where the command will appear if it is ever committed, or `None` if this
    /// peer is not the leader (or has been killed). A command is not committed until it
    /// comes back on the apply channel.
    pub fn start(&self, command: Vec<u8>) -> Option<(u64, u64)> {
        let _ = command;
        todo!("3B: append the command to the leader's log and return its index and term")
    }

    /// The current term, and whether this peer believes it is the leader. The tester
    /// calls it every few milliseconds, from its own threads.
    pub fn get_state(&self) -> (u64, bool) {
        todo!("3A: the current term and whether this peer believes it is the leader")
    }

    /// Part 3D: the service has a snapshot of its state through `index`, which it has
    /// applied: keep it (save it with the raft state, [`Persister::save`]) and discard
    /// the log up to there. An `index` the log is already cut at, or beyond, is ignored.
    /// Returns once the snapshot is saved.
    ///
    /// The service calls this from the thread that reads the apply channel: it must not
    /// wait for that channel to be read. The 3D tests require the saved raft state to
    /// stay under 2000 bytes once the service snapshots every 10 commands.
    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        let _ = (index, snapshot);
        todo!("3D: keep the service's snapshot and cut the log up to `index`")
    }

    /// Part 3E, on the leader: adds `server` as a learner, which gets the log but no vote.
    /// Returns the index and term of the configuration entry; it is committed when it
    /// comes back as an [`ApplyMsg::Config`]. Refused with the reason
    /// ([`ChangeError`]) if this peer is not the leader, a change is in flight, the leader
    /// has committed nothing of its term yet, or the server is unknown or a member.
    pub fn add_learner(&self, server: usize) -> Result<(u64, u64), ChangeError> {
        let _ = server;
        todo!("3E: append a configuration with `server` as a learner")
    }

    /// Part 3E, on the leader: makes `voters` the voters. A voter more or less is a
    /// single-server change; any other change goes through joint consensus (C_old,new,
    /// then C_new, which the leader appends once C_old,new commits). New voters must be
    /// learners that hold everything committed. Returns the index and term of the first
    /// configuration entry, or why the change was refused ([`ChangeError`]).
    pub fn change_voters(&self, voters: &[usize]) -> Result<(u64, u64), ChangeError> {
        let _ = voters;
        todo!("3E: append the new configuration: single-server or joint")
    }

    /// Part 3E, on the leader: hands leadership to the voter `to` (thesis §3.10). The
    /// leader takes no commands until `to` has been elected or the transfer was given up
    /// (after an election timeout). Returns once the transfer has begun; the tests expect
    /// `to` to lead within 2 s.
    pub fn transfer_leadership(&self, to: usize) -> Result<(), ChangeError> {
        let _ = to;
        todo!("3E: start a leadership transfer to `to`")
    }

    /// The configuration in effect on this peer: the latest in its log, committed or
    /// not (part 3E). The tester asks every peer for it every few milliseconds, in every
    /// part, to draw the test's timeline: before 3E, answer
    /// `Config::of_voters(0..peers)`, every peer a voter.
    pub fn membership(&self) -> Config {
        todo!("3A: the configuration in effect (until 3E: every peer a voter)")
    }

    /// Stops the peer: every thread of it stops (no RPC is sent after this returns), and
    /// the apply channel may close. Idempotent. The tester calls it at every crash and at
    /// the end of every test.
    pub fn kill(&self) {
        todo!("3A: stop every thread of the peer")
    }
}
