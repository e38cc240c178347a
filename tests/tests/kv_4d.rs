//! Part 4D: linearizable reads without the log (§8 of the extended Raft paper, Ongaro's
//! thesis §6.4): gets served at a read index that the leader confirms with a round of
//! requests, on a lease, or on followers. No Go suite has this part; every history is
//! checked for linearizability as in 4B, and the scripted tests fail every time on a
//! server that breaks their rule. Limits in DESIGN.md.
#![allow(non_snake_case)]

use labrt::time::{Duration, Instant};

use kvraft::{Error, Reads};
use tests::kv::{KvTest, with_cluster};

/// What a get answered, if it is an answer other than `latest` (a refusal is no answer).
fn stale(answer: Option<Result<(String, u64), Error>>, latest: &str) -> Option<String> {
    match answer? {
        Ok((value, _)) if value != latest => Some(format!("{value:?}")),
        Err(Error::NoKey) => Some("ErrNoKey".to_owned()),
        _ => None,
    }
}

/// The server that leads, once there is one (within 5 s).
fn leader(ts: &KvTest) -> usize {
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(5) {
        if let Some(l) = ts.find_leader() {
            return l;
        }
        labrt::thread::sleep(Duration::from_millis(50));
    }
    ts.fatal("no leader within 5 s")
}

#[test]
fn reads_add_no_log_entries_4D() {
    KvTest::setup("4D reads add no log entries")
        .clients(5)
        .servers(3)
        .reads(Reads::ReadIndex)
        .run(|ts| {
            let ck = ts.make_clerk();
            if let Err(e) = ts.put(&ck, "k", "v", 0, 0) {
                ts.fatal(format!("put: {e}"));
            }
            ts.get(&ck, "k", 0).ok();
            let before = ts.log_size();
            let stats = ts.read_heavy(5, Duration::from_secs(2));
            let grew = ts.log_size() - before;
            println!("{}", stats.line("reads by read index"));
            // The workload's puts (one op in ten) are in the log; its gets must not be.
            let limit = (stats.ops - stats.gets) as usize * PUT_ENTRY_BYTES + 200;
            if grew > limit {
                ts.fatal(format!(
                    "the log grew by {grew} bytes while the servers answered {} gets and {} \
                     puts (at most {limit} for the puts): gets must be served at a read \
                     index, not written to the log (§8)",
                    stats.gets,
                    stats.ops - stats.gets
                ));
            }
            if stats.gets < 1000 {
                ts.fatal(format!("only {} gets in 2 s", stats.gets));
            }
            ts.check_porcupine();
        });
}

/// The most bytes a put adds to a server's saved log (its entry: term, clerk id, key,
/// value, version; measured about 50).
const PUT_ENTRY_BYTES: usize = 80;

/// The old leader, cut off from the others, must not answer a get with a value the
/// majority has since overwritten.
fn deposed_leader_reads(ts: &KvTest, rule: &str) {
    let ck = ts.make_clerk();
    if let Err(e) = ts.put(&ck, "k", "v1", 0, 0) {
        ts.fatal(format!("put: {e}"));
    }
    let old = leader(ts);
    ts.disconnect_all(old);
    let rest: Vec<usize> = (0..ts.servers()).filter(|&i| i != old).collect();
    let ck2 = ts.make_clerk_to(&rest);
    if let Err(e) = ts.put(&ck2, "k", "v2", 1, 1) {
        ts.fatal(format!("put in the majority: {e}"));
    }
    if let Some(stale) = stale(ts.get_from(old, "k"), "v2") {
        ts.fatal(format!(
            "server {old}, cut off from the majority, answered a get of \"k\" with {stale} \
             after the majority had elected another leader and written \"v2\": {rule}"
        ));
    }
    ts.connect_all();
    ts.check_porcupine();
}

#[test]
fn deposed_leader_no_stale_read_4D() {
    KvTest::setup("4D a deposed leader serves no stale read")
        .clients(1)
        .servers(5)
        .reads(Reads::ReadIndex)
        .run(|ts| {
            deposed_leader_reads(
                ts,
                "a leader must confirm that it still leads (a quorum answering a request sent \
                 after the read arrived) before it serves a read (§8, thesis §6.4)",
            )
        });
}

#[test]
fn deposed_leader_lease_4D() {
    KvTest::setup("4D a lease ends before a new leader")
        .clients(1)
        .servers(5)
        .reads(Reads::Lease)
        .run(|ts| {
            deposed_leader_reads(
                ts,
                "a lease must end before another server can be elected: sooner than the \
                 minimum election timeout after the last request a quorum answered, less a \
                 margin for clock drift (thesis §6.4.1)",
            )
        });
}

#[test]
fn new_leader_reads_after_own_commit_4D() {
    KvTest::setup("4D a new leader reads only after committing in its term")
        .clients(1)
        .servers(3)
        .reads(Reads::ReadIndex)
        .run(|ts| {
            let ck = ts.make_clerk();
            for (version, value) in ["v1", "v2"].iter().enumerate() {
                if let Err(e) = ts.put(&ck, "k", value, version as u64, 0) {
                    ts.fatal(format!("put: {e}"));
                }
            }
            // Every server crashes and two restart: their commit index starts at 0 (no
            // snapshots), and a new leader learns the real one only by committing an entry
            // of its own term.
            for i in 0..3 {
                ts.shutdown_server(i);
            }
            for i in 0..2 {
                ts.start_server(i);
            }
            ts.connect_all();
            match ts.get(&ck, "k", 0) {
                Ok((value, _)) if value == "v2" => {}
                other => ts.fatal(format!(
                    "the first get after a restart returned {other:?}, but \"v2\" was committed: \
                     a new leader knows the commit index only once it has committed an entry \
                     of its own term, and serves no read before that (§8)"
                )),
            }
            ts.check_porcupine();
        });
}

