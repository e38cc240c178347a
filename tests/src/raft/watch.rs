//! Checks that run beside a test, every few milliseconds, until it ends:
//! - **election safety**: at most one leader per term, ever, among all running peers (Go
//!   only looks when a test calls `check_one_leader`, about every 500 ms, and only among
//!   connected peers);
//! - **killed incarnations stay silent**: once `kill()` has returned and a grace period has
//!   passed, an incarnation must send no RPC, or its `kill` does not stop its threads.

use std::collections::HashMap;
use std::sync::Weak;
use std::thread;
use std::time::{Duration, Instant};

use super::RaftTest;

/// How often the checks run.
const PERIOD: Duration = Duration::from_millis(5);

/// How long a killed incarnation may still send: a thread that was already past its last
/// check when `kill()` returned gets this long to notice.
pub const KILL_GRACE: Duration = Duration::from_millis(500);

/// A killed incarnation and the RPC counts of its ends once the grace period was over.
pub struct Zombie {
    server: usize,
    ends: Vec<String>,
    killed_at: Instant,
    settled: Option<Vec<u64>>,
}

impl Zombie {
    pub fn new(server: usize, ends: Vec<String>, killed_at: Instant) -> Self {
        Self {
            server,
            ends,
            killed_at,
            settled: None,
        }
    }
}

pub fn spawn(test: Weak<RaftTest>) {
    thread::Builder::new()
        .name("raft-watch".into())
        .spawn(move || {
            let mut leaders = HashMap::new();
            while let Some(test) = test.upgrade() {
                if test.finished() {
                    return;
                }
                check_election_safety(&test, &mut leaders);
                check_zombies(&test);
                drop(test);
                thread::sleep(PERIOD);
            }
        })
        .expect("cannot spawn the watch thread");
}

/// Remembers which peer led each term; a second leader in a term is a failure.
fn check_election_safety(test: &RaftTest, leaders: &mut HashMap<u64, usize>) {
    for i in 0..test.n {
        let Some(raft) = test.raft(i) else { continue };
        let (term, leader) = raft.get_state();
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

/// Compares each killed incarnation's RPC counts with those at the end of its grace
/// period.
pub fn check_zombies(test: &RaftTest) {
    let mut g = test.group.lock();
    let now = Instant::now();
    let mut report = None;
    g.zombies.retain_mut(|z| {
        let counts: Vec<u64> = z.ends.iter().map(|e| test.net.end_count(e)).collect();
        match &z.settled {
            None if now >= z.killed_at + KILL_GRACE => {
                z.settled = Some(counts);
                true
            }
            None => true,
            Some(settled) => {
                let extra: u64 = counts.iter().zip(settled).map(|(c, s)| c - s).sum();
                if extra > 0 {
                    report.get_or_insert(format!(
                        "server {}'s killed incarnation sent {extra} RPC(s) more than {} ms after kill() \
                         returned: kill() must stop every thread of the peer",
                        z.server,
                        KILL_GRACE.as_millis()
                    ));
                    return false;
                }
                true
            }
        }
    });
    drop(g);
    if let Some(message) = report {
        test.applied.fail(message);
    }
}
