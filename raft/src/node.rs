//! The protocol: one peer's Raft state and the rules of the paper's Figure 2 (plus §5.4.2
//! and §7) as plain functions over it.
//!
//! Nothing here touches a thread, a channel or a clock. Time comes in as a parameter, and
//! every effect goes into an [`Outbox`] that the peer's thread carries out in a fixed
//! order: persist first, then reply and send, then apply. Because of that order a peer
//! never reveals state (in a reply, a request, a `start` result or an applied command)
//! that a crash could still take back. Saving is an effect too, and the peer saves only
//! when asked: whatever changes the term, the vote, the log or the snapshot must set
//! [`Outbox::persist`].
//!
//! Where to find each rule of Figure 2:
//!
//! | rule | function |
//! |---|---|
//! | All servers: apply committed entries | [`Node::apply_committed`] |
//! | All servers: a higher term makes you a follower | [`Node::adopt_term_if_newer`] |
//! | Followers: election timeout → candidate | [`Node::tick`], [`Node::start_election`] |
//! | Candidates: start an election, count votes | [`Node::start_election`], [`Node::handle_vote_reply`] |
//! | Candidates: AppendEntries from a leader → follower | [`Node::handle_append_entries`] |
//! | Leaders: heartbeats, replicate from nextIndex | [`Node::send_heartbeats`], [`Node::replicate_to`] |
//! | Leaders: on reply, update nextIndex/matchIndex | [`Node::handle_append_reply`], [`Node::back_up_next_index`] |
//! | Leaders: commit only entries of the current term (§5.4.2) | [`Node::advance_commit_index`] |
//! | RequestVote receiver | [`Node::handle_request_vote`], [`Node::candidate_log_is_up_to_date`] |
//! | AppendEntries receiver, rules 1–5 | [`Node::handle_append_entries`], [`Node::append_new_entries`] |
//! | InstallSnapshot receiver (§7) | [`Node::handle_install_snapshot`] |
//! | Service snapshot, log compaction (§7) | [`Node::snapshot`] |
//!
//! And part 3E, membership change (§6 of the extended paper, Ongaro's thesis ch. 4 and
//! §3.10):
//!
//! | rule | function | thesis |
//! |---|---|---|
//! | The latest configuration in the log is in effect, committed or not; truncating it away reverts to the one before | [`Node::refresh_config`] | §4.1 |
//! | Learners and servers outside the configuration never campaign | [`Node::tick`] | §4.2.1 |
//! | Elections and commits need a majority of each set of voters (joint consensus) | [`Config::has_quorum`], [`Config::quorum_index`] | §4.3 |
//! | A new server joins as a learner and gets a vote only once caught up | [`Node::add_learner`], [`Node::caught_up`] | §4.2.1 |
//! | One change at a time, and none before the leader has committed an entry of its term | [`Node::check_change_allowed`] | §4.1, raft-dev 2015 |
//! | One voter more or less: a single-server change; anything else: C_old,new, then C_new | [`Node::change_voters`], [`Node::finish_joint_change`] | §4.1, §4.3 |
//! | A leader that removed itself leads until C_new commits, then steps down | [`Node::step_down_if_removed`] | §4.2.2 |
//! | Ignore RequestVote within the minimum election timeout of hearing from a leader | [`Node::ignores_vote_request`] | §4.2.3 |
//! | Leadership transfer: catch the target up, TimeoutNow, take no commands meanwhile | [`Node::transfer_leadership`], [`Node::continue_transfer`], [`Node::handle_timeout_now`] | §3.10 |
//!
//! And part 4D, reads without the log (§8 of the extended paper, thesis §6.4):
//!
//! | rule | function | thesis |
//! |---|---|---|
//! | A read is served at the commit index, and only once the leader has committed an entry of its term | [`Node::read_index`] | §6.4 step 1 |
//! | …once a quorum answered a request sent after the read arrived; reads waiting together share the requests | [`Node::read_index`], [`Node::confirm_reads`] | §6.4 steps 2–3 |
//! | Lease: within [`crate::read::LEASE`] of a request a quorum answered, no round is needed | [`Node::lease_valid`] | §6.4.1 |
//! | A follower reads at the index its leader gives | [`Node::known_leader`] (the peer forwards) | §6.4 |

use labrt::time::{Duration, Instant};

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use std::collections::BTreeSet;

use crate::ApplyMsg;
use crate::config::{ChangeError, Config};
use crate::log::Log;
use crate::messages::{
    AppendEntriesArgs, AppendEntriesReply, Entry, InstallSnapshotArgs, InstallSnapshotReply,
    RequestVoteArgs, RequestVoteReply, TimeoutNowArgs, TimeoutNowReply,
};
use crate::persist::{self, Persistent};
use crate::read::{LEASE, READ_ASK_ALL_AFTER, READ_BATCH_DELAY, ReadError};

/// How often a leader sends AppendEntries to each follower when it has nothing else to
/// say. The tests allow at most ten heartbeats a second.
pub const HEARTBEAT_INTERVAL: Duration = Duration::from_millis(100);

/// Election timeouts are drawn uniformly from this range of milliseconds: well above the
/// heartbeat interval, and short enough to elect a new leader within the tests' 5 s.
pub const ELECTION_TIMEOUT_MS: std::ops::Range<u64> = 300..600;

/// The shortest election timeout. A server that heard from a current leader less than
/// this long ago ignores RequestVote (part 3E, thesis §4.2.3): no follower of a live
/// leader can have timed out yet, so such a request comes from a server that left the
/// cluster or was cut off.
pub const MIN_ELECTION_TIMEOUT: Duration = Duration::from_millis(ELECTION_TIMEOUT_MS.start);

/// A leadership transfer that has not made the target leader within this long is
/// abandoned, and the leader takes commands again (thesis §3.10: "an election timeout").
pub const TRANSFER_TIMEOUT: Duration = Duration::from_millis(ELECTION_TIMEOUT_MS.end);

/// The most entries one AppendEntries carries.
pub const MAX_ENTRIES_PER_APPEND: usize = 1000;

/// A leader waits this long after a new command before sending it to a follower with
/// nothing in flight, so that a burst of `start`s travels in one AppendEntries per
/// follower; commands that arrive while a request is in flight go with its reply. 200 µs:
/// a put takes under half a millisecond, and the 3B/3C RPC counts are those of the 2 ms
/// it was before (BENCHMARKS.md, part 4D).
pub const REPLICATION_DELAY: Duration = Duration::from_micros(200);

/// A follower hears of a new commit index within this long; any AppendEntries sent
/// sooner carries it for free.
pub const COMMIT_NOTICE_DELAY: Duration = Duration::from_millis(20);

/// After this many failed requests in a row a follower is only probed, without entries…
pub const PROBE_AFTER_FAILURES: u32 = 2;

/// …and after this many it counts as unreachable and is probed every
/// `UNREACHABLE_PROBE_INTERVAL` instead of every heartbeat.
pub const UNREACHABLE_AFTER_FAILURES: u32 = 5;

/// See [`UNREACHABLE_AFTER_FAILURES`].
pub const UNREACHABLE_PROBE_INTERVAL: Duration = Duration::from_millis(300);

/// Writes a log line under the topic `raft::<topic>`, prefixed with the peer and its term.
macro_rules! trace {
    ($node:expr, $topic:literal, $($arg:tt)+) => {
        ::log::debug!(target: concat!("raft::", $topic), "S{} T{} {}", $node.me, $node.term, format_args!($($arg)+))
    };
}

/// A request this peer wants sent.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Request {
    Vote(RequestVoteArgs),
    Append(AppendEntriesArgs),
    Snapshot(InstallSnapshotArgs),
    TimeoutNow(TimeoutNowArgs),
}

/// What a leader remembers of an AppendEntries it sent, to read the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct AppendSent {
    pub term: u64,
    pub prev_log_index: u64,
    pub entries: u64,
    /// When it was sent (part 4D: a reply confirms the leadership as of then).
    pub sent_at: Instant,
}

