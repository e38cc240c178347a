//! A group of servers on the simulated network, as Go's `tester1.ServerGrp` manages them:
//! fresh ends for every incarnation, connections between servers, partitions, and
//! crashes with a persister that survives them.
//!
//! What runs on a server is up to the test: a bare Raft peer for the Raft tests, a KV
//! server (with its Raft peer) for Lab 4. The group only needs to start one, kill it, and
//! reach its Raft peer ([`Incarnation`]).

use labrt::time::{Duration, Instant};
use std::sync::{Arc, OnceLock};

use crate::calls::{CALL_LIMIT, Calls, TimedRaft};
use labrpc::{ClientEnd, Network, Service};
use labrt::sync::Mutex;
use persister::Persister;
use raft::{ChangeError, Raft};

/// How long a membership change (part 3E) may take, refusals and retries included, until
/// it is committed (Go's `one` allows 10 s for a command).
pub const CHANGE_TIMEOUT: Duration = Duration::from_secs(10);

/// A killed incarnation may still send RPCs this long after `kill()` returned (a thread
/// that was past its last check gets time to notice); after that, any RPC fails the test.
pub const KILL_GRACE: Duration = Duration::from_millis(500);

/// What runs on one server between a start and a crash.
pub trait Incarnation: Send + Sync + 'static {
    /// The kill call, as failures name it (`"Raft::kill"`).
    const KILL: &'static str;
    /// Its Raft peer; `None` for a server the tester scripts itself (a probe's other
    /// peers).
    fn raft(&self) -> Option<&Arc<Raft>>;
    /// Stops it for good (the tester crashes the server).
    fn kill(&self);
}

/// A new incarnation and the services to register for it.
pub struct Started<P> {
    pub peer: P,
    pub services: Vec<Service>,
}

pub fn server_name(i: usize) -> String {
    format!("server-{i}")
}

/// What happened to a group, for a test's timeline ([`Group::observe`]).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum GroupEvent {
    /// A new incarnation of the server started.
    Started(usize),
    /// The server crashed (was shut down).
    Crashed(usize),
    /// Which links are up now: `links[i][j]`, server `i`'s end to server `j` is enabled.
    Links(Vec<Vec<bool>>),
}

type Observer = Box<dyn Fn(GroupEvent) + Send + Sync>;

pub struct Group<P> {
    n: usize,
    net: Network,
    state: Mutex<State<P>>,
    observer: OnceLock<Observer>,
    calls: Arc<Calls>,
}

struct State<P> {
    slots: Vec<Slot<P>>,
    connected: Vec<bool>,
    /// Incarnations started so far, to name each one's ends uniquely.
    started: u64,
    zombies: Vec<Zombie>,
    /// `links[i][j]`: whether server `i`'s end to server `j` is enabled.
    links: Vec<Vec<bool>>,
}

struct Slot<P> {
    peer: Option<Arc<P>>,
    /// The current persister: the running incarnation's, or the copy a restart gets.
    persister: Arc<Persister>,
    /// `ends[j]`: the name of this incarnation's end to server `j`.
    ends: Vec<String>,
}

/// A killed incarnation and the RPC counts of its ends once its grace period was over.
struct Zombie {
    server: usize,
    ends: Vec<String>,
    killed_at: Instant,
    settled: Option<Vec<u64>>,
}

impl<P: Incarnation> Group<P> {
    /// `n` servers, none started, on `net`.
    pub fn new(n: usize, net: Network) -> Self {
        // From the first server's start on, the test must know of panics in its code.
        crate::panics::install();
        let slots = (0..n)
            .map(|_| Slot {
                peer: None,
                persister: Arc::new(Persister::new()),
                ends: Vec::new(),
            })
            .collect();
        Self {
            n,
            net,
            state: Mutex::new(State {
                slots,
                connected: vec![false; n],
                started: 0,
                zombies: Vec::new(),
                links: vec![vec![false; n]; n],
            }),
            observer: OnceLock::new(),
            calls: Arc::default(),
        }
    }

    /// The tester's calls into the servers' code, timed ([`Calls`]).
    pub fn calls(&self) -> &Arc<Calls> {
        &self.calls
    }

    /// Server `i`'s running Raft peer, its calls timed.
    pub fn raft(&self, i: usize) -> Option<TimedRaft> {
        self.peer(i).and_then(|p| self.timed(i, &p))
    }

