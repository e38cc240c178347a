//! The tester's side of each peer's apply channel: a thread per incarnation that records
//! what the peer applied and checks it against every other peer (Go's `applier` and
//! `applierSnap`). The records live in [`Applied`], which the checks read.

use labrt::time::Instant;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use labrt::channel::Receiver;
use labrt::sync::{Condvar, Mutex};
use raft::ApplyMsg;
use serde::{Deserialize, Serialize};

use super::cmd::Cmd;
use crate::calls::TimedRaft;
use crate::tester::FailureSlot;

/// The snapshot tests ask for a snapshot after every this many applied commands.
pub const SNAPSHOT_INTERVAL: u64 = 10;

/// Every peer's applied commands, and the first error any background check found.
pub struct Applied {
    state: Mutex<AppliedState>,
    /// Signalled whenever a peer applies something, so waiting checks wake at once.
    changed: Condvar,
    failure: Arc<FailureSlot>,
}

#[derive(Default)]
pub struct AppliedState {
    /// `logs[i]`: what peer `i`'s current incarnation applied.
    pub logs: Vec<AppliedLog>,
    /// `current[i]`: the id of peer `i`'s current incarnation. A killed incarnation's
    /// applier may still be draining its channel; what it applies is checked against the
    /// others but no longer recorded.
    current: Vec<u64>,
    /// The highest index any peer has applied.
    pub max_index: u64,
    /// Part 3E: the latest configuration any peer applied (committed), and its index.
    pub committed_config: Option<(u64, raft::Config)>,
    /// Bumped on every change, so that a waiter can tell that something happened.
    pub version: u64,
}

/// One peer's applied commands by index.
#[derive(Clone, Default)]
pub struct AppliedLog(Vec<Option<Vec<u8>>>);

impl AppliedLog {
    pub fn get(&self, index: u64) -> Option<&Vec<u8>> {
        self.0.get(usize::try_from(index).ok()?)?.as_ref()
    }

    pub fn contains(&self, index: u64) -> bool {
        self.get(index).is_some()
    }

    fn insert(&mut self, index: u64, command: Vec<u8>) {
        let i = index as usize;
        if self.0.len() <= i {
            self.0.resize(i + 1, None);
        }
        self.0[i] = Some(command);
    }
}

impl Applied {
    /// Records for `peers` peers; failures go to `failure`.
    pub fn new(peers: usize, failure: Arc<FailureSlot>) -> Self {
        Self {
            state: Mutex::new(AppliedState {
                logs: vec![AppliedLog::default(); peers],
                max_index: 0,
                committed_config: None,
                version: 0,
                current: vec![0; peers],
            }),
            changed: Condvar::new(),
            failure,
        }
    }

    pub fn lock(&self) -> labrt::sync::MutexGuard<'_, AppliedState> {
        self.state.lock()
    }

    /// Waits until the state's version differs from `seen` or `deadline` passes.
    pub fn wait_for_change(&self, seen: u64, deadline: Instant) {
        let mut state = self.state.lock();
        while state.version == seen {
            if self.changed.wait_until(&mut state, deadline).timed_out() {
                return;
            }
        }
    }

    /// Waits until `done` holds or `deadline` passes; true if it holds.
    pub fn wait_until(
        &self,
        deadline: Instant,
        mut done: impl FnMut(&AppliedState) -> bool,
    ) -> bool {
        let mut state = self.state.lock();
        loop {
            if done(&state) {
                return true;
            }
            if self.changed.wait_until(&mut state, deadline).timed_out() {
                return done(&state);
            }
        }
    }

    /// Part 3E: a peer applied the configuration `config` at `index`.
    fn note_config(&self, index: u64, config: &raft::Config) {
        let mut state = self.state.lock();
        if state
            .committed_config
            .as_ref()
            .is_none_or(|(i, _)| *i < index)
        {
            state.committed_config = Some((index, config.clone()));
        }
    }

    /// Records the first failure found off the test's thread.
    pub fn fail(&self, message: String) {
        self.failure.fail(message);
    }

    /// Starts the record of peer `me`'s new incarnation `incarnation`: empty, or what its
    /// snapshot holds. Returns the index the snapshot covers.
    pub fn start(&self, me: usize, incarnation: u64, snapshot: &[u8]) -> Result<u64, String> {
        self.state.lock().current[me] = incarnation;
        self.reset(me, incarnation, snapshot)
    }

    /// Replaces incarnation `incarnation`'s record with what `snapshot` holds (if it is
    /// still the current one). Returns the index the snapshot covers.
    fn reset(&self, me: usize, incarnation: u64, snapshot: &[u8]) -> Result<u64, String> {
        let (log, index) = if snapshot.is_empty() {
            (Vec::new(), 0)
        } else {
            let TesterSnapshot { index, log } = TesterSnapshot::decode(snapshot)?;
            (log, index)
        };
        let mut state = self.state.lock();
        if state.current[me] != incarnation {
            return Ok(index);
        }
        state.logs[me] = AppliedLog(log);
        state.version += 1;
        drop(state);
        self.changed.notify_all();
        Ok(index)
    }

    /// Go's `checkLogs`: records that incarnation `incarnation` of `me` applied `command` at
    /// `index`; an error if another peer applied something else there. Also reports
    /// whether `me` had applied `index - 1` (always true for a killed incarnation, whose
    /// applies are checked but not recorded).
    fn record(
        &self,
        me: usize,
        incarnation: u64,
        index: u64,
        command: &[u8],
    ) -> (Option<String>, bool) {
        let mut state = self.state.lock();
        let mut error = None;
        for (j, log) in state.logs.iter().enumerate() {
            if let Some(old) = log.get(index)
                && old != command
            {
                error = Some(format!(
                    "commit index={index} server={me} {} != server={j} {}",
                    Cmd::show(command),
                    Cmd::show(old)
                ));
            }
        }
        if state.current[me] != incarnation {
            return (error, true);
        }
        let previous = state.logs[me].contains(index - 1);
        state.logs[me].insert(index, command.to_vec());
        state.max_index = state.max_index.max(index);
        state.version += 1;
        drop(state);
        self.changed.notify_all();
        (error, previous)
    }

    /// The snapshot the tester hands peer `me` after it applied `index`: the index and all
    /// commands up to it.
    fn snapshot_of(&self, me: usize, index: u64) -> Vec<u8> {
        let state = self.state.lock();
        let log = (0..=index)
            .map(|i| state.logs[me].get(i).cloned())
            .collect();
        TesterSnapshot { index, log }.encode()
    }
}

