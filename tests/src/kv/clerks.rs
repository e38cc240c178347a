//! The KV tests' clerks (Go's `kvtest1` clerk wrappers): each with its own links to the
//! servers, which the test can cut, and every get and put they make recorded with its
//! call and return time for the linearizability check.

use labrt::thread;
use labrt::time::{Duration, Instant};
use std::sync::atomic::Ordering;

use kvraft::{Clerk, Error, Version};
use linearizability::Operation;
use linearizability::models::versioned_kv::{VersionedKvInput, VersionedKvOutput};

use super::KvTest;
use crate::group::server_name;

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

impl KvTest {
    /// A clerk with links to every server.
    pub fn make_clerk(&self) -> TestClerk {
        self.make_clerk_to(&(0..self.servers()).collect::<Vec<_>>())
    }

    /// A clerk with links to every server, of which only those to `to` work (Go's
    /// `MakeClerkTo`).
    pub fn make_clerk_to(&self, to: &[usize]) -> TestClerk {
        let k = self.clerks.fetch_add(1, Ordering::Relaxed);
        let net = self.net();
        let (ends, names) = (0..self.servers())
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
            self.net().enable(end, true);
        }
    }

    /// The RPCs the clerk has sent.
    pub fn clerk_rpcs(&self, ck: &TestClerk) -> u64 {
        ck.ends.iter().map(|end| self.net().end_count(end)).sum()
    }

    pub fn delete_clerk(&self, ck: TestClerk) {
        for end in &ck.ends {
            self.net().delete_end(end);
        }
    }

    fn now(&self) -> u64 {
        self.t0.elapsed().as_nanos() as u64
    }

    fn record(&self, client: usize, input: VersionedKvInput, call: u64, output: VersionedKvOutput) {
        let ret = self.now();
        self.count_op();
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