impl AppendSent {
    pub fn of(args: &AppendEntriesArgs, sent_at: Instant) -> Self {
        Self {
            term: args.term,
            prev_log_index: args.prev_log_index,
            entries: args.entries.len() as u64,
            sent_at,
        }
    }
}

/// What a leader remembers of an InstallSnapshot it sent, to read the reply.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SnapshotSent {
    pub term: u64,
    pub last_included_index: u64,
    /// When it was sent (part 4D).
    pub sent_at: Instant,
}

impl SnapshotSent {
    pub fn of(args: &InstallSnapshotArgs, sent_at: Instant) -> Self {
        Self {
            term: args.term,
            last_included_index: args.last_included_index,
            sent_at,
        }
    }
}

/// What a peer must do after handling an event, in this order.
#[derive(Debug, Default)]
pub struct Outbox {
    /// Save term, vote, log and snapshot before anything below happens. Set it whenever
    /// one of them changed: the peer saves ([`Node::raft_state`], [`Node::snapshot_bytes`])
    /// only after a batch of events that set it, so a change not flagged here is lost in
    /// a crash.
    pub persist: bool,
    /// Requests to send, by peer index.
    pub sends: Vec<(usize, Request)>,
    /// Messages for the service, in order.
    pub applies: Vec<ApplyMsg>,
    /// Part 4D: answers to reads, by the id [`Node::read_index`] got.
    pub reads: Vec<(u64, Result<u64, ReadError>)>,
}

// solution:begin 3A (start_election makes candidates; the skeleton does not yet)
// solution:skeleton
// // Nothing makes a candidate until you write start_election.
// #[allow(dead_code)]
// solution:end
#[derive(Clone, Debug, PartialEq, Eq)]
enum Role {
    Follower,
    Candidate { votes: Vec<bool> },
    Leader(Leadership),
}

/// A leader's view of its followers (Figure 2, "Volatile state on leaders"), and when to
/// talk to each next.
///
/// Each follower has its own *due* time: a heartbeat interval after the last request it
/// was sent, or sooner when there is news for it (new entries after
/// [`REPLICATION_DELAY`], a new commit index after [`COMMIT_NOTICE_DELAY`]). So a follower
/// that just got entries gets no separate heartbeat, a burst of commands travels together,
/// and the commit index rides on the next request whenever one comes soon enough.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Leadership {
    next_index: Vec<u64>,
    match_index: Vec<u64>,
    /// When the request to the peer that still awaits its outcome was sent, if one does.
    /// New entries go out on their own only to peers with nothing in flight; the others
    /// get them with the reply (which, in part 4D, confirms the reads that arrived before).
    in_flight: Vec<Option<Instant>>,
    /// Requests to the peer that failed in a row (a reply resets it). A failing peer is
    /// only probed, without entries, until it answers.
    failures: Vec<u32>,
    /// The commit index the peer was last told.
    commit_sent: Vec<u64>,
    /// When the peer must next be sent something.
    due: Vec<Instant>,
    /// A leadership transfer under way (part 3E).
    transfer: Option<Transfer>,
    /// Part 4D: when the latest request that each peer answered in this term was sent.
    acked_at: Vec<Option<Instant>>,
    /// Part 4D: reads waiting for a quorum to confirm this leadership.
    reads: Vec<PendingRead>,
}

/// A read waiting for its confirmation (§6.4).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct PendingRead {
    id: u64,
    /// The commit index when it arrived: where it may be served.
    index: u64,
    /// When it arrived: requests sent since then confirm it.
    since: Instant,
}

/// A leadership transfer under way (thesis §3.10).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Transfer {
    to: usize,
    /// When it is abandoned.
    deadline: Instant,
    /// Whether the target has been sent its TimeoutNow.
    told: bool,
}

impl Leadership {
    fn new(peers: usize, next: u64, now: Instant) -> Self {
        Self {
            next_index: vec![next; peers],
            match_index: vec![0; peers],
            in_flight: vec![None; peers],
            failures: vec![0; peers],
            commit_sent: vec![0; peers],
            due: vec![now; peers],
            transfer: None,
            acked_at: vec![None; peers],
            reads: Vec::new(),
        }
    }

    /// Whether the peer answered lately and has nothing outstanding: new entries can go
    /// to it on their own.
    fn idle(&self, peer: usize) -> bool {
        self.in_flight[peer].is_none() && self.failures[peer] < PROBE_AFTER_FAILURES
    }

    // solution:begin 3B A helper of the solution's replication policy (used by start and notify_commit).
    /// Brings the peer's due time forward to `at` if that is sooner.
    fn due_by(&mut self, peer: usize, at: Instant) {
        self.due[peer] = self.due[peer].min(at);
    }

    // solution:skeleton
    // solution:end
    /// Records a request sent to the peer now; the next is due a heartbeat later.
    fn sent(&mut self, peer: usize, now: Instant) {
        self.in_flight[peer] = Some(now);
        let pause = if self.failures[peer] >= UNREACHABLE_AFTER_FAILURES {
            UNREACHABLE_PROBE_INTERVAL
        } else {
            HEARTBEAT_INTERVAL
        };
        self.due[peer] = now + pause;
    }

    /// Records the outcome of a request to the peer.
    fn answered(&mut self, peer: usize, replied: bool) {
        self.in_flight[peer] = None;
        self.failures[peer] = if replied { 0 } else { self.failures[peer] + 1 };
    }
}

/// One Raft peer's state.
pub struct Node {
    me: usize,
    peers: usize,
    // Persistent state (saved before it is revealed).
    term: u64,
    voted_for: Option<usize>,
    log: Log,
    snapshot: Vec<u8>,
    // Volatile state.
    commit_index: u64,
    last_applied: u64,
    role: Role,
    election_deadline: Instant,
    rng: Xoshiro256PlusPlus,
    out: Outbox,
    // Membership (part 3E).
    /// The configuration of a server whose log has none: every peer a voter, unless
    /// [`Node::with_initial_voters`] says otherwise.
    bootstrap: Config,
    /// The configuration in effect ([`Node::refresh_config`]).
    config: Config,
    /// The index of the entry that holds `config` (0 for the bootstrap one).
    config_index: u64,
    /// The members of `config` other than this peer, in order (the servers a leader
    /// replicates to), kept with it so the timers need not rebuild them.
    other_members: Vec<usize>,
    /// Bumped whenever `config` changes, so the peer republishes it only then.
    config_version: u64,
    /// When this peer last heard from a current leader (§4.2.3).
    leader_contact: Option<Instant>,
    /// Part 4D: the leader this peer last heard from, and its term.
    leader_id: Option<(usize, u64)>,
    /// Part 4D: whether the leader serves reads on a lease ([`Node::lease_valid`]).
    lease_reads: bool,
}

impl Node {
    /// A peer `me` of `peers`, restarting from `saved` state and `snapshot` (both empty
    /// on a first start). The service restores its own state from the snapshot, so the
    /// peer starts with everything up to the snapshot counted as applied.
    pub fn new(
        me: usize,
        peers: usize,
        saved: Persistent,
        snapshot: Vec<u8>,
        now: Instant,
        seed: u64,
    ) -> Self {
        assert!(me < peers, "peer index {me} out of range for {peers} peers");
        let start = saved.log.start_index();
        let mut node = Self {
            me,
            peers,
            term: saved.term,
            voted_for: saved.voted_for,
            log: saved.log,
            snapshot,
            commit_index: start,
            last_applied: start,
            role: Role::Follower,
            election_deadline: now,
            rng: Xoshiro256PlusPlus::seed_from_u64(seed),
            out: Outbox::default(),
            bootstrap: Config::of_voters(0..peers),
            config: Config::default(),
            config_index: 0,
            other_members: Vec::new(),
            config_version: 0,
            leader_contact: None,
            leader_id: None,
            lease_reads: false,
        };
        // A server that just started may have answered a leader's request before it
        // crashed: for a minimum election timeout it votes for nobody, as if it had heard
        // from that leader now (a leader's read lease counts on it, part 4D).
        node.leader_contact = Some(now);
        node.refresh_config();
        node.reset_election_timer(now);
        node
    }

