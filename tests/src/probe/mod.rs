//! Conformance probes: the tester plays every peer but one. Server 0 runs the Raft under
//! test; servers 1, 2, … are scripted: they record every RPC the peer sends them and
//! answer as the probe says, and the probe calls the peer's own handlers with the lab's
//! messages (`raft::messages`, Figure 2's fields). A probe then checks one rule of the
//! paper on what the peer answers, sends, applies and — restarted from what it had saved
//! when it answered — remembers, and fails with a message that quotes the rule
//! ([`rules`]) and says what the peer did instead.
//!
//! Probes do not wait for luck: the peer's timers matter only where the rule is about a
//! timer, and then the bounds are wide (an election within [`ELECTION_WITHIN`]; quiet
//! while heartbeats arrive for [`QUIET_FOR`]).

pub mod rules;

use labrt::thread;
use labrt::time::{Duration, Instant};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use labrpc::{ClientEnd, Service};
use labrt::channel::{Receiver, unbounded};
use labrt::sync::{Condvar, Mutex, RwLock};
use persister::Persister;
use raft::messages::{
    AppendEntriesArgs, AppendEntriesReply, Entry, InstallSnapshotArgs, InstallSnapshotReply,
    ReadIndexArgs, ReadIndexReply, RequestVoteArgs, RequestVoteReply, TimeoutNowArgs,
    TimeoutNowReply,
};
use raft::{ApplyMsg, Raft};

use crate::calls::TimedRaft;
use crate::group::{Incarnation, Started};
use crate::tester::{self, FailureSlot, Tester, Testing};
use rules::Rule;

/// The server that runs the Raft under test; the others are scripted.
pub const UNDER_TEST: usize = 0;

/// A follower that hears from no leader starts an election within this long (Go's tests
/// want a new leader within 5 s of a failure; any sane election timeout is far shorter).
pub const ELECTION_WITHIN: Duration = Duration::from_secs(3);

/// How long a peer that hears a current leader's heartbeats (every [`PUMP_EVERY`]) must
/// stay quiet: longer than any election timeout that elects within [`ELECTION_WITHIN`].
pub const QUIET_FOR: Duration = Duration::from_millis(1500);

/// How often a scripted leader sends heartbeats when a probe keeps one going: twice as
/// often as the lab's fastest allowed heartbeat, so any election timeout outlasts it.
pub const PUMP_EVERY: Duration = Duration::from_millis(50);

/// Something the peer under test should do at once (apply, answer, step down) takes at
/// most this long.
pub const PROMPTLY: Duration = Duration::from_secs(1);

/// How long a probe watches for something the peer must not do (apply, lead).
pub const WATCH_FOR: Duration = Duration::from_millis(500);

/// How long a failing probe looks for a death of the peer before it blames the rule.
const DEATH_SETTLES: Duration = Duration::from_millis(200);

/// An RPC the peer under test sent to a scripted server.
#[derive(Clone, Debug)]
pub enum Sent {
    Vote(usize, RequestVoteArgs),
    Append(usize, AppendEntriesArgs),
    Snapshot(usize, InstallSnapshotArgs),
    TimeoutNow(usize, TimeoutNowArgs),
    ReadIndex(usize, ReadIndexArgs),
}

impl Sent {
    /// The scripted server it went to.
    pub fn to(&self) -> usize {
        match self {
            Self::Vote(to, _)
            | Self::Append(to, _)
            | Self::Snapshot(to, _)
            | Self::TimeoutNow(to, _)
            | Self::ReadIndex(to, _) => *to,
        }
    }
}

type Answer<A, R> = Arc<dyn Fn(usize, &A) -> R + Send + Sync>;

/// How the scripted servers answer the peer under test; each probe sets what it needs.
struct Script {
    votes: RwLock<Answer<RequestVoteArgs, RequestVoteReply>>,
    appends: RwLock<Answer<AppendEntriesArgs, AppendEntriesReply>>,
    snapshots: RwLock<Answer<InstallSnapshotArgs, InstallSnapshotReply>>,
}

impl Default for Script {
    /// Servers that refuse every vote and keep their logs as Figure 2's receiver rules say
    /// ([`FollowerLog`]), so that a leader under test sees honest followers.
    fn default() -> Self {
        let logs: Arc<Mutex<std::collections::BTreeMap<usize, FollowerLog>>> = Arc::default();
        let for_snapshots = Arc::clone(&logs);
        Self {
            votes: RwLock::new(Arc::new(|_, args: &RequestVoteArgs| RequestVoteReply {
                term: args.term,
                vote_granted: false,
            })),
            appends: RwLock::new(Arc::new(move |j, args: &AppendEntriesArgs| {
                logs.lock().entry(j).or_default().append(args)
            })),
            snapshots: RwLock::new(Arc::new(move |j, args: &InstallSnapshotArgs| {
                for_snapshots.lock().entry(j).or_default().install(args);
                InstallSnapshotReply { term: args.term }
            })),
        }
    }
}

