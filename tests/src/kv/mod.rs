//! The KV tester (Lab 4B and 4C): a group of `kvraft` servers, clerks with their own
//! links to them, Go's client workloads, and the linearizability check of everything the
//! clerks did — Go's `kvtest1` and `kvraft1/test.go`.
//!
//! Every clerk call the tests make through [`KvTest::get`] and [`KvTest::put`] is
//! recorded with its call and return time. After every round the history is checked
//! against the versioned-KV model (1 s limit); a violation writes the HTML view of the
//! history and fails the test with its path, and a check that runs out of time says so
//! instead of passing silently.

mod membership;
mod reads;

pub use reads::{ReadStats, with_cluster};

use std::collections::BTreeSet;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use kvraft::{Clerk, Error, KvServer, Reads, ServerOptions, Version};
use labrpc::Network;
use linearizability::models::versioned_kv::{
    self, VersionedKvInput, VersionedKvModel, VersionedKvOutput,
};
use linearizability::visualize::{VisualizeOptions, history_timeline, write_html};
use linearizability::{Operation, Verdict, check_operations_verbose};
use parking_lot::Mutex;
use raft::Raft;
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};
use serde::{Deserialize, Serialize};

use crate::group::{Group, Incarnation, Started, server_name};
use crate::harness::{self, Stats, join};

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

    fn raft(&self) -> &Arc<Raft> {
        self.0.raft()
    }

    fn kill(&self) {
        self.0.kill();
    }
}

/// A clerk and the links it owns, so the test can cut or restore them.
pub struct TestClerk {
    clerk: Clerk,
    ends: Vec<String>,
}

impl TestClerk {
    pub fn clerk(&self) -> &Clerk {
        &self.clerk
    }
}

/// What one client achieved: puts that returned `OK`, and puts that returned `ErrMaybe`.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ClientResult {
    pub ok: u64,
    pub maybe: u64,
}

/// The value the clients put: who wrote it, at which version (Go's `EntryV`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
struct EntryV {
    #[serde(rename = "Id")]
    id: i64,
    #[serde(rename = "V")]
    v: Version,
}

