//! Part 3A: leader election. Ported from the 6.5840 (2025) `raft1/raft_test.go`.
#![allow(non_snake_case)]

use labrt::time::{Duration, Instant};

use raft::messages::{AppendEntriesReply, RequestVoteReply};
use tests::probe::{
    ELECTION_WITHIN, PROMPTLY, Probe, QUIET_FOR, Sent, UNDER_TEST, WATCH_FOR, append, rules, vote,
};
use tests::raft::{ELECTION_TIMEOUT, RaftTest};

#[test]
fn initial_election_3A() {
    RaftTest::reliable(3).run("Test (3A): initial election", |ts| {
        // Is a leader elected?
        ts.check_one_leader();

        // Sleep a bit to avoid racing with followers learning of the election, then check
        // that all peers agree on the term.
        ts.sleep(Duration::from_millis(50));
        let term1 = ts.check_terms();
        if term1 < 1 {
            ts.fatal(format!("term is {term1}, but should be at least 1"));
        }

        // Do the leader and term stay the same if there is no network failure?
        ts.sleep(2 * ELECTION_TIMEOUT);
        let term2 = ts.check_terms();
        if term1 != term2 {
            println!("warning: term changed even though there were no failures");
        }

        // There should still be a leader.
        ts.check_one_leader();
    });
}

#[test]
fn re_election_3A() {
    RaftTest::reliable(3).run("Test (3A): election after network failure", |ts| {
        let servers = ts.servers();
        let leader1 = ts.check_one_leader();

        // If the leader disconnects, a new one should be elected.
        ts.disconnect_all(leader1);
        ts.check_one_leader();

        // If the old leader rejoins, that shouldn't disturb the new leader, and the old
        // leader should switch to follower.
        ts.connect_one(leader1);
        let leader2 = ts.check_one_leader();

        // If there's no quorum, no new leader should be elected.
        ts.disconnect_all(leader2);
        ts.disconnect_all((leader2 + 1) % servers);
        ts.sleep(2 * ELECTION_TIMEOUT);

        // Check that the one connected server does not think it is the leader.
        ts.check_no_leader();

        // If a quorum arises, it should elect a leader.
        ts.connect_one((leader2 + 1) % servers);
        ts.check_one_leader();

        // Re-join of the last node shouldn't prevent a leader from existing.
        ts.connect_one(leader2);
        ts.check_one_leader();
    });
}

#[test]
fn many_elections_3A() {
    RaftTest::reliable(7).run("Test (3A): multiple elections", |ts| {
        let servers = ts.servers() as u64;
        ts.check_one_leader();

        for _ in 1..10 {
            // Disconnect three nodes (possibly the same one more than once).
            let i1 = ts.rand_below(servers) as usize;
            let i2 = ts.rand_below(servers) as usize;
            let i3 = ts.rand_below(servers) as usize;
            ts.disconnect_all(i1);
            ts.disconnect_all(i2);
            ts.disconnect_all(i3);

            // Either the current leader should still be alive, or the remaining four should
            // elect a new one.
            ts.check_one_leader();

            ts.connect_one(i1);
            ts.connect_one(i2);
            ts.connect_one(i3);
        }
        ts.check_one_leader();
    });
}

// ----- conformance probes: the tester plays the other peers (tests::probe) ----------------

#[test]
fn probe_grants_a_vote_in_a_new_term_3A() {
    Probe::peers(3).run("Probe (3A): grants a vote in a new term", |p| {
        let reply = p.request_vote(1, vote(100, 1, (0, 0)));
        if !reply.vote_granted {
            p.broke(
                &rules::VOTE_ONCE,
                format!(
                    "server 0, with an empty log and no vote in term 100, refused candidate 1 \
                     of term 100: {reply:?}"
                ),
            );
        }
        let (term, leader) = p.state();
        if reply.term != 100 || term != 100 || leader {
            p.broke(
                &rules::HIGHER_TERM,
                format!(
                    "after a RequestVote of term 100 server 0 answered term {} and says term \
                     {term}, leader {leader}",
                    reply.term
                ),
            );
        }
    });
}