    /// Part 3E: the same node, but a cluster whose log holds no configuration consists of
    /// `voters` only (an empty set for a server that starts outside the cluster and waits
    /// to be added).
    pub fn with_initial_voters(mut self, voters: impl IntoIterator<Item = usize>) -> Self {
        self.bootstrap = Config::of_voters(voters);
        if let Some(bad) = self.bootstrap.voters.iter().find(|&&v| v >= self.peers) {
            panic!("initial voter {bad} out of range for {} peers", self.peers);
        }
        self.refresh_config();
        self
    }

    // ----- reading the state -------------------------------------------------------------

    pub fn me(&self) -> usize {
        self.me
    }

    pub fn term(&self) -> u64 {
        self.term
    }

    pub fn is_leader(&self) -> bool {
        matches!(self.role, Role::Leader(_))
    }

    pub fn voted_for(&self) -> Option<usize> {
        self.voted_for
    }

    pub fn log(&self) -> &Log {
        &self.log
    }

    pub fn commit_index(&self) -> u64 {
        self.commit_index
    }

    pub fn last_applied(&self) -> u64 {
        self.last_applied
    }

    /// The configuration in effect: the latest in the log (part 3E).
    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Changes whenever the configuration in effect does.
    pub fn config_version(&self) -> u64 {
        self.config_version
    }

    /// The service's latest snapshot (covering the log up to its start).
    pub fn snapshot_bytes(&self) -> &[u8] {
        &self.snapshot
    }

    /// Term, vote and log, encoded for the persister.
    pub fn raft_state(&self) -> Vec<u8> {
        persist::encode(self.term, self.voted_for, &self.log)
    }

    /// When [`Node::tick`] has something to do next.
    pub fn next_deadline(&self) -> Instant {
        match &self.role {
            Role::Leader(l) => {
                let due = self
                    .other_members
                    .iter()
                    .map(|&p| l.due[p])
                    .min()
                    .unwrap_or_else(|| {
                        self.election_deadline.max(Instant::now()) + HEARTBEAT_INTERVAL
                    });
                l.transfer.map_or(due, |t| due.min(t.deadline))
            }
            _ => self.election_deadline,
        }
    }

    /// Takes the effects accumulated since the last call.
    pub fn take_outbox(&mut self) -> Outbox {
        std::mem::take(&mut self.out)
    }

    // ----- timers ------------------------------------------------------------------------

    /// Runs the timers: a follower or candidate whose election timeout has passed starts
    /// an election, if it is a voter (learners and servers outside the configuration
    /// never campaign, part 3E); a leader sends to every follower that is due.
    pub fn tick(&mut self, now: Instant) {
        match &self.role {
            Role::Leader(l) => {
                let due: Vec<usize> = (self.other_members.iter().copied())
                    .filter(|&p| l.due[p] <= now)
                    .collect();
                for peer in due {
                    self.replicate_to(peer, now);
                }
                self.continue_transfer(now);
            }
            _ if now >= self.election_deadline => {
                if self.config.is_voter(self.me) {
                    self.start_election(now, false);
                } else {
                    self.reset_election_timer(now);
                }
            }
            _ => {}
        }
    }

    /// Picks a new random election timeout starting now.
    pub fn reset_election_timer(&mut self, now: Instant) {
        let ms = self.rng.random_range(ELECTION_TIMEOUT_MS);
        self.election_deadline = now + Duration::from_millis(ms);
    }

    // ----- all servers -------------------------------------------------------------------

    /// "If RPC request or response contains term T > currentTerm: set currentTerm = T,
    /// convert to follower (§5.1)." Returns whether the term changed.
    pub fn adopt_term_if_newer(&mut self, term: u64, now: Instant) -> bool {
        // solution:begin 3A Adopt a newer term: update the term, forget the vote, step down.
        if term <= self.term {
            return false;
        }
        trace!(self, "term", "sees term {term}, becomes follower");
        let was_leader = self.is_leader();
        self.term = term;
        self.voted_for = None;
        self.role = Role::Follower;
        self.out.persist = true;
        if was_leader {
            // A deposed leader's election timer is stale; start a fresh one.
            self.reset_election_timer(now);
        }
        true
        // solution:skeleton
        // let _ = (term, now);
        // todo!(
        //     "3A: adopt a newer term: update the term, forget the vote, step down, and set self.out.persist"
        // )
        // solution:end
    }

    /// "If commitIndex > lastApplied: increment lastApplied, apply log\[lastApplied\] to the
    /// state machine (§5.3)." The service takes every index once, in order, from
    /// `last_applied + 1` on: after a snapshot (installed, or restarted from) that is the
    /// snapshot's index + 1. A configuration entry (part 3E) goes as an
    /// [`ApplyMsg::Config`], and takes its index like a command.
    pub fn apply_committed(&mut self) {
        // solution:begin 3B Hand every committed but unapplied entry to the service, in order.
        while self.last_applied < self.commit_index {
            self.last_applied += 1;
            let entry = self
                .log
                .entry(self.last_applied)
                .expect("committed entries after the snapshot are in the log");
            self.out.applies.push(match &entry.config {
                Some(config) => ApplyMsg::Config {
                    index: self.last_applied,
                    config: config.clone(),
                },
                None => ApplyMsg::Command {
                    index: self.last_applied,
                    command: entry.command.clone(),
                },
            });
        }
        // solution:skeleton
        // todo!("3B: hand every committed but unapplied entry to the service, in order")
        // solution:end
    }

    // ----- elections ---------------------------------------------------------------------

    /// "On conversion to candidate, start election: increment currentTerm, vote for self,
    /// reset election timer, send RequestVote RPCs to all other servers." `transfer`
    /// (part 3E, false until then) marks an election that a leader's TimeoutNow asked for.
    pub fn start_election(&mut self, now: Instant, transfer: bool) {
        // solution:begin 3A Become a candidate and ask every other peer for its vote.
        self.term += 1;
        self.voted_for = Some(self.me);
        self.out.persist = true;
        let mut votes = vec![false; self.peers];
        votes[self.me] = true;
        self.role = Role::Candidate { votes };
        self.reset_election_timer(now);
        trace!(self, "vote", "starts an election");
        let me = self.me;
        if self.config.has_quorum(|p| p == me) {
            return self.become_leader(now); // a one-voter cluster
        }
        let args = RequestVoteArgs {
            term: self.term,
            candidate: self.me,
            last_log_index: self.log.last_index(),
            last_log_term: self.log.last_term(),
            transfer,
        };
        for peer in self.config.all_voters() {
            if peer != me {
                self.out.sends.push((peer, Request::Vote(args.clone())));
            }
        }
        // solution:skeleton
        // let _ = (now, transfer);
        // // A new term and a vote for itself: set self.out.persist.
        // todo!("3A: become a candidate and ask every other peer for its vote")
        // solution:end
    }

    /// The RequestVote receiver: grant the vote if the term is current, this peer has not
    /// voted for someone else in it, and the candidate's log is at least as up to date
    /// (§5.2, §5.4.1). The election timer restarts only when the vote is granted.
    pub fn handle_request_vote(
        &mut self,
        args: &RequestVoteArgs,
        now: Instant,
    ) -> RequestVoteReply {
        // solution:begin 3A Reply to a vote request (Figure 2, RequestVote RPC, receiver implementation).
        if self.ignores_vote_request(args, now) {
            return RequestVoteReply {
                term: self.term,
                vote_granted: false,
            };
        }
        self.adopt_term_if_newer(args.term, now);
        let grant = args.term == self.term
            && self.voted_for.is_none_or(|v| v == args.candidate)
            && self.candidate_log_is_up_to_date(args.last_log_index, args.last_log_term);
        if grant {
            if self.voted_for.is_none() {
                self.voted_for = Some(args.candidate);
                self.out.persist = true;
            }
            self.reset_election_timer(now);
            trace!(self, "vote", "grants its vote to S{}", args.candidate);
        }
        RequestVoteReply {
            term: self.term,
            vote_granted: grant,
        }
        // solution:skeleton
        // let _ = (args, now);
        // todo!(
        //     "3A: reply to a vote request (Figure 2, RequestVote RPC, receiver implementation; a vote granted sets self.out.persist)"
        // )
        // solution:end
    }

