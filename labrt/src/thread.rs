//! Threads shaped like `std::thread`: [`spawn`], [`Builder`], [`scope`], [`sleep`],
//! [`yield_now`]. A thread spawned from a simulated thread joins its simulation: it is a
//! real OS thread (with its name), but runs only when the scheduler gives it the turn.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::sync::Arc;

pub use std::thread::{Result, Thread, ThreadId, current, panicking};

use crate::sched::{self, Ctx, Sched};
use crate::time::{self, Duration};

/// Spawns an unnamed thread.
pub fn spawn<F, T>(f: F) -> JoinHandle<T>
where
    F: FnOnce() -> T + Send + 'static,
    T: Send + 'static,
{
    Builder::new()
        .spawn(f)
        .expect("labrt: cannot spawn a thread")
}

/// Thread options (`std::thread::Builder`): a name.
#[derive(Debug, Default)]
pub struct Builder {
    name: Option<String>,
}

impl Builder {
    pub fn new() -> Self {
        Builder::default()
    }

    pub fn name(self, name: String) -> Self {
        Builder { name: Some(name) }
    }

    pub fn spawn<F, T>(self, f: F) -> std::io::Result<JoinHandle<T>>
    where
        F: FnOnce() -> T + Send + 'static,
        T: Send + 'static,
    {
        let mut builder = std::thread::Builder::new();
        if let Some(name) = &self.name {
            builder = builder.name(name.clone());
        }
        let Some(parent) = sched::current() else {
            return Ok(JoinHandle {
                inner: builder.spawn(f)?,
                sim: None,
            });
        };
        let child = register(&parent, self.name);
        let ctx = child.clone();
        let inner = builder.spawn(move || run_simulated(ctx, f))?;
        child.sched.started(child.tid, inner.thread().clone());
        parent.sched.point(parent.tid, "thread::spawn");
        Ok(JoinHandle {
            inner,
            sim: Some(child),
        })
    }
}

fn register(parent: &Ctx, name: Option<String>) -> Ctx {
    let tid = parent
        .sched
        .spawn(name.unwrap_or_else(|| "<unnamed>".to_owned()));
    Ctx {
        sched: Arc::clone(&parent.sched),
        tid,
    }
}

/// The body of a simulated thread: wait for the first turn, run, and pass the turn on for
/// good when done (also when `f` panics).
fn run_simulated<T>(ctx: Ctx, f: impl FnOnce() -> T) -> T {
    struct Finish(Arc<Sched>, usize);
    impl Drop for Finish {
        fn drop(&mut self) {
            sched::set_current(None);
            self.0.finish(self.1);
        }
    }
    sched::set_current(Some(ctx.clone()));
    ctx.sched.first_turn(ctx.tid);
    let _finish = Finish(Arc::clone(&ctx.sched), ctx.tid);
    f()
}

/// Owns a spawned thread (`std::thread::JoinHandle`).
pub struct JoinHandle<T> {
    inner: std::thread::JoinHandle<T>,
    sim: Option<Ctx>,
}

impl<T> JoinHandle<T> {
    /// Waits for the thread to end; its panic, if it panicked.
    pub fn join(self) -> Result<T> {
        wait_for_end(self.sim.as_ref());
        self.inner.join()
    }

    pub fn thread(&self) -> &Thread {
        self.inner.thread()
    }

    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}

/// On a simulated thread, blocks in the scheduler until `child` has finished, so that the
/// OS-level join that follows returns at once.
fn wait_for_end(child: Option<&Ctx>) {
    if let (Some(child), Some(me)) = (child, sched::current()) {
        me.sched.join(me.tid, child.tid);
    }
}

/// Sleeps for `d` (of virtual time, in a simulation).
pub fn sleep(d: Duration) {
    match sched::current() {
        None => std::thread::sleep(d),
        Some(ctx) => {
            let at = time::deadline_after(&ctx, d);
            ctx.sched.block(ctx.tid, "thread::sleep", Some(at));
        }
    }
}

/// Offers the turn to another thread.
pub fn yield_now() {
    match sched::current() {
        None => std::thread::yield_now(),
        Some(ctx) => {
            ctx.sched.point(ctx.tid, "thread::yield_now");
        }
    }
}

/// Scoped threads (`std::thread::scope`): threads that may borrow from the caller, all
/// joined before this returns. Unlike std's, a scoped thread cannot spawn into the scope
/// itself (the scope is lent to the closure only).
pub fn scope<'env, F, T>(f: F) -> T
where
    F: for<'scope> FnOnce(&Scope<'scope, 'env>) -> T,
{
    std::thread::scope(|inner| {
        let scope = Scope {
            inner,
            children: parking_lot::Mutex::new(Vec::new()),
        };
        let result = catch_unwind(AssertUnwindSafe(|| f(&scope)));
        // std joins the scope's threads when this closure returns, blocking the OS
        // thread: a simulated thread must first wait in the scheduler until they are done.
        for child in scope.children.lock().drain(..) {
            wait_for_end(Some(&child));
        }
        result.unwrap_or_else(|panic| resume_unwind(panic))
    })
}

/// The scope of [`scope`]'s threads.
pub struct Scope<'scope, 'env: 'scope> {
    inner: &'scope std::thread::Scope<'scope, 'env>,
    children: parking_lot::Mutex<Vec<Ctx>>,
}

impl<'scope> Scope<'scope, '_> {
    /// Spawns an unnamed scoped thread.
    pub fn spawn<F, T>(&self, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        self.spawn_named(None, f)
    }

    /// Spawns a scoped thread named `name`.
    pub fn spawn_named<F, T>(&self, name: Option<String>, f: F) -> ScopedJoinHandle<'scope, T>
    where
        F: FnOnce() -> T + Send + 'scope,
        T: Send + 'scope,
    {
        let mut builder = std::thread::Builder::new();
        if let Some(name) = &name {
            builder = builder.name(name.clone());
        }
        let Some(parent) = sched::current() else {
            return ScopedJoinHandle {
                inner: builder
                    .spawn_scoped(self.inner, f)
                    .expect("labrt: cannot spawn a thread"),
                sim: None,
            };
        };
        let child = register(&parent, name);
        let ctx = child.clone();
        let inner = builder
            .spawn_scoped(self.inner, move || run_simulated(ctx, f))
            .expect("labrt: cannot spawn a thread");
        child.sched.started(child.tid, inner.thread().clone());
        self.children.lock().push(child.clone());
        parent.sched.point(parent.tid, "thread::scope spawn");
        ScopedJoinHandle {
            inner,
            sim: Some(child),
        }
    }
}

/// Owns a scoped thread.
pub struct ScopedJoinHandle<'scope, T> {
    inner: std::thread::ScopedJoinHandle<'scope, T>,
    sim: Option<Ctx>,
}

impl<T> ScopedJoinHandle<'_, T> {
    pub fn join(self) -> Result<T> {
        wait_for_end(self.sim.as_ref());
        self.inner.join()
    }

    pub fn is_finished(&self) -> bool {
        self.inner.is_finished()
    }
}
