//! Calls: typed round trips, the non-blocking form, concurrency, blocking handlers, and
//! every kind of bad input.

mod common;

use labrt::thread;
use std::time::Duration;

use labrpc::{Network, RpcError, Server, Service};
use labrt::channel::Select;

use common::{echo, timed, wired};

#[test]
fn a_call_returns_the_handlers_reply() {
    let (_net, end, runs) = wired(1);
    assert_eq!(echo(&end, 7), Ok(7));
    assert_eq!(end.call::<_, usize>("Test.Blob", &vec![1u8; 300]), Ok(300));
    assert_eq!(runs.get(), 2);
}

#[test]
fn arguments_are_copies_not_shared_memory() {
    // The handler gets its own decoded value; mutating it cannot reach the caller.
    let net = Network::with_seed(2);
    let mut server = Server::new();
    server.add_service(Service::new("M").method("Mutate", |mut v: Vec<u32>| {
        v.push(99);
        v
    }));
    net.add_server("s", server);
    let end = net.make_end("e");
    net.connect("e", "s");
    net.enable("e", true);
    let mine: Vec<u32> = vec![1, 2, 3];
    let theirs: Vec<u32> = end.call("M.Mutate", &mine).unwrap();
    assert_eq!(mine, [1, 2, 3]);
    assert_eq!(theirs, [1, 2, 3, 99]);
}

#[test]
fn call_async_can_be_selected_with_other_channels() {
    let (_net, end, _) = wired(3);
    let slow = end.call_async::<_, u64>("Test.Sleep", &300u64);
    let fast = end.call_async::<_, u64>("Test.Echo", &5u64);
    let mut order = Vec::new();
    let mut waiting = vec![("slow", &slow), ("fast", &fast)];
    while !waiting.is_empty() {
        // Each receiver yields one outcome; a used one leaves the selection.
        let mut select = Select::new();
        for (_, rx) in &waiting {
            select.recv(rx);
        }
        let i = select
            .ready_timeout(Duration::from_secs(10))
            .expect("no reply within 10 s");
        let (name, rx) = waiting.remove(i);
        order.push((name, rx.try_recv().unwrap()));
    }
    assert_eq!(order, [("fast", Ok(5)), ("slow", Ok(300))]);
}

#[test]
fn a_blocking_handler_does_not_delay_other_rpcs() {
    let (_net, end, _) = wired(4);
    let blocked: Vec<_> = (0..4)
        .map(|_| {
            let end = end.clone();
            thread::spawn(move || end.call::<_, u64>("Test.Sleep", &3_000u64))
        })
        .collect();
    thread::sleep(Duration::from_millis(100)); // the sleepers are inside their handlers
    let (results, took) = timed(|| (0..50).map(|i| echo(&end, i)).collect::<Vec<_>>());
    assert!(results.iter().enumerate().all(|(i, r)| *r == Ok(i as u64)));
    assert!(
        took < Duration::from_secs(1),
        "50 echoes behind blocked handlers took {took:?}"
    );
    for b in blocked {
        assert_eq!(b.join().unwrap(), Ok(3_000));
    }
}