    /// §5.4.1: a log is more up to date if its last term is later, or the last terms are
    /// equal and it is at least as long.
    pub fn candidate_log_is_up_to_date(&self, last_log_index: u64, last_log_term: u64) -> bool {
        // solution:begin 3A Compare the candidate's last entry with ours (§5.4.1).
        let (my_index, my_term) = (self.log.last_index(), self.log.last_term());
        last_log_term > my_term || (last_log_term == my_term && last_log_index >= my_index)
        // solution:skeleton
        // let _ = (last_log_index, last_log_term);
        // todo!("3A: compare the candidate's last entry with ours (§5.4.1)")
        // solution:end
    }

    /// A vote came back. A majority of votes in the current term makes this candidate the
    /// leader; replies from earlier terms are ignored.
    pub fn handle_vote_reply(
        &mut self,
        from: usize,
        sent_term: u64,
        reply: &RequestVoteReply,
        now: Instant,
    ) {
        // solution:begin 3A Count a vote: a majority in the current term makes this candidate leader.
        if self.adopt_term_if_newer(reply.term, now) || sent_term != self.term {
            return;
        }
        let Role::Candidate { votes } = &mut self.role else {
            return;
        };
        if reply.vote_granted {
            votes[from] = true;
            if self.config.has_quorum(|p| votes[p]) {
                self.become_leader(now);
            }
        }
        // solution:skeleton
        // let _ = (from, sent_term, reply, now);
        // todo!("3A: count a vote: a majority in the current term makes this candidate leader")
        // solution:end
    }

    /// "Upon election: send initial empty AppendEntries RPCs (heartbeat) to each server."
    pub fn become_leader(&mut self, now: Instant) {
        trace!(
            self,
            "leader",
            "becomes leader with log up to {}",
            self.log.last_index()
        );
        self.role = Role::Leader(Leadership::new(self.peers, self.log.last_index() + 1, now));
        self.send_heartbeats(now);
        // A one-peer cluster commits on its own.
        self.advance_commit_index(now);
        // Part 3E: a joint configuration that an earlier leader committed is finished now.
        self.finish_joint_change(now);
    }

    // ----- replication: leader side ------------------------------------------------------

    /// Appends a command from the service if this peer is the leader and returns the index
    /// and term it will have if it is ever committed. Followers with nothing in flight get
    /// it after [`REPLICATION_DELAY`], together with any commands that follow it by then.
    pub fn start(&mut self, command: Vec<u8>, now: Instant) -> Option<(u64, u64)> {
        // solution:begin 3B Append the command to the leader's log and start replicating it.
        if !self.is_leader() || self.transferring().is_some() {
            return None;
        }
        let index = self.log.push(Entry::new(self.term, command));
        self.out.persist = true;
        trace!(self, "client", "starts command at index {index}");
        let others: Vec<usize> = self.others().collect();
        if let Role::Leader(l) = &mut self.role {
            for peer in others {
                if l.idle(peer) {
                    l.due_by(peer, now + REPLICATION_DELAY);
                }
            }
        }
        self.advance_commit_index(now); // a one-peer cluster commits at once
        Some((index, self.term))
        // solution:skeleton
        // let _ = (command, now);
        // todo!(
        //     "3B: append the command to the leader's log (set self.out.persist) and start replicating it"
        // )
        // solution:end
    }

    /// Sends every follower what it is missing, or an empty AppendEntries if nothing.
    pub fn send_heartbeats(&mut self, now: Instant) {
        for peer in self.others() {
            self.replicate_to(peer, now);
        }
    }

    /// "If last log index ≥ nextIndex for a follower: send AppendEntries RPC with log
    /// entries starting at nextIndex" — or the snapshot, if those entries were compacted
    /// away (§7).
    ///
    /// While an earlier request to the peer is still unanswered, or its last requests
    /// failed, the peer gets a *probe* instead: an AppendEntries without entries that only
    /// checks consistency at nextIndex − 1. Its reply releases the real batch at once. This
    /// keeps heartbeats to an unreachable peer from carrying the whole unacknowledged log
    /// each time.
    pub fn replicate_to(&mut self, peer: usize, now: Instant) {
        let commit = self.commit_index;
        let Role::Leader(l) = &mut self.role else {
            return;
        };
        let probe = !l.idle(peer);
        l.sent(peer, now);
        l.commit_sent[peer] = commit;
        let next = l.next_index[peer];
        // solution:begin 3A Send `peer` an AppendEntries: 3A a heartbeat (no entries); 3B the entries from nextIndex (none when probing); 3D an InstallSnapshot if they were compacted away.
        let start = self.log.start_index();
        let request = if probe || next > start {
            let prev_log_index = (next - 1).max(start);
            let entries = if probe {
                Vec::new()
            } else {
                self.log.entries_from(next, MAX_ENTRIES_PER_APPEND).to_vec()
            };
            Request::Append(AppendEntriesArgs {
                term: self.term,
                leader: self.me,
                prev_log_index,
                prev_log_term: self
                    .log
                    .term_at(prev_log_index)
                    .expect("prev_log_index is within the log"),
                entries,
                leader_commit: self.commit_index,
            })
        } else {
            Request::Snapshot(InstallSnapshotArgs {
                term: self.term,
                leader: self.me,
                last_included_index: start,
                last_included_term: self.log.start_term(),
                config: self.log.start_config().cloned(),
                snapshot: self.snapshot.clone(),
            })
        };
        self.out.sends.push((peer, request));
        // solution:skeleton
        // let _ = (probe, next);
        // todo!(
        //     "3A: send `peer` an AppendEntries (3A: a heartbeat; 3B: the entries from nextIndex, none when probing; 3D: an InstallSnapshot if they were compacted away)"
        // )
        // solution:end
    }

    /// An AppendEntries came back. On success the follower holds everything that request
    /// carried; on failure, back up and try again at once.
    pub fn handle_append_reply(
        &mut self,
        from: usize,
        sent: &AppendSent,
        reply: &AppendEntriesReply,
        now: Instant,
    ) {
        // solution:begin 3A Read an AppendEntries reply: 3A steps down on a newer term; 3B updates nextIndex/matchIndex, commits what a majority holds, and continues.
        if !self.accept_reply(from, reply.term, sent.term, sent.sent_at, now) {
            return;
        }
        if reply.success {
            // Use what was sent, not the log now: it may have grown since.
            self.record_progress(from, sent.prev_log_index + sent.entries, now);
        } else {
            self.back_up_next_index(from, reply);
            self.replicate_to(from, now);
        }
        // solution:skeleton
        // let _ = (from, sent, reply, now);
        // todo!(
        //     "3A: read an AppendEntries reply (3A: step down on a newer term; 3B: update nextIndex/matchIndex, commit what a majority holds, and continue)"
        // )
        // solution:end
    }

    // solution:begin 3A Helpers of the reply handlers (accept_reply from 3A, record_progress from 3B).
    /// Whether a reply from `from` to a request sent in `sent_term` is one this leader
    /// acts on: a newer term demotes it, an earlier request's reply is stale. Marks the
    /// follower as answering.
    /// Part 4D: a reply in this term also confirms the leadership as of `sent_at`.
    fn accept_reply(
        &mut self,
        from: usize,
        reply_term: u64,
        sent_term: u64,
        sent_at: Instant,
        now: Instant,
    ) -> bool {
        if self.adopt_term_if_newer(reply_term, now) || sent_term != self.term {
            return false;
        }
        let Role::Leader(l) = &mut self.role else {
            return false;
        };
        l.answered(from, true);
        l.acked_at[from] = l.acked_at[from].max(Some(sent_at));
        self.confirm_reads(now);
        true
    }

