//! Running one test: the body runs on its own thread under a watchdog, the Go result line
//! is printed whatever the outcome, and a failure names the seed that replays it.
//!
//! The watchdog does more than time the test. Every 50 ms it asks the cluster whether
//! something must end the test at once ([`Cluster::interruption`]: a call into the code
//! under test that has not returned, a panicking RPC handler, a peer that died) and looks
//! for panics in the code under test on any thread ([`crate::panics`]). Teardown runs
//! under the same watch, so a `kill()` that never returns fails the test instead of
//! hanging the binary: a stuck thread is left behind, never waited for.
//!
//! The result line goes straight to the process's stdout, past libtest's capture, so that
//! `cargo test -- 3B` shows one line per test as Go's `go test` does:
//!
//! ```text
//! Test (3B): basic agreement (reliable network) ... Passed -- 1.2s peers 3 RPCs 16 bytes 4660 cmds 3
//! ```

use labrt::thread;
use labrt::time::{Duration, Instant};
use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, OnceLock};

use labrt::channel::{Receiver, RecvTimeoutError, bounded};

use crate::calls::CALL_LIMIT;
use crate::panics;

/// Go fails any test that runs longer than this; raftlab's watchdog fails it at this
/// point instead of letting it hang the run.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(120);

/// How often the watchdog looks for a reason to end the test at once.
const WATCH_EVERY: Duration = Duration::from_millis(50);

/// How long teardown (killing every server, the last checks) may take. Each call into the
/// code under test has [`CALL_LIMIT`]; this bounds the whole.
const TEARDOWN_LIMIT: Duration = Duration::from_secs(30);

/// A panic in the code under test fails the test this long after it happened, unless the
/// tester reported it first with more context (which server's peer died).
const PANIC_SETTLE: Duration = Duration::from_millis(200);

/// Tests running in this process now (libtest runs several at once).
static RUNNING: AtomicUsize = AtomicUsize::new(0);

/// The figures on a test's result line.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Stats {
    pub peers: usize,
    pub rpcs: u64,
    pub bytes: u64,
    /// What `count` counts: `"cmds"` (entries committed) or `"ops"` (clerk operations).
    pub count_label: &'static str,
    pub count: u64,
}

/// What the harness needs from a test's cluster.
pub trait Cluster: Send + Sync + 'static {
    /// The seed of the network and of the tester's own random choices.
    fn seed(&self) -> u64;
    /// `"reliable"` or `"unreliable"`, as the network is when the test begins.
    fn network_label(&self) -> &'static str;
    fn stats(&self) -> Stats;
    /// The test body returned: stop background checks, report any failure they found,
    /// and tear the cluster down.
    fn finish(&self) -> Result<(), String>;
    /// The test failed (with `failure`) or hung: tear the cluster down without further
    /// checks.
    fn abort(&self, failure: &str);
    /// A failure that must end the test at once, found while it runs or tears down: a
    /// timed call into the code under test that has not returned ([`crate::calls`]), a
    /// panicking RPC handler, a background check that failed.
    fn interruption(&self) -> Option<String> {
        None
    }
}

/// What the watchdog saw.
enum Watched<T> {
    /// The watched thread sent its result.
    Done(T),
    /// Something must end the test at once.
    Interrupted(String),
    /// The time ran out.
    TimedOut,
}

