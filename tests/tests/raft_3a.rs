//! Part 3A: leader election. Ported from the 6.5840 (2025) `raft1/raft_test.go`.
#![allow(non_snake_case)]

use tests::raft::{ELECTION_TIMEOUT, RaftTest};

#[test]
fn initial_election_3A() {
    RaftTest::reliable(3).run("Test (3A): initial election", |ts| {
        // Is a leader elected?
        ts.check_one_leader();

        // Sleep a bit to avoid racing with followers learning of the election, then check
        // that all peers agree on the term.
        ts.sleep(std::time::Duration::from_millis(50));
        let term1 = ts.check_terms();
        if term1 < 1 {
            ts.fatal(format!("term is {term1}, but should be at least 1"));
        }

        // Do the leader and term stay the same if there is no network failure?
        ts.sleep(2 * ELECTION_TIMEOUT);
        let term2 = ts.check_terms();
        if term1 != term2 {
            println!("warning: term changed even though there were no failures");
        }

        // There should still be a leader.
        ts.check_one_leader();
    });
}

#[test]
fn re_election_3A() {
    RaftTest::reliable(3).run("Test (3A): election after network failure", |ts| {
        let servers = ts.servers();
        let leader1 = ts.check_one_leader();

        // If the leader disconnects, a new one should be elected.
        ts.disconnect_all(leader1);
        ts.check_one_leader();

        // If the old leader rejoins, that shouldn't disturb the new leader, and the old
        // leader should switch to follower.
        ts.connect_one(leader1);
        let leader2 = ts.check_one_leader();

        // If there's no quorum, no new leader should be elected.
        ts.disconnect_all(leader2);
        ts.disconnect_all((leader2 + 1) % servers);
        ts.sleep(2 * ELECTION_TIMEOUT);

        // Check that the one connected server does not think it is the leader.
        ts.check_no_leader();

        // If a quorum arises, it should elect a leader.
        ts.connect_one((leader2 + 1) % servers);
        ts.check_one_leader();

        // Re-join of the last node shouldn't prevent a leader from existing.
        ts.connect_one(leader2);
        ts.check_one_leader();
    });
}

#[test]
fn many_elections_3A() {
    RaftTest::reliable(7).run("Test (3A): multiple elections", |ts| {
        let servers = ts.servers() as u64;
        ts.check_one_leader();

        for _ in 1..10 {
            // Disconnect three nodes (possibly the same one more than once).
            let i1 = ts.rand_below(servers) as usize;
            let i2 = ts.rand_below(servers) as usize;
            let i3 = ts.rand_below(servers) as usize;
            ts.disconnect_all(i1);
            ts.disconnect_all(i2);
            ts.disconnect_all(i3);

            // Either the current leader should still be alive, or the remaining four should
            // elect a new one.
            ts.check_one_leader();

            ts.connect_one(i1);
            ts.connect_one(i2);
            ts.connect_one(i3);
        }
        ts.check_one_leader();
    });
}
