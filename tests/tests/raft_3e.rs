//! Part 3E: cluster membership change (§6 of the extended Raft paper, Ongaro's thesis
//! ch. 4 and §3.10). No Go suite has this part; the scenarios follow the thesis, TinyKV's
//! project 3 and etcd's and hashicorp's membership tests, with limits in DESIGN.md.
#![allow(non_snake_case)]

use labrt::time::{Duration, Instant};
use std::sync::atomic::{AtomicBool, Ordering};

use raft::ChangeError;
use tests::raft::{Cmd, ELECTION_TIMEOUT, MAX_LOG_SIZE, RaftTest};

/// Gets `n` commands into the log at once through the leader, and waits until `expected`
/// servers have applied the last. Returns its index.
fn fill_log(ts: &RaftTest, n: u64, expected: usize) -> u64 {
    let leader = ts.check_one_leader();
    for k in 0..n {
        ts.start(leader, 100_000 + k);
    }
    ts.one(ts.rand_u64(), expected, true)
}

/// The voters of the first configuration other than `leader`.
fn others(ts: &RaftTest, leader: usize) -> Vec<usize> {
    ts.voters().into_iter().filter(|&v| v != leader).collect()
}

/// Fills the log with `entries` commands, adds server 3, and checks that it holds the
/// whole log and votes: with one old follower cut off, commits need it.
fn add_server_that_votes(ts: &RaftTest, entries: u64) {
    let last = fill_log(ts, entries, 3);
    if ts.log_size() > MAX_LOG_SIZE && ts.snapshots() {
        ts.fatal(format!(
            "log size too large: {} > {MAX_LOG_SIZE}",
            ts.log_size()
        ));
    }
    ts.add_server(3);
    ts.wait(last, 4, None);
    let leader = ts.check_one_leader();
    let follower = others(ts, leader).into_iter().find(|&v| v != 3).unwrap();
    ts.disconnect_all(follower);
    ts.one(1, 3, true);
    ts.connect_one(follower);
    ts.one(2, 4, true);
}

#[test]
fn add_server_3E() {
    RaftTest::reliable(4).first_voters(3).run(
        "Test (3E): add a server that catches up from a long log",
        |ts| add_server_that_votes(ts, 300),
    );
}

#[test]
fn add_server_snapshot_3E() {
    RaftTest::reliable(4).first_voters(3).snapshots().run(
        "Test (3E): add a server that catches up from a snapshot",
        |ts| add_server_that_votes(ts, 200),
    );
}

#[test]
fn learner_votes_only_when_caught_up_3E() {
    RaftTest::reliable(4).first_voters(3).run(
        "Test (3E): a learner gets a vote only once caught up",
        |ts| {
            let last = fill_log(ts, 1000, 3);
            // Server 3 starts cut off: as a learner it can be added (learners do not count
            // towards commits), but it holds nothing of the log.
            ts.start_server(3);
            ts.disconnect_all(3);
            ts.add_learner(3);
            let (leader, raft) = ts.connected_leader().expect("a leader");
            match raft.change_voters(&[0, 1, 2, 3]) {
                Err(ChangeError::NotCaughtUp { .. }) => {}
                Ok((index, _)) => ts.fatal(format!(
                    "leader {leader} made server 3 a voter (configuration at index {index}) while \
                     it held none of the {last} committed entries: a new server gets a vote only \
                     once it has caught up as a learner (thesis §4.2.1)"
                )),
                Err(e) => ts.fatal(format!(
                    "change_voters([0, 1, 2, 3]) with server 3 far behind: expected \
                     NotCaughtUp, got {e:?}"
                )),
            }
            // Commits go on while it catches up and becomes a voter.
            let normal = measure_stall(ts, || ts.sleep(Duration::from_millis(500)));
            ts.connect_one(3);
            let stall = measure_stall(ts, || ts.change_voters(&[0, 1, 2, 3]));
            println!(
                "  ... longest commit: {} ms while server 3 caught up on {last} entries and \
                 was promoted, {} ms before",
                stall.as_millis(),
                normal.as_millis()
            );
            if stall > ELECTION_TIMEOUT {
                ts.fatal(format!(
                    "a commit took {} ms while server 3 was added: adding a server must not \
                     stall commits (thesis §4.2.1: catch it up as a learner first)",
                    stall.as_millis()
                ));
            }
            ts.wait(last, 4, None);
        },
    );
}

