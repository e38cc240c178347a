//! Time per check of the histories in `histories/` (this crate's corpus), for comparison
//! with porcupine's own figures on the same files (BENCHMARKS.md).
//!
//! `cargo bench -p linearizability --bench corpus`

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use linearizability::models::kv::KvModel;
use linearizability::models::register::RegisterModel;
use linearizability::models::versioned_kv::{self, VersionedKvInput, VersionedKvOutput};
use linearizability::parse::etcd::read_etcd_history;
use linearizability::parse::kv::read_kv_history;
use linearizability::{Operation, Verdict, check_operations};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

fn corpus() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("histories");
    assert!(
        dir.is_dir(),
        "the histories corpus is missing: expected {}",
        dir.display()
    );
    dir
}

fn kv(c: &mut Criterion) {
    let mut group = c.benchmark_group("kv");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for name in [
        "c01-ok", "c01-bad", "c10-ok", "c10-bad", "c50-ok", "c50-bad",
    ] {
        let history = read_kv_history(&corpus().join(format!("kv/{name}.txt"))).unwrap();
        let expected = if name.ends_with("ok") {
            Verdict::Ok
        } else {
            Verdict::Illegal
        };
        assert_eq!(
            check_operations(&KvModel, &history, None).unwrap(),
            expected,
            "{name}"
        );
        group.bench_function(name, |b| {
            b.iter(|| check_operations(&KvModel, black_box(&history), None).unwrap())
        });
    }
    group.finish();
}

fn etcd(c: &mut Criterion) {
    let histories: Vec<_> = (0..50)
        .map(|i| read_etcd_history(&corpus().join(format!("etcd/etcd_{i:03}.log"))).unwrap())
        .collect();
    let mut group = c.benchmark_group("etcd");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group.bench_function("all-50", |b| {
        b.iter(|| {
            for history in &histories {
                black_box(check_operations(&RegisterModel, black_box(history), None).unwrap());
            }
        })
    });
    // The slowest files (porcupine's too).
    for i in [2, 7, 40] {
        group.bench_function(format!("etcd_{i:03}"), |b| {
            b.iter(|| check_operations(&RegisterModel, black_box(&histories[i]), None).unwrap())
        });
    }
    group.finish();
}

/// A linearizable history of the 2025 lab's KV tests at raftlab's speed: `clients`
/// clients on one key, each alternating a put at the version it last saw and a get, every
/// operation taking effect at a random point of its interval (so it is linearizable by
/// construction); most puts are refused because another client got there first.
fn versioned_kv_history(
    clients: usize,
    ops_per_client: usize,
) -> Vec<Operation<VersionedKvInput, VersionedKvOutput>> {
    let mut rng = Xoshiro256PlusPlus::seed_from_u64(4);
    struct Planned {
        client: usize,
        k: usize,
        call: u64,
        at: u64,
        ret: u64,
    }
    let mut planned = Vec::new();
    for client in 0..clients {
        let mut t = rng.random_range(0..10);
        for k in 0..ops_per_client {
            let duration = rng.random_range(2..20);
            let at = t + rng.random_range(1..duration);
            planned.push(Planned {
                client,
                k,
                call: t,
                at,
                ret: t + duration,
            });
            t += duration + rng.random_range(0..3);
        }
    }
    planned.sort_by_key(|p| p.at);
    let (mut value, mut version) = (String::new(), 0u64);
    let mut seen = vec![0u64; clients];
    let key = String::from("k");
    planned
        .into_iter()
        .map(|p| {
            let (input, output) = if p.k % 2 == 0 {
                let new = format!("{}-{}", p.client, p.k);
                let input = VersionedKvInput::Put {
                    key: key.clone(),
                    value: new.clone(),
                    version: seen[p.client],
                };
                let output = if seen[p.client] == version {
                    (value, version) = (new, version + 1);
                    VersionedKvOutput::Ok
                } else {
                    VersionedKvOutput::ErrVersion
                };
                (input, output)
            } else {
                seen[p.client] = version;
                let output = if version == 0 {
                    VersionedKvOutput::ErrNoKey
                } else {
                    VersionedKvOutput::Value {
                        value: value.clone(),
                        version,
                    }
                };
                (VersionedKvInput::Get { key: key.clone() }, output)
            };
            Operation::returned(p.client, input, p.call, output, p.ret)
        })
        .collect()
}

fn versioned_kv(c: &mut Criterion) {
    let mut group = c.benchmark_group("versioned-kv");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for (clients, per_client) in [(5, 2000), (20, 1000), (20, 2500)] {
        let history = versioned_kv_history(clients, per_client);
        assert_eq!(versioned_kv::check(&history, None).unwrap(), Verdict::Ok);
        group.bench_function(
            format!("{clients} clients, {} ops, one key", history.len()),
            |b| b.iter(|| versioned_kv::check(black_box(&history), None).unwrap()),
        );
    }
    group.finish();
}

criterion_group!(benches, kv, etcd, versioned_kv);
criterion_main!(benches);
