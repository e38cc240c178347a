//! Part 3B: log replication. Ported from the 6.5840 (2025) `raft1/raft_test.go`.
#![allow(non_snake_case)]

use std::thread;

use tests::raft::{Cmd, ELECTION_TIMEOUT, RaftTest};

#[test]
fn basic_agree_3B() {
    RaftTest::reliable(3).run("Test (3B): basic agreement", |ts| {
        let servers = ts.servers();
        for index in 1..=3u64 {
            let (nd, _) = ts.n_committed(index);
            if nd > 0 {
                ts.fatal("some have committed before Start()");
            }
            let xindex = ts.one(index * 100, servers, false);
            if xindex != index {
                ts.fatal(format!("got index {xindex} but expected {index}"));
            }
        }
    });
}

/// Checks, by counting the bytes of RPCs, that each command is sent to each peer once.
#[test]
fn rpc_bytes_3B() {
    RaftTest::reliable(3).run("Test (3B): RPC byte count", |ts| {
        let servers = ts.servers();
        ts.one(99, servers, false);
        let bytes0 = ts.bytes_total();

        let mut sent = 0u64;
        for index in 2..12u64 {
            let cmd = ts.rand_string(5000);
            sent += cmd.len() as u64;
            let xindex = ts.one(cmd, servers, false);
            if xindex != index {
                ts.fatal(format!("got index {xindex} but expected {index}"));
            }
        }

        let got = ts.bytes_total() - bytes0;
        let expected = servers as u64 * sent;
        if got > expected + 50_000 {
            ts.fatal(format!(
                "too many RPC bytes; got {got}, expected {expected}"
            ));
        }
    });
}

/// Just the failure of followers.
#[test]
fn follower_failure_3B() {
    RaftTest::reliable(3).run("Test (3B): test progressive failure of followers", |ts| {
        let servers = ts.servers();
        ts.one(101, servers, false);

        // Disconnect one follower from the network.
        let leader1 = ts.check_one_leader();
        ts.disconnect_all((leader1 + 1) % servers);

        // The leader and remaining follower should be able to agree despite the
        // disconnected follower.
        ts.one(102, servers - 1, false);
        ts.sleep(ELECTION_TIMEOUT);
        ts.one(103, servers - 1, false);

        // Disconnect the remaining follower.
        let leader2 = ts.check_one_leader();
        ts.disconnect_all((leader2 + 1) % servers);
        ts.disconnect_all((leader2 + 2) % servers);

        // Submit a command.
        let Some((index, _)) = ts.start(leader2, 104) else {
            ts.fatal("leader rejected Start()");
        };
        if index != 4 {
            ts.fatal(format!("expected index 4, got {index}"));
        }

        ts.sleep(2 * ELECTION_TIMEOUT);

        // Check that command 104 did not commit.
        ts.check_no_agreement(index);
    });
}

/// Just the failure of leaders.
#[test]
fn leader_failure_3B() {
    RaftTest::reliable(3).run("Test (3B): test failure of leaders", |ts| {
        let servers = ts.servers();
        ts.one(101, servers, false);

        // Disconnect the first leader.
        let leader1 = ts.check_one_leader();
        ts.disconnect_all(leader1);

        // The remaining followers should elect a new leader.
        ts.one(102, servers - 1, false);
        ts.sleep(ELECTION_TIMEOUT);
        ts.one(103, servers - 1, false);

        // Disconnect the new leader.
        let leader2 = ts.check_one_leader();
        ts.disconnect_all(leader2);

        // Submit a command to each server.
        for i in 0..servers {
            ts.start(i, 104);
        }

        ts.sleep(2 * ELECTION_TIMEOUT);

        // Check that command 104 did not commit.
        ts.check_no_agreement(4);
    });
}

/// A follower participates after disconnect and re-connect.
#[test]
fn fail_agree_3B() {
    RaftTest::reliable(3).run("Test (3B): agreement after follower reconnects", |ts| {
        let servers = ts.servers();
        ts.one(101, servers, false);

        // Disconnect one follower from the network.
        let leader = ts.check_one_leader();
        ts.disconnect_all((leader + 1) % servers);

        // The leader and remaining follower should be able to agree despite the
        // disconnected follower.
        ts.one(102, servers - 1, false);
        ts.one(103, servers - 1, false);
        ts.sleep(ELECTION_TIMEOUT);
        ts.one(104, servers - 1, false);
        ts.one(105, servers - 1, false);

        // Re-connect.
        ts.connect_one((leader + 1) % servers);

        // The full set of servers should preserve previous agreements, and be able to agree
        // on new commands.
        ts.one(106, servers, true);
        ts.sleep(ELECTION_TIMEOUT);
        ts.one(107, servers, true);
    });
}