/// Runs `change` while committing one command after another, and returns the longest
/// time one took.
fn measure_stall(ts: &RaftTest, change: impl FnOnce()) -> Duration {
    let done = AtomicBool::new(false);
    labrt::thread::scope(|s| {
        let load = s.spawn(|| {
            let mut longest = Duration::ZERO;
            while !done.load(Ordering::Acquire) {
                let t0 = Instant::now();
                ts.one(ts.rand_u64(), 3, true);
                longest = longest.max(t0.elapsed());
            }
            longest
        });
        change();
        done.store(true, Ordering::Release);
        load.join().unwrap_or_else(|p| std::panic::resume_unwind(p))
    })
}

#[test]
fn remove_follower_3E() {
    RaftTest::reliable(3).run("Test (3E): remove a follower", |ts| {
        ts.one(1, 3, true);
        let leader = ts.check_one_leader();
        let removed = others(ts, leader)[0];
        let kept = others(ts, leader)[1];
        ts.remove_server(removed);
        ts.one(2, 2, true);
        // Two voters now: the leader and the removed server must not commit without the
        // other voter.
        ts.disconnect_all(kept);
        let index = ts
            .start(leader, 3)
            .map(|(index, _)| index)
            .unwrap_or_else(|| ts.fatal(format!("server {leader} is no longer the leader")));
        ts.sleep(ELECTION_TIMEOUT);
        let (n, _) = ts.n_committed(index);
        if n > 0 {
            ts.fatal(format!(
                "index {index} committed with the leader and server {removed}, which was \
                 removed: only the voters of the configuration in effect count (§6)"
            ));
        }
        ts.connect_one(kept);
        ts.one(4, 2, true);
    });
}

#[test]
fn remove_leader_3E() {
    RaftTest::reliable(3).run("Test (3E): remove the leader", |ts| {
        ts.one(1, 3, true);
        let leader = ts.check_one_leader();
        let rest = others(ts, leader);
        // With one of the two remaining voters down, C_new cannot commit: the leader must
        // keep leading meanwhile. (Down, not cut off: a cut-off server's term would rise
        // and depose the leader when it came back.)
        ts.shutdown_server(rest[1]);
        let raft = ts.raft(leader).expect("the leader runs");
        let index = match raft.change_voters(&rest) {
            Ok((index, _)) => index,
            Err(e) => ts.fatal(format!("leader {leader} refused to remove itself: {e}")),
        };
        ts.sleep(ELECTION_TIMEOUT);
        if !raft.get_state().1 {
            ts.fatal(format!(
                "leader {leader} stepped down before the configuration that removes it (index \
                 {index}) was committed: a leader that removes itself leads until C_new commits \
                 (thesis §4.2.2)"
            ));
        }
        ts.check_no_agreement(index);
        ts.restart(rest[1]);
        ts.wait_config("the configuration without the leader", |c| {
            !c.voters.contains(&leader)
        });
        // Once C_new is committed the old leader steps down, and the rest elect a leader.
        let t0 = Instant::now();
        while raft.get_state().1 {
            if t0.elapsed() > ELECTION_TIMEOUT {
                ts.fatal(format!(
                    "server {leader} still leads {} ms after the configuration without it \
                     committed: it must step down then (thesis §4.2.2)",
                    t0.elapsed().as_millis()
                ));
            }
            ts.sleep(Duration::from_millis(10));
        }
        let new_leader = ts.check_one_leader();
        if new_leader == leader {
            ts.fatal(format!("removed server {leader} was elected leader again"));
        }
        ts.one(2, 2, true);
        // Nothing committed was lost: every server still agrees on every index.
        ts.wait(index, 3, None);
    });
}

#[test]
fn grow_then_crash_two_3E() {
    RaftTest::reliable(5).first_voters(3).run(
        "Test (3E): grow 3 -> 5, then survive two crashes",
        |ts| {
            ts.one(1, 3, true);
            ts.add_server(3);
            ts.add_server(4);
            ts.one(2, 5, true);
            let leader = ts.check_one_leader();
            ts.shutdown_server(leader);
            ts.shutdown_server((leader + 1) % 5);
            ts.one(3, 3, true);
        },
    );
}

#[test]
fn shrink_5_to_3_3E() {
    RaftTest::reliable(5).run("Test (3E): shrink 5 -> 3", |ts| {
        ts.one(1, 5, true);
        ts.change_voters(&[0, 1, 2]);
        ts.shutdown_server(3);
        ts.shutdown_server(4);
        ts.one(2, 3, true);
        // Three voters: one more crash is survivable (with five it would not be).
        let leader = ts.check_one_leader();
        ts.shutdown_server((leader + 1) % 3);
        ts.one(3, 2, true);
    });
}

