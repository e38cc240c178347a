//! The Raft tester: a cluster of peers on one simulated network, the faults the tests
//! inject, and the checks they make — Go's `raft1/test.go`, `raft1/server.go` and
//! `tester1` with their limits and failure messages.
//!
//! Beyond Go: election safety is checked every 5 ms in the background (Go samples every
//! ~500 ms and only when a test asks), a killed incarnation that keeps sending RPCs fails
//! the test, a peer whose threads die (its apply channel closes) fails it at once, and
//! every random choice derives from the network's seed.
//!
//! Every test records what happened (starts, crashes, links, leaders and terms, the
//! checks) and writes it as an HTML timeline when it fails ([`viz`]).

mod applier;
mod cmd;
mod membership;
mod watch;

use labrt::thread;
use labrt::time::{Duration, Instant};
use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use labrt::channel::unbounded;
use raft::Raft;

pub use applier::SNAPSHOT_INTERVAL;
pub use cmd::Cmd;
pub use membership::{CHANGE_TIMEOUT, TRANSFER_LIMIT};

use crate::calls::TimedRaft;
use crate::group::{Incarnation, Started};
use crate::tester::{self, Tester, Testing, go_pauses};
use applier::{Applied, Applier};

/// The tests generously allow a new leader to be elected within a second.
pub const ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);

/// The largest raft state (bytes) the snapshot tests accept.
pub const MAX_LOG_SIZE: usize = 2000;

/// How a Raft test's cluster is set up (Go's `makeTest(t, n, reliable, snapshot)`),
/// written as a sentence: `RaftTest::unreliable(5).snapshots().run("…", |ts| …)`.
#[derive(Clone, Copy, Debug)]
#[must_use = "a setup does nothing until it runs"]
pub struct RaftSetup {
    servers: usize,
    /// Part 3E: servers `0..voters` form the first configuration; the others start
    /// outside it when a test adds them.
    voters: usize,
    reliable: bool,
    snapshots: bool,
}

impl RaftSetup {
    /// The tester asks every peer for a snapshot every [`SNAPSHOT_INTERVAL`] commands and
    /// checks what the peers install (the 3D tests).
    pub fn snapshots(self) -> Self {
        Self {
            snapshots: true,
            ..self
        }
    }

    /// Part 3E: only servers `0..voters` form the first configuration; the others are
    /// slots the test starts, outside the cluster, when it adds them.
    pub fn first_voters(self, voters: usize) -> Self {
        assert!(
            voters > 0 && voters <= self.servers,
            "a first configuration of {voters} voters out of {} servers",
            self.servers
        );
        Self { voters, ..self }
    }

    /// The cluster, its first configuration started and connected.
    pub fn start(self) -> Arc<RaftTest> {
        let test = RaftTest::new(self);
        test.start_servers();
        test
    }

    /// Runs the test titled `title` (Go's) on this cluster.
    pub fn run(self, title: &str, body: impl FnOnce(&RaftTest) + Send + 'static) {
        tester::run(title, || self.start(), body);
    }
}

/// A cluster of Raft peers under test.
pub struct RaftTest {
    tester: Tester<RaftPeer>,
    setup: RaftSetup,
    applied: Arc<Applied>,
    /// Incarnations started so far (their appliers' ids).
    incarnations: AtomicU64,
}

tester::derefs_to_core!(RaftTest => RaftPeer);

impl Testing for RaftTest {
    type Peer = RaftPeer;

    fn counted(&self) -> (&'static str, u64) {
        ("cmds", self.applied.lock().max_index)
    }
}

/// One incarnation of a peer: its Raft, and the flag its applier reads to tell a kill
/// from a death.
pub struct RaftPeer {
    raft: Arc<Raft>,
    stopping: Arc<AtomicBool>,
}

impl Incarnation for RaftPeer {
    const KILL: &'static str = "Raft::kill";

    fn raft(&self) -> Option<&Arc<Raft>> {
        Some(&self.raft)
    }

