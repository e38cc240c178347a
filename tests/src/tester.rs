//! The core every tester shares (Go's `tester1.Config` with its server group): the group
//! of servers on one network, the verbs the tests use on it (connect, partition, crash,
//! network settings), the slot where background checks put the first failure, the
//! tester's seeded random choices, the timeline of what happened, Go's doubling wait,
//! and the teardown the harness asks for.
//!
//! A tester (Raft, rsm, KV) holds a [`Tester`], derefs to it, and adds what runs on a
//! server and its own checks ([`Testing`]); the harness then runs any of them alike.

use labrt::thread;
use std::ops::Deref;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use labrpc::Network;
use labrt::sync::Mutex;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use crate::group::{Group, GroupEvent, Incarnation};
use crate::harness::{self, Cluster, Stats};
use crate::hints;
use crate::record::{Event, Recorder};
use crate::viz;

/// The first failure a check found off the test's thread (an applier, the watcher, a
/// state machine); the test fails with it at its next check, or when the harness looks.
#[derive(Debug, Default)]
pub struct FailureSlot(Mutex<Option<String>>);

impl FailureSlot {
    /// Records `message` unless a failure is recorded already.
    pub fn fail(&self, message: impl Into<String>) {
        self.0.lock().get_or_insert_with(|| message.into());
    }

    pub fn get(&self) -> Option<String> {
        self.0.lock().clone()
    }
}

/// Go's waiting schedule (`wait`, `checkCounter`): 30 pauses starting at 10 ms and
/// doubling until they pass a second.
pub fn go_pauses() -> impl Iterator<Item = Duration> {
    std::iter::successors(Some(Duration::from_millis(10)), |&pause| {
        Some(if pause < Duration::from_secs(1) {
            pause * 2
        } else {
            pause
        })
    })
    .take(30)
}

/// The core of a tester; see the module's documentation.
pub struct Tester<P> {
    group: Group<P>,
    failure: Arc<FailureSlot>,
    rng: Mutex<Xoshiro256PlusPlus>,
    reliable_at_start: bool,
    long_reordering: AtomicBool,
    finished: AtomicBool,
    /// Operations the test made, for the result line of the testers that count them.
    ops: AtomicU64,
    recorder: Arc<Recorder>,
    /// The test's name (its thread's) and title, for the timeline.
    name: String,
    title: OnceLock<String>,
}

impl<P: Incarnation> Tester<P> {
    /// `n` servers, none started, on a new network, reliable or not; `salt` makes this
    /// tester's random choices differ from another's on the same seed.
    pub fn new(n: usize, reliable: bool, salt: u64) -> Self {
        let net = Network::new();
        net.set_reliable(reliable);
        let rng = Xoshiro256PlusPlus::seed_from_u64(net.seed() ^ salt);
        let recorder = Arc::new(Recorder::new(viz::mode() != viz::Mode::Never));
        recorder.record(Event::Network {
            reliable,
            long_reordering: false,
        });
        let group = Group::new(n, net);
        let observed = Arc::clone(&recorder);
        group.observe(move |event| {
            observed.record(match event {
                GroupEvent::Started(i) => Event::Started(i),
                GroupEvent::Crashed(i) => Event::Crashed(i),
                GroupEvent::Links(links) => Event::Links(links),
            })
        });
        Self {
            group,
            failure: Arc::default(),
            rng: Mutex::new(rng),
            reliable_at_start: reliable,
            long_reordering: AtomicBool::new(false),
            finished: AtomicBool::new(false),
            ops: AtomicU64::new(0),
            recorder,
            name: thread::current().name().unwrap_or("test").to_owned(),
            title: OnceLock::new(),
        }
    }

    pub fn group(&self) -> &Group<P> {
        &self.group
    }

    pub fn servers(&self) -> usize {
        self.group.len()
    }

    // ----- failing ------------------------------------------------------------------------

    /// Fails the test with `message` (Go's `Fatalf`).
    #[track_caller]
    pub fn fatal(&self, message: impl Into<String>) -> ! {
        let message = message.into();
        self.recorder
            .record(Event::Failure(hints::with_hint(&message)));
        panic!("{message}")
    }

    /// Where background checks put the first failure they find.
    pub fn failure_slot(&self) -> &Arc<FailureSlot> {
        &self.failure
    }