#[test]
fn fail_no_agree_3B() {
    RaftTest::reliable(5).run(
        "Test (3B): no agreement if too many followers disconnect",
        |ts| {
            let servers = ts.servers();
            ts.one(10, servers, false);

            // 3 of 5 followers disconnect.
            let leader = ts.check_one_leader();
            ts.disconnect_all((leader + 1) % servers);
            ts.disconnect_all((leader + 2) % servers);
            ts.disconnect_all((leader + 3) % servers);

            let Some((index, _)) = ts.start(leader, 20) else {
                ts.fatal("leader rejected Start()");
            };
            if index != 2 {
                ts.fatal(format!("expected index 2, got {index}"));
            }

            ts.sleep(2 * ELECTION_TIMEOUT);

            let (n, _) = ts.n_committed(index);
            if n > 0 {
                ts.fatal(format!("{n} committed but no majority"));
            }

            // Repair.
            ts.connect_one((leader + 1) % servers);
            ts.connect_one((leader + 2) % servers);
            ts.connect_one((leader + 3) % servers);

            // The disconnected majority may have chosen a leader from among their own ranks,
            // forgetting index 2.
            let leader2 = ts.check_one_leader();
            let Some((index2, _)) = ts.start(leader2, 30) else {
                ts.fatal("leader2 rejected Start()");
            };
            if !(2..=3).contains(&index2) {
                ts.fatal(format!("unexpected index {index2}"));
            }

            ts.one(1000, servers, true);
        },
    );
}

#[test]
fn concurrent_starts_3B() {
    RaftTest::reliable(3).run("Test (3B): concurrent Start()s", |ts| {
        let servers = ts.servers();
        let mut success = false;
        'attempts: for attempt in 0..5 {
            if attempt > 0 {
                // Give the solution some time to settle.
                ts.sleep(std::time::Duration::from_secs(3));
            }

            let leader = ts.check_one_leader();
            let Some((_, term)) = ts.start(leader, 1) else {
                continue; // the leader moved on really quickly
            };

            let indexes: Vec<u64> = thread::scope(|s| {
                let starts: Vec<_> = (0..5u64)
                    .map(|i| s.spawn(move || ts.start(leader, 100 + i)))
                    .collect();
                starts
                    .into_iter()
                    .filter_map(|h| match h.join().expect("a Start() thread panicked") {
                        Some((index, term1)) if term1 == term => Some(index),
                        _ => None,
                    })
                    .collect()
            });

            for j in 0..servers {
                if let Some(raft) = ts.raft(j)
                    && raft.get_state().0 != term
                {
                    continue 'attempts; // the term changed: can't expect agreement
                }
            }

            let mut cmds = Vec::new();
            for index in indexes {
                match ts.wait(index, servers, Some(term)) {
                    None => continue 'attempts, // peers moved on to later terms
                    Some(bytes) => match Cmd::decode(&bytes) {
                        Some(Cmd::Int(x)) => cmds.push(x),
                        _ => ts.fatal(format!("value {} is not an int", Cmd::show(&bytes))),
                    },
                }
            }

            for i in 0..5 {
                let x = 100 + i;
                if !cmds.contains(&x) {
                    ts.fatal(format!("cmd {x} missing in {cmds:?}"));
                }
            }
            success = true;
            break;
        }
        if !success {
            ts.fatal("term changed too often");
        }
    });
}

#[test]
fn rejoin_3B() {
    RaftTest::reliable(3).run("Test (3B): rejoin of partitioned leader", |ts| {
        let servers = ts.servers();
        ts.one(101, servers, true);

        // Leader network failure.
        let leader1 = ts.check_one_leader();
        ts.disconnect_all(leader1);

        // Make the old leader try to agree on some entries.
        ts.start(leader1, 102);
        ts.start(leader1, 103);
        ts.start(leader1, 104);

        // The new leader commits, also for index 2.
        ts.one(103, 2, true);

        // New leader network failure.
        let leader2 = ts.check_one_leader();
        ts.disconnect_all(leader2);

        // Old leader connected again.
        ts.connect_one(leader1);

        ts.one(104, 2, true);

        // All together now.
        ts.connect_one(leader2);

        ts.one(105, servers, true);
    });
}

