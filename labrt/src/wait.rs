//! The simulated threads waiting for one thing (a lock, a condition, a channel): each
//! blocks in its simulation's scheduler, registered here with the generation it waits in,
//! and whoever changes the thing notifies the list. Outside a simulation the list stays
//! empty and costs one atomic load per notification.

use std::sync::atomic::{AtomicUsize, Ordering};

use parking_lot::Mutex;

use crate::sched::Ctx;

pub(crate) struct WaitList {
    waiters: Mutex<Vec<(Ctx, u64)>>,
    count: AtomicUsize,
}

impl WaitList {
    pub const fn new() -> Self {
        WaitList {
            waiters: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
        }
    }

    /// Registers the calling thread for its next wait (call [`crate::sched::Sched::block`]
    /// right after, with no scheduling point between).
    pub fn register(&self, ctx: &Ctx) {
        let generation = ctx.sched.generation(ctx.tid);
        let mut waiters = self.waiters.lock();
        // A thread waits in one place at a time: an entry it left here earlier is stale.
        waiters
            .retain(|(c, _)| !(c.tid == ctx.tid && std::sync::Arc::ptr_eq(&c.sched, &ctx.sched)));
        waiters.push((ctx.clone(), generation));
        self.count.store(waiters.len(), Ordering::Release);
    }

    /// Wakes every waiter (each looks again).
    pub fn notify_all(&self) {
        if self.count.load(Ordering::Acquire) == 0 {
            return;
        }
        let waiters = {
            let mut waiters = self.waiters.lock();
            self.count.store(0, Ordering::Release);
            std::mem::take(&mut *waiters)
        };
        for (ctx, generation) in waiters {
            ctx.sched.wake(ctx.tid, generation);
        }
    }

    /// Wakes the longest-waiting thread that still waits; whether there was one.
    pub fn notify_one(&self) -> bool {
        if self.count.load(Ordering::Acquire) == 0 {
            return false;
        }
        let mut waiters = self.waiters.lock();
        while !waiters.is_empty() {
            let (ctx, generation) = waiters.remove(0);
            self.count.store(waiters.len(), Ordering::Release);
            if ctx.sched.wake(ctx.tid, generation) {
                return true;
            }
        }
        false
    }
}

impl Default for WaitList {
    fn default() -> Self {
        WaitList::new()
    }
}
