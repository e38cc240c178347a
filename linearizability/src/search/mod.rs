//! The search on one partition: Wing & Gong's backtracking over the time-ordered calls
//! and returns, with Lowe's cache of (linearized set, state) pairs already explored.

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

/// How often (in search steps) the stop signal is polled.
const POLL_INTERVAL: u32 = 512;

/// Checks one partition. With `record`, also returns the linearization information the
/// visualization needs (this slows the search down).
pub(crate) fn search<M: Model>(
    model: &M,
    ops: &[&Operation<M::Input, M::Output>],
    stop: &StopSignal,
    record: bool,
) -> (SearchOutcome, Option<SearchRecord>) {
    let n = ops.len();
    let mut list = EntryList::new(ops);
    let mut cache = Cache::new(model.init(), n);
    let mut linearized = LinearizedSet::new(n);
    let mut recorder = record.then(|| Recorder::new(n));
    let mut calls: Vec<(u32, StateId)> = Vec::with_capacity(n);
    let mut state = cache.initial_state();
    let mut node = list.next(HEAD);
    let mut countdown = POLL_INTERVAL;

    while !list.is_empty() {
        countdown -= 1;
        if countdown == 0 {
            countdown = POLL_INTERVAL;
            if stop.should_stop() {
                return (SearchOutcome::Stopped, recorder.map(|r| r.record));
            }
        }
        if list.is_call(node) {
            let op = list.op(node);
            let operation = ops[op as usize];
            if let Some(next_state) =
                model.step(cache.state(state), &operation.input, &operation.output)
            {
                linearized.insert(op);
                if let Some(next_id) = cache.insert_if_new(&linearized, next_state) {
                    calls.push((node, state));
                    state = next_id;
                    list.lift(node);
                    node = list.next(HEAD);
                    continue;
                }
                linearized.remove(op);
            }
            node = list.next(node);
        } else {
            let blocked = list.op(node);
            if let Some(recorder) = recorder.as_mut() {
                recorder.at_backtrack(&calls, &list, blocked);
            }
            let Some((call_node, previous_state)) = calls.pop() else {
                return (SearchOutcome::Illegal, recorder.map(|r| r.record));
            };
            linearized.remove(list.op(call_node));
            state = previous_state;
            list.unlift(call_node);
            node = list.next(call_node);
        }
    }
    (
        SearchOutcome::Linearizable,
        recorder.map(|r| r.complete(&calls, &list)),
    )
}

#[cfg(test)]
mod tests;
