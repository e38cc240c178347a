//! Checks that run beside a test, every few milliseconds, until it ends:
//! - **election safety**: at most one leader per term, ever, among all running peers (Go
//!   only looks when a test calls `check_one_leader`, about every 500 ms, and only among
//!   connected peers);
//! - **killed incarnations stay silent**: once `kill()` has returned and a grace period has
//!   passed, an incarnation must send no RPC, or its `kill` does not stop its threads
//!   ([`crate::group::Group::check_zombies`]).
//!
//! It also records each peer's term and leadership, and its role in its own configuration
//! (part 3E), when they change, for the test's timeline.

use labrt::thread;
use std::collections::BTreeMap;
use std::sync::Weak;
use std::time::Duration;

use super::RaftTest;
use crate::calls::TimedRaft;
use crate::record::{Event, Role};

/// How often the checks run.
const PERIOD: Duration = Duration::from_millis(5);

pub fn spawn(test: Weak<RaftTest>) {
    thread::Builder::new()
        .name("raft-watch".into())
        .spawn(move || {
            let mut leaders = BTreeMap::new();
            let mut seen = BTreeMap::new();
            let mut roles = BTreeMap::new();
            while let Some(test) = test.upgrade() {
                if test.finished() {
                    return;
                }
                let rafts = test.group().rafts();
                check_election_safety(&test, &rafts, &mut leaders, &mut seen);
                record_membership(&test, &rafts, &mut roles);
                drop(rafts);
                if let Some(zombie) = test.group().check_zombies() {
                    test.applied.fail(zombie);
                }
                drop(test);
                thread::sleep(PERIOD);
            }
        })
        .expect("cannot spawn the watch thread");
}

/// Remembers which peer led each term; a second leader in a term is a failure. Records
/// each running peer's state when it differs from what `seen` holds.
fn check_election_safety(
    test: &RaftTest,
    rafts: &[(usize, TimedRaft)],
    leaders: &mut BTreeMap<u64, usize>,
    seen: &mut BTreeMap<usize, (u64, bool)>,
) {
    // A peer that is down is forgotten, so its next incarnation's state is recorded even
    // when it comes back with the same term.
    seen.retain(|i, _| rafts.iter().any(|(j, _)| j == i));
    for &(i, ref raft) in rafts {
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

/// Records each peer's role in its own configuration in effect when it differs from what
/// `roles` holds (a role survives a crash: a restarted peer that comes back with the same
/// one records nothing).
fn record_membership(
    test: &RaftTest,
    rafts: &[(usize, TimedRaft)],
    roles: &mut BTreeMap<usize, Role>,
) {
    for (i, raft) in rafts {
        let role = Role::of(&raft.membership(), *i);
        if roles.insert(*i, role) != Some(role) {
            test.recorder()
                .record(Event::Membership { server: *i, role });
        }
    }
}
