//! The versioned key/value store of MIT 6.5840's 2025 lab 4 (kvsrv1, kvraft1), checked
//! one key at a time.
//!
//! A key's state is `(value, version)`, `("", 0)` while the key does not exist (a key that
//! exists has version 1 or more).
//!
//! - `Put(key, value, version)` with the key's current version must have returned `OK`
//!   or `ErrMaybe`, and the state becomes `(value, version + 1)`; a `Put` with version 0
//!   of a missing key creates it this way.
//! - A `Put` whose version does not match must have returned `ErrVersion` or `ErrMaybe`
//!   (`ErrNoKey` if the key is missing), and the state does not change.
//! - `Get(key)` must return the current value and version, or `ErrNoKey` if the key is
//!   missing. (The Go model compares the value only; comparing the version too is sound,
//!   since the server returns the version it holds.)
//!
//! `ErrMaybe` says the clerk cannot tell whether its put happened; it is allowed both
//! where the version matches (the put happened there) and where it does not (it did
//! not). A put that did not happen is linearized at a point where the version differs:
//! the clerk reports `ErrMaybe` only after a retry was refused with `ErrVersion`, so such
//! a point exists within the call. This is the 2025 Go model's rule, so a put reported as
//! `ErrMaybe` that cannot have happened *and* cannot have failed is caught.
//!
//! An operation that never returned has output [`VersionedKvOutput::Unknown`]: any result
//! is allowed, and a put takes effect if its version matches where it is linearized.
//! (That covers "did nothing" too: such an operation can always be linearized last.)

use std::time::Duration;

use super::quoted;
use crate::checker::Verdict;
use crate::history::{HistoryError, Operation};
use crate::model::{Model, partition_by_key};

