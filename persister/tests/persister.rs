//! Behaviour of the persister: atomic saves, copies that do not alias, thread safety.

use labrt::thread;
use std::sync::Arc;

use persister::Persister;

#[test]
fn starts_empty() {
    let p = Persister::new();
    assert!(p.read_raft_state().is_empty());
    assert!(p.read_snapshot().is_empty());
    assert_eq!(p.raft_state_size(), 0);
    assert_eq!(p.snapshot_size(), 0);
}

#[test]
fn save_replaces_both_blobs() {
    let p = Persister::new();
    p.save(b"state-1", b"snap-1");
    assert_eq!(p.read_raft_state(), b"state-1");
    assert_eq!(p.read_snapshot(), b"snap-1");
    assert_eq!(p.raft_state_size(), 7);
    assert_eq!(p.snapshot_size(), 6);

    // As in Go, an empty snapshot argument clears the snapshot rather than keeping it.
    p.save(b"state-two", b"");
    assert_eq!(p.read_raft_state(), b"state-two");
    assert!(p.read_snapshot().is_empty());
    assert_eq!(p.snapshot_size(), 0);
}

#[test]
fn reads_are_copies() {
    let p = Persister::new();
    p.save(b"abc", b"xyz");
    let mut state = p.read_raft_state();
    let mut snap = p.read_snapshot();
    state[0] = b'!';
    snap.clear();
    assert_eq!(p.read_raft_state(), b"abc");
    assert_eq!(p.read_snapshot(), b"xyz");
}

#[test]
fn save_copies_its_arguments() {
    let p = Persister::new();
    let mut state = b"abc".to_vec();
    p.save(&state, b"");
    state[0] = b'!';
    assert_eq!(p.read_raft_state(), b"abc");
}

#[test]
fn copy_is_independent_in_both_directions() {
    let old = Persister::new();
    old.save(b"s1", b"n1");
    let new = old.copy();
    assert_eq!(new.read_raft_state(), b"s1");
    assert_eq!(new.read_snapshot(), b"n1");

    // A crashed incarnation that keeps writing must not touch its successor...
    old.save(b"zombie", b"zombie");
    assert_eq!(new.read_raft_state(), b"s1");
    assert_eq!(new.read_snapshot(), b"n1");

    // ...and the successor's writes do not show in the old one either.
    new.save(b"s2", b"n2");
    assert_eq!(old.read_raft_state(), b"zombie");
    assert_eq!(new.read_raft_state(), b"s2");
}

/// Writers save matching pairs (state i, snapshot i); readers must never observe a
/// state from one save next to a snapshot from another.
#[test]
fn concurrent_saves_are_atomic() {
    let p = Arc::new(Persister::new());
    p.save(&0u64.to_le_bytes(), &0u64.to_le_bytes());
    let writers: Vec<_> = (0..4u64)
        .map(|w| {
            let p = Arc::clone(&p);
            thread::spawn(move || {
                for i in 0..20_000u64 {
                    let v = (w << 32 | i).to_le_bytes();
                    p.save(&v, &v);
                }
            })
        })
        .collect();
    let readers: Vec<_> = (0..2)
        .map(|_| {
            let p = Arc::clone(&p);
            thread::spawn(move || {
                for _ in 0..20_000 {
                    let copy = p.copy();
                    assert_eq!(copy.read_raft_state(), copy.read_snapshot(), "torn save");
                }
            })
        })
        .collect();
    for t in writers.into_iter().chain(readers) {
        t.join().unwrap();
    }
}

#[test]
fn persister_is_send_and_sync() {
    fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<Persister>();
}