/// A scripted follower's log as the receiver rules of Figure 2 and Figure 13 keep it:
/// only the terms matter (what the probe checks is what the leader sends).
#[derive(Debug, Default)]
struct FollowerLog {
    /// The snapshot's last index and term.
    base: (u64, u64),
    /// `terms[k]`: the term of index `base.0 + 1 + k`.
    terms: Vec<u64>,
}

impl FollowerLog {
    fn last(&self) -> u64 {
        self.base.0 + self.terms.len() as u64
    }

    fn term_at(&self, index: u64) -> Option<u64> {
        match index.checked_sub(self.base.0 + 1) {
            None if index == self.base.0 => Some(self.base.1),
            None => None, // inside the snapshot: committed, so it matches
            Some(k) => self.terms.get(k as usize).copied(),
        }
    }

    fn append(&mut self, a: &AppendEntriesArgs) -> AppendEntriesReply {
        let refuse = |conflict_term, conflict_index| AppendEntriesReply {
            term: a.term,
            success: false,
            conflict_term,
            conflict_index,
        };
        if a.prev_log_index > self.last() {
            return refuse(None, self.last() + 1);
        }
        if let Some(held) = self.term_at(a.prev_log_index)
            && held != a.prev_log_term
        {
            let first = (self.base.0 + 1..=a.prev_log_index)
                .find(|&i| self.term_at(i) == Some(held))
                .unwrap_or(a.prev_log_index);
            return refuse(Some(held), first);
        }
        for (k, entry) in a.entries.iter().enumerate() {
            let index = a.prev_log_index + 1 + k as u64;
            if index <= self.base.0 {
                continue;
            }
            match self.term_at(index) {
                Some(held) if held == entry.term => {}
                Some(_) => {
                    self.terms.truncate((index - self.base.0 - 1) as usize);
                    self.terms.push(entry.term);
                }
                None => self.terms.push(entry.term),
            }
        }
        AppendEntriesReply {
            term: a.term,
            success: true,
            ..Default::default()
        }
    }

    fn install(&mut self, a: &InstallSnapshotArgs) {
        let last = (a.last_included_index, a.last_included_term);
        if last.0 <= self.base.0 {
            return;
        }
        if self.term_at(last.0) == Some(last.1) {
            self.terms.drain(..(last.0 - self.base.0) as usize);
        } else {
            self.terms.clear();
        }
        self.base = last;
    }
}

/// Everything the peer under test sent, in order, with a signal for waiters.
#[derive(Default)]
struct Outbox {
    sent: Mutex<Vec<(Instant, Sent)>>,
    changed: Condvar,
}

impl Outbox {
    fn push(&self, sent: Sent) {
        self.sent.lock().push((Instant::now(), sent));
        self.changed.notify_all();
    }
}

/// What the peer under test applied, checked as it arrives: each index once, in order,
/// from the snapshot it started with.
struct Applies {
    state: Mutex<ApplyState>,
    changed: Condvar,
    failure: Arc<FailureSlot>,
}

#[derive(Default)]
struct ApplyState {
    /// The incarnation whose applies count (a killed one may still drain its channel).
    incarnation: u64,
    last: u64,
    /// The current incarnation's applied commands and snapshots, in order.
    log: Vec<ApplyMsg>,
}

impl Applies {
    fn record(&self, incarnation: u64, msg: ApplyMsg) {
        let mut state = self.state.lock();
        if state.incarnation != incarnation {
            return;
        }
        let expected = state.last + 1;
        match &msg {
            ApplyMsg::Command { index, .. } | ApplyMsg::Config { index, .. } => {
                if *index != expected {
                    self.failure.fail(rules::APPLY_IN_ORDER.broken(format!(
                        "server 0 applied index {index} when index {expected} was due"
                    )));
                }
                state.last = *index;
            }
            ApplyMsg::Snapshot { index, .. } => {
                if *index < state.last {
                    self.failure.fail(rules::APPLY_IN_ORDER.broken(format!(
                        "server 0 handed the service a snapshot of index {index} after it \
                         had applied index {}: the state would go back",
                        state.last
                    )));
                }
                state.last = *index;
            }
        }
        state.log.push(msg);
        self.changed.notify_all();
    }
}

