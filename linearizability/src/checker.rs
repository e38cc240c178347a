//! Checking a whole history: partition it, search every partition (in parallel when it
//! pays), and combine the outcomes into one verdict.

use std::collections::VecDeque;
use std::fmt;
use std::sync::{Condvar, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use crate::history::{self, Event, HistoryError, Operation};
use crate::model::Model;
use crate::search::{Search, SearchOutcome, SearchRecord, StopSignal};

/// The outcome of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// The history is linearizable.
    Ok,
    /// The history is not linearizable.
    Illegal,
    /// The time limit ran out before the search could decide.
    Unknown,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Verdict::Ok => "linearizable",
            Verdict::Illegal => "not linearizable",
            Verdict::Unknown => "unknown",
        })
    }
}

/// What a verbose check found in one partition. Operations are indices into the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionAnalysis {
    /// The partition's operations, as the model's partition function listed them.
    pub operations: Vec<usize>,
    /// `Ok`, `Illegal`, or `Unknown` when the search was stopped before it decided.
    pub verdict: Verdict,
    /// The longest linearizable prefix the search found, in linearization order; a
    /// complete linearization when the partition is linearizable.
    pub longest: Vec<usize>,
    /// When the partition is not (or not yet shown to be) linearizable: the operation
    /// the search could not linearize after `longest` (its return came first).
    pub blocked_by: Option<usize>,
    /// Partial linearizations found on the way (the longest one among them), for showing
    /// each operation's own longest linearizable prefix.
    pub partials: Vec<Vec<usize>>,
    /// For each entry of `operations`, the index in `partials` of the longest partial
    /// linearization containing it, if any.
    pub partial_of: Vec<Option<usize>>,
}

/// The result of a verbose check: the verdict and, per partition, the linearization
/// information that [`crate::visualize`] draws.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Analysis {
    pub verdict: Verdict,
    pub partitions: Vec<PartitionAnalysis>,
}

/// Checks a history. With a timeout, the search stops at the deadline and the verdict is
/// `Unknown` unless a partition was already found not linearizable. The first illegal
/// partition stops the others.
pub fn check_operations<M>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> Result<Verdict, HistoryError>
where
    M: Model + Sync,
    M::State: Send,
    M::Input: Sync,
    M::Output: Sync,
{
    let (verdict, _) = run(model, history, timeout, false)?;
    Ok(verdict)
}

/// Like [`check_operations`], and also returns the linearization information of every
/// partition (all partitions are searched to the end or to the deadline, even after one
/// is found illegal). Slower than a plain check.
pub fn check_operations_verbose<M>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
) -> Result<Analysis, HistoryError>
where
    M: Model + Sync,
    M::State: Send,
    M::Input: Sync,
    M::Output: Sync,
{
    let (verdict, partitions) = run(model, history, timeout, true)?;
    Ok(Analysis {
        verdict,
        partitions,
    })
}

/// Checks a history given as events (see [`history::operations_from_events`]); calls
/// that never return get the output `pending_output(&input)`.
pub fn check_events<M>(
    model: &M,
    events: Vec<Event<M::Input, M::Output>>,
    pending_output: impl Fn(&M::Input) -> M::Output,
    timeout: Option<Duration>,
) -> Result<Verdict, HistoryError>
where
    M: Model + Sync,
    M::State: Send,
    M::Input: Sync,
    M::Output: Sync,
{
    let operations = history::operations_from_events(events, pending_output)?;
    check_operations(model, &operations, timeout)
}

/// Below this many operations the partitions are searched on the calling thread: starting
/// threads would cost more than it saves.
const PARALLEL_THRESHOLD: usize = 512;

/// Search steps a partition gets before it goes to the back of the queue (about 0.1 to
/// 1 ms): long enough that taking turns costs nothing, short enough that a hard partition
/// cannot keep an illegal one from being found, and that the deadline is seen at once.
const SLICE_STEPS: u32 = 4096;

type PartitionResult = (usize, SearchOutcome, Option<SearchRecord>);

/// Partitions still being searched, shared by the workers.
struct Queue<T> {
    waiting: VecDeque<T>,
    /// Partitions not finished yet, waiting or being searched.
    unfinished: usize,
}

