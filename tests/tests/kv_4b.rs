//! Part 4B: the versioned key/value service on Raft, without snapshots. Ported from the
//! 6.5840 (2025) `kvraft1/kvraft_test.go`; the network settings are Go's, including its
//! quirks (the "unreliable net, restarts" tests run on a reliable network in Go too).
#![allow(non_snake_case)]

use labrt::thread;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use kvraft::Error;
use tests::harness::set_within;
use tests::kv::{ELECTION_TIMEOUT, KvTest};

#[test]
fn basic_4B() {
    KvTest::setup("4B basic")
        .clients(1)
        .servers(5)
        .run(|ts| ts.generic_test());
}

#[test]
fn speed_4B() {
    KvTest::setup("4B speed")
        .clients(1)
        .servers(3)
        .run(|ts| ts.generic_test_speed());
}

#[test]
fn concurrent_4B() {
    KvTest::setup("4B many clients")
        .clients(5)
        .servers(5)
        .run(|ts| ts.generic_test());
}

#[test]
fn unreliable_4B() {
    KvTest::setup("4B unreliable net, many clients")
        .clients(5)
        .servers(5)
        .unreliable()
        .run(|ts| ts.generic_test());
}

/// A request in the minority partition must not go through until the partition heals;
/// the original leader ends up in the minority.
#[test]
fn one_partition_4B() {
    KvTest::setup("4B progress in majority")
        .clients(0)
        .servers(5)
        .unreliable()
        .run(|ts| {
            let ck = ts.make_clerk();
            let ver0 = ts.put_at_least_once(&ck, "1", "13", 0, 0);

            let l = ts.find_leader().unwrap_or(0);
            let (p1, p2) = ts.make_partition(l);
            ts.partition(&p1, &p2);

            let ckp1 = ts.make_clerk_to(&p1);
            let ckp2a = ts.make_clerk_to(&p2);
            let ckp2b = ts.make_clerk_to(&p2);

            let ver1 = ts.put_at_least_once(&ckp1, "1", "14", ver0 + 1, 0);
            ts.check_get(&ckp1, "1", "14", ver1);

            // No progress in the minority.
            let (put_done, get_done) = (AtomicBool::new(false), AtomicBool::new(false));
            thread::scope(|s| {
                s.spawn(|| {
                    ts.put_at_least_once(&ckp2a, "1", "15", ver1 + 1, 0);
                    put_done.store(true, Ordering::Release);
                });
                s.spawn(|| {
                    let _ = ts.get(&ckp2b, "1", 0);
                    get_done.store(true, Ordering::Release);
                });

                thread::sleep(Duration::from_secs(1));
                if put_done.load(Ordering::Acquire) {
                    ts.fatal("Put in minority completed");
                }
                if get_done.load(Ordering::Acquire) {
                    ts.fatal("Get in minority completed");
                }

                ts.check_get(&ckp1, "1", "14", ver1);
                let ver2 = ts.put_at_least_once(&ckp1, "1", "16", ver1 + 1, 0);
                ts.check_get(&ckp1, "1", "16", ver2);

                // Completion after heal.
                ts.connect_all();
                ts.connect_clerk(&ckp2a);
                ts.connect_clerk(&ckp2b);

                thread::sleep(ELECTION_TIMEOUT);

                if !set_within(&put_done, Duration::from_secs(3)) {
                    ts.fatal("Put did not complete");
                }
                // Go's test does not wait for the Get here (its select has a default branch).

                ts.check_get(&ck, "1", "15", ver2 + 1);
            });
        });
}

#[test]
fn many_partitions_one_client_4B() {
    KvTest::setup("4B partitions, one client")
        .clients(1)
        .servers(5)
        .unreliable()
        .partitions()
        .run(|ts| ts.generic_test());
}

#[test]
fn many_partitions_many_clients_4B() {
    KvTest::setup("4B partitions, many clients (4B)")
        .clients(5)
        .servers(5)
        .unreliable()
        .partitions()
        .run(|ts| ts.generic_test());
}

#[test]
fn persist_one_client_4B() {
    KvTest::setup("4B restarts, one client 4B ")
        .clients(1)
        .servers(5)
        .unreliable()
        .crashes()
        .run(|ts| ts.generic_test());
}

#[test]
fn persist_concurrent_4B() {
    KvTest::setup("4B restarts, many clients")
        .clients(5)
        .servers(5)
        .unreliable()
        .crashes()
        .run(|ts| ts.generic_test());
}

#[test]
fn persist_concurrent_unreliable_4B() {
    KvTest::setup("4B unreliable net, restarts, many clients ")
        .clients(5)
        .servers(5)
        .crashes()
        .run(|ts| ts.generic_test());
}

#[test]
fn persist_partition_4B() {
    KvTest::setup("4B restarts, partitions, many clients")
        .clients(5)
        .servers(5)
        .unreliable()
        .crashes()
        .partitions()
        .run(|ts| ts.generic_test());
}

#[test]
fn persist_partition_unreliable_4B() {
    KvTest::setup("4B unreliable net, restarts, partitions, many clients")
        .clients(5)
        .servers(5)
        .crashes()
        .partitions()
        .run(|ts| ts.generic_test());
}

#[test]
fn persist_partition_unreliable_linearizable_4B() {
    KvTest::setup("4B unreliable net, restarts, partitions, random keys, many clients")
        .clients(15)
        .servers(7)
        .crashes()
        .partitions()
        .random_keys()
        .run(|ts| ts.generic_test());
}

/// Not in Go's suite: a put with a version above 0 on a missing key is refused with
/// ErrNoKey, and creates nothing (none of Go's workloads makes one, so a server that
/// creates the key anyway passes all of them).
#[test]
fn put_of_a_missing_key_4B() {
    KvTest::setup("4B a put above version 0 of a missing key")
        .clients(1)
        .servers(3)
        .run(|ts| {
            let ck = ts.make_clerk();
            match ts.put(&ck, "missing", "x", 1, 0) {
                Err(Error::NoKey) => {}
                other => ts.fatal(format!(
                    "Put(\"missing\", version 1) of a key that does not exist returned {other:?}, \
                     not ErrNoKey: only a put of version 0 creates a key"
                )),
            }
            match ts.get(&ck, "missing", 0) {
                Err(Error::NoKey) => {}
                other => ts.fatal(format!(
                    "Get(\"missing\") after a refused put returned {other:?}, not ErrNoKey"
                )),
            }
            ts.check_porcupine();
        });
}
