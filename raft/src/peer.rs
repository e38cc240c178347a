//! The plumbing around the protocol: one thread per peer owns its [`Node`]. Everything
//! else — RPC handlers, replies to this peer's own RPCs, the service's calls — reaches
//! that thread as an [`Event`] on one channel, so the protocol never needs a lock.
//!
//! After each batch of events the thread carries out the node's outbox in the order that
//! keeps crashes safe: persist, then answer handlers and callers, then send requests, then
//! deliver applied messages.

use labrt::thread::{self, JoinHandle};
use labrt::time::Instant;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use labrpc::{ClientEnd, RpcError, Service};
use labrt::channel::{Receiver, RecvTimeoutError, Sender, bounded, unbounded};
use persister::Persister;

use std::collections::{BTreeMap, BTreeSet};

use labrt::sync::Mutex;

use crate::ApplyMsg;
use crate::config::{ChangeError, Config};
use crate::messages::{
    AppendEntriesArgs, AppendEntriesReply, InstallSnapshotArgs, InstallSnapshotReply,
    ReadIndexArgs, ReadIndexReply, RequestVoteArgs, RequestVoteReply, TimeoutNowArgs,
    TimeoutNowReply,
};
use crate::node::{AppendSent, Node, Request, SnapshotSent};
use crate::persist;
use crate::read::{READ_TIMEOUT, ReadError};

/// The most events handled before the outbox is carried out.
const MAX_BATCH: usize = 64;

/// Something the peer's thread must handle.
pub(crate) enum Event {
    RequestVote(RequestVoteArgs, Sender<RequestVoteReply>),
    AppendEntries(AppendEntriesArgs, Sender<AppendEntriesReply>),
    InstallSnapshot(InstallSnapshotArgs, Sender<InstallSnapshotReply>),
    TimeoutNow(TimeoutNowArgs, Sender<TimeoutNowReply>),
    VoteReply {
        from: usize,
        sent_term: u64,
        reply: Result<RequestVoteReply, RpcError>,
    },
    AppendReply {
        from: usize,
        sent: AppendSent,
        reply: Result<AppendEntriesReply, RpcError>,
    },
    SnapshotReply {
        from: usize,
        sent: SnapshotSent,
        reply: Result<InstallSnapshotReply, RpcError>,
    },
    TimeoutNowReply(Result<TimeoutNowReply, RpcError>),
    Start(Vec<u8>, Sender<Option<(u64, u64)>>),
    Snapshot(u64, Vec<u8>, Sender<()>),
    AddLearner(usize, Sender<Change>),
    ChangeVoters(BTreeSet<usize>, Sender<Change>),
    Transfer(usize, Sender<Result<(), ChangeError>>),
    /// Part 4D: a read index wanted, by this peer's service (`forward`: a follower asks
    /// its leader) or by a follower's ReadIndex RPC.
    ReadIndex {
        forward: bool,
        answer: Sender<Result<u64, ReadError>>,
    },
    SetLeaseReads(bool),
    Kill,
}

/// The answer to a membership change: the configuration entry's index and term.
pub(crate) type Change = Result<(u64, u64), ChangeError>;

/// A reply owed to a handler or caller, sent once the state it reveals is saved.
type Answer = Box<dyn FnOnce() + Send>;

fn answer<T: Send + 'static>(to: Sender<T>, value: T) -> Answer {
    // The asker may be gone (a handler whose call was cancelled); nothing to do then.
    Box::new(move || drop(to.send(value)))
}

/// The term and leadership as last published by the peer's thread, packed into one word
/// so that readers always see a consistent pair: `term << 1 | is_leader`; and the
/// configuration in effect (part 3E).
#[derive(Default)]
pub(crate) struct Published {
    state: AtomicU64,
    config: Mutex<Config>,
}

impl Published {
    fn store(&self, term: u64, leader: bool) {
        self.state
            .store(term << 1 | u64::from(leader), Ordering::Release);
    }

    pub(crate) fn load(&self) -> (u64, bool) {
        let word = self.state.load(Ordering::Acquire);
        (word >> 1, word & 1 == 1)
    }

