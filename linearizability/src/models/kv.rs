//! A key/value store with get, put and append, checked one key at a time.
//!
//! The state of a key is a string, empty at first; `get` must return it, `put` replaces
//! it, `append` concatenates to it.

use super::quoted;
use crate::history::Operation;
use crate::model::{Model, partition_by_key};

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KvInput {
    Get { key: String },
    Put { key: String, value: String },
    Append { key: String, value: String },
}

impl KvInput {
    pub fn key(&self) -> &str {
        match self {
            KvInput::Get { key } | KvInput::Put { key, .. } | KvInput::Append { key, .. } => key,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum KvOutput {
    /// What a `get` returned.
    Value(String),
    /// A `put` or `append` returned.
    Done,
    /// The operation never returned (or its result is not known); any result is allowed
    /// and a put or append may take effect.
    Unknown,
}

/// The get/put/append model, partitioned by key. A `get` whose output is `Done`, or a
/// `put`/`append` whose output is a `Value`, is never legal.
#[derive(Debug, Clone, Copy, Default)]
pub struct KvModel;

impl Model for KvModel {
    type State = String;
    type Input = KvInput;
    type Output = KvOutput;

    fn init(&self) -> String {
        String::new()
    }

    fn is_read_only(&self, input: &KvInput, _output: &KvOutput) -> bool {
        matches!(input, KvInput::Get { .. })
    }

    fn step(&self, state: &String, input: &KvInput, output: &KvOutput) -> Option<String> {
        match (input, output) {
            (KvInput::Get { .. }, KvOutput::Value(read)) => (read == state).then(|| state.clone()),
            (KvInput::Get { .. }, KvOutput::Unknown) => Some(state.clone()),
            (KvInput::Put { value, .. }, KvOutput::Done | KvOutput::Unknown) => Some(value.clone()),
            (KvInput::Append { value, .. }, KvOutput::Done | KvOutput::Unknown) => {
                let mut next = String::with_capacity(state.len() + value.len());
                next.push_str(state);
                next.push_str(value);
                Some(next)
            }
            _ => None,
        }
    }

    fn partition(&self, history: &[Operation<KvInput, KvOutput>]) -> Vec<Vec<usize>> {
        partition_by_key(history, |input| input.key().to_owned())
    }

    fn describe_partition(
        &self,
        history: &[Operation<KvInput, KvOutput>],
        part: &[usize],
    ) -> String {
        match part.first() {
            Some(&first) => format!("key {}", quoted(history[first].input.key())),
            None => "no operations".to_owned(),
        }
    }

    fn describe_operation(&self, input: &KvInput, output: &KvOutput) -> String {
        let call = match input {
            KvInput::Get { key } => format!("get({})", quoted(key)),
            KvInput::Put { key, value } => format!("put({}, {})", quoted(key), quoted(value)),
            KvInput::Append { key, value } => format!("append({}, {})", quoted(key), quoted(value)),
        };
        match output {
            KvOutput::Value(value) => format!("{call} -> {}", quoted(value)),
            KvOutput::Done => call,
            KvOutput::Unknown => format!("{call} -> ?"),
        }
    }

    fn describe_state(&self, state: &String) -> String {
        quoted(state)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Verdict, check_operations};

    fn get(key: &str) -> KvInput {
        KvInput::Get { key: key.into() }
    }
    fn append(key: &str, value: &str) -> KvInput {
        KvInput::Append {
            key: key.into(),
            value: value.into(),
        }
    }
    fn value(v: &str) -> KvOutput {
        KvOutput::Value(v.into())
    }

    #[test]
    fn appends_concatenate_and_reads_must_see_them() {
        let ok = vec![
            Operation::returned(0, append("k", "a"), 0, KvOutput::Done, 1),
            Operation::returned(1, append("k", "b"), 2, KvOutput::Done, 3),
            Operation::returned(0, get("k"), 4, value("ab"), 5),
        ];
        assert_eq!(check_operations(&KvModel, &ok, None), Ok(Verdict::Ok));
        let mut reordered = ok.clone();
        reordered[2].output = value("ba");
        assert_eq!(
            check_operations(&KvModel, &reordered, None),
            Ok(Verdict::Illegal)
        );
    }

    #[test]
    fn keys_are_independent_partitions() {
        let history = vec![
            Operation::returned(0, append("x", "1"), 0, KvOutput::Done, 1),
            Operation::returned(1, get("y"), 2, value(""), 3),
            Operation::returned(1, get("x"), 4, value("1"), 5),
        ];
        assert_eq!(KvModel.partition(&history), vec![vec![0, 2], vec![1]]);
        assert_eq!(check_operations(&KvModel, &history, None), Ok(Verdict::Ok));
    }

    #[test]
    fn a_put_that_never_returned_may_have_happened() {
        let history = vec![
            Operation::pending(
                0,
                KvInput::Put {
                    key: "k".into(),
                    value: "v".into(),
                },
                0,
                KvOutput::Unknown,
            ),
            Operation::returned(1, get("k"), 5, value("v"), 6),
            Operation::returned(1, get("k"), 7, value("v"), 8),
        ];
        assert_eq!(check_operations(&KvModel, &history, None), Ok(Verdict::Ok));
    }

    #[test]
    fn mismatched_output_kinds_are_illegal() {
        let history = vec![Operation::returned(0, get("k"), 0, KvOutput::Done, 1)];
        assert_eq!(
            check_operations(&KvModel, &history, None),
            Ok(Verdict::Illegal)
        );
    }

    #[test]
    fn descriptions_quote_keys_and_values() {
        assert_eq!(
            KvModel.describe_operation(&get("k\"1"), &value("v")),
            r#"get("k\"1") -> "v""#
        );
        assert_eq!(
            KvModel.describe_operation(&append("k", "v"), &KvOutput::Unknown),
            r#"append("k", "v") -> ?"#
        );
    }
}
