//! The replicated state machine: a service submits operations, the rsm runs them through
//! Raft, applies every committed operation to the service's [`StateMachine`] in log
//! order on every peer, and hands each submitter its own operation's result.
//!
//! What the tests hold it to:
//! - [`Rsm::submit`] returns [`Error::WrongLeader`] at once if this peer is not the
//!   leader, and as soon as the operation can no longer succeed here: the peer lost its
//!   leadership or changed term, another operation took the operation's log index, or
//!   the peer was killed (its apply channel closed). It never waits forever.
//! - Every committed operation is applied exactly once on every peer, in log order,
//!   including after restarts (a replayed operation is not a new one).
//! - 4C: with `maxraftstate`, Raft's saved state stays below 8 × `maxraftstate` bytes
//!   ([`Persister::raft_state_size`]): snapshot the state machine
//!   ([`StateMachine::snapshot`], [`Raft::snapshot`]) when it nears `maxraftstate`.
//!   Without it, never snapshot. On restart, restore the state machine from the
//!   persister's snapshot before Raft applies anything after it, and restore it from
//!   every [`raft::ApplyMsg::Snapshot`] Raft applies.

use std::marker::PhantomData;
use std::sync::Arc;

use labrpc::ClientEnd;
use persister::Persister;
use raft::Raft;
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::rpc::Error;

/// The service a replicated state machine runs: the same operations, in the same order,
/// on every peer.
pub trait StateMachine: Send + Sync + 'static {
    type Request: Serialize + DeserializeOwned + Send + 'static;
    type Reply: Send + 'static;

    /// Executes one committed operation (Go's `DoOp`). Must be deterministic.
    fn apply(&self, request: Self::Request) -> Self::Reply;
    /// The whole state, encoded.
    fn snapshot(&self) -> Vec<u8>;
    /// Replaces the state with a snapshot's.
    fn restore(&self, snapshot: &[u8]);
}

/// One peer's replicated state machine.
pub struct Rsm<S: StateMachine> {
    // Your fields: replace this marker with them (it only says that an `Rsm<S>` runs an
    // `S`).
    _sm: PhantomData<S>,
}

impl<S: StateMachine> Rsm<S> {
    /// Starts peer `me`: restores `sm` from the persister's snapshot, starts its Raft
    /// peer on `peers` and `persister`, and whatever applies what Raft commits.
    /// `maxraftstate` is the Raft state size (bytes) that calls for a snapshot; `None`
    /// never snapshots. Returns at once.
    pub fn new(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        maxraftstate: Option<usize>,
        sm: Arc<S>,
    ) -> Self {
        let _ = (peers, me, persister, maxraftstate, sm);
        todo!("4A: restore the state machine, start Raft and the applier, and return")
    }

    /// This peer's Raft (to register its service, or to ask who leads).
    pub fn raft(&self) -> &Arc<Raft> {
        todo!("4A: this peer's Raft")
    }

    /// The state machine this rsm was started with (the tester reads its state).
    pub fn state_machine(&self) -> &Arc<S> {
        todo!("4A: the state machine this rsm was started with")
    }

    /// Runs `request` through Raft and returns its result once applied here, or
    /// [`Error::WrongLeader`] as soon as that cannot happen.
    pub fn submit(&self, request: S::Request) -> Result<S::Reply, Error> {
        let _ = request;
        todo!("4A: put the request through Raft and wait for its result, or WrongLeader")
    }

    /// Stops this peer: Raft is killed, and every submit still waiting returns
    /// [`Error::WrongLeader`].
    pub fn kill(&self) {
        todo!("4A: kill Raft and fail every submit still waiting")
    }
}
