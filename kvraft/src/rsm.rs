//! The replicated state machine: a service submits operations, the rsm runs them through
//! Raft, applies every committed operation to the service's [`StateMachine`] in log
//! order on every peer, and hands each submitter its own operation's result.
//!
//! A submit returns [`Error::WrongLeader`] at once if this peer is not the leader, and
//! as soon as it can no longer succeed: the peer's term changed or it stopped leading
//! (checked every [`LEADERSHIP_CHECK`]), another operation took its log index, or the
//! peer was shut down (its apply channel closed). The caller retries elsewhere.
//!
//! When Raft's saved state reaches 90% of `maxraftstate` bytes, the rsm snapshots the
//! state machine so that Raft can discard its log; on restart it restores the state
//! machine from the last snapshot before Raft replays what followed.
// solution:begin 4A (nothing to drop: the skeleton adds the line below)
// solution:skeleton
//
// // The skeleton keeps the types, fields, helpers and imports a solution uses, for the code
// // you write. Delete this line once your code uses them, to get the compiler's warnings back.
// #![allow(dead_code, unused_imports)]
// solution:end

use labrt::thread;
use labrt::time::{Duration, Instant};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

use labrpc::ClientEnd;
use labrt::channel::{Receiver, RecvTimeoutError, Sender, bounded, unbounded};
use labrt::sync::{Condvar, Mutex};
use persister::Persister;
use raft::{ApplyMsg, Raft};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

use crate::rpc::Error;

/// How often a waiting submit checks that its peer still leads in the same term.
pub const LEADERSHIP_CHECK: Duration = Duration::from_millis(10);

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

/// An operation in the log: who submitted it and the request. `origin` is random per rsm
/// incarnation, so operations replayed after a restart are never mistaken for new ones.
#[derive(Serialize, Deserialize)]
struct Op<R> {
    origin: u64,
    id: u64,
    request: R,
}

/// What a submitter receives once its operation is applied.
struct Applied<R> {
    index: u64,
    reply: R,
}

type Waiters<R> = Mutex<BTreeMap<u64, Sender<Applied<R>>>>;

/// How long a read waits for its peer to apply up to the read index (part 4D).
pub const READ_APPLY_WAIT: Duration = Duration::from_secs(1);

/// Part 4D: how far the applier has got, for reads waiting to be served at an index.
#[derive(Default)]
struct Progress {
    applied: Mutex<u64>,
    changed: Condvar,
}

impl Progress {
    fn advance(&self, index: u64) {
        let mut applied = self.applied.lock();
        if index > *applied {
            *applied = index;
            self.changed.notify_all();
        }
    }

    /// Waits until `index` is applied; false if it is not within `limit`.
    fn wait_for(&self, index: u64, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        let mut applied = self.applied.lock();
        while *applied < index {
            if self.changed.wait_until(&mut applied, deadline).timed_out() {
                return *applied >= index;
            }
        }
        true
    }
}

/// One peer's replicated state machine.
pub struct Rsm<S: StateMachine> {
    raft: Arc<Raft>,
    sm: Arc<S>,
    origin: u64,
    next_id: AtomicU64,
    waiting: Arc<Waiters<S::Reply>>,
    stopped: Arc<AtomicBool>,
    progress: Arc<Progress>,
}

impl<S: StateMachine> Rsm<S> {
    /// Starts peer `me`: restores `sm` from the persister's snapshot, starts its Raft
    /// peer, and a thread that applies what Raft commits. `maxraftstate` is the Raft
    /// state size (bytes) that triggers a snapshot; `None` never snapshots. Returns at
    /// once.
    pub fn new(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        maxraftstate: Option<usize>,
        sm: Arc<S>,
    ) -> Self {
        let all = (0..peers.len()).collect();
        Self::with_initial_voters(peers, me, all, persister, maxraftstate, sm)
    }

