//! The versioned key/value server: a [`StateMachine`] on the [`Rsm`], exposed as the
//! labrpc service `KVServer` (`KVServer.Get`, `KVServer.Put`).
//!
//! Every operation goes through the Raft log, reads included (4B): a leader cut off from
//! the majority must not answer from its possibly stale state. Part 4D serves gets
//! without the log instead, at a read index the leader confirms ([`Reads`]). A put carries its clerk's
//! [`RequestId`]; the duplicate table remembers each clerk's latest put and its answer,
//! so a retried put is answered, not applied again. The table is part of the snapshot.
// solution:begin 4B (nothing to drop: the skeleton adds the line below)
// solution:skeleton
//
// // The skeleton keeps the types, fields, helpers and imports a solution uses, for the code
// // you write. Delete this line once your code uses them, to get the compiler's warnings back.
// #![allow(dead_code, unused_imports)]
// solution:end

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use labrpc::{ClientEnd, Service};
use labrt::sync::Mutex;
use persister::Persister;
use raft::{Raft, ReadError};
use serde::{Deserialize, Serialize};

use crate::rpc::{Error, GetArgs, GetReply, PutArgs, PutReply, RequestId, Version};
use crate::rsm::{Rsm, StateMachine};

/// An operation in the log.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub enum KvOp {
    Get(GetArgs),
    Put(PutArgs),
}

/// An operation's result.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum KvResult {
    Get(Result<(String, Version), Error>),
    Put(Result<(), Error>),
}

/// The replicated state: the data and the duplicate table.
#[derive(Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct KvState {
    data: BTreeMap<String, (String, Version)>,
    /// Per clerk, its latest put's sequence number and the answer it got.
    latest_put: BTreeMap<u64, (u64, Result<(), Error>)>,
}

impl KvState {
    fn get(&self, key: &str) -> Result<(String, Version), Error> {
        // solution:begin 4B Look the key up.
        self.data.get(key).cloned().ok_or(Error::NoKey)
        // solution:skeleton
        // let _ = (key,);
        // todo!("4B: look the key up")
        // solution:end
    }

    fn put(&mut self, args: PutArgs) -> Result<(), Error> {
        // solution:begin 4B Apply a versioned put at most once per clerk request.
        let RequestId { clerk, seq } = args.id;
        match self.latest_put.get(&clerk) {
            Some(&(done, answer)) if done == seq => return answer, // a retry: same answer
            // An older request the clerk has given up on (it sends one put at a time).
            Some(&(done, _)) if done > seq => return Err(Error::Version),
            _ => {}
        }
        let answer = match self.data.get_mut(&args.key) {
            Some((value, version)) if *version == args.version => {
                *value = args.value;
                *version += 1;
                Ok(())
            }
            Some(_) => Err(Error::Version),
            None if args.version == 0 => {
                self.data.insert(args.key, (args.value, 1));
                Ok(())
            }
            None => Err(Error::NoKey),
        };
        self.latest_put.insert(clerk, (seq, answer));
        answer
        // solution:skeleton
        // let _ = (args,);
        // todo!("4B: apply a versioned put at most once per clerk request")
        // solution:end
    }
}

/// The state machine the rsm drives.
#[derive(Default)]
pub struct KvStore {
    state: Mutex<KvState>,
}

impl StateMachine for KvStore {
    type Request = KvOp;
    type Reply = KvResult;

    fn apply(&self, op: KvOp) -> KvResult {
        // solution:begin 4B Execute a committed get or put.
        let mut state = self.state.lock();
        match op {
            KvOp::Get(args) => KvResult::Get(state.get(&args.key)),
            KvOp::Put(args) => KvResult::Put(state.put(args)),
        }
        // solution:skeleton
        // let _ = (op,);
        // todo!("4B: execute a committed get or put")
        // solution:end
    }

    fn snapshot(&self) -> Vec<u8> {
        // solution:begin 4C Encode the data and the duplicate table.
        postcard::to_allocvec(&*self.state.lock()).expect("KV state always encodes")
        // solution:skeleton
        // todo!("4C: encode the data and the duplicate table")
        // solution:end
    }

