//! Part 3D: log compaction with snapshots. Ported from the 6.5840 (2025)
//! `raft1/raft_test.go`; the tester asks every peer for a snapshot after every
//! `SNAPSHOT_INTERVAL` commands and checks the snapshots peers install.
#![allow(non_snake_case)]

use raft::ApplyMsg;
use raft::messages::{Entry, InstallSnapshotArgs};
use tests::probe::{PROMPTLY, Probe, Sent, append, applied, entries, rules, show, snapshot_of};
use tests::raft::{MAX_LOG_SIZE, RaftSetup, RaftTest, SNAPSHOT_INTERVAL};

/// What [`snapcommon`] does to its victim in each round (Go's `disconnect` and `crash`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Victim {
    /// Nothing: it stays up and connected.
    Stays,
    /// It is cut off from the others.
    Disconnected,
    /// It crashes, and restarts from what it persisted.
    Crashed,
}

/// 30 rounds of: maybe disconnect or crash a victim (the leader's successor, or the leader
/// itself every third round), submit 5–14 commands straight to the other, agree on one
/// more, check that the logs stay small, and bring the victim back — which may need an
/// InstallSnapshot to catch up.
fn snapcommon(title: &'static str, cluster: RaftSetup, victim_is: Victim) {
    let (disconnect, crash) = (
        victim_is == Victim::Disconnected,
        victim_is == Victim::Crashed,
    );
    cluster.snapshots().run(title, move |ts| {
        let servers = ts.servers();
        ts.one(ts.rand_u64(), servers, true);
        let mut leader1 = ts.check_one_leader();

        for i in 0..30 {
            let (mut victim, mut sender) = ((leader1 + 1) % servers, leader1);
            if i % 3 == 1 {
                (victim, sender) = (leader1, (leader1 + 1) % servers);
            }

            if disconnect {
                ts.disconnect_all(victim);
                ts.one(ts.rand_u64(), servers - 1, true);
            }
            if crash {
                ts.shutdown_server(victim);
                ts.one(ts.rand_u64(), servers - 1, true);
            }

            // Perhaps send enough to get a snapshot.
            let nn = SNAPSHOT_INTERVAL / 2 + ts.rand_below(SNAPSHOT_INTERVAL);
            for _ in 0..nn {
                ts.start(sender, ts.rand_u64());
            }

            // Let the appliers catch up with the starts.
            if !disconnect && !crash {
                // Make sure all followers have caught up, so that snapshots basic needs no
                // InstallSnapshot.
                ts.one(ts.rand_u64(), servers, true);
            } else {
                ts.one(ts.rand_u64(), servers - 1, true);
            }

            if ts.log_size() >= MAX_LOG_SIZE {
                ts.fatal("Log size too large");
            }
            if disconnect {
                // Reconnect a follower, who may be behind and need a snapshot to catch up.
                ts.connect_one(victim);
                ts.one(ts.rand_u64(), servers, true);
                leader1 = ts.check_one_leader();
            }
            if crash {
                ts.restart(victim);
                ts.one(ts.rand_u64(), servers, true);
                leader1 = ts.check_one_leader();
            }
        }
    });
}

#[test]
fn snapshot_basic_3D() {
    snapcommon(
        "Test (3D): snapshots basic",
        RaftTest::reliable(3),
        Victim::Stays,
    );
}

#[test]
fn snapshot_install_3D() {
    snapcommon(
        "Test (3D): install snapshots (disconnect)",
        RaftTest::reliable(3),
        Victim::Disconnected,
    );
}

#[test]
fn snapshot_install_unreliable_3D() {
    snapcommon(
        "Test (3D): install snapshots (disconnect)",
        RaftTest::unreliable(3),
        Victim::Disconnected,
    );
}

#[test]
fn snapshot_install_crash_3D() {
    snapcommon(
        "Test (3D): install snapshots (crash)",
        RaftTest::reliable(3),
        Victim::Crashed,
    );
}

#[test]
fn snapshot_install_un_crash_3D() {
    snapcommon(
        "Test (3D): install snapshots (crash)",
        RaftTest::unreliable(3),
        Victim::Crashed,
    );
}

