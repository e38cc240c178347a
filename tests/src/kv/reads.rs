//! Part 4D's tools: single gets sent to one server, and a read-heavy workload that
//! measures what a get costs.

use labrt::thread;
use labrt::time::{Duration, Instant};
use std::sync::atomic::{AtomicBool, Ordering};

use kvraft::rpc::{GetArgs, GetReply};
use kvraft::{Error, Version};

use super::KvTest;
use crate::harness::join;

/// What a read-heavy workload did.
#[derive(Clone, Copy, Debug, Default)]
pub struct ReadStats {
    pub ops: u64,
    pub gets: u64,
    /// RPCs on the network during the workload (clerks' and servers').
    pub rpcs: u64,
    /// Of them, the clerks'.
    pub clerk_rpcs: u64,
    /// Time the gets took, summed.
    pub get_time: Duration,
    pub elapsed: Duration,
}

impl ReadStats {
    pub fn ops_per_sec(&self) -> f64 {
        self.ops as f64 / self.elapsed.as_secs_f64()
    }

    pub fn rpcs_per_op(&self) -> f64 {
        self.rpcs as f64 / self.ops.max(1) as f64
    }

    /// The RPCs between servers (Raft's, and follower reads' ReadIndex) per get: all of
    /// them, the puts' replication and the heartbeats included.
    pub fn server_rpcs_per_get(&self) -> f64 {
        (self.rpcs - self.clerk_rpcs) as f64 / self.gets.max(1) as f64
    }

    pub fn ms_per_get(&self) -> f64 {
        self.get_time.as_secs_f64() * 1000.0 / self.gets.max(1) as f64
    }

    pub fn line(&self, label: &str) -> String {
        format!(
            "  ... {label}: {:.0} ops/s, {:.2} RPCs per op, {:.2} between servers per get, {:.2} ms per get ({} gets of {} ops)",
            self.ops_per_sec(),
            self.rpcs_per_op(),
            self.server_rpcs_per_get(),
            self.ms_per_get(),
            self.gets,
            self.ops
        )
    }
}

impl KvTest {
    /// One `KVServer.Get` of `key` sent to server `server` alone (no retry, not part of the
    /// checked history): its answer, or `None` if the call failed.
    pub fn get_from(&self, server: usize, key: &str) -> Option<Result<(String, Version), Error>> {
        let ck = self.make_clerk_to(&[server]);
        let args = GetArgs {
            key: key.to_owned(),
        };
        let reply = ck.clerk().ends()[server].call::<_, GetReply>("KVServer.Get", &args);
        self.delete_clerk(ck);
        reply.ok().map(|r| r.result)
    }

    /// `nclients` clients, each on its own key, doing 9 gets for every put for `load`,
    /// recorded for the linearizability check; returns what they did and cost.
    pub fn read_heavy(&self, nclients: usize, load: Duration) -> ReadStats {
        let done = AtomicBool::new(false);
        let rpcs0 = self.net().total_count();
        let t0 = Instant::now();
        let per_client: Vec<ReadStats> = thread::scope(|s| {
            let clients: Vec<_> = (0..nclients)
                .map(|cli| {
                    let done = &done;
                    s.spawn(move || {
                        let ck = self.make_clerk();
                        let key = format!("r{cli}");
                        let mut stats = ReadStats::default();
                        let mut version = 0;
                        while !done.load(Ordering::Acquire) {
                            if stats.ops % 10 == 0 {
                                let value = stats.ops.to_string();
                                if self.put(&ck, &key, &value, version, cli).is_ok() {
                                    version += 1;
                                }
                            } else {
                                let t = Instant::now();
                                let _ = self.get(&ck, &key, cli);
                                stats.get_time += t.elapsed();
                                stats.gets += 1;
                            }
                            stats.ops += 1;
                        }
                        stats.clerk_rpcs = self.clerk_rpcs(&ck);
                        self.delete_clerk(ck);
                        stats
                    })
                })
                .collect();
            thread::sleep(load);
            done.store(true, Ordering::Release);
            clients.into_iter().map(join).collect()
        });
        let mut total = ReadStats {
            rpcs: self.net().total_count() - rpcs0,
            elapsed: t0.elapsed(),
            ..ReadStats::default()
        };
        for c in per_client {
            total.ops += c.ops;
            total.gets += c.gets;
            total.get_time += c.get_time;
            total.clerk_rpcs += c.clerk_rpcs;
        }
        total
    }
}

/// Runs `body` on a second cluster set up by `setup` (to compare a workload across
/// settings within one test), and shuts it down.
pub fn with_cluster<T>(setup: super::KvSetup, body: impl FnOnce(&KvTest) -> T) -> T {
    let cluster = setup.start();
    let result = body(&cluster);
    if let Err(failure) = crate::harness::Cluster::finish(&*cluster) {
        cluster.fatal(failure);
    }
    result
}
