//! The search on one partition: Wing & Gong's backtracking over the time-ordered calls
//! and returns, with Lowe's cache of (linearized set, state) pairs already explored.
//!
//! One addition: an operation that the model says never changes the state
//! ([`Model::is_read_only`]: a read, a refused write) is linearized for good as soon as it
//! is valid where the search stands — the search never tries the alternatives to it. That
//! is complete: if some linearization places such an operation later, moving it here keeps
//! every operation valid (the states before and after it are the same wherever it is) and
//! respects real time (every operation not yet placed returns after this one was called,
//! or this one would not be a candidate). It must hold in every state, not just here: a
//! write of the value already there changes nothing at that point but is not read-only. On histories where most operations
//! are reads or refused writes, this removes nearly all backtracking; on a 20-client
//! single-key KV history of 40 000 operations it cut the check from over 30 s to well
//! under one.

mod cache;
mod entries;
mod stop;

pub(crate) use stop::StopSignal;

use crate::history::Operation;
use crate::model::Model;
use cache::{Cache, LinearizedSet, StateId};
use entries::{EntryList, HEAD};

/// How the search on one partition ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum SearchOutcome {
    Linearizable,
    Illegal,
    /// The deadline passed or another partition asked everyone to stop.
    Stopped,
}

/// What the search found, in local operation numbers (positions in the partition's
/// operation slice).
#[derive(Debug, Clone, Default)]
pub(crate) struct SearchRecord {
    /// The longest linearizable prefix found, in linearization order (complete when the
    /// partition is linearizable).
    pub longest: Vec<u32>,
    /// The operation whose return the search reached, unlinearized, right after the
    /// longest prefix: the first operation that cannot be linearized after it.
    pub blocked_by: Option<u32>,
    /// Distinct partial linearizations kept for the visualization.
    pub partials: Vec<Vec<u32>>,
    /// For each operation, the longest kept partial linearization that contains it.
    pub partial_of: Vec<Option<u32>>,
}

/// Keeps at most this many operation numbers across all partial linearizations of one
/// partition, so verbose mode stays bounded in memory.
const PARTIALS_BUDGET: usize = 4_000_000;

struct Recorder {
    record: SearchRecord,
    best_len: Vec<u32>,
    budget: usize,
}

impl Recorder {
    fn new(n: usize) -> Self {
        Recorder {
            record: SearchRecord {
                partial_of: vec![None; n],
                ..SearchRecord::default()
            },
            best_len: vec![0; n],
            budget: PARTIALS_BUDGET,
        }
    }

    /// Called when the search is about to backtrack from `calls` because the return of
    /// `blocked` was reached before it could be linearized.
    fn at_backtrack(&mut self, calls: &[(u32, StateId)], list: &EntryList, blocked: u32) {
        let depth = calls.len();
        if depth > self.record.longest.len() || self.record.blocked_by.is_none() {
            self.record.longest = calls.iter().map(|&(node, _)| list.op(node)).collect();
            self.record.blocked_by = Some(blocked);
        }
        let improves = calls
            .iter()
            .any(|&(node, _)| (self.best_len[list.op(node) as usize] as usize) < depth);
        if improves && self.budget >= depth {
            self.budget -= depth;
            let index = self.record.partials.len() as u32;
            let ops: Vec<u32> = calls.iter().map(|&(node, _)| list.op(node)).collect();
            for &op in &ops {
                if (self.best_len[op as usize] as usize) < depth {
                    self.best_len[op as usize] = depth as u32;
                    self.record.partial_of[op as usize] = Some(index);
                }
            }
            self.record.partials.push(ops);
        }
    }

    fn complete(mut self, calls: &[(u32, StateId)], list: &EntryList) -> SearchRecord {
        let order: Vec<u32> = calls.iter().map(|&(node, _)| list.op(node)).collect();
        let index = self.record.partials.len() as u32;
        for slot in &mut self.record.partial_of {
            *slot = Some(index);
        }
        self.record.partials.push(order.clone());
        self.record.longest = order;
        self.record.blocked_by = None;
        self.record
    }
}

