//! Each rule of Figure 2 and §7, checked on nodes driven by hand: no threads, no network,
//! time passed in explicitly.

use labrt::time::{Duration, Instant};

use super::*;

fn entry(term: u64, command: u8) -> Entry {
    Entry::new(term, vec![command])
}

/// A fresh follower `me` of `peers`, at time `t0`.
fn follower(me: usize, peers: usize, t0: Instant) -> Node {
    Node::new(me, peers, Persistent::default(), Vec::new(), t0, 42)
}

/// A node restarted from a given term and log.
fn with_log(me: usize, peers: usize, term: u64, terms: &[u64], t0: Instant) -> Node {
    let mut log = Log::new();
    for (i, &t) in terms.iter().enumerate() {
        log.push(entry(t, i as u8 + 1));
    }
    let saved = Persistent {
        term,
        voted_for: None,
        log,
    };
    Node::new(me, peers, saved, Vec::new(), t0, 42)
}

fn later(t0: Instant, ms: u64) -> Instant {
    t0 + Duration::from_millis(ms)
}

/// Makes `node` leader of its term through votes from everyone.
fn elect(node: &mut Node, now: Instant) {
    node.start_election(now, false);
    let term = node.term();
    for p in 0..node.peers {
        if p != node.me {
            node.handle_vote_reply(
                p,
                term,
                &RequestVoteReply {
                    term,
                    vote_granted: true,
                },
                now,
            );
        }
    }
    assert!(node.is_leader());
    node.take_outbox();
}

/// Feeds the leader `node` a successful AppendEntries reply from `from`, in its current
/// term, to a request sent at `now` that carried `entries` entries after `prev_log_index`.
fn ack(node: &mut Node, from: usize, prev_log_index: u64, entries: u64, now: Instant) {
    ack_sent_at(node, from, (prev_log_index, entries), now, now);
}

/// [`ack`] of a request sent at `sent_at` (part 4D: it confirms the leadership as of then).
fn ack_sent_at(
    node: &mut Node,
    from: usize,
    (prev_log_index, entries): (u64, u64),
    sent_at: Instant,
    now: Instant,
) {
    let term = node.term();
    let sent = AppendSent {
        term,
        prev_log_index,
        entries,
        sent_at,
    };
    let reply = AppendEntriesReply {
        term,
        success: true,
        ..Default::default()
    };
    node.handle_append_reply(from, &sent, &reply, now);
}

fn appends(out: &Outbox) -> Vec<(usize, &AppendEntriesArgs)> {
    out.sends
        .iter()
        .filter_map(|(p, r)| match r {
            Request::Append(a) => Some((*p, a)),
            _ => None,
        })
        .collect()
}

fn append_args(
    term: u64,
    prev: (u64, u64),
    entries: Vec<Entry>,
    leader_commit: u64,
) -> AppendEntriesArgs {
    AppendEntriesArgs {
        term,
        leader: 0,
        prev_log_index: prev.0,
        prev_log_term: prev.1,
        entries,
        leader_commit,
    }
}

// ----- elections (3A) --------------------------------------------------------------------

#[test]
fn a_follower_waits_out_its_election_timeout_then_stands() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    let deadline = n.next_deadline();
    let timeout = deadline - t0;
    assert!(
        (300..600).contains(&(timeout.as_millis() as u64)),
        "{timeout:?}"
    );
    n.tick(deadline - Duration::from_millis(1));
    assert_eq!(n.term(), 0);
    n.tick(deadline);
    assert_eq!((n.term(), n.voted_for()), (1, Some(0)));
    let out = n.take_outbox();
    assert!(
        out.persist,
        "term and vote must be saved before the requests go out"
    );
    let asked: Vec<usize> = out.sends.iter().map(|(p, _)| *p).collect();
    assert_eq!(asked, [1, 2]);
    assert!(
        out.sends
            .iter()
            .all(|(_, r)| matches!(r, Request::Vote(a) if a.term == 1 && a.candidate == 0))
    );
}

#[test]
fn a_majority_of_votes_makes_a_leader_that_sends_heartbeats_at_once() {
    let t0 = Instant::now();
    let mut n = follower(0, 5, t0);
    n.start_election(t0, false);
    n.take_outbox();
    let yes = RequestVoteReply {
        term: 1,
        vote_granted: true,
    };
    n.handle_vote_reply(1, 1, &yes, t0);
    assert!(!n.is_leader(), "2 of 5 is not a majority");
    n.handle_vote_reply(1, 1, &yes, t0); // the same voter twice counts once
    assert!(!n.is_leader());
    n.handle_vote_reply(2, 1, &yes, t0);
    assert!(n.is_leader());
    let out = n.take_outbox();
    assert_eq!(appends(&out).len(), 4);
    assert_eq!(n.next_deadline(), t0 + HEARTBEAT_INTERVAL);
}

#[test]
fn votes_from_an_earlier_election_are_not_counted() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    n.start_election(t0, false);
    n.start_election(later(t0, 600), false); // term 2
    n.handle_vote_reply(
        1,
        1,
        &RequestVoteReply {
            term: 1,
            vote_granted: true,
        },
        t0,
    );
    assert!(!n.is_leader());
}

#[test]
fn a_single_peer_elects_itself_and_commits_alone() {
    let t0 = Instant::now();
    let mut n = follower(0, 1, t0);
    n.tick(later(t0, 600));
    assert!(n.is_leader());
    assert_eq!(n.start(vec![7], t0), Some((1, 1)));
    assert_eq!(n.commit_index(), 1);
    assert_eq!(
        n.take_outbox().applies,
        [ApplyMsg::Command {
            index: 1,
            command: vec![7]
        }]
    );
}

#[test]
fn one_vote_per_term_and_the_timer_restarts_only_when_granting() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    let ask = |candidate, term| RequestVoteArgs {
        term,
        candidate,
        last_log_index: 0,
        last_log_term: 0,
        transfer: false,
    };
    // (A server votes only a minimum election timeout after it started.)
    let now = later(t0, 400);
    assert!(n.handle_request_vote(&ask(1, 1), now).vote_granted);
    assert!(
        n.take_outbox().persist,
        "the vote must be saved before the reply"
    );
    assert!(
        n.next_deadline() >= later(now, 300),
        "granting restarts the timer"
    );
    assert!(
        n.handle_request_vote(&ask(1, 1), now).vote_granted,
        "a repeated request gets the same answer"
    );
    let after_grant = n.next_deadline();
    assert!(
        !n.handle_request_vote(&ask(2, 1), later(t0, 500))
            .vote_granted,
        "second candidate, same term"
    );
    assert_eq!(
        n.next_deadline(),
        after_grant,
        "refusing must not restart the timer"
    );
    assert!(
        n.handle_request_vote(&ask(2, 2), now).vote_granted,
        "a new term frees the vote"
    );
}

#[test]
fn votes_go_only_to_candidates_whose_log_is_at_least_as_up_to_date() {
    let t0 = Instant::now();
    // Log terms 1 1 2: last entry (3, 2).
    let mut n = with_log(0, 3, 2, &[1, 1, 2], t0);
    // A server votes only a minimum election timeout after it started.
    let t0 = t0 + MIN_ELECTION_TIMEOUT;
    let ask = |term, last_log_index, last_log_term| RequestVoteArgs {
        term,
        candidate: 1,
        last_log_index,
        last_log_term,
        transfer: false,
    };
    assert!(
        !n.handle_request_vote(&ask(3, 5, 1), t0).vote_granted,
        "older last term, longer log"
    );
    assert!(
        !n.handle_request_vote(&ask(4, 2, 2), t0).vote_granted,
        "same last term, shorter log"
    );
    assert_eq!(
        n.term(),
        4,
        "a refused candidate's higher term is still adopted"
    );
    assert!(
        n.handle_request_vote(&ask(5, 3, 2), t0).vote_granted,
        "same last entry"
    );
    assert!(
        n.candidate_log_is_up_to_date(1, 3),
        "later last term wins whatever the length"
    );
}

#[test]
fn a_higher_term_in_any_message_demotes_a_leader() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    elect(&mut n, t0);
    n.handle_append_reply(
        1,
        &AppendSent {
            term: 1,
            prev_log_index: 0,
            entries: 0,
            sent_at: Instant::now(),
        },
        &AppendEntriesReply {
            term: 5,
            ..Default::default()
        },
        t0,
    );
    assert!(!n.is_leader());
    assert_eq!((n.term(), n.voted_for()), (5, None));
    assert!(n.take_outbox().persist);
    assert!(
        n.next_deadline() > t0,
        "a deposed leader must not stand again at once"
    );
}

#[test]
fn append_entries_from_a_current_leader_makes_a_candidate_step_down() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    n.start_election(t0, false);
    let reply = n.handle_append_entries(&append_args(1, (0, 0), vec![], 0), t0);
    assert!(reply.success);
    assert!(!n.is_leader());
    // And the candidate no longer counts votes for itself.
    n.handle_vote_reply(
        1,
        1,
        &RequestVoteReply {
            term: 1,
            vote_granted: true,
        },
        t0,
    );
    assert!(!n.is_leader());
}

// ----- AppendEntries receiver (3B) -------------------------------------------------------

#[test]
fn rule_1_requests_from_an_old_term_fail_without_touching_state() {
    let t0 = Instant::now();
    let mut n = with_log(0, 3, 3, &[1, 2], t0);
    let deadline = n.next_deadline();
    let reply =
        n.handle_append_entries(&append_args(2, (2, 2), vec![entry(2, 9)], 2), later(t0, 50));
    assert_eq!((reply.term, reply.success), (3, false));
    assert_eq!(n.log().last_index(), 2);
    assert_eq!(
        n.next_deadline(),
        deadline,
        "a stale leader must not restart the timer"
    );
}