    /// Every running server's Raft peer, its calls timed.
    pub fn rafts(&self) -> Vec<(usize, TimedRaft)> {
        self.peers()
            .into_iter()
            .filter_map(|(i, p)| Some((i, self.timed(i, &p)?)))
            .collect()
    }

    fn timed(&self, i: usize, peer: &P) -> Option<TimedRaft> {
        let raft = Arc::clone(peer.raft()?);
        Some(TimedRaft::new(raft, i, Arc::clone(&self.calls)))
    }

    /// The first running server whose Raft believes it leads (Go's `rsm.Leader`), if any.
    pub fn leader(&self) -> Option<usize> {
        self.rafts()
            .into_iter()
            .find(|(_, raft)| raft.get_state().1)
            .map(|(i, _)| i)
    }

    /// The connected, running server that believes it leads in the highest term.
    pub fn connected_leader(&self) -> Option<(usize, TimedRaft)> {
        self.rafts()
            .into_iter()
            .filter(|(i, _)| self.is_connected(*i))
            .map(|(i, raft)| (raft.get_state(), i, raft))
            .filter(|((_, leader), _, _)| *leader)
            .max_by_key(|((term, _), _, _)| *term)
            .map(|(_, i, raft)| (i, raft))
    }

    /// Part 3E: asks the connected leader for a membership change until it accepts,
    /// and returns the leader and its answer. Refusals a correct leader gives for a while
    /// (not the leader, a change in flight, a learner catching up, a transfer under way)
    /// are retried; "nothing of this term committed yet" is answered by `nudge`, which
    /// must get something of the leader's term committed (a command, as a service would
    /// submit one). Any other refusal, or none accepted within [`CHANGE_TIMEOUT`], is
    /// the failure message. `check` runs before each try (to stop on a background
    /// failure).
    pub fn change_through_leader<T>(
        &self,
        what: &str,
        change: impl Fn(&TimedRaft) -> Result<T, ChangeError>,
        nudge: impl Fn(&TimedRaft),
        check: impl Fn(),
    ) -> Result<(usize, T), String> {
        let t0 = Instant::now();
        let mut last_refusal = String::from("no leader");
        while t0.elapsed() < CHANGE_TIMEOUT {
            check();
            let Some((leader, raft)) = self.connected_leader() else {
                labrt::thread::sleep(Duration::from_millis(50));
                continue;
            };
            match change(&raft) {
                Ok(answer) => return Ok((leader, answer)),
                Err(e @ ChangeError::NothingCommittedInTerm { .. }) => {
                    last_refusal = format!("server {leader}: {e}");
                    nudge(&raft);
                    labrt::thread::sleep(Duration::from_millis(50));
                }
                Err(
                    e @ (ChangeError::NotLeader
                    | ChangeError::ChangeInFlight { .. }
                    | ChangeError::NotCaughtUp { .. }
                    | ChangeError::TransferInProgress { .. }),
                ) => {
                    last_refusal = format!("server {leader}: {e}");
                    labrt::thread::sleep(Duration::from_millis(20));
                }
                Err(e) => return Err(format!("{what}: leader {leader} refused: {e}")),
            }
        }
        Err(format!(
            "{what}: not accepted within {} s (last refusal: {last_refusal})",
            CHANGE_TIMEOUT.as_secs()
        ))
    }

    /// A failure that must end the test at once: a call into a server's code that has
    /// not returned within [`CALL_LIMIT`], or an RPC handler of a server that panicked.
    pub fn interruption(&self) -> Option<String> {
        self.calls
            .overdue(CALL_LIMIT)
            .or_else(|| self.net.handler_panic())
    }

    /// Has `observer` told of every start, crash and change of links from now on (once
    /// per group; later calls are ignored). It runs under the group's lock: keep it short.
    pub fn observe(&self, observer: impl Fn(GroupEvent) + Send + Sync + 'static) {
        let _ = self.observer.set(Box::new(observer));
    }

    fn tell(&self, event: GroupEvent) {
        crate::trace::group_event(&self.calls, &event);
        if let Some(observer) = self.observer.get() {
            observer(event);
        }
    }