#[test]
fn probe_votes_once_per_term_3A() {
    Probe::peers(3).run("Probe (3A): votes once per term", |p| {
        p.request_vote(1, vote(100, 1, (0, 0)));
        let reply = p.request_vote(2, vote(100, 2, (0, 0)));
        if reply.vote_granted {
            p.broke(
                &rules::VOTE_ONCE,
                "server 0 granted candidate 2 its vote in term 100 after granting it to \
                 candidate 1 in that term",
            );
        }
    });
}

#[test]
fn probe_refuses_a_stale_candidate_3A() {
    Probe::peers(3).run("Probe (3A): refuses a candidate of an older term", |p| {
        // Term 100 from a leader's heartbeat: server 0 has not voted in it.
        p.append_entries(1, append(100, 1, (0, 0), Vec::new(), 0));
        let reply = p.request_vote(2, vote(99, 2, (0, 0)));
        if reply.vote_granted || reply.term != 100 {
            p.broke(
                &rules::VOTE_STALE_TERM,
                format!(
                    "server 0, in term 100 with no vote cast, answered a candidate of term 99 \
                     with {reply:?} (expected a refusal carrying term 100)"
                ),
            );
        }
    });
}

#[test]
fn probe_a_new_term_starts_without_a_vote_3A() {
    Probe::peers(3).run("Probe (3A): a new term starts without a vote", |p| {
        p.request_vote(1, vote(100, 1, (0, 0)));
        let reply = p.request_vote(2, vote(101, 2, (0, 0)));
        if !reply.vote_granted {
            p.broke(
                &rules::NEW_TERM_NO_VOTE,
                format!(
                    "server 0 voted for candidate 1 in term 100, then refused candidate 2 of \
                     term 101, in which it had not voted: {reply:?}"
                ),
            );
        }
    });
}

#[test]
fn probe_campaigns_in_a_new_term_3A() {
    Probe::peers(3).run(
        "Probe (3A): campaigns in a new term, asking everyone",
        |p| {
            let mark = p.mark();
            let (before, _) = p.state();
            let Some(args) = p.wait_campaign(mark, ELECTION_WITHIN) else {
                p.broke(
                    &rules::START_ELECTION,
                    format!(
                        "server 0 heard from no leader for {} s and sent no RequestVote",
                        ELECTION_WITHIN.as_secs()
                    ),
                );
            };
            if args.term <= before || args.candidate != UNDER_TEST {
                p.broke(
                    &rules::CAMPAIGN,
                    format!(
                        "server 0, in term {before}, campaigned with term {} as candidate {}",
                        args.term, args.candidate
                    ),
                );
            }
            if (args.last_log_index, args.last_log_term) != (0, 0) {
                p.broke(
                    &rules::VOTE_ARGUMENTS,
                    format!(
                        "server 0 holds no entries but said its last entry is index {} of term {}",
                        args.last_log_index, args.last_log_term
                    ),
                );
            }
            for j in 1..3 {
                let asked = p.wait_sent(
                    mark,
                    PROMPTLY,
                    |s| matches!(s, Sent::Vote(to, a) if *to == j && a.term == args.term),
                );
                if asked.is_none() {
                    p.broke(
                        &rules::CAMPAIGN,
                        format!(
                            "server 0 campaigned in term {} but never asked server {j}",
                            args.term
                        ),
                    );
                }
            }
            // It voted for itself: another candidate of that term gets nothing.
            let reply = p.request_vote(1, vote(args.term, 1, (0, 0)));
            if reply.vote_granted {
                p.broke(
                    &rules::CAMPAIGN,
                    format!(
                        "server 0 campaigned in term {} and then granted candidate 1 its vote in \
                     that term",
                        args.term
                    ),
                );
            }
        },
    );
}

