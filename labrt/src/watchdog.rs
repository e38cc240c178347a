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

const LOOK_EVERY: Duration = Duration::from_millis(500);

struct Watched {
    sched: Weak<Sched>,
    progress: u64,
    since: Instant,
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
    let mut stuck = Vec::new();
    WATCHED.lock().retain_mut(|w| {
        let Some(sched) = w.sched.upgrade() else {
            return false;
        };
        if sched.stopped.load(std::sync::atomic::Ordering::Acquire) {
            return false;
        }
        let progress = sched.progress.load(std::sync::atomic::Ordering::Relaxed);
        if progress != w.progress {
            w.progress = progress;
            w.since = Instant::now();
        } else if w.since.elapsed() >= STUCK_LIMIT {
            stuck.push(sched);
            return false;
        }
        true
    });
    for sched in stuck {
        let (thread, op) = sched.running();
        sched.abort(format!(
            "thread '{thread}' has run for {} s of real time without reaching a scheduling \
             point (its last was {op}): in sim mode a thread may block only through labrt \
             (a std/parking_lot lock or channel, a std sleep, or a busy loop stops every \
             other thread of the simulation)",
            STUCK_LIMIT.as_secs()
        ));
    }
}