/// The search on one partition, resumable: [`Search::run`] takes a budget of steps, so
/// that a few threads can take turns over many partitions (every partition makes
/// progress, and the first illegal one can stop the rest however hard they are).
pub(crate) struct Search<'a, M: Model> {
    model: &'a M,
    ops: Vec<&'a Operation<M::Input, M::Output>>,
    list: EntryList,
    cache: Cache<M::State>,
    linearized: LinearizedSet,
    recorder: Option<Recorder>,
    calls: Vec<(u32, StateId)>,
    /// `forced[i]`: the `i`-th linearized operation left the state unchanged, so there is
    /// no alternative to try in its place when the search backtracks to it.
    forced: Vec<bool>,
    state: StateId,
    node: u32,
}

impl<'a, M: Model> Search<'a, M> {
    /// With `record`, the search also keeps what the visualization needs (slower).
    pub(crate) fn new(
        model: &'a M,
        ops: Vec<&'a Operation<M::Input, M::Output>>,
        record: bool,
    ) -> Self {
        let n = ops.len();
        let list = EntryList::new(&ops);
        let node = list.next(HEAD);
        let cache = Cache::new(model.init(), n);
        let state = cache.initial_state();
        Search {
            model,
            ops,
            list,
            cache,
            linearized: LinearizedSet::new(n),
            recorder: record.then(|| Recorder::new(n)),
            calls: Vec::with_capacity(n),
            forced: Vec::with_capacity(n),
            state,
            node,
        }
    }

    /// Runs at most `budget` steps: `Some` outcome when the search is over, `None` when
    /// the budget ran out first.
    pub(crate) fn run(&mut self, budget: u32) -> Option<SearchOutcome> {
        let Search {
            model,
            ops,
            list,
            cache,
            linearized,
            recorder,
            calls,
            forced,
            state,
            node,
        } = self;
        for _ in 0..budget {
            if list.is_empty() {
                return Some(SearchOutcome::Linearizable);
            }
            let mut dead_end = !list.is_call(*node);
            if !dead_end {
                let op = list.op(*node);
                let operation = ops[op as usize];
                if let Some(next_state) =
                    model.step(cache.state(*state), &operation.input, &operation.output)
                {
                    let unchanged = model.is_read_only(&operation.input, &operation.output);
                    linearized.insert(op);
                    match cache.insert_if_new(linearized, next_state) {
                        Some(next_id) => {
                            calls.push((*node, *state));
                            forced.push(unchanged);
                            *state = next_id;
                            list.lift(*node);
                            *node = list.next(HEAD);
                            continue;
                        }
                        None => {
                            linearized.remove(op);
                            // Explored before with this operation placed here: if it
                            // leaves the state unchanged, nothing else placed here can
                            // succeed either.
                            dead_end = unchanged;
                        }
                    }
                }
                if !dead_end {
                    *node = list.next(*node);
                    continue;
                }
            }
            if let Some(recorder) = recorder.as_mut()
                && !list.is_call(*node)
            {
                recorder.at_backtrack(calls, list, list.op(*node));
            }
            // Undo linearized operations until one that had alternatives.
            loop {
                let Some((call_node, previous_state)) = calls.pop() else {
                    return Some(SearchOutcome::Illegal);
                };
                let was_forced = forced.pop().unwrap_or(false);
                linearized.remove(list.op(call_node));
                *state = previous_state;
                list.unlift(call_node);
                *node = list.next(call_node);
                if !was_forced {
                    break;
                }
            }
        }
        list.is_empty().then_some(SearchOutcome::Linearizable)
    }

    /// What was recorded, given how the search ended (`Stopped` if it was cut off).
    pub(crate) fn into_record(self, outcome: SearchOutcome) -> Option<SearchRecord> {
        let recorder = self.recorder?;
        Some(match outcome {
            SearchOutcome::Linearizable => recorder.complete(&self.calls, &self.list),
            SearchOutcome::Illegal | SearchOutcome::Stopped => recorder.record,
        })
    }
}

/// Runs a whole search on the calling thread, polling `stop` between slices.
#[cfg(test)]
pub(crate) fn search<'a, M: Model>(
    model: &'a M,
    ops: &[&'a Operation<M::Input, M::Output>],
    stop: &StopSignal,
    record: bool,
) -> (SearchOutcome, Option<SearchRecord>) {
    let mut search = Search::new(model, ops.to_vec(), record);
    loop {
        if stop.should_stop() {
            return (
                SearchOutcome::Stopped,
                search.into_record(SearchOutcome::Stopped),
            );
        }
        if let Some(outcome) = search.run(512) {
            return (outcome, search.into_record(outcome));
        }
    }
}

#[cfg(test)]
mod tests;