    fn restore(&self, snapshot: &[u8]) {
        // solution:begin 4C Replace the state with the snapshot's.
        let restored = postcard::from_bytes(snapshot).unwrap_or_else(|e| {
            panic!(
                "kvraft: a snapshot of {} bytes does not decode: {e}",
                snapshot.len()
            )
        });
        *self.state.lock() = restored;
        // solution:skeleton
        // let _ = (snapshot,);
        // todo!("4C: replace the state with the snapshot's")
        // solution:end
    }
}

impl KvStore {
    /// Part 4D: a get answered from the state as it is (the caller has made sure it is
    /// up to date enough).
    pub fn read(&self, key: &str) -> Result<(String, Version), Error> {
        self.state.lock().get(key)
    }
}

/// How a server answers gets (part 4D).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Reads {
    /// Through the log, like puts (Lab 4B).
    #[default]
    Log,
    /// At a read index that the leader confirms with a round of requests (§8).
    ReadIndex,
    /// At a read index that the leader gives on its lease (thesis §6.4.1).
    Lease,
}

/// How a server starts.
#[derive(Clone, Debug, Default)]
pub struct ServerOptions {
    /// Snapshot when Raft's state nears this many bytes; `None` never.
    pub maxraftstate: Option<usize>,
    /// Part 4E: the first configuration, if not every server.
    pub initial_voters: Option<BTreeSet<usize>>,
    /// Part 4D: how gets are served.
    pub reads: Reads,
    /// Part 4D: followers answer gets too, at a read index they ask the leader for.
    pub follower_reads: bool,
}

/// One KV server: its rsm (and through it, its Raft peer).
pub struct KvServer {
    rsm: Arc<Rsm<KvStore>>,
    reads: Reads,
    follower_reads: bool,
}

impl KvServer {
    /// Starts server `me` of the cluster reached through `peers` (Go's `StartKVServer`).
    /// `maxraftstate`: snapshot when Raft's state nears this many bytes; `None` never.
    /// Returns at once.
    pub fn new(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        maxraftstate: Option<usize>,
    ) -> Self {
        let all = (0..peers.len()).collect();
        Self::with_initial_voters(peers, me, all, persister, maxraftstate)
    }

    /// Part 4E: like [`KvServer::new`], but the cluster starts as `voters` only (none for
    /// a server that starts outside it, to be added later by a membership change).
    pub fn with_initial_voters(
        peers: Vec<ClientEnd>,
        me: usize,
        voters: BTreeSet<usize>,
        persister: Arc<Persister>,
        maxraftstate: Option<usize>,
    ) -> Self {
        let options = ServerOptions {
            maxraftstate,
            initial_voters: Some(voters),
            ..ServerOptions::default()
        };
        Self::with_options(peers, me, persister, options)
    }

    /// Starts server `me` as `options` say (parts 4D and 4E).
    pub fn with_options(
        peers: Vec<ClientEnd>,
        me: usize,
        persister: Arc<Persister>,
        options: ServerOptions,
    ) -> Self {
        let store = Arc::new(KvStore::default());
        let voters = options
            .initial_voters
            .unwrap_or_else(|| (0..peers.len()).collect());
        let rsm =
            Rsm::with_initial_voters(peers, me, voters, persister, options.maxraftstate, store);
        rsm.raft().set_lease_reads(options.reads == Reads::Lease);
        Self {
            rsm: Arc::new(rsm),
            reads: options.reads,
            follower_reads: options.follower_reads,
        }
    }

    /// The services to register on this server's labrpc server: `KVServer` and `Raft`.
    pub fn services(&self) -> Vec<Service> {
        let (gets, puts) = (Arc::clone(&self.rsm), Arc::clone(&self.rsm));
        let (reads, follower_reads) = (self.reads, self.follower_reads);
        let kv = Service::new("KVServer")
            .method("Get", move |args: GetArgs| GetReply {
                result: get(&gets, reads, follower_reads, args),
            })
            .method("Put", move |args: PutArgs| PutReply {
                result: match puts.submit(KvOp::Put(args)) {
                    Ok(KvResult::Put(result)) => result,
                    Ok(other) => unreachable!("a put produced {other:?}"),
                    Err(e) => Err(e),
                },
            });
        vec![kv, self.rsm.raft().service()]
    }

