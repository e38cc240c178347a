//! The deadline and cancel flag that every partition's search polls.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Instant;

pub(crate) struct StopSignal {
    stopped: AtomicBool,
    deadline: Option<Instant>,
}

impl StopSignal {
    pub(crate) fn new(deadline: Option<Instant>) -> Self {
        StopSignal {
            stopped: AtomicBool::new(false),
            deadline,
        }
    }

    /// Asks every search to stop (the first illegal partition decides the verdict).
    pub(crate) fn cancel(&self) {
        self.stopped.store(true, Ordering::Relaxed);
    }

    /// True once cancelled or past the deadline.
    pub(crate) fn should_stop(&self) -> bool {
        if self.stopped.load(Ordering::Relaxed) {
            return true;
        }
        if let Some(deadline) = self.deadline
            && Instant::now() >= deadline
        {
            self.cancel();
            return true;
        }
        false
    }
}