    fn kill(&self) {
        self.stopping.store(true, Ordering::Release);
        self.raft.kill();
    }
}

impl RaftTest {
    /// `servers` peers on a reliable network (with Go's long delays for dead links).
    pub fn reliable(servers: usize) -> RaftSetup {
        RaftSetup {
            servers,
            voters: servers,
            reliable: true,
            snapshots: false,
        }
    }

    /// `servers` peers on an unreliable network: requests and replies are dropped and
    /// delayed.
    pub fn unreliable(servers: usize) -> RaftSetup {
        RaftSetup {
            reliable: false,
            ..Self::reliable(servers)
        }
    }

    /// The cluster `setup` describes, none of its peers started yet.
    fn new(setup: RaftSetup) -> Arc<Self> {
        let tester = Tester::new(setup.servers, setup.reliable, 0x7e57_e7ca_11ed_5eed);
        tester.net().set_long_delays(true);
        let test = Arc::new(Self {
            applied: Arc::new(Applied::new(
                setup.servers,
                Arc::clone(tester.failure_slot()),
            )),
            tester,
            setup,
            incarnations: AtomicU64::new(0),
        });
        watch::spawn(Arc::downgrade(&test));
        test
    }

    /// Whether the tester asks for snapshots (the 3D tests and some 3E ones).
    pub fn snapshots(&self) -> bool {
        self.setup.snapshots
    }

    // ----- the peers ----------------------------------------------------------------------

    /// Peer `i`'s running incarnation, if it is up (Go's `srvs[i].Raft()`), its calls
    /// timed.
    pub fn raft(&self, i: usize) -> Option<TimedRaft> {
        self.group().raft(i)
    }

    /// Hands `cmd` to peer `i` if it is up; its answer (index and term if it leads).
    pub fn start(&self, i: usize, cmd: impl Into<Cmd>) -> Option<(u64, u64)> {
        self.raft(i)?.start(cmd.into().encode())
    }

    /// Peer `i`'s term and leadership.
    ///
    /// # Panics
    /// If peer `i` is not running.
    #[track_caller]
    pub fn get_state(&self, i: usize) -> (u64, bool) {
        match self.raft(i) {
            Some(raft) => raft.get_state(),
            None => self.fatal(format!("get_state({i}): server {i} is not running")),
        }
    }

    /// Starts a new incarnation of peer `i` from its saved state (Go's `StartServer`). It
    /// stays disconnected until connected.
    pub fn start_server(&self, i: usize) {
        let (snapshots, applied) = (self.setup.snapshots, Arc::clone(&self.applied));
        let calls = Arc::clone(self.group().calls());
        let incarnation = self.incarnations.fetch_add(1, Ordering::Relaxed) + 1;
        // Part 3E: servers of the first configuration know it; the others start outside.
        let voters = self.setup.voters;
        let initial = (voters < self.servers()).then(|| {
            if i < voters {
                (0..voters).collect()
            } else {
                BTreeSet::new()
            }
        });
        self.group().start_server(i, |ends, persister| {
            // The tester plays the service: it restores its state from the snapshot first.
            let snapshot = if snapshots {
                persister.read_snapshot()
            } else {
                Vec::new()
            };
            let last_applied = applied
                .start(i, incarnation, &snapshot)
                .unwrap_or_else(|e| {
                    applied.fail(format!("server {i} cannot restart: {e}"));
                    0
                });
            let (apply_tx, apply_rx) = unbounded();
            let raft = Arc::new(match initial {
                // Parts 3A-3D: every server a voter, through the API of those parts.
                None => calls.time(i, "Raft::new", || Raft::new(ends, i, persister, apply_tx)),
                Some(voters) => calls.time(i, "Raft::with_initial_voters", || {
                    Raft::with_initial_voters(ends, i, voters, persister, apply_tx)
                }),
            });
            let stopping = Arc::new(AtomicBool::new(false));
            let applier = Applier {
                me: i,
                incarnation,
                applied,
                stopping: Arc::clone(&stopping),
                snapshots: snapshots
                    .then(|| TimedRaft::new(Arc::clone(&raft), i, Arc::clone(&calls))),
                last_applied,
                started: Instant::now(),
            };
            thread::Builder::new()
                .name(format!("applier-{i}"))
                .spawn(move || applier.run(apply_rx))
                .expect("cannot spawn an applier thread");
            Started {
                services: vec![raft.service()],
                peer: RaftPeer { raft, stopping },
            }
        });
    }