    pub fn len(&self) -> usize {
        self.n
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn net(&self) -> &Network {
        &self.net
    }

    fn all(&self) -> Vec<usize> {
        (0..self.n).collect()
    }

    /// Server `i`'s running incarnation, if it is up.
    pub fn peer(&self, i: usize) -> Option<Arc<P>> {
        self.state.lock().slots[i].peer.clone()
    }

    /// Every running incarnation, by server.
    pub fn peers(&self) -> Vec<(usize, Arc<P>)> {
        let s = self.state.lock();
        s.slots
            .iter()
            .enumerate()
            .filter_map(|(i, slot)| slot.peer.clone().map(|p| (i, p)))
            .collect()
    }

    // ----- starting and crashing -----------------------------------------------------------

    /// Starts a new incarnation of server `i` from its saved state (Go's `StartServer`):
    /// `make` gets fresh ends to every server and the persister. It stays disconnected
    /// until connected. A running incarnation is crashed first.
    pub fn start_server(
        &self,
        i: usize,
        make: impl FnOnce(Vec<ClientEnd>, Arc<Persister>) -> Started<P>,
    ) {
        if self.peer(i).is_some() {
            self.shutdown_server(i);
        }
        let (ends, persister) = {
            let mut s = self.state.lock();
            s.started += 1;
            let incarnation = s.started;
            let ends: Vec<String> = (0..self.n)
                .map(|j| format!("{i}->{j}#{incarnation}"))
                .collect();
            (ends, Arc::clone(&s.slots[i].persister))
        };
        let clients = ends
            .iter()
            .enumerate()
            .map(|(j, name)| {
                let end = self.net.make_end(name);
                self.net.connect(name, &server_name(j));
                end
            })
            .collect();
        let started = make(clients, persister);
        let mut server = labrpc::Server::new();
        for service in started.services {
            server.add_service(service);
        }
        self.net.add_server(&server_name(i), server);
        let mut s = self.state.lock();
        s.slots[i].peer = Some(Arc::new(started.peer));
        s.slots[i].ends = ends;
        // The new incarnation's ends start disabled.
        s.links[i].fill(false);
        self.tell(GroupEvent::Started(i));
        self.tell(GroupEvent::Links(s.links.clone()));
    }

    /// Crashes server `i` (Go's `ShutdownServer`): cut it off, delete it from the network
    /// so that nothing it says arrives, give its successor a copy of its persister (so the
    /// dying incarnation cannot write to it), and kill it.
    pub fn shutdown_server(&self, i: usize) {
        self.disconnect_all(i);
        self.net.delete_server(&server_name(i));
        let (peer, ends) = {
            let mut s = self.state.lock();
            let slot = &mut s.slots[i];
            slot.persister = Arc::new(slot.persister.copy());
            (slot.peer.take(), slot.ends.clone())
        };
        self.tell(GroupEvent::Crashed(i));
        if let Some(peer) = peer {
            self.calls.time(i, P::KILL, || peer.kill());
            self.state.lock().zombies.push(Zombie {
                server: i,
                ends,
                killed_at: Instant::now(),
                settled: None,
            });
        }
    }

    /// Kills every running incarnation without further ado (the test is over).
    pub fn kill_all(&self) {
        let peers: Vec<(usize, Arc<P>)> = {
            let mut s = self.state.lock();
            s.slots
                .iter_mut()
                .enumerate()
                .filter_map(|(i, slot)| slot.peer.take().map(|p| (i, p)))
                .collect()
        };
        for (i, peer) in peers {
            // A panic in a submission's kill() must not stop the teardown (nor the report).
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                self.calls.time(i, P::KILL, || peer.kill())
            }));
        }
    }

    // ----- connections ---------------------------------------------------------------------

    pub fn is_connected(&self, i: usize) -> bool {
        self.state.lock().connected[i]
    }

    /// Which servers are connected.
    pub fn connected(&self) -> Vec<bool> {
        self.state.lock().connected.clone()
    }

    /// Marks `i` connected and links it, both ways, with the connected servers in `to`.
    pub fn connect(&self, i: usize, to: &[usize]) {
        let mut s = self.state.lock();
        s.connected[i] = true;
        for &j in to {
            if s.connected[j] {
                if let Some(end) = s.slots[i].ends.get(j) {
                    self.net.enable(end, true);
                    s.links[i][j] = true;
                }
                if let Some(end) = s.slots[j].ends.get(i) {
                    self.net.enable(end, true);
                    s.links[j][i] = true;
                }
            }
        }
        self.tell(GroupEvent::Links(s.links.clone()));
    }

    /// Marks `i` disconnected and cuts its links, both ways, with the servers in `from`.
    pub fn disconnect(&self, i: usize, from: &[usize]) {
        let mut s = self.state.lock();
        s.connected[i] = false;
        for &j in from {
            if let Some(end) = s.slots[i].ends.get(j) {
                self.net.enable(end, false);
            }
            if let Some(end) = s.slots[j].ends.get(i) {
                self.net.enable(end, false);
            }
            s.links[i][j] = false;
            s.links[j][i] = false;
        }
        self.tell(GroupEvent::Links(s.links.clone()));
    }

    /// Enables or disables one direction only: server `from`'s end to server `to` (its
    /// requests to `to`, and their replies). For scenarios where a server can ask but not
    /// be told (part 4D's follower reads).
    pub fn set_link(&self, from: usize, to: usize, on: bool) {
        let mut s = self.state.lock();
        if let Some(end) = s.slots[from].ends.get(to) {
            self.net.enable(end, on);
            s.links[from][to] = on;
        }
        self.tell(GroupEvent::Links(s.links.clone()));
    }

    /// Connects `i` with every connected server (Go's `ConnectOne`).
    pub fn connect_one(&self, i: usize) {
        self.connect(i, &self.all());
    }

    /// Cuts `i` off from everyone (Go's `DisconnectAll`).
    pub fn disconnect_all(&self, i: usize) {
        self.disconnect(i, &self.all());
    }

    pub fn connect_all(&self) {
        for i in 0..self.n {
            self.connect_one(i);
        }
    }

    /// Splits the group: each side talks only to itself (Go's `Partition`).
    pub fn partition(&self, p1: &[usize], p2: &[usize]) {
        for &i in p1 {
            self.disconnect(i, p2);
            self.connect(i, p1);
        }
        for &i in p2 {
            self.disconnect(i, p1);
            self.connect(i, p2);
        }
    }

    /// A majority without server `l`, and a minority of the rest with `l` in it (Go's
    /// `MakePartition`: it puts the current leader in the minority).
    pub fn make_partition(&self, l: usize) -> (Vec<usize>, Vec<usize>) {
        let others: Vec<usize> = (0..self.n).filter(|&i| i != l).collect();
        let majority = self.n / 2 + 1;
        let p1 = others[..majority].to_vec();
        let mut p2 = others[majority..].to_vec();
        p2.push(l);
        (p1, p2)
    }

    // ----- measurements --------------------------------------------------------------------

    /// RPCs that reached server `i`'s current incarnation.
    pub fn rpc_count(&self, i: usize) -> u64 {
        self.net.count(&server_name(i))
    }

    /// The largest raft state any server has saved (Go's `LogSize`).
    pub fn log_size(&self) -> usize {
        let s = self.state.lock();
        s.slots
            .iter()
            .map(|slot| slot.persister.raft_state_size())
            .max()
            .unwrap_or(0)
    }

    /// The largest snapshot any server has saved (Go's `SnapshotSize`).
    pub fn snapshot_size(&self) -> usize {
        let s = self.state.lock();
        s.slots
            .iter()
            .map(|slot| slot.persister.snapshot_size())
            .max()
            .unwrap_or(0)
    }

    /// Server `i`'s current persister.
    pub fn persister(&self, i: usize) -> Arc<Persister> {
        Arc::clone(&self.state.lock().slots[i].persister)
    }

    // ----- killed incarnations -------------------------------------------------------------

    /// Checks that killed incarnations stay silent: compares each one's RPC counts with
    /// those at the end of its grace period. Returns a failure message if one spoke.
    pub fn check_zombies(&self) -> Option<String> {
        let mut s = self.state.lock();
        let now = Instant::now();
        let mut report = None;
        s.zombies.retain_mut(|z| {
            let counts: Vec<u64> = z.ends.iter().map(|e| self.net.end_count(e)).collect();
            match &z.settled {
                None if now >= z.killed_at + KILL_GRACE => {
                    z.settled = Some(counts);
                    true
                }
                None => true,
                Some(settled) => {
                    let extra: u64 = counts.iter().zip(settled).map(|(c, s)| c - s).sum();
                    if extra == 0 {
                        return true;
                    }
                    report.get_or_insert(format!(
                        "server {}'s killed incarnation sent {extra} RPC(s) more than {} ms after kill() \
                         returned: kill() must stop every thread of the peer",
                        z.server,
                        KILL_GRACE.as_millis()
                    ));
                    false
                }
            }
        });
        report
    }
}
