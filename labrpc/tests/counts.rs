//! RPC and byte counters, exactly as Go counts them: every request the network takes
//! counts in the total with its bytes; the server's count covers requests that reached
//! it; reply bytes count only when a reply is delivered.

mod common;

use labrpc::{Network, RpcError};

use common::{echo, wired};

fn size<T: serde::Serialize>(value: &T) -> u64 {
    postcard::to_allocvec(value).unwrap().len() as u64
}

#[test]
fn reliable_calls_count_requests_and_replies() {
    let (net, end, _) = wired(1);
    let mut expected = 0;
    for x in [0u64, 1, 127, 128, 300, u64::MAX] {
        assert_eq!(echo(&end, x), Ok(x));
        expected += 2 * size(&x);
    }
    let blob = vec![7u8; 4096];
    assert_eq!(end.call::<_, usize>("Test.Blob", &blob), Ok(4096));
    expected += size(&blob) + size(&4096usize);
    assert_eq!(net.total_count(), 7);
    assert_eq!(net.count("s"), 7);
    assert_eq!(net.total_bytes(), expected);
}

#[test]
fn requests_on_dead_links_count_in_the_total_only() {
    let (net, end, runs) = wired(2);
    net.enable("e", false);
    let unconnected = net.make_end("nowhere");
    net.enable("nowhere", true);
    for x in 0..5u64 {
        assert_eq!(echo(&end, x), Err(RpcError::Lost));
        assert_eq!(echo(&unconnected, x), Err(RpcError::Lost));
    }
    assert_eq!(net.total_count(), 10);
    assert_eq!(net.count("s"), 0);
    assert_eq!(runs.get(), 0);
    assert_eq!(net.total_bytes(), 10); // ten one-byte requests, no replies
}

#[test]
fn counts_are_per_server_and_restart_with_a_new_incarnation() {
    let net = Network::with_seed(3);
    let runs = common::Runs::default();
    for s in ["a", "b"] {
        net.add_server(s, common::test_server(&runs));
        let end = format!("to-{s}");
        net.make_end(&end);
        net.connect(&end, s);
        net.enable(&end, true);
    }
    let a = net.make_end("a2");
    net.connect("a2", "a");
    net.enable("a2", true);
    for x in 0..3 {
        echo(&a, x).unwrap();
    }
    assert_eq!((net.count("a"), net.count("b")), (3, 0));
    net.add_server("a", common::test_server(&runs)); // restart: a new incarnation
    assert_eq!(net.count("a"), 0);
    echo(&a, 1).unwrap();
    assert_eq!(net.count("a"), 1);
    assert_eq!(net.count("missing"), 0);
    assert_eq!(net.total_count(), 4);
}

#[test]
fn failed_handlers_count_the_request_but_no_reply_bytes() {
    let (net, end, _) = wired(4);
    let _ = end.call::<_, u64>("Test.Panic", &1u64);
    let _ = end.call::<_, u64>("Test.Echo", "wrong type");
    assert_eq!(net.count("s"), 2);
    assert_eq!(net.total_bytes(), size(&1u64) + size(&"wrong type"));
}

#[test]
fn calls_per_end_are_counted_whatever_their_fate() {
    let (net, end, _) = wired(5);
    echo(&end, 1).unwrap();
    net.enable("e", false);
    let _ = echo(&end, 2);
    assert_eq!(net.end_count("e"), 2);
    assert_eq!(net.end_count("unknown"), 0);
}