    /// Restarts peer `i` and reconnects the whole group (Go 2025's `restart`).
    pub fn restart(&self, i: usize) {
        self.start_server(i);
        self.connect_all();
    }

    /// Crashes every peer.
    pub fn shutdown(&self) {
        for i in 0..self.servers() {
            self.shutdown_server(i);
        }
    }

    /// Starts every peer of the first configuration and connects them all.
    pub fn start_servers(&self) {
        for i in 0..self.setup.voters {
            self.start_server(i);
        }
        self.connect_all();
    }

    // ----- checks -------------------------------------------------------------------------

    /// Waits for a leader among the connected peers and returns it (the leader of the
    /// highest term); fails on two leaders in one term, or none after ~5 s.
    #[track_caller]
    pub fn check_one_leader(&self) -> usize {
        let check = self.recorder().check("check_one_leader");
        for _ in 0..10 {
            let ms = 450 + self.rand_below(100);
            self.sleep(Duration::from_millis(ms));
            self.check_background();
            let mut leaders: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
            for i in 0..self.servers() {
                if self.is_connected(i)
                    && let Some(raft) = self.raft(i)
                {
                    let (term, leader) = raft.get_state();
                    if leader {
                        leaders.entry(term).or_default().push(i);
                    }
                }
            }
            for (term, ids) in &leaders {
                if ids.len() > 1 {
                    self.fatal(format!("term {term} has {} (>1) leaders", ids.len()));
                }
            }
            if let Some((term, ids)) = leaders.iter().next_back() {
                check.ok(format!("leader {} in term {term}", ids[0]));
                return ids[0];
            }
        }
        self.fatal("expected one leader, got none")
    }

    /// All connected peers agree on the term; returns it.
    #[track_caller]
    pub fn check_terms(&self) -> u64 {
        let check = self.recorder().check("check_terms");
        self.check_background();
        let mut agreed = None;
        for i in 0..self.servers() {
            if self.is_connected(i)
                && let Some(raft) = self.raft(i)
            {
                let (term, _) = raft.get_state();
                match agreed {
                    None => agreed = Some(term),
                    Some(t) if t != term => self.fatal("servers disagree on term"),
                    Some(_) => {}
                }
            }
        }
        let term = agreed.unwrap_or(0);
        check.ok(format!("term {term}"));
        term
    }

    /// No connected peer believes it is the leader.
    #[track_caller]
    pub fn check_no_leader(&self) {
        let check = self.recorder().check("check_no_leader");
        self.check_background();
        for i in 0..self.servers() {
            if self.is_connected(i)
                && let Some(raft) = self.raft(i)
                && raft.get_state().1
            {
                self.fatal(format!(
                    "expected no leader among connected servers, but {i} claims to be leader"
                ));
            }
        }
        check.ok("no leader");
    }

    /// No peer has committed `index`.
    #[track_caller]
    pub fn check_no_agreement(&self, index: u64) {
        let check = self
            .recorder()
            .check(format!("check_no_agreement({index})"));
        let (n, _) = self.n_committed(index);
        if n > 0 {
            self.fatal(format!("{n} committed but no majority"));
        }
        check.ok("not committed");
    }

    /// How many peers have applied `index`, and what; fails if they disagree.
    #[track_caller]
    pub fn n_committed(&self, index: u64) -> (usize, Option<Vec<u8>>) {
        let (count, cmd, _) = self.committed(index);
        (count, cmd)
    }