/// The shape of a KV test (Go's `MakeTest` arguments).
#[derive(Clone, Debug)]
pub struct KvParams {
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

impl KvParams {
    /// Go's `MakeTest(part, nclients, nservers, reliable, crash, partitions,
    /// maxraftstate, randomkeys)`.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        part: &'static str,
        nclients: usize,
        nservers: usize,
        reliable: bool,
        crash: bool,
        partitions: bool,
        maxraftstate: Option<usize>,
        randomkeys: bool,
    ) -> Self {
        Self {
            part,
            nclients,
            nservers,
            reliable,
            crash,
            partitions,
            maxraftstate,
            randomkeys,
            voters: None,
            reads: Reads::Log,
            follower_reads: false,
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
    pub fn initial_voters(self, voters: usize) -> Self {
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
}

pub struct KvTest {
    params: KvParams,
    /// Part 4E: the voters after the last change the test made.
    voters: Mutex<Vec<usize>>,
    /// Part 4E: the clerk that gets a new leader something of its term to commit.
    nudger: std::sync::OnceLock<TestClerk>,
    group: Group<KvPeer>,
    clerks: AtomicU64,
    history: Mutex<Vec<KvOperation>>,
    t0: Instant,
    ops: AtomicU64,
    rng: Mutex<Xoshiro256PlusPlus>,
}

impl KvTest {
    /// Go's `MakeTest`: the servers started and connected, the network as `params` says
    /// (dead links fail within 100 ms: no long delays in the KV tests).
    pub fn new(params: KvParams) -> Arc<Self> {
        let net = Network::new();
        net.set_reliable(params.reliable);
        let rng = Xoshiro256PlusPlus::seed_from_u64(net.seed() ^ 0x6b76_7465_7374);
        let test = Arc::new(Self {
            group: Group::new(params.nservers, net),
            voters: Mutex::new((0..params.voters.unwrap_or(params.nservers)).collect()),
            nudger: std::sync::OnceLock::new(),
            params,
            clerks: AtomicU64::new(0),
            history: Mutex::new(Vec::new()),
            t0: Instant::now(),
            ops: AtomicU64::new(0),
            rng: Mutex::new(rng),
        });
        for i in 0..test.initial_voters() {
            test.start_server(i);
        }
        test.group.connect_all();
        test
    }

    /// How many servers form the first configuration.
    pub fn initial_voters(&self) -> usize {
        self.params.voters.unwrap_or(self.params.nservers)
    }

    pub fn params(&self) -> &KvParams {
        &self.params
    }

    pub fn group(&self) -> &Group<KvPeer> {
        &self.group
    }

    #[track_caller]
    pub fn fatal(&self, message: impl Into<String>) -> ! {
        panic!("{}", message.into())
    }

    pub fn is_reliable(&self) -> bool {
        self.group.net().is_reliable()
    }

    pub fn rand_below(&self, n: u64) -> u64 {
        self.rng.lock().random_range(0..n)
    }

    // ----- servers ------------------------------------------------------------------------

    pub fn start_server(&self, i: usize) {
        let maxraftstate = self.params.maxraftstate;
        let calls = Arc::clone(self.group.calls());
        // Part 4E: servers of the first configuration know it; the others start outside.
        let voters = self.initial_voters();
        let initial: Option<BTreeSet<usize>> = (voters < self.params.nservers).then(|| {
            if i < voters {
                (0..voters).collect()
            } else {
                BTreeSet::new()
            }
        });
        let options = ServerOptions {
            maxraftstate,
            initial_voters: initial,
            reads: self.params.reads,
            follower_reads: self.params.follower_reads,
        };
        let go_api = options.initial_voters.is_none()
            && options.reads == Reads::Log
            && !options.follower_reads;
        self.group.start_server(i, |ends, persister| {
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

    /// The first server that believes it leads, if any.
    pub fn find_leader(&self) -> Option<usize> {
        self.group.leader()
    }

    // ----- clerks -------------------------------------------------------------------------

    /// A clerk with links to every server.
    pub fn make_clerk(&self) -> TestClerk {
        self.make_clerk_to(&(0..self.params.nservers).collect::<Vec<_>>())
    }

    /// A clerk with links to every server, of which only those to `to` work (Go's
    /// `MakeClerkTo`).
    pub fn make_clerk_to(&self, to: &[usize]) -> TestClerk {
        let k = self.clerks.fetch_add(1, Ordering::Relaxed);
        let net = self.group.net();
        let (ends, names) = (0..self.params.nservers)
            .map(|j| {
                let name = format!("clerk{k}->{j}");
                let end = net.make_end(&name);
                net.connect(&name, &server_name(j));
                net.enable(&name, to.contains(&j));
                (end, name)
            })
            .unzip();
        TestClerk {
            clerk: Clerk::new(ends),
            ends: names,
        }
    }

    /// Sends one `KVServer.Put` with exactly these arguments (its request id included) to
    /// each server in turn until one leads and answers, as a clerk retrying a request
    /// does; gives up after 10 s.
    #[track_caller]
    pub fn raw_put(&self, ck: &TestClerk, args: &kvraft::rpc::PutArgs) -> Result<(), Error> {
        let t0 = Instant::now();
        while t0.elapsed() < Duration::from_secs(10) {
            for end in ck.clerk.ends() {
                if let Ok(reply) = end.call::<_, kvraft::rpc::PutReply>("KVServer.Put", args)
                    && reply.result != Err(Error::WrongLeader)
                {
                    return reply.result;
                }
            }
            thread::sleep(Duration::from_millis(50));
        }
        self.fatal(format!(
            "no server answered a Put of {:?} within 10 s",
            args.key
        ))
    }

    /// Lets a clerk reach every server.
    pub fn connect_clerk(&self, ck: &TestClerk) {
        for end in &ck.ends {
            self.group.net().enable(end, true);
        }
    }

    pub fn delete_clerk(&self, ck: TestClerk) {
        for end in &ck.ends {
            self.group.net().delete_end(end);
        }
    }

    // ----- recorded operations ------------------------------------------------------------

    fn now(&self) -> u64 {
        self.t0.elapsed().as_nanos() as u64
    }

    fn record(&self, client: usize, input: VersionedKvInput, call: u64, output: VersionedKvOutput) {
        let ret = self.now();
        self.ops.fetch_add(1, Ordering::Relaxed);
        self.history
            .lock()
            .push(Operation::returned(client, input, call, output, ret));
    }

    /// A recorded `get` by client `client`.
    pub fn get(
        &self,
        ck: &TestClerk,
        key: &str,
        client: usize,
    ) -> Result<(String, Version), Error> {
        let call = self.now();
        let result = ck.clerk.get(key);
        let output = match &result {
            Ok((value, version)) => VersionedKvOutput::Value {
                value: value.clone(),
                version: *version,
            },
            Err(e) => output_of_error(*e),
        };
        self.record(
            client,
            VersionedKvInput::Get { key: key.into() },
            call,
            output,
        );
        result
    }

    /// A recorded `put` by client `client`.
    pub fn put(
        &self,
        ck: &TestClerk,
        key: &str,
        value: &str,
        version: Version,
        client: usize,
    ) -> Result<(), Error> {
        let call = self.now();
        let result = ck.clerk.put(key, value, version);
        let output = match result {
            Ok(()) => VersionedKvOutput::Ok,
            Err(e) => output_of_error(e),
        };
        let input = VersionedKvInput::Put {
            key: key.into(),
            value: value.into(),
            version,
        };
        self.record(client, input, call, output);
        result
    }

    /// Puts until the put takes, raising the version on `ErrVersion`/`ErrMaybe`; returns
    /// the version it took at (Go's `PutAtLeastOnce`).
    #[track_caller]
    pub fn put_at_least_once(
        &self,
        ck: &TestClerk,
        key: &str,
        value: &str,
        mut version: Version,
        client: usize,
    ) -> Version {
        loop {
            match self.put(ck, key, value, version, client) {
                Ok(()) => return version,
                Err(Error::Maybe | Error::Version) => version += 1,
                Err(e) if version != 0 => self.fatal(format!("Put {key} ver {version} err {e}")),
                Err(_) => {}
            }
        }
    }

    /// Gets `key` and checks its value (Go's `CheckGet`, which compares the value only).
    #[track_caller]
    pub fn check_get(&self, ck: &TestClerk, key: &str, value: &str, version: Version) {
        match self.get(ck, key, 0) {
            Ok((v, ver)) if v != value => self.fatal(format!(
                "Get({key}): expected:\n{value} {version}\nreceived:\n{v} {ver}"
            )),
            Ok(_) => {}
            Err(e) => self.fatal(format!("CheckGet err {e}")),
        }
    }

    #[track_caller]
    fn get_entry(&self, ck: &TestClerk, key: &str, client: usize) -> (EntryV, Version) {
        match self.get(ck, key, client) {
            Ok((value, version)) => match serde_json::from_str(&value) {
                Ok(entry) => (entry, version),
                Err(_) => self.fatal(format!(
                    "Unmarshal err {version}: {value:?} is not a client entry"
                )),
            },
            Err(e) => self.fatal(format!("{client}: Get {key:?} err {e}")),
        }
    }

    /// Puts this client's entry at `version` until a put is `OK` or `ErrMaybe` while
    /// other clients do the same on the key (Go's `OnePut`); returns the version now and
    /// whether the put was `OK`.
    #[track_caller]
    pub fn one_put(
        &self,
        me: usize,
        ck: &TestClerk,
        key: &str,
        mut version: Version,
    ) -> (Version, bool) {
        loop {
            let entry = EntryV {
                id: me as i64,
                v: version,
            };
            let value = serde_json::to_string(&entry).expect("entries always encode");
            let result = self.put(ck, key, &value, version, me);
            if let Err(e @ (Error::NoKey | Error::WrongLeader)) = result {
                self.fatal(format!("Wrong error {e}"));
            }
            let (e, version0) = self.get_entry(ck, key, me);
            if result.is_ok() && version0 == version + 1 && e.id != me as i64 && e.v != version {
                self.fatal(format!("Wrong value {e:?}"));
            }
            version = version0;
            match result {
                Ok(()) => return (version, true),
                Err(Error::Maybe) => return (version, false),
                Err(_) => {}
            }
        }
    }

    /// One client doing `one_put`s on `keys` (or on one random key of them each time)
    /// until `done` (Go's `OneClientPut`).
    pub fn one_client_put(
        &self,
        client: usize,
        ck: &TestClerk,
        keys: &[String],
        done: &AtomicBool,
    ) -> ClientResult {
        let mut result = ClientResult::default();
        let mut versions = std::collections::HashMap::<String, Version>::new();
        while !done.load(Ordering::Acquire) {
            let key = if self.params.randomkeys {
                &keys[self.rand_below(keys.len() as u64) as usize]
            } else {
                &keys[0]
            };
            let version = versions.get(key).copied().unwrap_or(0);
            let (version, ok) = self.one_put(client, ck, key, version);
            versions.insert(key.clone(), version);
            if ok {
                result.ok += 1;
            } else {
                result.maybe += 1;
            }
        }
        result
    }

    /// Runs `nclients` clients, each with its own clerk, for `load`; returns what each did
    /// (Go's `SpawnClientsAndWait`).
    pub fn spawn_clients_and_wait(
        &self,
        nclients: usize,
        load: Duration,
        client: impl Fn(usize, &TestClerk, &AtomicBool) -> ClientResult + Sync,
    ) -> Vec<ClientResult> {
        let done = AtomicBool::new(false);
        thread::scope(|s| {
            let handles: Vec<_> = (0..nclients)
                .map(|cli| {
                    let (client, done) = (&client, &done);
                    s.spawn(move || {
                        let ck = self.make_clerk();
                        let result = client(cli, &ck, done);
                        self.delete_clerk(ck);
                        result
                    })
                })
                .collect();
            thread::sleep(load);
            done.store(true, Ordering::Release);
            handles.into_iter().map(join).collect()
        })
    }

    /// The server's version of `key` must equal the `OK` puts (reliable network), or be at
    /// most `OK` + `ErrMaybe` puts (Go's `CheckPutConcurrent`; `total` accumulates over
    /// rounds).
    #[track_caller]
    pub fn check_put_concurrent(
        &self,
        ck: &TestClerk,
        key: &str,
        results: &[ClientResult],
        total: &mut ClientResult,
    ) {
        let (_, version0) = self.get_entry(ck, key, usize::MAX);
        for r in results {
            total.ok += r.ok;
            total.maybe += r.maybe;
        }
        let wrong = if self.is_reliable() {
            version0 != total.ok
        } else {
            version0 > total.ok + total.maybe
        };
        if wrong {
            self.fatal(format!(
                "Wrong number of puts: server {version0} clnts {total:?}"
            ));
        }
    }

    /// Repartitions the servers into two random halves every second or so until `stop`
    /// (Go's `Partitioner`).
    pub fn partitioner(&self, stop: &AtomicBool) {
        let n = self.params.nservers;
        while !stop.load(Ordering::Acquire) {
            let sides: Vec<u64> = (0..n).map(|_| self.rand_below(2)).collect();
            let side = |s| (0..n).filter(|&j| sides[j] == s).collect::<Vec<_>>();
            self.group.partition(&side(0), &side(1));
            let jitter = Duration::from_millis(self.rand_below(200));
            thread::sleep(ELECTION_TIMEOUT + jitter);
        }
    }

    // ----- checks -------------------------------------------------------------------------

    /// Checks that the history so far is linearizable (Go's `CheckPorcupine`). A
    /// violation writes the HTML view (`VIS_ENABLE=never` to skip it, `VIS_FILE=path` to
    /// choose where) and fails; running out of time prints a warning.
    #[track_caller]
    pub fn check_porcupine(&self) {
        let history = self.history.lock().clone();
        let verdict = match versioned_kv::check(&history, Some(CHECK_TIMEOUT)) {
            Ok(v) => v,
            Err(e) => self.fatal(format!("the recorded history is malformed: {e}")),
        };
        let always = std::env::var("VIS_ENABLE").as_deref() == Ok("always");
        match verdict {
            Verdict::Illegal => {
                let written = self.visualize(&history, "the history is not linearizable");
                self.fatal(format!("history is not linearizable{written}"));
            }
            Verdict::Unknown => harness::notice(&format!(
                "warning: linearizability check timed out after {} s: the history of {} operations \
                 was neither confirmed nor refuted",
                CHECK_TIMEOUT.as_secs(),
                history.len()
            )),
            Verdict::Ok if always => {
                self.visualize(&history, "the history is linearizable");
            }
            Verdict::Ok => {}
        }
    }

    /// Writes the HTML view of `history`; returns a note for the failure message.
    fn visualize(&self, history: &[KvOperation], title: &str) -> String {
        if std::env::var("VIS_ENABLE").as_deref() == Ok("never") {
            return String::new();
        }
        let analysis = match check_operations_verbose(
            &VersionedKvModel,
            history,
            Some(Duration::from_secs(10)),
        ) {
            Ok(a) => a,
            Err(e) => return format!(" (no visualization: {e})"),
        };
        let options = VisualizeOptions {
            title: format!("{}: {title}", self.params.title()),
            ..VisualizeOptions::default()
        };
        let timeline = history_timeline(&VersionedKvModel, history, &analysis, &options);
        let path = match std::env::var("VIS_FILE") {
            Ok(p) => std::path::PathBuf::from(p),
            Err(_) => std::env::temp_dir().join(format!(
                "porcupine-{}-{}.html",
                std::process::id(),
                self.group.net().seed()
            )),
        };
        match write_html(&path, &timeline) {
            Ok(()) => {
                harness::notice(&format!(
                    "info: wrote history visualization to {}",
                    path.display()
                ));
                format!(" (visualization: {})", path.display())
            }
            Err(e) => format!(
                " (failed to write the visualization to {}: {e})",
                path.display()
            ),
        }
    }

    /// Fails the test if the logs or snapshots break the test's size limits.
    #[track_caller]
    pub fn check_sizes(&self) {
        match self.params.maxraftstate {
            Some(max) => {
                let size = self.group.log_size();
                if size > 8 * max {
                    self.fatal(format!("logs were not trimmed ({size} > 8*{max})"));
                }
            }
            None => {
                let size = self.group.snapshot_size();
                if size > 0 {
                    self.fatal(format!(
                        "snapshot too large ({size}), should not be used when maxraftstate = -1"
                    ));
                }
            }
        }
    }

    /// Go's `GenericTest`: three rounds of client load (partitions and crashes as the test
    /// says), each followed by the linearizability check and the size checks.
    #[track_caller]
    pub fn generic_test(&self) {
        let ck = self.make_clerk();
        let keys: Vec<String> = if self.params.randomkeys {
            (0..NKEYS).map(|i| format!("k{i}")).collect()
        } else {
            vec!["k".into()]
        };
        let mut total = ClientResult::default();
        for _ in 0..ROUNDS {
            let stop = AtomicBool::new(false);
            let results = thread::scope(|s| {
                let clients = s.spawn(|| {
                    self.spawn_clients_and_wait(
                        self.params.nclients,
                        ROUND_LOAD,
                        |cli, ck, done| self.one_client_put(cli, ck, &keys, done),
                    )
                });
                let partitioner = self.params.partitions.then(|| {
                    // Let the clients work undisturbed for a while first.
                    thread::sleep(Duration::from_secs(1));
                    s.spawn(|| self.partitioner(&stop))
                });
                let results = join(clients);
                if let Some(p) = partitioner {
                    stop.store(true, Ordering::Release);
                    join(p);
                }
                results
            });
            if !self.params.randomkeys {
                self.check_put_concurrent(&ck, &keys[0], &results, &mut total);
            }
            self.check_porcupine();

            if self.params.partitions {
                // A request submitted in a minority returns only once that server sees
                // a new term: reconnect, and give the cluster time to hold an election.
                self.group.connect_all();
                thread::sleep(ELECTION_TIMEOUT);
            }
            if self.params.crash {
                for i in 0..self.params.nservers {
                    self.group.shutdown_server(i);
                }
                // Shutdown is not instantaneous: wait for the old servers to stop.
                thread::sleep(ELECTION_TIMEOUT);
                for i in 0..self.params.nservers {
                    self.start_server(i);
                }
                self.group.connect_all();
            }
            self.check_sizes();
        }
    }

    /// Go's `GenericTestSpeed`: 1000 puts one after another must take under 100 ms per
    /// three (more than one per heartbeat interval).
    #[track_caller]
    pub fn generic_test_speed(&self) {
        const OPS: u64 = 1000;
        let ck = self.make_clerk();
        // Wait until a leader is elected and the servers take requests.
        let _ = ck.clerk.get("x");
        let start = Instant::now();
        for i in 0..OPS {
            if let Err(e) = ck.clerk.put("k", &i.to_string(), i) {
                self.fatal(format!("Put err {e}"));
            }
        }
        let took = start.elapsed();
        match ck.clerk.get("k") {
            Ok((_, version)) if version != OPS => self.fatal(format!("Get too few ops {version}")),
            Ok(_) => {}
            Err(e) => self.fatal(format!("Get err {e}")),
        }
        let per_op_limit = Duration::from_millis(100) / 3;
        harness::notice(&format!(
            "info: {} ({}): {OPS} puts in {:.2} s, {:.2} ms per operation (limit {:.1} ms)",
            self.params.title(),
            if self.is_reliable() {
                "reliable network"
            } else {
                "unreliable network"
            },
            took.as_secs_f64(),
            took.as_secs_f64() * 1000.0 / OPS as f64,
            per_op_limit.as_secs_f64() * 1000.0
        ));
        if took > per_op_limit * OPS as u32 {
            self.fatal(format!(
                "Operations completed too slowly {:?}/op > {per_op_limit:?}/op",
                took / OPS as u32
            ));
        }
    }
}

fn output_of_error(e: Error) -> VersionedKvOutput {
    match e {
        Error::NoKey => VersionedKvOutput::ErrNoKey,
        Error::Version => VersionedKvOutput::ErrVersion,
        Error::Maybe => VersionedKvOutput::ErrMaybe,
        // A clerk must never return this; recording it as unknown lets the checker
        // decide, and `one_put` fails the test on it anyway.
        Error::WrongLeader => VersionedKvOutput::Unknown,
    }
}

impl KvTest {
    fn stop_everything(&self) {
        self.group.kill_all();
        self.group.net().shutdown();
    }
}

impl harness::Cluster for KvTest {
    fn seed(&self) -> u64 {
        self.group.net().seed()
    }

    fn network_label(&self) -> &'static str {
        if self.params.reliable {
            "reliable"
        } else {
            "unreliable"
        }
    }

    fn stats(&self) -> Stats {
        Stats {
            peers: self.params.nservers,
            rpcs: self.group.net().total_count(),
            bytes: self.group.net().total_bytes(),
            count_label: "ops",
            count: self.ops.load(Ordering::Relaxed),
        }
    }

    fn finish(&self) -> Result<(), String> {
        let failure = self.group.check_zombies();
        self.stop_everything();
        failure.map_or(Ok(()), Err)
    }

    fn abort(&self, _failure: &str) {
        self.stop_everything();
    }

    fn interruption(&self) -> Option<String> {
        self.group.interruption()
    }
}

/// Runs a KV test shaped by `params` under its Go title.
pub fn run(params: KvParams, body: impl FnOnce(&KvTest) + Send + 'static) {
    let title = params.title();
    harness::run(&title, KvTest::new(params), body);
}
