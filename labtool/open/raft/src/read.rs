//! Part 4D: why a read index was refused ([`crate::Raft::read_index`]). The type is part
//! of the lab's API, given whole.

use serde::{Deserialize, Serialize};

/// Why a read index was not given.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ReadError {
    /// This server does not lead and knows no leader to ask (or is not the leader asked).
    NotLeader,
    /// The leader has not yet committed an entry of its own term, so it does not know the
    /// latest commit index (§8); a write of this term, or a read through the log, fixes it.
    NothingCommittedInTerm,
    /// The leader lost its leadership before a quorum confirmed it.
    Deposed,
    /// No quorum confirmed the read in time (the leader may be cut off).
    Timeout,
}

impl std::fmt::Display for ReadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::NotLeader => "not the leader, and no leader known",
            Self::NothingCommittedInTerm => "the leader has committed nothing of its term yet",
            Self::Deposed => "the leader was deposed before a quorum confirmed the read",
            Self::Timeout => "no quorum confirmed the read in time",
        })
    }
}

impl std::error::Error for ReadError {}