#[test]
fn probe_leads_with_a_majority_only_3A() {
    Probe::peers(5).run(
        "Probe (3A): becomes leader with a majority, not before",
        |p| {
            // Only server 1 grants: two votes of five.
            p.on_vote(|j, args| RequestVoteReply {
                term: args.term,
                vote_granted: j == 1,
            });
            let t0 = Instant::now();
            while t0.elapsed() < QUIET_FOR {
                if let (term, true) = p.state() {
                    p.broke(
                        &rules::WIN_ELECTION,
                        format!("server 0 says it leads term {term} with 2 votes of 5"),
                    );
                }
                p.sleep(Duration::from_millis(10));
            }
            p.elect();
        },
    );
}

#[test]
fn probe_higher_term_in_a_request_makes_a_follower_3A() {
    Probe::peers(3).run(
        "Probe (3A): a request of a higher term makes a leader follow",
        |p| {
            let term = p.elect();
            let reply = p.append_entries(1, append(term + 1, 1, (0, 0), Vec::new(), 0));
            let (now, leader) = p.state();
            if reply.term != term + 1 || now != term + 1 || leader {
                p.broke(
                    &rules::HIGHER_TERM,
                    format!(
                        "server 0, leader of term {term}, got an AppendEntries of term {}; it \
                     answered term {} and now says term {now}, leader {leader}",
                        term + 1,
                        reply.term
                    ),
                );
            }
            let reply = p.request_vote(2, vote(term + 2, 2, (0, 0)));
            let (now, leader) = p.state();
            if !reply.vote_granted || now != term + 2 || leader {
                p.broke(
                    &rules::HIGHER_TERM,
                    format!(
                        "server 0, follower in term {}, got a RequestVote of term {}: it answered \
                     {reply:?} and says term {now}, leader {leader}",
                        term + 1,
                        term + 2
                    ),
                );
            }
        },
    );
}

#[test]
fn probe_higher_term_in_a_reply_makes_a_follower_3A() {
    Probe::peers(3).run(
        "Probe (3A): a reply of a higher term makes a leader follow",
        |p| {
            let term = p.elect();
            p.on_append(move |_, args| AppendEntriesReply {
                term: args.term + 10,
                success: false,
                conflict_term: None,
                conflict_index: 1,
            });
            let t0 = Instant::now();
            loop {
                let (now, leader) = p.state();
                if !leader && now >= term + 10 {
                    break;
                }
                if t0.elapsed() > PROMPTLY {
                    p.broke(
                        &rules::HIGHER_TERM,
                        format!(
                            "server 0, leader of term {term}, got AppendEntries replies of term {} \
                         for {} ms and still says term {now}, leader {leader}",
                            term + 10,
                            PROMPTLY.as_millis()
                        ),
                    );
                }
                p.sleep(Duration::from_millis(5));
            }
        },
    );
}

#[test]
fn probe_higher_term_in_a_vote_reply_ends_a_campaign_3A() {
    Probe::peers(3).run(
        "Probe (3A): a vote reply of a higher term ends a campaign",
        |p| {
            p.on_vote(|_, args| RequestVoteReply {
                term: args.term + 10,
                vote_granted: false,
            });
            let Some(args) = p.wait_campaign(p.mark(), ELECTION_WITHIN) else {
                p.broke(&rules::START_ELECTION, "server 0 never campaigned");
            };
            let t0 = Instant::now();
            while p.state().0 < args.term + 10 {
                if t0.elapsed() > PROMPTLY {
                    p.broke(
                        &rules::HIGHER_TERM,
                        format!(
                            "server 0 campaigned in term {} and got refusals of term {}, but \
                         {} ms later says term {}",
                            args.term,
                            args.term + 10,
                            PROMPTLY.as_millis(),
                            p.state().0
                        ),
                    );
                }
                p.sleep(Duration::from_millis(5));
            }
        },
    );
}