    fn store_config(&self, config: &Config) {
        *self.config.lock() = config.clone();
    }

    pub(crate) fn config(&self) -> Config {
        self.config.lock().clone()
    }
}

/// What the caller's side keeps: how to reach the thread and how to stop it.
pub(crate) struct Handle {
    pub events: Sender<Event>,
    pub published: Arc<Published>,
    pub thread: JoinHandle<()>,
}

/// Starts peer `me`'s thread, restoring whatever `persister` holds.
pub(crate) fn spawn(
    peers: Vec<ClientEnd>,
    me: usize,
    initial_voters: BTreeSet<usize>,
    persister: Arc<Persister>,
    apply: Sender<ApplyMsg>,
) -> Handle {
    let (events, inbox) = unbounded();
    let published = Arc::new(Published::default());
    let saved = persist::decode(&persister.read_raft_state())
        .unwrap_or_else(|e| panic!("raft: peer {me} cannot restart: {e}"));
    let node = Node::new(
        me,
        peers.len(),
        saved,
        persister.read_snapshot(),
        Instant::now(),
        labrt::random(),
    )
    .with_initial_voters(initial_voters);
    published.store(node.term(), node.is_leader());
    published.store_config(node.config());
    let node_config_version = node.config_version();
    let peer = Peer {
        node,
        peers,
        persister,
        apply,
        events: events.clone(),
        published: Arc::clone(&published),
        reads: BTreeMap::new(),
        next_read: 0,
        published_config: node_config_version,
    };
    let thread = thread::Builder::new()
        .name(format!("raft-{me}"))
        .spawn(move || peer.run(inbox))
        .expect("raft: cannot spawn the peer thread");
    Handle {
        events,
        published,
        thread,
    }
}

/// Sends an event carrying a reply channel and waits for the reply; `None` if the peer's
/// thread has stopped.
fn ask<T>(events: &Sender<Event>, make: impl FnOnce(Sender<T>) -> Event) -> Option<T> {
    let (tx, rx) = bounded(1);
    events.send(make(tx)).ok()?;
    rx.recv().ok()
}

/// Asks the peer to append a command (see [`Node::start`]).
pub(crate) fn start(events: &Sender<Event>, command: Vec<u8>) -> Option<(u64, u64)> {
    ask(events, |tx| Event::Start(command, tx)).flatten()
}

/// Hands the peer a snapshot and waits until it is saved.
pub(crate) fn snapshot(events: &Sender<Event>, index: u64, snapshot: Vec<u8>) {
    ask(events, |tx| Event::Snapshot(index, snapshot, tx));
}

/// Asks the peer to add a learner (see [`Node::add_learner`]).
pub(crate) fn add_learner(events: &Sender<Event>, server: usize) -> Change {
    ask(events, |tx| Event::AddLearner(server, tx)).unwrap_or(Err(ChangeError::NotLeader))
}

/// Asks the peer to change the voters (see [`Node::change_voters`]).
pub(crate) fn change_voters(events: &Sender<Event>, voters: BTreeSet<usize>) -> Change {
    ask(events, |tx| Event::ChangeVoters(voters, tx)).unwrap_or(Err(ChangeError::NotLeader))
}

/// Asks the peer to transfer its leadership (see [`Node::transfer_leadership`]).
pub(crate) fn transfer(events: &Sender<Event>, to: usize) -> Result<(), ChangeError> {
    ask(events, |tx| Event::Transfer(to, tx)).unwrap_or(Err(ChangeError::NotLeader))
}

/// Asks for a read index (see [`Node::read_index`]); waits at most [`READ_TIMEOUT`].
pub(crate) fn read_index(events: &Sender<Event>, forward: bool) -> Result<u64, ReadError> {
    let (tx, rx) = bounded(1);
    if events
        .send(Event::ReadIndex {
            forward,
            answer: tx,
        })
        .is_err()
    {
        return Err(ReadError::NotLeader);
    }
    match rx.recv_timeout(READ_TIMEOUT) {
        Ok(result) => result,
        Err(RecvTimeoutError::Timeout) => Err(ReadError::Timeout),
        Err(RecvTimeoutError::Disconnected) => Err(ReadError::NotLeader),
    }
}

