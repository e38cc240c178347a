//! Time: [`Instant`] is `std::time::Instant` read from the simulation's virtual clock
//! when the calling thread is simulated. Reading the clock is a scheduling point.

use std::ops::{Add, AddAssign, Sub, SubAssign};

pub use std::time::Duration;

use crate::sched;

/// A measurement of a monotonic clock: the real one, or in a simulation the virtual one
/// (the instant the simulation began plus the virtual time since). Same API as
/// `std::time::Instant`.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// Now, on the calling thread's clock.
    pub fn now() -> Instant {
        match sched::current() {
            None => Instant(std::time::Instant::now()),
            Some(ctx) => Instant(ctx.sched.base + ctx.sched.point(ctx.tid, "Instant::now")),
        }
    }

    /// Now, on the calling thread's clock, without a scheduling point: for logs and
    /// records, which must not change the run they describe (a run logged and the same
    /// run unlogged pass the same scheduling points).
    pub fn observe() -> Instant {
        match sched::current() {
            None => Instant(std::time::Instant::now()),
            Some(ctx) => Instant(ctx.sched.base + ctx.sched.elapsed()),
        }
    }

    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(*self)
    }

    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.0.duration_since(earlier.0)
    }

    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_duration_since(earlier.0)
    }

    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d).map(Instant)
    }

    pub fn checked_sub(&self, d: Duration) -> Option<Instant> {
        self.0.checked_sub(d).map(Instant)
    }

    /// The virtual time since the start of the simulation this instant belongs to
    /// (a deadline for the scheduler).
    pub(crate) fn since(&self, base: std::time::Instant) -> Duration {
        self.0.saturating_duration_since(base)
    }
}

impl std::fmt::Debug for Instant {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0 + d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        self.0 += d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant(self.0 - d)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        self.0 -= d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, earlier: Instant) -> Duration {
        self.0 - earlier.0
    }
}

/// A deadline `after` from now, in the form the scheduler takes.
pub(crate) fn deadline_after(ctx: &sched::Ctx, after: Duration) -> Duration {
    ctx.sched.elapsed().saturating_add(after)
}

/// The deadline `at`, in the form the scheduler takes.
pub(crate) fn deadline_at(ctx: &sched::Ctx, at: Instant) -> Duration {
    at.since(ctx.sched.base)
}
