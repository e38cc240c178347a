//! A small test service and a network wired to it.
#![allow(dead_code)] // each test file uses part of this

use labrt::thread;
use labrt::time::{Duration, Instant};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use labrpc::{ClientEnd, Network, RpcError, Server, Service};

/// Counts handler runs, so tests can see what reached the server's code.
#[derive(Clone, Default)]
pub struct Runs(Arc<AtomicU64>);

impl Runs {
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::SeqCst)
    }
}

/// `Test.Echo(u64) -> u64`, `Test.Sleep(ms) -> ms`, `Test.Pair(u64) -> (u8, u8)`,
/// `Test.Panic(u64) -> u64` (always panics), `Test.Blob(Vec<u8>) -> usize`.
pub fn test_server(runs: &Runs) -> Server {
    let (r1, r2, r3, r4, r5) = (
        runs.0.clone(),
        runs.0.clone(),
        runs.0.clone(),
        runs.0.clone(),
        runs.0.clone(),
    );
    let service = Service::new("Test")
        .method("Echo", move |x: u64| {
            r1.fetch_add(1, Ordering::SeqCst);
            x
        })
        .method("Sleep", move |ms: u64| {
            r2.fetch_add(1, Ordering::SeqCst);
            thread::sleep(Duration::from_millis(ms));
            ms
        })
        .method("Pair", move |x: u64| {
            r3.fetch_add(1, Ordering::SeqCst);
            (x as u8, x as u8)
        })
        .method("Panic", move |_: u64| -> u64 {
            r4.fetch_add(1, Ordering::SeqCst);
            panic!("boom from the test handler")
        })
        .method("Blob", move |blob: Vec<u8>| {
            r5.fetch_add(1, Ordering::SeqCst);
            blob.len()
        });
    let mut server = Server::new();
    server.add_service(service);
    server
}

/// A network with server "s" and an enabled end "e" connected to it.
pub fn wired(seed: u64) -> (Network, ClientEnd, Runs) {
    let net = Network::with_seed(seed);
    let runs = Runs::default();
    net.add_server("s", test_server(&runs));
    let end = net.make_end("e");
    net.connect("e", "s");
    net.enable("e", true);
    (net, end, runs)
}

pub fn echo(end: &ClientEnd, x: u64) -> Result<u64, RpcError> {
    end.call("Test.Echo", &x)
}

/// Runs `f` and returns its result with the time it took.
pub fn timed<T>(f: impl FnOnce() -> T) -> (T, Duration) {
    let t0 = Instant::now();
    let out = f();
    (out, t0.elapsed())
}

/// Runs `calls` calls of `f` spread over `threads` threads; returns each outcome with its
/// latency.
pub fn many<T: Send + 'static>(
    threads: usize,
    calls: usize,
    f: impl Fn(u64) -> T + Send + Sync + 'static,
) -> Vec<(T, Duration)> {
    let f = Arc::new(f);
    let per = calls / threads;
    let handles: Vec<_> = (0..threads)
        .map(|t| {
            let f = Arc::clone(&f);
            thread::spawn(move || {
                (0..per)
                    .map(|i| timed(|| f((t * per + i) as u64)))
                    .collect::<Vec<_>>()
            })
        })
        .collect();
    handles
        .into_iter()
        .flat_map(|h| h.join().unwrap())
        .collect()
}

pub fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}
