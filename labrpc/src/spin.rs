//! A short, bounded spin before a thread parks. On a virtual machine, parking a thread
//! and waking it again costs tens of microseconds, far more than a null RPC; a caller
//! waiting for a quick reply, or a worker about to get the next request, avoids that by
//! polling for a few microseconds first. A simulated thread does not spin: it would only
//! pass scheduling points while nothing else can change.

use std::hint::spin_loop;
use std::thread::yield_now;
use std::time::{Duration, Instant};

/// How long to poll before giving up and parking.
const BUDGET: Duration = Duration::from_micros(20);

/// Polls `ready` until it yields a value or the budget is spent.
pub(crate) fn poll<T>(mut ready: impl FnMut() -> Option<T>) -> Option<T> {
    if labrt::sim::is_simulated() {
        return None;
    }
    let start = Instant::now();
    for round in 0u32.. {
        if let Some(value) = ready() {
            return Some(value);
        }
        if round % 16 == 15 && start.elapsed() >= BUDGET {
            return None;
        }
        if round < 64 {
            spin_loop();
        } else {
            yield_now(); // let a waiting thread run on a crowded machine
        }
    }
    unreachable!()
}