/// What runs on a probe's server: the Raft under test, or a scripted server.
pub enum ProbeServer {
    UnderTest {
        raft: Arc<Raft>,
        stopping: Arc<AtomicBool>,
    },
    Scripted,
}

impl Incarnation for ProbeServer {
    const KILL: &'static str = "Raft::kill";

    fn raft(&self) -> Option<&Arc<Raft>> {
        match self {
            Self::UnderTest { raft, .. } => Some(raft),
            Self::Scripted => None,
        }
    }

    fn kill(&self) {
        if let Self::UnderTest { raft, stopping } = self {
            stopping.store(true, Ordering::Release);
            raft.kill();
        }
    }
}

/// A probe's cluster: how many servers, the peer under test among them.
#[derive(Clone, Copy, Debug)]
#[must_use = "a setup does nothing until it runs"]
pub struct ProbeSetup {
    servers: usize,
}

impl ProbeSetup {
    /// Runs the probe titled `title` (e.g. `"Probe (3A): votes once per term"`).
    pub fn run(self, title: &str, body: impl FnOnce(&Probe) + Send + 'static) {
        tester::run(title, || self.start(), body);
    }

    /// The probe's cluster: scripted servers around the peer under test, connected.
    fn start(self) -> Arc<Probe> {
        let tester = Tester::new(self.servers, true, 0x7072_6f62_6573);
        let probe = Arc::new(Probe {
            applies: Arc::new(Applies {
                state: Mutex::default(),
                changed: Condvar::new(),
                failure: Arc::clone(tester.failure_slot()),
            }),
            tester,
            script: Arc::default(),
            outbox: Arc::default(),
            ends: Mutex::new(Vec::new()),
            saved_at_reply: Arc::new(Mutex::new(None)),
            saved_at_send: Arc::default(),
            incarnations: AtomicU64::new(0),
            started: Mutex::new(Instant::now()),
        });
        for j in 1..self.servers {
            probe.start_scripted(j);
        }
        probe.start_under_test();
        probe.connect_all();
        probe
    }
}

/// A probe in progress; see the module's documentation.
pub struct Probe {
    tester: Tester<ProbeServer>,
    script: Arc<Script>,
    outbox: Arc<Outbox>,
    applies: Arc<Applies>,
    /// `ends[j]`: scripted server `j`'s end to the peer under test.
    ends: Mutex<Vec<Option<ClientEnd>>>,
    /// What the peer under test had saved when its handlers last returned a reply.
    saved_at_reply: Arc<Mutex<Option<Persister>>>,
    /// Armed by [`Probe::watch_next_send`]: the first request the peer sent after that
    /// which the probe wanted, and what the peer had saved as it sent it.
    saved_at_send: Arc<Mutex<SendWatch>>,
    incarnations: AtomicU64,
    /// When the peer's current incarnation started (to find a panic that stopped it).
    started: Mutex<Instant>,
}

tester::derefs_to_core!(Probe => ProbeServer);

impl Testing for Probe {
    type Peer = ProbeServer;

    /// The result line counts what the peer applied.
    fn counted(&self) -> (&'static str, u64) {
        ("cmds", self.applied_through())
    }
}

impl Probe {
    /// `peers` servers: the peer under test (server 0) and `peers - 1` scripted ones.
    pub fn peers(servers: usize) -> ProbeSetup {
        assert!(
            servers >= 2,
            "a probe needs a peer to test and one to script"
        );
        ProbeSetup { servers }
    }

    fn start_scripted(&self, j: usize) {
        let (script, outbox) = (Arc::clone(&self.script), Arc::clone(&self.outbox));
        let ends = &self.ends;
        self.group().start_server(j, |mut to, _| {
            let mut slots = ends.lock();
            slots.resize(self.servers(), None);
            slots[j] = Some(to.swap_remove(UNDER_TEST));
            Started {
                peer: ProbeServer::Scripted,
                services: vec![scripted_service(j, script, outbox)],
            }
        });
    }