#[test]
fn rule_2_a_short_log_reports_its_length() {
    let t0 = Instant::now();
    let mut n = with_log(0, 3, 1, &[1, 1], t0);
    let reply = n.handle_append_entries(&append_args(1, (5, 1), vec![], 0), t0);
    assert!(!reply.success);
    assert_eq!((reply.conflict_term, reply.conflict_index), (None, 3));
}

#[test]
fn rule_2_a_term_mismatch_reports_the_term_and_where_it_starts() {
    let t0 = Instant::now();
    let mut n = with_log(0, 3, 4, &[1, 2, 2, 2], t0);
    let reply = n.handle_append_entries(&append_args(4, (4, 3), vec![], 0), t0);
    assert!(!reply.success);
    assert_eq!((reply.conflict_term, reply.conflict_index), (Some(2), 2));
}

#[test]
fn rules_3_and_4_truncate_only_at_a_real_conflict() {
    let t0 = Instant::now();
    let mut n = with_log(0, 3, 3, &[1, 1, 1, 1], t0);
    // Entries 2..3 agree, 4 conflicts: 4 is replaced, nothing else changes.
    let reply = n.handle_append_entries(
        &append_args(3, (1, 1), vec![entry(1, 2), entry(1, 3), entry(3, 40)], 0),
        t0,
    );
    assert!(reply.success);
    let terms: Vec<u64> = n.log().entries().iter().map(|e| e.term).collect();
    assert_eq!(terms, [1, 1, 1, 3]);
    assert!(n.take_outbox().persist);

    // A late, shorter copy of an older request must not cut the tail off.
    let reply = n.handle_append_entries(&append_args(3, (1, 1), vec![entry(1, 2)], 0), t0);
    assert!(reply.success);
    assert_eq!(n.log().last_index(), 4);
    assert!(!n.take_outbox().persist, "nothing changed, nothing to save");
}

#[test]
fn rule_5_commit_follows_the_leader_but_not_past_the_new_entries() {
    let t0 = Instant::now();
    let mut n = with_log(0, 3, 1, &[1, 1, 1, 1, 1], t0);
    // Only entries up to 2 are known to match the leader's log.
    n.handle_append_entries(&append_args(1, (1, 1), vec![entry(1, 2)], 4), t0);
    assert_eq!(n.commit_index(), 2);
    let applied: Vec<u64> = n
        .take_outbox()
        .applies
        .iter()
        .map(|m| match m {
            ApplyMsg::Command { index, .. } => *index,
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(applied, [1, 2]);
    // Commit never goes backwards.
    n.handle_append_entries(&append_args(1, (0, 0), vec![], 1), t0);
    assert_eq!(n.commit_index(), 2);
}

// ----- leaders (3B) ----------------------------------------------------------------------

#[test]
fn start_appends_and_sends_only_to_idle_followers() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    assert_eq!(n.start(vec![1], t0), None, "a follower refuses commands");
    elect(&mut n, t0);
    // The election's heartbeats are still in flight, so nothing goes out yet...
    assert_eq!(n.start(vec![1], t0), Some((1, 1)));
    let out = n.take_outbox();
    assert!(out.persist);
    assert!(appends(&out).is_empty());
    // ...until a heartbeat reply arrives, which brings the follower up to date at once.
    ack(&mut n, 1, 0, 0, t0);
    let out = n.take_outbox();
    let sent = appends(&out);
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].0, sent[0].1.entries.len()), (1, 1));
}

#[test]
fn a_majority_commits_entries_of_the_current_term() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    elect(&mut n, t0);
    n.start(vec![1], t0);
    n.start(vec![2], t0);
    ack(&mut n, 1, 0, 2, t0);
    assert_eq!(n.commit_index(), 2);
    assert_eq!(n.take_outbox().applies.len(), 2);
}

/// Figure 8: a leader must not commit an entry from an earlier term by counting replicas.
#[test]
fn entries_of_earlier_terms_commit_only_behind_one_of_the_current_term() {
    let t0 = Instant::now();
    // Leader of term 4 whose log holds an entry of term 2 that it never committed.
    let mut n = with_log(0, 5, 3, &[1, 2], t0);
    elect(&mut n, t0);
    assert_eq!(n.term(), 4);
    for p in 1..=3 {
        ack(&mut n, p, 0, 2, t0);
    }
    assert_eq!(
        n.commit_index(),
        0,
        "index 2 (term 2) is on a majority but must not commit"
    );
    n.start(vec![3], t0);
    for p in 1..=2 {
        ack(&mut n, p, 2, 1, t0);
    }
    assert_eq!(
        n.commit_index(),
        3,
        "a current-term entry on a majority commits everything before it"
    );
}

#[test]
fn match_index_comes_from_the_request_not_the_current_log() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    elect(&mut n, t0);
    n.start(vec![1], t0);
    n.start(vec![2], t0);
    // The reply is for a request that carried only entry 1.
    ack(&mut n, 1, 0, 1, t0);
    assert_eq!(n.commit_index(), 1);
    // A stale success for an earlier, shorter request must not lower anything.
    ack(&mut n, 1, 0, 0, t0);
    assert_eq!(n.commit_index(), 1);
}

#[test]
fn fast_backup_skips_a_whole_term() {
    let t0 = Instant::now();
    // Leader log terms: 1 1 4 4 4 5; it becomes leader of term 6.
    let mut n = with_log(0, 3, 5, &[1, 1, 4, 4, 4, 5], t0);
    elect(&mut n, t0);
    let sent = AppendSent {
        term: 6,
        prev_log_index: 6,
        entries: 0,
        sent_at: Instant::now(),
    };
    let next_sent = |n: &mut Node| {
        let out = n.take_outbox();
        let a = appends(&out);
        (a[0].1.prev_log_index + 1, a[0].1.entries.len())
    };
    // Follower has term 4 at the checked index, first at 3; the leader has 4s up to 5.
    n.handle_append_reply(
        1,
        &sent,
        &AppendEntriesReply {
            term: 6,
            success: false,
            conflict_term: Some(4),
            conflict_index: 3,
        },
        t0,
    );
    assert_eq!(next_sent(&mut n), (6, 1));
    // Follower has term 3 there, which the leader never had: jump to its first index.
    n.handle_append_reply(
        1,
        &sent,
        &AppendEntriesReply {
            term: 6,
            success: false,
            conflict_term: Some(3),
            conflict_index: 2,
        },
        t0,
    );
    assert_eq!(next_sent(&mut n), (2, 5));
    // Follower's log is too short.
    n.handle_append_reply(
        2,
        &sent,
        &AppendEntriesReply {
            term: 6,
            success: false,
            conflict_term: None,
            conflict_index: 2,
        },
        t0,
    );
    assert_eq!(next_sent(&mut n), (2, 5));
}

#[test]
fn heartbeats_go_out_every_interval_and_no_faster() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    elect(&mut n, t0);
    n.tick(later(t0, 99));
    assert!(n.take_outbox().sends.is_empty());
    n.tick(later(t0, 100));
    assert_eq!(appends(&n.take_outbox()).len(), 2);
    assert_eq!(n.next_deadline(), later(t0, 200));
}

// ----- snapshots (3D) --------------------------------------------------------------------

#[test]
fn a_service_snapshot_cuts_the_log_and_is_saved() {
    let t0 = Instant::now();
    let mut n = with_log(0, 1, 1, &[1, 1, 1], t0);
    elect(&mut n, t0);
    n.start(vec![4], t0); // commits 1..4 (one-peer cluster)
    n.take_outbox();
    n.snapshot(3, b"state@3".to_vec());
    assert_eq!((n.log().start_index(), n.log().last_index()), (3, 4));
    assert_eq!(n.snapshot_bytes(), b"state@3");
    assert!(n.take_outbox().persist);
    n.snapshot(2, b"older".to_vec()); // behind the cut: ignored
    assert_eq!(n.snapshot_bytes(), b"state@3");
    n.snapshot(9, b"future".to_vec()); // not applied yet: ignored
    assert_eq!(n.log().start_index(), 3);
}

#[test]
fn a_leader_sends_its_snapshot_to_a_follower_that_needs_cut_entries() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    elect(&mut n, t0);
    for c in 1..=4 {
        n.start(vec![c], t0);
    }
    ack(&mut n, 1, 0, 4, t0);
    n.take_outbox();
    n.snapshot(3, b"s3".to_vec());
    n.take_outbox();
    // Follower 2 is missing everything.
    n.handle_append_reply(
        2,
        &AppendSent {
            term: 1,
            prev_log_index: 0,
            entries: 0,
            sent_at: Instant::now(),
        },
        &AppendEntriesReply {
            term: 1,
            success: false,
            conflict_term: None,
            conflict_index: 1,
        },
        t0,
    );
    let out = n.take_outbox();
    let Some((2, Request::Snapshot(args))) = out.sends.first() else {
        panic!("{:?}", out.sends)
    };
    assert_eq!(
        (
            args.last_included_index,
            args.last_included_term,
            &args.snapshot[..]
        ),
        (3, 1, &b"s3"[..])
    );
    // Once installed, replication continues from 4.
    n.handle_snapshot_reply(
        2,
        &SnapshotSent::of(args, Instant::now()),
        &InstallSnapshotReply { term: 1 },
        t0,
    );
    let out = n.take_outbox();
    let a = appends(&out);
    assert_eq!(
        (a[0].0, a[0].1.prev_log_index, a[0].1.entries.len()),
        (2, 3, 1)
    );
}