    /// The follower `from` is known to hold everything up to `matched`: raise its
    /// matchIndex and nextIndex (never lower them: replies can be late), commit what a
    /// majority now holds, and send the follower what comes next.
    fn record_progress(&mut self, from: usize, matched: u64, now: Instant) {
        let last_index = self.log.last_index();
        let Role::Leader(l) = &mut self.role else {
            return;
        };
        l.match_index[from] = l.match_index[from].max(matched);
        l.next_index[from] = l.next_index[from].max(matched + 1);
        let more = l.next_index[from] <= last_index;
        self.advance_commit_index(now);
        if more {
            self.replicate_to(from, now);
        }
        self.continue_transfer(now);
    }

    // solution:skeleton
    // solution:end
    /// Fast backup: skip the follower's whole conflicting term at once. If this leader
    /// has entries of `conflict_term`, resume after its last one; otherwise resume at the
    /// follower's first index of that term (or just past its log, if it was too short).
    pub fn back_up_next_index(&mut self, peer: usize, reply: &AppendEntriesReply) {
        // solution:begin 3B Move nextIndex back past the conflict the follower reported.
        let from_leader_log = reply
            .conflict_term
            .and_then(|t| self.log.last_index_of_term(t));
        let next = match from_leader_log {
            Some(last_of_term) => last_of_term + 1,
            None => reply.conflict_index,
        };
        let last_index = self.log.last_index();
        if let Role::Leader(l) = &mut self.role {
            // Never behind what the follower is known to hold, never past our own log.
            l.next_index[peer] = next.max(l.match_index[peer] + 1).clamp(1, last_index + 1);
            trace!(self, "append", "backs up S{peer} to {}", next);
        }
        // solution:skeleton
        // let _ = (peer, reply);
        // todo!("3B: move nextIndex back past the conflict the follower reported")
        // solution:end
    }

    /// "If there exists an N such that N > commitIndex, a majority of matchIndex\[i\] ≥ N,
    /// and log\[N\].term == currentTerm: set commitIndex = N (§5.3, §5.4)." Entries of earlier
    /// terms are committed only indirectly, by a later entry of the current term (§5.4.2).
    pub fn advance_commit_index(&mut self, now: Instant) {
        // solution:begin 3B Commit the highest index a majority holds, if its entry is of the current term.
        let Role::Leader(l) = &self.role else {
            return;
        };
        let (me, last) = (self.me, self.log.last_index());
        let majority_holds = self
            .config
            .quorum_index(|p| if p == me { last } else { l.match_index[p] });
        if majority_holds > self.commit_index && self.log.term_at(majority_holds) == Some(self.term)
        {
            trace!(self, "commit", "commits up to {majority_holds}");
            self.commit_index = majority_holds;
            self.apply_committed();
            self.notify_commit(now);
            self.finish_joint_change(now);
            self.step_down_if_removed(now);
        }
        // solution:skeleton
        // let _ = now;
        // // Called by become_leader even in 3A, when there is nothing to commit yet.
        // if self.log.last_index() > self.commit_index {
        //     todo!(
        //         "3B: commit the highest index a majority holds, if its entry is of the current term"
        //     )
        // }
        // solution:end
    }

    // solution:begin 3B A helper of the solution's replication policy (used by advance_commit_index).
    /// Makes every follower that has not heard the new commit index due for a request
    /// within [`COMMIT_NOTICE_DELAY`].
    fn notify_commit(&mut self, now: Instant) {
        let commit = self.commit_index;
        let others: Vec<usize> = self.others().collect();
        if let Role::Leader(l) = &mut self.role {
            for peer in others {
                if l.commit_sent[peer] < commit {
                    l.due_by(peer, now + COMMIT_NOTICE_DELAY);
                }
            }
        }
    }

    // solution:skeleton
    // solution:end
    // ----- replication: follower side ----------------------------------------------------

    /// The AppendEntries receiver (Figure 2, rules 1–5), with the fast-backup hints on
    /// failure. Entries that this peer's snapshot already covers are skipped: they are
    /// committed, so they match the leader's.
    pub fn handle_append_entries(
        &mut self,
        args: &AppendEntriesArgs,
        now: Instant,
    ) -> AppendEntriesReply {
        // solution:begin 3A Reply to AppendEntries: 3A needs rule 1 and the heartbeat (step down, reset the timer); 3B adds rules 2-5.
        self.adopt_term_if_newer(args.term, now);
        let mut reply = AppendEntriesReply {
            term: self.term,
            success: false,
            conflict_term: None,
            conflict_index: 0,
        };
        // Rule 1: reply false if term < currentTerm.
        if args.term < self.term {
            return reply;
        }
        // A current leader exists: candidates step down, and the timer restarts.
        if !matches!(self.role, Role::Follower) {
            self.role = Role::Follower;
        }
        self.reset_election_timer(now);
        self.leader_contact = Some(now);
        self.leader_id = Some((args.leader, args.term));

        // Skip the part of the request that the snapshot covers.
        let start = self.log.start_index();
        let (prev_index, prev_term, entries) = if args.prev_log_index < start {
            let covered = (start - args.prev_log_index) as usize;
            if covered >= args.entries.len() {
                reply.success = true;
                return reply;
            }
            (start, self.log.start_term(), &args.entries[covered..])
        } else {
            (args.prev_log_index, args.prev_log_term, &args.entries[..])
        };

        // Rule 2: reply false if the log has no entry at prevLogIndex with prevLogTerm.
        match self.log.term_at(prev_index) {
            None => {
                reply.conflict_index = self.log.last_index() + 1;
                return reply;
            }
            Some(term) if term != prev_term => {
                reply.conflict_term = Some(term);
                reply.conflict_index = self.log.first_index_of_term(term, prev_index);
                return reply;
            }
            Some(_) => {}
        }
        // Rules 3 and 4.
        self.append_new_entries(prev_index, entries);
        // Rule 5: commitIndex = min(leaderCommit, index of last new entry).
        let last_new = args.prev_log_index + args.entries.len() as u64;
        let commit = args.leader_commit.min(last_new);
        if commit > self.commit_index {
            trace!(
                self,
                "commit", "commits up to {commit} (leader S{})", args.leader
            );
            self.commit_index = commit;
            self.apply_committed();
        }
        reply.success = true;
        reply
        // solution:skeleton
        // let _ = (args, now);
        // todo!(
        //     "3A: reply to AppendEntries: 3A needs rule 1 and the heartbeat (step down, reset the timer); 3B adds rules 2-5"
        // )
        // solution:end
    }

    /// Rules 3 and 4: "If an existing entry conflicts with a new one (same index but
    /// different terms), delete the existing entry and all that follow it. Append any new
    /// entries not already in the log." An entry that agrees is kept, and so is everything
    /// after it: a late, shorter request must not cut off entries a later one added.
    pub fn append_new_entries(&mut self, prev_index: u64, entries: &[Entry]) {
        // solution:begin 3B Append the new entries, truncating only at a real conflict.
        let mut truncated = false;
        for (offset, entry) in entries.iter().enumerate() {
            let index = prev_index + 1 + offset as u64;
            match self.log.term_at(index) {
                Some(term) if term == entry.term => continue,
                Some(_) => {
                    assert!(
                        index > self.commit_index,
                        "S{} asked to overwrite committed index {index}",
                        self.me
                    );
                    self.log.truncate_from(index);
                    truncated = true;
                }
                None => {}
            }
            for entry in &entries[offset..] {
                self.log.push(entry.clone());
            }
            // Part 3E: a configuration takes effect when appended, and one truncated away
            // gives way to the one before it.
            if truncated || entries[offset..].iter().any(|e| e.config.is_some()) {
                self.refresh_config();
            }
            self.out.persist = true;
            trace!(self, "append", "appends up to {}", self.log.last_index());
            return;
        }
        // solution:skeleton
        // let _ = (prev_index, entries);
        // todo!(
        //     "3B: append the new entries, truncating only at a real conflict (a changed log sets self.out.persist)"
        // )
        // solution:end
    }