    /// Starts (or restarts) the peer under test from what it saved, and connects it.
    fn start_under_test(&self) {
        let started = Instant::now();
        *self.started.lock() = started;
        let incarnation = self.incarnations.fetch_add(1, Ordering::Relaxed) + 1;
        let calls = Arc::clone(self.group().calls());
        let (applies, saved) = (Arc::clone(&self.applies), Arc::clone(&self.saved_at_reply));
        let watch = Arc::clone(&self.saved_at_send);
        self.group().start_server(UNDER_TEST, |ends, persister| {
            let ends = ends
                .into_iter()
                .enumerate()
                .map(|(to, end)| {
                    let (watch, persister) = (Arc::clone(&watch), Arc::clone(&persister));
                    end.with_tap(move |method, args| {
                        let mut watch = watch.lock();
                        if let Some(wanted) = watch.wanted
                            && let Some(sent) = decode_request(to, method, args)
                            && wanted(&sent)
                        {
                            watch.wanted = None;
                            watch.seen = Some((sent, persister.copy()));
                        }
                    })
                })
                .collect();
            {
                let mut state = applies.state.lock();
                state.incarnation = incarnation;
                state.last = snapshot_index(&persister.read_snapshot());
                state.log.clear();
            }
            let (tx, rx) = unbounded();
            let raft = Arc::new(calls.time(UNDER_TEST, "Raft::new", || {
                Raft::new(ends, UNDER_TEST, Arc::clone(&persister), tx)
            }));
            let stopping = Arc::new(AtomicBool::new(false));
            spawn_applier(incarnation, started, rx, applies, Arc::clone(&stopping));
            let service = raft
                .service()
                .after_each_reply(move |_| *saved.lock() = Some(persister.copy()));
            Started {
                peer: ProbeServer::UnderTest { raft, stopping },
                services: vec![service],
            }
        });
    }

    // ----- failing ------------------------------------------------------------------------

    /// Fails the probe: the peer broke `rule`, doing `what` instead — unless the peer
    /// died (a panic, e.g. a `todo!()`; its handlers then answer nothing useful), which is
    /// the failure then.
    #[track_caller]
    pub fn broke(&self, rule: &Rule, what: impl Into<String>) -> ! {
        let deadline = Instant::now() + DEATH_SETTLES;
        loop {
            self.check_background();
            let since = *self.started.lock();
            if let Some(panic) = crate::panics::in_code_under_test(since, Duration::ZERO) {
                self.fatal(format!("server 0 died: {panic}"));
            }
            if Instant::now() >= deadline {
                self.fatal(rule.broken(what))
            }
            thread::sleep(Duration::from_millis(10));
        }
    }

    // ----- the peer under test ------------------------------------------------------------

    /// The peer under test, its calls timed.
    #[track_caller]
    pub fn peer(&self) -> TimedRaft {
        match self.group().raft(UNDER_TEST) {
            Some(raft) => raft,
            None => self.fatal("the peer under test is not running"),
        }
    }

    /// The peer's term and whether it believes it leads.
    #[track_caller]
    pub fn state(&self) -> (u64, bool) {
        self.check_background();
        self.peer().get_state()
    }

    /// Hands the peer a command; its answer.
    pub fn start(&self, command: &[u8]) -> Option<(u64, u64)> {
        self.peer().start(command.to_vec())
    }

    /// Asks the peer to snapshot through `index`, as a service would; the snapshot holds
    /// the index (so that a restart knows where the service's state stands).
    pub fn snapshot(&self, index: u64) {
        self.peer().snapshot(index, snapshot_of(index));
    }

    /// From now on, remembers what the peer had saved when it sent the next request for
    /// which `wanted` holds (checked on the peer's thread as the request leaves).
    pub fn watch_next_send(&self, wanted: fn(&Sent) -> bool) {
        *self.saved_at_send.lock() = SendWatch {
            wanted: Some(wanted),
            seen: None,
        };
    }

    /// Crashes the peer as it stood when it sent the request that
    /// [`Probe::watch_next_send`] waited for, and restarts it; returns that request
    /// (`None` if the peer has not sent it).
    pub fn crash_as_it_sent(&self) -> Option<Sent> {
        let (sent, saved) = std::mem::take(&mut *self.saved_at_send.lock()).seen?;
        self.shutdown_server(UNDER_TEST);
        self.persister(UNDER_TEST)
            .save(&saved.read_raft_state(), &saved.read_snapshot());
        self.start_under_test();
        self.connect_all();
        Some(sent)
    }

    /// Crashes the peer and restarts it from what it saved.
    pub fn restart(&self) {
        self.shutdown_server(UNDER_TEST);
        self.start_under_test();
        self.connect_all();
    }

    /// Crashes the peer as it stood when it last answered an RPC, and restarts it: what
    /// it saved after that answer is lost, as in a crash right after the reply left.
    pub fn crash_after_last_reply(&self) {
        let saved = self.saved_at_reply.lock().take();
        self.shutdown_server(UNDER_TEST);
        if let Some(saved) = saved {
            self.persister(UNDER_TEST)
                .save(&saved.read_raft_state(), &saved.read_snapshot());
        }
        self.start_under_test();
        self.connect_all();
    }