fn run<M>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    timeout: Option<Duration>,
    verbose: bool,
) -> Result<(Verdict, Vec<PartitionAnalysis>), HistoryError>
where
    M: Model + Sync,
    M::State: Send,
    M::Input: Sync,
    M::Output: Sync,
{
    let stop = StopSignal::new(timeout.map(|t| Instant::now() + t));
    history::validate(history)?;
    let parts = model.partition(history);
    check_cover(&parts, history.len())?;

    // Small partitions first: they finish soonest, and an illegal one stops the rest.
    let mut order: Vec<usize> = (0..parts.len()).collect();
    order.sort_by_key(|&p| parts[p].len());
    let waiting: VecDeque<(usize, Search<'_, M>)> = order
        .into_iter()
        .map(|p| {
            (
                p,
                Search::new(
                    model,
                    parts[p].iter().map(|&i| &history[i]).collect(),
                    verbose,
                ),
            )
        })
        .collect();
    let queue = Mutex::new(Queue {
        unfinished: waiting.len(),
        waiting,
    });
    let turn = Condvar::new();
    let work = || {
        let mut results: Vec<PartitionResult> = Vec::new();
        loop {
            let (p, mut search) = {
                let mut queue = queue.lock().expect("queue lock");
                loop {
                    if let Some(task) = queue.waiting.pop_front() {
                        break task;
                    }
                    if queue.unfinished == 0 {
                        return results;
                    }
                    queue = turn.wait(queue).expect("queue lock");
                }
            };
            let outcome = if stop.should_stop() {
                Some(SearchOutcome::Stopped)
            } else {
                search.run(SLICE_STEPS)
            };
            let mut queue = queue.lock().expect("queue lock");
            match outcome {
                Some(outcome) => {
                    if outcome == SearchOutcome::Illegal && !verbose {
                        stop.cancel();
                    }
                    results.push((p, outcome, search.into_record(outcome)));
                    queue.unfinished -= 1;
                    if queue.unfinished == 0 {
                        turn.notify_all();
                    }
                }
                None => {
                    queue.waiting.push_back((p, search));
                    turn.notify_one();
                }
            }
        }
    };

    let workers = if parts.len() < 2 || history.len() < PARALLEL_THRESHOLD {
        1
    } else {
        thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(parts.len())
    };
    let mut results = thread::scope(|scope| {
        let helpers: Vec<_> = (1..workers).map(|_| scope.spawn(work)).collect();
        let mut all = work();
        for helper in helpers {
            match helper.join() {
                Ok(found) => all.extend(found),
                Err(panic) => std::panic::resume_unwind(panic),
            }
        }
        all
    });
    results.sort_by_key(|&(p, _, _)| p);

    let verdict = if results.iter().any(|r| r.1 == SearchOutcome::Illegal) {
        Verdict::Illegal
    } else if results.iter().any(|r| r.1 == SearchOutcome::Stopped) {
        Verdict::Unknown
    } else {
        Verdict::Ok
    };
    let analyses = if verbose {
        results
            .into_iter()
            .map(|(p, outcome, record)| analysis(&parts[p], outcome, record.unwrap_or_default()))
            .collect()
    } else {
        Vec::new()
    };
    Ok((verdict, analyses))
}

fn check_cover(parts: &[Vec<usize>], n: usize) -> Result<(), HistoryError> {
    let mut seen = vec![false; n];
    for (p, part) in parts.iter().enumerate() {
        for &i in part {
            if i >= n {
                return Err(HistoryError::BadPartition {
                    detail: format!("partition {p} names operation {i}, but there are only {n}"),
                });
            }
            if std::mem::replace(&mut seen[i], true) {
                return Err(HistoryError::BadPartition {
                    detail: format!("operation {i} is in more than one partition"),
                });
            }
        }
    }
    if let Some(missing) = seen.iter().position(|&s| !s) {
        return Err(HistoryError::BadPartition {
            detail: format!("operation {missing} is in no partition"),
        });
    }
    Ok(())
}

fn analysis(part: &[usize], outcome: SearchOutcome, record: SearchRecord) -> PartitionAnalysis {
    let global = |local: u32| part[local as usize];
    let mut partial_of = record
        .partial_of
        .iter()
        .map(|p| p.map(|i| i as usize))
        .collect::<Vec<_>>();
    partial_of.resize(part.len(), None);
    PartitionAnalysis {
        operations: part.to_vec(),
        verdict: match outcome {
            SearchOutcome::Linearizable => Verdict::Ok,
            SearchOutcome::Illegal => Verdict::Illegal,
            SearchOutcome::Stopped => Verdict::Unknown,
        },
        longest: record.longest.iter().map(|&l| global(l)).collect(),
        blocked_by: record.blocked_by.map(global),
        partials: record
            .partials
            .iter()
            .map(|p| p.iter().map(|&l| global(l)).collect())
            .collect(),
        partial_of,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::EventKind;
    use crate::models::register::{RegisterInput as In, RegisterModel, RegisterOutput as Out};

    #[test]
    fn event_histories_are_checked_with_pending_calls_open_to_the_end() {
        let event = |client_id, id, kind| Event {
            client_id,
            id,
            kind,
        };
        let events = vec![
            event(0, 1, EventKind::Call(In::Write(3))),
            event(1, 2, EventKind::Call(In::Read)),
            event(1, 2, EventKind::Return(Out::Read(Some(3)))),
        ];
        assert_eq!(
            check_events(&RegisterModel, events, |_| Out::Unknown, None),
            Ok(Verdict::Ok)
        );
        let unmatched = vec![event(0, 9, EventKind::Return(Out::Written))];
        assert!(check_events(&RegisterModel, unmatched, |_| Out::Unknown, None).is_err());
    }

    /// A register model whose partition function loses or repeats operations.
    struct BadPartitions(Vec<Vec<usize>>);

    impl Model for BadPartitions {
        type State = Option<i64>;
        type Input = In;
        type Output = Out;
        fn init(&self) -> Option<i64> {
            None
        }
        fn step(&self, state: &Option<i64>, input: &In, output: &Out) -> Option<Option<i64>> {
            RegisterModel.step(state, input, output)
        }
        fn partition(&self, _: &[Operation<In, Out>]) -> Vec<Vec<usize>> {
            self.0.clone()
        }
        fn describe_operation(&self, input: &In, output: &Out) -> String {
            RegisterModel.describe_operation(input, output)
        }
        fn describe_state(&self, state: &Option<i64>) -> String {
            RegisterModel.describe_state(state)
        }
    }

    #[test]
    fn a_partition_function_must_cover_every_operation_once() {
        let history = vec![
            Operation::returned(0, In::Write(1), 0, Out::Written, 1),
            Operation::returned(0, In::Read, 2, Out::Read(Some(2)), 3),
        ];
        for (parts, expected) in [
            (vec![vec![0]], "operation 1 is in no partition"),
            (
                vec![vec![0, 1], vec![1]],
                "operation 1 is in more than one partition",
            ),
            (
                vec![vec![0, 1, 2]],
                "partition 0 names operation 2, but there are only 2",
            ),
        ] {
            let error = check_operations(&BadPartitions(parts), &history, None).unwrap_err();
            assert!(error.to_string().contains(expected), "{error}");
        }
    }
}
