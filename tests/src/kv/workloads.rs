//! Go's client workloads (`kvtest1`): clients putting their own entries on shared keys,
//! clients run side by side for a while, a partitioner, and the generic tests built from
//! them.

use labrt::thread;
use labrt::time::{Duration, Instant};
use std::sync::atomic::{AtomicBool, Ordering};

use kvraft::{Error, Version};
use serde::{Deserialize, Serialize};

use super::{ELECTION_TIMEOUT, KvTest, NKEYS, ROUND_LOAD, ROUNDS, TestClerk};
use crate::harness::{self, join};

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

impl KvTest {
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
        let mut versions = std::collections::BTreeMap::<String, Version>::new();
        while !done.load(Ordering::Acquire) {
            let key = if self.setup.randomkeys {
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
        let n = self.servers();
        while !stop.load(Ordering::Acquire) {
            let sides: Vec<u64> = (0..n).map(|_| self.rand_below(2)).collect();
            let side = |s| (0..n).filter(|&j| sides[j] == s).collect::<Vec<_>>();
            self.partition(&side(0), &side(1));
            let jitter = Duration::from_millis(self.rand_below(200));
            thread::sleep(ELECTION_TIMEOUT + jitter);
        }
    }

    /// Go's `GenericTest`: three rounds of client load (partitions and crashes as the test
    /// says), each followed by the linearizability check and the size checks.
    #[track_caller]
    pub fn generic_test(&self) {
        let ck = self.make_clerk();
        let keys: Vec<String> = if self.setup.randomkeys {
            (0..NKEYS).map(|i| format!("k{i}")).collect()
        } else {
            vec!["k".into()]
        };
        let mut total = ClientResult::default();
        for _ in 0..ROUNDS {
            let stop = AtomicBool::new(false);
            let results = thread::scope(|s| {
                let clients = s.spawn(|| {
                    self.spawn_clients_and_wait(self.setup.nclients, ROUND_LOAD, |cli, ck, done| {
                        self.one_client_put(cli, ck, &keys, done)
                    })
                });
                let partitioner = self.setup.partitions.then(|| {
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
            if !self.setup.randomkeys {
                self.check_put_concurrent(&ck, &keys[0], &results, &mut total);
            }
            self.check_porcupine();

            if self.setup.partitions {
                // A request submitted in a minority returns only once that server sees
                // a new term: reconnect, and give the cluster time to hold an election.
                self.connect_all();
                thread::sleep(ELECTION_TIMEOUT);
            }
            if self.setup.crash {
                for i in 0..self.servers() {
                    self.shutdown_server(i);
                }
                // Shutdown is not instantaneous: wait for the old servers to stop.
                thread::sleep(ELECTION_TIMEOUT);
                for i in 0..self.servers() {
                    self.start_server(i);
                }
                self.connect_all();
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
        let _ = ck.clerk().get("x");
        let start = Instant::now();
        for i in 0..OPS {
            if let Err(e) = ck.clerk().put("k", &i.to_string(), i) {
                self.fatal(format!("Put err {e}"));
            }
        }
        let took = start.elapsed();
        match ck.clerk().get("k") {
            Ok((_, version)) if version != OPS => self.fatal(format!("Get too few ops {version}")),
            Ok(_) => {}
            Err(e) => self.fatal(format!("Get err {e}")),
        }
        let per_op_limit = Duration::from_millis(100) / 3;
        harness::notice(&format!(
            "info: {} ({}): {OPS} puts in {:.2} s, {:.2} ms per operation (limit {:.1} ms)",
            self.setup.title(),
            if self.is_reliable() {
                "reliable network"
            } else {
                "unreliable network"
            },
            took.as_secs_f64(),
            took.as_secs_f64() * 1000.0 / OPS as f64,
            per_op_limit.as_secs_f64() * 1000.0
        ));
        if labrt::sim::is_simulated() {
            harness::notice(&format!("info: {}", crate::sim::SPEED_NOT_JUDGED));
        } else if took > per_op_limit * OPS as u32 {
            self.fatal(format!(
                "Operations completed too slowly {:?}/op > {per_op_limit:?}/op",
                took / OPS as u32
            ));
        }
    }
}
