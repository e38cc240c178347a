//! Part 3D: log compaction with snapshots. Ported from the 6.5840 (2025)
//! `raft1/raft_test.go`; the tester asks every peer for a snapshot after every
//! `SNAPSHOT_INTERVAL` commands and checks the snapshots peers install.
#![allow(non_snake_case)]

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
