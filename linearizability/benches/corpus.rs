//! Time per check of the histories in ../shared/histories, for comparison with
//! porcupine's figures in ../shared/reference/go-baseline.md.
//!
//! `cargo bench -p linearizability --bench corpus`

use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use linearizability::models::kv::KvModel;
use linearizability::models::register::RegisterModel;
use linearizability::parse::etcd::read_etcd_history;
use linearizability::parse::kv::read_kv_history;
use linearizability::{Verdict, check_operations};

fn corpus() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/histories");
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

criterion_group!(benches, kv, etcd);
criterion_main!(benches);
