//! What peers say to each other: the three RPCs of the Raft paper (Figure 2 and §7), plus
//! the log entry they carry.

use serde::{Deserialize, Serialize};

/// One log entry: the term in which a leader received the command, and the command as the
/// service encoded it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Entry {
    pub term: u64,
    #[serde(with = "serde_bytes")]
    pub command: Vec<u8>,
}

/// Invoked by candidates to gather votes (§5.2).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestVoteArgs {
    pub term: u64,
    pub candidate: usize,
    pub last_log_index: u64,
    pub last_log_term: u64,
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
    #[serde(with = "serde_bytes")]
    pub snapshot: Vec<u8>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InstallSnapshotReply {
    pub term: u64,
}