/// Do the servers persist their snapshots, and restart from the snapshot plus the tail of
/// the log?
#[test]
fn snapshot_all_crash_3D() {
    RaftTest::unreliable(3)
        .snapshots()
        .run("Test (3D): crash and restart all servers", |ts| {
            let servers = ts.servers();
            ts.one(ts.rand_u64(), servers, true);

            for _ in 0..5 {
                // Perhaps enough to get a snapshot.
                let nn = SNAPSHOT_INTERVAL / 2 + ts.rand_below(SNAPSHOT_INTERVAL);
                for _ in 0..nn {
                    ts.one(ts.rand_u64(), servers, true);
                }

                let index1 = ts.one(ts.rand_u64(), servers, true);

                // Crash all.
                ts.shutdown();
                ts.start_servers();

                let index2 = ts.one(ts.rand_u64(), servers, true);
                if index2 < index1 + 1 {
                    ts.fatal(format!("index decreased from {index1} to {index2}"));
                }
            }
        });
}

/// Do servers correctly initialize their in-memory copy of the snapshot, so that later
/// writes to persistent state don't lose it?
#[test]
fn snapshot_init_3D() {
    RaftTest::unreliable(3).snapshots().run(
        "Test (3D): snapshot initialization after crash",
        |ts| {
            let servers = ts.servers();
            ts.one(ts.rand_u64(), servers, true);

            // Enough ops to make a snapshot.
            for _ in 0..=SNAPSHOT_INTERVAL {
                ts.one(ts.rand_u64(), servers, true);
            }

            ts.shutdown();
            ts.start_servers();

            // A single op, to get something written back to persistent storage.
            ts.one(ts.rand_u64(), servers, true);

            ts.shutdown();
            ts.start_servers();

            // Another op, to trigger the potential bug.
            ts.one(ts.rand_u64(), servers, true);
        },
    );
}

// ----- conformance probes: the tester plays the other peers (tests::probe) ----------------

/// A snapshot of `term`'s leader `leader` covering the log through `last` (index, term).
fn install(term: u64, leader: usize, last: (u64, u64)) -> InstallSnapshotArgs {
    InstallSnapshotArgs {
        term,
        leader,
        last_included_index: last.0,
        last_included_term: last.1,
        config: None,
        snapshot: snapshot_of(last.0),
    }
}

/// The snapshot the peer handed its service last, as (index, term, bytes).
fn last_snapshot(p: &Probe) -> Option<(u64, u64, Vec<u8>)> {
    p.applied().into_iter().rev().find_map(|m| match m {
        ApplyMsg::Snapshot {
            index,
            term,
            snapshot,
        } => Some((index, term, snapshot)),
        _ => None,
    })
}

#[test]
fn probe_refuses_a_stale_snapshot_3D() {
    Probe::peers(3).run(
        "Probe (3D): InstallSnapshot of an older term changes nothing",
        |p| {
            p.append_entries(1, append(100, 1, (0, 0), Vec::new(), 0));
            let reply = p.install_snapshot(2, install(99, 2, (10, 99)));
            if reply.term != 100 {
                p.broke(
                    &rules::SNAPSHOT_STALE_TERM,
                    format!("server 0, in term 100, answered a snapshot of term 99 with {reply:?}"),
                );
            }
            p.expect_no_apply_beyond(&rules::SNAPSHOT_STALE_TERM, "a snapshot of term 99", 0);
        },
    );
}

#[test]
fn probe_installs_a_snapshot_3D() {
    Probe::peers(3).run(
        "Probe (3D): installs a snapshot and continues after it",
        |p| {
            p.install_snapshot(1, install(5, 1, (10, 5)));
            p.wait_applied(10, PROMPTLY);
            if last_snapshot(p) != Some((10, 5, snapshot_of(10))) {
                p.broke(
                &rules::SNAPSHOT_INSTALL,
                format!(
                    "server 0 got a snapshot through index 10 of term 5 from leader 1 and handed \
                     its service {:?} (index, term, bytes)",
                    last_snapshot(p)
                ),
            );
            }
            let reply = p.append_entries(1, append(5, 1, (10, 5), entries(5, 11, 11), 11));
            if !reply.success {
                p.broke(
                    &rules::SNAPSHOT_INDICES,
                    format!(
                        "server 0 installed a snapshot through index 10 of term 5 and then refused \
                     index 11 after it: {reply:?}"
                    ),
                );
            }
            let context = "after index 11 with leaderCommit 11";
            p.expect_applied(&rules::SNAPSHOT_INDICES, context, &applied(5, 11, 11));
        },
    );
}