    // ----- snapshots (§7) ----------------------------------------------------------------

    /// The service has a snapshot of everything up to `index`: keep it, and cut the log.
    /// Ignored if the log is already cut there, or `index` is not yet applied.
    pub fn snapshot(&mut self, index: u64, snapshot: Vec<u8>) {
        // solution:begin 3D Keep the service's snapshot and cut the log up to `index`.
        if index <= self.log.start_index() || index > self.last_applied {
            return;
        }
        let term = self
            .log
            .term_at(index)
            .expect("applied entries are in the log");
        self.log.compact_to(index, term);
        self.snapshot = snapshot;
        self.out.persist = true;
        self.refresh_config();
        trace!(self, "snapshot", "cuts its log at {index}");
        // solution:skeleton
        // let _ = (index, snapshot);
        // todo!(
        //     "3D: keep the service's snapshot and cut the log up to `index` (set self.out.persist)"
        // )
        // solution:end
    }

    /// The InstallSnapshot receiver: a snapshot that goes beyond what this peer has
    /// committed replaces the matching prefix of its log (or the whole log if it does not
    /// match) and goes to the service as an [`ApplyMsg::Snapshot`]; the next index the
    /// service takes is then the snapshot's index + 1 ([`Node::apply_committed`]). The
    /// new log and snapshot must be saved ([`Outbox::persist`]).
    pub fn handle_install_snapshot(
        &mut self,
        args: &InstallSnapshotArgs,
        now: Instant,
    ) -> InstallSnapshotReply {
        // solution:begin 3D Install a leader's snapshot (§7, InstallSnapshot RPC, receiver implementation).
        self.adopt_term_if_newer(args.term, now);
        if args.term < self.term {
            return InstallSnapshotReply { term: self.term };
        }
        self.role = Role::Follower;
        self.reset_election_timer(now);
        self.leader_contact = Some(now);
        self.leader_id = Some((args.leader, args.term));
        let (index, term) = (args.last_included_index, args.last_included_term);
        if index > self.commit_index {
            if self.log.term_at(index) == Some(term) {
                self.log.compact_to(index, term);
            } else {
                self.log.reset_to(index, term, args.config.clone());
            }
            self.refresh_config();
            self.snapshot = args.snapshot.clone();
            self.commit_index = index;
            self.last_applied = index;
            self.out.persist = true;
            self.out.applies.push(ApplyMsg::Snapshot {
                index,
                term,
                snapshot: args.snapshot.clone(),
            });
            trace!(
                self,
                "snapshot", "installs S{}'s snapshot up to {index}", args.leader
            );
        }
        InstallSnapshotReply { term: self.term }
        // solution:skeleton
        // let _ = (args, now);
        // todo!("3D: install a leader's snapshot (§7, InstallSnapshot RPC, receiver implementation)")
        // solution:end
    }

    /// An InstallSnapshot came back: the follower now holds everything up to the snapshot.
    pub fn handle_snapshot_reply(
        &mut self,
        from: usize,
        sent: &SnapshotSent,
        reply: &InstallSnapshotReply,
        now: Instant,
    ) {
        // solution:begin 3D Record that the follower holds the snapshot, and continue with the entries after it.
        if self.accept_reply(from, reply.term, sent.term, sent.sent_at, now) {
            self.record_progress(from, sent.last_included_index, now);
        }
        // solution:skeleton
        // let _ = (from, sent, reply, now);
        // todo!(
        //     "3D: record that the follower holds the snapshot, and continue with the entries after it"
        // )
        // solution:end
    }

    /// A request to `peer` got no reply. Nothing to undo: the peer's next heartbeat
    /// retries (as a probe once failures repeat).
    pub fn request_failed(&mut self, peer: usize) {
        if let Role::Leader(l) = &mut self.role {
            l.answered(peer, false);
        }
    }

    /// Every other member of the configuration: the servers a leader replicates to.
    fn others(&self) -> impl Iterator<Item = usize> + use<> {
        self.other_members.clone().into_iter()
    }

    /// Puts `config`, held by the entry at `index`, in effect.
    fn set_config(&mut self, index: u64, config: Config) {
        if config != self.config {
            let me = self.me;
            self.other_members = config.members().into_iter().filter(|&p| p != me).collect();
            self.config = config;
            self.config_version += 1;
        }
        self.config_index = index;
    }

    // ----- membership (part 3E) ----------------------------------------------------------

    /// "A server always uses the latest configuration in its log, regardless of whether
    /// the entry is committed" (thesis §4.1): the latest configuration entry, else the
    /// one at the log's cut, else the bootstrap one. Called whenever the log gains or
    /// loses a configuration entry, so one that a conflict truncates away gives way to
    /// the one before it.
    pub fn refresh_config(&mut self) {
        // solution:begin 3E Put the latest configuration in the log (or the log's start configuration, or the bootstrap one) in effect.
        let (index, config) = match self.log.latest_config() {
            Some((index, config)) => (index, config.clone()),
            None => (0, self.bootstrap.clone()),
        };
        if config != self.config {
            trace!(self, "config", "now in effect: {config} (index {index})");
        }
        self.set_config(index, config);
        // solution:skeleton
        // // Before 3E no log holds a configuration: the bootstrap one is in effect.
        // if self.log.latest_config().is_some() {
        //     todo!(
        //         "3E: put the latest configuration in the log (or the log's start configuration) in effect"
        //     )
        // }
        // self.set_config(0, self.bootstrap.clone());
        // solution:end
    }

    /// Thesis §4.2.3: "if a server receives a RequestVote request within the minimum
    /// election timeout of hearing from a current leader, it does not update its term or
    /// grant its vote." A leader counts as hearing from itself. An election that a
    /// leader's TimeoutNow started is the exception. So a server that was removed (or cut
    /// off) and times out cannot depose a leader that the others still hear.
    pub fn ignores_vote_request(&self, args: &RequestVoteArgs, now: Instant) -> bool {
        // solution:begin 3E Ignore a vote request while a current leader was heard from recently (§4.2.3), unless it follows a TimeoutNow.
        let recent = self.is_leader()
            || self
                .leader_contact
                .is_some_and(|at| now < at + MIN_ELECTION_TIMEOUT);
        if recent && !args.transfer {
            trace!(
                self,
                "vote",
                "ignores S{}'s vote request for term {}: heard from a leader recently",
                args.candidate,
                args.term
            );
        }
        recent && !args.transfer
        // solution:skeleton
        // // 3E: ignore a vote request while a current leader was heard from recently
        // // (§4.2.3), unless it follows a TimeoutNow. Until then, consider every request.
        // let _ = (args, now, self.leader_contact);
        // false
        // solution:end
    }

    /// Whether this leader may append a configuration entry now: it leads, no transfer is
    /// under way, the latest configuration is committed and not joint (one change at a
    /// time, §4.1), and it has committed an entry of its own term (the fix to
    /// single-server changes, Ongaro on raft-dev, 2015: otherwise its entry could
    /// conflict with an uncommitted one of an earlier leader, and two majorities that do
    /// not overlap could each commit).
    pub fn check_change_allowed(&self) -> Result<(), ChangeError> {
        // solution:begin 3E Refuse a configuration change unless this leader may append one now.
        if !self.is_leader() {
            return Err(ChangeError::NotLeader);
        }
        if let Some(to) = self.transferring() {
            return Err(ChangeError::TransferInProgress { to });
        }
        if self.config_index > self.commit_index || self.config.is_joint() {
            return Err(ChangeError::ChangeInFlight {
                index: self.config_index,
            });
        }
        if self.log.term_at(self.commit_index) != Some(self.term) {
            return Err(ChangeError::NothingCommittedInTerm { term: self.term });
        }
        Ok(())
        // solution:skeleton
        // todo!("3E: refuse a configuration change unless this leader may append one now")
        // solution:end
    }