#[test]
fn installing_a_snapshot_keeps_a_matching_suffix_and_applies_the_snapshot() {
    let t0 = Instant::now();
    let mut n = with_log(1, 3, 2, &[1, 1, 2, 2], t0);
    let args = InstallSnapshotArgs {
        term: 2,
        leader: 0,
        last_included_index: 3,
        last_included_term: 2,
        config: None,
        snapshot: b"s3".to_vec(),
    };
    n.handle_install_snapshot(&args, t0);
    assert_eq!(
        (n.log().start_index(), n.log().last_index()),
        (3, 4),
        "entry 4 matches and stays"
    );
    assert_eq!((n.commit_index(), n.last_applied()), (3, 3));
    let out = n.take_outbox();
    assert!(out.persist);
    assert_eq!(
        out.applies,
        [ApplyMsg::Snapshot {
            index: 3,
            term: 2,
            snapshot: b"s3".to_vec()
        }]
    );

    // A snapshot that disagrees with the log replaces all of it.
    let mut m = with_log(1, 3, 2, &[1, 1, 1, 1, 1], t0);
    m.handle_install_snapshot(
        &InstallSnapshotArgs {
            last_included_term: 2,
            ..args.clone()
        },
        t0,
    );
    assert_eq!((m.log().start_index(), m.log().last_index()), (3, 3));

    // An old snapshot (already committed here) changes nothing.
    let stale = InstallSnapshotArgs {
        last_included_index: 2,
        last_included_term: 1,
        ..args
    };
    n.handle_install_snapshot(&stale, t0);
    assert!(n.take_outbox().applies.is_empty());
    assert_eq!(n.log().start_index(), 3);
}

#[test]
fn append_entries_behind_the_snapshot_are_skipped_not_refused() {
    let t0 = Instant::now();
    let mut n = with_log(1, 3, 2, &[1, 1, 2], t0);
    n.handle_install_snapshot(
        &InstallSnapshotArgs {
            term: 2,
            leader: 0,
            last_included_index: 3,
            last_included_term: 2,
            config: None,
            snapshot: vec![],
        },
        t0,
    );
    // A delayed request starting at index 1 carrying entries 2..5.
    let reply = n.handle_append_entries(
        &append_args(
            2,
            (1, 1),
            vec![entry(1, 2), entry(2, 3), entry(2, 4), entry(2, 5)],
            3,
        ),
        t0,
    );
    assert!(reply.success);
    assert_eq!(n.log().last_index(), 5);
    // One entirely inside the snapshot succeeds without changes.
    let reply = n.handle_append_entries(&append_args(2, (0, 0), vec![entry(1, 1)], 3), t0);
    assert!(reply.success);
    assert_eq!(n.log().last_index(), 5);
}

#[test]
fn a_restarted_peer_counts_its_snapshot_as_applied() {
    let t0 = Instant::now();
    let mut log = Log::new();
    for t in [1, 1, 1, 2] {
        log.push(entry(t, 0));
    }
    log.compact_to(2, 1);
    let n = Node::new(
        0,
        3,
        Persistent {
            term: 2,
            voted_for: Some(1),
            log,
        },
        b"s2".to_vec(),
        t0,
        1,
    );
    assert_eq!(
        (n.commit_index(), n.last_applied(), n.term(), n.voted_for()),
        (2, 2, 2, Some(1))
    );
    assert_eq!(
        persist::decode(&n.raft_state()).unwrap().log.start_index(),
        2
    );
}

#[test]
fn a_peer_with_a_request_outstanding_gets_probes_without_entries() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    elect(&mut n, t0);
    for c in 0..20 {
        n.start(vec![c], t0);
    }
    n.take_outbox();
    // The election's heartbeats are unanswered: the next heartbeat only probes.
    n.tick(later(t0, 100));
    let out = n.take_outbox();
    let sent = appends(&out);
    assert_eq!(sent.len(), 2);
    assert!(
        sent.iter()
            .all(|(_, a)| a.entries.is_empty() && a.prev_log_index == 0)
    );
    // A reply (even to a probe) releases the whole batch at once.
    ack(&mut n, 1, 0, 0, later(t0, 101));
    let out = n.take_outbox();
    let sent = appends(&out);
    assert_eq!((sent.len(), sent[0].0, sent[0].1.entries.len()), (1, 1, 20));
}

#[test]
fn one_lost_request_is_resent_whole_but_repeated_failures_mean_probing() {
    let t0 = Instant::now();
    let mut n = follower(0, 2, t0);
    elect(&mut n, t0);
    n.start(vec![1], t0);
    n.request_failed(1); // the election heartbeat was lost
    n.tick(later(t0, 100));
    let out = n.take_outbox();
    assert_eq!(
        appends(&out)[0].1.entries.len(),
        1,
        "after one loss, resend the entries"
    );
    n.request_failed(1);
    n.tick(later(t0, 200));
    let out = n.take_outbox();
    assert!(
        appends(&out)[0].1.entries.is_empty(),
        "after two in a row, only probe"
    );
    // And start() does not chase a peer in that state.
    n.start(vec![2], later(t0, 201));
    n.tick(later(t0, 210));
    assert!(n.take_outbox().sends.is_empty());
}

#[test]
fn an_unreachable_peer_is_probed_less_often() {
    let t0 = Instant::now();
    let mut n = follower(0, 2, t0);
    elect(&mut n, t0);
    let mut now = t0;
    for _ in 0..UNREACHABLE_AFTER_FAILURES {
        n.request_failed(1);
        now = n.next_deadline();
        n.tick(now);
        n.take_outbox();
    }
    assert_eq!(n.next_deadline(), now + UNREACHABLE_PROBE_INTERVAL);
    // One reply and it is back to normal.
    ack(&mut n, 1, 0, 0, now);
    let next = n.next_deadline();
    n.tick(next);
    n.take_outbox();
    assert_eq!(n.next_deadline(), next + HEARTBEAT_INTERVAL);
}

#[test]
fn a_burst_of_starts_travels_in_one_request_per_follower() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    elect(&mut n, t0);
    for p in 1..3 {
        ack(&mut n, p, 0, 0, t0);
    }
    for c in 0..14 {
        n.start(vec![c], later(t0, 1));
    }
    assert!(
        n.take_outbox().sends.is_empty(),
        "nothing before the replication delay"
    );
    assert_eq!(n.next_deadline(), later(t0, 1) + REPLICATION_DELAY);
    n.tick(n.next_deadline());
    let out = n.take_outbox();
    let sent = appends(&out);
    assert_eq!(sent.len(), 2);
    assert!(sent.iter().all(|(_, a)| a.entries.len() == 14));
}

#[test]
fn followers_hear_a_new_commit_index_soon_and_recently_contacted_ones_skip_heartbeats() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    elect(&mut n, t0);
    n.start(vec![1], t0);
    ack(&mut n, 1, 0, 0, t0);
    ack(&mut n, 2, 0, 0, t0);
    n.take_outbox();
    n.tick(later(t0, 2)); // sends entry 1 to both
    n.take_outbox();
    let t1 = later(t0, 3);
    ack(&mut n, 1, 0, 1, t1);
    assert_eq!(n.commit_index(), 1);
    assert_eq!(
        n.next_deadline(),
        t1 + COMMIT_NOTICE_DELAY,
        "the commit notice is due soon"
    );
    let notice = n.next_deadline();
    n.tick(notice);
    let out = n.take_outbox();
    let sent = appends(&out);
    assert_eq!(sent.len(), 2, "both followers hear of the commit");
    assert!(
        sent.iter()
            .all(|(_, a)| a.leader_commit == 1 && a.entries.is_empty())
    );
    // That request replaced their heartbeats: the next contact is a heartbeat after it,
    // not after the one before.
    assert_eq!(n.next_deadline(), notice + HEARTBEAT_INTERVAL);
}

#[test]
fn a_probe_to_a_peer_behind_the_snapshot_checks_at_the_cut() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    elect(&mut n, t0);
    for c in 1..=4 {
        n.start(vec![c], t0);
    }
    ack(&mut n, 1, 0, 4, t0);
    n.snapshot(3, b"s3".to_vec());
    n.take_outbox();
    // Peer 2 still has the election heartbeat outstanding and needs entry 1.
    n.tick(later(t0, 100));
    let out = n.take_outbox();
    let probe = appends(&out)
        .into_iter()
        .find(|(p, _)| *p == 2)
        .expect("a probe to 2")
        .1
        .clone();
    assert_eq!(
        (
            probe.prev_log_index,
            probe.prev_log_term,
            probe.entries.len()
        ),
        (3, 1, 0)
    );
}

// ----- part 3E: membership ---------------------------------------------------------------

fn set(ids: &[usize]) -> BTreeSet<usize> {
    ids.iter().copied().collect()
}

/// A configuration: `voters`, the old voters of a joint change if any, and `learners`.
fn cfg(voters: &[usize], outgoing: Option<&[usize]>, learners: &[usize]) -> Config {
    Config {
        voters: set(voters),
        outgoing: outgoing.map(set),
        learners: set(learners),
    }
}

/// A node restarted from a given term and a log of these entries.
fn with_entries(me: usize, peers: usize, term: u64, entries: Vec<Entry>, t0: Instant) -> Node {
    let mut log = Log::new();
    for e in entries {
        log.push(e);
    }
    let saved = Persistent {
        term,
        voted_for: None,
        log,
    };
    Node::new(me, peers, saved, Vec::new(), t0, 42)
}

