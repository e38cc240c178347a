//! Locks shaped like parking_lot's (no poisoning): [`Mutex`], [`Condvar`], [`RwLock`].
//!
//! Each wraps the parking_lot one. A simulated thread never blocks in parking_lot: it
//! tries the lock and, if another simulated thread holds it, blocks in the scheduler until
//! a guard is dropped. Taking a lock is a scheduling point; releasing one is not.

use std::ops::{Deref, DerefMut};

use crate::sched::{self, Ctx, Wake};
use crate::time::{self, Duration, Instant};
use crate::wait::WaitList;

/// A mutual-exclusion lock (`parking_lot::Mutex`).
#[derive(Default)]
pub struct Mutex<T> {
    inner: parking_lot::Mutex<T>,
    waiters: WaitList,
}

/// Holds a [`Mutex`] until dropped.
#[must_use = "if unused the Mutex will immediately unlock"]
pub struct MutexGuard<'a, T> {
    mutex: &'a Mutex<T>,
    inner: Option<parking_lot::MutexGuard<'a, T>>,
}

impl<T> Mutex<T> {
    pub const fn new(value: T) -> Self {
        Mutex {
            inner: parking_lot::Mutex::new(value),
            waiters: WaitList::new(),
        }
    }

    /// Takes the lock, waiting as long as it takes.
    pub fn lock(&self) -> MutexGuard<'_, T> {
        let inner = match sched::current() {
            None => self.inner.lock(),
            Some(ctx) => {
                ctx.sched.point(ctx.tid, "Mutex::lock");
                self.lock_simulated(&ctx)
            }
        };
        MutexGuard {
            mutex: self,
            inner: Some(inner),
        }
    }

    /// Takes the lock if it is free.
    pub fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
        if let Some(ctx) = sched::current() {
            ctx.sched.point(ctx.tid, "Mutex::try_lock");
        }
        self.inner.try_lock().map(|inner| MutexGuard {
            mutex: self,
            inner: Some(inner),
        })
    }

    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    pub fn get_mut(&mut self) -> &mut T {
        self.inner.get_mut()
    }

    fn lock_simulated(&self, ctx: &Ctx) -> parking_lot::MutexGuard<'_, T> {
        loop {
            if let Some(inner) = self.inner.try_lock() {
                return inner;
            }
            self.waiters.register(ctx);
            ctx.sched.block(ctx.tid, "Mutex::lock (held)", None);
        }
    }
}

impl<T: std::fmt::Debug> std::fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.inner.fmt(f)
    }
}

impl<T> MutexGuard<'_, T> {
    /// Releases the lock for a condition wait.
    fn release(&mut self) {
        self.inner = None;
        self.mutex.waiters.notify_all();
    }

    fn reacquire(&mut self, ctx: &Ctx) {
        self.inner = Some(self.mutex.lock_simulated(ctx));
    }
}

impl<T> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_deref().expect("a guard holds its lock")
    }
}

impl<T> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner.as_deref_mut().expect("a guard holds its lock")
    }
}

impl<T> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        if self.inner.take().is_some() {
            self.mutex.waiters.notify_all();
        }
    }
}

/// A lock for state that is only ever held for a moment, never across a scheduling
/// point (no labrt call while it is held): logs, records, counters. Taking it is not a
/// scheduling point, so code that logs and code that does not pass the same points. In a
/// simulation no other simulated thread can hold it when it is taken (the holder would
/// have had to reach a scheduling point first); threads of other simulations, or outside
/// any, hold it only for that moment.
#[derive(Default)]
pub struct LeafMutex<T>(parking_lot::Mutex<T>);

impl<T> LeafMutex<T> {
    pub const fn new(value: T) -> Self {
        LeafMutex(parking_lot::Mutex::new(value))
    }

    pub fn lock(&self) -> parking_lot::MutexGuard<'_, T> {
        self.0.lock()
    }
}

/// Whether a timed condition wait ended by its timeout.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

/// A condition variable (`parking_lot::Condvar`). Wakeups may be spurious: wait in a loop.
#[derive(Default)]
pub struct Condvar {
    inner: parking_lot::Condvar,
    waiters: WaitList,
}

impl Condvar {
    pub const fn new() -> Self {
        Condvar {
            inner: parking_lot::Condvar::new(),
            waiters: WaitList::new(),
        }
    }

