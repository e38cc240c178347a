//! What a failure of a randomized test usually means. Go's messages name the symptom
//! ("one(…) failed to reach agreement"); the hint names the rules that a Raft failing
//! that way most often breaks, and the conformance probes (`probe_…`) that check them one
//! at a time. The message itself stays Go's: the hint is an extra line after it, in the
//! test's panic message and on its timeline.

/// Symptoms (a piece of the failure message) and what they usually mean.
const HINTS: &[(&str, &str)] = &[
    (
        "(>1) leaders",
        "two servers led in one term: a server votes at most once per term (votedFor), keeps \
         that vote across a restart (saved before it answers), and a candidate needs a \
         majority of all servers (probes: probe_votes_once_per_term_3A, \
         probe_saves_its_vote_before_answering_3C, probe_leads_with_a_majority_only_3A)",
    ),
    (
        "expected one leader, got none",
        "no leader within about 5 s: followers must time out and campaign with randomized \
         timeouts, grant votes to up-to-date candidates of a newer term, and a leader must \
         send heartbeats often enough (probes: probe_campaigns_in_a_new_term_3A, \
         probe_grants_a_vote_in_a_new_term_3A, probe_heartbeat_rate_3A)",
    ),
    (
        "claims to be leader",
        "a server without a majority became leader: count only votes of the current term, \
         and a majority of all servers (probe_leads_with_a_majority_only_3A)",
    ),
    (
        "servers disagree on term",
        "connected servers converge on the leader's term only if a higher term in any request \
         or reply makes a server adopt it and follow (probes: \
         probe_higher_term_in_a_request_makes_a_follower_3A, \
         probe_higher_term_in_a_reply_makes_a_follower_3A)",
    ),
    (
        "do not match",
        "two servers applied different commands at one index: check the election restriction \
         (§5.4.1), that a leader commits only entries of its own term by counting, that a \
         follower truncates at a conflict and commits min(leaderCommit, last new entry) \
         (probes: probe_votes_only_for_an_up_to_date_log_3B, \
         probe_leader_commits_only_its_own_terms_entries_3B, \
         probe_follower_commits_only_what_it_verified_3B)",
    ),
    (
        "apply out of order",
        "apply each committed index exactly once, in order, from the snapshot the service \
         holds: one place keeps lastApplied and sends the ApplyMsgs",
    ),
    (
        "failed to reach agreement",
        "the command was not committed on enough servers in time: a leader must send new \
         entries to every follower, back nextIndex up past a mismatch, and commit what a \
         majority holds; after partitions, check the election restriction and that a stale \
         leader steps down on a higher term (probes: probe_leader_sends_new_entries_3B, \
         probe_leader_backs_up_3B, probe_leader_commits_with_a_majority_3B)",
    ),
    (
        "decided for index",
        "too few servers applied the entry: a follower that was cut off or restarted must be \
         caught up (nextIndex backed up; in 3D a snapshot sent), and followers learn the \
         commit index from AppendEntries (probes: probe_leader_backs_up_3B, \
         probe_leader_sends_its_snapshot_3D)",
    ),
    (
        "committed but no majority",
        "an entry was committed without a majority: a leader commits index N only when a \
         majority of matchIndex is at least N (probe_leader_commits_with_a_majority_3B)",
    ),
    (
        "history is not linearizable",
        "a client saw a result no single order of the operations explains: a get answered \
         from a stale state, a put applied at a version other than the key's, a retried put \
         applied twice, an acknowledged put lost, or a leader's snapshot not installed in the \
         state machine; the visualization shows where",
    ),
    (
        "Wrong number of puts",
        "the key's version is not the number of puts that returned OK: a retried put applied \
         twice (duplicate detection by clerk id and sequence number must hold across leader \
         changes, restarts and snapshots), a put lost, or a get answered from a stale state \
         (a get goes through the log, or a confirmed read index)",
    ),
    (
        "Expected ",
        "a submitter got another operation's result, or an operation was applied twice or \
         skipped: the applier hands each result only to the server and submit that started \
         it, and applies every committed entry once, in order",
    ),
    (
        "logs were not trimmed",
        "the service snapshots when Raft's state nears maxraftstate, and Raft drops the log \
         up to the snapshot",
    ),
    (
        "too many or few RPCs",
        "an election took an unusual number of RPCs: one RequestVote per peer per \
         campaign, at most ten heartbeats a second per follower, and AppendEntries that \
         followers accept (prevLogIndex and prevLogTerm of the entry before the new ones), \
         so that nothing is resent over and over (probes: probe_heartbeat_rate_3A, \
         probe_leader_sends_new_entries_3B)",
    ),
    (
        "too many RPCs",
        "more RPCs than the work needs: at most ten heartbeats a second per follower, new \
         entries batched into one AppendEntries per follower, no retry loop without a pause \
         (probe_heartbeat_rate_3A)",
    ),
    (
        "checkCounter",
        "the servers' counters are not the operations committed: each committed operation is \
         applied once on every server, and a snapshot covers exactly the operations applied \
         to the state it holds, so that a restart continues at its index + 1",
    ),
    (
        "test took longer than",
        "a test that hangs is usually a deadlock (a lock held across an RPC or a channel \
         send) or a wait for something that can no longer happen",
    ),
    (
        "has not returned after",
        "a call into your code blocked: do not hold a lock across an RPC, or while sending \
         on a channel whose receiver needs that lock",
    ),
    (
        "killed incarnation sent",
        "kill() must stop every thread of the peer: tickers, appliers and RPC senders",
    ),
];

/// What the failure `message` usually means, if it is a known symptom.
pub fn for_failure(message: &str) -> Option<&'static str> {
    HINTS
        .iter()
        .find(|(symptom, _)| message.contains(symptom))
        .map(|(_, hint)| *hint)
}

/// `message` followed by its hint on a line of its own, if it has one.
pub fn with_hint(message: &str) -> String {
    match for_failure(message) {
        Some(hint) if !message.contains("\nhint: ") => format!("{message}\nhint: {hint}"),
        _ => message.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn go_messages_get_their_hint_on_a_line_of_their_own() {
        let m = with_hint("one(42) failed to reach agreement");
        let lines: Vec<&str> = m.lines().collect();
        assert_eq!(lines[0], "one(42) failed to reach agreement");
        assert!(lines[1].starts_with("hint: the command was not committed"));
        assert_eq!(with_hint(&m), m, "a hint is added once");
        assert_eq!(with_hint("something new"), "something new");
    }

    #[test]
    fn every_probe_a_hint_names_exists_in_the_suites() {
        let suites: String = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests"))
            .unwrap()
            .map(|e| std::fs::read_to_string(e.unwrap().path()).unwrap())
            .collect();
        for (_, hint) in HINTS {
            for probe in hint.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if probe.starts_with("probe_") {
                    assert!(
                        suites.contains(&format!("fn {probe}(")),
                        "a hint names {probe}, which no suite has"
                    );
                }
            }
        }
    }
}