/// Leader 0 of term 1 among `peers` servers of which `voters` form the cluster, that has
/// committed a command of its term at index 1 (acked by every voter), so it may change
/// the configuration.
fn settled_leader(peers: usize, voters: &[usize], t0: Instant) -> Node {
    let mut n = follower(0, peers, t0).with_initial_voters(voters.iter().copied());
    elect(&mut n, t0);
    assert_eq!(n.start(vec![0], t0), Some((1, 1)));
    for &p in voters.iter().filter(|&&p| p != 0) {
        ack(&mut n, p, 0, 1, t0);
    }
    assert_eq!(n.commit_index(), 1);
    n.take_outbox();
    n
}

fn votes_asked(out: &Outbox) -> Vec<(usize, &RequestVoteArgs)> {
    out.sends
        .iter()
        .filter_map(|(p, r)| match r {
            Request::Vote(a) => Some((*p, a)),
            _ => None,
        })
        .collect()
}

fn timeout_nows(out: &Outbox) -> Vec<(usize, &TimeoutNowArgs)> {
    out.sends
        .iter()
        .filter_map(|(p, r)| match r {
            Request::TimeoutNow(a) => Some((*p, a)),
            _ => None,
        })
        .collect()
}

fn vote_request(term: u64, candidate: usize, transfer: bool) -> RequestVoteArgs {
    RequestVoteArgs {
        term,
        candidate,
        last_log_index: 100,
        last_log_term: 100,
        transfer,
    }
}

// refresh_config

#[test]
fn the_bootstrap_configuration_counts_while_the_log_has_none() {
    let t0 = Instant::now();
    assert_eq!(*follower(0, 3, t0).config(), Config::of_voters([0, 1, 2]));
    let small = follower(0, 5, t0).with_initial_voters([0, 1, 2]);
    assert_eq!(*small.config(), Config::of_voters([0, 1, 2]));
    let outside = follower(4, 5, t0).with_initial_voters(Vec::new());
    assert_eq!(*outside.config(), Config::default());
    // A configuration in the log wins over the bootstrap one, on every restart.
    let logged = cfg(&[0, 1], None, &[2]);
    let n = with_entries(0, 5, 1, vec![Entry::config(1, logged.clone())], t0)
        .with_initial_voters([0, 1, 2]);
    assert_eq!(*n.config(), logged);
}

#[test]
fn a_leaders_configuration_takes_effect_when_appended_not_when_committed() {
    let t0 = Instant::now();
    let mut n = settled_leader(4, &[0, 1, 2], t0);
    assert_eq!(n.add_learner(3, t0), Ok((2, 1)));
    assert_eq!(*n.config(), cfg(&[0, 1, 2], None, &[3]));
    assert_eq!(n.commit_index(), 1, "in effect before it commits");
    // The learner is a member now: it gets the log.
    n.tick(later(t0, 100));
    let out = n.take_outbox();
    assert!(
        appends(&out).iter().any(|(p, _)| *p == 3),
        "{:?}",
        out.sends
    );

    ack(&mut n, 1, 1, 1, t0);
    ack(&mut n, 3, 0, 2, t0);
    assert_eq!(n.commit_index(), 2);
    assert_eq!(n.change_voters(&set(&[0, 1, 2, 3]), t0), Ok((3, 1)));
    assert_eq!(*n.config(), Config::of_voters([0, 1, 2, 3]));
    assert_eq!(n.commit_index(), 2, "in effect before it commits");
    // Four voters: two acks besides the leader's own are needed, not one.
    ack(&mut n, 1, 2, 1, t0);
    assert_eq!(n.commit_index(), 2, "2 of 4 voters is no majority");
    ack(&mut n, 3, 2, 1, t0);
    assert_eq!(n.commit_index(), 3);
}

#[test]
fn a_followers_configuration_takes_effect_when_appended_and_reverts_when_truncated() {
    let t0 = Instant::now();
    let mut n = follower(1, 5, t0).with_initial_voters([0, 1, 2]);
    let c1 = cfg(&[0, 1, 2], None, &[3]);
    let c2 = cfg(&[0, 1, 2, 3], None, &[]);
    let reply = n.handle_append_entries(
        &append_args(1, (0, 0), vec![Entry::config(1, c1.clone())], 0),
        t0,
    );
    assert!(reply.success);
    assert_eq!(n.commit_index(), 0);
    assert_eq!(*n.config(), c1, "in effect before it commits");
    n.handle_append_entries(
        &append_args(1, (1, 1), vec![Entry::config(1, c2.clone())], 0),
        t0,
    );
    assert_eq!(*n.config(), c2);
    // A new leader's entry replaces index 2: c1 is back.
    let reply = n.handle_append_entries(&append_args(2, (1, 1), vec![entry(2, 9)], 0), t0);
    assert!(reply.success);
    assert_eq!(n.log().last_index(), 2);
    assert_eq!(*n.config(), c1);
    // And one replacing index 1 brings back the bootstrap configuration.
    n.handle_append_entries(&append_args(3, (0, 0), vec![entry(3, 1)], 0), t0);
    assert_eq!(*n.config(), Config::of_voters([0, 1, 2]));
}

#[test]
fn a_snapshot_keeps_the_configuration_of_its_cut_across_a_restart() {
    let t0 = Instant::now();
    let mut n = follower(1, 5, t0).with_initial_voters([0, 1, 2]);
    let c1 = cfg(&[0, 1, 2], None, &[3]);
    n.handle_append_entries(
        &append_args(
            1,
            (0, 0),
            vec![Entry::config(1, c1.clone()), entry(1, 2)],
            2,
        ),
        t0,
    );
    assert_eq!(n.last_applied(), 2);
    n.snapshot(2, b"s2".to_vec());
    assert!(n.log().entries().is_empty());
    assert_eq!(n.log().start_config(), Some(&c1));
    assert_eq!(*n.config(), c1);
    // Restarted from what it saved: the cut's configuration, not the bootstrap one.
    let saved = persist::decode(&n.raft_state()).unwrap();
    let restarted = Node::new(1, 5, saved, b"s2".to_vec(), t0, 7).with_initial_voters([0, 1, 2]);
    assert_eq!(*restarted.config(), c1);
}

#[test]
fn an_installed_snapshot_brings_the_configuration_of_its_cut() {
    let t0 = Instant::now();
    let c = cfg(&[0, 1, 2], None, &[3]);
    let args = InstallSnapshotArgs {
        term: 2,
        leader: 0,
        last_included_index: 5,
        last_included_term: 2,
        config: Some(c.clone()),
        snapshot: b"s5".to_vec(),
    };
    // A server that waits outside the cluster learns it is a learner.
    let mut n = follower(3, 4, t0).with_initial_voters(Vec::new());
    n.handle_install_snapshot(&args, t0);
    assert_eq!(*n.config(), c);

    // A log whose own configuration the snapshot replaces takes the snapshot's.
    let mut m = with_entries(
        1,
        4,
        1,
        vec![Entry::config(1, Config::of_voters([0, 1]))],
        t0,
    )
    .with_initial_voters([0, 1, 2]);
    assert_eq!(*m.config(), Config::of_voters([0, 1]));
    m.handle_install_snapshot(&args, t0);
    assert_eq!(*m.config(), c);

    // With no configuration in the leader's log, the bootstrap one counts.
    let mut k = with_entries(
        1,
        4,
        1,
        vec![Entry::config(1, Config::of_voters([0, 1]))],
        t0,
    )
    .with_initial_voters([0, 1, 2]);
    k.handle_install_snapshot(
        &InstallSnapshotArgs {
            config: None,
            ..args
        },
        t0,
    );
    assert_eq!(*k.config(), Config::of_voters([0, 1, 2]));
}

// tick

#[test]
fn learners_and_servers_outside_the_configuration_never_campaign() {
    let t0 = Instant::now();
    let mut learner = follower(3, 4, t0).with_initial_voters([0, 1, 2]);
    learner.handle_append_entries(
        &append_args(
            1,
            (0, 0),
            vec![Entry::config(1, cfg(&[0, 1, 2], None, &[3]))],
            0,
        ),
        t0,
    );
    assert!(learner.config().is_learner(3));
    let outsider = follower(3, 4, t0).with_initial_voters([0, 1, 2]);
    let waiting = follower(3, 4, t0).with_initial_voters(Vec::new());
    for (name, mut n) in [
        ("learner", learner),
        ("outsider", outsider),
        ("no voters", waiting),
    ] {
        n.take_outbox();
        let term = n.term();
        for i in 1..=20 {
            let now = later(t0, 600 * i);
            n.tick(now);
            assert!(n.next_deadline() > now, "{name}: the timer restarts");
        }
        assert_eq!(n.term(), term, "{name} started an election");
        assert!(!n.is_leader(), "{name}");
        let out = n.take_outbox();
        assert!(votes_asked(&out).is_empty(), "{name}: {:?}", out.sends);
        assert!(!out.persist, "{name}");
    }
    // A voter under the same bootstrap does campaign.
    let mut voter = follower(2, 4, t0).with_initial_voters([0, 1, 2]);
    voter.tick(later(t0, 600));
    assert_eq!(voter.term(), 1);
    let asked: Vec<usize> = votes_asked(&voter.take_outbox())
        .iter()
        .map(|(p, _)| *p)
        .collect();
    assert_eq!(asked, [0, 1], "only voters are asked");
}

// Config::has_quorum / quorum_index through the node