/// Turns lease reads on or off (see [`Node::lease_valid`]).
pub(crate) fn set_lease_reads(events: &Sender<Event>, on: bool) {
    let _ = events.send(Event::SetLeaseReads(on));
}

/// Tells the thread to stop; it exits after the event it is handling.
pub(crate) fn kill(events: &Sender<Event>) {
    let _ = events.send(Event::Kill);
}

/// The `Raft` service: each handler passes its request to the peer's thread and waits for
/// the answer. A stopped peer answers nothing useful (term 0, refused), and the network
/// has normally stopped routing to it anyway.
pub(crate) fn service(events: &Sender<Event>) -> Service {
    let (votes, appends, snapshots) = (events.clone(), events.clone(), events.clone());
    let (timeouts, reads) = (events.clone(), events.clone());
    Service::new("Raft")
        .method("RequestVote", move |args: RequestVoteArgs| {
            ask(&votes, |tx| Event::RequestVote(args, tx)).unwrap_or_default()
        })
        .method("AppendEntries", move |args: AppendEntriesArgs| {
            ask(&appends, |tx| Event::AppendEntries(args, tx)).unwrap_or_default()
        })
        .method("InstallSnapshot", move |args: InstallSnapshotArgs| {
            ask(&snapshots, |tx| Event::InstallSnapshot(args, tx)).unwrap_or_default()
        })
        .method("TimeoutNow", move |args: TimeoutNowArgs| {
            ask(&timeouts, |tx| Event::TimeoutNow(args, tx)).unwrap_or_default()
        })
        .method("ReadIndex", move |_: ReadIndexArgs| ReadIndexReply {
            result: read_index(&reads, false),
        })
}

struct Peer {
    node: Node,
    peers: Vec<ClientEnd>,
    persister: Arc<Persister>,
    apply: Sender<ApplyMsg>,
    /// For reply callbacks, which feed the same channel.
    events: Sender<Event>,
    published: Arc<Published>,
    /// Part 4D: reads the node is confirming, by id, and the next id.
    reads: BTreeMap<u64, Sender<Result<u64, ReadError>>>,
    next_read: u64,
    /// The node's configuration version last published (see [`Node::config_version`]).
    published_config: u64,
}

impl Peer {
    fn run(mut self, inbox: Receiver<Event>) {
        let mut answers: Vec<Answer> = Vec::new();
        loop {
            let first = match inbox.recv_deadline(self.node.next_deadline()) {
                Ok(event) => Some(event),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => return,
            };
            let now = Instant::now();
            // Handle what is queued as one batch, so one save covers it all.
            for event in first.into_iter().chain(inbox.try_iter().take(MAX_BATCH)) {
                match self.handle(event, now) {
                    Step::Continue(Some(a)) => answers.push(a),
                    Step::Continue(None) => {}
                    Step::Stop => return,
                }
            }
            if now >= self.node.next_deadline() {
                self.node.tick(now);
            }
            self.carry_out(&mut answers);
        }
    }