/// Waits for `done` until `deadline`, ending early when the cluster or a panic in the
/// code under test (since `since`) says the test must end.
fn watch<T, C: Cluster>(
    done: &Receiver<T>,
    cluster: &C,
    since: Instant,
    deadline: Instant,
) -> Watched<T> {
    loop {
        let wait = deadline
            .saturating_duration_since(Instant::now())
            .min(WATCH_EVERY);
        match done.recv_timeout(wait) {
            Ok(result) => return Watched::Done(result),
            Err(RecvTimeoutError::Disconnected) => {
                return Watched::Interrupted("the test's thread ended without a result".into());
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if let Some(reason) = cluster
            .interruption()
            .or_else(|| panics::in_code_under_test(since, PANIC_SETTLE).map(attributed))
        {
            return Watched::Interrupted(reason);
        }
        if Instant::now() >= deadline {
            return Watched::TimedOut;
        }
    }
}

/// A panic in the code under test, as this test's failure. With other tests running in
/// the same process it may be theirs: say so, and how to be sure.
fn attributed(panic: String) -> String {
    let running = RUNNING.load(Ordering::Relaxed);
    if running > 1 {
        format!(
            "a thread of the code under test panicked: {panic} ({running} tests were running in \
             this process, so it may have come from another; RUST_TEST_THREADS=1 runs one at a time)"
        )
    } else {
        format!("a thread of the code under test panicked: {panic}")
    }
}

/// Runs the cluster's `finish` on a thread of its own and watches it like the test: a
/// teardown that hangs in the code under test is reported, and left behind.
fn finish<C: Cluster>(cluster: &Arc<C>, since: Instant) -> Result<(), String> {
    let worker = Arc::clone(cluster);
    let finished = on_thread("teardown", move || worker.finish());
    match watch(
        &finished,
        &**cluster,
        since,
        Instant::now() + TEARDOWN_LIMIT,
    ) {
        Watched::Done(result) => result,
        Watched::Interrupted(reason) => Err(reason),
        Watched::TimedOut => Err(format!(
            "tearing the test down took longer than {} s",
            TEARDOWN_LIMIT.as_secs()
        )),
    }
}

/// Runs `f` on a new thread named `name`; its result arrives on the receiver (never, if
/// `f` hangs: the thread is then left behind).
fn on_thread<T: Send + 'static>(name: &str, f: impl FnOnce() -> T + Send + 'static) -> Receiver<T> {
    let (tx, rx) = bounded(1);
    thread::Builder::new()
        .name(name.to_owned())
        .spawn(move || {
            let _ = tx.send(f());
        })
        .unwrap_or_else(|e| panic!("cannot spawn the thread '{name}': {e}"));
    rx
}

/// How many tests are running in this process now.
pub(crate) fn tests_running() -> usize {
    RUNNING.load(Ordering::Relaxed)
}

/// Counts a running test for as long as it lives.
struct Running;

impl Running {
    fn enter() -> Self {
        RUNNING.fetch_add(1, Ordering::Relaxed);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        RUNNING.fetch_sub(1, Ordering::Relaxed);
    }
}

/// How to replay a run (see [`crate::sim::replay_hint`]).
pub fn seed_hint(seed: u64) -> String {
    crate::sim::replay_hint(seed)
}

/// Runs `body` against `cluster` as the test titled `title` (e.g. `"Test (3A): initial
/// election"`), and panics with the reason if it fails.
pub fn run<C: Cluster>(title: &str, cluster: Arc<C>, body: impl FnOnce(&C) + Send + 'static) {
    init_logging();
    panics::install();
    let running = Running::enter();
    let heading = format!("{title} ({} network)", cluster.network_label());
    let started = Instant::now();
    let worker = Arc::clone(&cluster);
    let name_of_test = thread::current().name().unwrap_or("test").to_owned();
    let done_rx = on_thread(&name_of_test, move || {
        catch_unwind(AssertUnwindSafe(|| body(&worker))).map_err(|p| panic_message(&*p))
    });

    let failure = match watch(&done_rx, &*cluster, started, started + TEST_TIME_LIMIT) {
        // A failure found since the watch last looked (e.g. a handler that panicked as the
        // body returned) still fails the test.
        Watched::Done(Ok(())) => cluster.interruption(),
        Watched::Done(Err(message)) | Watched::Interrupted(message) => Some(message),
        Watched::TimedOut => Some(format!(
            "test took longer than {} seconds",
            TEST_TIME_LIMIT.as_secs()
        )),
    };
    let outcome = match failure {
        None => {
            let stats = cluster.stats();
            finish(&cluster, started).map(|()| stats)
        }
        Some(message) => {
            // The verdict is made: wait a while for the teardown (so the timeline gets
            // written), but one stuck in the code under test changes nothing.
            let (worker, reason) = (Arc::clone(&cluster), message.clone());
            let aborted = on_thread("teardown", move || worker.abort(&reason));
            let _ = aborted.recv_timeout(CALL_LIMIT + Duration::from_secs(2));
            Err(message)
        }
    };
    drop(running);
    let secs = started.elapsed().as_secs_f64();
    let outcome = outcome.and_then(|stats| {
        if started.elapsed() > TEST_TIME_LIMIT {
            Err(format!(
                "test took longer than {} seconds",
                TEST_TIME_LIMIT.as_secs()
            ))
        } else {
            Ok(stats)
        }
    });
    record_verdict(&name_of_test, &heading, cluster.seed(), secs, &outcome);
    match outcome {
        Ok(s) => notice(&format!(
            "{heading} ... Passed -- {secs:.1}s peers {} RPCs {} bytes {} {} {}",
            s.peers, s.rpcs, s.bytes, s.count_label, s.count
        )),
        Err(message) => {
            let first_line = message.lines().next().unwrap_or_default();
            notice(&format!("{heading} ... FAILED -- {secs:.1}s: {first_line}"));
            panic!(
                "{}\n{}",
                crate::hints::with_hint(&message),
                seed_hint(cluster.seed())
            );
        }
    }
}

/// The environment variables through which a grader asks for verdicts: a file to append
/// them to, and a nonce that marks them as this run's.
pub const VERDICT_FILE_VAR: &str = "RAFTLAB_VERDICT_FILE";
pub const VERDICT_NONCE_VAR: &str = "RAFTLAB_VERDICT_NONCE";

/// Appends this test's verdict to `RAFTLAB_VERDICT_FILE`, if a grader set it: one JSON line
/// written after the test has finished and been checked. A test whose process exits early
/// (a submission calling `exit(0)`, say) or hangs never writes one, and text the code under
/// test prints cannot pass for one: the grader counts only verdict lines with its nonce.
fn record_verdict(test: &str, title: &str, seed: u64, secs: f64, outcome: &Result<Stats, String>) {
    let Ok(path) = std::env::var(VERDICT_FILE_VAR) else {
        return;
    };
    let nonce = std::env::var(VERDICT_NONCE_VAR).unwrap_or_default();
    let (passed, stats, message) = match outcome {
        Ok(s) => (true, Some(s), None),
        Err(m) => (false, None, Some(m.as_str())),
    };
    let line = serde_json::json!({
        "nonce": nonce,
        "test": test,
        "title": title,
        "passed": passed,
        "secs": secs,
        "seed": seed,
        "peers": stats.map(|s| s.peers),
        "rpcs": stats.map(|s| s.rpcs),
        "bytes": stats.map(|s| s.bytes),
        "count_label": stats.map(|s| s.count_label),
        "count": stats.map(|s| s.count),
        "message": message,
    });
    let appended = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(&path)
        .and_then(|mut f| f.write_all(format!("{line}\n").as_bytes()));
    if let Err(e) = appended {
        notice(&format!(
            "warning: cannot write the verdict of {test} to {path}: {e}"
        ));
    }
}

/// Writes a line to the real stdout, past the test's captured output, so that it shows
/// whatever the outcome (result lines, warnings, where a visualization went).
pub fn notice(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        (*s).to_owned()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "the test panicked with a payload that is not a string".to_owned()
    }
}

