//! The rsm tester (Lab 4A, and the rsm snapshot test of 4C): three servers each run a
//! counter as the state machine of a `kvraft::rsm::Rsm`, as Go's `kvraft1/rsm` tests do.
//! `Inc` increments and returns the count, `Null` does nothing, and `Dec` must never be
//! applied (the tests submit it only where it cannot commit).

use labrt::thread;
use labrt::time::{Duration, Instant};
use std::sync::Arc;

use kvraft::Error;
use kvraft::rsm::{Rsm, StateMachine};
use labrt::sync::Mutex;
use raft::Raft;
use serde::{Deserialize, Serialize};

use crate::group::{Incarnation, Started};
use crate::tester::{self, FailureSlot, Tester, Testing, go_pauses};

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
    failure: Arc<FailureSlot>,
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
                self.failure.fail(format!(
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
            Err(e) => self
                .failure
                .fail(format!("{} couldn't decode counter: {e}", self.me)),
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

    fn raft(&self) -> Option<&Arc<Raft>> {
        Some(self.rsm.raft())
    }

    fn kill(&self) {
        self.rsm.kill();
    }
}

/// How an rsm test's servers are set up (Go's `makeTest(t, maxraftstate)`): three
/// servers on a reliable network, `RsmTest::setup().run("…", |ts| …)`.
#[derive(Clone, Copy, Debug, Default)]
#[must_use = "a setup does nothing until it runs"]
pub struct RsmSetup {
    /// Snapshot when Raft's state nears this many bytes; `None` never (Go's -1).
    maxraftstate: Option<usize>,
}

impl RsmSetup {
    /// The servers snapshot when Raft's state nears `bytes`.
    pub fn max_raft_state(self, bytes: usize) -> Self {
        Self {
            maxraftstate: Some(bytes),
        }
    }

    /// Runs the test titled `title` (Go's) on these servers, started and connected.
    pub fn run(self, title: &str, body: impl FnOnce(&RsmTest) + Send + 'static) {
        tester::run(title, || self.start(), body);
    }

    /// These servers, started and connected.
    fn start(self) -> Arc<RsmTest> {
        let test = Arc::new(RsmTest {
            tester: Tester::new(NSRV, true, 0x0072_736d_7465_7374),
            setup: self,
            leader: Mutex::new(0),
            last_counts: Mutex::new(vec![0; NSRV]),
        });
        test.start_servers();
        test
    }
}

pub struct RsmTest {
    tester: Tester<RsmServer>,
    setup: RsmSetup,
    /// The server that last took an operation.
    leader: Mutex<usize>,
    /// The counts of the servers that crashed, as last seen (Go keeps a crashed server's
    /// state until it restarts).
    last_counts: Mutex<Vec<u64>>,
}

tester::derefs_to_core!(RsmTest => RsmServer);

impl Testing for RsmTest {
    type Peer = RsmServer;
}

impl RsmTest {
    /// Three servers that never snapshot, unless the setup says so.
    pub fn setup() -> RsmSetup {
        RsmSetup::default()
    }

    pub fn start_server(&self, i: usize) {
        let maxraftstate = self.setup.maxraftstate;
        let failure = Arc::clone(self.failure_slot());
        let calls = Arc::clone(self.group().calls());
        self.group().start_server(i, |ends, persister| {
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
        self.connect_all();
    }

    pub fn shutdown_server(&self, i: usize) {
        if let Some(server) = self.server(i) {
            self.last_counts.lock()[i] = server.count();
        }
        self.tester.shutdown_server(i);
    }

    /// Crashes every server.
    pub fn shutdown(&self) {
        for i in 0..NSRV {
            self.shutdown_server(i);
        }
    }

    pub fn server(&self, i: usize) -> Option<Arc<RsmServer>> {
        self.group().peer(i)
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
                if self.is_connected(index)
                    && partition.is_none_or(|p| p.contains(&index))
                    && let Some(server) = self.server(index)
                    && let Ok(reply) = server.submit(op)
                {
                    self.count_op();
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
        let mut n = 0;
        for pause in go_pauses() {
            self.check_background();
            n = self.count_value(v);
            if n >= nsrv {
                return;
            }
            thread::sleep(pause);
        }
        self.fatal(format!(
            "checkCounter: only {n} srvs have {v} instead of {nsrv}"
        ))
    }

    /// Disconnects the server that last took an operation and returns it.
    pub fn disconnect_leader(&self) -> usize {
        let leader = *self.leader.lock();
        self.disconnect_all(leader);
        leader
    }
}
