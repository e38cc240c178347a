//! Runs jobs on a fixed number of worker threads, handing each result to a callback as
//! soon as it is ready.

use std::collections::VecDeque;
use std::sync::Mutex;
use std::thread;

/// Runs `work` on every job with `workers` threads, in queue order; `done` sees each
/// result (from the worker thread that produced it).
pub fn run<J: Send, R>(
    jobs: Vec<J>,
    workers: usize,
    work: impl Fn(J) -> R + Sync,
    done: impl Fn(R) + Sync,
) {
    let queue = Mutex::new(VecDeque::from(jobs));
    thread::scope(|s| {
        for _ in 0..workers.max(1) {
            s.spawn(|| {
                loop {
                    let job = queue.lock().expect("queue lock").pop_front();
                    let Some(job) = job else { return };
                    done(work(job));
                }
            });
        }
    });
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn every_job_runs_once_on_at_most_the_workers_asked() {
        let running = AtomicUsize::new(0);
        let most = AtomicUsize::new(0);
        let sum = AtomicUsize::new(0);
        super::run(
            (1..=20).collect(),
            3,
            |n: usize| {
                let now = running.fetch_add(1, Ordering::SeqCst) + 1;
                most.fetch_max(now, Ordering::SeqCst);
                std::thread::sleep(std::time::Duration::from_millis(2));
                running.fetch_sub(1, Ordering::SeqCst);
                n
            },
            |n| {
                sum.fetch_add(n, Ordering::SeqCst);
            },
        );
        assert_eq!(sum.into_inner(), 210);
        assert!(most.into_inner() <= 3);
    }
}
