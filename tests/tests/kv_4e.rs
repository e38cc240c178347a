//! Part 4E: the KV service keeps serving, linearizably, while its servers change (part
//! 3E's membership changes under Lab 4's clients). No Go suite has this part; the history
//! is checked as in 4B.
#![allow(non_snake_case)]

use tests::kv::KvTest;

fn keys() -> Vec<String> {
    (0..5).map(|i| format!("k{i}")).collect()
}

/// Replaces servers 0, 1, 2 by 3, 4, 5, one at a time (add the new one, remove the old
/// one, shut it down), while five clients work; then checks the history.
fn replace_every_server(ts: &KvTest) {
    ts.clients_during(5, &keys(), || {
        for old in 0..3 {
            ts.add_server(old + 3);
            ts.remove_server(old);
            ts.shutdown_server(old);
        }
    });
    ts.check_porcupine();
    if ts.voters() != [3, 4, 5] {
        ts.fatal(format!("expected voters [3, 4, 5], got {:?}", ts.voters()));
    }
}

#[test]
fn replace_servers_4E() {
    KvTest::setup("4E replace every server")
        .clients(5)
        .servers(6)
        .random_keys()
        .first_voters(3)
        .run(replace_every_server);
}

#[test]
fn replace_servers_unreliable_snapshots_4E() {
    KvTest::setup("4E replace every server, unreliable net")
        .clients(5)
        .servers(6)
        .unreliable()
        .max_raft_state(1000)
        .random_keys()
        .first_voters(3)
        .run(|ts| {
            replace_every_server(ts);
            ts.check_sizes();
        });
}

#[test]
fn leader_removes_itself_4E() {
    KvTest::setup("4E the leader removes itself")
        .clients(5)
        .servers(3)
        .random_keys()
        .run(|ts| {
            ts.clients_during(5, &keys(), || {
                let leader = loop {
                    if let Some(leader) = ts.find_leader() {
                        break leader;
                    }
                    labrt::thread::sleep(std::time::Duration::from_millis(50));
                };
                ts.remove_server(leader);
                ts.shutdown_server(leader);
            });
            ts.check_porcupine();
        });
}
