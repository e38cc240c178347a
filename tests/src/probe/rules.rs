//! The rules the probes check, each with where it is stated (Figure 2 of the extended Raft
//! paper unless it says otherwise) and its words, so that a failure quotes the rule the
//! peer broke.

/// One rule of the protocol.
#[derive(Clone, Copy, Debug)]
pub struct Rule {
    /// Where it is stated, e.g. `"Figure 2, RequestVote receiver 2"`.
    pub source: &'static str,
    pub text: &'static str,
}

impl Rule {
    /// The failure message when a peer did `what` instead.
    pub fn broken(&self, what: impl Into<String>) -> String {
        format!("{} — {}: \"{}\"", what.into(), self.source, self.text)
    }
}

macro_rules! rule {
    ($name:ident, $source:expr, $text:expr) => {
        pub const $name: Rule = Rule {
            source: $source,
            text: $text,
        };
    };
}

// ----- every server ----------------------------------------------------------------------

rule!(
    HIGHER_TERM,
    "Figure 2, Rules for Servers, all servers",
    "If RPC request or response contains term T > currentTerm: set currentTerm = T, convert \
     to follower (§5.1)"
);
rule!(
    APPLY_IN_ORDER,
    "Figure 2, Rules for Servers, all servers",
    "If commitIndex > lastApplied: increment lastApplied, apply log[lastApplied] to state \
     machine (§5.3) — each index once, in order, after the snapshot the service holds"
);

rule!(
    NEW_TERM_NO_VOTE,
    "Figure 2, State, persistent state on all servers",
    "votedFor: candidateId that received vote in current term (or null if none) — a new \
     term starts with none"
);

// ----- followers and candidates ----------------------------------------------------------

rule!(
    START_ELECTION,
    "Figure 2, Rules for Servers, followers",
    "If election timeout elapses without receiving AppendEntries RPC from current leader or \
     granting vote to candidate: convert to candidate"
);
rule!(
    CAMPAIGN,
    "Figure 2, Rules for Servers, candidates",
    "On conversion to candidate, start election: increment currentTerm, vote for self, reset \
     election timer, send RequestVote RPCs to all other servers"
);
rule!(
    WIN_ELECTION,
    "Figure 2, Rules for Servers, candidates",
    "If votes received from majority of servers: become leader"
);
rule!(
    VOTE_ARGUMENTS,
    "Figure 2, RequestVote RPC, arguments",
    "term: candidate's term; candidateId: candidate requesting vote; lastLogIndex: index of \
     candidate's last log entry (§5.4); lastLogTerm: term of candidate's last log entry (§5.4)"
);

// ----- RequestVote receiver --------------------------------------------------------------

rule!(
    VOTE_STALE_TERM,
    "Figure 2, RequestVote RPC, receiver implementation 1",
    "Reply false if term < currentTerm (§5.1)"
);
rule!(
    VOTE_ONCE,
    "Figure 2, RequestVote RPC, receiver implementation 2",
    "If votedFor is null or candidateId, and candidate's log is at least as up-to-date as \
     receiver's log, grant vote (§5.2, §5.4)"
);
rule!(
    UP_TO_DATE,
    "§5.4.1 (the election restriction)",
    "If the logs have last entries with different terms, then the log with the later term is \
     more up-to-date. If the logs end with the same term, then whichever log is longer is \
     more up-to-date"
);

// ----- AppendEntries receiver ------------------------------------------------------------

