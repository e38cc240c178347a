//! Part 3B: log replication. Ported from the 6.5840 (2025) `raft1/raft_test.go`.
#![allow(non_snake_case)]

use labrt::thread;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use raft::messages::{AppendEntriesReply, Entry};
use tests::probe::{PROMPTLY, Probe, Sent, append, applied, entries, rules, vote};
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

// ----- conformance probes: the tester plays the other peers (tests::probe) ----------------

/// A scripted follower's success.
fn ok(term: u64) -> AppendEntriesReply {
    AppendEntriesReply {
        term,
        success: true,
        ..Default::default()
    }
}

/// A scripted follower's refusal: its log is too short to hold `prev_log_index`.
fn too_short(term: u64, holds_through: u64) -> AppendEntriesReply {
    AppendEntriesReply {
        term,
        success: false,
        conflict_term: None,
        conflict_index: holds_through + 1,
    }
}

#[test]
fn probe_append_needs_the_previous_entry_3B() {
    Probe::peers(3).run("Probe (3B): AppendEntries needs the previous entry", |p| {
        let reply = p.append_entries(1, append(5, 1, (3, 5), entries(5, 4, 4), 0));
        if reply.success {
            p.broke(
                &rules::APPEND_MISSING_PREV,
                "server 0, with an empty log, accepted entries after index 3",
            );
        }
        p.give_log(1, 5, entries(5, 1, 2));
        let reply = p.append_entries(1, append(5, 1, (2, 4), entries(5, 3, 3), 0));
        if reply.success {
            p.broke(
                &rules::APPEND_MISSING_PREV,
                "server 0 holds index 2 of term 5 and accepted entries after index 2 of term 4",
            );
        }
        let reply = p.append_entries(1, append(5, 1, (2, 5), entries(5, 3, 3), 3));
        if !reply.success {
            p.broke(
                &rules::APPEND_NEW,
                format!("server 0 holds index 2 of term 5 and refused index 3 after it: {reply:?}"),
            );
        }
        p.expect_applied(
            &rules::FOLLOWER_COMMIT,
            "after entries 1-3 of term 5 with leaderCommit 3",
            &applied(5, 1, 3),
        );
    });
}

#[test]
fn probe_append_truncates_at_a_conflict_only_3B() {
    Probe::peers(3).run("Probe (3B): AppendEntries truncates at a conflict", |p| {
        p.give_log(1, 5, entries(5, 1, 3));
        // A new leader of term 6 replaces index 2 (and so 3) with its own entry.
        let reply = p.append_entries(2, append(6, 2, (1, 5), entries(6, 2, 2), 0));
        if !reply.success {
            p.broke(&rules::APPEND_CONFLICT, format!("server 0 refused term 6's index 2: {reply:?}"));
        }
        let reply = p.append_entries(2, append(6, 2, (3, 5), Vec::new(), 0));
        if reply.success {
            p.broke(
                &rules::APPEND_CONFLICT,
                "server 0 took term 6's entry at index 2 but still matched index 3 of term 5, which followed the entry it replaced",
            );
        }
        p.append_entries(2, append(6, 2, (2, 6), Vec::new(), 2));
        let mut want = applied(5, 1, 1);
        want.extend(applied(6, 2, 2));
        p.expect_applied(&rules::APPEND_CONFLICT, "after term 6 replaced index 2", &want);
    });
}

#[test]
fn probe_append_keeps_what_a_late_request_repeats_3B() {
    Probe::peers(3).run("Probe (3B): a late, shorter AppendEntries truncates nothing", |p| {
        p.give_log(1, 5, entries(5, 1, 3));
        // A delayed copy of an earlier request carries only index 1.
        p.append_entries(1, append(5, 1, (0, 0), entries(5, 1, 1), 0));
        let reply = p.append_entries(1, append(5, 1, (3, 5), Vec::new(), 3));
        if !reply.success {
            p.broke(
                &rules::APPEND_CONFLICT,
                "server 0 held indices 1-3 of term 5; a late request repeating index 1 made it drop 2 and 3, though nothing conflicted",
            );
        }
        p.expect_applied(&rules::APPEND_NEW, "after leaderCommit 3", &applied(5, 1, 3));
    });
}