#[test]
fn probe_heartbeats_keep_a_follower_3A() {
    Probe::peers(3).run(
        "Probe (3A): a current leader's heartbeats keep a follower",
        |p| {
            let _pump = p.heartbeats(1, 100, 0);
            p.sleep(Duration::from_millis(100));
            let mark = p.mark();
            if let Some(args) = p.wait_campaign(mark, QUIET_FOR) {
                p.broke(
                    &rules::START_ELECTION,
                    format!(
                        "server 0 heard leader 1 of term 100 every 50 ms and still campaigned in \
                     term {}",
                        args.term
                    ),
                );
            }
        },
    );
}

#[test]
fn probe_stale_heartbeats_do_not_keep_a_follower_3A() {
    Probe::peers(3).run(
        "Probe (3A): a stale leader's heartbeats do not keep a follower",
        |p| {
            p.append_entries(1, append(100, 1, (0, 0), Vec::new(), 0));
            let reply = p.append_entries(2, append(99, 2, (0, 0), Vec::new(), 0));
            if reply.success || reply.term != 100 {
                p.broke(
                    &rules::APPEND_STALE_TERM,
                    format!(
                        "server 0, in term 100, answered an AppendEntries of term 99 with {reply:?}"
                    ),
                );
            }
            let mark = p.mark();
            let _pump = p.heartbeats(2, 99, 0);
            if p.wait_campaign(mark, ELECTION_WITHIN).is_none() {
                p.broke(
                    &rules::START_ELECTION,
                    format!(
                        "server 0 heard only a leader of the stale term 99 for {} s and never \
                     campaigned: only AppendEntries from the current leader reset the timer",
                        ELECTION_WITHIN.as_secs()
                    ),
                );
            }
        },
    );
}

#[test]
fn probe_granting_a_vote_resets_the_timer_3A() {
    Probe::peers(3).run(
        "Probe (3A): granting a vote resets the election timer",
        |p| {
            let t0 = Instant::now();
            let mark = p.mark();
            let mut term = 100;
            while t0.elapsed() < QUIET_FOR {
                let candidate = 1 + (term as usize % 2);
                let reply = p.request_vote(candidate, vote(term, candidate, (0, 0)));
                // A refusal may come from a campaign of its own whose request is still on
                // its way: look for one before blaming the vote.
                let wait = if reply.vote_granted {
                    Duration::ZERO
                } else {
                    Duration::from_millis(100)
                };
                if let Some(args) = p.wait_campaign(mark, wait) {
                    p.broke(
                        &rules::START_ELECTION,
                        format!(
                            "server 0 granted a vote every 50 ms and still campaigned in term {}",
                            args.term
                        ),
                    );
                }
                if !reply.vote_granted {
                    p.broke(
                        &rules::NEW_TERM_NO_VOTE,
                        format!("server 0 refused candidate {candidate} of the new term {term}"),
                    );
                }
                term += 1;
                p.sleep(Duration::from_millis(50));
            }
        },
    );
}

#[test]
fn probe_refused_votes_do_not_reset_the_timer_3A() {
    Probe::peers(3).run(
        "Probe (3A): refusing a vote does not reset the timer",
        |p| {
            p.request_vote(1, vote(100, 1, (0, 0)));
            let (t0, mark) = (Instant::now(), p.mark());
            while t0.elapsed() < ELECTION_WITHIN {
                p.request_vote(2, vote(100, 2, (0, 0)));
                if p.wait_campaign(mark, Duration::from_millis(50)).is_some() {
                    return;
                }
            }
            p.broke(
                &rules::START_ELECTION,
                format!(
                    "server 0 refused candidate 2 every 50 ms for {} s and never campaigned: only \
                 a granted vote resets the timer",
                    ELECTION_WITHIN.as_secs()
                ),
            );
        },
    );
}

