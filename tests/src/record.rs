//! What happened during a test, in order, for its timeline ([`crate::viz`]): starts
//! and crashes, links going up and down, each peer's term, leadership and membership as
//! the watcher sees them, the network's settings, the tester's checks with their
//! outcome, and the events the code under test logs for the timeline
//! ([`crate::trace`]).
//!
//! Recording is cheap: an event is a push onto a vector under a lock, and the events
//! are rare next to RPCs (the watcher records a peer's state only when it changes).

use labrt::time::Instant;
use std::sync::Arc;

use labrt::sync::LeafMutex;
use raft::Config;

use crate::trace;

/// One event; times are nanoseconds since the test began.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Event {
    Started(usize),
    Crashed(usize),
    /// `links[i][j]`: server `i`'s end to server `j` is enabled.
    Links(Vec<Vec<bool>>),
    /// A running peer's term and leadership changed.
    State {
        server: usize,
        term: u64,
        leader: bool,
    },
    /// A running peer's role in its own configuration in effect changed (part 3E; the
    /// watcher records each peer's first role too).
    Membership {
        server: usize,
        role: Role,
    },
    Network {
        reliable: bool,
        long_reordering: bool,
    },
    /// A check that began at `start` ended (at the event's time).
    Check {
        name: String,
        start: u64,
        ok: bool,
        detail: String,
    },
    /// The test failed with this message.
    Failure(String),
    /// The code under test logged an event for the timeline ([`crate::trace`]): `server`
    /// and `term` as its text named them (`S<n> T<term> …`), the rest of its text, its
    /// level, and how many tests were running in the process then (more than one: it
    /// may be another test's).
    Logged {
        server: Option<usize>,
        term: Option<u64>,
        text: String,
        level: log::Level,
        tests: usize,
    },
}

/// A server's role in a configuration.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Role {
    /// It votes (in both sets of a joint configuration).
    Voter,
    /// Joint configuration: it votes in the old set only (it is being removed).
    OldVoter,
    /// Joint configuration: it votes in the new set only (it is being added).
    NewVoter,
    /// It receives the log but does not vote.
    Learner,
    /// It is not in the configuration.
    Outside,
}

impl Role {
    /// Server `server`'s role in `config`.
    pub fn of(config: &Config, server: usize) -> Self {
        let new = config.voters.contains(&server);
        match (&config.outgoing, new) {
            (Some(old), true) if !old.contains(&server) => Self::NewVoter,
            (Some(old), false) if old.contains(&server) => Self::OldVoter,
            (_, true) => Self::Voter,
            _ if config.learners.contains(&server) => Self::Learner,
            _ => Self::Outside,
        }
    }

    /// How the timeline names it.
    pub fn describe(self) -> &'static str {
        match self {
            Self::Voter => "voter",
            Self::OldVoter => "voter (joint: old set)",
            Self::NewVoter => "voter (joint: new set)",
            Self::Learner => "learner",
            Self::Outside => "outside",
        }
    }
}

pub struct Recorder {
    start: Instant,
    on: bool,
    /// Shared with the logger, which adds the code under test's timeline events.
    events: Arc<trace::Events>,
}

impl Recorder {
    /// A recorder that keeps events if `on` (else it drops them at once), the timeline
    /// events the code under test logs among them.
    pub fn new(on: bool) -> Self {
        let start = Instant::now();
        let events = Arc::new(LeafMutex::new(Vec::new()));
        if on {
            trace::register(start, &events);
        }
        Self { start, on, events }
    }

    /// Nanoseconds since the test began (no scheduling point: recording must not change
    /// the run it records).
    pub fn now(&self) -> u64 {
        Instant::observe()
            .saturating_duration_since(self.start)
            .as_nanos() as u64
    }

    pub fn record(&self, event: Event) {
        trace::recorded(self.start, &event);
        if self.on {
            let mut events = self.events.lock();
            let at = self.now();
            events.push((at, event));
        }
    }

    /// Starts recording a check; it counts as failed unless [`Check::ok`] ends it (so a
    /// check that fails the test, by panicking, is recorded as failed).
    pub fn check(&self, name: impl Into<String>) -> Check<'_> {
        Check {
            recorder: self,
            name: name.into(),
            start: self.now(),
            done: false,
        }
    }

    /// The message of the last [`Event::Failure`], if any.
    pub fn last_failure(&self) -> Option<String> {
        self.events.lock().iter().rev().find_map(|(_, e)| match e {
            Event::Failure(m) => Some(m.clone()),
            _ => None,
        })
    }

    /// Everything recorded so far, in time order.
    pub fn events(&self) -> Vec<(u64, Event)> {
        let mut events = self.events.lock().clone();
        events.sort_by_key(|(at, _)| *at);
        events
    }
}

/// A check in progress.
pub struct Check<'a> {
    recorder: &'a Recorder,
    name: String,
    start: u64,
    done: bool,
}

impl Check<'_> {
    /// The check passed, finding `detail`.
    pub fn ok(mut self, detail: impl Into<String>) {
        self.done = true;
        self.recorder.record(Event::Check {
            name: std::mem::take(&mut self.name),
            start: self.start,
            ok: true,
            detail: detail.into(),
        });
    }
}

impl Drop for Check<'_> {
    fn drop(&mut self) {
        if !self.done {
            self.recorder.record(Event::Check {
                name: std::mem::take(&mut self.name),
                start: self.start,
                ok: false,
                detail: "failed".into(),
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn checks_count_as_failed_unless_they_end_well() {
        let r = Recorder::new(true);
        r.check("check_one_leader").ok("leader 1");
        let unwound = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            let _c = r.check("one(5)");
            panic!("one(5) failed to reach agreement");
        }));
        assert!(unwound.is_err());
        // Only the checks: a timeline event logged by another unit test may be here too.
        let events: Vec<(u64, Event)> = r
            .events()
            .into_iter()
            .filter(|(_, e)| matches!(e, Event::Check { .. }))
            .collect();
        assert!(
            matches!(&events[0].1, Event::Check { name, ok: true, detail, .. } if name == "check_one_leader" && detail == "leader 1")
        );
        assert!(matches!(&events[1].1, Event::Check { name, ok: false, .. } if name == "one(5)"));
    }

    #[test]
    fn roles_follow_the_configuration() {
        let joint = Config {
            voters: [2, 3, 4].into(),
            outgoing: Some([0, 1, 2].into()),
            learners: [5].into(),
        };
        let roles: Vec<Role> = (0..7).map(|i| Role::of(&joint, i)).collect();
        assert_eq!(
            roles,
            [
                Role::OldVoter,
                Role::OldVoter,
                Role::Voter,
                Role::NewVoter,
                Role::NewVoter,
                Role::Learner,
                Role::Outside
            ]
        );
        assert_eq!(Role::of(&Config::of_voters([0, 1]), 1), Role::Voter);
        assert_eq!(Role::of(&Config::default(), 0), Role::Outside);
    }

    #[test]
    fn a_recorder_that_is_off_keeps_nothing() {
        let r = Recorder::new(false);
        r.record(Event::Started(0));
        r.check("x").ok("y");
        assert!(r.events().is_empty());
    }
}