#[test]
fn rolling_replacement_unreliable_3E() {
    RaftTest::unreliable(6).first_voters(3).run(
        "Test (3E): replace every server, one at a time, under load",
        |ts| {
            ts.one(1, 3, true);
            let done = AtomicBool::new(false);
            labrt::thread::scope(|s| {
                s.spawn(|| {
                    let mut k = 1_000;
                    while !done.load(Ordering::Acquire) {
                        for i in 0..6 {
                            ts.start(i, k);
                        }
                        k += 1;
                        ts.sleep(Duration::from_millis(10));
                    }
                });
                for old in 0..3 {
                    let new = old + 3;
                    ts.add_server(new);
                    ts.remove_server(old);
                    ts.shutdown_server(old);
                    ts.one(10 + old as u64, 3, true);
                }
                done.store(true, Ordering::Release);
            });
            ts.set_reliable(true);
            ts.one(20, 3, true);
            if ts.voters() != [3, 4, 5] {
                ts.fatal(format!("expected voters [3, 4, 5], got {:?}", ts.voters()));
            }
        },
    );
}

#[test]
fn refused_changes_say_why_3E() {
    RaftTest::reliable(5)
        .first_voters(3)
        .run("Test (3E): refused changes say why", |ts| {
            ts.one(1, 3, true);
            let leader = ts.check_one_leader();
            let follower = others(ts, leader)[0];
            let expect = |what: &str,
                          got: Result<(), ChangeError>,
                          want: fn(&ChangeError) -> bool| match got {
                Err(e) if want(&e) => {}
                Err(e) => ts.fatal(format!("{what}: refused, but for the wrong reason: {e:?}")),
                Ok(()) => ts.fatal(format!("{what}: accepted; it must be refused")),
            };
            let f = ts.raft(follower).unwrap();
            let l = ts.raft(leader).unwrap();
            expect(
                "add_learner on a follower",
                f.add_learner(3).map(drop),
                |e| matches!(e, ChangeError::NotLeader),
            );
            expect(
                "transfer_leadership on a follower",
                f.transfer_leadership(leader),
                |e| matches!(e, ChangeError::NotLeader),
            );
            expect("change_voters([])", l.change_voters(&[]).map(drop), |e| {
                matches!(e, ChangeError::NoVoters)
            });
            expect("add_learner(99)", l.add_learner(99).map(drop), |e| {
                matches!(e, ChangeError::UnknownServer(99))
            });
            expect(
                "transfer to server 4, not a member",
                l.transfer_leadership(4),
                |e| matches!(e, ChangeError::NotAVoter(4)),
            );
            expect(
                "change_voters to the voters in effect",
                l.change_voters(&ts.voters()).map(drop),
                |e| matches!(e, ChangeError::Unchanged),
            );
            // A second change while the first is uncommitted (the leader is cut off).
            for v in others(ts, leader) {
                ts.disconnect_all(v);
            }
            let first = match l.add_learner(3) {
                Ok((index, _)) => index,
                Err(e) => ts.fatal(format!("add_learner(3) on leader {leader}: refused: {e}")),
            };
            match l.add_learner(4) {
                Err(ChangeError::ChangeInFlight { .. }) => {}
                Err(e) => ts.fatal(format!(
                    "a second change while the first (index {first}) is uncommitted: expected \
                 ChangeInFlight, got {e:?}"
                )),
                Ok((second, _)) => ts.fatal(format!(
                    "leader {leader} appended a second configuration (index {second}) while the \
                 first (index {first}) was uncommitted: one change at a time (thesis §4.1)"
                )),
            }
            ts.connect_all();
            ts.wait_config("learner 3", |c| c.learners.contains(&3));
            ts.one(2, 3, true);
        });
}

