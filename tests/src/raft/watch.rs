//! Checks that run beside a test, every few milliseconds, until it ends:
//! - **election safety**: at most one leader per term, ever, among all running peers (Go
//!   only looks when a test calls `check_one_leader`, about every 500 ms, and only among
//!   connected peers);
//! - **killed incarnations stay silent**: once `kill()` has returned and a grace period has
//!   passed, an incarnation must send no RPC, or its `kill` does not stop its threads
//!   ([`crate::group::Group::check_zombies`]).
//!
//! It also records each peer's term and leadership when they change, for the test's
//! timeline.

use std::collections::HashMap;
use std::sync::Weak;
use std::thread;
use std::time::Duration;

use super::RaftTest;
use super::record::Event;

/// How often the checks run.
const PERIOD: Duration = Duration::from_millis(5);

pub fn spawn(test: Weak<RaftTest>) {
    thread::Builder::new()
        .name("raft-watch".into())
        .spawn(move || {
            let mut leaders = HashMap::new();
            let mut seen = HashMap::new();
            while let Some(test) = test.upgrade() {
                if test.finished() {
                    return;
                }
                check_election_safety(&test, &mut leaders, &mut seen);
                if let Some(zombie) = test.group.check_zombies() {
                    test.applied.fail(zombie);
                }
                drop(test);
                thread::sleep(PERIOD);
            }
        })
        .expect("cannot spawn the watch thread");
}

/// Remembers which peer led each term; a second leader in a term is a failure. Records
/// each peer's state when it differs from what `seen` holds.
fn check_election_safety(
    test: &RaftTest,
    leaders: &mut HashMap<u64, usize>,
    seen: &mut HashMap<usize, (u64, bool)>,
) {
    for (i, raft) in test.group.rafts() {
        let (term, leader) = raft.get_state();
        if seen.insert(i, (term, leader)) != Some((term, leader)) {
            test.recorder().record(Event::State {
                server: i,
                term,
                leader,
            });
        }
        if !leader {
            continue;
        }
        match leaders.insert(term, i) {
            Some(other) if other != i => test.applied.fail(format!(
                "term {term} has 2 (>1) leaders: servers {other} and {i} (seen by the background election-safety check)"
            )),
            _ => {}
        }
    }
}