    /// Thesis §4.2.1: a server gets a vote only once, as a learner, it holds everything
    /// committed, so adding it cannot stall commits while it catches up.
    pub fn caught_up(&self, server: usize) -> bool {
        // solution:begin 3E Whether a learner holds everything committed (§4.2.1).
        let Role::Leader(l) = &self.role else {
            return false;
        };
        self.config.is_learner(server) && l.match_index[server] >= self.commit_index
        // solution:skeleton
        // let _ = server;
        // todo!("3E: whether a learner holds everything committed (§4.2.1)")
        // solution:end
    }

    /// Adds `server` as a learner: it gets the log (or the snapshot) but no vote.
    /// Returns the index and term of the configuration entry.
    pub fn add_learner(&mut self, server: usize, now: Instant) -> Result<(u64, u64), ChangeError> {
        // solution:begin 3E Append a configuration with `server` as a learner.
        if server >= self.peers {
            return Err(ChangeError::UnknownServer(server));
        }
        self.check_change_allowed()?;
        if self.config.members().contains(&server) {
            return Err(ChangeError::Unchanged);
        }
        let mut config = self.config.clone();
        config.learners.insert(server);
        Ok(self.append_config(config, now))
        // solution:skeleton
        // let _ = (server, now);
        // todo!("3E: append a configuration with `server` as a learner")
        // solution:end
    }

    /// Makes `voters` the voters. New voters must be caught-up learners. One voter more
    /// or less is a single-server change: the new configuration at once (§4.1). Anything
    /// else goes through joint consensus: C_old,new now, C_new once that commits (§4.3).
    /// Removed voters leave the cluster. Returns the index and term of the entry.
    pub fn change_voters(
        &mut self,
        voters: &BTreeSet<usize>,
        now: Instant,
    ) -> Result<(u64, u64), ChangeError> {
        // solution:begin 3E Append the new configuration: single-server or joint.
        if let Some(&unknown) = voters.iter().find(|&&p| p >= self.peers) {
            return Err(ChangeError::UnknownServer(unknown));
        }
        if voters.is_empty() {
            return Err(ChangeError::NoVoters);
        }
        self.check_change_allowed()?;
        let old = self.config.voters.clone();
        if *voters == old {
            return Err(ChangeError::Unchanged);
        }
        if let Some(&server) = voters
            .iter()
            .find(|&&p| !old.contains(&p) && !self.caught_up(p))
        {
            let matched = match &self.role {
                Role::Leader(l) => l.match_index[server],
                _ => 0,
            };
            return Err(ChangeError::NotCaughtUp {
                server,
                matched,
                commit: self.commit_index,
            });
        }
        let single = voters.symmetric_difference(&old).count() == 1;
        let config = Config {
            voters: voters.clone(),
            outgoing: (!single).then_some(old),
            learners: self.config.learners.difference(voters).copied().collect(),
        };
        Ok(self.append_config(config, now))
        // solution:skeleton
        // let _ = (voters, now);
        // todo!("3E: append the new configuration: single-server or joint")
        // solution:end
    }

    /// Appends `config` as the leader and puts it in effect at once (§4.1: not when it
    /// commits); it goes out like any entry.
    pub fn append_config(&mut self, config: Config, now: Instant) -> (u64, u64) {
        // solution:begin 3E Append a configuration entry, put it in effect, and replicate it.
        let index = self.log.push(Entry::config(self.term, config));
        self.out.persist = true;
        self.refresh_config();
        trace!(self, "config", "appends {} at index {index}", self.config);
        let others: Vec<usize> = self.others().collect();
        if let Role::Leader(l) = &mut self.role {
            for peer in others {
                if l.idle(peer) {
                    l.due_by(peer, now + REPLICATION_DELAY);
                }
            }
        }
        self.advance_commit_index(now);
        (index, self.term)
        // solution:skeleton
        // let _ = (config, now);
        // todo!(
        //     "3E: append a configuration entry (set self.out.persist), put it in effect, and replicate it"
        // )
        // solution:end
    }

    /// §4.3: once C_old,new is committed, the leader appends C_new.
    pub fn finish_joint_change(&mut self, now: Instant) {
        // solution:begin 3E Once the joint configuration is committed, append C_new.
        if !self.is_leader() || !self.config.is_joint() || self.config_index > self.commit_index {
            return;
        }
        let config = Config {
            outgoing: None,
            ..self.config.clone()
        };
        self.append_config(config, now);
        // solution:skeleton
        // if self.config.is_joint() {
        //     let _ = now;
        //     todo!("3E: once the joint configuration is committed, append C_new")
        // }
        // solution:end
    }

    /// §4.2.2: a leader that is not a voter of C_new keeps leading (replicating, counting
    /// only the new voters) until C_new commits, then steps down. Outside the
    /// configuration it never campaigns again.
    pub fn step_down_if_removed(&mut self, now: Instant) {
        // solution:begin 3E Step down once a configuration without this leader is committed.
        if self.is_leader()
            && !self.config.is_voter(self.me)
            && self.config_index <= self.commit_index
        {
            trace!(
                self,
                "leader", "steps down: committed {} without it", self.config
            );
            self.role = Role::Follower;
            self.reset_election_timer(now);
        }
        // solution:skeleton
        // if !self.config.is_voter(self.me) {
        //     let _ = now;
        //     todo!("3E: step down once a configuration without this leader is committed")
        // }
        // solution:end
    }

    /// The server that leadership is being transferred to, if a transfer is under way.
    pub fn transferring(&self) -> Option<usize> {
        match &self.role {
            Role::Leader(l) => l.transfer.map(|t| t.to),
            _ => None,
        }
    }

    /// Thesis §3.10: hands leadership to the voter `to`. The leader stops taking commands
    /// and changes, brings `to` up to date, then tells it to campaign at once
    /// ([`Node::continue_transfer`]). Abandoned after [`TRANSFER_TIMEOUT`].
    pub fn transfer_leadership(&mut self, to: usize, now: Instant) -> Result<(), ChangeError> {
        // solution:begin 3E Start a leadership transfer to `to`.
        if to >= self.peers {
            return Err(ChangeError::UnknownServer(to));
        }
        let me = self.me;
        let config = &self.config;
        let Role::Leader(l) = &mut self.role else {
            return Err(ChangeError::NotLeader);
        };
        if let Some(t) = l.transfer {
            return Err(ChangeError::TransferInProgress { to: t.to });
        }
        if to == me {
            return Err(ChangeError::Unchanged);
        }
        if !config.voters.contains(&to) {
            return Err(ChangeError::NotAVoter(to));
        }
        l.transfer = Some(Transfer {
            to,
            deadline: now + TRANSFER_TIMEOUT,
            told: false,
        });
        trace!(self, "leader", "transfers leadership to S{to}");
        self.continue_transfer(now);
        Ok(())
        // solution:skeleton
        // let _ = (to, now);
        // todo!("3E: start a leadership transfer to `to`")
        // solution:end
    }

    /// Moves a transfer on: once the target holds the whole log it gets TimeoutNow; until
    /// then it is sent what it lacks. Past the deadline the transfer is abandoned.
    pub fn continue_transfer(&mut self, now: Instant) {
        // solution:begin 3E Move a leadership transfer on: catch the target up, then TimeoutNow; give up after the deadline.
        let (last, term, me) = (self.log.last_index(), self.term, self.me);
        let Role::Leader(l) = &mut self.role else {
            return;
        };
        let Some(t) = &mut l.transfer else {
            return;
        };
        let to = t.to;
        if now >= t.deadline {
            l.transfer = None;
            trace!(self, "leader", "gives up the transfer to S{to}");
        } else if !t.told && l.match_index[to] >= last {
            t.told = true;
            let args = TimeoutNowArgs { term, leader: me };
            self.out.sends.push((to, Request::TimeoutNow(args)));
        } else if !t.told && l.idle(to) {
            l.due_by(to, now);
        }
        // solution:skeleton
        // let _ = now;
        // if self.transferring().is_some() {
        //     todo!(
        //         "3E: move a leadership transfer on: catch the target up, then TimeoutNow; give up after the deadline"
        //     )
        // }
        // solution:end
    }

