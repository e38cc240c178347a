//! A thread pool that grows instead of queueing: every job starts at once, on an idle
//! worker if there is one and on a new thread otherwise. A handler that blocks for
//! seconds therefore never delays another RPC. Workers idle for a while exit.

use labrt::thread;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use labrt::channel::{Receiver, Select, Sender, TryRecvError, unbounded};
use labrt::sync::Mutex;

pub(crate) type Job = Box<dyn FnOnce() + Send>;

/// How long a worker waits for work before it exits.
const IDLE_EXIT: Duration = Duration::from_secs(10);

pub(crate) struct Pool {
    name: String,
    jobs: Sender<Job>,
    queue: Receiver<Job>,
    /// Workers waiting for a job that no submitter has claimed yet. A submitter claims one
    /// (decrements) before sending, so the queue never holds more jobs than there are
    /// waiting workers, and no job waits behind a busy one.
    idle: Arc<AtomicUsize>,
    /// Dropped by [`Pool::stop`]; waiting workers see the disconnect and exit.
    stop: Mutex<Option<Sender<()>>>,
    stopped: Receiver<()>,
}

impl Pool {
    pub fn new(name: &str) -> Self {
        let (jobs, queue) = unbounded();
        let (stop, stopped) = unbounded();
        Self {
            name: name.to_owned(),
            jobs,
            queue,
            idle: Arc::new(AtomicUsize::new(0)),
            stop: Mutex::new(Some(stop)),
            stopped,
        }
    }

    /// Starts `job` now, on a waiting worker or a new one.
    pub fn execute(&self, job: Job) {
        let claimed = self
            .idle
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
            .is_ok();
        if claimed {
            self.jobs.send(job).expect("the pool owns its queue");
        } else {
            self.spawn(job);
        }
    }

    /// Lets waiting workers exit; running jobs finish first. Jobs started later still run.
    pub fn stop(&self) {
        self.stop.lock().take();
    }

    fn spawn(&self, first: Job) {
        let queue = self.queue.clone();
        let stopped = self.stopped.clone();
        let idle = Arc::clone(&self.idle);
        thread::Builder::new()
            .name(format!("{}-worker", self.name))
            .spawn(move || {
                first();
                while let Some(job) = next_job(&queue, &stopped, &idle) {
                    job();
                }
            })
            .expect("labrpc: cannot spawn a handler thread");
    }
}

/// Waits as an idle worker; `None` tells the worker to exit.
fn next_job(queue: &Receiver<Job>, stopped: &Receiver<()>, idle: &AtomicUsize) -> Option<Job> {
    idle.fetch_add(1, Ordering::AcqRel);
    if let Some(job) = crate::spin::poll(|| queue.try_recv().ok()) {
        return Some(job);
    }
    loop {
        let mut select = Select::new();
        let (job, stop) = (select.recv(queue), select.recv(stopped));
        match select.ready_timeout(IDLE_EXIT) {
            Ok(i) if i == job => match queue.try_recv() {
                Ok(job) => return Some(job),
                Err(TryRecvError::Disconnected) => return None,
                Err(TryRecvError::Empty) => {} // another worker took it
            },
            Ok(i) => {
                debug_assert_eq!(i, stop);
                if unclaim(idle) {
                    return None;
                }
                // A submitter claimed this worker already; its job is on the way.
                return queue.recv().ok();
            }
            Err(_) => {
                if unclaim(idle) {
                    return None;
                }
            }
        }
    }
}

/// Withdraws one waiting worker, unless every waiting worker has been claimed.
fn unclaim(idle: &AtomicUsize) -> bool {
    idle.fetch_update(Ordering::AcqRel, Ordering::Acquire, |n| n.checked_sub(1))
        .is_ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use labrt::time::Instant;

    #[test]
    fn a_blocked_job_never_delays_the_next() {
        let pool = Pool::new("test");
        let (tx, rx) = unbounded();
        let (release, blocked) = unbounded::<()>();
        // Fill every worker with a blocking job, then one more must still start at once.
        for _ in 0..8 {
            let blocked = blocked.clone();
            pool.execute(Box::new(move || {
                let _ = blocked.recv();
            }));
        }
        let t0 = Instant::now();
        pool.execute(Box::new(move || tx.send(()).unwrap()));
        rx.recv_timeout(Duration::from_secs(5))
            .expect("job did not run");
        assert!(t0.elapsed() < Duration::from_secs(1));
        drop(release);
    }

    #[test]
    fn idle_workers_are_reused() {
        let pool = Pool::new("test");
        let (tx, rx) = unbounded();
        for _ in 0..100 {
            let tx = tx.clone();
            pool.execute(Box::new(move || tx.send(thread::current().id()).unwrap()));
            rx.recv().unwrap();
            // Let the worker get back to waiting before the next submission.
            while pool.idle.load(Ordering::Acquire) == 0 {
                thread::yield_now();
            }
        }
        let ids: std::collections::HashSet<_> = (0..100)
            .map(|_| {
                let tx = tx.clone();
                pool.execute(Box::new(move || tx.send(thread::current().id()).unwrap()));
                let id = rx.recv().unwrap();
                while pool.idle.load(Ordering::Acquire) == 0 {
                    thread::yield_now();
                }
                id
            })
            .collect();
        assert_eq!(ids.len(), 1, "sequential jobs should share one worker");
    }
}
