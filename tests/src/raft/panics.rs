//! Remembers the panics of the test process, so that a peer whose thread died can be
//! reported with the panic's place and message ("server 2's thread 'raft-2' panicked at
//! raft/src/node.rs:349:9: not yet implemented: 3A: ...") rather than "see above".
//! The standard hook still prints every panic as before.

use std::collections::VecDeque;
use std::sync::Once;
use std::time::Instant;

use parking_lot::Mutex;

/// Panics kept (the oldest are forgotten).
const KEPT: usize = 64;

struct Panic {
    at: Instant,
    thread: String,
    place: String,
    message: String,
}

static RECENT: Mutex<VecDeque<Panic>> = Mutex::new(VecDeque::new());

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
                at: Instant::now(),
                thread: std::thread::current()
                    .name()
                    .unwrap_or("<unnamed>")
                    .to_owned(),
                place: info.location().map(|l| l.to_string()).unwrap_or_default(),
                message: message.lines().next().unwrap_or_default().to_owned(),
            };
            let mut recent = RECENT.lock();
            if recent.len() == KEPT {
                recent.pop_front();
            }
            recent.push_back(panic);
            drop(recent);
            previous(info);
        }));
    });
}

/// The panic that most likely stopped server `server`'s peer, started at `since`: the
/// latest on its thread (`raft-<server>`, as the reference names it), or else the latest
/// on any thread since then. Described as `thread 'raft-2' panicked at <place>: <message>`.
pub fn likely_cause(server: usize, since: Instant) -> Option<String> {
    let recent = RECENT.lock();
    let own = format!("raft-{server}");
    let after = || recent.iter().rev().filter(|p| p.at >= since);
    let panic = after()
        .find(|p| p.thread == own)
        .or_else(|| after().next())?;
    Some(format!(
        "thread '{}' panicked at {}: {}",
        panic.thread, panic.place, panic.message
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_peer_threads_panic_is_found_by_its_name() {
        install();
        let since = Instant::now();
        std::thread::Builder::new()
            .name("raft-7".into())
            .spawn(|| panic!("not yet implemented: 3A: something\nsecond line"))
            .unwrap()
            .join()
            .unwrap_err();
        let cause = likely_cause(7, since).unwrap();
        assert!(
            cause.starts_with("thread 'raft-7' panicked at tests/src/raft/panics.rs:"),
            "{cause}"
        );
        assert!(
            cause.ends_with(": not yet implemented: 3A: something"),
            "{cause}"
        );
        assert_eq!(likely_cause(7, Instant::now()), None);
    }
}