    pub fn wait<T>(&self, guard: &mut MutexGuard<'_, T>) {
        match sched::current() {
            None => self.inner.wait(guard.inner.as_mut().expect("held")),
            Some(ctx) => {
                self.wait_simulated(&ctx, guard, None);
            }
        }
    }

    pub fn wait_until<T>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        deadline: Instant,
    ) -> WaitTimeoutResult {
        match sched::current() {
            None => {
                let timeout = deadline.saturating_duration_since(Instant::now());
                let result = self
                    .inner
                    .wait_for(guard.inner.as_mut().expect("held"), timeout);
                WaitTimeoutResult(result.timed_out())
            }
            Some(ctx) => {
                let at = time::deadline_at(&ctx, deadline);
                WaitTimeoutResult(self.wait_simulated(&ctx, guard, Some(at)) == Wake::TimedOut)
            }
        }
    }

    pub fn wait_for<T>(
        &self,
        guard: &mut MutexGuard<'_, T>,
        timeout: Duration,
    ) -> WaitTimeoutResult {
        match sched::current() {
            None => WaitTimeoutResult(
                self.inner
                    .wait_for(guard.inner.as_mut().expect("held"), timeout)
                    .timed_out(),
            ),
            Some(ctx) => {
                let at = time::deadline_after(&ctx, timeout);
                WaitTimeoutResult(self.wait_simulated(&ctx, guard, Some(at)) == Wake::TimedOut)
            }
        }
    }

    pub fn notify_one(&self) -> bool {
        self.waiters.notify_one() || self.inner.notify_one()
    }

    pub fn notify_all(&self) -> usize {
        self.waiters.notify_all();
        self.inner.notify_all()
    }

    fn wait_simulated<T>(
        &self,
        ctx: &Ctx,
        guard: &mut MutexGuard<'_, T>,
        deadline: Option<Duration>,
    ) -> Wake {
        self.waiters.register(ctx);
        guard.release();
        let wake = ctx.sched.block(ctx.tid, "Condvar::wait", deadline);
        guard.reacquire(ctx);
        wake
    }
}

impl std::fmt::Debug for Condvar {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Condvar")
    }
}

/// A reader-writer lock (`parking_lot::RwLock`).
#[derive(Default)]
pub struct RwLock<T> {
    inner: parking_lot::RwLock<T>,
    waiters: WaitList,
}

pub struct RwLockReadGuard<'a, T> {
    lock: &'a RwLock<T>,
    inner: Option<parking_lot::RwLockReadGuard<'a, T>>,
}

pub struct RwLockWriteGuard<'a, T> {
    lock: &'a RwLock<T>,
    inner: Option<parking_lot::RwLockWriteGuard<'a, T>>,
}

impl<T> RwLock<T> {
    pub const fn new(value: T) -> Self {
        RwLock {
            inner: parking_lot::RwLock::new(value),
            waiters: WaitList::new(),
        }
    }

    pub fn read(&self) -> RwLockReadGuard<'_, T> {
        let inner = match sched::current() {
            None => self.inner.read(),
            Some(ctx) => self.simulated(&ctx, "RwLock::read", || self.inner.try_read()),
        };
        RwLockReadGuard {
            lock: self,
            inner: Some(inner),
        }
    }

    pub fn write(&self) -> RwLockWriteGuard<'_, T> {
        let inner = match sched::current() {
            None => self.inner.write(),
            Some(ctx) => self.simulated(&ctx, "RwLock::write", || self.inner.try_write()),
        };
        RwLockWriteGuard {
            lock: self,
            inner: Some(inner),
        }
    }

    pub fn into_inner(self) -> T {
        self.inner.into_inner()
    }

    fn simulated<G>(&self, ctx: &Ctx, op: &'static str, mut take: impl FnMut() -> Option<G>) -> G {
        ctx.sched.point(ctx.tid, op);
        loop {
            if let Some(guard) = take() {
                return guard;
            }
            self.waiters.register(ctx);
            ctx.sched.block(ctx.tid, op, None);
        }
    }
}

impl<T> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_deref().expect("a guard holds its lock")
    }
}

impl<T> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.inner = None;
        self.lock.waiters.notify_all();
    }
}

impl<T> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        self.inner.as_deref().expect("a guard holds its lock")
    }
}

impl<T> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.inner.as_deref_mut().expect("a guard holds its lock")
    }
}

impl<T> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.inner = None;
        self.lock.waiters.notify_all();
    }
}