    /// Fails the test if a background check has found a problem, or a killed
    /// incarnation still sends RPCs.
    #[track_caller]
    pub fn check_background(&self) {
        if let Some(zombie) = self.group.check_zombies() {
            self.failure.fail(zombie);
        }
        if let Some(failure) = self.failure.get() {
            self.fatal(failure);
        }
    }

    /// Whether the test is over (background threads stop).
    pub fn finished(&self) -> bool {
        self.finished.load(Ordering::Acquire)
    }

    // ----- the servers --------------------------------------------------------------------

    /// The first running server that believes it leads (Go's `Leader`), if any.
    pub fn find_leader(&self) -> Option<usize> {
        self.group.leader()
    }

    /// Crashes server `i` (Go's `ShutdownServer`): cut it off, delete it from the network
    /// so that nothing it says arrives, give its successor a copy of its persister (so the
    /// dying incarnation cannot write to it), and kill it.
    pub fn shutdown_server(&self, i: usize) {
        self.group.shutdown_server(i);
    }

    pub fn is_connected(&self, i: usize) -> bool {
        self.group.is_connected(i)
    }

    /// Connects server `i` to every connected server, both ways (Go's `ConnectOne`).
    pub fn connect_one(&self, i: usize) {
        self.group.connect_one(i);
    }

    /// Cuts server `i` off from everyone, both ways (Go's `DisconnectAll`).
    pub fn disconnect_all(&self, i: usize) {
        self.group.disconnect_all(i);
    }

    pub fn connect_all(&self) {
        self.group.connect_all();
    }

    /// Splits the servers: each side talks only to itself (Go's `Partition`).
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        self.group.partition(p1, p2);
    }

    /// A majority without server `l` and a minority with it (Go's `MakePartition`).
    pub fn make_partition(&self, l: usize) -> (Vec<usize>, Vec<usize>) {
        self.group.make_partition(l)
    }

    /// Enables or disables one direction only: server `from`'s end to server `to` (its
    /// requests to `to`, and their replies).
    pub fn set_link(&self, from: usize, to: usize, on: bool) {
        self.group.set_link(from, to, on);
    }

    /// Server `i`'s current persister.
    pub fn persister(&self, i: usize) -> Arc<persister::Persister> {
        self.group.persister(i)
    }

    /// The largest raft state any server has saved (Go's `LogSize`).
    pub fn log_size(&self) -> usize {
        self.group.log_size()
    }

    /// The largest snapshot any server has saved (Go's `SnapshotSize`).
    pub fn snapshot_size(&self) -> usize {
        self.group.snapshot_size()
    }

    // ----- the network --------------------------------------------------------------------

    pub fn net(&self) -> &Network {
        self.group.net()
    }

    pub fn set_reliable(&self, reliable: bool) {
        self.net().set_reliable(reliable);
        self.record_network();
    }

    pub fn is_reliable(&self) -> bool {
        self.net().is_reliable()
    }

    pub fn set_long_reordering(&self, on: bool) {
        self.net().set_long_reordering(on);
        self.long_reordering.store(on, Ordering::Relaxed);
        self.record_network();
    }

    fn record_network(&self) {
        self.recorder.record(Event::Network {
            reliable: self.is_reliable(),
            long_reordering: self.long_reordering.load(Ordering::Relaxed),
        });
    }

    /// RPCs that reached server `i`'s current incarnation.
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.group.rpc_count(i)
    }

    pub fn rpc_total(&self) -> u64 {
        self.net().total_count()
    }

    pub fn bytes_total(&self) -> u64 {
        self.net().total_bytes()
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

    // ----- what happened ------------------------------------------------------------------

    /// Counts one operation for the result line.
    pub fn count_op(&self) {
        self.ops.fetch_add(1, Ordering::Relaxed);
    }

    pub fn ops(&self) -> u64 {
        self.ops.load(Ordering::Relaxed)
    }

    /// The timeline's recorder.
    pub fn recorder(&self) -> &Recorder {
        &self.recorder
    }

    /// Names the test on its timeline and in the harness.
    pub(crate) fn set_title(&self, title: &str) {
        let _ = self.title.set(title.to_owned());
    }

    fn network_label(&self) -> &'static str {
        if self.reliable_at_start {
            "reliable"
        } else {
            "unreliable"
        }
    }

    // ----- teardown -----------------------------------------------------------------------

    fn stop_everything(&self) {
        self.finished.store(true, Ordering::Release);
        self.group.kill_all();
        self.net().shutdown();
    }

    /// The body returned: the last background checks, then the teardown.
    fn finish(&self) -> Result<(), String> {
        if let Some(zombie) = self.group.check_zombies() {
            self.failure.fail(zombie);
        }
        let failure = self.failure.get();
        self.stop_everything();
        if let Some(failure) = &failure {
            self.recorder
                .record(Event::Failure(hints::with_hint(failure)));
        }
        self.write_timeline(failure.as_deref().map(hints::with_hint).as_deref());
        failure.map_or(Ok(()), Err)
    }

    fn abort(&self, failure: &str) {
        self.stop_everything();
        let failure = hints::with_hint(failure);
        if self.recorder.last_failure().as_deref() != Some(&*failure) {
            self.recorder.record(Event::Failure(failure.clone()));
        }
        self.write_timeline(Some(&failure));
    }

    fn interruption(&self) -> Option<String> {
        self.failure.get().or_else(|| self.group.interruption())
    }

    /// Writes the test's timeline if `RAFTLAB_VIZ` asks for it (by default: if it failed),
    /// and says where.
    fn write_timeline(&self, failure: Option<&str>) {
        match viz::mode() {
            viz::Mode::Never => return,
            viz::Mode::OnFailure if failure.is_none() => return,
            _ => {}
        }
        let seed = self.net().seed();
        let title = match self.title.get() {
            Some(t) => format!("{t} ({} network)", self.network_label()),
            None => self.name.clone(),
        };
        let about = viz::About {
            title: &title,
            servers: self.servers(),
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
}

/// Makes a tester struct deref to its core, held in a field named `tester`:
/// `derefs_to_core!(RaftTest => RaftPeer);`.
macro_rules! derefs_to_core {
    ($test:ty => $peer:ty) => {
        impl std::ops::Deref for $test {
            type Target = $crate::tester::Tester<$peer>;

            fn deref(&self) -> &Self::Target {
                &self.tester
            }
        }
    };
}
pub(crate) use derefs_to_core;

/// A tester: the core it holds, and what its result line counts.
pub trait Testing: Deref<Target = Tester<Self::Peer>> + Send + Sync + 'static {
    /// What runs on one of its servers.
    type Peer: Incarnation;

    /// What the result line counts after the figures of the network: `("ops", n)` for
    /// clerk or rsm operations (the default), `("cmds", n)` for committed entries.
    fn counted(&self) -> (&'static str, u64) {
        ("ops", self.ops())
    }
}

