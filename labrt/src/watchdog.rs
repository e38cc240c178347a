//! The real-time watchdog of every simulation in the process. A simulated thread that
//! holds its turn without reaching a scheduling point — a busy loop, a raw `std` sleep,
//! a lock or channel outside this crate that another simulated thread would have to
//! release — stops the whole simulation, since nothing else may run meanwhile. The
//! watchdog notices that the simulation's progress counter has stood still for
//! [`STUCK_LIMIT`] of real time and stops it with a message naming the thread.

use std::sync::{Arc, Weak};
use std::time::{Duration, Instant};

use parking_lot::Mutex;

use crate::sched::Sched;

/// How long a simulated thread may run without a scheduling point. Generous: the
/// tester's own checks (the linearizability checker) run on a simulated thread for up
/// to a few seconds of CPU.
pub const STUCK_LIMIT: Duration = Duration::from_secs(20);

/// How long the virtual clock may stand still, in real time, while threads keep passing
/// scheduling points. In every suite the clock moves every few real milliseconds (each
/// message takes `labrpc::SIM_LATENCY`); a thread that sleeps or waits outside labrt in
/// a loop keeps it still for good.
pub const FROZEN_LIMIT: Duration = Duration::from_secs(10);

const LOOK_EVERY: Duration = Duration::from_millis(100);

struct Watched {
    sched: Weak<Sched>,
    progress: u64,
    since: Instant,
    /// The clock's moves at the last look, and since when (real time) they stand.
    clock_moves: u64,
    clock_since: Instant,
}

static WATCHED: Mutex<Vec<Watched>> = Mutex::new(Vec::new());

/// Watches `sched` until it ends.
pub(crate) fn watch(sched: &Arc<Sched>) {
    let mut watched = WATCHED.lock();
    if watched.is_empty() {
        start_once();
    }
    watched.push(Watched {
        sched: Arc::downgrade(sched),
        progress: u64::MAX,
        since: Instant::now(),
        clock_moves: u64::MAX,
        clock_since: Instant::now(),
    });
}

fn start_once() {
    static STARTED: std::sync::Once = std::sync::Once::new();
    STARTED.call_once(|| {
        std::thread::Builder::new()
            .name("labrt-watchdog".into())
            .spawn(|| {
                loop {
                    std::thread::sleep(LOOK_EVERY);
                    look();
                }
            })
            .expect("labrt: cannot spawn the simulation watchdog");
    });
}

fn look() {
    let (mut stuck, mut frozen) = (Vec::new(), Vec::new());
    WATCHED.lock().retain_mut(|w| {
        let Some(sched) = w.sched.upgrade() else {
            return false;
        };
        if sched.stopped.load(std::sync::atomic::Ordering::Acquire) {
            return false;
        }
        let progress = sched.progress.load(std::sync::atomic::Ordering::Relaxed);
        let clock_moves = sched.clock_moves.load(std::sync::atomic::Ordering::Relaxed);
        if sched.computing.load(std::sync::atomic::Ordering::Acquire) {
            (w.since, w.clock_since) = (Instant::now(), Instant::now());
        }
        if progress != w.progress {
            w.progress = progress;
            w.since = Instant::now();
        } else if w.since.elapsed() >= sched.stuck_limit {
            stuck.push(sched);
            return false;
        }
        if clock_moves != w.clock_moves {
            w.clock_moves = clock_moves;
            w.clock_since = Instant::now();
        } else if w.clock_since.elapsed() >= sched.frozen_limit {
            frozen.push(sched);
            return false;
        }
        true
    });
    for sched in frozen {
        let who = sched.frozen();
        sched.abort(format!(
            "the simulated clock has stood still for {:.1} s of real time while threads kept \
             running, above all {who}: a thread that waits outside labrt (a std sleep in its \
             loop, a std lock or channel) never lets the clock move; wait through labrt",
            sched.frozen_limit.as_secs_f64()
        ));
    }
    for sched in stuck {
        let (thread, op) = sched.running();
        sched.abort(format!(
            "thread '{thread}' has run for {:.1} s of real time without reaching a scheduling \
             point (its last was {op}): in sim mode a thread may block only through labrt \
             (a std/parking_lot lock or channel, a std sleep, or a busy loop stops every \
             other thread of the simulation)",
            sched.stuck_limit.as_secs_f64()
        ));
    }
}
