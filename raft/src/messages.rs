//! What peers say to each other: the three RPCs of the Raft paper (Figure 2 and §7), the
//! TimeoutNow of leadership transfer (part 3E, thesis §3.10), a follower's ReadIndex
//! request (part 4D, thesis §6.4), and the log entry they carry.

use serde::{Deserialize, Serialize};

use crate::config::Config;

/// One log entry: the term in which a leader received it, and either a command as the
/// service encoded it or (part 3E) a new cluster configuration.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub term: u64,
    #[serde(with = "serde_bytes")]
    pub command: Vec<u8>,
    /// `Some` for a configuration entry (part 3E), whose `command` is empty.
    pub config: Option<Config>,
}

impl Entry {
    /// A command entry.
    pub fn new(term: u64, command: Vec<u8>) -> Self {
        Self {
            term,
            command,
            config: None,
        }
    }

    /// A configuration entry (part 3E).
    pub fn config(term: u64, config: Config) -> Self {
        Self {
            term,
            command: Vec::new(),
            config: Some(config),
        }
    }
}

/// Invoked by candidates to gather votes (§5.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteArgs {
    pub term: u64,
    pub candidate: usize,
    pub last_log_index: u64,
    pub last_log_term: u64,
    /// Part 3E: the election follows a leader's TimeoutNow (a leadership transfer), so
    /// servers that heard from that leader recently must not ignore it (thesis §4.2.3).
    /// `false` in every other election.
    pub transfer: bool,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteReply {
    pub term: u64,
    pub vote_granted: bool,
}

/// Invoked by the leader to replicate log entries (§5.3); also the heartbeat (§5.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntriesArgs {
    pub term: u64,
    pub leader: usize,
    pub prev_log_index: u64,
    pub prev_log_term: u64,
    pub entries: Vec<Entry>,
    pub leader_commit: u64,
}

/// On failure, `conflict_term` / `conflict_index` let the leader skip a whole term of
/// mismatching entries at once (the "fast backup" of §5.3's closing paragraphs):
/// - the follower's log is too short: `conflict_term` is `None` and `conflict_index` is
///   its last index + 1;
/// - the terms disagree at `prev_log_index`: `conflict_term` is the follower's term there,
///   and `conflict_index` the first index the follower holds with that term.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AppendEntriesReply {
    pub term: u64,
    pub success: bool,
    pub conflict_term: Option<u64>,
    pub conflict_index: u64,
}

/// Invoked by the leader to send a follower its snapshot when the entries the follower
/// needs have been compacted away (§7). The whole snapshot travels in one RPC.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotArgs {
    pub term: u64,
    pub leader: usize,
    pub last_included_index: u64,
    pub last_included_term: u64,
    /// Part 3E: the configuration in effect at `last_included_index` (the log's start
    /// configuration), `None` if the leader's log never recorded one.
    pub config: Option<Config>,
    #[serde(with = "serde_bytes")]
    pub snapshot: Vec<u8>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    pub term: u64,
}

/// Part 3E: the leader of `term` tells a caught-up voter to start an election at once
/// (leadership transfer, thesis §3.10).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoutNowArgs {
    pub term: u64,
    pub leader: usize,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeoutNowReply {
    pub term: u64,
}

/// Part 4D: a follower asks the leader for a read index (thesis §6.4).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadIndexArgs {
    pub term: u64,
}

/// The index a read may be served at once applied, or why not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReadIndexReply {
    pub result: Result<u64, ReadError>,
}

impl Default for ReadIndexReply {
    fn default() -> Self {
        Self {
            result: Err(ReadError::NotLeader),
        }
    }
}

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
