//! Histories: operations with call and return times, and the event form they can be
//! given in.

use std::collections::HashMap;
use std::fmt;

/// One operation of a client: its input, when it was called, its output, and when it
/// returned.
///
/// Times are any monotonic `u64` clock (the KV tests use nanoseconds since the test
/// started; the file parsers use line numbers). Intervals are closed: two operations are
/// concurrent when neither returned strictly before the other was called. An operation
/// that never returned has `return_time: None`; it counts as returning at the end of the
/// history, so it is concurrent with everything after its call, and its `output` should
/// be the model's "outcome unknown" value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Operation<I, O> {
    pub client_id: usize,
    pub input: I,
    pub call_time: u64,
    pub output: O,
    pub return_time: Option<u64>,
}

impl<I, O> Operation<I, O> {
    /// An operation that returned `output` at `return_time`.
    pub fn returned(
        client_id: usize,
        input: I,
        call_time: u64,
        output: O,
        return_time: u64,
    ) -> Self {
        Operation {
            client_id,
            input,
            call_time,
            output,
            return_time: Some(return_time),
        }
    }

    /// An operation that never returned; `unknown_output` is the model's value for "outcome
    /// unknown".
    pub fn pending(client_id: usize, input: I, call_time: u64, unknown_output: O) -> Self {
        Operation {
            client_id,
            input,
            call_time,
            output: unknown_output,
            return_time: None,
        }
    }

    /// The return time used by the search: the end of the history when it never returned.
    pub(crate) fn effective_return(&self) -> u64 {
        self.return_time.unwrap_or(u64::MAX)
    }
}

/// A call or a return, for histories given as a sequence of events. The position of an
/// event in the sequence is its time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event<I, O> {
    pub client_id: usize,
    /// Pairs a call with its return; unique per call.
    pub id: u64,
    pub kind: EventKind<I, O>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventKind<I, O> {
    Call(I),
    Return(O),
}

/// Why a history cannot be checked at all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HistoryError {
    /// An operation returned before it was called.
    ReturnBeforeCall {
        operation: usize,
        call_time: u64,
        return_time: u64,
    },
    /// Two calls in an event history share an id.
    DuplicateCall {
        id: u64,
        first: usize,
        second: usize,
    },
    /// A return in an event history has no earlier call with its id.
    ReturnWithoutCall { id: u64, position: usize },
    /// A call in an event history has two returns.
    DuplicateReturn { id: u64, position: usize },
    /// The model's partition function did not place every operation in exactly one
    /// partition.
    BadPartition { detail: String },
}

impl fmt::Display for HistoryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HistoryError::ReturnBeforeCall {
                operation,
                call_time,
                return_time,
            } => write!(
                f,
                "operation {operation} returns at {return_time}, before its call at {call_time}"
            ),
            HistoryError::DuplicateCall { id, first, second } => {
                write!(f, "events {first} and {second} are both calls with id {id}")
            }
            HistoryError::ReturnWithoutCall { id, position } => {
                write!(
                    f,
                    "event {position} returns id {id}, which has no earlier call"
                )
            }
            HistoryError::DuplicateReturn { id, position } => {
                write!(f, "event {position} is a second return for id {id}")
            }
            HistoryError::BadPartition { detail } => {
                write!(
                    f,
                    "the model's partition function is inconsistent: {detail}"
                )
            }
        }
    }
}

impl std::error::Error for HistoryError {}

/// Checks the invariants the search relies on.
pub(crate) fn validate<I, O>(history: &[Operation<I, O>]) -> Result<(), HistoryError> {
    for (index, op) in history.iter().enumerate() {
        if let Some(ret) = op.return_time
            && ret < op.call_time
        {
            return Err(HistoryError::ReturnBeforeCall {
                operation: index,
                call_time: op.call_time,
                return_time: ret,
            });
        }
    }
    Ok(())
}

/// Turns an event history into operations, with each event's position as its time. A call
/// with no return becomes a pending operation whose output is `pending_output(&input)`.
pub fn operations_from_events<I, O>(
    events: Vec<Event<I, O>>,
    pending_output: impl Fn(&I) -> O,
) -> Result<Vec<Operation<I, O>>, HistoryError> {
    struct Open<I, O> {
        client_id: usize,
        input: I,
        call_time: u64,
        position: usize,
        ret: Option<(O, u64)>,
    }
    let mut by_id: HashMap<u64, usize> = HashMap::new();
    let mut open: Vec<Open<I, O>> = Vec::new();
    for (position, event) in events.into_iter().enumerate() {
        match event.kind {
            EventKind::Call(input) => {
                if let Some(&first) = by_id.get(&event.id) {
                    return Err(HistoryError::DuplicateCall {
                        id: event.id,
                        first: open[first].position,
                        second: position,
                    });
                }
                by_id.insert(event.id, open.len());
                open.push(Open {
                    client_id: event.client_id,
                    input,
                    call_time: position as u64,
                    position,
                    ret: None,
                });
            }
            EventKind::Return(output) => {
                let Some(&index) = by_id.get(&event.id) else {
                    return Err(HistoryError::ReturnWithoutCall {
                        id: event.id,
                        position,
                    });
                };
                if open[index].ret.is_some() {
                    return Err(HistoryError::DuplicateReturn {
                        id: event.id,
                        position,
                    });
                }
                open[index].ret = Some((output, position as u64));
            }
        }
    }
    Ok(open
        .into_iter()
        .map(|op| match op.ret {
            Some((output, at)) => {
                Operation::returned(op.client_id, op.input, op.call_time, output, at)
            }
            None => {
                let output = pending_output(&op.input);
                Operation::pending(op.client_id, op.input, op.call_time, output)
            }
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(client_id: usize, id: u64, input: &'static str) -> Event<&'static str, &'static str> {
        Event {
            client_id,
            id,
            kind: EventKind::Call(input),
        }
    }
    fn ret(client_id: usize, id: u64, output: &'static str) -> Event<&'static str, &'static str> {
        Event {
            client_id,
            id,
            kind: EventKind::Return(output),
        }
    }

    #[test]
    fn events_become_operations_timed_by_position() {
        let ops = operations_from_events(
            vec![call(0, 7, "a"), call(1, 8, "b"), ret(0, 7, "A")],
            |_| "?",
        )
        .unwrap();
        assert_eq!(ops[0], Operation::returned(0, "a", 0, "A", 2));
        assert_eq!(ops[1], Operation::pending(1, "b", 1, "?"));
    }

    #[test]
    fn malformed_event_histories_are_errors() {
        assert_eq!(
            operations_from_events(vec![ret(0, 1, "x")], |_| "?"),
            Err(HistoryError::ReturnWithoutCall { id: 1, position: 0 })
        );
        assert_eq!(
            operations_from_events(vec![call(0, 1, "a"), call(1, 1, "b")], |_| "?"),
            Err(HistoryError::DuplicateCall {
                id: 1,
                first: 0,
                second: 1
            })
        );
        assert_eq!(
            operations_from_events(
                vec![call(0, 1, "a"), ret(0, 1, "x"), ret(0, 1, "y")],
                |_| "?"
            ),
            Err(HistoryError::DuplicateReturn { id: 1, position: 2 })
        );
    }

    #[test]
    fn a_return_before_its_call_is_rejected() {
        let history = vec![Operation::returned(0, (), 10, (), 9)];
        let err = validate(&history).unwrap_err();
        assert!(err.to_string().contains("before its call"), "{err}");
    }
}