    // ----- calling the peer ---------------------------------------------------------------

    fn end(&self, from: usize) -> ClientEnd {
        self.ends.lock()[from]
            .clone()
            .unwrap_or_else(|| panic!("server {from} is not a scripted server"))
    }

    #[track_caller]
    fn call<A: serde::Serialize, R: serde::de::DeserializeOwned + Send + 'static>(
        &self,
        from: usize,
        method: &str,
        args: &A,
    ) -> R {
        self.check_background();
        match self.end(from).call::<_, R>(method, args) {
            Ok(reply) => reply,
            Err(e) => self.fatal(format!(
                "server 0 did not answer {method} from server {from}: {e}"
            )),
        }
    }

    /// Scripted server `from` asks the peer for its vote.
    #[track_caller]
    pub fn request_vote(&self, from: usize, args: RequestVoteArgs) -> RequestVoteReply {
        self.call(from, "Raft.RequestVote", &args)
    }

    /// Scripted server `from` sends the peer an AppendEntries.
    #[track_caller]
    pub fn append_entries(&self, from: usize, args: AppendEntriesArgs) -> AppendEntriesReply {
        self.call(from, "Raft.AppendEntries", &args)
    }

    /// Scripted server `from` sends the peer a snapshot.
    #[track_caller]
    pub fn install_snapshot(&self, from: usize, args: InstallSnapshotArgs) -> InstallSnapshotReply {
        self.call(from, "Raft.InstallSnapshot", &args)
    }

    /// Scripted leader `leader` of `term` makes the peer hold `entries` from index 1 on
    /// (nothing committed), and checks that it accepted them.
    #[track_caller]
    pub fn give_log(&self, leader: usize, term: u64, entries: Vec<Entry>) {
        let n = entries.len();
        let reply = self.append_entries(leader, append(term, leader, (0, 0), entries, 0));
        if !reply.success {
            self.broke(
                &rules::APPEND_ENTRIES,
                format!(
                    "server 0 refused an AppendEntries of term {term} with {n} entries from \
                     index 1 (prevLogIndex 0): {reply:?}"
                ),
            );
        }
    }

    /// Keeps scripted leader `leader` of `term` sending heartbeats (prevLogIndex 0, no
    /// entries, `leader_commit`) every [`PUMP_EVERY`] until the returned pump drops.
    pub fn heartbeats(&self, leader: usize, term: u64, leader_commit: u64) -> Pump {
        let stop = Arc::new(AtomicBool::new(false));
        let (end, flag) = (self.end(leader), Arc::clone(&stop));
        let handle = thread::Builder::new()
            .name(format!("probe-pump-{leader}"))
            .spawn(move || {
                while !flag.load(Ordering::Acquire) {
                    let args = append(term, leader, (0, 0), Vec::new(), leader_commit);
                    let _ = end.call::<_, AppendEntriesReply>("Raft.AppendEntries", &args);
                    thread::sleep(PUMP_EVERY);
                }
            })
            .expect("cannot spawn a heartbeat pump");
        Pump {
            stop,
            handle: Some(handle),
        }
    }

    // ----- scripting the other servers ----------------------------------------------------

    /// How the scripted servers answer the peer's RequestVote from now on.
    pub fn on_vote(
        &self,
        answer: impl Fn(usize, &RequestVoteArgs) -> RequestVoteReply + Send + Sync + 'static,
    ) {
        *self.script.votes.write() = Arc::new(answer);
    }

    /// How the scripted servers answer the peer's AppendEntries from now on.
    pub fn on_append(
        &self,
        answer: impl Fn(usize, &AppendEntriesArgs) -> AppendEntriesReply + Send + Sync + 'static,
    ) {
        *self.script.appends.write() = Arc::new(answer);
    }

    /// How the scripted servers answer the peer's InstallSnapshot from now on.
    pub fn on_install(
        &self,
        answer: impl Fn(usize, &InstallSnapshotArgs) -> InstallSnapshotReply + Send + Sync + 'static,
    ) {
        *self.script.snapshots.write() = Arc::new(answer);
    }

    // ----- what the peer sent -------------------------------------------------------------

    /// Where the record of what the peer sent stands now (for [`Probe::sent_since`]).
    pub fn mark(&self) -> usize {
        self.outbox.sent.lock().len()
    }

    /// Everything the peer sent since `mark`.
    pub fn sent_since(&self, mark: usize) -> Vec<Sent> {
        self.outbox.sent.lock()[mark..]
            .iter()
            .map(|(_, s)| s.clone())
            .collect()
    }

    /// Everything the peer sent since `mark`, with when it arrived.
    pub fn sent_since_timed(&self, mark: usize) -> Vec<(Instant, Sent)> {
        self.outbox.sent.lock()[mark..].to_vec()
    }

    /// The first RPC the peer sent since `mark` for which `wanted` holds, waiting up to
    /// `within` for it.
    pub fn wait_sent(
        &self,
        mark: usize,
        within: Duration,
        wanted: impl Fn(&Sent) -> bool,
    ) -> Option<Sent> {
        let deadline = Instant::now() + within;
        let mut sent = self.outbox.sent.lock();
        let mut seen = mark;
        loop {
            if let Some((_, s)) = sent[seen..].iter().find(|(_, s)| wanted(s)) {
                return Some(s.clone());
            }
            seen = sent.len();
            if self
                .outbox
                .changed
                .wait_until(&mut sent, deadline)
                .timed_out()
            {
                return sent[seen..]
                    .iter()
                    .find(|(_, s)| wanted(s))
                    .map(|(_, s)| s.clone());
            }
        }
    }

    /// Waits for the peer to campaign (a RequestVote to any scripted server) since `mark`.
    #[track_caller]
    pub fn wait_campaign(&self, mark: usize, within: Duration) -> Option<RequestVoteArgs> {
        self.wait_sent(mark, within, |s| matches!(s, Sent::Vote(..)))
            .map(|s| match s {
                Sent::Vote(_, args) => args,
                _ => unreachable!("wait_sent matched a RequestVote"),
            })
    }

    /// Lets the peer win an election: the scripted servers grant every vote; waits for
    /// it to campaign and to say it leads. Returns its term.
    #[track_caller]
    pub fn elect(&self) -> u64 {
        self.on_vote(|_, args| RequestVoteReply {
            term: args.term,
            vote_granted: true,
        });
        let mark = self.mark();
        if self.wait_campaign(mark, ELECTION_WITHIN).is_none() {
            self.broke(
                &rules::START_ELECTION,
                format!(
                    "server 0 heard from no leader for {} s and sent no RequestVote",
                    ELECTION_WITHIN.as_secs()
                ),
            );
        }
        let t0 = Instant::now();
        loop {
            let (term, leader) = self.state();
            if leader {
                return term;
            }
            if t0.elapsed() > PROMPTLY {
                self.broke(
                    &rules::WIN_ELECTION,
                    format!(
                        "every server granted server 0 its vote, and {} ms later it did not \
                         say it leads (term {term})",
                        PROMPTLY.as_millis()
                    ),
                );
            }
            thread::sleep(Duration::from_millis(5));
        }
    }

    // ----- what the peer applied ----------------------------------------------------------

    /// What the current incarnation of the peer has applied, in order.
    pub fn applied(&self) -> Vec<ApplyMsg> {
        self.check_background();
        self.applies.state.lock().log.clone()
    }

    /// The index the peer has applied through (its snapshot's, if it started from one).
    pub fn applied_through(&self) -> u64 {
        self.applies.state.lock().last
    }

    /// Waits up to `within` until the peer has applied through `index`; whether it did.
    pub fn wait_applied(&self, index: u64, within: Duration) -> bool {
        let deadline = Instant::now() + within;
        let mut state = self.applies.state.lock();
        while state.last < index {
            if self
                .applies
                .changed
                .wait_until(&mut state, deadline)
                .timed_out()
            {
                return state.last >= index;
            }
        }
        true
    }

    /// Waits up to [`PROMPTLY`] for the peer to apply through the last of `expected`, then
    /// checks that the commands it applied are exactly `expected`; else it broke `rule`
    /// (`context` says what the probe did).
    #[track_caller]
    pub fn expect_applied(&self, rule: &Rule, context: &str, expected: &[(u64, Vec<u8>)]) {
        let through = expected.last().map_or(0, |(index, _)| *index);
        self.wait_applied(through, PROMPTLY);
        let got = self.applied_commands();
        if got != expected {
            self.broke(
                rule,
                format!(
                    "{context}: server 0 applied {} where {} was due",
                    show(&got),
                    show(expected)
                ),
            );
        }
    }

    /// Watches for [`WATCH_FOR`] that the peer applies nothing beyond `through`; else it
    /// broke `rule`.
    #[track_caller]
    pub fn expect_no_apply_beyond(&self, rule: &Rule, context: &str, through: u64) {
        if self.wait_applied(through + 1, WATCH_FOR) {
            self.broke(
                rule,
                format!(
                    "{context}: server 0 applied {} (nothing beyond index {through} is \
                     committed)",
                    show_applied(&self.applied())
                ),
            );
        }
    }

    /// The commands the current incarnation applied, by index.
    pub fn applied_commands(&self) -> Vec<(u64, Vec<u8>)> {
        self.applied()
            .into_iter()
            .filter_map(|m| match m {
                ApplyMsg::Command { index, command } => Some((index, command)),
                _ => None,
            })
            .collect()
    }
}