#[test]
fn joint_consensus_3E() {
    RaftTest::reliable(6).first_voters(3).run(
        "Test (3E): joint consensus {0,1,2} -> {3,4,5}",
        |ts| {
            ts.one(1, 3, true);
            for i in 3..6 {
                ts.start_server(i);
                ts.connect_one(i);
                ts.add_learner(i);
            }
            ts.one(2, 6, true); // every learner caught up
            for i in 3..6 {
                ts.disconnect_all(i);
            }
            let (leader, raft) = ts.connected_leader().expect("a leader");
            let index = match raft.change_voters(&[3, 4, 5]) {
                Ok((index, _)) => index,
                Err(e) => ts.fatal(format!("change_voters([3, 4, 5]) refused: {e}")),
            };
            let joint = ts.membership(leader);
            if !joint.is_joint() {
                ts.fatal(format!(
                    "after change_voters([3, 4, 5]) leader {leader} uses {joint}: a change of \
                     more than one voter must go through the joint configuration C_old,new \
                     (§6), which takes effect when it is appended"
                ));
            }
            // The old voters alone cannot commit C_old,new.
            ts.sleep(ELECTION_TIMEOUT);
            if ts.n_committed(index).0 > 0 {
                ts.fatal(format!(
                    "the joint configuration (index {index}) was committed by the old voters \
                     alone: C_old,new needs a majority of the new voters too (§6)"
                ));
            }
            // Nor can all the old voters and one new one: a majority of all six, but not of
            // each set.
            ts.connect_one(3);
            ts.sleep(ELECTION_TIMEOUT);
            if ts.n_committed(index).0 > 0 {
                ts.fatal(format!(
                    "the joint configuration (index {index}) was committed by {{0,1,2,3}}: a \
                     majority of all six, but only one of the new voters; joint consensus \
                     needs a separate majority of each set (§6)"
                ));
            }
            ts.connect_one(4);
            ts.wait_config("C_new = {3,4,5}", |c| {
                !c.is_joint() && c.voters.iter().eq([3, 4, 5].iter())
            });
            for i in 0..3 {
                ts.shutdown_server(i);
            }
            ts.connect_one(5);
            ts.one(3, 3, true);
        },
    );
}

#[test]
fn single_server_bug_scripted_3E() {
    RaftTest::reliable(5).first_voters(4).run("Test (3E): Ongaro's single-server change bug (raft-dev, 2015)", |ts| {
            ts.one(1, 4, true);
            let l = ts.check_one_leader();
            ts.start_server(4);
            ts.connect_one(4);
            ts.add_learner(4);
            ts.one(2, 5, true);
            let abc = others(ts, l);

            // 1. The leader, cut off with server 4 alone, starts adding 4: its entry D
            //    reaches 4 and nobody else, so it stays uncommitted.
            ts.partition(&[l, 4], &abc);
            let raft_l = ts.raft(l).expect("the leader runs");
            let d = match raft_l.change_voters(&[0, 1, 2, 3, 4]) {
                Ok((index, _)) => index,
                Err(e) => ts.fatal(format!("leader {l} refused to add server 4: {e}")),
            };
            ts.sleep(Duration::from_millis(200));

            // 2. The other three elect a leader M of a later term under the old
            //    configuration. Then one of them, x, is cut off: M and the last one, y, are
            //    not a majority of the old four, so M can commit nothing of its term.
            let m = loop {
                let m = ts.check_one_leader();
                if abc.contains(&m) {
                    break m;
                }
            };
            let (term_m, _) = ts.get_state(m);
            let x = *abc.iter().find(|&&s| s != m).unwrap();
            let y = *abc.iter().find(|&&s| s != m && s != x).unwrap();
            ts.disconnect_all(x);
            let raft_m = ts.raft(m).expect("M runs");
            let without_x: Vec<usize> = [l, m, y].into_iter().collect();
            match raft_m.change_voters(&without_x) {
                // What a correct leader says: it must first commit an entry of its term.
                Err(ChangeError::NothingCommittedInTerm { .. }) => {}
                Err(e) => ts.fatal(format!(
                    "leader {m} (term {term_m}), with nothing of its term committed, refused \
                     to remove server {x} for the wrong reason: {e:?}"
                )),
                Ok((e_index, _)) => {
                    // Either M committed an entry of its term (say a no-op) before x was
                    // cut off — then x holds it and will not elect the old leader — or M
                    // broke the rule. The outcome tells.
                    ts.wait(e_index, 2, None);
                    ts.partition(&[l, 4, x], &[m, y]);
                    let t0 = Instant::now();
                    while t0.elapsed() < 3 * ELECTION_TIMEOUT {
                        for s in [l, 4, x] {
                            let (term, leader) = ts.get_state(s);
                            if leader && term > term_m {
                                ts.fatal(format!(
                                    "server {s} was elected in term {term} by servers {{{l},4,{x}}} \
                                     under the configuration adding 4 (index {d}, never \
                                     committed), while servers {{{m},{y}}} had committed the \
                                     configuration removing {x} (index {e_index}): two \
                                     majorities that do not overlap. A leader must commit an \
                                     entry of its own term before it appends a configuration \
                                     entry (Ongaro's fix, raft-dev 2015)"
                                ));
                            }
                        }
                        ts.sleep(Duration::from_millis(20));
                    }
                }
            }
            ts.connect_all();
            ts.one(3, 4, true);
        },
    );
}

