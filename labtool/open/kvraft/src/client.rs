//! The clerk: how an application uses the KV service. It finds the server that leads,
//! and retries through lost messages, crashes and partitions until it gets an answer.
//!
//! A put's answer must be right even when the clerk had to retry it: [`Error::Maybe`]
//! when a retried put is refused with [`Error::Version`] and the first attempt may have
//! been applied (the lab's rule), or a definite answer if the servers apply each request
//! at most once ([`crate::rpc::RequestId`]).

use labrpc::ClientEnd;

use crate::rpc::{Error, Version};

pub struct Clerk {
    // Your fields.
}

impl Clerk {
    /// A clerk for the servers reached through `servers` (in any order).
    pub fn new(servers: Vec<ClientEnd>) -> Self {
        let _ = servers;
        todo!("4B: a clerk for these servers")
    }

    /// The ends to the servers, in the order the clerk was given them.
    pub fn ends(&self) -> &[ClientEnd] {
        todo!("4B: the ends to the servers, in the order given")
    }

    /// The value and version of `key`, or [`Error::NoKey`]. Retries until a server
    /// answers; never returns [`Error::WrongLeader`].
    pub fn get(&self, key: &str) -> Result<(String, Version), Error> {
        let _ = key;
        todo!("4B: get the key from the leader, retrying until a server answers")
    }

    /// Sets `key` to `value` if its version is `version` (0 creates a missing key):
    /// [`Error::Version`] if the version does not match, [`Error::NoKey`] if the key is
    /// missing and `version` is above 0. Retries until a server answers; never returns
    /// [`Error::WrongLeader`].
    pub fn put(&self, key: &str, value: &str, version: Version) -> Result<(), Error> {
        let _ = (key, value, version);
        todo!("4B: put the key on the leader, retrying until a server answers")
    }
}
