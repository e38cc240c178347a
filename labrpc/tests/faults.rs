//! The fault model, checked statistically over many calls. Each tolerance is at least four
//! standard deviations wide, so a correct network does not fail it by chance; and each
//! check fails outright against a network that skips the fault (no losses, no delay, no
//! reordering, or quick failures on dead links).

mod common;

use labrt::thread;
use std::time::Duration;

use labrpc::{Network, RpcError};

use common::{echo, many, ms, wired};

fn mean(xs: &[f64]) -> f64 {
    xs.iter().sum::<f64>() / xs.len() as f64
}

/// Unreliable: each request is lost with p = 0.1 and each reply with p = 0.1, so about 19%
/// of calls fail, and ~10% of requests never reach the server. Requests wait 0–26 ms.
#[test]
fn unreliable_network_loses_a_fifth_of_calls_and_delays_requests() {
    let (net, end, runs) = wired(1);
    net.set_reliable(false);
    const N: usize = 2_000;
    let results = many(50, N, move |x| echo(&end, x));

    let failed = results.iter().filter(|(r, _)| r.is_err()).count();
    assert!(
        results
            .iter()
            .all(|(r, _)| matches!(r, Ok(_) | Err(RpcError::Lost)))
    );
    let rate = failed as f64 / N as f64; // p = 0.19, sd = 0.0088
    assert!(
        (0.155..=0.225).contains(&rate),
        "{failed} of {N} calls failed"
    );

    let reached = runs.get() as f64 / N as f64; // p = 0.9, sd = 0.0067
    assert!(
        (0.87..=0.93).contains(&reached),
        "{} of {N} requests reached the server",
        runs.get()
    );
    assert_eq!(net.count("s"), runs.get());

    // Exactly the delivered replies count: one byte per reply (values < 128).
    let ok = (N - failed) as u64;
    let request_bytes: u64 = (0..N as u64)
        .map(|x| postcard::to_allocvec(&x).unwrap().len() as u64)
        .sum();
    assert_eq!(
        net.total_bytes(),
        request_bytes
            + results
                .iter()
                .filter_map(|(r, _)| r.as_ref().ok())
                .map(|&x| postcard::to_allocvec(&x).unwrap().len() as u64)
                .sum::<u64>()
    );
    assert!(ok > 0);

    // Delivered calls waited 0–26 ms on the way: mean ~13 ms (plus scheduling).
    let delays: Vec<f64> = results
        .iter()
        .filter(|(r, _)| r.is_ok())
        .map(|(_, d)| ms(*d))
        .collect();
    let mean_delay = mean(&delays);
    assert!(
        (9.0..60.0).contains(&mean_delay),
        "mean latency {mean_delay:.1} ms"
    );
    let over_20 = delays.iter().filter(|&&d| d >= 20.0).count() as f64 / delays.len() as f64;
    assert!(
        over_20 >= 0.15,
        "only {:.0}% of calls took 20 ms or more",
        over_20 * 100.0
    );
}

/// Long reordering: 2/3 of replies are held back 200–2199 ms, so replies overtake each
/// other.
#[test]
fn long_reordering_holds_back_two_thirds_of_replies() {
    let (net, end, _) = wired(2);
    net.set_long_reordering(true);
    const N: usize = 600;
    let results = many(N, N, move |x| echo(&end, x));
    assert!(
        results.iter().all(|(r, _)| r.is_ok()),
        "reordering must not lose replies"
    );

    let held: Vec<f64> = results
        .iter()
        .map(|(_, d)| ms(*d))
        .filter(|&d| d >= 200.0)
        .collect();
    let share = held.len() as f64 / N as f64; // p = 2/3, sd = 0.019
    assert!(
        (0.58..=0.75).contains(&share),
        "{} of {N} replies held back",
        held.len()
    );
    let longest = held.iter().cloned().fold(0.0, f64::max);
    assert!(
        (1_300.0..2_700.0).contains(&longest),
        "longest hold {longest:.0} ms"
    );
}

#[test]
fn reordered_replies_overtake_each_other() {
    let (net, end, _) = wired(3);
    net.set_long_reordering(true);
    let pending: Vec<_> = (0..40u64)
        .map(|x| end.call_async::<_, u64>("Test.Echo", &x))
        .collect();
    // Arrival order, read by polling all receivers.
    let mut order = Vec::new();
    let mut waiting: Vec<_> = pending.into_iter().enumerate().collect();
    while !waiting.is_empty() {
        waiting.retain(|(i, rx)| match rx.try_recv() {
            Ok(r) => {
                assert_eq!(r, Ok(*i as u64));
                order.push(*i);
                false
            }
            Err(_) => true,
        });
        thread::sleep(Duration::from_millis(1));
    }
    assert_ne!(
        order,
        (0..40).collect::<Vec<_>>(),
        "replies arrived in call order"
    );
}

