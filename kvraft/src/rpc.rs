//! The `KVServer` RPCs and the errors a clerk can see (the lab's `rpc.Err`).

use std::fmt;

use serde::{Deserialize, Serialize};

/// A key's version: 0 while the key does not exist, then 1, 2, … one per successful put.
pub type Version = u64;

/// Why an operation did not succeed.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Error {
    /// `get` of a missing key, or `put` with a version above 0 of a missing key.
    NoKey,
    /// `put` with a version that is not the key's current one: nothing changed.
    Version,
    /// `put` may or may not have happened. The lab's clerk says this when a retried put
    /// is refused with `Version` after an earlier attempt may have applied. A clerk whose
    /// puts are exactly-once (the servers remember each [`RequestId`]) never needs it;
    /// the tests accept it from any clerk.
    Maybe,
    /// The server asked is not the leader, or lost leadership before the operation was
    /// applied: ask another. Clerks never return this to their callers.
    WrongLeader,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::NoKey => "ErrNoKey",
            Error::Version => "ErrVersion",
            Error::Maybe => "ErrMaybe",
            Error::WrongLeader => "ErrWrongLeader",
        })
    }
}

impl std::error::Error for Error {}

/// Identifies a clerk's request so that a retry is applied at most once.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RequestId {
    /// Random per clerk.
    pub clerk: u64,
    /// Increases with each put of that clerk.
    pub seq: u64,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetArgs {
    pub key: String,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct GetReply {
    pub result: Result<(String, Version), Error>,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutArgs {
    pub key: String,
    pub value: String,
    pub version: Version,
    pub id: RequestId,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PutReply {
    pub result: Result<(), Error>,
}
