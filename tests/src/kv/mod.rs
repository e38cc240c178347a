//! The KV tester (Lab 4B–4E): a group of `kvraft` servers, clerks with their own links
//! to them ([`clerks`]), Go's client workloads ([`workloads`]), and the linearizability
//! check of everything the clerks did ([`checking`]) — Go's `kvtest1` and
//! `kvraft1/test.go`.
//!
//! Every clerk call the tests make through [`KvTest::get`] and [`KvTest::put`] is
//! recorded with its call and return time. After every round the history is checked
//! against the versioned-KV model (1 s limit); a violation writes the HTML view of the
//! history and fails the test with its path, and a check that runs out of time says so
//! instead of passing silently.

mod checking;
mod clerks;
mod membership;
mod reads;
mod workloads;

pub use clerks::TestClerk;
pub use reads::{ReadStats, with_cluster};
pub use workloads::ClientResult;

use labrt::time::{Duration, Instant};
use std::collections::BTreeSet;
use std::sync::Arc;

use kvraft::{KvServer, Reads, ServerOptions};
use labrt::sync::Mutex;
use linearizability::Operation;
use linearizability::models::versioned_kv::{VersionedKvInput, VersionedKvOutput};
use raft::Raft;

use crate::group::{Incarnation, Started};
use crate::tester::{self, Tester, Testing};

/// The tests allow a new leader to be elected within a second.
pub const ELECTION_TIMEOUT: Duration = Duration::from_secs(1);

/// Rounds of client load in a generic test, and how long each lasts.
pub const ROUNDS: usize = 3;
pub const ROUND_LOAD: Duration = Duration::from_secs(1);

/// Keys in the random-keys tests.
pub const NKEYS: usize = 100;

/// How long the linearizability check may take after each round.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(1);

type KvOperation = Operation<VersionedKvInput, VersionedKvOutput>;

/// One server of the KV tests.
pub struct KvPeer(KvServer);

impl Incarnation for KvPeer {
    const KILL: &'static str = "KvServer::kill";

    fn raft(&self) -> Option<&Arc<Raft>> {
        Some(self.0.raft())
    }

    fn kill(&self) {
        self.0.kill();
    }
}

/// The shape of a KV test (Go's `MakeTest` arguments), written as a sentence:
/// `KvTest::setup("4B basic").clients(5).servers(5).unreliable().run(|ts| …)`. Unless
/// it says otherwise: one client, five servers, a reliable network, no crashes, no
/// partitions, no snapshots, one key, gets through the log.
#[derive(Clone, Debug)]
#[must_use = "a setup does nothing until it runs"]
pub struct KvSetup {
    pub part: &'static str,
    pub nclients: usize,
    pub nservers: usize,
    pub reliable: bool,
    pub crash: bool,
    pub partitions: bool,
    /// Snapshot when Raft's state nears this many bytes; `None` never (Go's -1).
    pub maxraftstate: Option<usize>,
    pub randomkeys: bool,
    /// Part 4E: servers `0..voters` form the first configuration; the others start when
    /// a test adds them. `None`: all `nservers`.
    pub voters: Option<usize>,
    /// Part 4D: how the servers answer gets, and whether followers answer them too.
    pub reads: Reads,
    pub follower_reads: bool,
}

impl KvSetup {
    /// `nclients` clients (Go's `nclients`).
    pub fn clients(self, nclients: usize) -> Self {
        Self { nclients, ..self }
    }

    /// `nservers` servers (Go's `nservers`).
    pub fn servers(self, nservers: usize) -> Self {
        Self { nservers, ..self }
    }

    /// An unreliable network: requests and replies are dropped and delayed.
    pub fn unreliable(self) -> Self {
        Self {
            reliable: false,
            ..self
        }
    }

    /// The generic test crashes and restarts every server after each round.
    pub fn crashes(self) -> Self {
        Self {
            crash: true,
            ..self
        }
    }

    /// The generic test repartitions the servers while the clients work.
    pub fn partitions(self) -> Self {
        Self {
            partitions: true,
            ..self
        }
    }

    /// The servers snapshot when Raft's state nears `bytes` (Go's `maxraftstate`).
    pub fn max_raft_state(self, bytes: usize) -> Self {
        Self {
            maxraftstate: Some(bytes),
            ..self
        }
    }

    /// The clients put on 100 random keys instead of one.
    pub fn random_keys(self) -> Self {
        Self {
            randomkeys: true,
            ..self
        }
    }

