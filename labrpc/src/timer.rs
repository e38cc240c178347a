//! One thread per network that runs short jobs at given instants: delayed requests,
//! held-back replies, and the late failures of calls on dead links. Jobs must be quick
//! (hand work to the pool, complete a call); they run one after another on this thread.

use labrt::thread;
use labrt::time::Instant;
use std::cmp::Reverse;
use std::collections::BinaryHeap;

use labrt::channel::{Receiver, RecvTimeoutError, Sender, unbounded};

pub(crate) type Job = Box<dyn FnOnce() + Send>;

enum Command {
    Run(Instant, Job),
    Stop,
}

/// A handle on the timer thread. Dropping every handle, or calling [`Timer::stop`], ends
/// the thread and discards the jobs not yet due.
pub(crate) struct Timer {
    commands: Sender<Command>,
}

impl Timer {
    pub fn start(name: &str) -> Self {
        let (commands, rx) = unbounded();
        thread::Builder::new()
            .name(format!("{name}-timer"))
            .spawn(move || run(rx))
            .expect("labrpc: cannot spawn the timer thread");
        Self { commands }
    }

    /// Runs `job` on the timer thread at `at` (at once if `at` has passed).
    pub fn at(&self, at: Instant, job: Job) {
        // Fails only after `stop`, when pending work is meant to be discarded.
        let _ = self.commands.send(Command::Run(at, job));
    }

    pub fn stop(&self) {
        let _ = self.commands.send(Command::Stop);
    }
}

/// A job in the heap: ordered by due time, then by arrival so equal instants keep order.
struct Entry {
    at: Instant,
    seq: u64,
    job: Job,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

fn run(commands: Receiver<Command>) {
    let mut heap: BinaryHeap<Reverse<Entry>> = BinaryHeap::new();
    let mut seq = 0u64;
    loop {
        let now = Instant::now();
        while heap.peek().is_some_and(|Reverse(e)| e.at <= now) {
            let Reverse(entry) = heap.pop().expect("peeked");
            (entry.job)();
        }
        let command = match heap.peek() {
            Some(Reverse(next)) => match commands.recv_deadline(next.at) {
                Ok(c) => c,
                Err(RecvTimeoutError::Timeout) => continue,
                Err(RecvTimeoutError::Disconnected) => return,
            },
            None => match commands.recv() {
                Ok(c) => c,
                Err(_) => return,
            },
        };
        match command {
            Command::Run(at, job) => {
                seq += 1;
                heap.push(Reverse(Entry { at, seq, job }));
            }
            Command::Stop => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    #[test]
    fn jobs_run_in_due_order_not_in_submission_order() {
        let timer = Timer::start("test");
        let (tx, rx) = unbounded();
        let t0 = Instant::now();
        for ms in [60u64, 20, 40, 0] {
            let tx = tx.clone();
            timer.at(
                t0 + Duration::from_millis(ms),
                Box::new(move || tx.send(ms).unwrap()),
            );
        }
        let got: Vec<u64> = (0..4).map(|_| rx.recv().unwrap()).collect();
        assert_eq!(got, [0, 20, 40, 60]);
        assert!(t0.elapsed() >= Duration::from_millis(60));
    }

    #[test]
    fn stop_discards_jobs_not_yet_due() {
        let timer = Timer::start("test");
        let (tx, rx) = unbounded::<()>();
        timer.at(
            Instant::now() + Duration::from_secs(60),
            Box::new(move || tx.send(()).unwrap()),
        );
        timer.stop();
        // The job (and its sender) is dropped with the heap, so the channel disconnects.
        assert!(rx.recv_timeout(Duration::from_secs(5)).is_err());
    }
}