    /// A leader's TimeoutNow: a voter of the leader's term campaigns at once, in an
    /// election that servers who heard from that leader recently do not ignore.
    pub fn handle_timeout_now(&mut self, args: &TimeoutNowArgs, now: Instant) -> TimeoutNowReply {
        // solution:begin 3E Campaign at once, as a leader's TimeoutNow asks.
        self.adopt_term_if_newer(args.term, now);
        if args.term == self.term && !self.is_leader() && self.config.is_voter(self.me) {
            trace!(self, "vote", "campaigns at S{}'s TimeoutNow", args.leader);
            self.start_election(now, true);
        }
        TimeoutNowReply { term: self.term }
        // solution:skeleton
        // let _ = (args, now);
        // todo!("3E: campaign at once, as a leader's TimeoutNow asks")
        // solution:end
    }

    /// A TimeoutNow came back: only its term matters.
    pub fn handle_timeout_now_reply(&mut self, reply: &TimeoutNowReply, now: Instant) {
        self.adopt_term_if_newer(reply.term, now);
    }

    // ----- reads without the log (part 4D) -----------------------------------------------

    /// Part 4D: whether this leader serves reads on a lease ([`Node::lease_valid`]).
    pub fn set_lease_reads(&mut self, on: bool) {
        self.lease_reads = on;
    }

    /// The leader this follower last heard from in its current term, to ask for a read
    /// index (a follower read, thesis §6.4).
    pub fn known_leader(&self) -> Option<usize> {
        match self.leader_id {
            Some((leader, term)) if term == self.term && leader != self.me => Some(leader),
            _ => None,
        }
    }

    /// Thesis §6.4: a read with id `id` arrives at the leader. It may be served at the
    /// commit index — once the leader has committed an entry of its term (before that it
    /// may not know the latest commit index) — as soon as a quorum has answered a request
    /// sent after it arrived (or at once, on a valid lease). The answer goes to
    /// [`Outbox::reads`]; reads waiting together are confirmed by the same requests.
    pub fn read_index(&mut self, id: u64, now: Instant) {
        // solution:begin 4D Take a read: refuse it, answer it on the lease, or wait for a quorum to confirm this leadership.
        let refusal = if !self.is_leader() || self.transferring().is_some() {
            Some(ReadError::NotLeader)
        } else if self.log.term_at(self.commit_index) != Some(self.term) {
            Some(ReadError::NothingCommittedInTerm)
        } else {
            None
        };
        if let Some(e) = refusal {
            self.out.reads.push((id, Err(e)));
            return;
        }
        let index = self.commit_index;
        if self.lease_valid(now) {
            self.out.reads.push((id, Ok(index)));
            return;
        }
        if let Role::Leader(l) = &mut self.role {
            l.reads.push(PendingRead {
                id,
                index,
                since: now,
            });
        }
        self.confirm_reads(now);
        // solution:skeleton
        // let _ = (id, now);
        // todo!(
        //     "4D: take a read: refuse it, answer it on the lease, or wait for a quorum to confirm this leadership"
        // )
        // solution:end
    }

    /// Thesis §6.4 step 3: answers the reads that a quorum has confirmed (it answered
    /// requests sent after they arrived; the leader counts as answering now), and asks
    /// for the confirmation of those still waiting, so that one round of requests
    /// confirms every read waiting.
    pub fn confirm_reads(&mut self, now: Instant) {
        // solution:begin 4D Answer the reads a quorum has confirmed, and ask the voters that have not confirmed them yet.
        let me = self.me;
        let Role::Leader(l) = &mut self.role else {
            return;
        };
        if l.reads.is_empty() {
            return;
        }
        let confirmed = self
            .config
            .quorum_value(|p| if p == me { Some(now) } else { l.acked_at[p] })
            .flatten();
        let out = &mut self.out;
        l.reads.retain(|r| {
            let done = confirmed.is_some_and(|at| at >= r.since);
            if done {
                out.reads.push((r.id, Ok(r.index)));
            }
            !done
        });
        if let Some(oldest) = l.reads.iter().map(|r| r.since).min() {
            self.ask_to_confirm(oldest);
        }
        // solution:skeleton
        // let _ = (now, READ_BATCH_DELAY, READ_ASK_ALL_AFTER);
        // if matches!(&self.role, Role::Leader(l) if !l.reads.is_empty()) {
        //     todo!(
        //         "4D: answer the reads a quorum has confirmed, and ask the voters that have not confirmed them yet"
        //     )
        // }
        // solution:end
    }

    // solution:begin 4D A helper of the solution's read policy (used by confirm_reads).
    /// Asks the voters that have not answered since `oldest` (when the oldest waiting read
    /// arrived) to confirm this leadership: only as many as make a quorum, the latest to
    /// answer first, after [`READ_BATCH_DELAY`] so that reads arriving meanwhile share the
    /// requests; the rest only if the reads still wait after [`READ_ASK_ALL_AFTER`]. A
    /// voter with a request in flight sent since counts as asked; one with an older
    /// request in flight is asked when its reply returns (this runs again then).
    fn ask_to_confirm(&mut self, oldest: Instant) {
        let me = self.me;
        let Role::Leader(l) = &mut self.role else {
            return;
        };
        let unconfirmed = (self.config.all_voters().into_iter())
            .filter(|&p| p != me && l.acked_at[p].is_none_or(|at| at < oldest));
        let mut asked = BTreeSet::new();
        let mut idle = Vec::new();
        for p in unconfirmed {
            if l.in_flight[p].is_some_and(|at| at >= oldest) {
                asked.insert(p);
            } else if l.idle(p) {
                idle.push(p);
            }
        }
        idle.sort_by_key(|&p| std::cmp::Reverse(l.acked_at[p]));
        for p in idle {
            let enough = self.config.quorum_value(|q| {
                q == me || asked.contains(&q) || l.acked_at[q].is_some_and(|at| at >= oldest)
            });
            if enough == Some(true) {
                l.due_by(p, oldest + READ_ASK_ALL_AFTER);
            } else {
                asked.insert(p);
                l.due_by(p, oldest + READ_BATCH_DELAY);
            }
        }
    }

    // solution:skeleton
    // solution:end
    /// Thesis §6.4.1: in lease mode a leader may serve reads without a round while a
    /// quorum answered a request it sent less than [`LEASE`] ago. No voter that answered
    /// will vote for another leader within the minimum election timeout of that request
    /// ([`Node::ignores_vote_request`]), and the lease ends a fifth earlier for clock
    /// drift. Never during a leadership transfer (its election ignores that rule), nor
    /// before the leader has committed an entry of its term.
    pub fn lease_valid(&self, now: Instant) -> bool {
        // solution:begin 4D Whether this leader's lease covers a read now.
        let me = self.me;
        let Role::Leader(l) = &self.role else {
            return false;
        };
        self.lease_reads
            && l.transfer.is_none()
            && self.log.term_at(self.commit_index) == Some(self.term)
            && self
                .config
                .quorum_value(|p| if p == me { Some(now) } else { l.acked_at[p] })
                .flatten()
                .is_some_and(|at| now < at + LEASE)
        // solution:skeleton
        // let _ = (now, LEASE);
        // if self.lease_reads {
        //     todo!("4D: whether this leader's lease covers a read now")
        // }
        // false
        // solution:end
    }
}
// solution:begin tests The solution's unit tests, one or more per rule: they test its own policy, so the handout leaves them out.

#[cfg(test)]
mod tests;
// solution:skeleton
// solution:end