    pub fn raft(&self) -> &Arc<Raft> {
        self.rsm.raft()
    }

    /// Part 4D: how this server answers gets.
    pub fn reads(&self) -> Reads {
        self.reads
    }

    /// Stops the server (Go's `Kill`): Raft stops and waiting requests fail.
    pub fn kill(&self) {
        self.rsm.kill();
    }
}

/// A get: through the log (4B), or without it (4D) at a read index — on the leader, or
/// on any server with follower reads. A leader that has committed nothing of its term yet
/// serves this one get through the log, which commits an entry of its term.
fn get(
    rsm: &Rsm<KvStore>,
    reads: Reads,
    follower_reads: bool,
    args: GetArgs,
) -> Result<(String, Version), Error> {
    // solution:begin 4D Serve the get at a read index (on the leader, or on any server with follower reads), unless it must go through the log.
    if reads != Reads::Log && (follower_reads || rsm.raft().get_state().1) {
        match rsm.raft().read_index() {
            Ok(index) => return rsm.read_at(index, |store| store.read(&args.key))?,
            Err(ReadError::NothingCommittedInTerm) => {} // through the log, below
            Err(_) => return Err(Error::WrongLeader),
        }
    }
    // solution:skeleton
    // if reads != Reads::Log {
    //     let _ = (follower_reads, ReadError::Timeout);
    //     todo!(
    //         "4D: serve the get at a read index (on the leader, or on any server with follower reads), unless it must go through the log"
    //     )
    // }
    // solution:end
    match rsm.submit(KvOp::Get(args))? {
        KvResult::Get(result) => result,
        other => unreachable!("a get produced {other:?}"),
    }
}
// solution:begin tests The solution's unit tests of its own state and duplicate table: the 4B and 4C suites check a student's.

#[cfg(test)]
mod tests {
    use super::*;

    fn put(clerk: u64, seq: u64, key: &str, value: &str, version: Version) -> PutArgs {
        PutArgs {
            key: key.into(),
            value: value.into(),
            version,
            id: RequestId { clerk, seq },
        }
    }

    #[test]
    fn versions_guard_puts() {
        let mut s = KvState::default();
        assert_eq!(s.get("k"), Err(Error::NoKey));
        assert_eq!(s.put(put(1, 1, "k", "a", 1)), Err(Error::NoKey));
        assert_eq!(s.put(put(1, 2, "k", "a", 0)), Ok(()));
        assert_eq!(s.get("k"), Ok(("a".into(), 1)));
        assert_eq!(s.put(put(1, 3, "k", "b", 0)), Err(Error::Version));
        assert_eq!(s.put(put(1, 4, "k", "b", 1)), Ok(()));
        assert_eq!(s.get("k"), Ok(("b".into(), 2)));
    }

    #[test]
    fn a_retried_put_gets_its_first_answer_and_applies_once() {
        let mut s = KvState::default();
        assert_eq!(s.put(put(7, 1, "k", "a", 0)), Ok(()));
        // The reply was lost; the clerk retries the same request.
        assert_eq!(s.put(put(7, 1, "k", "a", 0)), Ok(()));
        assert_eq!(s.get("k"), Ok(("a".into(), 1)));
        // Another clerk's identical request is a different request.
        assert_eq!(s.put(put(8, 1, "k", "a", 0)), Err(Error::Version));
        // A stale request of clerk 7 is not applied.
        assert_eq!(s.put(put(7, 2, "k", "z", 1)), Ok(()));
        assert_eq!(s.put(put(7, 1, "k", "late", 2)), Err(Error::Version));
        assert_eq!(s.get("k"), Ok(("z".into(), 2)));
    }

    #[test]
    fn the_duplicate_table_survives_a_snapshot() {
        let store = KvStore::default();
        store.apply(KvOp::Put(put(7, 1, "k", "a", 0)));
        let restored = KvStore::default();
        restored.restore(&store.snapshot());
        assert_eq!(
            restored.apply(KvOp::Put(put(7, 1, "k", "a", 0))),
            KvResult::Put(Ok(()))
        );
        assert_eq!(*restored.state.lock(), *store.state.lock());
    }
}
// solution:end