/// Dead links with long delays fail after 0–6999 ms (mean 3.5 s), without them after
/// 0–99 ms.
#[test]
fn dead_links_fail_slowly_with_long_delays_and_quickly_without() {
    let net = Network::with_seed(4);
    let runs = common::Runs::default();
    net.add_server("s", common::test_server(&runs));
    net.set_long_delays(true);
    let slow = net.make_end("slow");
    net.connect("slow", "s"); // connected, but never enabled
    const N: usize = 300;
    let results = many(N, N, move |x| echo(&slow, x));
    assert!(results.iter().all(|(r, _)| *r == Err(RpcError::Lost)));
    let waits: Vec<f64> = results.iter().map(|(_, d)| ms(*d)).collect();
    let (mean_wait, longest) = (mean(&waits), waits.iter().cloned().fold(0.0, f64::max));
    // Uniform over 0–7 s: the mean's sd is ~117 ms; scheduling only adds.
    assert!(
        (3_030.0..4_200.0).contains(&mean_wait),
        "mean wait {mean_wait:.0} ms"
    );
    assert!(
        (6_300.0..7_600.0).contains(&longest),
        "longest wait {longest:.0} ms"
    );

    net.set_long_delays(false);
    let quick = net.make_end("quick");
    let results = many(N, N, move |x| echo(&quick, x));
    let waits: Vec<f64> = results.iter().map(|(_, d)| ms(*d)).collect();
    let mean_wait = mean(&waits);
    assert!(
        (35.0..150.0).contains(&mean_wait),
        "mean wait {mean_wait:.0} ms"
    );
    assert_eq!(runs.get(), 0);
}

/// The same seed gives every end the same fault schedule, whatever other ends do at the
/// same time; another seed gives another.
#[test]
fn a_seed_reproduces_each_ends_fault_schedule() {
    fn schedule(seed: u64, with_noise: bool) -> (Vec<bool>, Vec<u64>) {
        let (net, end, _) = wired(seed);
        net.set_reliable(false);
        let arrived = std::sync::Arc::new(labrt::sync::Mutex::new(Vec::new()));
        // A second server that records which call numbers reached it.
        let log = arrived.clone();
        let mut server = labrpc::Server::new();
        server.add_service(labrpc::Service::new("Log").method("Put", move |x: u64| {
            log.lock().push(x);
            x
        }));
        net.add_server("log", server);
        let to_log = net.make_end("to-log");
        net.connect("to-log", "log");
        net.enable("to-log", true);

        let noise = with_noise.then(|| {
            let end = end.clone();
            thread::spawn(move || {
                for x in 0..300 {
                    let _ = echo(&end, x);
                }
            })
        });
        let outcomes = (0..120u64)
            .map(|x| to_log.call::<_, u64>("Log.Put", &x).is_ok())
            .collect();
        if let Some(n) = noise {
            n.join().unwrap();
        }
        let arrived = arrived.lock().clone();
        (outcomes, arrived)
    }
    let (a, b, c) = thread::scope(|s| {
        let a = s.spawn(|| schedule(77, false));
        let b = s.spawn(|| schedule(77, true));
        let c = s.spawn(|| schedule(78, false));
        (a.join().unwrap(), b.join().unwrap(), c.join().unwrap())
    });
    assert_eq!(a, b, "same seed, different schedule");
    assert_ne!(a.0, c.0, "different seeds, same schedule");
    assert!(
        a.0.iter().any(|ok| !ok),
        "an unreliable network lost nothing"
    );
}

#[test]
fn settings_read_back() {
    let net = Network::with_seed(5);
    assert!(net.is_reliable() && !net.is_long_delays() && !net.is_long_reordering());
    net.set_reliable(false);
    net.set_long_delays(true);
    net.set_long_reordering(true);
    assert!(!net.is_reliable() && net.is_long_delays() && net.is_long_reordering());
    assert_eq!(net.seed(), 5);
    assert_eq!(net.seed_hint(), "RAFTLAB_SEED=5");
}