/// [`crate::check_operations`] with this model, compiled here rather than in the caller:
/// a test suite built without optimisations still gets an optimised search (the workspace
/// builds this crate at `opt-level = 3` in every profile), which decides histories of tens
/// of thousands of operations in the tests' 1 s.
pub fn check(
    history: &[Operation<VersionedKvInput, VersionedKvOutput>],
    timeout: Option<Duration>,
) -> Result<Verdict, HistoryError> {
    crate::check_operations(&VersionedKvModel, history, timeout)
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionedKvInput {
    Get {
        key: String,
    },
    Put {
        key: String,
        value: String,
        version: u64,
    },
}

impl VersionedKvInput {
    pub fn key(&self) -> &str {
        match self {
            VersionedKvInput::Get { key } | VersionedKvInput::Put { key, .. } => key,
        }
    }
}

/// What a clerk call returned (the lab's `rpc.Err` values, with `Get`'s value and
/// version).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum VersionedKvOutput {
    /// `Get` found the key: `OK` with its value and version.
    Value { value: String, version: u64 },
    /// `Put` returned `OK`.
    Ok,
    /// `Get` of a missing key, or `Put` with a version above 0 of a missing key.
    ErrNoKey,
    /// `Put` was refused: the version did not match.
    ErrVersion,
    /// `Put` may or may not have happened.
    ErrMaybe,
    /// The call never returned.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash, Default)]
pub struct VersionedKvState {
    pub value: String,
    /// 0 while the key does not exist.
    pub version: u64,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct VersionedKvModel;

impl Model for VersionedKvModel {
    type State = VersionedKvState;
    type Input = VersionedKvInput;
    type Output = VersionedKvOutput;

    fn init(&self) -> VersionedKvState {
        VersionedKvState::default()
    }

    fn is_read_only(&self, input: &VersionedKvInput, output: &VersionedKvOutput) -> bool {
        match input {
            VersionedKvInput::Get { .. } => true,
            VersionedKvInput::Put { .. } => {
                matches!(
                    output,
                    VersionedKvOutput::ErrVersion | VersionedKvOutput::ErrNoKey
                )
            }
        }
    }

    fn step(
        &self,
        state: &VersionedKvState,
        input: &VersionedKvInput,
        output: &VersionedKvOutput,
    ) -> Option<VersionedKvState> {
        use VersionedKvOutput as Out;
        let exists = state.version > 0;
        match input {
            VersionedKvInput::Get { .. } => {
                let legal = match output {
                    Out::Value { value, version } => {
                        exists && *value == state.value && *version == state.version
                    }
                    Out::ErrNoKey => !exists,
                    Out::Unknown => true,
                    Out::Ok | Out::ErrVersion | Out::ErrMaybe => false,
                };
                legal.then(|| state.clone())
            }
            VersionedKvInput::Put { value, version, .. } => {
                if *version == state.version {
                    matches!(output, Out::Ok | Out::ErrMaybe | Out::Unknown).then(|| {
                        VersionedKvState {
                            value: value.clone(),
                            version: state.version + 1,
                        }
                    })
                } else {
                    let legal = if exists {
                        matches!(output, Out::ErrVersion | Out::ErrMaybe | Out::Unknown)
                    } else {
                        matches!(output, Out::ErrNoKey | Out::Unknown)
                    };
                    legal.then(|| state.clone())
                }
            }
        }
    }

    fn partition(
        &self,
        history: &[Operation<VersionedKvInput, VersionedKvOutput>],
    ) -> Vec<Vec<usize>> {
        partition_by_key(history, |input| input.key().to_owned())
    }

    fn describe_partition(
        &self,
        history: &[Operation<VersionedKvInput, VersionedKvOutput>],
        part: &[usize],
    ) -> String {
        match part.first() {
            Some(&first) => format!("key {}", quoted(history[first].input.key())),
            None => "no operations".to_owned(),
        }
    }

    fn describe_operation(&self, input: &VersionedKvInput, output: &VersionedKvOutput) -> String {
        let call = match input {
            VersionedKvInput::Get { key } => format!("Get({})", quoted(key)),
            VersionedKvInput::Put {
                key,
                value,
                version,
            } => {
                format!("Put({}, {}, v{version})", quoted(key), quoted(value))
            }
        };
        let result = match output {
            VersionedKvOutput::Value { value, version } => {
                format!("({}, v{version})", quoted(value))
            }
            VersionedKvOutput::Ok => "OK".to_owned(),
            VersionedKvOutput::ErrNoKey => "ErrNoKey".to_owned(),
            VersionedKvOutput::ErrVersion => "ErrVersion".to_owned(),
            VersionedKvOutput::ErrMaybe => "ErrMaybe".to_owned(),
            VersionedKvOutput::Unknown => "?".to_owned(),
        };
        format!("{call} -> {result}")
    }

    fn describe_state(&self, state: &VersionedKvState) -> String {
        if state.version == 0 {
            "missing".to_owned()
        } else {
            format!("({}, v{})", quoted(&state.value), state.version)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Verdict, check_operations};
    use VersionedKvOutput as Out;

    fn put(value: &str, version: u64) -> VersionedKvInput {
        VersionedKvInput::Put {
            key: "k".into(),
            value: value.into(),
            version,
        }
    }
    fn get() -> VersionedKvInput {
        VersionedKvInput::Get { key: "k".into() }
    }
    fn read(value: &str, version: u64) -> Out {
        Out::Value {
            value: value.into(),
            version,
        }
    }
    /// Operations one after another (no concurrency).
    fn sequential(ops: Vec<(VersionedKvInput, Out)>) -> Vec<Operation<VersionedKvInput, Out>> {
        ops.into_iter()
            .enumerate()
            .map(|(i, (input, output))| {
                Operation::returned(0, input, 2 * i as u64, output, 2 * i as u64 + 1)
            })
            .collect()
    }
    fn verdict(history: &[Operation<VersionedKvInput, Out>]) -> Verdict {
        check_operations(&VersionedKvModel, history, None).unwrap()
    }

    #[test]
    fn put_at_version_zero_creates_and_versions_count_up() {
        let h = sequential(vec![
            (get(), Out::ErrNoKey),
            (put("a", 0), Out::Ok),
            (get(), read("a", 1)),
            (put("b", 1), Out::Ok),
            (put("c", 1), Out::ErrVersion),
            (get(), read("b", 2)),
        ]);
        assert_eq!(verdict(&h), Verdict::Ok);
    }

    #[test]
    fn wrong_results_are_caught() {
        // A put with the current version refused.
        assert_eq!(
            verdict(&sequential(vec![(put("a", 0), Out::ErrVersion)])),
            Verdict::Illegal
        );
        // A put with a stale version accepted.
        assert_eq!(
            verdict(&sequential(vec![
                (put("a", 0), Out::Ok),
                (put("b", 0), Out::Ok)
            ])),
            Verdict::Illegal
        );
        // A get of a missing key that claims a value, and one with the wrong version.
        assert_eq!(
            verdict(&sequential(vec![(get(), read("", 0))])),
            Verdict::Illegal
        );
        assert_eq!(
            verdict(&sequential(vec![
                (put("a", 0), Out::Ok),
                (get(), read("a", 2))
            ])),
            Verdict::Illegal
        );
        // A get of an existing key that says it is missing.
        assert_eq!(
            verdict(&sequential(vec![
                (put("a", 0), Out::Ok),
                (get(), Out::ErrNoKey)
            ])),
            Verdict::Illegal
        );
    }

    #[test]
    fn put_above_version_zero_of_a_missing_key_is_err_no_key() {
        assert_eq!(
            verdict(&sequential(vec![(put("a", 3), Out::ErrNoKey)])),
            Verdict::Ok
        );
        assert_eq!(
            verdict(&sequential(vec![(put("a", 3), Out::ErrVersion)])),
            Verdict::Illegal
        );
        assert_eq!(
            verdict(&sequential(vec![(put("a", 3), Out::Ok)])),
            Verdict::Illegal
        );
    }

    #[test]
    fn err_maybe_allows_either_outcome() {
        // It happened: the next get sees it.
        let happened = sequential(vec![
            (put("a", 0), Out::Ok),
            (put("b", 1), Out::ErrMaybe),
            (get(), read("b", 2)),
        ]);
        assert_eq!(verdict(&happened), Verdict::Ok);
        // It did not happen: another client's concurrent put took the version first.
        let lost = vec![
            Operation::returned(0, put("mine", 0), 0, Out::ErrMaybe, 10),
            Operation::returned(1, put("theirs", 0), 1, Out::Ok, 2),
            Operation::returned(1, get(), 11, read("theirs", 1), 12),
        ];
        assert_eq!(verdict(&lost), Verdict::Ok);
        // With a stale version it is simply a refused put.
        let stale = sequential(vec![
            (put("a", 0), Out::Ok),
            (put("b", 0), Out::ErrMaybe),
            (get(), read("a", 1)),
        ]);
        assert_eq!(verdict(&stale), Verdict::Ok);
    }

    #[test]
    fn err_maybe_that_can_be_neither_is_caught() {
        // Alone on the key with the right version, the put cannot have failed (no retry
        // could have seen another version), so a later get must see it.
        let impossible = sequential(vec![(put("a", 0), Out::ErrMaybe), (get(), Out::ErrNoKey)]);
        assert_eq!(verdict(&impossible), Verdict::Illegal);
    }

    #[test]
    fn a_put_that_never_returned_may_or_may_not_take_effect() {
        let seen = vec![
            Operation::pending(0, put("a", 0), 0, Out::Unknown),
            Operation::returned(1, get(), 5, read("a", 1), 6),
        ];
        assert_eq!(verdict(&seen), Verdict::Ok);
        let unseen = vec![
            Operation::pending(0, put("a", 0), 0, Out::Unknown),
            Operation::returned(1, get(), 5, Out::ErrNoKey, 6),
        ];
        assert_eq!(verdict(&unseen), Verdict::Ok);
    }

    #[test]
    fn descriptions() {
        assert_eq!(
            VersionedKvModel.describe_operation(&put("x", 3), &Out::ErrMaybe),
            r#"Put("k", "x", v3) -> ErrMaybe"#
        );
        assert_eq!(
            VersionedKvModel.describe_operation(&get(), &read("x", 4)),
            r#"Get("k") -> ("x", v4)"#
        );
        assert_eq!(
            VersionedKvModel.describe_state(&VersionedKvState::default()),
            "missing"
        );
    }
}