rule!(
    APPEND_ENTRIES,
    "Figure 2, AppendEntries RPC, receiver implementation",
    "a follower accepts entries that follow an entry it holds (prevLogIndex 0 always does)"
);
rule!(
    APPEND_STALE_TERM,
    "Figure 2, AppendEntries RPC, receiver implementation 1",
    "Reply false if term < currentTerm (§5.1)"
);
rule!(
    APPEND_MISSING_PREV,
    "Figure 2, AppendEntries RPC, receiver implementation 2",
    "Reply false if log doesn't contain an entry at prevLogIndex whose term matches \
     prevLogTerm (§5.3)"
);
rule!(
    APPEND_CONFLICT,
    "Figure 2, AppendEntries RPC, receiver implementation 3",
    "If an existing entry conflicts with a new one (same index but different terms), delete \
     the existing entry and all that follow it (§5.3)"
);
rule!(
    APPEND_NEW,
    "Figure 2, AppendEntries RPC, receiver implementation 4",
    "Append any new entries not already in the log"
);
rule!(
    FOLLOWER_COMMIT,
    "Figure 2, AppendEntries RPC, receiver implementation 5",
    "If leaderCommit > commitIndex, set commitIndex = min(leaderCommit, index of last new \
     entry)"
);
rule!(
    FOLLOW_LEADER,
    "Figure 2, Rules for Servers, candidates",
    "If AppendEntries RPC received from new leader: convert to follower"
);

// ----- leaders ---------------------------------------------------------------------------

rule!(
    HEARTBEATS,
    "Figure 2, Rules for Servers, leaders",
    "Upon election: send initial empty AppendEntries RPCs (heartbeat) to each server; repeat \
     during idle periods to prevent election timeouts (§5.2) — and, in the lab, no more than \
     ten times per second"
);
rule!(
    REPLICATE,
    "Figure 2, Rules for Servers, leaders",
    "If last log index ≥ nextIndex for a follower: send AppendEntries RPC with log entries \
     starting at nextIndex"
);
rule!(
    MATCH_INDEX,
    "Figure 2, Rules for Servers, leaders",
    "If successful: update nextIndex and matchIndex for follower (§5.3) — from the entries \
     that request carried, not from the log as it is when the reply arrives"
);
rule!(
    BACK_UP,
    "Figure 2, Rules for Servers, leaders",
    "If AppendEntries fails because of log inconsistency: decrement nextIndex and retry (§5.3)"
);
rule!(
    LEADER_COMMIT,
    "Figure 2, Rules for Servers, leaders",
    "If there exists an N such that N > commitIndex, a majority of matchIndex[i] ≥ N, and \
     log[N].term == currentTerm: set commitIndex = N (§5.3, §5.4)"
);

// ----- persistence -----------------------------------------------------------------------

rule!(
    PERSIST_BEFORE_REPLY,
    "Figure 2, State, persistent state on all servers",
    "(Updated on stable storage before responding to RPCs) currentTerm, votedFor, log[]"
);

rule!(
    PERSIST_BEFORE_SEND,
    "Figure 2, State (currentTerm, votedFor and log[] are persistent) and §5.2",
    "what a request reveals is saved before it leaves: a candidate's new term and its vote \
     for itself before it asks for votes, a leader's new entries before it sends them — or \
     after a crash a server can vote twice in a term, or lose an entry a majority holds"
);

// ----- snapshots -------------------------------------------------------------------------

rule!(
    SNAPSHOT_STALE_TERM,
    "Figure 13, InstallSnapshot RPC, receiver implementation 1",
    "Reply immediately if term < currentTerm"
);
rule!(
    SNAPSHOT_INSTALL,
    "Figure 13, InstallSnapshot RPC, receiver implementation 8",
    "Reset state machine using snapshot contents (and load snapshot's cluster configuration)"
);
rule!(
    SNAPSHOT_KEEP_SUFFIX,
    "Figure 13, InstallSnapshot RPC, receiver implementation 6",
    "If existing log entry has same index and term as snapshot's last included entry, retain \
     log entries following it and reply"
);
rule!(
    SNAPSHOT_SEND,
    "§7 (log compaction)",
    "the leader must occasionally send snapshots to followers that lag behind: when it has \
     already discarded the next log entry that it needs to send to a follower"
);
rule!(
    SNAPSHOT_REPLY,
    "§7 (log compaction), with Figure 2's leader rules",
    "once a follower has taken the leader's snapshot, its nextIndex is the snapshot's last \
     index + 1: the leader goes on with the entries after it"
);
rule!(
    SNAPSHOT_INDICES,
    "§7 (log compaction)",
    "the snapshot replaces the log through its last included index; entries after it keep \
     their indices and terms"
);