#[test]
fn many_callers_on_one_end_each_get_their_own_reply() {
    let (net, end, runs) = wired(5);
    let threads: Vec<_> = (0..64u64)
        .map(|t| {
            let end = end.clone();
            thread::spawn(move || {
                for i in 0..100u64 {
                    let x = t * 1_000 + i;
                    assert_eq!(echo(&end, x), Ok(x));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    assert_eq!(runs.get(), 6_400);
    assert_eq!(net.total_count(), 6_400);
    assert_eq!(net.count("s"), 6_400);
}

#[test]
#[should_panic(expected = "unknown method \"Test.Nope\"")]
fn an_unknown_method_panics_the_caller() {
    let (_net, end, _) = wired(6);
    let _ = end.call::<_, u64>("Test.Nope", &1u64);
}

#[test]
#[should_panic(expected = "unknown method \"Raft.Echo\"")]
fn an_unknown_service_panics_the_caller() {
    let (_net, end, _) = wired(7);
    let _ = end.call::<_, u64>("Raft.Echo", &1u64);
}

#[test]
fn the_unknown_method_panic_lists_what_the_server_has() {
    let (_net, end, _) = wired(8);
    let end2 = end.clone();
    let panic = thread::spawn(move || end2.call::<_, u64>("TestEcho", &1u64))
        .join()
        .unwrap_err();
    let message = panic.downcast_ref::<String>().unwrap();
    assert!(
        message.contains("\"TestEcho\" is not a \"Service.Method\" name"),
        "{message}"
    );
    assert!(
        message.contains("Test.Echo") && message.contains("Test.Sleep"),
        "{message}"
    );
    // The panic hit the caller only: the network still works.
    assert_eq!(echo(&end, 1), Ok(1));
}

#[test]
fn a_reply_of_the_wrong_type_is_a_clear_error() {
    let (_net, end, _) = wired(9);
    // Test.Pair replies (u8, u8); asking for a u8 leaves a byte over.
    match end.call::<_, u8>("Test.Pair", &3u64) {
        Err(RpcError::Codec { method, detail }) => {
            assert_eq!(method, "Test.Pair");
            assert!(
                detail.contains("reply could not be decoded into u8"),
                "{detail}"
            );
        }
        other => panic!("expected a codec error, got {other:?}"),
    }
}

#[test]
fn arguments_of_the_wrong_type_are_a_clear_error() {
    let (net, end, _) = wired(10);
    match end.call::<_, u64>("Test.Echo", "not a number") {
        Err(e @ RpcError::Codec { .. }) => {
            let text = e.to_string();
            assert!(
                text.starts_with("Test.Echo: the request could not be decoded into u64"),
                "{text}"
            );
        }
        other => panic!("expected a codec error, got {other:?}"),
    }
    assert_eq!(echo(&end, 2), Ok(2));
    assert_eq!(net.count("s"), 2);
}

#[test]
fn a_panicking_handler_fails_only_its_own_call() {
    let (net, end, runs) = wired(11);
    assert_eq!(net.handler_panic(), None);
    for _ in 0..3 {
        match end.call::<_, u64>("Test.Panic", &0u64) {
            Err(RpcError::HandlerPanicked { method, message }) => {
                assert_eq!(method, "Test.Panic");
                assert_eq!(message, "boom from the test handler");
            }
            other => panic!("expected a handler panic, got {other:?}"),
        }
        assert_eq!(echo(&end, 4), Ok(4));
    }
    assert_eq!(runs.get(), 6);
    assert_eq!(net.count("s"), 6);
    // The network remembers the first, for a tester that fails the test on it.
    let first = net.handler_panic().expect("a handler panicked");
    assert!(
        first.starts_with("the RPC handler of Test.Panic panicked (a call on end "),
        "{first}"
    );
    assert!(first.ends_with("): boom from the test handler"), "{first}");
}

#[test]
fn calls_after_shutdown_fail_fast() {
    let (net, end, runs) = wired(12);
    net.set_long_delays(true);
    net.shutdown();
    let (r, took) = timed(|| echo(&end, 1));
    assert_eq!(r, Err(RpcError::Shutdown));
    assert!(took < Duration::from_millis(50), "took {took:?}");
    assert_eq!(runs.get(), 0);
    net.shutdown(); // idempotent
}

#[test]
fn shutdown_fails_calls_in_flight_at_once() {
    let (net, end, _) = wired(13);
    net.set_long_delays(true);
    let dead = net.make_end("dead");
    let blocked = end.call_async::<_, u64>("Test.Sleep", &5_000u64);
    let on_dead_link = dead.call_async::<_, u64>("Test.Echo", &1u64);
    thread::sleep(Duration::from_millis(50));
    let ((a, b), took) = timed(|| {
        net.shutdown();
        (blocked.recv().unwrap(), on_dead_link.recv().unwrap())
    });
    assert_eq!((a, b), (Err(RpcError::Shutdown), Err(RpcError::Shutdown)));
    assert!(took < Duration::from_millis(200), "took {took:?}");
}

#[test]
fn dropping_the_network_shuts_it_down() {
    let (net, end, _) = wired(14);
    drop(net);
    assert_eq!(echo(&end, 1), Err(RpcError::Shutdown));
}

#[test]
fn unencodable_arguments_are_a_clear_error() {
    struct Unsized;
    impl serde::Serialize for Unsized {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            use serde::ser::SerializeSeq;
            s.serialize_seq(None)?.end() // postcard needs sequence lengths up front
        }
    }
    let (net, end, runs) = wired(15);
    match end.call::<_, u64>("Test.Echo", &Unsized) {
        Err(RpcError::Codec { method, detail }) => {
            assert_eq!(method, "Test.Echo");
            assert!(detail.contains("could not be encoded"), "{detail}");
        }
        other => panic!("expected a codec error, got {other:?}"),
    }
    assert_eq!((runs.get(), net.total_count()), (0, 0));
}

#[test]
fn misuse_of_the_network_verbs_names_the_problem() {
    let net = Network::with_seed(16);
    net.make_end("a");
    type Misuse = Box<dyn FnOnce() + Send>;
    let cases: Vec<(Misuse, &str)> = vec![
        (
            Box::new({
                let n = Network::with_seed(1);
                move || {
                    n.make_end("x");
                    n.make_end("x");
                }
            }),
            "make_end: an end named \"x\" already exists",
        ),
        (
            Box::new({
                let n = Network::with_seed(1);
                move || n.enable("ghost", true)
            }),
            "enable: there is no end named \"ghost\"",
        ),
        (
            Box::new({
                let n = Network::with_seed(1);
                move || n.connect("ghost", "s")
            }),
            "connect: there is no end named \"ghost\"",
        ),
        (
            Box::new({
                let n = Network::with_seed(1);
                move || {
                    n.make_end("x");
                    n.connect("x", "s1");
                    n.connect("x", "s2");
                }
            }),
            "end \"x\" is already connected to \"s1\"",
        ),
        (
            Box::new(|| {
                let _ = Service::new("A.B");
            }),
            "service name must be non-empty and contain no '.'",
        ),
        (
            Box::new(|| {
                let _ = Service::new("A")
                    .method("x", |a: u8| a)
                    .method("x", |a: u8| a);
            }),
            "A.x is registered twice",
        ),
        (
            Box::new(|| {
                let mut s = Server::new();
                s.add_service(Service::new("A"));
                s.add_service(Service::new("A"));
            }),
            "service A added twice",
        ),
    ];
    for (f, expected) in cases {
        let panic = thread::spawn(f).join().unwrap_err();
        let message = panic.downcast_ref::<String>().cloned().unwrap_or_default();
        assert!(
            message.contains(expected),
            "expected {expected:?} in {message:?}"
        );
    }
}

#[test]
fn call_with_hands_the_outcome_to_a_callback() {
    let (net, end, _) = wired(17);
    let (tx, rx) = labrt::channel::unbounded();
    for x in 0..10u64 {
        let tx = tx.clone();
        end.call_with("Test.Echo", &x, move |r: Result<u64, RpcError>| {
            tx.send((x, r)).unwrap()
        });
    }
    let mut got: Vec<_> = (0..10).map(|_| rx.recv().unwrap()).collect();
    // Disabling the end now cannot touch them: they are all answered.
    net.enable("e", false);
    let tx2 = tx.clone();
    end.call_with("Test.Echo", &99u64, move |r: Result<u64, RpcError>| {
        tx2.send((99, r)).unwrap()
    });
    drop(tx);
    got.extend(rx.iter());
    got.sort_by_key(|(x, _)| *x);
    let mut expected: Vec<_> = (0..10).map(|x| (x, Ok(x))).collect();
    expected.push((99, Err(RpcError::Lost)));
    assert_eq!(got, expected);
}

#[test]
fn after_each_reply_runs_once_the_handler_has_returned_and_before_the_caller_hears() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicU64, Ordering};
    let net = Network::with_seed(4);
    let state = Arc::new(AtomicU64::new(0));
    let seen_after = Arc::new(labrt::sync::Mutex::new(Vec::new()));
    let (handler_state, tap_state, seen) = (state.clone(), state.clone(), seen_after.clone());
    let service = Service::new("S")
        .method("Set", move |v: u64| {
            handler_state.store(v, Ordering::SeqCst);
            v
        })
        .after_each_reply(move |method| {
            seen.lock()
                .push((method.to_owned(), tap_state.load(Ordering::SeqCst)))
        });
    let mut server = Server::new();
    server.add_service(service);
    net.add_server("s", server);
    let end = net.make_end("e");
    net.connect("e", "s");
    net.enable("e", true);
    assert_eq!(end.call::<_, u64>("S.Set", &7u64), Ok(7));
    // The tap ran before the reply reached the caller, and saw the handler's effect.
    assert_eq!(*seen_after.lock(), [("Set".to_owned(), 7)]);
}

#[test]
fn a_tap_runs_on_the_callers_thread_before_the_request_leaves() {
    use std::sync::Arc;
    let net = Network::with_seed(5);
    let mut server = Server::new();
    server.add_service(Service::new("S").method("Echo", |v: u64| v));
    net.add_server("s", server);
    let seen = Arc::new(labrt::sync::Mutex::new(Vec::new()));
    let caller = thread::current().id();
    let tapped = seen.clone();
    let end = net.make_end("e").with_tap(move |method, args| {
        let arg: u64 = postcard::from_bytes(args).unwrap();
        tapped
            .lock()
            .push((format!("{method}({arg})"), thread::current().id() == caller))
    });
    net.connect("e", "s");
    // A disabled end: the call fails, but it was made, so the tap ran.
    assert!(end.call::<_, u64>("S.Echo", &1u64).is_err());
    net.enable("e", true);
    assert_eq!(end.call::<_, u64>("S.Echo", &2u64), Ok(2));
    assert_eq!(
        *seen.lock(),
        [
            ("S.Echo(1)".to_owned(), true),
            ("S.Echo(2)".to_owned(), true)
        ]
    );
}