#[test]
fn removed_server_does_not_disrupt_3E() {
    RaftTest::reliable(3).run(
        "Test (3E): a removed server cannot disrupt the cluster",
        |ts| {
            ts.one(1, 3, true);
            let leader = ts.check_one_leader();
            let removed = others(ts, leader)[0];
            // Removed while cut off, it never learns it was removed: it keeps timing out
            // and campaigning, in ever higher terms.
            ts.disconnect_all(removed);
            ts.remove_server(removed);
            ts.one(2, 2, true);
            ts.sleep(3 * ELECTION_TIMEOUT);
            let (high, _) = ts.get_state(removed);
            let (term, _) = ts.get_state(leader);
            ts.connect_one(removed);
            ts.sleep(2 * ELECTION_TIMEOUT);
            for s in ts.voters() {
                let (now, _) = ts.get_state(s);
                if now != term {
                    ts.fatal(format!(
                        "server {removed}, removed from the cluster, came back in term {high} \
                         and moved server {s} from term {term} to {now}: a server that heard \
                         from a leader within the minimum election timeout ignores RequestVote \
                         (thesis §4.2.3)"
                    ));
                }
            }
            if !ts.get_state(leader).1 {
                ts.fatal(format!(
                    "leader {leader} was deposed by the removed server {removed}'s return"
                ));
            }
            ts.one(3, 2, true);
        },
    );
}

#[test]
fn transfer_leadership_3E() {
    RaftTest::reliable(3).run("Test (3E): leadership transfer", |ts| {
        ts.one(1, 3, true);
        // To an up-to-date follower.
        let leader = ts.check_one_leader();
        let target = others(ts, leader)[0];
        ts.transfer_leadership(target);
        ts.one(2, 3, true);

        // To a follower that lags: the leader catches it up first, and takes no commands
        // meanwhile.
        let leader = ts.check_one_leader();
        let lagging = others(ts, leader)[0];
        ts.disconnect_all(lagging);
        for k in 0..50 {
            ts.start(leader, 1_000 + k);
        }
        ts.one(3, 2, true);
        ts.connect_one(lagging);
        let raft = ts.raft(leader).expect("the leader runs");
        if let Err(e) = raft.transfer_leadership(lagging) {
            ts.fatal(format!("transfer_leadership({lagging}) refused: {e}"));
        }
        if let Some((index, _)) = raft.start(Cmd::Int(4).encode()) {
            ts.fatal(format!(
                "leader {leader} accepted a command (index {index}) while transferring \
                 leadership to {lagging}: it must take none until the transfer ends (thesis \
                 §3.10)"
            ));
        }
        let t0 = Instant::now();
        while !ts.get_state(lagging).1 {
            if t0.elapsed() > tests::raft::TRANSFER_LIMIT {
                ts.fatal(format!(
                    "leadership did not move from server {leader} to the lagging server \
                     {lagging} within {} ms: catch it up, then TimeoutNow (thesis §3.10)",
                    tests::raft::TRANSFER_LIMIT.as_millis()
                ));
            }
            ts.sleep(Duration::from_millis(10));
        }
        ts.one(5, 3, true);

        // To a server that is then removed: it removes itself, steps down, and the others
        // elect a leader.
        let leader = ts.check_one_leader();
        let target = others(ts, leader)[0];
        ts.transfer_leadership(target);
        ts.remove_server(target);
        let new_leader = ts.check_one_leader();
        if new_leader == target {
            ts.fatal(format!("removed server {target} still leads"));
        }
        ts.one(6, 2, true);
    });
}