    /// [`RaftTest::n_committed`], plus the version of the record it read.
    #[track_caller]
    fn committed(&self, index: u64) -> (usize, Option<Vec<u8>>, u64) {
        self.check_background();
        let state = self.applied.lock();
        let mut count = 0;
        let mut cmd: Option<&Vec<u8>> = None;
        for log in &state.logs {
            if let Some(c) = log.get(index) {
                if let Some(prev) = cmd
                    && prev != c
                {
                    let message = format!(
                        "committed values at index {index} do not match ({} != {})",
                        Cmd::show(prev),
                        Cmd::show(c)
                    );
                    drop(state);
                    self.fatal(message);
                }
                count += 1;
                cmd = Some(c);
            }
        }
        (count, cmd.cloned(), state.version)
    }

    /// Waits (Go's schedule: 30 rounds, 10 ms doubling to ~1 s) for at least `n` peers to
    /// commit `index`, returning the command. `None` if `start_term` is given and some
    /// peer has moved past it (agreement can no longer be expected).
    #[track_caller]
    pub fn wait(&self, index: u64, n: usize, start_term: Option<u64>) -> Option<Vec<u8>> {
        let check = self.recorder().check(format!("wait({index}, {n})"));
        for pause in go_pauses() {
            if self.n_committed(index).0 >= n {
                break;
            }
            self.wait_committed(index, n, Instant::now() + pause);
            if let Some(start) = start_term {
                for i in 0..self.servers() {
                    if let Some(raft) = self.raft(i)
                        && raft.get_state().0 > start
                    {
                        check.ok(format!("term moved past {start}"));
                        return None;
                    }
                }
            }
        }
        let (done, cmd) = self.n_committed(index);
        if done < n {
            self.fatal(format!("only {done} decided for index {index}; wanted {n}"));
        }
        check.ok(format!("{done} committed index {index}"));
        cmd
    }

    /// Waits until `n` peers have applied `index` or `deadline` passes.
    fn wait_committed(&self, index: u64, n: usize, deadline: Instant) -> bool {
        self.applied.wait_until(deadline, |state| {
            state.logs.iter().filter(|log| log.contains(index)).count() >= n
        })
    }

    /// Go's `one`: gets `cmd` committed by at least `expected` peers, trying each connected
    /// peer as leader, within 10 s (2 s per attempt); returns its index. Without `retry`,
    /// the first leader found must commit it.
    #[track_caller]
    pub fn one(&self, cmd: impl Into<Cmd>, expected: usize, retry: bool) -> u64 {
        let cmd = cmd.into();
        let check = self.recorder().check(format!("one({cmd})"));
        let bytes = cmd.encode();
        let t0 = Instant::now();
        let mut next = 0;
        while t0.elapsed() < Duration::from_secs(10) && !self.finished() {
            // A background failure (a peer died, two leaders) will fail the test anyway:
            // say so now instead of after ten seconds of trying.
            self.check_background();
            let mut index = None;
            for _ in 0..self.servers() {
                next = (next + 1) % self.servers();
                if self.is_connected(next)
                    && let Some(raft) = self.raft(next)
                    && let Some((i, _)) = raft.start(bytes.clone())
                {
                    index = Some(i);
                    break;
                }
            }
            match index {
                Some(index) => {
                    let deadline = Instant::now() + Duration::from_secs(2);
                    loop {
                        let (done, got, version) = self.committed(index);
                        if done > 0 && done >= expected && got.as_ref() == Some(&bytes) {
                            check.ok(format!("committed at index {index} by {done}"));
                            return index;
                        }
                        if Instant::now() >= deadline {
                            break;
                        }
                        // Look again as soon as anything is applied, or after 20 ms as Go does.
                        let step = (Instant::now() + Duration::from_millis(20)).min(deadline);
                        self.applied.wait_for_change(version, step);
                    }
                    if !retry {
                        self.fatal(format!("one({cmd}) failed to reach agreement"));
                    }
                }
                None => self.sleep(Duration::from_millis(50)),
            }
        }
        self.check_background();
        self.fatal(format!("one({cmd}) failed to reach agreement"))
    }
}