#[test]
fn lease_reads_cost_no_rpcs_4D() {
    KvTest::setup("4D lease reads cost no RPCs")
        .clients(1)
        .servers(3)
        .reads(Reads::Lease)
        .run(|ts| {
            const GETS: u64 = 1000;
            let ck = ts.make_clerk();
            if let Err(e) = ts.put(&ck, "k", "v", 0, 0) {
                ts.fatal(format!("put: {e}"));
            }
            for _ in 0..10 {
                ts.get(&ck, "k", 0).ok();
            }
            let rpcs0 = ts.rpc_total();
            let t0 = Instant::now();
            for _ in 0..GETS {
                if let Err(e) = ts.get(&ck, "k", 0) {
                    ts.fatal(format!("get: {e}"));
                }
            }
            let elapsed = t0.elapsed();
            let beyond = ts.rpc_total() - rpcs0 - GETS;
            // Two followers, a heartbeat each per 100 ms.
            let heartbeats = 2 * (elapsed.as_millis() as u64 / 100 + 2);
            println!(
                "  ... {GETS} gets in {:.2} s on a lease: {beyond} RPCs besides the clerk's \
                 ({heartbeats} heartbeats allowed), {:.3} ms per get",
                elapsed.as_secs_f64(),
                elapsed.as_secs_f64() * 1000.0 / GETS as f64
            );
            if beyond > heartbeats {
                ts.fatal(format!(
                    "{beyond} RPCs besides the clerk's {GETS} gets in {} ms: with a lease, reads \
                     on a stable leader cost no RPCs beyond heartbeats (at most {heartbeats} \
                     here; thesis §6.4.1)",
                    elapsed.as_millis()
                ));
            }
            ts.check_porcupine();
        });
}

#[test]
fn follower_read_waits_for_apply_4D() {
    KvTest::setup("4D a follower reads what it has applied")
        .clients(1)
        .servers(3)
        .reads(Reads::ReadIndex)
        .follower_reads()
        .run(|ts| {
            let ck = ts.make_clerk();
            if let Err(e) = ts.put(&ck, "k", "v1", 0, 0) {
                ts.fatal(format!("put: {e}"));
            }
            let l = leader(ts);
            let f = (l + 1) % 3;
            ts.disconnect_all(f);
            let rest: Vec<usize> = (0..3).filter(|&i| i != f).collect();
            let ck2 = ts.make_clerk_to(&rest);
            if let Err(e) = ts.put(&ck2, "k", "v2", 1, 1) {
                ts.fatal(format!("put: {e}"));
            }
            // The follower can ask the leader for a read index, but hears nothing from it.
            ts.set_link(f, l, true);
            if let Some(stale) = stale(ts.get_from(f, "k"), "v2") {
                ts.fatal(format!(
                    "follower {f} answered a get of \"k\" with {stale} after \"v2\" was committed \
                     and before it had applied that far: a follower serves a read only once it \
                     has applied up to the read index its leader gave (thesis §6.4)"
                ));
            }
            ts.connect_all();
            ts.check_porcupine();
        });
}

#[test]
fn unreliable_read_index_4D() {
    KvTest::setup("4D unreliable net, reads by read index")
        .clients(5)
        .servers(5)
        .unreliable()
        .reads(Reads::ReadIndex)
        .run(|ts| ts.generic_test());
}

#[test]
fn restarts_partitions_read_index_4D() {
    KvTest::setup("4D unreliable net, restarts, partitions, reads by read index")
        .clients(5)
        .servers(5)
        .unreliable()
        .crashes()
        .partitions()
        .reads(Reads::ReadIndex)
        .run(|ts| ts.generic_test());
}

#[test]
fn restarts_partitions_lease_4D() {
    KvTest::setup("4D unreliable net, restarts, partitions, reads on a lease")
        .clients(5)
        .servers(5)
        .unreliable()
        .crashes()
        .partitions()
        .reads(Reads::Lease)
        .run(|ts| ts.generic_test());
}

#[test]
fn follower_reads_partitions_4D() {
    KvTest::setup("4D unreliable net, partitions, follower reads")
        .clients(5)
        .servers(5)
        .unreliable()
        .partitions()
        .random_keys()
        .reads(Reads::ReadIndex)
        .follower_reads()
        .run(|ts| ts.generic_test());
}

#[test]
fn read_heavy_speed_4D() {
    const LOAD: Duration = Duration::from_secs(2);
    let shape = |reads| {
        KvTest::setup("4D read-heavy speed")
            .clients(5)
            .servers(3)
            .reads(reads)
    };
    shape(Reads::ReadIndex).run(move |ts| {
        let by_index = ts.read_heavy(5, LOAD);
        ts.check_porcupine();
        let by_log = with_cluster(shape(Reads::Log), |c| {
            let stats = c.read_heavy(5, LOAD);
            c.check_porcupine();
            stats
        });
        let on_lease = with_cluster(shape(Reads::Lease), |c| {
            let stats = c.read_heavy(5, LOAD);
            c.check_porcupine();
            stats
        });
        println!("{}", by_log.line("gets through the log"));
        println!("{}", by_index.line("gets by read index "));
        println!("{}", on_lease.line("gets on a lease     "));
        if labrt::sim::is_simulated() {
            println!("  ... {}", tests::sim::SPEED_NOT_JUDGED);
        }
    });
}