#[test]
fn backup_3B() {
    RaftTest::reliable(5).run(
        "Test (3B): leader backs up quickly over incorrect follower logs",
        |ts| {
            let servers = ts.servers();
            ts.one(ts.rand_u64(), servers, true);

            // Put the leader and one follower in a partition.
            let leader1 = ts.check_one_leader();
            ts.disconnect_all((leader1 + 2) % servers);
            ts.disconnect_all((leader1 + 3) % servers);
            ts.disconnect_all((leader1 + 4) % servers);

            // Submit lots of commands that won't commit.
            for _ in 0..50 {
                ts.start(leader1, ts.rand_u64());
            }

            ts.sleep(ELECTION_TIMEOUT / 2);

            ts.disconnect_all(leader1);
            ts.disconnect_all((leader1 + 1) % servers);

            // Allow the other partition to recover.
            ts.connect_one((leader1 + 2) % servers);
            ts.connect_one((leader1 + 3) % servers);
            ts.connect_one((leader1 + 4) % servers);

            // Lots of successful commands to the new group.
            for _ in 0..50 {
                ts.one(ts.rand_u64(), 3, true);
            }

            // Now another partitioned leader and one follower.
            let leader2 = ts.check_one_leader();
            let mut other = (leader1 + 2) % servers;
            if leader2 == other {
                other = (leader2 + 1) % servers;
            }
            ts.disconnect_all(other);

            // Lots more commands that won't commit.
            for _ in 0..50 {
                ts.start(leader2, ts.rand_u64());
            }

            ts.sleep(ELECTION_TIMEOUT / 2);

            // Bring the original leader back to life.
            for i in 0..servers {
                ts.disconnect_all(i);
            }
            ts.connect_one(leader1);
            ts.connect_one((leader1 + 1) % servers);
            ts.connect_one(other);

            // Lots of successful commands to the new group.
            for _ in 0..50 {
                ts.one(ts.rand_u64(), 3, true);
            }

            // Now everyone.
            for i in 0..servers {
                ts.connect_one(i);
            }
            ts.one(ts.rand_u64(), servers, true);
        },
    );
}

#[test]
fn count_3B() {
    RaftTest::reliable(3).run("Test (3B): RPC counts aren't too high", |ts| {
        let servers = ts.servers();
        let rpcs = |ts: &RaftTest| (0..servers).map(|j| ts.rpc_count(j)).sum::<u64>();

        ts.check_one_leader();
        let total1 = rpcs(ts);
        if !(1..=30).contains(&total1) {
            ts.fatal(format!(
                "too many or few RPCs ({total1}) to elect initial leader"
            ));
        }

        let mut total2 = 0;
        let mut success = false;
        'attempts: for attempt in 0..5 {
            if attempt > 0 {
                // Give the solution some time to settle.
                ts.sleep(std::time::Duration::from_secs(3));
            }

            let leader = ts.check_one_leader();
            let total1 = rpcs(ts);

            let iters = 10u64;
            let Some((starti, term)) = ts.start(leader, 1) else {
                continue; // the leader moved on really quickly
            };

            let mut cmds = Vec::new();
            for i in 1..iters + 2 {
                let x = ts.rand_below(1 << 31);
                cmds.push(x);
                match ts.start(leader, x) {
                    Some((_, term1)) if term1 != term => continue 'attempts,
                    None => continue 'attempts,
                    Some((index1, _)) if index1 != starti + i => ts.fatal("Start() failed"),
                    Some(_) => {}
                }
            }

            for i in 1..iters + 1 {
                let Some(bytes) = ts.wait(starti + i, servers, Some(term)) else {
                    continue 'attempts; // the term changed: try again
                };
                if Cmd::decode(&bytes) != Some(Cmd::Int(cmds[i as usize - 1])) {
                    ts.fatal(format!(
                        "wrong value {} committed for index {}; expected {cmds:?}",
                        Cmd::show(&bytes),
                        starti + i
                    ));
                }
            }

            let mut failed = false;
            total2 = 0;
            for j in 0..servers {
                if let Some(raft) = ts.raft(j)
                    && raft.get_state().0 != term
                {
                    // The term changed: can't expect low RPC counts.
                    failed = true;
                }
                total2 += ts.rpc_count(j);
            }
            if failed {
                continue 'attempts;
            }

            if total2 - total1 > (iters + 1 + 3) * 3 {
                ts.fatal(format!(
                    "too many RPCs ({}) for {iters} entries",
                    total2 - total1
                ));
            }
            success = true;
            break;
        }
        if !success {
            ts.fatal("term changed too often");
        }

        ts.sleep(ELECTION_TIMEOUT);

        let total3 = rpcs(ts);
        if total3 - total2 > 3 * 20 {
            ts.fatal(format!(
                "too many RPCs ({}) for 1 second of idleness",
                total3 - total2
            ));
        }
    });
}