/// What the tester's service keeps in a snapshot.
#[derive(Serialize, Deserialize)]
struct TesterSnapshot {
    index: u64,
    log: Vec<Option<Vec<u8>>>,
}

impl TesterSnapshot {
    fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("tester snapshots always encode")
    }

    fn decode(bytes: &[u8]) -> Result<Self, String> {
        postcard::from_bytes(bytes).map_err(|e| format!("snapshot decode error: {e}"))
    }
}

/// One incarnation's apply channel reader.
pub struct Applier {
    pub me: usize,
    pub incarnation: u64,
    pub applied: Arc<Applied>,
    /// Set just before the tester kills this incarnation; a channel that closes without it
    /// means the peer died on its own.
    pub stopping: Arc<AtomicBool>,
    /// `Some` in the snapshot tests: the peer to hand snapshots to.
    pub snapshots: Option<TimedRaft>,
    pub last_applied: u64,
    /// When this incarnation started (to find the panic that stopped it).
    pub started: Instant,
}

impl Applier {
    pub fn run(mut self, apply: Receiver<ApplyMsg>) {
        for msg in apply.iter() {
            if let Err(error) = self.handle(msg) {
                self.applied.fail(format!("apply error: {error}"));
            }
        }
        if !self.stopping.load(Ordering::Acquire) {
            let me = self.me;
            self.applied.fail(match crate::panics::likely_cause(me, self.started) {
                Some(panic) => format!(
                    "server {me} stopped while it was running (its apply channel closed): {panic}"
                ),
                None => format!(
                    "server {me} closed its apply channel while it was running: a thread of the \
                     peer stopped (a panic, e.g. a todo!() not yet implemented? its message is \
                     printed above)"
                ),
            });
        }
    }

    fn handle(&mut self, msg: ApplyMsg) -> Result<(), String> {
        let me = self.me;
        match msg {
            ApplyMsg::Config { index, config } => {
                // Part 3E: a configuration takes its index like a command; the peers must
                // agree on it like on one.
                self.applied.note_config(index, &config);
                self.handle(ApplyMsg::Command {
                    index,
                    command: Cmd::Config(config.to_string()).encode(),
                })
            }
            ApplyMsg::Command { index, command } => {
                let mut error = None;
                // Every part, not only 3D (Go's plain applier checks only that index - 1
                // was applied): each index once, in order, from the last one applied.
                // Go's 3D message says which index came and which was due: a repeat, a
                // gap or a step back.
                let expected = self.last_applied + 1;
                if index != expected {
                    error = Some(format!(
                        "server {me} apply out of order, expected index {expected}, got {index}"
                    ));
                }
                if error.is_none() {
                    if index == 0 {
                        return Err(format!("server {me} applied index 0; the first index is 1"));
                    }
                    let (mismatch, previous) =
                        self.applied.record(me, self.incarnation, index, &command);
                    error = mismatch;
                    if index > 1 && !previous {
                        error = Some(format!("server {me} apply out of order {index}"));
                    }
                }
                self.last_applied = index;
                if let Some(raft) = &self.snapshots
                    && (index + 1) % SNAPSHOT_INTERVAL == 0
                {
                    raft.snapshot(index, self.applied.snapshot_of(me, index));
                }
                error.map_or(Ok(()), Err)
            }
            ApplyMsg::Snapshot {
                index, snapshot, ..
            } => {
                if self.snapshots.is_none() {
                    return Ok(()); // Go's plain applier ignores snapshots
                }
                let held = self.applied.reset(me, self.incarnation, &snapshot)?;
                if held != index {
                    return Err(format!(
                        "server {me} snapshot doesn't match m.SnapshotIndex"
                    ));
                }
                self.last_applied = index;
                Ok(())
            }
        }
    }
}