/// Starts logging once per process: off unless `RUST_LOG` selects something, e.g.
/// `RUST_LOG=raft=debug` or `RUST_LOG=raft::vote=debug,raft::leader=debug`, and
/// `tests=info` for the tester's own actions. Each line is
/// `<ms since start> <TOPIC> S<peer> T<term> <message>` (the tester's: `<ms> TESTER
/// <message>`), the format `labtool logs` reads. Events logged under the target
/// `timeline` go to the running Raft tests' timelines whatever `RUST_LOG` says
/// ([`crate::trace`]).
pub fn init_logging() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(crate::trace::install_logger);
}

/// Joins a thread the test started, failing the test with that thread's own panic message
/// if it panicked.
pub fn join<T>(handle: thread::ScopedJoinHandle<'_, T>) -> T {
    handle
        .join()
        .unwrap_or_else(|panic| std::panic::resume_unwind(panic))
}

/// Waits up to `limit` for `flag` to be set, polling every 5 ms; whether it was.
pub fn set_within(flag: &std::sync::atomic::AtomicBool, limit: Duration) -> bool {
    let t0 = Instant::now();
    while t0.elapsed() < limit {
        if flag.load(std::sync::atomic::Ordering::Acquire) {
            return true;
        }
        thread::sleep(Duration::from_millis(5));
    }
    flag.load(std::sync::atomic::Ordering::Acquire)
}
