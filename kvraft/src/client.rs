//! The clerk: how an application uses the KV service. It tries the servers in turn until
//! one leads, remembers that one, and retries through failures until it gets an answer.
//!
//! Puts are exactly-once: each carries the clerk's id and a sequence number, and a
//! server answers a retry with the first attempt's answer. So a put's answer is always
//! definite (`Ok`, [`Error::Version`] or [`Error::NoKey`]), never [`Error::Maybe`].
// solution:begin 4B (nothing to drop: the skeleton adds the line below)
// solution:skeleton
//
// // The skeleton keeps the types, fields, helpers and imports a solution uses, for the code
// // you write. Delete this line once your code uses them, to get the compiler's warnings back.
// #![allow(dead_code, unused_imports)]
// solution:end

use labrt::thread;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

use labrpc::{ClientEnd, RpcError};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::rpc::{Error, GetArgs, GetReply, PutArgs, PutReply, RequestId, Version};

/// How long the clerk waits for one server before trying the next. A leader cut off
/// from its majority never answers, and cannot tell that it should not.
pub const SERVER_TIMEOUT: Duration = Duration::from_secs(1);

/// The pause after asking every server without finding a leader.
pub const ROUND_PAUSE: Duration = Duration::from_millis(20);

pub struct Clerk {
    servers: Vec<ClientEnd>,
    /// Where the last answer came from.
    leader: AtomicUsize,
    id: u64,
    seq: AtomicU64,
}

impl Clerk {
    /// A clerk for the servers reached through `servers` (in any order).
    pub fn new(servers: Vec<ClientEnd>) -> Self {
        assert!(!servers.is_empty(), "a clerk needs at least one server");
        Self {
            servers,
            leader: AtomicUsize::new(0),
            id: labrt::random(),
            seq: AtomicU64::new(0),
        }
    }

    /// The links to the servers, in the order the clerk was given them.
    pub fn ends(&self) -> &[ClientEnd] {
        &self.servers
    }

    /// The value and version of `key`, or [`Error::NoKey`].
    pub fn get(&self, key: &str) -> Result<(String, Version), Error> {
        let args = GetArgs {
            key: key.to_owned(),
        };
        self.call("KVServer.Get", &args, |r: &GetReply| r.result.clone())
    }

    /// Sets `key` to `value` if its version is `version` (0 creates a missing key):
    /// [`Error::Version`] if the version does not match, [`Error::NoKey`] if the key is
    /// missing and `version` is above 0.
    pub fn put(&self, key: &str, value: &str, version: Version) -> Result<(), Error> {
        let args = PutArgs {
            key: key.to_owned(),
            value: value.to_owned(),
            version,
            id: RequestId {
                clerk: self.id,
                seq: self.seq.fetch_add(1, Ordering::Relaxed) + 1,
            },
        };
        self.call("KVServer.Put", &args, |r: &PutReply| r.result)
    }

    /// Calls `method` on the leader (finding it if need be) until a server answers with
    /// something other than [`Error::WrongLeader`].
    fn call<A, R, T>(
        &self,
        method: &str,
        args: &A,
        result: impl Fn(&R) -> Result<T, Error>,
    ) -> Result<T, Error>
    where
        A: Serialize,
        R: DeserializeOwned + Send + 'static,
    {
        // solution:begin 4B Find the leader, remember it, and retry until a server answers.
        let n = self.servers.len();
        let mut server = self.leader.load(Ordering::Relaxed);
        let mut tried = 0;
        loop {
            let reply = self.servers[server].call_async::<_, R>(method, args);
            let outcome = reply
                .recv_timeout(SERVER_TIMEOUT)
                .unwrap_or(Err(RpcError::Lost));
            if let Ok(reply) = outcome {
                match result(&reply) {
                    Err(Error::WrongLeader) => {}
                    answer => {
                        self.leader.store(server, Ordering::Relaxed);
                        return answer;
                    }
                }
            }
            server = (server + 1) % n;
            tried += 1;
            if tried % n == 0 {
                thread::sleep(ROUND_PAUSE);
            }
        }
        // solution:skeleton
        // let _ = (method, args, result);
        // todo!("4B: find the leader, remember it, and retry until a server answers")
        // solution:end
    }
}
