//! Partitions and crashes: disabling an end, deleting or replacing a server, deleting an
//! end. Calls waiting for a reply fail at once, and a dead incarnation never answers.

mod common;

use labrt::thread;
use std::time::Duration;

use labrpc::RpcError;

use common::{echo, timed, wired};

/// Starts a call whose handler sleeps `ms`, and waits until the handler is running.
fn blocked_call(
    end: &labrpc::ClientEnd,
    runs: &common::Runs,
    ms: u64,
) -> labrt::channel::Receiver<Result<u64, RpcError>> {
    let before = runs.get();
    let rx = end.call_async("Test.Sleep", &ms);
    while runs.get() == before {
        thread::sleep(Duration::from_millis(1));
    }
    rx
}

#[test]
fn disabling_an_end_fails_it_and_enabling_restores_it() {
    let (net, end, runs) = wired(1);
    assert_eq!(echo(&end, 1), Ok(1));
    net.enable("e", false);
    assert!(!net.is_enabled("e"));
    assert_eq!(echo(&end, 2), Err(RpcError::Lost));
    net.enable("e", true);
    assert_eq!(echo(&end, 3), Ok(3));
    assert_eq!(runs.get(), 2);
}

#[test]
fn disabling_an_end_fails_its_waiting_calls_at_once() {
    let (net, end, runs) = wired(2);
    let rx = blocked_call(&end, &runs, 5_000);
    let (r, took) = timed(|| {
        net.enable("e", false);
        rx.recv().unwrap()
    });
    assert_eq!(r, Err(RpcError::Lost));
    assert!(took < Duration::from_millis(100), "took {took:?}");
}

#[test]
fn deleting_a_server_fails_its_waiting_calls_at_once() {
    let (net, end, runs) = wired(3);
    let rx = blocked_call(&end, &runs, 5_000);
    let (r, took) = timed(|| {
        net.delete_server("s");
        rx.recv().unwrap()
    });
    assert_eq!(r, Err(RpcError::Lost));
    assert!(took < Duration::from_millis(100), "took {took:?}");
    assert_eq!(echo(&end, 1), Err(RpcError::Lost));
    net.delete_server("s"); // deleting a missing server is harmless
}

#[test]
fn replacing_a_server_fails_calls_to_the_old_one_and_serves_new_ones() {
    let (net, end, runs) = wired(4);
    let rx = blocked_call(&end, &runs, 5_000);
    let fresh = common::Runs::default();
    let (r, took) = timed(|| {
        net.add_server("s", common::test_server(&fresh));
        rx.recv().unwrap()
    });
    assert_eq!(r, Err(RpcError::Lost));
    assert!(took < Duration::from_millis(100), "took {took:?}");
    assert_eq!(echo(&end, 9), Ok(9));
    assert_eq!(fresh.get(), 1);
}

#[test]
fn deleting_an_end_fails_its_waiting_calls_and_later_ones() {
    let (net, end, runs) = wired(5);
    let rx = blocked_call(&end, &runs, 5_000);
    net.delete_end("e");
    assert_eq!(rx.recv().unwrap(), Err(RpcError::Lost));
    assert_eq!(echo(&end, 1), Err(RpcError::Lost));
    // The name is free again.
    net.make_end("e");
}

/// In a simulation seeded with `seed`: `calls` echo calls on an unreliable network, then
/// `cut` while every request is still on the wire (the calls take no virtual time, and each
/// message at least `SIM_LATENCY`; in real time a loaded machine let dozens of them finish
/// first). Returns how many handlers ran, and each call's outcome.
fn cut_while_on_the_wire(
    seed: u64,
    calls: u64,
    cut: impl FnOnce(&labrpc::Network),
) -> (u64, Vec<Result<u64, RpcError>>) {
    let (result, _) = labrt::sim::run(seed, || {
        let (net, end, runs) = wired(seed);
        net.set_reliable(false);
        let pending: Vec<_> = (0..calls)
            .map(|x| end.call_async::<_, u64>("Test.Echo", &x))
            .collect();
        cut(&net);
        let outcomes: Vec<_> = pending.into_iter().map(|rx| rx.recv().unwrap()).collect();
        // Past the longest delay on the wire (26 ms).
        thread::sleep(Duration::from_millis(100));
        (runs.get(), outcomes)
    })
    .unwrap_or_else(|failure| panic!("{}", failure.message));
    result
}

/// On an unreliable network requests wait up to 26 ms before they reach the server. A
/// server deleted while they wait must run none of them.
#[test]
fn a_deleted_server_runs_no_handler_for_requests_still_on_the_wire() {
    let (ran, outcomes) = cut_while_on_the_wire(6, 500, |net| net.delete_server("s"));
    assert_eq!(ran, 0, "handlers ran after the server was deleted");
    let lost = (outcomes.iter())
        .filter(|r| **r == Err(RpcError::Lost))
        .count();
    assert_eq!(lost, 500, "only {lost} of 500 calls failed");
}

/// Go parity: a request taken while the link was up still reaches the server even if the
/// end is disabled while it travels; only its reply is lost.
#[test]
fn a_request_on_the_wire_still_reaches_the_server_after_a_disconnect() {
    let (ran, outcomes) = cut_while_on_the_wire(7, 300, |net| net.enable("e", false));
    // ~90% of the requests survive the wire and run, but none can answer.
    assert!(ran >= 200, "only {ran} handlers ran");
    let ok = outcomes.iter().filter(|r| r.is_ok()).count();
    assert_eq!(ok, 0, "{ok} replies came back over a disabled end");
}

/// Go parity: a reply already held back by long reordering is on the wire; a crash after
/// the handler returned does not recall it.
#[test]
fn replies_held_back_by_reordering_survive_a_later_crash() {
    let (net, end, runs) = wired(8);
    net.set_long_reordering(true);
    let pending: Vec<_> = (0..60u64)
        .map(|x| end.call_async::<_, u64>("Test.Echo", &x))
        .collect();
    while runs.get() < 60 {
        thread::sleep(Duration::from_millis(1));
    }
    thread::sleep(Duration::from_millis(20));
    net.delete_server("s");
    let ok = pending
        .into_iter()
        .filter(|rx| rx.recv().unwrap().is_ok())
        .count();
    assert_eq!(ok, 60, "held-back replies were lost by the crash");
}