#[test]
fn a_candidate_in_a_joint_configuration_needs_a_majority_of_each_set() {
    let t0 = Instant::now();
    let joint = cfg(&[0, 3, 4], Some(&[0, 1, 2]), &[5]);
    let yes = |term| RequestVoteReply {
        term,
        vote_granted: true,
    };
    let mut n = with_entries(0, 6, 1, vec![Entry::config(1, joint.clone())], t0);
    n.start_election(t0, false);
    let asked: Vec<usize> = votes_asked(&n.take_outbox())
        .iter()
        .map(|(p, _)| *p)
        .collect();
    assert_eq!(asked, [1, 2, 3, 4], "every voter of both sets, no learner");
    n.handle_vote_reply(5, 2, &yes(2), t0); // a learner's vote counts for nothing
    n.handle_vote_reply(1, 2, &yes(2), t0);
    n.handle_vote_reply(2, 2, &yes(2), t0);
    assert!(
        !n.is_leader(),
        "all of the old set (and 3 of 5 voters) but 1 of 3 new ones"
    );
    n.handle_vote_reply(3, 2, &yes(2), t0);
    assert!(n.is_leader());

    let mut m = with_entries(0, 6, 1, vec![Entry::config(1, joint)], t0);
    m.start_election(t0, false);
    m.handle_vote_reply(3, 2, &yes(2), t0);
    m.handle_vote_reply(4, 2, &yes(2), t0);
    assert!(!m.is_leader(), "all of the new set but 1 of 3 old ones");
    m.handle_vote_reply(2, 2, &yes(2), t0);
    assert!(m.is_leader());
}

#[test]
fn a_leader_in_a_joint_configuration_commits_only_with_a_majority_of_each_set() {
    let t0 = Instant::now();
    let joint = cfg(&[0, 3, 4], Some(&[0, 1, 2]), &[]);
    let mut n = with_entries(0, 5, 1, vec![Entry::config(1, joint.clone())], t0);
    elect(&mut n, t0);
    assert_eq!(n.term(), 2);
    assert_eq!(n.start(vec![2], t0), Some((2, 2)));
    ack(&mut n, 1, 0, 2, t0);
    ack(&mut n, 2, 0, 2, t0);
    assert_eq!(
        n.commit_index(),
        0,
        "the old set's majority (3 of 5 voters) is not enough"
    );
    assert_eq!(*n.config(), joint);
    ack(&mut n, 3, 0, 2, t0);
    assert_eq!(n.commit_index(), 2);

    let mut m = with_entries(0, 5, 1, vec![Entry::config(1, joint)], t0);
    elect(&mut m, t0);
    m.start(vec![2], t0);
    ack(&mut m, 3, 0, 2, t0);
    ack(&mut m, 4, 0, 2, t0);
    assert_eq!(m.commit_index(), 0, "the new set's majority is not enough");
    ack(&mut m, 1, 0, 2, t0);
    assert_eq!(m.commit_index(), 2);
}

// check_change_allowed

#[test]
fn only_a_leader_changes_the_configuration_and_one_change_at_a_time() {
    let t0 = Instant::now();
    let mut f = follower(1, 4, t0);
    assert_eq!(f.check_change_allowed(), Err(ChangeError::NotLeader));
    assert_eq!(f.add_learner(3, t0), Err(ChangeError::NotLeader));
    assert_eq!(
        f.change_voters(&set(&[1, 2]), t0),
        Err(ChangeError::NotLeader)
    );

    let mut n = settled_leader(5, &[0, 1, 2], t0);
    assert_eq!(n.check_change_allowed(), Ok(()));
    assert_eq!(n.add_learner(3, t0), Ok((2, 1)));
    let in_flight = ChangeError::ChangeInFlight { index: 2 };
    assert_eq!(n.check_change_allowed(), Err(in_flight.clone()));
    assert_eq!(n.add_learner(4, t0), Err(in_flight.clone()));
    assert_eq!(n.change_voters(&set(&[0, 1]), t0), Err(in_flight.clone()));
    ack(&mut n, 1, 1, 1, t0);
    assert_eq!(n.commit_index(), 2);
    assert_eq!(n.check_change_allowed(), Ok(()));
    assert_eq!(n.add_learner(4, t0), Ok((3, 1)));
}

#[test]
fn a_new_leader_changes_nothing_before_committing_an_entry_of_its_term() {
    let t0 = Instant::now();
    let mut n = follower(0, 4, t0).with_initial_voters([0, 1, 2]);
    // Entries 1 and 2 of term 1 are committed under leader 1...
    n.handle_append_entries(
        &AppendEntriesArgs {
            leader: 1,
            ..append_args(1, (0, 0), vec![entry(1, 1), entry(1, 2)], 2)
        },
        t0,
    );
    assert_eq!(n.commit_index(), 2);
    // ...and 0 becomes leader of term 2: its commit index holds nothing of its term.
    let t1 = later(t0, 1000);
    elect(&mut n, t1);
    assert_eq!(n.term(), 2);
    let refused = ChangeError::NothingCommittedInTerm { term: 2 };
    assert_eq!(n.check_change_allowed(), Err(refused.clone()));
    assert_eq!(n.add_learner(3, t1), Err(refused.clone()));
    assert_eq!(n.start(vec![3], t1), Some((3, 2)));
    assert_eq!(
        n.check_change_allowed(),
        Err(refused.clone()),
        "appended is not committed"
    );
    ack(&mut n, 1, 2, 1, t1);
    assert_eq!(n.commit_index(), 3);
    assert_eq!(n.check_change_allowed(), Ok(()));
    assert_eq!(n.add_learner(3, t1), Ok((4, 2)));
}

// add_learner, change_voters

#[test]
fn add_learner_refuses_unknown_servers_and_members() {
    let t0 = Instant::now();
    let mut n = settled_leader(5, &[0, 1, 2], t0);
    assert_eq!(n.add_learner(5, t0), Err(ChangeError::UnknownServer(5)));
    assert_eq!(n.add_learner(1, t0), Err(ChangeError::Unchanged));
    assert_eq!(n.add_learner(0, t0), Err(ChangeError::Unchanged));
    assert_eq!(n.log().last_index(), 1, "a refusal appends nothing");
    assert_eq!(n.add_learner(3, t0), Ok((2, 1)));
    let out = n.take_outbox();
    assert!(out.persist, "the entry is saved");
    assert_eq!(
        n.log().entry(2),
        Some(&Entry::config(1, cfg(&[0, 1, 2], None, &[3])))
    );
    ack(&mut n, 1, 1, 1, t0);
    assert_eq!(n.add_learner(3, t0), Err(ChangeError::Unchanged));
}

#[test]
fn change_voters_refusals() {
    let t0 = Instant::now();
    let mut n = settled_leader(5, &[0, 1, 2], t0);
    assert_eq!(
        n.change_voters(&set(&[0, 1, 7]), t0),
        Err(ChangeError::UnknownServer(7))
    );
    assert_eq!(n.change_voters(&set(&[]), t0), Err(ChangeError::NoVoters));
    assert_eq!(
        n.change_voters(&set(&[0, 1, 2]), t0),
        Err(ChangeError::Unchanged)
    );
    // Server 3 is no learner: it cannot become a voter.
    assert_eq!(
        n.change_voters(&set(&[0, 1, 2, 3]), t0),
        Err(ChangeError::NotCaughtUp {
            server: 3,
            matched: 0,
            commit: 1
        })
    );
    // Even holding everything committed, a server outside the configuration must be a
    // learner first.
    ack(&mut n, 3, 0, 1, t0);
    assert!(!n.caught_up(3));
    assert_eq!(
        n.change_voters(&set(&[0, 1, 2, 3]), t0),
        Err(ChangeError::NotCaughtUp {
            server: 3,
            matched: 1,
            commit: 1
        })
    );
    assert_eq!(n.log().last_index(), 1, "a refusal appends nothing");
}

#[test]
fn a_learner_becomes_a_voter_only_once_it_holds_everything_committed() {
    let t0 = Instant::now();
    let mut n = settled_leader(4, &[0, 1, 2], t0);
    n.add_learner(3, t0).unwrap();
    ack(&mut n, 1, 1, 1, t0);
    assert_eq!(n.commit_index(), 2);
    let four = set(&[0, 1, 2, 3]);
    let not_caught_up = |matched| {
        Err(ChangeError::NotCaughtUp {
            server: 3,
            matched,
            commit: 2,
        })
    };
    assert!(!n.caught_up(3));
    assert_eq!(n.change_voters(&four, t0), not_caught_up(0));
    ack(&mut n, 3, 0, 1, t0);
    assert_eq!(n.change_voters(&four, t0), not_caught_up(1));
    ack(&mut n, 3, 1, 1, t0);
    assert!(n.caught_up(3));
    // One voter more: a single-server change, and the learner is one no more.
    assert_eq!(n.change_voters(&four, t0), Ok((3, 1)));
    assert_eq!(*n.config(), cfg(&[0, 1, 2, 3], None, &[]));
    assert_eq!(n.log().entry(3).unwrap().config.as_ref(), Some(n.config()));
}

#[test]
fn removing_one_voter_is_a_single_server_change() {
    let t0 = Instant::now();
    let mut n = settled_leader(3, &[0, 1, 2], t0);
    assert_eq!(n.change_voters(&set(&[0, 1]), t0), Ok((2, 1)));
    assert_eq!(*n.config(), Config::of_voters([0, 1]));
    // Server 2 left: the leader no longer replicates to it.
    n.tick(later(t0, 100));
    let out = n.take_outbox();
    let to: Vec<usize> = appends(&out).iter().map(|(p, _)| *p).collect();
    assert_eq!(to, [1]);
}