    fn handle(&mut self, event: Event, now: Instant) -> Step {
        let node = &mut self.node;
        let answer = match event {
            Event::RequestVote(args, tx) => Some(answer(tx, node.handle_request_vote(&args, now))),
            Event::AppendEntries(args, tx) => {
                Some(answer(tx, node.handle_append_entries(&args, now)))
            }
            Event::InstallSnapshot(args, tx) => {
                Some(answer(tx, node.handle_install_snapshot(&args, now)))
            }
            Event::TimeoutNow(args, tx) => Some(answer(tx, node.handle_timeout_now(&args, now))),
            Event::TimeoutNowReply(reply) => {
                if let Ok(reply) = reply {
                    node.handle_timeout_now_reply(&reply, now);
                }
                None
            }
            Event::AddLearner(server, tx) => Some(answer(tx, node.add_learner(server, now))),
            Event::ChangeVoters(voters, tx) => Some(answer(tx, node.change_voters(&voters, now))),
            Event::Transfer(to, tx) => Some(answer(tx, node.transfer_leadership(to, now))),
            Event::ReadIndex { forward, answer } => {
                match node.known_leader() {
                    // A follower asks its leader (the reply goes straight to the asker).
                    Some(leader) if forward && !node.is_leader() => {
                        let args = ReadIndexArgs { term: node.term() };
                        self.peers[leader].call_with("Raft.ReadIndex", &args, move |reply| {
                            let result =
                                reply.map_or(Err(ReadError::Timeout), |r: ReadIndexReply| r.result);
                            let _ = answer.send(result);
                        });
                    }
                    _ => {
                        self.next_read += 1;
                        self.reads.insert(self.next_read, answer);
                        node.read_index(self.next_read, now);
                    }
                }
                None
            }
            Event::SetLeaseReads(on) => {
                node.set_lease_reads(on);
                None
            }
            Event::VoteReply {
                from,
                sent_term,
                reply,
            } => {
                if let Ok(reply) = reply {
                    node.handle_vote_reply(from, sent_term, &reply, now);
                }
                None
            }
            Event::AppendReply { from, sent, reply } => {
                match reply {
                    Ok(reply) => node.handle_append_reply(from, &sent, &reply, now),
                    Err(_) => node.request_failed(from),
                }
                None
            }
            Event::SnapshotReply { from, sent, reply } => {
                match reply {
                    Ok(reply) => node.handle_snapshot_reply(from, &sent, &reply, now),
                    Err(_) => node.request_failed(from),
                }
                None
            }
            Event::Start(command, tx) => Some(answer(tx, node.start(command, now))),
            Event::Snapshot(index, snapshot, tx) => {
                node.snapshot(index, snapshot);
                Some(answer(tx, ()))
            }
            Event::Kill => return Step::Stop,
        };
        Step::Continue(answer)
    }

    /// Persist, answer, send, apply — in that order.
    fn carry_out(&mut self, answers: &mut Vec<Answer>) {
        let outbox = self.node.take_outbox();
        if outbox.persist {
            self.persister
                .save(&self.node.raft_state(), self.node.snapshot_bytes());
        }
        self.published
            .store(self.node.term(), self.node.is_leader());
        if self.node.config_version() != self.published_config {
            self.published_config = self.node.config_version();
            self.published.store_config(self.node.config());
        }
        for answer in answers.drain(..) {
            answer();
        }
        for (id, result) in outbox.reads {
            if let Some(asker) = self.reads.remove(&id) {
                let _ = asker.send(result);
            }
        }
        // Reads still waiting on a leadership that ended will not be confirmed.
        if !self.node.is_leader() {
            for asker in std::mem::take(&mut self.reads).into_values() {
                let _ = asker.send(Err(ReadError::Deposed));
            }
        }
        for (to, request) in outbox.sends {
            self.send(to, request);
        }
        for msg in outbox.applies {
            // A service that dropped its receiver no longer wants these.
            let _ = self.apply.send(msg);
        }
    }

    fn send(&self, to: usize, request: Request) {
        let events = self.events.clone();
        let end = &self.peers[to];
        match request {
            Request::Vote(args) => {
                let sent_term = args.term;
                end.call_with("Raft.RequestVote", &args, move |reply| {
                    let _ = events.send(Event::VoteReply {
                        from: to,
                        sent_term,
                        reply,
                    });
                });
            }
            Request::Append(args) => {
                let sent = AppendSent::of(&args, Instant::now());
                end.call_with("Raft.AppendEntries", &args, move |reply| {
                    let _ = events.send(Event::AppendReply {
                        from: to,
                        sent,
                        reply,
                    });
                });
            }
            Request::Snapshot(args) => {
                let sent = SnapshotSent::of(&args, Instant::now());
                end.call_with("Raft.InstallSnapshot", &args, move |reply| {
                    let _ = events.send(Event::SnapshotReply {
                        from: to,
                        sent,
                        reply,
                    });
                });
            }
            Request::TimeoutNow(args) => {
                end.call_with("Raft.TimeoutNow", &args, move |reply| {
                    let _ = events.send(Event::TimeoutNowReply(reply));
                });
            }
        }
    }
}

enum Step {
    Continue(Option<Answer>),
    Stop,
}
