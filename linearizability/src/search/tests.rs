use std::time::Instant;

use super::*;
use crate::models::register::{RegisterInput as In, RegisterModel, RegisterOutput as Out};

fn op(client: usize, input: In, call: u64, output: Out, ret: u64) -> Operation<In, Out> {
    Operation::returned(client, input, call, output, ret)
}

fn run(history: &[Operation<In, Out>]) -> (SearchOutcome, SearchRecord) {
    let ops: Vec<&Operation<In, Out>> = history.iter().collect();
    let (outcome, record) = search(&RegisterModel, &ops, &StopSignal::new(None), true);
    (outcome, record.expect("recorded"))
}

#[test]
fn concurrent_operations_may_take_effect_in_either_order() {
    // The read overlaps both writes and sees the one called first, so that write must be
    // linearized second.
    let history = vec![
        op(0, In::Write(1), 0, Out::Written, 10),
        op(1, In::Write(2), 1, Out::Written, 10),
        op(2, In::Read, 11, Out::Read(Some(1)), 12),
    ];
    let (outcome, record) = run(&history);
    assert_eq!(outcome, SearchOutcome::Linearizable);
    assert_eq!(record.longest, vec![1, 0, 2]);
    assert_eq!(record.blocked_by, None);
    assert!(record.partial_of.iter().all(|p| p.is_some()));
}

#[test]
fn real_time_order_is_respected() {
    // Write(1) returned before Write(2) was called, so a later read cannot see 1.
    let history = vec![
        op(0, In::Write(1), 0, Out::Written, 1),
        op(1, In::Write(2), 2, Out::Written, 3),
        op(2, In::Read, 4, Out::Read(Some(1)), 5),
    ];
    let (outcome, record) = run(&history);
    assert_eq!(outcome, SearchOutcome::Illegal);
    assert_eq!(record.longest, vec![0, 1]);
    assert_eq!(
        record.blocked_by,
        Some(2),
        "the read is the operation that cannot be linearized"
    );
}

#[test]
fn a_call_at_the_same_time_as_a_return_is_concurrent_with_it() {
    // Calls sort before returns at equal times, as in porcupine: the read called at 5,
    // when the write returns, may still be ordered before it.
    let history = vec![
        op(0, In::Write(1), 0, Out::Written, 5),
        op(1, In::Read, 5, Out::Read(None), 6),
    ];
    assert_eq!(run(&history).0, SearchOutcome::Linearizable);
}

#[test]
fn an_operation_that_never_returned_is_concurrent_with_everything_after_its_call() {
    let history = vec![
        Operation::pending(0, In::Write(7), 0, Out::Unknown),
        op(1, In::Read, 100, Out::Read(None), 101),
        op(1, In::Read, 200, Out::Read(Some(7)), 201),
    ];
    assert_eq!(run(&history).0, SearchOutcome::Linearizable);
}

#[test]
fn a_cancelled_search_stops() {
    let history: Vec<_> = (0..2000)
        .map(|i| op(i, In::Write(i as i64), 0, Out::Written, 1))
        .collect();
    let ops: Vec<&Operation<In, Out>> = history.iter().collect();
    let stop = StopSignal::new(Some(Instant::now()));
    let (outcome, _) = search(&RegisterModel, &ops, &stop, false);
    assert_eq!(outcome, SearchOutcome::Stopped);
}

/// Whether some order of `history` that respects real time (an operation that returned
/// before another was called comes first) explains every output: the definition, by
/// brute force over all permutations. Only for small histories.
fn linearizable_by_brute_force(history: &[Operation<In, Out>]) -> bool {
    fn extend(history: &[Operation<In, Out>], used: &mut Vec<bool>, state: Option<i64>) -> bool {
        if used.iter().all(|&u| u) {
            return true;
        }
        for i in 0..history.len() {
            if used[i] {
                continue;
            }
            // `i` may go next only if no unused operation returned before `i` was called.
            let blocked = (0..history.len()).any(|j| {
                !used[j] && j != i && history[j].effective_return() < history[i].call_time
            });
            if blocked {
                continue;
            }
            if let Some(next) = RegisterModel.step(&state, &history[i].input, &history[i].output) {
                used[i] = true;
                if extend(history, used, next) {
                    return true;
                }
                used[i] = false;
            }
        }
        false
    }
    extend(history, &mut vec![false; history.len()], None)
}

/// The search (with its eager linearization of read-only operations) agrees with the
/// definition on thousands of small random register histories: reads, writes, cas that
/// succeed or fail, outcomes unknown, operations that never returned, overlapping freely.
#[test]
fn agrees_with_brute_force_on_random_small_histories() {
    use rand::{RngExt, SeedableRng};
    let mut rng = rand::rngs::Xoshiro256PlusPlus::seed_from_u64(2026);
    let (mut legal, mut illegal) = (0, 0);
    for round in 0..4000 {
        let n = rng.random_range(1..=6);
        let history: Vec<Operation<In, Out>> = (0..n)
            .map(|client| {
                let value = |rng: &mut rand::rngs::Xoshiro256PlusPlus| rng.random_range(0..3i64);
                let (input, output) = match rng.random_range(0..6) {
                    0 => (
                        In::Read,
                        Out::Read(rng.random_bool(0.2).then_some(0).or(Some(value(&mut rng)))),
                    ),
                    1 => (In::Read, Out::Read(None)),
                    2 => (In::Write(value(&mut rng)), Out::Written),
                    3 => (
                        In::Cas {
                            from: value(&mut rng),
                            to: value(&mut rng),
                        },
                        Out::Cas(rng.random_bool(0.5)),
                    ),
                    4 => (
                        In::Cas {
                            from: value(&mut rng),
                            to: value(&mut rng),
                        },
                        Out::Unknown,
                    ),
                    _ => (In::Read, Out::Unknown),
                };
                let call = rng.random_range(0..20);
                if rng.random_bool(0.1) {
                    Operation::pending(client, input, call, Out::Unknown)
                } else {
                    Operation::returned(client, input, call, output, call + rng.random_range(0..10))
                }
            })
            .collect();
        let expected = linearizable_by_brute_force(&history);
        let (outcome, _) = run(&history);
        assert_eq!(
            outcome == SearchOutcome::Linearizable,
            expected,
            "round {round}: the search and the definition disagree on {history:#?}"
        );
        if expected { legal += 1 } else { illegal += 1 }
    }
    // Both verdicts must be well represented for the comparison to mean anything.
    assert!(
        legal > 400 && illegal > 400,
        "{legal} legal, {illegal} illegal"
    );
}