#[test]
fn replacing_a_voter_goes_through_joint_consensus() {
    let t0 = Instant::now();
    let mut n = settled_leader(4, &[0, 1, 2], t0);
    n.add_learner(3, t0).unwrap();
    ack(&mut n, 1, 1, 1, t0);
    ack(&mut n, 3, 0, 2, t0);
    // Two differences (2 out, 3 in): C_old,new first.
    assert_eq!(n.change_voters(&set(&[0, 1, 3]), t0), Ok((3, 1)));
    let joint = cfg(&[0, 1, 3], Some(&[0, 1, 2]), &[]);
    assert_eq!(*n.config(), joint);
    assert_eq!(n.log().entry(3).unwrap().config.as_ref(), Some(&joint));
    assert_eq!(
        n.check_change_allowed(),
        Err(ChangeError::ChangeInFlight { index: 3 })
    );
    // The old set's majority alone does not commit it.
    ack(&mut n, 2, 1, 2, t0);
    assert_eq!(n.commit_index(), 2);
    assert_eq!(n.log().last_index(), 3);
    // With the new set's too, it commits, and the leader appends C_new itself.
    ack(&mut n, 3, 2, 1, t0);
    assert_eq!(n.commit_index(), 3);
    assert_eq!(n.log().last_index(), 4);
    let new = cfg(&[0, 1, 3], None, &[]);
    assert_eq!(n.log().entry(4), Some(&Entry::config(1, new.clone())));
    assert_eq!(*n.config(), new);
    assert_eq!(
        n.check_change_allowed(),
        Err(ChangeError::ChangeInFlight { index: 4 }),
        "until C_new commits"
    );
    // C_new needs only the new voters: 0 and 3 suffice, 2 is gone.
    ack(&mut n, 2, 3, 1, t0);
    assert_eq!(n.commit_index(), 3);
    ack(&mut n, 3, 3, 1, t0);
    assert_eq!(n.commit_index(), 4);
    assert_eq!(n.check_change_allowed(), Ok(()));
}

#[test]
fn replacing_the_whole_cluster_keeps_the_remaining_learners() {
    let t0 = Instant::now();
    let mut n = settled_leader(6, &[0, 1, 2], t0);
    let mut index = 1;
    for learner in [3, 4, 5] {
        index += 1;
        assert_eq!(n.add_learner(learner, t0), Ok((index, 1)));
        ack(&mut n, 1, index - 1, 1, t0);
        assert_eq!(n.commit_index(), index);
    }
    for learner in [3, 4] {
        ack(&mut n, learner, 0, index, t0);
    }
    assert_eq!(n.change_voters(&set(&[0, 3, 4]), t0), Ok((5, 1)));
    assert_eq!(*n.config(), cfg(&[0, 3, 4], Some(&[0, 1, 2]), &[5]));
}

// finish_joint_change

#[test]
fn a_new_leader_finishes_a_committed_joint_change() {
    let t0 = Instant::now();
    let joint = cfg(&[0, 3, 4], Some(&[0, 1, 2]), &[]);
    let heard = AppendEntriesArgs {
        leader: 1,
        ..append_args(1, (0, 0), vec![Entry::config(1, joint.clone())], 1)
    };
    let mut n = follower(0, 5, t0);
    n.handle_append_entries(&heard, t0);
    assert_eq!(n.commit_index(), 1);
    elect(&mut n, later(t0, 1000));
    assert_eq!(n.term(), 2);
    assert_eq!(n.log().last_index(), 2);
    let new = cfg(&[0, 3, 4], None, &[]);
    assert_eq!(n.log().entry(2), Some(&Entry::config(2, new.clone())));
    assert_eq!(*n.config(), new);

    // Not while the joint entry is uncommitted here.
    let mut m = follower(0, 5, t0);
    m.handle_append_entries(
        &AppendEntriesArgs {
            leader_commit: 0,
            ..heard
        },
        t0,
    );
    elect(&mut m, later(t0, 1000));
    assert_eq!(m.log().last_index(), 1);
    assert_eq!(*m.config(), joint);
    // It finishes once an entry of its term commits the joint entry.
    m.start(vec![2], later(t0, 1000));
    ack(&mut m, 1, 0, 2, later(t0, 1000));
    ack(&mut m, 3, 0, 2, later(t0, 1000));
    assert_eq!(m.commit_index(), 2);
    assert_eq!(m.log().entry(3), Some(&Entry::config(2, new.clone())));
    assert_eq!(*m.config(), new);

    // Restarted from a snapshot whose cut holds the joint configuration: committed too.
    let saved = Persistent {
        term: 1,
        voted_for: None,
        log: Log::from_parts(1, 1, Vec::new()).with_start_config(Some(joint)),
    };
    let mut r = Node::new(0, 5, saved, b"s1".to_vec(), t0, 42);
    elect(&mut r, t0);
    assert_eq!(r.log().entry(2), Some(&Entry::config(2, new.clone())));
    assert_eq!(*r.config(), new);
}

// step_down_if_removed

#[test]
fn a_removed_leader_leads_until_c_new_commits_then_steps_down_for_good() {
    let t0 = Instant::now();
    let mut n = settled_leader(3, &[0, 1, 2], t0);
    assert_eq!(n.start(vec![2], t0), Some((2, 1)));
    assert_eq!(n.change_voters(&set(&[1, 2]), t0), Ok((3, 1)));
    assert_eq!(*n.config(), Config::of_voters([1, 2]));
    assert!(n.is_leader(), "it leads until C_new commits");
    // It still takes commands and replicates to the new voters.
    assert_eq!(n.start(vec![4], t0), Some((4, 1)));
    n.tick(later(t0, 100));
    let out = n.take_outbox();
    let to: Vec<usize> = appends(&out).iter().map(|(p, _)| *p).collect();
    assert_eq!(to, [1, 2]);
    // Committing an entry before C_new is no reason to step down.
    ack(&mut n, 1, 1, 1, t0);
    ack(&mut n, 2, 1, 1, t0);
    assert_eq!(n.commit_index(), 2);
    assert!(n.is_leader());
    // Its own copy does not count: C_new needs both 1 and 2.
    ack(&mut n, 1, 2, 2, t0);
    assert_eq!(n.commit_index(), 2);
    assert!(n.is_leader());
    ack(&mut n, 2, 2, 2, t0);
    assert_eq!(n.commit_index(), 4);
    assert!(!n.is_leader(), "C_new committed without it");
    assert_eq!(n.start(vec![5], t0), None);
    // And it never campaigns again.
    let term = n.term();
    for i in 1..=20 {
        n.tick(later(t0, 600 * i));
    }
    assert_eq!(n.term(), term);
    assert!(!n.is_leader());
    assert!(votes_asked(&n.take_outbox()).is_empty());
}

#[test]
fn a_leader_removed_by_a_joint_change_leads_through_c_new() {
    let t0 = Instant::now();
    let mut n = settled_leader(4, &[0, 1, 2], t0);
    n.add_learner(3, t0).unwrap();
    ack(&mut n, 1, 1, 1, t0);
    ack(&mut n, 3, 0, 2, t0);
    assert_eq!(n.change_voters(&set(&[1, 2, 3]), t0), Ok((3, 1)));
    assert_eq!(*n.config(), cfg(&[1, 2, 3], Some(&[0, 1, 2]), &[]));
    // C_old,new commits (0 and 1 of the old set, 1 and 3 of the new): C_new follows,
    // and the leader, outside it, still leads.
    ack(&mut n, 1, 2, 1, t0);
    ack(&mut n, 3, 2, 1, t0);
    assert_eq!(n.commit_index(), 3);
    assert_eq!(*n.config(), cfg(&[1, 2, 3], None, &[]));
    assert!(n.is_leader());
    ack(&mut n, 1, 3, 1, t0);
    assert_eq!(n.commit_index(), 3, "the leader's own copy does not count");
    assert!(n.is_leader());
    ack(&mut n, 3, 3, 1, t0);
    assert_eq!(n.commit_index(), 4);
    assert!(!n.is_leader());
}

// ignores_vote_request

#[test]
fn a_follower_that_heard_from_its_leader_recently_ignores_vote_requests() {
    let t0 = Instant::now();
    let mut n = follower(1, 3, t0);
    n.handle_append_entries(&append_args(1, (0, 0), vec![], 0), t0);
    n.take_outbox();
    let ask = vote_request(5, 2, false);
    let just_before = t0 + MIN_ELECTION_TIMEOUT - Duration::from_millis(1);
    assert!(n.ignores_vote_request(&ask, just_before));
    let reply = n.handle_request_vote(&ask, just_before);
    assert_eq!((reply.term, reply.vote_granted), (1, false));
    assert_eq!(
        (n.term(), n.voted_for()),
        (1, None),
        "the term is not adopted"
    );
    assert!(!n.take_outbox().persist, "nothing changed, nothing to save");
    // A minimum election timeout later it votes.
    let at = t0 + MIN_ELECTION_TIMEOUT;
    assert!(!n.ignores_vote_request(&ask, at));
    let reply = n.handle_request_vote(&ask, at);
    assert_eq!((reply.term, reply.vote_granted), (5, true));
    assert_eq!(n.voted_for(), Some(2));
    // A server that just started may have answered a leader before it crashed: it
    // votes only a minimum election timeout after its start (a lease counts on it, 4D).
    let fresh = follower(1, 3, t0);
    assert!(fresh.ignores_vote_request(&ask, t0));
    assert!(!fresh.ignores_vote_request(&ask, t0 + MIN_ELECTION_TIMEOUT));
}

#[test]
fn an_installed_snapshot_counts_as_hearing_from_the_leader() {
    let t0 = Instant::now();
    let mut n = follower(1, 3, t0);
    n.handle_install_snapshot(
        &InstallSnapshotArgs {
            term: 1,
            leader: 0,
            last_included_index: 3,
            last_included_term: 1,
            config: None,
            snapshot: vec![],
        },
        t0,
    );
    let reply = n.handle_request_vote(&vote_request(5, 2, false), later(t0, 10));
    assert_eq!((reply.term, reply.vote_granted), (1, false));
}