#[test]
fn membership_survives_restart_3E() {
    RaftTest::reliable(5).first_voters(3).snapshots().run(
        "Test (3E): the configuration survives restarts and snapshots",
        |ts| {
            ts.one(1, 3, true);
            ts.add_server(3);
            ts.remove_server(0);
            // Enough commands that snapshots cut the log past the configuration entries.
            fill_log(ts, 40, 3);
            let config = ts.committed_config();
            for i in 0..4 {
                ts.shutdown_server(i);
            }
            for i in 0..4 {
                ts.start_server(i);
            }
            ts.connect_all();
            // Server 0 may not know of its removal: the leader stops sending to a server
            // once the configuration without it is appended.
            for i in config.members() {
                let after = ts.membership(i);
                if after != config {
                    ts.fatal(format!(
                        "server {i} restarted with {after}, but {config} was committed: a \
                         configuration is kept with the log, and in the snapshot's cut"
                    ));
                }
            }
            let leader = ts.check_one_leader();
            if leader == 0 {
                ts.fatal("server 0, removed, was elected after a restart");
            }
            ts.one(2, 3, true);

            // A learner that gets the configuration from a snapshot keeps it across a
            // restart.
            ts.start_server(4);
            ts.disconnect_all(4);
            ts.add_learner(4);
            fill_log(ts, 40, 3);
            ts.connect_one(4);
            ts.one(3, 4, true);
            ts.shutdown_server(4);
            ts.restart(4);
            let learner = ts.membership(4);
            if !learner.learners.contains(&4) || learner.voters != config.voters {
                ts.fatal(format!(
                    "learner 4, restarted after installing a snapshot, uses {learner}: \
                     InstallSnapshot carries the configuration at its index"
                ));
            }
            ts.change_voters(&[1, 2, 3, 4]);
            ts.shutdown_server(1);
            ts.one(4, 3, true);
        },
    );
}

#[test]
fn uncommitted_config_reverts_3E() {
    RaftTest::reliable(4).first_voters(3).run(
        "Test (3E): a configuration takes effect when appended, and reverts when truncated",
        |ts| {
            ts.one(1, 3, true);
            let leader = ts.check_one_leader();
            ts.start_server(3);
            ts.disconnect_all(leader);
            let raft = ts.raft(leader).expect("the leader runs");
            let index = match raft.add_learner(3) {
                Ok((index, _)) => index,
                Err(e) => ts.fatal(format!("add_learner(3) on leader {leader}: refused: {e}")),
            };
            let now = raft.membership();
            if !now.learners.contains(&3) {
                ts.fatal(format!(
                    "leader {leader} uses {now} right after appending the configuration with \
                     learner 3 (index {index}): a configuration takes effect when it is \
                     appended, not when it commits (thesis §4.1)"
                ));
            }
            // The others elect a new leader and overwrite that index.
            ts.one(2, 2, true);
            ts.connect_one(leader);
            ts.one(3, 3, true);
            let after = ts.membership(leader);
            if after.learners.contains(&3) {
                ts.fatal(format!(
                    "server {leader} still uses {after} after its configuration entry (index \
                     {index}) was overwritten: it must go back to the configuration before it \
                     (thesis §4.1)"
                ));
            }
        },
    );
}

#[test]
fn churn_3E() {
    RaftTest::unreliable(6).first_voters(3).run(
        "Test (3E): membership churn with crashes and partitions",
        |ts| {
            ts.one(1, 3, true);
            let t0 = Instant::now();
            let mut k = 10;
            while t0.elapsed() < Duration::from_secs(15) {
                let voters = ts.voters();
                let outside: Vec<usize> = (0..6).filter(|i| !voters.contains(i)).collect();
                match ts.rand_below(4) {
                    0 if voters.len() < 5 && !outside.is_empty() => {
                        let i = outside[ts.rand_below(outside.len() as u64) as usize];
                        ts.add_server(i);
                    }
                    1 if voters.len() > 3 => {
                        let i = voters[ts.rand_below(voters.len() as u64) as usize];
                        ts.remove_server(i);
                        ts.shutdown_server(i);
                    }
                    2 => {
                        // Crash and restart a voter: a minority is down for a moment.
                        let i = voters[ts.rand_below(voters.len() as u64) as usize];
                        ts.shutdown_server(i);
                        ts.one(k, voters.len() - 1, true);
                        k += 1;
                        ts.restart(i);
                    }
                    _ => {
                        let i = voters[ts.rand_below(voters.len() as u64) as usize];
                        ts.disconnect_all(i);
                        ts.one(k, voters.len() - 1, true);
                        k += 1;
                        ts.connect_one(i);
                    }
                }
                ts.one(k, ts.voters().len(), true);
                k += 1;
            }
            ts.set_reliable(true);
            ts.one(k, ts.voters().len(), true);
        },
    );
}