#[test]
fn probe_snapshot_keeps_the_entries_after_it_3D() {
    Probe::peers(3).run(
        "Probe (3D): a snapshot of a prefix keeps the entries after it",
        |p| {
            p.give_log(1, 5, entries(5, 1, 5));
            p.install_snapshot(1, install(5, 1, (3, 5)));
            let reply = p.append_entries(1, append(5, 1, (5, 5), Vec::new(), 5));
            if !reply.success {
                p.broke(
                    &rules::SNAPSHOT_KEEP_SUFFIX,
                    format!(
                        "server 0 held indices 1-5 of term 5, installed a snapshot through index 3 \
                     of term 5, and then no longer held index 5: {reply:?}"
                    ),
                );
            }
            let context = "after a snapshot through 3 and leaderCommit 5";
            p.expect_applied(&rules::SNAPSHOT_KEEP_SUFFIX, context, &applied(5, 4, 5));
        },
    );
}

#[test]
fn probe_an_old_snapshot_changes_nothing_3D() {
    Probe::peers(3).run(
        "Probe (3D): a snapshot older than what was applied changes nothing",
        |p| {
            p.give_log(1, 5, entries(5, 1, 5));
            p.append_entries(1, append(5, 1, (5, 5), Vec::new(), 5));
            p.expect_applied(&rules::FOLLOWER_COMMIT, "leaderCommit 5", &applied(5, 1, 5));
            p.install_snapshot(1, install(5, 1, (3, 5)));
            let reply = p.append_entries(1, append(5, 1, (5, 5), entries(5, 6, 6), 6));
            if !reply.success {
                p.broke(
                    &rules::SNAPSHOT_KEEP_SUFFIX,
                    format!(
                        "server 0 had applied through index 5, got a snapshot through index 3, and \
                     then no longer held index 5: {reply:?}"
                    ),
                );
            }
            p.wait_applied(6, PROMPTLY);
            if p.applied_through() != 6 {
                p.broke(
                    &rules::APPLY_IN_ORDER,
                    format!(
                        "server 0 applied {} after an old snapshot and index 6",
                        show(&p.applied_commands())
                    ),
                );
            }
        },
    );
}

#[test]
fn probe_restarts_from_its_snapshot_3D() {
    Probe::peers(3).run(
        "Probe (3D): a restarted peer continues after its snapshot",
        |p| {
            p.give_log(1, 5, entries(5, 1, 5));
            p.append_entries(1, append(5, 1, (5, 5), Vec::new(), 5));
            p.expect_applied(&rules::FOLLOWER_COMMIT, "leaderCommit 5", &applied(5, 1, 5));
            p.snapshot(3);
            p.restart();
            let reply = p.append_entries(1, append(5, 1, (5, 5), entries(5, 6, 6), 6));
            if !reply.success {
                p.broke(
                &rules::SNAPSHOT_INDICES,
                format!(
                    "server 0 held indices 1-5, snapshotted through 3 and restarted; then it no \
                     longer held index 5 of term 5: {reply:?}"
                ),
            );
            }
            // The service restarted from the snapshot through 3: 4 is due next.
            let context = "the restarted server 0, after a snapshot through 3 and leaderCommit 6";
            p.expect_applied(&rules::SNAPSHOT_INDICES, context, &applied(5, 4, 6));
        },
    );
}

/// Elects the peer, gets commands `k1` … `k<n>` committed — server 1 hears only the
/// first `heard` of them, then is cut off — and has the peer snapshot through `through`;
/// reconnects server 1 and returns the term.
fn leader_with_snapshot(p: &Probe, n: u64, heard: u64, through: u64) -> u64 {
    let term = p.elect();
    for k in 1..=n {
        if k == heard + 1 {
            if !p.wait_applied(heard, PROMPTLY) {
                p.broke(
                    &rules::LEADER_COMMIT,
                    "the followers accepted every entry, and the leader did not apply them",
                );
            }
            p.set_link(0, 1, false);
        }
        p.start(format!("k{k}").as_bytes());
    }
    if !p.wait_applied(n, PROMPTLY) {
        p.broke(
            &rules::LEADER_COMMIT,
            format!(
                "server 2 accepted {n} commands and server 0 applied {}",
                p.applied_through()
            ),
        );
    }
    p.snapshot(through);
    p.set_link(0, 1, true);
    term
}