    /// Part 4D: the servers answer gets as `reads` says.
    pub fn reads(self, reads: Reads) -> Self {
        Self { reads, ..self }
    }

    /// Part 4D: followers answer gets too.
    pub fn follower_reads(self) -> Self {
        Self {
            follower_reads: true,
            ..self
        }
    }

    /// Part 4E: only servers `0..voters` form the first configuration.
    pub fn first_voters(self, voters: usize) -> Self {
        Self {
            voters: Some(voters),
            ..self
        }
    }

    /// Go's `makeTitle`.
    pub fn title(&self) -> String {
        let mut title = String::from("Test: ");
        if self.crash {
            title += "restarts, ";
        }
        if self.partitions {
            title += "partitions, ";
        }
        if self.maxraftstate.is_some() {
            title += "snapshots, ";
        }
        if self.randomkeys {
            title += "random keys, ";
        }
        title += if self.nclients > 1 {
            "many clients"
        } else {
            "one client"
        };
        format!("{title} ({})", self.part)
    }

    /// The servers, started and connected (Go's `MakeTest`).
    pub fn start(self) -> Arc<KvTest> {
        KvTest::new(self)
    }

    /// Runs the test on these servers under its Go title.
    pub fn run(self, body: impl FnOnce(&KvTest) + Send + 'static) {
        let title = self.title();
        tester::run(&title, || self.start(), body);
    }
}

pub struct KvTest {
    tester: Tester<KvPeer>,
    setup: KvSetup,
    /// Part 4E: the voters after the last change the test made.
    voters: Mutex<Vec<usize>>,
    /// Part 4E: the clerk that gets a new leader something of its term to commit.
    nudger: std::sync::OnceLock<TestClerk>,
    clerks: std::sync::atomic::AtomicU64,
    history: Mutex<Vec<KvOperation>>,
    t0: Instant,
}

tester::derefs_to_core!(KvTest => KvPeer);

impl Testing for KvTest {
    type Peer = KvPeer;
}

impl KvTest {
    /// The KV test of part `part` (e.g. `"4B basic"`), shaped as the setup then says.
    pub fn setup(part: &'static str) -> KvSetup {
        KvSetup {
            part,
            nclients: 1,
            nservers: 5,
            reliable: true,
            crash: false,
            partitions: false,
            maxraftstate: None,
            randomkeys: false,
            voters: None,
            reads: Reads::Log,
            follower_reads: false,
        }
    }

    /// Go's `MakeTest`: the servers started and connected, the network as `setup` says
    /// (dead links fail within 100 ms: no long delays in the KV tests).
    fn new(setup: KvSetup) -> Arc<Self> {
        let test = Arc::new(Self {
            tester: Tester::new(setup.nservers, setup.reliable, 0x6b76_7465_7374),
            voters: Mutex::new((0..setup.voters.unwrap_or(setup.nservers)).collect()),
            nudger: std::sync::OnceLock::new(),
            setup,
            clerks: Default::default(),
            history: Mutex::new(Vec::new()),
            t0: Instant::now(),
        });
        for i in 0..test.initial_voters() {
            test.start_server(i);
        }
        test.connect_all();
        test
    }

    /// How many servers form the first configuration.
    pub fn initial_voters(&self) -> usize {
        self.setup.voters.unwrap_or(self.setup.nservers)
    }

    pub fn start_server(&self, i: usize) {
        let maxraftstate = self.setup.maxraftstate;
        let calls = Arc::clone(self.group().calls());
        // Part 4E: servers of the first configuration know it; the others start outside.
        let voters = self.initial_voters();
        let initial: Option<BTreeSet<usize>> = (voters < self.setup.nservers).then(|| {
            if i < voters {
                (0..voters).collect()
            } else {
                BTreeSet::new()
            }
        });
        let options = ServerOptions {
            maxraftstate,
            initial_voters: initial,
            reads: self.setup.reads,
            follower_reads: self.setup.follower_reads,
        };
        let go_api = options.initial_voters.is_none()
            && options.reads == Reads::Log
            && !options.follower_reads;
        self.group().start_server(i, |ends, persister| {
            let server = if go_api {
                // Parts 4B and 4C: Go's StartKVServer.
                calls.time(i, "KvServer::new", || {
                    KvServer::new(ends, i, persister, maxraftstate)
                })
            } else {
                calls.time(i, "KvServer::with_options", || {
                    KvServer::with_options(ends, i, persister, options)
                })
            };
            let services = server.services();
            Started {
                peer: KvPeer(server),
                services,
            }
        });
    }
}
