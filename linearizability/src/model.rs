//! The sequential specification a history is checked against.

use std::collections::BTreeMap;
use std::hash::Hash;

use crate::history::Operation;

/// A sequential object: its initial state and what one operation does to it.
///
/// The checker memoizes (set of linearized operations, state) pairs, so states must be
/// comparable and hashable; two states that compare equal must behave the same in every
/// future step.
pub trait Model {
    type State: Eq + Hash;
    type Input;
    type Output;

    /// The state before any operation.
    fn init(&self) -> Self::State;

    /// Whether an operation with `input` may return `output` in `state`: `Some(next
    /// state)` if it may, `None` if not.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Option<Self::State>;

    /// Whether an operation with this input and output leaves the state as it is wherever
    /// it is placed (a read; a write that was refused). The checker linearizes such an
    /// operation as soon as it is valid and never backtracks over it, which is what makes
    /// read-heavy histories fast. Answer `true` only if it holds in *every* state: a write
    /// of the current value is not read-only. The default, `false`, is always safe.
    fn is_read_only(&self, input: &Self::Input, output: &Self::Output) -> bool {
        let _ = (input, output);
        false
    }

    /// Splits the history into independent parts, each checked on its own (a key/value
    /// store partitions by key). Returns indices into `history`; every operation must be in
    /// exactly one part. The default keeps the history whole.
    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    /// A title for one part of the partition (for the visualization), e.g. `key "x"`.
    fn describe_partition(
        &self,
        history: &[Operation<Self::Input, Self::Output>],
        part: &[usize],
    ) -> String {
        let _ = history;
        format!("{} operations", part.len())
    }

    /// One line describing an operation, e.g. `put("x", "1") -> ok`.
    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String;

    /// One line describing a state.
    fn describe_state(&self, state: &Self::State) -> String;
}

/// Partitions operations by a key derived from the input; parts come out ordered by key,
/// so the order does not depend on hashing.
pub fn partition_by_key<I, O, K: Ord>(
    history: &[Operation<I, O>],
    key: impl Fn(&I) -> K,
) -> Vec<Vec<usize>> {
    let mut parts: BTreeMap<K, Vec<usize>> = BTreeMap::new();
    for (index, op) in history.iter().enumerate() {
        parts.entry(key(&op.input)).or_default().push(index);
    }
    parts.into_values().collect()
}

/// A model whose step may lead to several states (or none). Turn it into a [`Model`]
/// with [`PowerSet`], whose state is the set of states the object may be in.
pub trait NondeterministicModel {
    type State: Ord + Hash + Clone;
    type Input;
    type Output;

    /// The states the object may start in.
    fn init(&self) -> Vec<Self::State>;

    /// Every state an operation with `input` returning `output` may lead to from `state`;
    /// empty if the output is impossible there.
    fn step(
        &self,
        state: &Self::State,
        input: &Self::Input,
        output: &Self::Output,
    ) -> Vec<Self::State>;

    fn partition(&self, history: &[Operation<Self::Input, Self::Output>]) -> Vec<Vec<usize>> {
        vec![(0..history.len()).collect()]
    }

    fn describe_operation(&self, input: &Self::Input, output: &Self::Output) -> String;

    fn describe_state(&self, state: &Self::State) -> String;
}

/// A [`NondeterministicModel`] as a deterministic [`Model`] over sets of states: a step
/// is legal when it is legal from at least one of the possible states, and leads to the
/// union of their successors. Sets are kept sorted and without duplicates, so equal sets
/// compare and hash equal.
#[derive(Debug, Clone, Copy, Default)]
pub struct PowerSet<M>(pub M);

fn normalize<S: Ord>(mut states: Vec<S>) -> Vec<S> {
    states.sort_unstable();
    states.dedup();
    states
}

impl<M: NondeterministicModel> Model for PowerSet<M> {
    type State = Vec<M::State>;
    type Input = M::Input;
    type Output = M::Output;

    fn init(&self) -> Self::State {
        normalize(self.0.init())
    }

    fn step(
        &self,
        state: &Self::State,
        input: &M::Input,
        output: &M::Output,
    ) -> Option<Self::State> {
        let next: Vec<M::State> = state
            .iter()
            .flat_map(|s| self.0.step(s, input, output))
            .collect();
        if next.is_empty() {
            None
        } else {
            Some(normalize(next))
        }
    }

    fn partition(&self, history: &[Operation<M::Input, M::Output>]) -> Vec<Vec<usize>> {
        self.0.partition(history)
    }

    fn describe_operation(&self, input: &M::Input, output: &M::Output) -> String {
        self.0.describe_operation(input, output)
    }

    fn describe_state(&self, state: &Self::State) -> String {
        let states: Vec<String> = state.iter().map(|s| self.0.describe_state(s)).collect();
        format!("one of {{{}}}", states.join(", "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Verdict, check_operations};

    /// A register whose writes may be lost: a write leads to the new value or leaves the
    /// old one.
    struct LossyRegister;

    impl NondeterministicModel for LossyRegister {
        type State = i64;
        type Input = Option<i64>; // Some(v): write v; None: read
        type Output = i64; // what a read returned (ignored for writes)

        fn init(&self) -> Vec<i64> {
            vec![0]
        }

        fn step(&self, state: &i64, input: &Option<i64>, output: &i64) -> Vec<i64> {
            match input {
                Some(value) => vec![*state, *value],
                None if output == state => vec![*state],
                None => vec![],
            }
        }

        fn describe_operation(&self, input: &Option<i64>, output: &i64) -> String {
            format!("{input:?} -> {output}")
        }

        fn describe_state(&self, state: &i64) -> String {
            state.to_string()
        }
    }

    #[test]
    fn a_power_set_follows_every_possible_state() {
        let write = |v: i64, t: u64| Operation::returned(0, Some(v), t, 0, t + 1);
        let read = |v: i64, t: u64| Operation::returned(1, None, t, v, t + 1);
        let model = PowerSet(LossyRegister);
        // The write of 1 may have been lost, or not: reads of 0 and then 1 are both fine.
        assert_eq!(
            check_operations(&model, &[write(1, 0), read(1, 2)], None),
            Ok(Verdict::Ok)
        );
        assert_eq!(
            check_operations(&model, &[write(1, 0), read(0, 2)], None),
            Ok(Verdict::Ok)
        );
        // But a value never written cannot be read, and a read pins the state down.
        assert_eq!(
            check_operations(&model, &[write(1, 0), read(2, 2)], None),
            Ok(Verdict::Illegal)
        );
        assert_eq!(
            check_operations(&model, &[write(1, 0), read(1, 2), read(0, 4)], None),
            Ok(Verdict::Illegal)
        );
        assert_eq!(model.describe_state(&vec![0, 1]), "one of {0, 1}");
    }

    #[test]
    fn partition_by_key_orders_parts_by_key() {
        let history: Vec<Operation<&str, ()>> = ["b", "a", "b"]
            .iter()
            .enumerate()
            .map(|(i, k)| Operation::returned(0, *k, i as u64, (), i as u64))
            .collect();
        assert_eq!(
            partition_by_key(&history, |k| *k),
            vec![vec![1], vec![0, 2]]
        );
    }
}