#[test]
fn a_leader_ignores_vote_requests_except_a_transfers() {
    let t0 = Instant::now();
    let mut n = follower(0, 3, t0);
    elect(&mut n, t0);
    let late = later(t0, 10_000);
    let reply = n.handle_request_vote(&vote_request(5, 2, false), late);
    assert_eq!((reply.term, reply.vote_granted), (1, false));
    assert!(n.is_leader());
    assert_eq!(n.term(), 1);
    assert!(!n.take_outbox().persist);
    // A transfer's election is never ignored.
    assert!(!n.ignores_vote_request(&vote_request(5, 2, true), late));
    let reply = n.handle_request_vote(&vote_request(5, 2, true), late);
    assert_eq!((reply.term, reply.vote_granted), (5, true));
    assert!(!n.is_leader());

    let mut f = follower(1, 3, t0);
    f.handle_append_entries(&append_args(1, (0, 0), vec![], 0), t0);
    let reply = f.handle_request_vote(&vote_request(2, 2, true), later(t0, 1));
    assert_eq!((reply.term, reply.vote_granted), (2, true));
}

// transfer_leadership, continue_transfer, handle_timeout_now

#[test]
fn transfer_leadership_refusals() {
    let t0 = Instant::now();
    let mut f = follower(1, 4, t0);
    assert_eq!(f.transfer_leadership(2, t0), Err(ChangeError::NotLeader));
    let mut n = settled_leader(4, &[0, 1, 2], t0);
    n.add_learner(3, t0).unwrap();
    n.take_outbox();
    assert_eq!(
        n.transfer_leadership(4, t0),
        Err(ChangeError::UnknownServer(4))
    );
    assert_eq!(n.transfer_leadership(0, t0), Err(ChangeError::Unchanged));
    assert_eq!(n.transfer_leadership(3, t0), Err(ChangeError::NotAVoter(3)));
    assert_eq!(n.transferring(), None);
    assert_eq!(n.transfer_leadership(1, t0), Ok(()));
    assert_eq!(n.transferring(), Some(1));
    assert_eq!(
        n.transfer_leadership(2, t0),
        Err(ChangeError::TransferInProgress { to: 1 })
    );
    assert_eq!(n.transferring(), Some(1));
}

#[test]
fn a_caught_up_target_gets_timeout_now_at_once_and_the_leader_takes_no_commands() {
    let t0 = Instant::now();
    let mut n = settled_leader(4, &[0, 1, 2], t0);
    assert_eq!(n.transfer_leadership(1, t0), Ok(()));
    let out = n.take_outbox();
    assert_eq!(
        timeout_nows(&out),
        [(1, &TimeoutNowArgs { term: 1, leader: 0 })]
    );
    assert_eq!(n.start(vec![9], t0), None);
    assert_eq!(n.log().last_index(), 1);
    let busy = ChangeError::TransferInProgress { to: 1 };
    assert_eq!(n.check_change_allowed(), Err(busy.clone()));
    assert_eq!(n.add_learner(3, t0), Err(busy.clone()));
    // Told once: later progress sends no second TimeoutNow.
    ack(&mut n, 1, 1, 0, t0);
    n.tick(later(t0, 100));
    assert!(timeout_nows(&n.take_outbox()).is_empty());
}

#[test]
fn a_lagging_target_gets_timeout_now_once_it_holds_the_whole_log() {
    let t0 = Instant::now();
    let mut n = settled_leader(3, &[0, 1, 2], t0);
    n.start(vec![2], t0);
    n.start(vec![3], t0);
    ack(&mut n, 1, 1, 2, t0);
    assert_eq!(n.commit_index(), 3);
    n.take_outbox();
    let t1 = later(t0, 1);
    assert_eq!(n.transfer_leadership(2, t1), Ok(()));
    assert!(timeout_nows(&n.take_outbox()).is_empty(), "2 holds only 1");
    // It is sent what it lacks at once (if it was not due already).
    assert!(n.next_deadline() <= t1);
    n.tick(t1);
    let out = n.take_outbox();
    let sent: Vec<_> = appends(&out).into_iter().filter(|(p, _)| *p == 2).collect();
    assert_eq!(sent.len(), 1);
    assert_eq!((sent[0].1.prev_log_index, sent[0].1.entries.len()), (1, 2));
    // Index 2 of 3 is not enough...
    ack(&mut n, 2, 1, 1, t1);
    assert!(timeout_nows(&n.take_outbox()).is_empty());
    // ...index 3 is.
    ack(&mut n, 2, 2, 1, t1);
    let out = n.take_outbox();
    assert_eq!(
        timeout_nows(&out),
        [(2, &TimeoutNowArgs { term: 1, leader: 0 })]
    );
}

#[test]
fn a_transfer_that_takes_too_long_is_abandoned() {
    let t0 = Instant::now();
    let mut n = settled_leader(3, &[0, 1, 2], t0);
    n.start(vec![2], t0);
    ack(&mut n, 1, 1, 1, t0);
    n.take_outbox();
    assert_eq!(n.transfer_leadership(2, t0), Ok(()));
    assert!(n.next_deadline() <= t0 + TRANSFER_TIMEOUT);
    n.tick(t0 + TRANSFER_TIMEOUT - Duration::from_millis(1));
    assert_eq!(n.transferring(), Some(2));
    assert_eq!(n.start(vec![3], t0), None);
    n.tick(t0 + TRANSFER_TIMEOUT);
    assert_eq!(n.transferring(), None);
    assert!(n.is_leader());
    assert_eq!(n.start(vec![3], t0 + TRANSFER_TIMEOUT), Some((3, 1)));
    assert_eq!(n.transfer_leadership(1, t0 + TRANSFER_TIMEOUT), Ok(()));
}

#[test]
fn timeout_now_makes_a_voter_campaign_at_once_with_the_transfer_flag() {
    let t0 = Instant::now();
    let mut n = follower(1, 3, t0);
    n.handle_append_entries(&append_args(1, (0, 0), vec![entry(1, 1)], 1), t0);
    n.take_outbox();
    let now = later(t0, 5);
    let reply = n.handle_timeout_now(&TimeoutNowArgs { term: 1, leader: 0 }, now);
    assert_eq!(reply.term, 2);
    assert_eq!((n.term(), n.voted_for()), (2, Some(1)));
    let out = n.take_outbox();
    assert!(out.persist);
    let asked = votes_asked(&out);
    assert_eq!(asked.len(), 2);
    let args = asked[0].1.clone();
    assert!(
        asked
            .iter()
            .all(|(_, a)| a.transfer && a.term == 2 && a.candidate == 1)
    );
    // A follower that heard from the leader just now still grants that vote.
    let mut other = follower(2, 3, t0);
    other.handle_append_entries(&append_args(1, (0, 0), vec![entry(1, 1)], 1), t0);
    assert!(other.handle_request_vote(&args, now).vote_granted);
    // An ordinary election of the same server would have been ignored.
    let mut third = follower(2, 3, t0);
    third.handle_append_entries(&append_args(1, (0, 0), vec![entry(1, 1)], 1), t0);
    let ordinary = RequestVoteArgs {
        transfer: false,
        ..args
    };
    assert!(!third.handle_request_vote(&ordinary, now).vote_granted);
    assert_eq!(third.term(), 1);
}

#[test]
fn timeout_now_is_ignored_by_learners_and_from_old_terms() {
    let t0 = Instant::now();
    let mut learner = follower(3, 4, t0).with_initial_voters([0, 1, 2]);
    learner.handle_append_entries(
        &append_args(
            1,
            (0, 0),
            vec![Entry::config(1, cfg(&[0, 1, 2], None, &[3]))],
            0,
        ),
        t0,
    );
    learner.take_outbox();
    let reply = learner.handle_timeout_now(&TimeoutNowArgs { term: 1, leader: 0 }, t0);
    assert_eq!(reply.term, 1);
    assert_eq!((learner.term(), learner.voted_for()), (1, None));
    assert!(learner.take_outbox().sends.is_empty());

    let mut stale = with_log(1, 3, 3, &[1], t0);
    let reply = stale.handle_timeout_now(&TimeoutNowArgs { term: 2, leader: 0 }, t0);
    assert_eq!(reply.term, 3);
    assert_eq!(stale.term(), 3);
    assert!(stale.take_outbox().sends.is_empty());
}

// apply_committed

#[test]
fn a_committed_configuration_is_applied_at_its_index() {
    let t0 = Instant::now();
    let mut n = settled_leader(4, &[0, 1, 2], t0);
    n.add_learner(3, t0).unwrap();
    let c = cfg(&[0, 1, 2], None, &[3]);
    assert!(n.take_outbox().applies.is_empty(), "not before it commits");
    ack(&mut n, 1, 1, 1, t0);
    assert_eq!(
        n.take_outbox().applies,
        [ApplyMsg::Config {
            index: 2,
            config: c.clone()
        }]
    );

    let mut f = follower(1, 4, t0).with_initial_voters([0, 1, 2]);
    f.handle_append_entries(
        &append_args(1, (0, 0), vec![entry(1, 1), Entry::config(1, c.clone())], 2),
        t0,
    );
    assert_eq!(
        f.take_outbox().applies,
        [
            ApplyMsg::Command {
                index: 1,
                command: vec![1]
            },
            ApplyMsg::Config {
                index: 2,
                config: c
            }
        ]
    );
}

// ----- reads without the log (4D) --------------------------------------------------------

fn micros(t: Instant, us: u64) -> Instant {
    t + Duration::from_micros(us)
}

/// Runs the timers at `now`: the peers sent an AppendEntries.
fn tick_sends_to(node: &mut Node, now: Instant) -> Vec<usize> {
    node.tick(now);
    appends(&node.take_outbox()).iter().map(|a| a.0).collect()
}