    /// Part 4E: like [`Rsm::new`], but the cluster starts as `voters` only (none for a
    /// server that starts outside it and waits to be added; see
    /// [`Raft::with_initial_voters`]).
    pub fn with_initial_voters(
        peers: Vec<ClientEnd>,
        me: usize,
        voters: BTreeSet<usize>,
        persister: Arc<Persister>,
        maxraftstate: Option<usize>,
        sm: Arc<S>,
    ) -> Self {
        let snapshot = persister.read_snapshot();
        if !snapshot.is_empty() {
            sm.restore(&snapshot);
        }
        let (apply_tx, apply_rx) = unbounded();
        let raft = Arc::new(Raft::with_initial_voters(
            peers, me, voters, persister, apply_tx,
        ));
        let rsm = Self {
            raft: Arc::clone(&raft),
            sm: Arc::clone(&sm),
            origin: labrt::random(),
            next_id: AtomicU64::new(1),
            waiting: Arc::new(Mutex::new(BTreeMap::new())),
            stopped: Arc::new(AtomicBool::new(false)),
            progress: Arc::default(),
        };
        let applier = Applier {
            raft,
            sm,
            origin: rsm.origin,
            waiting: Arc::clone(&rsm.waiting),
            stopped: Arc::clone(&rsm.stopped),
            progress: Arc::clone(&rsm.progress),
            snapshot_at: maxraftstate.map(|max| max * 9 / 10),
        };
        thread::Builder::new()
            .name(format!("rsm-{me}"))
            .spawn(move || applier.run(apply_rx))
            .expect("rsm: cannot spawn the applier thread");
        rsm
    }

    /// This peer's Raft (to register its service, or to ask who leads).
    pub fn raft(&self) -> &Arc<Raft> {
        &self.raft
    }

    /// The state machine.
    pub fn state_machine(&self) -> &Arc<S> {
        &self.sm
    }

    /// Part 4D: runs `read` on the state machine once this peer has applied `index` (a
    /// read index, [`Raft::read_index`]), or [`Error::WrongLeader`] if it has not within
    /// [`READ_APPLY_WAIT`] (its log may lag behind a leader it cannot reach).
    pub fn read_at<T>(&self, index: u64, read: impl FnOnce(&S) -> T) -> Result<T, Error> {
        // solution:begin 4D Wait until the applier has applied `index`, then read the state machine.
        if self.stopped.load(Ordering::Acquire) || !self.progress.wait_for(index, READ_APPLY_WAIT) {
            return Err(Error::WrongLeader);
        }
        Ok(read(&self.sm))
        // solution:skeleton
        // let _ = (index, read, &self.progress, READ_APPLY_WAIT);
        // todo!("4D: wait until the applier has applied `index`, then read the state machine")
        // solution:end
    }

    /// Runs `request` through Raft and returns its result once applied here, or
    /// [`Error::WrongLeader`] as soon as that cannot happen.
    pub fn submit(&self, request: S::Request) -> Result<S::Reply, Error> {
        // solution:begin 4A Put the request through Raft and wait for its result (or WrongLeader as soon as it cannot come).
        if self.stopped.load(Ordering::Acquire) {
            return Err(Error::WrongLeader);
        }
        let id = self.next_id.fetch_add(1, Ordering::Relaxed);
        let op = Op {
            origin: self.origin,
            id,
            request,
        };
        let bytes = postcard::to_allocvec(&op).expect("rsm: operations always encode");
        let (tx, rx) = bounded(1);
        // Registered before `start`, so that even an instant commit finds its waiter.
        self.waiting.lock().insert(id, tx);
        let outcome = match self.raft.start(bytes) {
            Some((index, term)) => self.wait(&rx, index, term),
            None => Err(Error::WrongLeader),
        };
        self.waiting.lock().remove(&id);
        outcome
        // solution:skeleton
        // let _ = (request,);
        // todo!(
        //     "4A: put the request through Raft and wait for its result (or WrongLeader as soon as it cannot come)"
        // )
        // solution:end
    }

