//! Every call the tester makes into the code under test (`Raft::new`, `start`,
//! `get_state`, `snapshot`, `kill`, a Lab 4 server's constructor …) is timed: a call
//! still running after [`CALL_LIMIT`] fails the test at once, naming the server, the call
//! and the thread it was made on, instead of leaving the test to the 120 s watchdog (or,
//! for a `kill()` during teardown, hanging the test binary for good).
//!
//! The call runs on the caller's own thread (no thread per call: `start` and `get_state`
//! are called thousands of times a second); the harness's watchdog looks for overdue
//! calls while the test runs and while it tears down ([`crate::harness`]).

use labrt::time::{Duration, Instant};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use labrt::sync::Mutex;
use raft::Raft;

/// How long a call into the code under test may take. labrpc answers any call within 7 s
/// (the longest delay it gives a call on a dead link), so even a Raft that holds its lock
/// across one RPC — poor style, but Go's tests pass it — returns within that; 8 s leaves
/// a second of margin and still fails a deadlocked call within 10 s.
pub const CALL_LIMIT: Duration = Duration::from_secs(8);

/// The calls into the code under test that are running now.
#[derive(Default)]
pub struct Calls {
    next: AtomicU64,
    running: Mutex<BTreeMap<u64, Running>>,
}

struct Running {
    server: usize,
    call: &'static str,
    /// A handle (no allocation); its name is read only for a failure.
    thread: labrt::thread::Thread,
    since: Instant,
}

/// Removes a call from the running ones when it returns (or unwinds).
struct Returned<'a> {
    calls: &'a Calls,
    id: u64,
}

impl Drop for Returned<'_> {
    fn drop(&mut self) {
        self.calls.running.lock().remove(&self.id);
    }
}

impl Calls {
    /// Runs `f`, the call `call` (e.g. `"Raft::start"`) into server `server`'s code, as a
    /// timed call.
    pub fn time<T>(&self, server: usize, call: &'static str, f: impl FnOnce() -> T) -> T {
        let id = self.next.fetch_add(1, Ordering::Relaxed);
        self.running.lock().insert(
            id,
            Running {
                server,
                call,
                thread: labrt::thread::current(),
                since: Instant::now(),
            },
        );
        let _returned = Returned { calls: self, id };
        f()
    }

    /// The oldest call running longer than `limit`, described for the test's failure.
    pub fn overdue(&self, limit: Duration) -> Option<String> {
        let running = self.running.lock();
        let oldest = running
            .values()
            .filter(|r| r.since.elapsed() > limit)
            .min_by_key(|r| r.since)?;
        Some(format!(
            "server {}: {} has not returned after {} s (a deadlock? a lock held across a \
             blocking call?); it was called on the tester's thread '{}'",
            oldest.server,
            oldest.call,
            limit.as_secs(),
            oldest.thread.name().unwrap_or("<unnamed>")
        ))
    }
}

/// A server's Raft peer whose every call is timed.
#[derive(Clone)]
pub struct TimedRaft {
    raft: Arc<Raft>,
    server: usize,
    calls: Arc<Calls>,
}

impl TimedRaft {
    pub fn new(raft: Arc<Raft>, server: usize, calls: Arc<Calls>) -> Self {
        Self {
            raft,
            server,
            calls,
        }
    }

    pub fn start(&self, command: Vec<u8>) -> Option<(u64, u64)> {
        self.calls
            .time(self.server, "Raft::start", || self.raft.start(command))
    }

    pub fn get_state(&self) -> (u64, bool) {
        self.calls
            .time(self.server, "Raft::get_state", || self.raft.get_state())
    }

    pub fn snapshot(&self, index: u64, snapshot: Vec<u8>) {
        self.calls.time(self.server, "Raft::snapshot", || {
            self.raft.snapshot(index, snapshot)
        })
    }

    pub fn add_learner(&self, server: usize) -> Result<(u64, u64), raft::ChangeError> {
        self.calls.time(self.server, "Raft::add_learner", || {
            self.raft.add_learner(server)
        })
    }

    pub fn change_voters(&self, voters: &[usize]) -> Result<(u64, u64), raft::ChangeError> {
        self.calls.time(self.server, "Raft::change_voters", || {
            self.raft.change_voters(voters)
        })
    }

    pub fn transfer_leadership(&self, to: usize) -> Result<(), raft::ChangeError> {
        self.calls
            .time(self.server, "Raft::transfer_leadership", || {
                self.raft.transfer_leadership(to)
            })
    }

    pub fn membership(&self) -> raft::Config {
        self.calls
            .time(self.server, "Raft::membership", || self.raft.membership())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_call_is_overdue_only_while_it_runs_past_the_limit() {
        let calls = Calls::default();
        assert_eq!(calls.overdue(Duration::ZERO), None);
        let seen = calls.time(2, "Raft::start", || {
            labrt::thread::sleep(Duration::from_millis(20));
            calls.overdue(Duration::from_millis(10))
        });
        let seen = seen.expect("a call running past the limit is overdue");
        assert!(
            seen.starts_with("server 2: Raft::start has not returned after 0 s (a deadlock?"),
            "{seen}"
        );
        assert!(seen.contains("on the tester's thread '"), "{seen}");
        assert_eq!(calls.overdue(Duration::ZERO), None, "it returned");
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            calls.time(1, "Raft::kill", || panic!("boom"))
        }));
        assert!(unwound.is_err());
        assert_eq!(calls.overdue(Duration::ZERO), None, "a panic also returns");
    }
}