#[test]
fn only_a_leader_that_committed_in_its_term_takes_reads() {
    let t0 = Instant::now();
    let mut f = follower(0, 3, t0);
    f.read_index(1, t0);
    assert_eq!(f.take_outbox().reads, [(1, Err(ReadError::NotLeader))]);

    // A new leader may not know the latest commit index until it commits an entry of its
    // own term (§6.4 step 1).
    let mut n = with_log(0, 3, 1, &[1, 1], t0);
    elect(&mut n, t0);
    n.read_index(2, t0);
    assert_eq!(
        n.take_outbox().reads,
        [(2, Err(ReadError::NothingCommittedInTerm))]
    );
    n.start(vec![3], t0);
    ack_sent_at(&mut n, 1, (0, 3), t0, t0);
    assert_eq!(n.commit_index(), 3);
    n.take_outbox();
    n.read_index(3, later(t0, 1));
    assert!(
        n.take_outbox().reads.is_empty(),
        "taken, waiting to confirm"
    );

    // Nor during a leadership transfer (3E): another server may be leader any moment.
    let mut n = settled_leader(3, &[0, 1, 2], t0);
    n.transfer_leadership(1, t0).unwrap();
    n.read_index(4, t0);
    assert_eq!(n.take_outbox().reads, [(4, Err(ReadError::NotLeader))]);
}

#[test]
fn a_read_is_answered_at_its_commit_index_once_a_quorum_answers_a_later_request() {
    let t0 = Instant::now();
    let mut n = settled_leader(3, &[0, 1, 2], t0);
    let t1 = later(t0, 2);
    n.read_index(7, t1);
    n.start(vec![2], t1); // commits after the read arrived: not the read's index
    n.take_outbox();
    // Replies to requests sent before the read arrived prove nothing about now.
    ack_sent_at(&mut n, 1, (1, 0), t0, t1);
    ack_sent_at(&mut n, 2, (1, 0), t0, t1);
    assert!(n.take_outbox().reads.is_empty());
    // One follower answering a request sent since makes a quorum with the leader.
    ack_sent_at(&mut n, 2, (1, 0), micros(t1, 50), micros(t1, 100));
    assert_eq!(n.take_outbox().reads, [(7, Ok(1))]);
}

#[test]
fn reads_arriving_together_share_one_request_to_just_a_quorum() {
    let t0 = Instant::now();
    let mut n = settled_leader(5, &[0, 1, 2, 3, 4], t0);
    // Followers 3 and 4 answered most recently: the likeliest to answer again.
    ack_sent_at(&mut n, 3, (1, 0), later(t0, 1), later(t0, 1));
    ack_sent_at(&mut n, 4, (1, 0), later(t0, 1), later(t0, 1));
    n.take_outbox();
    let t1 = later(t0, 2);
    n.read_index(1, t1);
    n.read_index(2, micros(t1, 30));
    assert!(
        tick_sends_to(&mut n, micros(t1, 40)).is_empty(),
        "waits READ_BATCH_DELAY"
    );
    let sent_at = t1 + READ_BATCH_DELAY;
    assert_eq!(
        tick_sends_to(&mut n, sent_at),
        [3, 4],
        "two followers and the leader make a quorum of five"
    );
    // A read arriving after the requests went needs the next ones.
    n.read_index(3, micros(sent_at, 10));
    ack_sent_at(&mut n, 3, (1, 0), sent_at, micros(sent_at, 20));
    assert!(n.take_outbox().reads.is_empty());
    ack_sent_at(&mut n, 4, (1, 0), sent_at, micros(sent_at, 30));
    let out = n.take_outbox();
    assert_eq!(out.reads, [(1, Ok(1)), (2, Ok(1))]);
    assert!(
        out.sends.is_empty(),
        "the next round waits READ_BATCH_DELAY too"
    );
    let next = micros(sent_at, 10) + READ_BATCH_DELAY;
    assert_eq!(tick_sends_to(&mut n, next), [3, 4]);
    ack_sent_at(&mut n, 3, (1, 0), next, next);
    ack_sent_at(&mut n, 4, (1, 0), next, next);
    assert_eq!(n.take_outbox().reads, [(3, Ok(1))]);
}

#[test]
fn reads_still_waiting_after_read_ask_all_after_ask_every_voter() {
    let t0 = Instant::now();
    let mut n = settled_leader(3, &[0, 1, 2], t0);
    let t1 = later(t0, 2);
    n.read_index(1, t1);
    assert_eq!(tick_sends_to(&mut n, t1 + READ_BATCH_DELAY), [1]);
    // Follower 1 does not answer (cut off, or slow): follower 2 is asked after all.
    let before = t1 + READ_ASK_ALL_AFTER - Duration::from_micros(1);
    assert!(tick_sends_to(&mut n, before).is_empty());
    let sent_at = t1 + READ_ASK_ALL_AFTER;
    assert_eq!(tick_sends_to(&mut n, sent_at), [2]);
    ack_sent_at(&mut n, 2, (1, 0), sent_at, sent_at);
    assert_eq!(n.take_outbox().reads, [(1, Ok(1))]);
}

#[test]
fn a_request_in_flight_sent_after_the_read_confirms_it_without_another() {
    let t0 = Instant::now();
    let mut n = settled_leader(3, &[0, 1, 2], t0);
    let t1 = later(t0, 2);
    n.start(vec![2], t1);
    let sent_at = t1 + REPLICATION_DELAY;
    assert_eq!(
        tick_sends_to(&mut n, sent_at),
        [1, 2],
        "the new entry goes out"
    );
    n.read_index(1, sent_at);
    assert!(tick_sends_to(&mut n, sent_at + READ_BATCH_DELAY).is_empty());
    ack_sent_at(&mut n, 1, (1, 1), sent_at, later(t1, 1));
    assert_eq!(n.take_outbox().reads, [(1, Ok(1))]);
}

#[test]
fn a_lease_serves_reads_at_once_until_it_runs_out() {
    let t0 = Instant::now();
    let mut n = settled_leader(3, &[0, 1, 2], t0);
    n.read_index(1, later(t0, 1));
    assert!(n.take_outbox().reads.is_empty(), "no lease unless enabled");
    let mut n = settled_leader(3, &[0, 1, 2], t0);
    n.set_lease_reads(true);
    // A quorum answered requests sent at t0: the lease runs LEASE from then.
    let last = t0 + LEASE - Duration::from_micros(1);
    assert!(n.lease_valid(last) && !n.lease_valid(t0 + LEASE));
    n.read_index(1, last);
    assert_eq!(n.take_outbox().reads, [(1, Ok(1))]);
    n.read_index(2, t0 + LEASE);
    assert!(
        n.take_outbox().reads.is_empty(),
        "out of lease: confirm first"
    );
    // The confirming round renews the lease.
    let renewed = t0 + LEASE + READ_BATCH_DELAY;
    n.tick(renewed);
    ack_sent_at(&mut n, 1, (1, 0), renewed, renewed);
    assert_eq!(n.take_outbox().reads, [(2, Ok(1))]);
    assert!(n.lease_valid(renewed + LEASE - Duration::from_micros(1)));
    // The lease is shorter than the minimum election timeout by the drift allowance.
    assert_eq!(LEASE, MIN_ELECTION_TIMEOUT * 4 / 5);
}

#[test]
fn a_lease_needs_a_commit_in_the_term_and_no_transfer() {
    let t0 = Instant::now();
    let mut n = with_log(0, 3, 1, &[1], t0);
    n.set_lease_reads(true);
    elect(&mut n, t0);
    ack_sent_at(&mut n, 1, (1, 0), t0, t0);
    assert!(!n.lease_valid(t0), "nothing committed in this term");
    let mut n = settled_leader(3, &[0, 1, 2], t0);
    n.set_lease_reads(true);
    assert!(n.lease_valid(t0));
    n.transfer_leadership(1, t0).unwrap();
    assert!(!n.lease_valid(t0), "the target's election ignores leases");
}

#[test]
fn a_follower_knows_the_leader_of_its_current_term_only() {
    let t0 = Instant::now();
    let mut f = follower(1, 3, t0);
    assert_eq!(f.known_leader(), None);
    let mut args = append_args(2, (0, 0), vec![], 0);
    args.leader = 2;
    f.handle_append_entries(&args, t0);
    assert_eq!(f.known_leader(), Some(2));
    f.adopt_term_if_newer(3, t0);
    assert_eq!(f.known_leader(), None, "a leader of an older term");
}

#[test]
fn a_voter_busy_with_an_older_request_is_asked_when_its_reply_returns() {
    let t0 = Instant::now();
    let mut n = settled_leader(3, &[0, 1, 2], t0);
    let t1 = later(t0, 2);
    n.start(vec![2], t1);
    let sent_at = t1 + REPLICATION_DELAY;
    n.tick(sent_at);
    assert_eq!(appends(&n.take_outbox()).len(), 2);
    n.read_index(1, micros(sent_at, 10));
    // Both followers are busy with requests sent before the read: no probe goes out on
    // top of them, not even after READ_ASK_ALL_AFTER...
    assert!(tick_sends_to(&mut n, sent_at + READ_ASK_ALL_AFTER + READ_BATCH_DELAY).is_empty());
    // ...but the first to answer is asked at once.
    let back = later(sent_at, 6);
    ack_sent_at(&mut n, 2, (1, 1), sent_at, back);
    assert!(n.take_outbox().reads.is_empty());
    assert_eq!(tick_sends_to(&mut n, back), [2]);
    ack_sent_at(&mut n, 2, (2, 0), back, back);
    assert_eq!(
        n.take_outbox().reads,
        [(1, Ok(1))],
        "at its arrival's commit index"
    );
}