#[test]
fn probe_follower_commits_only_what_it_verified_3B() {
    Probe::peers(3).run(
        "Probe (3B): a follower commits min(leaderCommit, last new entry)",
        |p| {
            p.give_log(1, 5, entries(5, 1, 3));
            // Leader 2 of term 6 has committed index 3 of its own log, but has only verified
            // that the follower matches it through index 1.
            p.append_entries(2, append(6, 2, (1, 5), Vec::new(), 3));
            let _leader = p.heartbeats(2, 6, 0);
            p.expect_no_apply_beyond(
                &rules::FOLLOWER_COMMIT,
                "a heartbeat of term 6 after index 1 with leaderCommit 3",
                1,
            );
            p.append_entries(2, append(6, 2, (1, 5), entries(6, 2, 2), 3));
            let mut want = applied(5, 1, 1);
            want.extend(applied(6, 2, 2));
            p.expect_applied(&rules::FOLLOWER_COMMIT, "after term 6's index 2", &want);
            p.expect_no_apply_beyond(&rules::FOLLOWER_COMMIT, "after term 6's index 2", 2);
        },
    );
}

#[test]
fn probe_votes_only_for_an_up_to_date_log_3B() {
    Probe::peers(3).run("Probe (3B): votes only for a log at least as up-to-date", |p| {
        p.give_log(1, 5, entries(5, 1, 2));
        for (term, last, why) in [
            (10, (5, 4), "whose last entry has an older term"),
            (11, (1, 5), "shorter, with the same last term"),
        ] {
            let reply = p.request_vote(2, vote(term, 2, last));
            if reply.vote_granted {
                p.broke(
                    &rules::UP_TO_DATE,
                    format!(
                        "server 0, whose last entry is index 2 of term 5, voted for a log {why} (last entry index {} of term {})",
                        last.0, last.1
                    ),
                );
            }
        }
        let reply = p.request_vote(2, vote(12, 2, (2, 5)));
        if !reply.vote_granted {
            p.broke(
                &rules::UP_TO_DATE,
                "server 0, whose last entry is index 2 of term 5, refused a candidate whose log ends the same",
            );
        }
    });
}

#[test]
fn probe_campaigns_with_its_last_entry_3B() {
    Probe::peers(3).run("Probe (3B): a candidate reports its last entry", |p| {
        p.give_log(1, 5, entries(5, 1, 2));
        let Some(args) = p.wait_campaign(p.mark(), tests::probe::ELECTION_WITHIN) else {
            p.broke(&rules::START_ELECTION, "server 0 never campaigned");
        };
        if (args.last_log_index, args.last_log_term) != (2, 5) {
            p.broke(
                &rules::VOTE_ARGUMENTS,
                format!(
                    "server 0's last entry is index 2 of term 5; it campaigned saying index {} \
                     of term {}",
                    args.last_log_index, args.last_log_term
                ),
            );
        }
    });
}

#[test]
fn probe_leader_sends_new_entries_3B() {
    Probe::peers(3).run("Probe (3B): a leader sends what start() appended", |p| {
        let term = p.elect();
        let mark = p.mark();
        let Some((index, at)) = p.start(b"x") else {
            p.broke(&rules::REPLICATE, format!("server 0 leads term {term} but start() refused"));
        };
        if (index, at) != (1, term) {
            p.broke(
                &rules::REPLICATE,
                format!("server 0, leader of term {term} with an empty log, put the first command at index {index} of term {at}"),
            );
        }
        for j in 1..3 {
            let sent = p.wait_sent(mark, PROMPTLY, |s| {
                matches!(s, Sent::Append(to, a) if *to == j && !a.entries.is_empty())
            });
            match sent {
                Some(Sent::Append(_, a))
                    if a.term == term
                        && (a.prev_log_index, a.prev_log_term) == (0, 0)
                        && a.entries == [Entry::new(term, b"x".to_vec())] => {}
                other => p.broke(
                    &rules::REPLICATE,
                    format!("expected server 0 to send server {j} the entry it appended (index 1, term {term}, after index 0 of term 0); it sent {other:?}"),
                ),
            }
        }
        p.expect_applied(&rules::LEADER_COMMIT, "after every follower accepted it", &[(1, b"x".to_vec())]);
    });
}

