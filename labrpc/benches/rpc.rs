//! Null-RPC round trips on a reliable network: latency with one caller, throughput with
//! 1, 8 and 64 concurrent callers on one end, and a call carrying 4 KiB.

use labrt::thread;
use labrt::time::{Duration, Instant};
use std::hint::black_box;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use labrpc::{ClientEnd, Network, Server, Service};

fn wired() -> (Network, ClientEnd) {
    let net = Network::with_seed(1);
    let mut server = Server::new();
    server.add_service(
        Service::new("Bench")
            .method("Null", |(): ()| ())
            .method("Blob", |blob: Vec<u8>| blob.len() as u32),
    );
    net.add_server("s", server);
    let end = net.make_end("e");
    net.connect("e", "s");
    net.enable("e", true);
    (net, end)
}

fn latency(c: &mut Criterion) {
    let (_net, end) = wired();
    let mut group = c.benchmark_group("latency");
    group.bench_function("null rpc, 1 caller", |b| {
        b.iter(|| end.call::<_, ()>("Bench.Null", &()).unwrap())
    });
    let blob = vec![0xA5u8; 4096];
    group.throughput(Throughput::Bytes(blob.len() as u64));
    group.bench_function("4 KiB argument, 1 caller", |b| {
        b.iter(|| end.call::<_, u32>("Bench.Blob", black_box(&blob)).unwrap())
    });
    group.finish();
}

/// `iters` null calls spread over `callers` threads sharing one end; the time of the whole.
fn concurrent_calls(end: &ClientEnd, callers: u64, iters: u64) -> Duration {
    let per_caller = iters.div_ceil(callers);
    let start = Instant::now();
    thread::scope(|s| {
        for _ in 0..callers {
            s.spawn(|| {
                for _ in 0..per_caller {
                    end.call::<_, ()>("Bench.Null", &()).unwrap();
                }
            });
        }
    });
    // Report time per `iters` calls even when rounding made a few extra.
    start
        .elapsed()
        .mul_f64(iters as f64 / (per_caller * callers) as f64)
}

fn throughput(c: &mut Criterion) {
    let (_net, end) = wired();
    let mut group = c.benchmark_group("throughput");
    group.throughput(Throughput::Elements(1));
    for callers in [1u64, 8, 64] {
        group.bench_with_input(
            BenchmarkId::new("null rpc", format!("{callers} callers")),
            &callers,
            |b, &callers| {
                b.iter_custom(|iters| concurrent_calls(&end, callers, iters.max(callers)))
            },
        );
    }
    group.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default().measurement_time(Duration::from_secs(5));
    targets = latency, throughput
}
criterion_main!(benches);
