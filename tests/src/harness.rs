//! Running one test: the body runs on its own thread under a watchdog, the Go result line
//! is printed whatever the outcome, and a failure names the seed that replays it.
//!
//! The result line goes straight to the process's stdout, past libtest's capture, so that
//! `cargo test -- 3B` shows one line per test as Go's `go test` does:
//!
//! ```text
//! Test (3B): basic agreement (reliable network) ... Passed -- 1.2s peers 3 RPCs 16 bytes 4660 cmds 3
//! ```

use std::io::Write;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::{Arc, OnceLock};
use std::thread;
use std::time::{Duration, Instant};

use crossbeam_channel::bounded;

/// Go fails any test that runs longer than this; raftlab's watchdog fails it at this
/// point instead of letting it hang the run.
pub const TEST_TIME_LIMIT: Duration = Duration::from_secs(120);

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
    /// The test failed or hung: tear the cluster down without further checks.
    fn abort(&self);
}

/// How to replay a run: the environment variable that fixes the seed.
pub fn seed_hint(seed: u64) -> String {
    format!(
        "{}={seed} replays this run's network faults and the tester's random choices",
        labrpc::SEED_VAR
    )
}

/// Runs `body` against `cluster` as the test titled `title` (e.g. `"Test (3A): initial
/// election"`), and panics with the reason if it fails.
pub fn run<C: Cluster>(title: &str, cluster: Arc<C>, body: impl FnOnce(&C) + Send + 'static) {
    init_logging();
    let heading = format!("{title} ({} network)", cluster.network_label());
    let started = Instant::now();
    let (done_tx, done_rx) = bounded(1);
    let worker = Arc::clone(&cluster);
    let name = thread::current().name().unwrap_or("test").to_owned();
    let name_of_test = name.clone();
    thread::Builder::new()
        .name(name)
        .spawn(move || {
            let outcome = catch_unwind(AssertUnwindSafe(|| body(&worker)));
            let _ = done_tx.send(outcome.map_err(|p| panic_message(&*p)));
        })
        .expect("cannot spawn the test thread");

    let outcome = match done_rx.recv_timeout(TEST_TIME_LIMIT) {
        Ok(Ok(())) => {
            let stats = cluster.stats();
            cluster.finish().map(|()| stats)
        }
        Ok(Err(message)) => {
            cluster.abort();
            Err(message)
        }
        Err(_) => {
            cluster.abort();
            Err(format!(
                "test took longer than {} seconds",
                TEST_TIME_LIMIT.as_secs()
            ))
        }
    };
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
            panic!("{message}\n{}", seed_hint(cluster.seed()));
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
/// `RUST_LOG=raft=debug` or `RUST_LOG=raft::vote=debug,raft::leader=debug`. Each line is
/// `<ms since start> <TOPIC> S<peer> T<term> <message>`, the format `labtool logs` reads.
pub fn init_logging() {
    static START: OnceLock<Instant> = OnceLock::new();
    let start = *START.get_or_init(Instant::now);
    let env = env_logger::Env::default().filter_or(env_logger::DEFAULT_FILTER_ENV, "off");
    let _ = env_logger::Builder::from_env(env)
        .format(move |buf, record| {
            let ms = start.elapsed().as_millis();
            let target = record.target();
            let topic = target.rsplit("::").next().unwrap_or(target).to_uppercase();
            writeln!(buf, "{ms:>8} {topic:<8} {}", record.args())
        })
        .is_test(true)
        .try_init();
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
