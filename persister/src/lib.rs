//! In-memory stable storage for one Raft peer, modelled on the Go lab's `Persister`.
//!
//! A peer keeps two blobs here: its *raft state* (term, vote, log — whatever it chooses to
//! encode) and the service's latest *snapshot*. [`Persister::save`] replaces both in one
//! atomic step, so no reader ever sees a new raft state with an old snapshot or the other
//! way round. Reads hand out copies: the caller owns what it reads and nothing it does
//! afterwards can touch what is stored.
//!
//! The tester uses [`Persister::copy`] at every crash: the crashed incarnation keeps its
//! old persister (it may still be writing while it dies), and the restarted peer gets a
//! fresh one that holds the last bytes saved. A zombie can therefore never corrupt its
//! successor's state.
//!
//! A persister is `Sync`; share one between a peer's threads with an `Arc`.

use std::sync::Arc;

use labrt::sync::Mutex;

/// The last saved raft state and snapshot of one peer.
#[derive(Debug, Default)]
pub struct Persister {
    saved: Mutex<Saved>,
}

/// One atomic save. The blobs are immutable once saved, so copies of the persister can
/// share them.
#[derive(Debug, Default, Clone)]
struct Saved {
    raft_state: Arc<[u8]>,
    snapshot: Arc<[u8]>,
}

impl Persister {
    /// An empty persister: no raft state, no snapshot.
    pub fn new() -> Self {
        Self::default()
    }

    /// A new, independent persister holding what this one holds now. Later saves to either
    /// one do not show in the other.
    pub fn copy(&self) -> Self {
        Self {
            saved: Mutex::new(self.saved.lock().clone()),
        }
    }

    /// Replaces the raft state and the snapshot together, in one atomic step.
    ///
    /// As in the Go lab, both are always replaced: pass the current snapshot again to keep
    /// it, and an empty slice to have none.
    pub fn save(&self, raft_state: &[u8], snapshot: &[u8]) {
        let saved = Saved {
            raft_state: Arc::from(raft_state),
            snapshot: Arc::from(snapshot),
        };
        *self.saved.lock() = saved;
    }

    /// A copy of the last saved raft state (empty if none was ever saved).
    pub fn read_raft_state(&self) -> Vec<u8> {
        self.saved.lock().raft_state.to_vec()
    }

    /// A copy of the last saved snapshot (empty if none was ever saved).
    pub fn read_snapshot(&self) -> Vec<u8> {
        self.saved.lock().snapshot.to_vec()
    }

    /// The size in bytes of the saved raft state: what the tester's log-size limits read.
    pub fn raft_state_size(&self) -> usize {
        self.saved.lock().raft_state.len()
    }

    /// The size in bytes of the saved snapshot.
    pub fn snapshot_size(&self) -> usize {
        self.saved.lock().snapshot.len()
    }
}