impl<T: Testing> Cluster for T {
    fn seed(&self) -> u64 {
        self.net().seed()
    }

    fn network_label(&self) -> &'static str {
        Tester::network_label(self)
    }

    fn stats(&self) -> Stats {
        let (count_label, count) = self.counted();
        Stats {
            peers: self.servers(),
            rpcs: self.rpc_total(),
            bytes: self.bytes_total(),
            count_label,
            count,
        }
    }

    fn finish(&self) -> Result<(), String> {
        Tester::finish(self)
    }

    fn abort(&self, failure: &str) {
        Tester::abort(self, failure);
    }

    fn interruption(&self) -> Option<String> {
        Tester::interruption(self)
    }
}

/// Builds the cluster and runs `body` against it as the test titled `title` (see
/// [`harness::run`]): in real mode, or as one simulation when `RAFTLAB_SIM=1` (see
/// [`crate::sim`]).
pub fn run<T: Testing>(
    title: &str,
    build: impl FnOnce() -> Arc<T>,
    body: impl FnOnce(&T) + Send + 'static,
) {
    crate::sim::run_in_mode(|| {
        let test = build();
        test.set_title(title);
        harness::run(title, test, body);
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_pauses_double_from_10_ms_past_a_second_thirty_times() {
        let pauses: Vec<u64> = go_pauses().map(|d| d.as_millis() as u64).collect();
        assert_eq!(pauses.len(), 30);
        assert_eq!(&pauses[..9], &[10, 20, 40, 80, 160, 320, 640, 1280, 1280]);
        assert!(pauses[9..].iter().all(|&p| p == 1280));
    }

    #[test]
    fn the_first_failure_stays() {
        let slot = FailureSlot::default();
        assert_eq!(slot.get(), None);
        slot.fail("first");
        slot.fail("second");
        assert_eq!(slot.get().as_deref(), Some("first"));
    }
}
