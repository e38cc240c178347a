//! Remembers the panics of the test process, so that a peer whose thread died can be
//! reported with the panic's place and message ("server 2's thread 'raft-2' panicked at
//! raft/src/node.rs:349:9: not yet implemented: 3A: ...") rather than "see above", and
//! so that a panic anywhere in the code under test — a Raft peer's thread, a Lab 4
//! server's or applier's, a clerk's, any thread the student spawns — fails the running
//! test at once ([`in_code_under_test`]). The standard hook still prints every panic.

use labrt::time::Instant;
use std::collections::VecDeque;
use std::sync::Once;

use labrt::sync::LeafMutex;

/// Panics kept (the oldest are forgotten).
const KEPT: usize = 64;

struct Panic {
    at: Instant,
    thread: String,
    place: String,
    message: String,
}

static RECENT: LeafMutex<VecDeque<Panic>> = LeafMutex::new(VecDeque::new());

/// Installs the recording hook in front of the current one (once per process).
pub fn install() {
    static INSTALL: Once = Once::new();
    INSTALL.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let message = info
                .payload_as_str()
                .unwrap_or("a panic payload that is not a string");
            let panic = Panic {
                at: Instant::observe(),
                thread: labrt::thread::current()
                    .name()
                    .unwrap_or("<unnamed>")
                    .to_owned(),
                place: info.location().map(|l| l.to_string()).unwrap_or_default(),
                message: message.lines().next().unwrap_or_default().to_owned(),
            };
            let simulated = labrt::sim::is_simulated().then(|| simulated_report(&panic, message));
            let mut recent = RECENT.lock();
            if recent.len() == KEPT {
                recent.pop_front();
            }
            recent.push_back(panic);
            drop(recent);
            match simulated {
                Some(report) => {
                    use std::io::Write;
                    let _ = std::io::stderr().write_all(report.as_bytes());
                }
                None => previous(info),
            }
        }));
    });
}

/// The standard hook's report of `panic` (whose whole message is `message`), less what
/// differs from run to run of one simulation (the OS's thread id), so that a replay's
/// output matches the run it replays byte for byte.
fn simulated_report(panic: &Panic, message: &str) -> String {
    let mut report = format!(
        "thread '{}' panicked at {}:\n{message}\n",
        panic.thread, panic.place
    );
    let backtrace = std::backtrace::Backtrace::capture();
    if backtrace.status() == std::backtrace::BacktraceStatus::Captured {
        report.push_str(&format!("stack backtrace:\n{backtrace}\n"));
    }
    report
}

impl Panic {
    fn describe(&self) -> String {
        format!(
            "thread '{}' panicked at {}: {}",
            self.thread, self.place, self.message
        )
    }
}

/// The panic that most likely stopped server `server`'s peer, started at `since`: the
/// latest on its thread (the thread named `raft-<server>`), or else the latest
/// on any thread since then. Described as `thread 'raft-2' panicked at <place>: <message>`.
pub fn likely_cause(server: usize, since: Instant) -> Option<String> {
    let recent = RECENT.lock();
    let own = format!("raft-{server}");
    let after = || recent.iter().rev().filter(|p| p.at >= since);
    let panic = after()
        .find(|p| p.thread == own)
        .or_else(|| after().next())?;
    Some(panic.describe())
}

/// The crates a submission writes: a panic located in one of them is the submission's.
const CODE_UNDER_TEST: [&str; 2] = ["raft/", "kvraft/"];

/// The first panic located in the code under test (the `raft` and `kvraft` crates) that
/// happened after `since` and at least `settled` ago (so that a tester that reports such
/// a panic with more context, e.g. which server's apply channel closed, says so first).
pub fn in_code_under_test(since: Instant, settled: std::time::Duration) -> Option<String> {
    let recent = RECENT.lock();
    let panic = recent.iter().find(|p| {
        p.at >= since
            && p.at.elapsed() >= settled
            && CODE_UNDER_TEST.iter().any(|c| p.place.starts_with(c))
    })?;
    Some(panic.describe())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_threads_panic_is_found_by_its_name() {
        install();
        let since = Instant::now();
        labrt::thread::Builder::new()
            .name("raft-7".into())
            .spawn(|| panic!("not yet implemented: 3A: something\nsecond line"))
            .unwrap()
            .join()
            .unwrap_err();
        let cause = likely_cause(7, since).unwrap();
        assert!(
            cause.starts_with("thread 'raft-7' panicked at tests/src/panics.rs:"),
            "{cause}"
        );
        assert!(
            cause.ends_with(": not yet implemented: 3A: something"),
            "{cause}"
        );
        assert_eq!(likely_cause(7, Instant::now()), None);
        // It is located in this crate, not in the code under test.
        assert_eq!(in_code_under_test(since, std::time::Duration::ZERO), None);
    }
}
