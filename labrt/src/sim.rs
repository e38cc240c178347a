//! Sim mode: [`run`] runs a closure as a simulation on the calling thread.
//!
//! The closure and every thread it spawns through [`crate::thread`] take turns, one at a
//! time, at the scheduling points of this crate (see [`crate`]); a seeded scheduler picks
//! who goes on, and the virtual clock moves only when every thread waits, straight to the
//! earliest deadline. CPU is therefore free in virtual time: a test that sleeps for 30 s
//! takes as long as its threads compute.
//!
//! A simulation fails — [`run`] returns a [`Failure`] naming the threads involved —
//! when every thread is blocked and none has a deadline (a deadlock), when the clock stops
//! moving while threads keep running (a livelock: polling without sleeping), or when a
//! thread runs for 20 s of real time without a scheduling point (blocking outside this
//! crate, or a busy loop), or when the virtual clock stands still for 10 s of real time
//! while threads keep running (a thread that waits outside this crate in a loop, e.g. a
//! `std::thread::sleep` between its checks).
//!
//! The environment variable [`SIM_VAR`] (`RAFTLAB_SIM=1`) is how a test run asks for sim
//! mode; [`TRACE_VAR`] names a file to write every scheduling point to, for comparing two
//! runs.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::time::Duration;

pub use crate::sched::TraceEvent;
use crate::sched::{self, Abort, Ctx, ROOT, Sched};

/// `RAFTLAB_SIM=1` runs the tests in sim mode; `0` or unset, in real mode.
pub const SIM_VAR: &str = "RAFTLAB_SIM";

/// `RAFTLAB_SIM_TRACE=<file>` writes each simulation's scheduling points to the file (one
/// line each: step, virtual time, thread, operation).
pub const TRACE_VAR: &str = "RAFTLAB_SIM_TRACE";

/// Whether [`SIM_VAR`] asks for sim mode.
///
/// # Panics
/// If it is set to anything but `0` or `1`.
pub fn requested() -> bool {
    match std::env::var(SIM_VAR) {
        Err(std::env::VarError::NotPresent) => false,
        Ok(v) if v.trim() == "0" || v.trim().is_empty() => false,
        Ok(v) if v.trim() == "1" => true,
        Ok(v) => panic!("{SIM_VAR} must be 1 (sim mode) or 0 (real mode), got {v:?}"),
        Err(std::env::VarError::NotUnicode(v)) => {
            panic!("{SIM_VAR} must be 1 (sim mode) or 0 (real mode), got {v:?}")
        }
    }
}

/// Whether the calling thread runs in a simulation.
pub fn is_simulated() -> bool {
    sched::current().is_some()
}

/// The seed of the calling thread's simulation, if it runs in one.
pub fn seed() -> Option<u64> {
    sched::current().map(|ctx| ctx.sched.seed)
}

/// The virtual time since the calling thread's simulation began, if it runs in one (not
/// a scheduling point: for log lines).
pub fn elapsed() -> Option<Duration> {
    sched::current().map(|ctx| ctx.sched.elapsed())
}

/// Runs `f`, a computation that takes real time and makes no labrt call (the tester's
/// linearizability check), on a simulated thread without the watchdog holding the time
/// against the thread. Outside a simulation, just runs `f`.
pub fn compute<T>(f: impl FnOnce() -> T) -> T {
    let Some(ctx) = sched::current() else {
        return f();
    };
    struct Done<'a>(&'a std::sync::atomic::AtomicBool);
    impl Drop for Done<'_> {
        fn drop(&mut self) {
            self.0.store(false, std::sync::atomic::Ordering::Release);
        }
    }
    ctx.sched
        .computing
        .store(true, std::sync::atomic::Ordering::Release);
    let _done = Done(&ctx.sched.computing);
    f()
}

/// What a finished simulation did: the same numbers on every run with its seed.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Report {
    pub seed: u64,
    /// Scheduling points passed.
    pub steps: u64,
    /// Virtual time at the end.
    pub virtual_time: Duration,
    /// A hash of every scheduling point: which thread, at what virtual time, in what call.
    pub trace_hash: u64,
    /// Threads it ran, the root included.
    pub threads: usize,
}

impl std::fmt::Display for Report {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "sim: seed {}, {} steps, {} threads, {:.3}s virtual, trace {:016x}",
            self.seed,
            self.steps,
            self.threads,
            self.virtual_time.as_secs_f64(),
            self.trace_hash
        )
    }
}

/// Why a simulation stopped before its closure returned.
#[derive(Clone, Debug)]
pub struct Failure {
    pub message: String,
    pub report: Report,
}

/// Runs `f` as a simulation seeded with `seed` on the calling thread, which must not be
/// simulated already. A panic in `f` propagates (after the simulation is wound up); the
/// simulation's own failures come back as `Err`.
pub fn run<T>(seed: u64, f: impl FnOnce() -> T) -> Result<(T, Report), Failure> {
    run_with(seed, Limits::default(), f)
}

/// The real-time limits of a simulation's watchdog.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// How long a thread may hold its turn without a scheduling point (20 s).
    pub stuck: Duration,
    /// How long the virtual clock may stand still while threads keep running (10 s).
    pub frozen: Duration,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            stuck: crate::watchdog::STUCK_LIMIT,
            frozen: crate::watchdog::FROZEN_LIMIT,
        }
    }
}

/// [`run`], with other watchdog limits.
pub fn run_with<T>(
    seed: u64,
    limits: Limits,
    f: impl FnOnce() -> T,
) -> Result<(T, Report), Failure> {
    assert!(
        !is_simulated(),
        "labrt: sim::run on a thread that is already simulated"
    );
    let trace_file = std::env::var_os(TRACE_VAR);
    let sched = Sched::new(seed, trace_file.is_some(), limits);
    sched::set_current(Some(Ctx {
        sched: std::sync::Arc::clone(&sched),
        tid: ROOT,
    }));
    let outcome = catch_unwind(AssertUnwindSafe(f));
    sched::set_current(None);
    sched.end();
    let (steps, virtual_time, trace_hash, threads) = sched.summary();
    let report = Report {
        seed,
        steps,
        virtual_time,
        trace_hash,
        threads,
    };
    if let (Some(path), Some(trace)) = (trace_file, sched.take_trace()) {
        write_trace(&path, &report, &trace);
    }
    match outcome {
        Ok(value) => match sched.failure() {
            None => Ok((value, report)),
            Some(message) => Err(Failure { message, report }),
        },
        Err(panic) if panic.is::<Abort>() => Err(Failure {
            message: sched
                .failure()
                .unwrap_or_else(|| "the simulation stopped".into()),
            report,
        }),
        Err(panic) => resume_unwind(panic),
    }
}

fn write_trace(path: &std::ffi::OsStr, report: &Report, trace: &[TraceEvent]) {
    use std::io::Write;
    let write = || -> std::io::Result<()> {
        let mut out = std::io::BufWriter::new(std::fs::File::create(path)?);
        writeln!(out, "# {report}")?;
        for e in trace {
            writeln!(out, "{} {} {} {}", e.step, e.at.as_nanos(), e.thread, e.op)?;
        }
        out.flush()
    };
    if let Err(e) = write() {
        eprintln!(
            "labrt: cannot write the trace to {}: {e}",
            path.to_string_lossy()
        );
    }
}
