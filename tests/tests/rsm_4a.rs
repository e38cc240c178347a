//! Part 4A: the replicated state machine (and its snapshot test, part 4C). Ported from
//! the 6.5840 (2025) `kvraft1/rsm/rsm_test.go`.
#![allow(non_snake_case)]

use labrt::thread;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use tests::harness::set_within;
use tests::rsm::{CounterOp, CounterReply, NSEC, NSRV, RsmTest};

/// Each server executes the increments and updates its counter.
#[test]
fn basic_4A() {
    RsmTest::setup().run("Test RSM basic", |ts| {
        for i in 0..10 {
            let n = ts.one_inc();
            if n != i + 1 {
                ts.fatal(format!("expected {} instead of {n}", i + 1));
            }
            ts.check_counter(n, NSRV);
        }
    });
}

/// Submitting concurrently.
#[test]
fn concurrent_4A() {
    RsmTest::setup().run("Test concurrent submit", |ts| {
        thread::scope(|s| {
            for _ in 0..50 {
                s.spawn(|| ts.one_inc());
            }
        });
        ts.check_counter(50, NSRV);
    });
}

/// Each server executes increments after the leader is disconnected and reconnected.
#[test]
fn leader_failure_4A() {
    RsmTest::setup().run("Test Leader Failure", |ts| {
        let n = ts.one_inc();
        ts.check_counter(n, NSRV);

        let l = ts.disconnect_leader();
        let n = ts.one_inc();
        ts.check_counter(n, NSRV - 1);

        ts.connect_one(l);
        ts.check_counter(n, NSRV);
    });
}

/// A partitioned leader doesn't commit an operation.
#[test]
fn leader_partition_4A() {
    RsmTest::setup().run("Test Leader Partition", |ts| {
        let n = ts.one_inc();
        ts.check_counter(n, NSRV);

        // Partition the leader.
        let l = ts.find_leader().unwrap_or(0);
        let (p1, p2) = ts.make_partition(l);
        ts.partition(&p1, &p2);

        let done = AtomicBool::new(false);
        let (rep, healed_in_time) = thread::scope(|s| {
            // Submit many Decs concurrently: many Raft starts, none of which may commit.
            let submitter = s.spawn(|| {
                let server = ts.server(l);
                thread::scope(|inner| {
                    for i in 0..100 {
                        let server = server.clone();
                        inner.spawn(move || {
                            if let Some(server) = server
                                && let Ok(rep) = server.submit(CounterOp::Dec)
                            {
                                ts.fatal(format!("Submit {i} in minority completed {rep:?}"));
                            }
                        });
                    }
                });
                done.store(true, Ordering::Release);
            });

            // Give the old leader some time to submit.
            thread::sleep(Duration::from_millis(10));

            // Submit an Inc in the majority.
            let rep = ts.one_partition(Some(&p1), CounterOp::Inc);

            if set_within(&done, Duration::from_secs(1)) {
                ts.fatal("Dec's in minority completed; Submit returns");
            }

            // Reconnect the leader: with three servers that heals every partition.
            ts.connect_one(l);
            let healed = set_within(&done, Duration::from_secs(1));
            tests::harness::join(submitter);
            (rep, healed)
        });
        if !healed_in_time {
            ts.fatal("Submit after healing didn't return");
        }
        match rep {
            Some(CounterReply::Inc(n)) => ts.check_counter(n, NSRV),
            other => ts.fatal(format!("the Inc in the majority returned {other:?}")),
        }
    });
}

/// 100 increments, then a restart of everything must replay them.
fn hundred_incs_and_restart(ts: &RsmTest, message: &str) {
    for i in 0..100 {
        let n = ts.one_inc();
        if n != i + 1 {
            ts.fatal(format!("expected {} instead of {n}", i + 1));
        }
        ts.check_counter(n, NSRV);
    }

    ts.shutdown();
    thread::sleep(Duration::from_secs(1));
    ts.start_servers();

    let n = ts.one_inc();
    if n != 101 {
        ts.fatal(format!("{message} {} got {n}", 101));
    }
    thread::sleep(Duration::from_secs(1));
}

/// A restart replays the increments.
#[test]
fn restart_replay_4A() {
    RsmTest::setup().run("Test Restart", |ts| {
        hundred_incs_and_restart(ts, "expected");
        ts.check_counter(101, NSRV);
    });
}

/// Submits while the servers shut down; every submit must return.
fn submit_during_shutdown(ts: &RsmTest) {
    let done = AtomicBool::new(false);
    thread::scope(|s| {
        s.spawn(|| {
            thread::scope(|inner| {
                for _ in 0..100 {
                    inner.spawn(|| ts.one_null());
                }
            });
            done.store(true, Ordering::Release);
        });
        // Give the submits some time to start.
        thread::sleep(Duration::from_millis(20));
        ts.shutdown();
        if !set_within(&done, Duration::from_secs(NSEC + 1)) {
            ts.fatal("Submit didn't stop after shutdown");
        }
    });
}

/// Submit terminates once the tester's shutdown has killed Raft: killing Raft must close
/// its apply channel, which tells the rsm it is done.
#[test]
fn shutdown_4A() {
    RsmTest::setup().run("Test Shutdown", submit_during_shutdown);
}

/// Operations submitted after a restart are not confused with ones from before.
#[test]
fn restart_submit_4A() {
    RsmTest::setup().run("Test Restart and submit", |ts| {
        hundred_incs_and_restart(ts, "Expected");
        submit_during_shutdown(ts);
        ts.start_servers();
        let n = ts.one_inc();
        ts.check_counter(n, NSRV);
    });
}

/// Snapshots are taken and a restart restores from them.
#[test]
fn snapshot_4C() {
    const MAXRAFTSTATE: usize = 1000;
    RsmTest::setup().max_raft_state(MAXRAFTSTATE).run(
        "Test creating and restoring snapshot",
        |ts| {
            for _ in 0..100 {
                ts.one_inc();
            }
            ts.check_counter(100, NSRV);

            let size = ts.log_size();
            if size > 2 * MAXRAFTSTATE {
                ts.fatal(format!(
                    "logs were not trimmed ({size} > 2 * {MAXRAFTSTATE})"
                ));
            }

            // The rsm must have made snapshots by now: restart everything from them.
            ts.shutdown();
            ts.start_servers();

            // The restarted servers do one increment.
            ts.one_inc();
            ts.check_counter(101, NSRV);
        },
    );
}
