//! The rsm tester (Lab 4A, and the rsm snapshot test of 4C): three servers each run a
//! counter as the state machine of a `kvraft::rsm::Rsm`, as Go's `kvraft1/rsm` tests do.
//! `Inc` increments and returns the count, `Null` does nothing, and `Dec` must never be
//! applied (the tests submit it only where it cannot commit).

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use kvraft::Error;
use kvraft::rsm::{Rsm, StateMachine};
use labrpc::Network;
use parking_lot::Mutex;
use raft::Raft;
use serde::{Deserialize, Serialize};

use crate::group::{Group, Incarnation, Started};
use crate::harness::{self, Stats};

/// Servers in every rsm test.
pub const NSRV: usize = 3;

/// How long the tests keep retrying an operation, in seconds.
pub const NSEC: u64 = 10;

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum CounterOp {
    Inc,
    Null,
    Dec,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CounterReply {
    /// The count after the increment.
    Inc(u64),
    Null,
}

/// One server's counter.
pub struct Counter {
    me: usize,
    count: Mutex<u64>,
    /// Where a wrongly applied `Dec` is reported.
    failure: Arc<Mutex<Option<String>>>,
}

impl StateMachine for Counter {
    type Request = CounterOp;
    type Reply = CounterReply;

    fn apply(&self, op: CounterOp) -> CounterReply {
        match op {
            CounterOp::Inc => {
                let mut count = self.count.lock();
                *count += 1;
                CounterReply::Inc(*count)
            }
            CounterOp::Null => CounterReply::Null,
            CounterOp::Dec => {
                self.failure.lock().get_or_insert(format!(
                    "DoOp should execute only Inc and not Dec (server {})",
                    self.me
                ));
                CounterReply::Null
            }
        }
    }

    fn snapshot(&self) -> Vec<u8> {
        postcard::to_allocvec(&*self.count.lock()).expect("a counter always encodes")
    }

    fn restore(&self, snapshot: &[u8]) {
        match postcard::from_bytes::<u64>(snapshot) {
            Ok(count) => *self.count.lock() = count,
            Err(e) => {
                self.failure
                    .lock()
                    .get_or_insert(format!("{} couldn't decode counter: {e}", self.me));
            }
        }
    }
}

/// A server of the rsm tests.
pub struct RsmServer {
    rsm: Rsm<Counter>,
}

impl RsmServer {
    pub fn submit(&self, op: CounterOp) -> Result<CounterReply, Error> {
        self.rsm.submit(op)
    }

    pub fn count(&self) -> u64 {
        *self.rsm.state_machine().count.lock()
    }
}

impl Incarnation for RsmServer {
    const KILL: &'static str = "Rsm::kill";

    fn raft(&self) -> &Arc<Raft> {
        self.rsm.raft()
    }

    fn kill(&self) {
        self.rsm.kill();
    }
}

pub struct RsmTest {
    group: Group<RsmServer>,
    maxraftstate: Option<usize>,
    /// The server that last took an operation.
    leader: Mutex<usize>,
    failure: Arc<Mutex<Option<String>>>,
    /// The counts of the servers that crashed, as last seen (Go keeps a crashed server's
    /// state until it restarts).
    last_counts: Mutex<Vec<u64>>,
    ops: AtomicU64,
    finished: AtomicBool,
}

impl RsmTest {
    /// Go's `makeTest(t, maxraftstate)`: three servers on a reliable network, started and
    /// connected. `maxraftstate` of `None` never snapshots.
    pub fn new(maxraftstate: Option<usize>) -> Arc<Self> {
        let test = Arc::new(Self {
            group: Group::new(NSRV, Network::new()),
            maxraftstate,
            leader: Mutex::new(0),
            failure: Arc::new(Mutex::new(None)),
            last_counts: Mutex::new(vec![0; NSRV]),
            ops: AtomicU64::new(0),
            finished: AtomicBool::new(false),
        });
        test.start_servers();
        test
    }

    pub fn group(&self) -> &Group<RsmServer> {
        &self.group
    }

    #[track_caller]
    pub fn fatal(&self, message: impl Into<String>) -> ! {
        panic!("{}", message.into())
    }

    #[track_caller]
    fn check_background(&self) {
        if let Some(failure) = self.failure.lock().clone() {
            self.fatal(failure);
        }
        if let Some(failure) = self.group.check_zombies() {
            self.failure.lock().get_or_insert(failure.clone());
            self.fatal(failure);
        }
    }

    pub fn start_server(&self, i: usize) {
        let (maxraftstate, failure) = (self.maxraftstate, Arc::clone(&self.failure));
        let calls = Arc::clone(self.group.calls());
        self.group.start_server(i, |ends, persister| {
            let counter = Arc::new(Counter {
                me: i,
                count: Mutex::new(0),
                failure,
            });
            let rsm = calls.time(i, "Rsm::new", || {
                Rsm::new(ends, i, persister, maxraftstate, counter)
            });
            let services = vec![rsm.raft().service()];
            Started {
                peer: RsmServer { rsm },
                services,
            }
        });
    }

    pub fn start_servers(&self) {
        for i in 0..NSRV {
            self.start_server(i);
        }
        self.group.connect_all();
    }

    pub fn shutdown_server(&self, i: usize) {
        if let Some(server) = self.group.peer(i) {
            self.last_counts.lock()[i] = server.count();
        }
        self.group.shutdown_server(i);
    }

    /// Crashes every server.
    pub fn shutdown(&self) {
        for i in 0..NSRV {
            self.shutdown_server(i);
        }
    }

    pub fn server(&self, i: usize) -> Option<Arc<RsmServer>> {
        self.group.peer(i)
    }

    /// Submits `op` to servers in `partition` (all if `None`), starting with the last one
    /// that took an operation, until one applies it; gives up after [`NSEC`] seconds.
    pub fn one_partition(
        &self,
        partition: Option<&[usize]>,
        op: CounterOp,
    ) -> Option<CounterReply> {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(NSEC) {
            let mut index = *self.leader.lock();
            for _ in 0..NSRV {
                if self.group.is_connected(index)
                    && partition.is_none_or(|p| p.contains(&index))
                    && let Some(server) = self.server(index)
                    && let Ok(reply) = server.submit(op)
                {
                    self.ops.fetch_add(1, Ordering::Relaxed);
                    *self.leader.lock() = index;
                    return Some(reply);
                }
                index = (index + 1) % NSRV;
            }
            thread::sleep(Duration::from_millis(50));
        }
        None
    }

    /// Increments the counter; the count after it (0 if no server took it in time).
    #[track_caller]
    pub fn one_inc(&self) -> u64 {
        self.check_background();
        match self.one_partition(None, CounterOp::Inc) {
            Some(CounterReply::Inc(n)) => n,
            Some(other) => self.fatal(format!("Inc returned {other:?}")),
            None => 0,
        }
    }

    pub fn one_null(&self) {
        self.one_partition(None, CounterOp::Null);
    }

    /// How many servers have count `v` (a crashed server counts with its last count).
    fn count_value(&self, v: u64) -> usize {
        let last = self.last_counts.lock().clone();
        (0..NSRV)
            .filter(|&i| self.server(i).map_or(last[i], |s| s.count()) == v)
            .count()
    }

    /// Waits (Go's schedule: 30 rounds, 10 ms doubling to ~1 s) until `nsrv` servers have
    /// count `v`.
    #[track_caller]
    pub fn check_counter(&self, v: u64, nsrv: usize) {
        let mut pause = Duration::from_millis(10);
        let mut n = 0;
        for _ in 0..30 {
            self.check_background();
            n = self.count_value(v);
            if n >= nsrv {
                return;
            }
            thread::sleep(pause);
            if pause < Duration::from_secs(1) {
                pause *= 2;
            }
        }
        self.fatal(format!(
            "checkCounter: only {n} srvs have {v} instead of {nsrv}"
        ))
    }

    /// Disconnects the server that last took an operation and returns it.
    pub fn disconnect_leader(&self) -> usize {
        let leader = *self.leader.lock();
        self.group.disconnect_all(leader);
        leader
    }

    pub fn connect(&self, i: usize) {
        self.group.connect_one(i);
    }

    /// The first server that believes it leads (Go's `rsm.Leader`), if any.
    pub fn find_leader(&self) -> Option<usize> {
        self.group.leader()
    }
}

impl RsmTest {
    fn stop_everything(&self) {
        self.finished.store(true, Ordering::Release);
        self.group.kill_all();
        self.group.net().shutdown();
    }
}

impl harness::Cluster for RsmTest {
    fn seed(&self) -> u64 {
        self.group.net().seed()
    }

    fn network_label(&self) -> &'static str {
        "reliable"
    }

    fn stats(&self) -> Stats {
        Stats {
            peers: NSRV,
            rpcs: self.group.net().total_count(),
            bytes: self.group.net().total_bytes(),
            count_label: "ops",
            count: self.ops.load(Ordering::Relaxed),
        }
    }

    fn finish(&self) -> Result<(), String> {
        let failure = self
            .failure
            .lock()
            .clone()
            .or_else(|| self.group.check_zombies());
        self.stop_everything();
        failure.map_or(Ok(()), Err)
    }

    fn abort(&self, _failure: &str) {
        self.stop_everything();
    }

    fn interruption(&self) -> Option<String> {
        self.failure
            .lock()
            .clone()
            .or_else(|| self.group.interruption())
    }
}

/// Runs an rsm test titled `title`; `maxraftstate` of `None` never snapshots.
pub fn run(title: &str, maxraftstate: Option<usize>, body: impl FnOnce(&RsmTest) + Send + 'static) {
    harness::run(title, RsmTest::new(maxraftstate), body);
}
