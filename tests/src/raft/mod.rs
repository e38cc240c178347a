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

pub mod record;
pub mod viz;
mod watch;

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::unbounded;
use labrpc::Network;
use parking_lot::Mutex;
use raft::Raft;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

pub use applier::SNAPSHOT_INTERVAL;
pub use cmd::Cmd;
pub use membership::{CHANGE_TIMEOUT, Pool, TRANSFER_LIMIT, run_pool};

use crate::calls::TimedRaft;
use crate::group::{Group, GroupEvent, Incarnation, Started};
use crate::harness::{self, Stats};
use applier::{Applied, Applier};
use record::{Event, Recorder};

/// The tests generously allow a new leader to be elected within a second.
pub const ELECTION_TIMEOUT: Duration = Duration::from_millis(1000);

/// The largest raft state (bytes) the snapshot tests accept.
pub const MAX_LOG_SIZE: usize = 2000;

/// A cluster of Raft peers under test.
pub struct RaftTest {
    /// Server slots (ends, persisters); in part 3E more than the first configuration has.
    n: usize,
    /// Servers `0..initial_voters` form the first configuration; the others start outside.
    initial_voters: usize,
    snapshots: bool,
    group: Group<RaftPeer>,
    applied: Arc<Applied>,
    rng: Mutex<Xoshiro256PlusPlus>,
    finished: AtomicBool,
    reliable_at_start: bool,
    /// Incarnations started so far (their appliers' ids).
    incarnations: AtomicU64,
    long_reordering: AtomicBool,
    /// What happened, for the timeline.
    recorder: Arc<Recorder>,
    /// The test's name (its thread's) and title, for the timeline.
    name: String,
    title: OnceLock<String>,
}

/// One incarnation of a peer: its Raft, and the flag its applier reads to tell a kill
/// from a death.
pub struct RaftPeer {
    raft: Arc<Raft>,
    stopping: Arc<AtomicBool>,
}

impl Incarnation for RaftPeer {
    const KILL: &'static str = "Raft::kill";

    fn raft(&self) -> &Arc<Raft> {
        &self.raft
    }

    fn kill(&self) {
        self.stopping.store(true, Ordering::Release);
        self.raft.kill();
    }
}

impl RaftTest {
    /// Go's `makeTest(t, n, reliable, snapshot)`: `n` peers, all started and connected, on
    /// a network with long delays; `snapshots` makes the tester ask for a snapshot every
    /// [`SNAPSHOT_INTERVAL`] commands and check what the peers install.
    pub fn new(n: usize, reliable: bool, snapshots: bool) -> Arc<Self> {
        let test = Self::with_slots(n, n, reliable, snapshots);
        test.start_servers();
        test
    }

    /// `slots` servers of which `0..voters` form the cluster at first (part 3E); none
    /// started yet.
    fn with_slots(voters: usize, slots: usize, reliable: bool, snapshots: bool) -> Arc<Self> {
        let n = slots;
        let net = Network::new();
        net.set_reliable(reliable);
        net.set_long_delays(true);
        let rng = Xoshiro256PlusPlus::seed_from_u64(net.seed() ^ 0x7e57_e7ca_11ed_5eed);
        let recorder = Arc::new(Recorder::new(viz::mode() != viz::Mode::Never));
        recorder.record(Event::Network {
            reliable,
            long_reordering: false,
        });
        let test = Arc::new(Self {
            n,
            initial_voters: voters,
            snapshots,
            group: Group::new(n, net),
            applied: Arc::new(Applied::new(n)),
            rng: Mutex::new(rng),
            finished: AtomicBool::new(false),
            reliable_at_start: reliable,
            incarnations: AtomicU64::new(0),
            long_reordering: AtomicBool::new(false),
            recorder: Arc::clone(&recorder),
            name: thread::current().name().unwrap_or("raft-test").to_owned(),
            title: OnceLock::new(),
        });
        test.group.observe(move |event| {
            recorder.record(match event {
                GroupEvent::Started(i) => Event::Started(i),
                GroupEvent::Crashed(i) => Event::Crashed(i),
                GroupEvent::Links(links) => Event::Links(links),
            })
        });
        watch::spawn(Arc::downgrade(&test));
        test
    }

    pub fn servers(&self) -> usize {
        self.n
    }

    /// Whether the tester asks for snapshots (the 3D tests and some 3E ones).
    pub fn snapshots(&self) -> bool {
        self.snapshots
    }

    // ----- failing ------------------------------------------------------------------------

    /// Fails the test with `message` (Go's `Fatalf`).
    #[track_caller]
    pub fn fatal(&self, message: impl Into<String>) -> ! {
        let message = message.into();
        self.recorder.record(Event::Failure(message.clone()));
        panic!("{message}")
    }