#[test]
fn probe_leader_commits_with_a_majority_3B() {
    let title = "Probe (3B): a leader commits once a majority holds an entry";
    Probe::peers(5).run(title, |p| {
        p.elect();
        // Server 1 takes everything; servers 3 and 4 cannot be reached; server 2 only
        // once the probe lets it.
        for j in [2, 3, 4] {
            p.set_link(0, j, false);
        }
        p.start(b"x");
        let context = "only server 1 of 5 accepted index 1";
        p.expect_no_apply_beyond(&rules::LEADER_COMMIT, context, 0);
        p.set_link(0, 2, true);
        let context = "servers 1 and 2 of 5 accepted index 1";
        p.expect_applied(&rules::LEADER_COMMIT, context, &[(1, b"x".to_vec())]);
    });
}

#[test]
fn probe_leader_commits_only_its_own_terms_entries_3B() {
    Probe::peers(3).run(
        "Probe (3B): a leader commits earlier terms' entries only with one of its own",
        |p| {
            p.give_log(1, 5, entries(5, 1, 2));
            let term = p.elect();
            // Every follower accepts everything: they hold indices 1-2 of term 5.
            p.expect_no_apply_beyond(
                &rules::LEADER_COMMIT,
                &format!("leader of term {term} whose log holds only entries of term 5"),
                0,
            );
            let Some((index, _)) = p.start(b"x") else {
                p.broke(&rules::REPLICATE, "the leader refused start()");
            };
            let mut want = applied(5, 1, 2);
            want.push((index, b"x".to_vec()));
            p.expect_applied(
                &rules::LEADER_COMMIT,
                "after an entry of the leader's term",
                &want,
            );
        },
    );
}

#[test]
fn probe_match_index_comes_from_what_was_sent_3B() {
    let title = "Probe (3B): matchIndex follows what the request carried";
    Probe::peers(3).run(title, |p| {
        p.elect();
        let (release, hold) = labrt::channel::bounded::<()>(1);
        let first = Arc::new(AtomicBool::new(true));
        // Server 2 cannot be reached. Server 1 holds its answer to the first request with
        // an entry until the probe lets it go, and then answers nothing more in time (a
        // slow follower).
        p.set_link(0, 2, false);
        p.on_append(move |j, a| {
            if j == 1 && !a.entries.is_empty() {
                if first.swap(false, Ordering::AcqRel) {
                    let _ = hold.recv_timeout(Duration::from_secs(5));
                } else {
                    thread::sleep(Duration::from_secs(3));
                }
            }
            ok(a.term)
        });
        let mark = p.mark();
        p.start(b"a");
        let carries = |s: &Sent| matches!(s, Sent::Append(1, a) if !a.entries.is_empty());
        if p.wait_sent(mark, PROMPTLY, carries).is_none() {
            p.broke(
                &rules::REPLICATE,
                "server 0 never sent server 1 its new entry",
            );
        }
        p.start(b"b");
        p.start(b"c");
        p.sleep(Duration::from_millis(50));
        let _ = release.send(());
        p.wait_applied(1, PROMPTLY);
        let context = "server 1's success answered a request that carried index 1 only (2 and \
                       3 were appended while it was in flight)";
        p.expect_no_apply_beyond(&rules::MATCH_INDEX, context, 1);
        let context = "server 1 accepted a request carrying index 1";
        p.expect_applied(&rules::LEADER_COMMIT, context, &[(1, b"a".to_vec())]);
    });
}

#[test]
fn probe_leader_backs_up_3B() {
    let title = "Probe (3B): a leader backs up past a follower's missing entries";
    Probe::peers(3).run(title, |p| {
        p.give_log(1, 5, entries(5, 1, 3));
        // The followers hold nothing: they refuse anything after index 0.
        p.on_append(|_, a| {
            if a.prev_log_index == 0 {
                ok(a.term)
            } else {
                too_short(a.term, 0)
            }
        });
        let mark = p.mark();
        let term = p.elect();
        let from_the_start = |s: &Sent| {
            matches!(s, Sent::Append(1, a)
                if a.term == term && a.prev_log_index == 0 && a.entries.len() >= 3)
        };
        if p.wait_sent(mark, PROMPTLY, from_the_start).is_none() {
            let tried: Vec<u64> = p
                .sent_since(mark)
                .iter()
                .filter_map(|s| match s {
                    Sent::Append(1, a) => Some(a.prev_log_index),
                    _ => None,
                })
                .collect();
            p.broke(
                &rules::BACK_UP,
                format!(
                    "server 0, leader of term {term} with indices 1-3, was told by server 1 that \
                     it holds nothing, and within {} s never sent it the log from index 1 \
                     (prevLogIndex it tried: {tried:?})",
                    PROMPTLY.as_secs()
                ),
            );
        }
    });
}