#[test]
fn probe_heartbeat_rate_3A() {
    Probe::peers(3).run(
        "Probe (3A): a leader sends heartbeats, at most ten a second",
        |p| {
            let term = p.elect();
            let mark = p.mark();
            p.sleep(Duration::from_secs(2));
            let times: Vec<Instant> = p
                .sent_since_timed(mark)
                .into_iter()
                .filter(|(_, s)| matches!(s, Sent::Append(1, a) if a.term == term))
                .map(|(at, _)| at)
                .collect();
            if times.len() > 21 {
                p.broke(
                    &rules::HEARTBEATS,
                    format!(
                        "server 0, an idle leader, sent server 1 {} AppendEntries in 2 s",
                        times.len()
                    ),
                );
            }
            let longest = times
                .windows(2)
                .map(|w| w[1] - w[0])
                .max()
                .unwrap_or_default();
            if times.len() < 2 || longest > WATCH_FOR * 2 {
                p.broke(
                    &rules::HEARTBEATS,
                    format!(
                        "server 0, an idle leader, sent server 1 {} AppendEntries in 2 s, the \
                     longest gap {} ms: followers would time out",
                        times.len(),
                        longest.as_millis()
                    ),
                );
            }
        },
    );
}

#[test]
fn probe_counts_only_votes_of_its_term_3A() {
    Probe::peers(3).run(
        "Probe (3A): a candidate counts only votes of its term",
        |p| {
            // Server 1 holds its answer to the first campaign until the peer campaigns again,
            // then grants that old request; server 2 refuses everything.
            let (again_tx, again_rx) = labrt::channel::bounded::<u64>(1);
            let first = labrt::sync::Mutex::new(None::<u64>);
            p.on_vote(move |j, args| {
                let mut first_term = first.lock();
                if j == 1 && first_term.is_none() {
                    *first_term = Some(args.term);
                    drop(first_term);
                    let _ = again_rx.recv_timeout(ELECTION_WITHIN * 2);
                    return RequestVoteReply {
                        term: args.term,
                        vote_granted: true,
                    };
                }
                if j == 1 && *first_term != Some(args.term) {
                    let _ = again_tx.try_send(args.term);
                }
                RequestVoteReply {
                    term: args.term,
                    vote_granted: false,
                }
            });
            let mark = p.mark();
            let Some(first) = p.wait_campaign(mark, ELECTION_WITHIN) else {
                p.broke(&rules::START_ELECTION, "server 0 never campaigned");
            };
            let again = |s: &Sent| matches!(s, Sent::Vote(1, a) if a.term > first.term);
            if p.wait_sent(mark, ELECTION_WITHIN, again).is_none() {
                p.broke(
                    &rules::START_ELECTION,
                    format!("server 0 campaigned in term {} and never again", first.term),
                );
            }
            let t0 = Instant::now();
            while t0.elapsed() < WATCH_FOR {
                if let (term, true) = p.state() {
                    p.broke(
                        &rules::WIN_ELECTION,
                        format!(
                            "server 0 became leader of term {term} counting a vote that server 1 \
                         granted in term {} (its only other vote): votes count only in the term \
                         they were asked for",
                            first.term
                        ),
                    );
                }
                p.sleep(Duration::from_millis(10));
            }
        },
    );
}

#[test]
fn probe_a_stale_append_changes_nothing_3A() {
    Probe::peers(3).run(
        "Probe (3A): an AppendEntries of an older term changes nothing",
        |p| {
            let term = p.elect();
            let reply = p.append_entries(1, append(term - 1, 1, (0, 0), Vec::new(), 0));
            let (now, leader) = p.state();
            if reply.success || reply.term != term || (now, leader) != (term, true) {
                p.broke(
                &rules::APPEND_STALE_TERM,
                format!(
                    "server 0, leader of term {term}, answered an AppendEntries of term {} with \
                     {reply:?} and now says term {now}, leader {leader}",
                    term - 1
                ),
            );
            }
        },
    );
}