    /// Fails the test if a background check has found a problem.
    #[track_caller]
    fn check_background(&self) {
        if let Some(failure) = self.applied.failure() {
            self.fatal(failure);
        }
    }

    fn finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    // ----- the peers ----------------------------------------------------------------------

    /// Peer `i`'s running incarnation, if it is up (Go's `srvs[i].Raft()`), its calls
    /// timed.
    pub fn raft(&self, i: usize) -> Option<TimedRaft> {
        self.group.raft(i)
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

    // ----- the network --------------------------------------------------------------------

    pub fn is_connected(&self, i: usize) -> bool {
        self.group.is_connected(i)
    }

    /// Connects peer `i` to every connected peer, both ways (Go's `ConnectOne`).
    pub fn connect_one(&self, i: usize) {
        self.group.connect_one(i);
    }

    /// Cuts peer `i` off from everyone, both ways (Go's `DisconnectAll`).
    pub fn disconnect_all(&self, i: usize) {
        self.group.disconnect_all(i);
    }

    pub fn connect_all(&self) {
        self.group.connect_all();
    }

    pub fn set_reliable(&self, reliable: bool) {
        self.group.net().set_reliable(reliable);
        self.record_network();
    }

    pub fn is_reliable(&self) -> bool {
        self.group.net().is_reliable()
    }

    pub fn set_long_reordering(&self, on: bool) {
        self.group.net().set_long_reordering(on);
        self.long_reordering.store(on, Ordering::Relaxed);
        self.record_network();
    }

    fn record_network(&self) {
        self.recorder.record(Event::Network {
            reliable: self.is_reliable(),
            long_reordering: self.long_reordering.load(Ordering::Relaxed),
        });
    }

    /// RPCs that reached peer `i`'s current incarnation.
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.group.rpc_count(i)
    }

    pub fn rpc_total(&self) -> u64 {
        self.group.net().total_count()
    }

    pub fn bytes_total(&self) -> u64 {
        self.group.net().total_bytes()
    }

    /// The largest raft state any peer has saved (Go's `LogSize`).
    pub fn log_size(&self) -> usize {
        self.group.log_size()
    }

    // ----- crashes ------------------------------------------------------------------------

    /// Crashes peer `i` (Go's `ShutdownServer`): cut it off, delete it from the network so
    /// that nothing it says arrives, give its successor a copy of its persister (so the
    /// dying incarnation cannot write to it), and kill it.
    pub fn shutdown_server(&self, i: usize) {
        self.group.shutdown_server(i);
    }