/// What [`Probe::watch_next_send`] waits for, and what it saw.
#[derive(Default)]
struct SendWatch {
    wanted: Option<fn(&Sent) -> bool>,
    seen: Option<(Sent, Persister)>,
}

/// A request of the lab's messages as it leaves the peer for server `to`.
fn decode_request(to: usize, method: &str, args: &[u8]) -> Option<Sent> {
    match method {
        "Raft.RequestVote" => postcard::from_bytes(args).ok().map(|a| Sent::Vote(to, a)),
        "Raft.AppendEntries" => postcard::from_bytes(args).ok().map(|a| Sent::Append(to, a)),
        "Raft.InstallSnapshot" => postcard::from_bytes(args)
            .ok()
            .map(|a| Sent::Snapshot(to, a)),
        _ => None,
    }
}

/// A scripted leader's heartbeats; they stop when this drops.
pub struct Pump {
    stop: Arc<AtomicBool>,
    handle: Option<thread::JoinHandle<()>>,
}

impl Drop for Pump {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Release);
        if let Some(handle) = self.handle.take() {
            let _ = handle.join();
        }
    }
}

/// An AppendEntries of `term` from `leader` after the entry `prev` (index, term).
pub fn append(
    term: u64,
    leader: usize,
    prev: (u64, u64),
    entries: Vec<Entry>,
    leader_commit: u64,
) -> AppendEntriesArgs {
    AppendEntriesArgs {
        term,
        leader,
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        entries,
        leader_commit,
    }
}