#[test]
fn probe_leader_sends_its_snapshot_3D() {
    let title = "Probe (3D): a leader sends its snapshot to a follower it lacks entries for";
    Probe::peers(3).run(title, |p| {
        let mark = p.mark();
        let term = leader_with_snapshot(p, 5, 0, 5);
        let sent = p.wait_sent(mark, PROMPTLY, |s| matches!(s, Sent::Snapshot(1, _)));
        match sent {
            Some(Sent::Snapshot(_, a))
                if a.term == term
                    && (a.last_included_index, a.last_included_term) == (5, term)
                    && a.snapshot == snapshot_of(5) => {}
            other => p.broke(
                &rules::SNAPSHOT_SEND,
                format!(
                    "server 0, leader of term {term} with a snapshot through index 5, \
                     reached server 1 that holds nothing; expected an InstallSnapshot of its \
                     snapshot (index 5, term {term}) within {} ms, got {other:?}",
                    PROMPTLY.as_millis()
                ),
            ),
        }
        // Server 1 took it: the leader goes on from index 6, without sending it again
        // (twice at most, should a heartbeat leave before the first reply is in).
        let after = |s: &Sent| matches!(s, Sent::Append(1, a) if a.prev_log_index >= 5);
        let t0 = labrt::time::Instant::now();
        let went_on = p.wait_sent(mark, PROMPTLY, after).is_some();
        p.sleep(PROMPTLY);
        let snapshots = p
            .sent_since(mark)
            .iter()
            .filter(|s| matches!(s, Sent::Snapshot(1, _)))
            .count();
        if !went_on || snapshots > 2 {
            p.broke(
                &rules::SNAPSHOT_REPLY,
                format!(
                    "server 1 took server 0's snapshot through index 5; in the next {:.1} s \
                     server 0 sent it {snapshots} InstallSnapshot requests, and {} after \
                     index 5",
                    t0.elapsed().as_secs_f64(),
                    if went_on { "went on" } else { "nothing" }
                ),
            );
        }
    });
}

#[test]
fn probe_leader_sends_the_entries_after_its_snapshot_3D() {
    let title = "Probe (3D): a leader finds entries after its snapshot by index";
    Probe::peers(3).run(title, |p| {
        let term = leader_with_snapshot(p, 8, 6, 5);
        let mark = p.mark();
        // Server 1 holds index 5 or 6 (it may not have taken 6 before it was cut off): the
        // leader sends the entries after the one it holds, with their commands and terms.
        let from = |prev: u64| -> Vec<Entry> {
            (prev + 1..=8)
                .map(|k| Entry::new(term, format!("k{k}").into_bytes()))
                .collect()
        };
        let carries = |s: &Sent| matches!(s, Sent::Append(1, a) if !a.entries.is_empty());
        match p.wait_sent(mark, PROMPTLY, carries) {
            Some(Sent::Append(_, a))
                if a.prev_log_index >= 5
                    && a.prev_log_term == term
                    && a.entries == from(a.prev_log_index) => {}
            other => p.broke(
                &rules::SNAPSHOT_INDICES,
                format!(
                    "server 0, leader of term {term} with a snapshot through index 5 and \
                     entries 6-8, reached server 1 that holds through index 5 or 6; expected \
                     the entries after the one it holds (k6-k8 or k7-k8, term {term}), got \
                     {other:?}"
                ),
            ),
        }
    });
}

#[test]
fn probe_snapshot_keeps_its_last_entrys_term_3D() {
    let title = "Probe (3D): a snapshot keeps the term of its last entry";
    Probe::peers(3).run(title, |p| {
        p.give_log(1, 5, entries(5, 1, 5));
        p.append_entries(1, append(5, 1, (5, 5), Vec::new(), 5));
        p.expect_applied(&rules::FOLLOWER_COMMIT, "leaderCommit 5", &applied(5, 1, 5));
        // A leader of term 6 takes over; the service snapshots through index 5 (term 5).
        p.append_entries(2, append(6, 2, (5, 5), Vec::new(), 5));
        p.snapshot(5);
        let reply = p.append_entries(2, append(6, 2, (5, 5), entries(6, 6, 6), 6));
        if !reply.success {
            p.broke(
                &rules::SNAPSHOT_INDICES,
                format!(
                    "server 0 snapshotted through index 5, an entry of term 5, while in term \
                     6; then it refused entries after index 5 of term 5: {reply:?}"
                ),
            );
        }
        let mut want = applied(5, 1, 5);
        want.push((6, b"c6.6".to_vec()));
        p.expect_applied(&rules::SNAPSHOT_INDICES, "after index 6", &want);
    });
}