    /// Starts a new incarnation of peer `i` from its saved state (Go's `StartServer`). It
    /// stays disconnected until connected.
    pub fn start_server(&self, i: usize) {
        let (snapshots, applied) = (self.snapshots, Arc::clone(&self.applied));
        let calls = Arc::clone(self.group.calls());
        let incarnation = self.incarnations.fetch_add(1, Ordering::Relaxed) + 1;
        // Part 3E: servers of the first configuration know it; the others start outside.
        let initial = (self.initial_voters < self.n).then(|| {
            if i < self.initial_voters {
                (0..self.initial_voters).collect()
            } else {
                std::collections::BTreeSet::new()
            }
        });
        self.group.start_server(i, |ends, persister| {
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
        for i in 0..self.n {
            self.shutdown_server(i);
        }
    }

    /// Starts every peer of the first configuration and connects them all.
    pub fn start_servers(&self) {
        for i in 0..self.initial_voters {
            self.start_server(i);
        }
        self.connect_all();
    }

    // ----- randomness ---------------------------------------------------------------------

    /// A random number from the tester's seeded generator.
    pub fn rand_u64(&self) -> u64 {
        self.rng.lock().random::<u64>() >> 1 // like Go's rand.Int(): non-negative
    }

    /// A random number in `0..n`.
    pub fn rand_below(&self, n: u64) -> u64 {
        self.rng.lock().random_range(0..n)
    }

    /// A random printable string of `len` characters (Go's `Randstring`).
    pub fn rand_string(&self, len: usize) -> String {
        const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        let mut rng = self.rng.lock();
        (0..len)
            .map(|_| ALPHABET[rng.random_range(0..ALPHABET.len())] as char)
            .collect()
    }

    pub fn sleep(&self, d: Duration) {
        thread::sleep(d);
    }

    // ----- checks -------------------------------------------------------------------------

    /// Waits for a leader among the connected peers and returns it (the leader of the
    /// highest term); fails on two leaders in one term, or none after ~5 s.
    #[track_caller]
    pub fn check_one_leader(&self) -> usize {
        let check = self.recorder.check("check_one_leader");
        for _ in 0..10 {
            let ms = 450 + self.rand_below(100);
            self.sleep(Duration::from_millis(ms));
            self.check_background();
            let mut leaders: std::collections::BTreeMap<u64, Vec<usize>> = Default::default();
            for i in 0..self.n {
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
        let check = self.recorder.check("check_terms");
        self.check_background();
        let mut agreed = None;
        for i in 0..self.n {
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
        let check = self.recorder.check("check_no_leader");
        self.check_background();
        for i in 0..self.n {
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
        let check = self.recorder.check(format!("check_no_agreement({index})"));
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
        let check = self.recorder.check(format!("wait({index}, {n})"));
        let mut pause = Duration::from_millis(10);
        for _ in 0..30 {
            if self.n_committed(index).0 >= n {
                break;
            }
            self.wait_committed(index, n, Instant::now() + pause);
            if pause < Duration::from_secs(1) {
                pause *= 2;
            }
            if let Some(start) = start_term {
                for i in 0..self.n {
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
        let check = self.recorder.check(format!("one({cmd})"));
        let bytes = cmd.encode();
        let t0 = Instant::now();
        let mut next = 0;
        while t0.elapsed() < Duration::from_secs(10) && !self.finished() {
            // A background failure (a peer died, two leaders) will fail the test anyway:
            // say so now instead of after ten seconds of trying.
            self.check_background();
            let mut index = None;
            for _ in 0..self.n {
                next = (next + 1) % self.n;
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

    // ----- teardown -----------------------------------------------------------------------

    fn stop_everything(&self) {
        self.finished.store(true, Ordering::Release);
        self.group.kill_all();
        self.group.net().shutdown();
    }

    /// Writes the test's timeline if `RAFTLAB_VIZ` asks for it (by default: if it failed),
    /// and says where.
    fn write_timeline(&self, failure: Option<&str>) {
        match viz::mode() {
            viz::Mode::Never => return,
            viz::Mode::OnFailure if failure.is_none() => return,
            _ => {}
        }
        let seed = harness::Cluster::seed(self);
        let title = match self.title.get() {
            Some(t) => format!("{t} ({} network)", harness::Cluster::network_label(self)),
            None => self.name.clone(),
        };
        let about = viz::About {
            title: &title,
            servers: self.n,
            seed,
            failure,
            end: self.recorder.now(),
        };
        let timeline = viz::timeline(&about, &self.recorder.events());
        let path = viz::path(&self.name, seed);
        match linearizability::visualize::write_html(&path, &timeline) {
            Ok(()) => harness::notice(&format!(
                "info: wrote the test's timeline to {}",
                path.display()
            )),
            Err(e) => harness::notice(&format!(
                "warning: cannot write the test's timeline to {}: {e}",
                path.display()
            )),
        }
    }

    /// The recorder, for the background watcher.
    fn recorder(&self) -> &Recorder {
        &self.recorder
    }
}

impl harness::Cluster for RaftTest {
    fn seed(&self) -> u64 {
        self.group.net().seed()
    }

    fn network_label(&self) -> &'static str {
        if self.reliable_at_start {
            "reliable"
        } else {
            "unreliable"
        }
    }

    fn stats(&self) -> Stats {
        Stats {
            peers: self.n,
            rpcs: self.rpc_total(),
            bytes: self.bytes_total(),
            count_label: "cmds",
            count: self.applied.lock().max_index,
        }
    }

    fn finish(&self) -> Result<(), String> {
        if let Some(zombie) = self.group.check_zombies() {
            self.applied.fail(zombie);
        }
        let failure = self.applied.failure();
        self.stop_everything();
        if let Some(failure) = &failure {
            self.recorder.record(Event::Failure(failure.clone()));
        }
        self.write_timeline(failure.as_deref());
        failure.map_or(Ok(()), Err)
    }

    fn abort(&self, failure: &str) {
        self.stop_everything();
        if self.recorder.last_failure().as_deref() != Some(failure) {
            self.recorder.record(Event::Failure(failure.to_owned()));
        }
        self.write_timeline(Some(failure));
    }

    fn interruption(&self) -> Option<String> {
        self.applied.failure().or_else(|| self.group.interruption())
    }
}

/// Runs a Raft test: `title` as Go's, `servers` peers, reliable or not, with or without
/// the snapshotting applier.
pub fn run(
    title: &str,
    servers: usize,
    reliable: bool,
    snapshots: bool,
    body: impl FnOnce(&RaftTest) + Send + 'static,
) {
    let test = RaftTest::new(servers, reliable, snapshots);
    let _ = test.title.set(title.to_owned());
    harness::run(title, test, body);
}
