//! The simulation's promises: virtual time, one interleaving per seed, and failures that
//! say what the threads were doing.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use labrt::channel::{Select, bounded, unbounded};
use labrt::sim;
use labrt::sync::{Condvar, Mutex};
use labrt::thread;
use labrt::time::{Duration, Instant};

/// Several threads racing on a lock, a condition and channels, with sleeps: returns the
/// order in which they got the lock.
fn race() -> Vec<usize> {
    let order = Arc::new(Mutex::new(Vec::new()));
    let (tx, rx) = unbounded();
    let handles: Vec<_> = (0..6)
        .map(|i| {
            let (order, tx) = (Arc::clone(&order), tx.clone());
            thread::Builder::new()
                .name(format!("worker-{i}"))
                .spawn(move || {
                    for round in 0..20 {
                        order.lock().push(i);
                        if round % 5 == i % 5 {
                            thread::sleep(Duration::from_millis(3));
                        }
                        tx.send(i).unwrap();
                    }
                })
                .unwrap()
        })
        .collect();
    drop(tx);
    let received = rx.iter().count();
    assert_eq!(received, 120);
    for h in handles {
        h.join().unwrap();
    }
    order.lock().clone()
}

#[test]
fn one_seed_one_interleaving() {
    let (a, ra) = sim::run(7, race).unwrap();
    let (b, rb) = sim::run(7, race).unwrap();
    assert_eq!(a, b);
    assert_eq!(ra, rb);
    let others: Vec<_> = (8..16)
        .map(|seed| sim::run(seed, race).unwrap().0)
        .collect();
    assert!(
        others.iter().any(|o| *o != a),
        "eight other seeds all gave the same interleaving"
    );
}

#[test]
fn sleeping_takes_no_real_time() {
    let t0 = std::time::Instant::now();
    let ((), report) = sim::run(1, || {
        let start = Instant::now();
        let h = thread::spawn(|| thread::sleep(Duration::from_secs(30)));
        thread::sleep(Duration::from_secs(10));
        h.join().unwrap();
        assert_eq!(start.elapsed(), Duration::from_secs(30));
    })
    .unwrap();
    assert_eq!(report.virtual_time, Duration::from_secs(30));
    assert!(t0.elapsed() < Duration::from_secs(2));
}

#[test]
fn timeouts_and_conditions_run_on_virtual_time() {
    sim::run(3, || {
        let (tx, rx) = bounded::<u32>(1);
        let start = Instant::now();
        assert!(rx.recv_timeout(Duration::from_millis(250)).is_err());
        assert_eq!(start.elapsed(), Duration::from_millis(250));
        let pair = Arc::new((Mutex::new(false), Condvar::new()));
        let p2 = Arc::clone(&pair);
        let setter = thread::spawn(move || {
            thread::sleep(Duration::from_secs(2));
            *p2.0.lock() = true;
            p2.1.notify_all();
            tx.send(9).unwrap();
        });
        let mut ready = pair.0.lock();
        while !*ready {
            pair.1.wait(&mut ready);
        }
        drop(ready);
        let mut select = Select::new();
        let index = select.recv(&rx);
        assert_eq!(select.ready_timeout(Duration::from_secs(1)), Ok(index));
        assert_eq!(rx.try_recv(), Ok(9));
        setter.join().unwrap();
        assert_eq!(start.elapsed(), Duration::from_millis(2250));
    })
    .unwrap();
}

#[test]
fn a_deadlock_names_every_blocked_thread() {
    let failure = sim::run(5, || {
        let (_keep, rx) = unbounded::<()>();
        let h = thread::Builder::new()
            .name("stuck-reader".into())
            .spawn(move || rx.recv())
            .unwrap();
        let _ = h.join();
    })
    .unwrap_err();
    assert!(failure.message.contains("deadlock"), "{}", failure.message);
    assert!(
        failure
            .message
            .contains("'stuck-reader' waits in Receiver::recv"),
        "{}",
        failure.message
    );
}

#[test]
fn polling_without_sleeping_is_a_livelock() {
    let failure = sim::run(6, || {
        let flag = Arc::new(AtomicBool::new(false));
        let f = Arc::clone(&flag);
        let _setter = thread::spawn(move || {
            thread::sleep(Duration::from_millis(1));
            f.store(true, Ordering::Release);
        });
        // Polls the clock, never sleeps: the setter's sleep can never end.
        while !flag.load(Ordering::Acquire) {
            let _ = Instant::now();
        }
    })
    .unwrap_err();
    assert!(
        failure.message.contains("has not moved"),
        "{}",
        failure.message
    );
}

#[test]
fn scoped_threads_join_in_the_simulation() {
    let (sum, _) = sim::run(11, || {
        let data = [1u64, 2, 3, 4];
        thread::scope(|s| {
            let hs: Vec<_> = data
                .iter()
                .map(|&x| {
                    s.spawn(move || {
                        thread::sleep(Duration::from_millis(x));
                        x * 10
                    })
                })
                .collect();
            hs.into_iter().map(|h| h.join().unwrap()).sum::<u64>()
        })
    })
    .unwrap();
    assert_eq!(sum, 100);
}

#[test]
fn a_panic_in_the_closure_propagates() {
    let caught = std::panic::catch_unwind(|| {
        let _ = sim::run(2, || panic!("the test failed"));
    });
    assert!(caught.is_err());
}

#[test]
fn real_mode_is_untouched() {
    assert!(!sim::is_simulated());
    let start = Instant::now();
    thread::sleep(Duration::from_millis(20));
    assert!(start.elapsed() >= Duration::from_millis(20));
    let (tx, rx) = bounded(0);
    let h = thread::spawn(move || tx.send(5).unwrap());
    assert_eq!(rx.recv(), Ok(5));
    h.join().unwrap();
}

/// Runs a simulation whose root joins one thread named `name` running `body`, under
/// `limits`; the failure's message, which must contain `expected`.
fn failure_joining(limits: sim::Limits, name: &str, body: fn(), expected: &str) {
    let name = name.to_owned();
    let failure = sim::run_with(8, limits, move || {
        let h = thread::Builder::new().name(name).spawn(body).unwrap();
        let _ = h.join();
    })
    .unwrap_err();
    assert!(failure.message.contains(expected), "{}", failure.message);
}

#[test]
fn a_thread_stuck_outside_labrt_is_named() {
    let limits = sim::Limits {
        stuck: Duration::from_secs(1),
        ..sim::Limits::default()
    };
    failure_joining(
        limits,
        "raw-sleeper",
        || std::thread::sleep(Duration::from_secs(3)),
        "thread 'raw-sleeper' has run for 1.0 s of real time",
    );
}

#[test]
fn sleeping_outside_labrt_in_a_loop_is_named() {
    let limits = sim::Limits {
        frozen: Duration::from_secs(1),
        ..sim::Limits::default()
    };
    failure_joining(
        limits,
        "raw-ticker",
        || {
            for _ in 0..200 {
                std::thread::sleep(Duration::from_millis(20));
                thread::yield_now();
            }
        },
        "stood still for 1.0 s of real time while threads kept running, above all thread \
         'raw-ticker'",
    );
}
