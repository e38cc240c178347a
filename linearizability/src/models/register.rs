//! One register with read, write and compare-and-set (the Jepsen etcd histories).
//!
//! The register starts empty (nil). A read must return its value; a write always
//! succeeds; a cas from `from` to `to` succeeds exactly when the register holds `from`.
//! A read whose result is unknown (it timed out) is always allowed. An operation that
//! never returned has output [`RegisterOutput::Unknown`]: it is allowed in any state and a
//! write or cas takes effect as it would have. "An unknown cas may have done either"
//! needs no second branch: an operation that never returned can always be linearized
//! last, where its effect is seen by nobody.

use crate::model::Model;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegisterInput {
    Read,
    Write(i64),
    Cas { from: i64, to: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum RegisterOutput {
    /// A read returned this value (`None`: nil).
    Read(Option<i64>),
    /// A write returned.
    Written,
    /// A cas returned: `true` for ok, `false` for fail.
    Cas(bool),
    /// The result is not known (a read that timed out, or an operation that never
    /// returned).
    Unknown,
}

/// The register; its state is `None` while empty. A read whose output is `Written` or
/// `Cas`, and similar mismatches, are never legal.
#[derive(Debug, Clone, Copy, Default)]
pub struct RegisterModel;

impl Model for RegisterModel {
    type State = Option<i64>;
    type Input = RegisterInput;
    type Output = RegisterOutput;

    fn init(&self) -> Option<i64> {
        None
    }

    fn is_read_only(&self, input: &RegisterInput, output: &RegisterOutput) -> bool {
        matches!(
            (input, output),
            (RegisterInput::Read, _) | (RegisterInput::Cas { .. }, RegisterOutput::Cas(false))
        )
    }

    fn step(
        &self,
        state: &Option<i64>,
        input: &RegisterInput,
        output: &RegisterOutput,
    ) -> Option<Option<i64>> {
        match (*input, *output) {
            (RegisterInput::Read, RegisterOutput::Read(value)) => {
                (value == *state).then_some(*state)
            }
            (RegisterInput::Read, RegisterOutput::Unknown) => Some(*state),
            (RegisterInput::Write(value), RegisterOutput::Written | RegisterOutput::Unknown) => {
                Some(Some(value))
            }
            (RegisterInput::Cas { from, to }, RegisterOutput::Cas(true)) => {
                (*state == Some(from)).then_some(Some(to))
            }
            (RegisterInput::Cas { from, .. }, RegisterOutput::Cas(false)) => {
                (*state != Some(from)).then_some(*state)
            }
            (RegisterInput::Cas { from, to }, RegisterOutput::Unknown) => {
                Some(if *state == Some(from) {
                    Some(to)
                } else {
                    *state
                })
            }
            _ => None,
        }
    }

    fn describe_operation(&self, input: &RegisterInput, output: &RegisterOutput) -> String {
        let show = |v: Option<i64>| v.map_or_else(|| "nil".to_owned(), |v| v.to_string());
        match (input, output) {
            (RegisterInput::Read, RegisterOutput::Read(value)) => {
                format!("read() -> {}", show(*value))
            }
            (RegisterInput::Read, _) => "read() -> ?".to_owned(),
            (RegisterInput::Write(value), RegisterOutput::Unknown) => {
                format!("write({value}) -> ?")
            }
            (RegisterInput::Write(value), _) => format!("write({value})"),
            (RegisterInput::Cas { from, to }, RegisterOutput::Cas(true)) => {
                format!("cas({from}, {to}) -> ok")
            }
            (RegisterInput::Cas { from, to }, RegisterOutput::Cas(false)) => {
                format!("cas({from}, {to}) -> fail")
            }
            (RegisterInput::Cas { from, to }, _) => format!("cas({from}, {to}) -> ?"),
        }
    }

    fn describe_state(&self, state: &Option<i64>) -> String {
        state.map_or_else(|| "nil".to_owned(), |v| v.to_string())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::history::Operation;
    use crate::{Verdict, check_operations};

    fn verdict(history: &[Operation<RegisterInput, RegisterOutput>]) -> Verdict {
        check_operations(&RegisterModel, history, None).unwrap()
    }

    #[test]
    fn cas_succeeds_exactly_when_the_register_holds_from() {
        let ok = vec![
            Operation::returned(0, RegisterInput::Write(1), 0, RegisterOutput::Written, 1),
            Operation::returned(
                1,
                RegisterInput::Cas { from: 1, to: 2 },
                2,
                RegisterOutput::Cas(true),
                3,
            ),
            Operation::returned(
                2,
                RegisterInput::Cas { from: 1, to: 3 },
                4,
                RegisterOutput::Cas(false),
                5,
            ),
            Operation::returned(0, RegisterInput::Read, 6, RegisterOutput::Read(Some(2)), 7),
        ];
        assert_eq!(verdict(&ok), Verdict::Ok);
        let mut bad = ok.clone();
        bad[2].output = RegisterOutput::Cas(true);
        assert_eq!(verdict(&bad), Verdict::Illegal);
    }

    #[test]
    fn the_register_starts_nil() {
        let read = |v| {
            vec![Operation::returned(
                0,
                RegisterInput::Read,
                0,
                RegisterOutput::Read(v),
                1,
            )]
        };
        assert_eq!(verdict(&read(None)), Verdict::Ok);
        assert_eq!(verdict(&read(Some(0))), Verdict::Illegal);
    }

    #[test]
    fn an_unknown_cas_may_have_done_either() {
        // It took effect: a later read sees 2.
        let done = vec![
            Operation::returned(0, RegisterInput::Write(1), 0, RegisterOutput::Written, 1),
            Operation::pending(
                1,
                RegisterInput::Cas { from: 1, to: 2 },
                2,
                RegisterOutput::Unknown,
            ),
            Operation::returned(0, RegisterInput::Read, 3, RegisterOutput::Read(Some(2)), 4),
        ];
        assert_eq!(verdict(&done), Verdict::Ok);
        // It did not: later reads keep seeing 1 (it is linearized after them).
        let mut not_done = done.clone();
        not_done[2].output = RegisterOutput::Read(Some(1));
        not_done.push(Operation::returned(
            0,
            RegisterInput::Read,
            5,
            RegisterOutput::Read(Some(1)),
            6,
        ));
        assert_eq!(verdict(&not_done), Verdict::Ok);
    }

    #[test]
    fn a_timed_out_read_is_always_allowed_but_has_its_interval() {
        let history = vec![
            Operation::returned(0, RegisterInput::Read, 0, RegisterOutput::Unknown, 1),
            Operation::returned(1, RegisterInput::Write(5), 2, RegisterOutput::Written, 3),
            Operation::returned(0, RegisterInput::Read, 4, RegisterOutput::Read(Some(5)), 5),
        ];
        assert_eq!(verdict(&history), Verdict::Ok);
    }
}
