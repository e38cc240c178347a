//! Part 4C: the key/value service with snapshots. Ported from the 6.5840 (2025)
//! `kvraft1/kvraft_test.go`.
#![allow(non_snake_case)]

use labrt::thread;

use tests::kv::{ELECTION_TIMEOUT, KvTest};

const MAXRAFTSTATE: usize = 1000;

/// If one server falls behind and then rejoins, does it recover through InstallSnapshot?
/// Also checks that the majority discards committed log entries even if the minority
/// does not respond.
#[test]
fn snapshot_rpc_4C() {
    KvTest::setup("4C SnapshotsRPC")
        .clients(0)
        .servers(3)
        .max_raft_state(MAXRAFTSTATE)
        .run(|ts| {
            let ck = ts.make_clerk();

            let vera = ts.put_at_least_once(&ck, "a", "A", 0, 0);
            ts.check_get(&ck, "a", "A", vera);

            // A bunch of puts into the majority partition.
            ts.partition(&[0, 1], &[2]);
            let verb = {
                let ck1 = ts.make_clerk_to(&[0, 1]);
                for i in 0..50 {
                    ts.put_at_least_once(&ck1, &i.to_string(), &i.to_string(), 0, 0);
                }
                thread::sleep(ELECTION_TIMEOUT);
                ts.put_at_least_once(&ck1, "b", "B", 0, 0)
            };

            // The majority partition has thrown away most of its log entries.
            let size = ts.log_size();
            if size > 8 * MAXRAFTSTATE {
                ts.fatal(format!("logs were not trimmed ({size} > 8*{MAXRAFTSTATE})"));
            }

            // Now a group that needs the lagging server, so that it has to catch up.
            ts.partition(&[0, 2], &[1]);
            {
                let ck1 = ts.make_clerk_to(&[0, 2]);
                ts.put_at_least_once(&ck1, "c", "C", 0, 0);
                ts.put_at_least_once(&ck1, "d", "D", 0, 0);
                ts.check_get(&ck1, "a", "A", vera);
                ts.check_get(&ck1, "b", "B", verb);
                ts.check_get(&ck1, "1", "1", 1);
                ts.check_get(&ck1, "49", "49", 1);
            }

            // Now everybody.
            ts.partition(&[0, 1, 2], &[]);

            let vere = ts.put_at_least_once(&ck, "e", "E", 0, 0);
            ts.check_get(&ck, "c", "C", 1);
            ts.check_get(&ck, "e", "E", vere);
            ts.check_get(&ck, "1", "1", 1);
        });
}

/// Snapshots are not too large: 500 bytes is generous for these operations.
#[test]
fn snapshot_size_4C() {
    KvTest::setup("4C snapshot size is reasonable")
        .clients(0)
        .servers(3)
        .max_raft_state(MAXRAFTSTATE)
        .run(|ts| {
            const MAX_SNAPSHOT: usize = 500;
            let ck = ts.make_clerk();

            let mut ver = 0;
            for _ in 0..200 {
                ver = ts.put_at_least_once(&ck, "x", "0", ver, 0);
                ts.check_get(&ck, "x", "0", ver);
                ver = ts.put_at_least_once(&ck, "x", "1", ver + 1, 0);
                ts.check_get(&ck, "x", "1", ver);
                ver += 1;
            }

            // The servers have thrown away most of their log entries...
            let size = ts.log_size();
            if size > 8 * MAXRAFTSTATE {
                ts.fatal(format!("logs were not trimmed ({size} > 8*{MAXRAFTSTATE})"));
            }
            // ...and their snapshots are not unreasonably large.
            let snapshot = ts.snapshot_size();
            if snapshot > MAX_SNAPSHOT {
                ts.fatal(format!("snapshot too large ({snapshot} > {MAX_SNAPSHOT})"));
            }
        });
}

#[test]
fn speed_4C() {
    KvTest::setup("4C speed")
        .clients(1)
        .servers(3)
        .max_raft_state(MAXRAFTSTATE)
        .run(|ts| ts.generic_test_speed());
}