/// A RequestVote of `term` from `candidate` whose last entry is `last` (index, term). It
/// is marked as a leadership transfer, so that a peer that ignores candidates while it
/// hears from a leader (part 3E) still answers it; 3A–3D peers ignore the flag.
pub fn vote(term: u64, candidate: usize, last: (u64, u64)) -> RequestVoteArgs {
    RequestVoteArgs {
        term,
        candidate,
        last_log_index: last.0,
        last_log_term: last.1,
        transfer: true,
    }
}

/// Entries of `term` with commands `c<term>.<k>` for `k` in `from..=to`.
pub fn entries(term: u64, from: u64, to: u64) -> Vec<Entry> {
    (from..=to)
        .map(|k| Entry::new(term, command(term, k)))
        .collect()
}

/// The command a probe's entry of `term` at index `k` carries.
pub fn command(term: u64, k: u64) -> Vec<u8> {
    format!("c{term}.{k}").into_bytes()
}

/// Applied commands as a failure message shows them: `[1: c5.1, 2: c6.2]`.
pub fn show(commands: &[(u64, Vec<u8>)]) -> String {
    let shown: Vec<String> = commands
        .iter()
        .map(|(index, command)| format!("{index}: {}", String::from_utf8_lossy(command)))
        .collect();
    format!("[{}]", shown.join(", "))
}

/// What the peer applied as a failure message shows it: `[snapshot through 10, 11: c5.11]`.
pub fn show_applied(applied: &[ApplyMsg]) -> String {
    let shown: Vec<String> = applied
        .iter()
        .map(|m| match m {
            ApplyMsg::Command { index, command } => {
                format!("{index}: {}", String::from_utf8_lossy(command))
            }
            ApplyMsg::Snapshot { index, .. } => format!("snapshot through {index}"),
            ApplyMsg::Config { index, config } => format!("{index}: configuration {config}"),
        })
        .collect();
    format!("[{}]", shown.join(", "))
}

/// `(index, command)` of a probe's entries of `term` for `k` in `from..=to`.
pub fn applied(term: u64, from: u64, to: u64) -> Vec<(u64, Vec<u8>)> {
    (from..=to).map(|k| (k, command(term, k))).collect()
}

/// The snapshot a probe hands the peer: the index it covers.
pub fn snapshot_of(index: u64) -> Vec<u8> {
    index.to_le_bytes().to_vec()
}