    fn wait(
        &self,
        rx: &Receiver<Applied<S::Reply>>,
        index: u64,
        term: u64,
    ) -> Result<S::Reply, Error> {
        // solution:begin 4A Wait for the applier to hand back the operation started at `index` in `term`.
        loop {
            match rx.recv_timeout(LEADERSHIP_CHECK) {
                Ok(applied) if applied.index == index => return Ok(applied.reply),
                Ok(_) => return Err(Error::WrongLeader),
                Err(RecvTimeoutError::Timeout) => {
                    if self.raft.get_state() != (term, true) {
                        return Err(Error::WrongLeader);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => return Err(Error::WrongLeader),
            }
        }
        // solution:skeleton
        // let _ = (rx, index, term);
        // todo!("4A: wait for the applier to hand back the operation started at `index` in `term`")
        // solution:end
    }

    /// Stops this peer: Raft is killed, its apply channel closes, and every submit still
    /// waiting returns [`Error::WrongLeader`].
    pub fn kill(&self) {
        self.raft.kill();
    }
}

/// The thread that applies committed operations.
struct Applier<S: StateMachine> {
    raft: Arc<Raft>,
    sm: Arc<S>,
    origin: u64,
    waiting: Arc<Waiters<S::Reply>>,
    stopped: Arc<AtomicBool>,
    progress: Arc<Progress>,
    /// Snapshot once Raft's state is this large.
    snapshot_at: Option<usize>,
}

impl<S: StateMachine> Applier<S> {
    /// Applies what Raft sends, in order, until the channel closes (Raft was killed): a
    /// command through the state machine, waking its submitter; a snapshot by restoring
    /// the state machine from it; a configuration (part 3E) by taking its index. Each
    /// tells `progress` how far it has applied (4D). 4C: snapshots when Raft's saved
    /// state nears `snapshot_at`. Once the channel closes, marks the rsm stopped and
    /// fails every submit still waiting.
    fn run(self, apply: Receiver<ApplyMsg>) {
        // solution:begin 4A Apply what Raft commits, in order; 4C: snapshot when Raft's state nears maxraftstate.
        for first in apply.iter() {
            // Apply everything already queued, then snapshot once: a snapshot per few
            // entries would slow the applier down exactly when it falls behind.
            let mut last = None;
            for msg in std::iter::once(first).chain(apply.try_iter()) {
                match msg {
                    ApplyMsg::Command { index, command } => {
                        self.apply(index, &command);
                        last = Some(index);
                        self.progress.advance(index);
                    }
                    ApplyMsg::Snapshot {
                        index, snapshot, ..
                    } => {
                        self.sm.restore(&snapshot);
                        last = None;
                        self.progress.advance(index);
                    }
                    // A membership change (part 3E) holds no operation, but takes its index.
                    ApplyMsg::Config { index, .. } => {
                        last = Some(index);
                        self.progress.advance(index);
                    }
                }
            }
            if let (Some(index), Some(limit)) = (last, self.snapshot_at)
                && self.raft.persist_bytes() >= limit
            {
                self.raft.snapshot(index, self.sm.snapshot());
            }
        }
        // Raft was killed: nothing more will be applied here.
        self.stopped.store(true, Ordering::Release);
        self.waiting.lock().clear();
        // solution:skeleton
        // let _ = (apply,);
        // todo!(
        //     "4A: apply what Raft commits, in order; 4C: snapshot when Raft's state nears maxraftstate"
        // )
        // solution:end
    }

    fn apply(&self, index: u64, command: &[u8]) {
        // solution:begin 4A Apply one committed operation and wake its submitter.
        let op: Op<S::Request> = match postcard::from_bytes(command) {
            Ok(op) => op,
            Err(e) => {
                panic!("rsm: the command at index {index} does not decode as an operation: {e}")
            }
        };
        let reply = self.sm.apply(op.request);
        if op.origin == self.origin
            && let Some(waiter) = self.waiting.lock().remove(&op.id)
        {
            let _ = waiter.send(Applied { index, reply });
        }
        // solution:skeleton
        // let _ = (index, command);
        // todo!("4A: apply one committed operation and wake its submitter")
        // solution:end
    }
}