#[test]
fn snapshot_recover_4C() {
    KvTest::setup("4C restarts, snapshots, one client")
        .clients(1)
        .servers(5)
        .crashes()
        .max_raft_state(MAXRAFTSTATE)
        .run(|ts| ts.generic_test());
}

#[test]
fn snapshot_recover_many_clients_4C() {
    KvTest::setup("4C restarts, snapshots, many clients ")
        .clients(20)
        .servers(5)
        .crashes()
        .max_raft_state(MAXRAFTSTATE)
        .run(|ts| ts.generic_test());
}

#[test]
fn snapshot_unreliable_4C() {
    KvTest::setup("4C unreliable net, snapshots, many clients")
        .clients(5)
        .servers(5)
        .unreliable()
        .max_raft_state(MAXRAFTSTATE)
        .run(|ts| ts.generic_test());
}

#[test]
fn snapshot_unreliable_recover_4C() {
    KvTest::setup("4C unreliable net, restarts, snapshots, many clients")
        .clients(5)
        .servers(5)
        .unreliable()
        .crashes()
        .max_raft_state(MAXRAFTSTATE)
        .run(|ts| ts.generic_test());
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_4C() {
    KvTest::setup("4C unreliable net, restarts, partitions, snapshots, many clients")
        .clients(5)
        .servers(5)
        .unreliable()
        .crashes()
        .partitions()
        .max_raft_state(MAXRAFTSTATE)
        .run(|ts| ts.generic_test());
}

#[test]
fn snapshot_unreliable_recover_concurrent_partition_linearizable_4C() {
    KvTest::setup("4C unreliable net, restarts, partitions, snapshots, random keys, many clients")
        .clients(15)
        .servers(7)
        .unreliable()
        .crashes()
        .partitions()
        .max_raft_state(MAXRAFTSTATE)
        .random_keys()
        .run(|ts| ts.generic_test());
}

/// raftlab's addition to Go's list: puts are exactly-once, so a put retried after every
/// server restarted from a snapshot must get its first answer. A server whose snapshot
/// lacks the duplicate table applies the retry again and answers `ErrVersion` for a put
/// that happened. Go's randomized tests see this only when a retry happens to straddle a
/// snapshot restore.
#[test]
fn duplicate_put_after_restart_4C() {
    KvTest::setup("4C duplicate detection across a restart").clients(0).servers(3).crashes().max_raft_state(MAXRAFTSTATE).run(|ts| {
            use kvraft::rpc::{PutArgs, RequestId};

            let ck = ts.make_clerk();
            // A put whose reply its clerk never saw.
            let put = PutArgs {
                key: "dup".into(),
                value: "first".into(),
                version: 0,
                id: RequestId {
                    clerk: 0x5eed_d0b1e,
                    seq: 1,
                },
            };
            if let Err(e) = ts.raw_put(&ck, &put) {
                ts.fatal(format!("the first Put returned {e}"));
            }

            // Enough puts that every server snapshots past it.
            let mut ver = 0;
            for i in 0..100 {
                ver = ts.put_at_least_once(&ck, "fill", &i.to_string(), ver, 0) + 1;
            }
            ts.check_sizes();
            for i in 0..ts.servers() {
                if ts.persister(i).snapshot_size() == 0 {
                    ts.fatal(format!("server {i} has taken no snapshot after 100 puts"));
                }
            }

            // Every server restarts from its snapshot.
            for i in 0..ts.servers() {
                ts.shutdown_server(i);
            }
            for i in 0..ts.servers() {
                ts.start_server(i);
            }
            ts.connect_all();

            // The clerk retries: it must get the first answer, and the put must not repeat.
            match ts.raw_put(&ck, &put) {
            Ok(()) => {}
            Err(e) => ts.fatal(format!(
                "a retried Put got {e} after a restart: the duplicate table did not survive the snapshot"
            )),
        }
            ts.check_get(&ck, "dup", "first", 1);
        },
    );
}