/// The index a probe's snapshot covers (0 for none).
fn snapshot_index(snapshot: &[u8]) -> u64 {
    snapshot
        .try_into()
        .map(u64::from_le_bytes)
        .unwrap_or_default()
}

fn scripted_service(j: usize, script: Arc<Script>, outbox: Arc<Outbox>) -> Service {
    let (s1, s2, s3) = (Arc::clone(&script), Arc::clone(&script), script);
    let (o1, o2, o3, o4, o5) = (
        Arc::clone(&outbox),
        Arc::clone(&outbox),
        Arc::clone(&outbox),
        Arc::clone(&outbox),
        outbox,
    );
    Service::new("Raft")
        .method("RequestVote", move |args: RequestVoteArgs| {
            o1.push(Sent::Vote(j, args.clone()));
            let answer = Arc::clone(&s1.votes.read());
            answer(j, &args)
        })
        .method("AppendEntries", move |args: AppendEntriesArgs| {
            o2.push(Sent::Append(j, args.clone()));
            let answer = Arc::clone(&s2.appends.read());
            answer(j, &args)
        })
        .method("InstallSnapshot", move |args: InstallSnapshotArgs| {
            o3.push(Sent::Snapshot(j, args.clone()));
            let answer = Arc::clone(&s3.snapshots.read());
            answer(j, &args)
        })
        .method("TimeoutNow", move |args: TimeoutNowArgs| {
            let term = args.term;
            o4.push(Sent::TimeoutNow(j, args));
            TimeoutNowReply { term }
        })
        .method("ReadIndex", move |args: ReadIndexArgs| {
            o5.push(Sent::ReadIndex(j, args));
            ReadIndexReply::default()
        })
}

fn spawn_applier(
    incarnation: u64,
    started: Instant,
    rx: Receiver<ApplyMsg>,
    applies: Arc<Applies>,
    stopping: Arc<AtomicBool>,
) {
    thread::Builder::new()
        .name("probe-applier".into())
        .spawn(move || {
            for msg in rx.iter() {
                applies.record(incarnation, msg);
            }
            if !stopping.load(Ordering::Acquire) {
                applies
                    .failure
                    .fail(match crate::panics::likely_cause(UNDER_TEST, started) {
                        Some(panic) => format!(
                            "server 0 stopped while it was running (its apply channel \
                             closed): {panic}"
                        ),
                        None => "server 0 closed its apply channel while it was running: a \
                                 thread of the peer stopped (a panic? its message is printed \
                                 above)"
                            .to_owned(),
                    });
            }
        })
        .expect("cannot spawn the probe's applier");
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(prev: (u64, u64), terms: &[u64]) -> AppendEntriesArgs {
        let entries = terms.iter().map(|&t| Entry::new(t, Vec::new())).collect();
        append(9, 1, prev, entries, 0)
    }

    #[test]
    fn a_follower_log_keeps_figure_2s_receiver_rules() {
        let mut log = FollowerLog::default();
        assert!(log.append(&args((0, 0), &[1, 1, 2])).success);
        // Too short: the conflict index is one past its last entry.
        let r = log.append(&args((5, 2), &[]));
        assert_eq!(
            (r.success, r.conflict_term, r.conflict_index),
            (false, None, 4)
        );
        // A term mismatch names the term it holds and where that term starts.
        let r = log.append(&args((2, 3), &[]));
        assert_eq!(
            (r.success, r.conflict_term, r.conflict_index),
            (false, Some(1), 1)
        );
        // A late, shorter request truncates nothing; a conflict truncates.
        assert!(log.append(&args((0, 0), &[1])).success);
        assert_eq!(log.last(), 3);
        assert!(log.append(&args((1, 1), &[3])).success);
        assert_eq!((log.last(), log.term_at(2)), (2, Some(3)));
    }

    #[test]
    fn a_follower_log_installs_snapshots_keeping_a_matching_suffix() {
        let mut log = FollowerLog::default();
        assert!(log.append(&args((0, 0), &[1, 1, 1, 1])).success);
        let snapshot = |index, term| InstallSnapshotArgs {
            term: 9,
            leader: 1,
            last_included_index: index,
            last_included_term: term,
            config: None,
            snapshot: Vec::new(),
        };
        log.install(&snapshot(2, 1));
        assert_eq!(
            (log.last(), log.term_at(2), log.term_at(4)),
            (4, Some(1), Some(1))
        );
        log.install(&snapshot(6, 2));
        assert_eq!((log.last(), log.term_at(6)), (6, Some(2)));
        assert!(log.append(&args((6, 2), &[2])).success);
        assert_eq!(log.last(), 7);
    }
}
