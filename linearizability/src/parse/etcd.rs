//! Jepsen etcd logs of one register (after the process number, fields are separated by
//! tabs):
//!
//! ```text
//! INFO  jepsen.util - 2  :invoke  :write  4
//! INFO  jepsen.util - 2  :ok  :write  4
//! INFO  jepsen.util - 0  :invoke  :cas  [1 4]
//! INFO  jepsen.util - 0  :fail  :cas  [1 4]
//! INFO  jepsen.util - 3  :invoke  :read  nil
//! INFO  jepsen.util - 3  :ok  :read  nil
//! ```
//!
//! Invocations are `:read nil`, `:write N` and `:cas [FROM TO]`. Returns are `:ok :read
//! nil|N`, `:ok :write N`, `:ok :cas [FROM TO]` or `:fail :cas [FROM TO]` (the cas did not
//! happen), and `:fail :read :timed-out` (the read returned there, result unknown). A
//! return must repeat what its process invoked. `:info` lines are ignored: an operation
//! without a return line has an unknown outcome and counts as returning at the end of
//! the history (a process may invoke again after an `:info` line). Lines logged by
//! loggers other than `jepsen.util` and blank lines are skipped; any other line is an
//! error.

use std::collections::HashMap;
use std::path::Path;

use super::{LineContext, LoadError, ParseError, read_text};
use crate::history::Operation;
use crate::models::register::{RegisterInput, RegisterOutput};

struct Open {
    op_index: usize,
    line: usize,
    /// An `:info` line was seen for it: it is over, with an unknown outcome.
    abandoned: bool,
}

/// Parses an etcd log; `source` names it in error messages.
pub fn parse_etcd_history(
    text: &str,
    source: &str,
) -> Result<Vec<Operation<RegisterInput, RegisterOutput>>, ParseError> {
    let mut history: Vec<Operation<RegisterInput, RegisterOutput>> = Vec::new();
    let mut open: HashMap<u64, Open> = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let ctx = LineContext { source, line };
        let Some((logger, rest)) = raw.split_once(" - ") else {
            return Err(ctx.error("not a Jepsen log line (expected \"LEVEL  logger - ...\")"));
        };
        match logger.split_whitespace().collect::<Vec<_>>()[..] {
            [_level, "jepsen.util"] => {}
            [_level, _other_logger] => continue,
            _ => return Err(ctx.error("not a Jepsen log line (expected \"LEVEL  logger - ...\")")),
        }
        let tokens: Vec<&str> = rest.split_whitespace().collect();
        if tokens.len() < 3 {
            return Err(ctx.error("expected: process, :type, :f and a value"));
        }
        let (kind, function, value) = (tokens[1], tokens[2], tokens[3..].join(" "));
        if kind == ":info" {
            if let Ok(process) = tokens[0].parse::<u64>()
                && let Some(pending) = open.get_mut(&process)
            {
                pending.abandoned = true;
            }
            continue;
        }
        let process: u64 = tokens[0]
            .parse()
            .map_err(|_| ctx.error(format!("process must be a number, not {:?}", tokens[0])))?;
        let time = line as u64;
        match kind {
            ":invoke" => {
                if let Some(previous) = open.get(&process)
                    && !previous.abandoned
                {
                    return Err(ctx.error(format!(
                        "process {process} invokes an operation while its operation from line {} has not returned",
                        previous.line
                    )));
                }
                let input = match function {
                    ":read" if value == "nil" => RegisterInput::Read,
                    ":read" => {
                        return Err(ctx.error(format!("a read is invoked with nil, not {value:?}")));
                    }
                    ":write" => RegisterInput::Write(number(&value, &ctx)?),
                    ":cas" => {
                        let (from, to) = pair(&value, &ctx)?;
                        RegisterInput::Cas { from, to }
                    }
                    other => {
                        return Err(
                            ctx.error(format!(":f must be :read, :write or :cas, not {other:?}"))
                        );
                    }
                };
                open.insert(
                    process,
                    Open {
                        op_index: history.len(),
                        line,
                        abandoned: false,
                    },
                );
                history.push(Operation::pending(
                    process as usize,
                    input,
                    time,
                    RegisterOutput::Unknown,
                ));
            }
            ":ok" | ":fail" => {
                let Some(pending) = open.remove(&process) else {
                    return Err(ctx.error(format!(
                        "process {process} has no operation in progress to end"
                    )));
                };
                let op = &mut history[pending.op_index];
                let output = match (op.input, kind, function) {
                    (RegisterInput::Read, ":ok", ":read") => {
                        RegisterOutput::Read(if value == "nil" {
                            None
                        } else {
                            Some(number(&value, &ctx)?)
                        })
                    }
                    (RegisterInput::Read, ":fail", ":read") if value == ":timed-out" => {
                        RegisterOutput::Unknown
                    }
                    (RegisterInput::Read, ":fail", ":read") => {
                        return Err(
                            ctx.error(format!("a failed read must say :timed-out, not {value:?}"))
                        );
                    }
                    (RegisterInput::Write(invoked), ":ok", ":write") => {
                        if number(&value, &ctx)? != invoked {
                            return Err(mismatch(&ctx, &value, pending.line));
                        }
                        RegisterOutput::Written
                    }
                    (RegisterInput::Write(_), ":fail", ":write") => {
                        return Err(ctx
                            .error("a write cannot :fail in this format (writes always succeed)"));
                    }
                    (RegisterInput::Cas { from, to }, _, ":cas") => {
                        if pair(&value, &ctx)? != (from, to) {
                            return Err(mismatch(&ctx, &value, pending.line));
                        }
                        RegisterOutput::Cas(kind == ":ok")
                    }
                    (input, _, _) => {
                        return Err(ctx.error(format!(
                            "{kind} {function} does not match the {} that process {process} invoked on line {}",
                            match input {
                                RegisterInput::Read => ":read",
                                RegisterInput::Write(_) => ":write",
                                RegisterInput::Cas { .. } => ":cas",
                            },
                            pending.line
                        )));
                    }
                };
                op.output = output;
                op.return_time = Some(time);
            }
            other => {
                return Err(ctx.error(format!(
                    ":type must be :invoke, :ok, :fail or :info, not {other:?}"
                )));
            }
        }
    }
    // An empty history is a valid one (and linearizable, as porcupine says).
    Ok(history)
}

/// Reads and parses an etcd log file.
pub fn read_etcd_history(
    path: &Path,
) -> Result<Vec<Operation<RegisterInput, RegisterOutput>>, LoadError> {
    let text = read_text(path)?;
    Ok(parse_etcd_history(&text, &path.display().to_string())?)
}

fn number(text: &str, ctx: &LineContext) -> Result<i64, ParseError> {
    text.parse()
        .map_err(|_| ctx.error(format!("expected a number, not {text:?}")))
}

fn pair(text: &str, ctx: &LineContext) -> Result<(i64, i64), ParseError> {
    let inner = text
        .strip_prefix('[')
        .and_then(|t| t.strip_suffix(']'))
        .ok_or_else(|| ctx.error(format!("expected [FROM TO], not {text:?}")))?;
    match inner.split_whitespace().collect::<Vec<_>>()[..] {
        [from, to] => Ok((number(from, ctx)?, number(to, ctx)?)),
        _ => Err(ctx.error(format!("expected [FROM TO], not {text:?}"))),
    }
}

fn mismatch(ctx: &LineContext, value: &str, invoked_line: usize) -> ParseError {
    ctx.error(format!(
        "returned value {value} differs from the one invoked on line {invoked_line}"
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Operation<RegisterInput, RegisterOutput>>, ParseError> {
        parse_etcd_history(text, "etcd.log")
    }

    #[test]
    fn every_kind_of_line() {
        let history = parse(
            "INFO  jepsen.util - 2\t:invoke\t:write\t4\n\
             INFO  jepsen.util - 0\t:invoke\t:cas\t[4 1]\n\
             INFO  jepsen.util - 2\t:ok\t:write\t4\n\
             INFO  jepsen.util - 0\t:fail\t:cas\t[4 1]\n\
             INFO  jepsen.util - 3\t:invoke\t:read\tnil\n\
             INFO  jepsen.util - 3\t:ok\t:read\t4\n\
             INFO  jepsen.util - 3\t:invoke\t:read\tnil\n\
             INFO  jepsen.core - something else entirely\n\
             INFO  jepsen.util - 3\t:fail\t:read\t:timed-out\n\
             INFO  jepsen.util - 1\t:invoke\t:cas\t[4 2]\n\
             INFO  jepsen.util - 1\t:info\t:cas\t:timed-out\n\
             INFO  jepsen.util - 1\t:invoke\t:read\tnil\n\
             INFO  jepsen.util - 1\t:ok\t:read\tnil\n",
        )
        .unwrap();
        use RegisterInput as In;
        use RegisterOutput as Out;
        assert_eq!(
            history,
            vec![
                Operation::returned(2, In::Write(4), 1, Out::Written, 3),
                Operation::returned(0, In::Cas { from: 4, to: 1 }, 2, Out::Cas(false), 4),
                Operation::returned(3, In::Read, 5, Out::Read(Some(4)), 6),
                Operation::returned(3, In::Read, 7, Out::Unknown, 9),
                Operation::pending(1, In::Cas { from: 4, to: 2 }, 10, Out::Unknown),
                Operation::returned(1, In::Read, 12, Out::Read(None), 13),
            ]
        );
    }

    fn error_of(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn malformed_lines_name_file_line_and_problem() {
        let invoke = "INFO  jepsen.util - 2\t:invoke\t:write\t4\n";
        assert_eq!(
            error_of("hello"),
            "etcd.log:1: not a Jepsen log line (expected \"LEVEL  logger - ...\")"
        );
        assert_eq!(
            error_of("INFO  jepsen.util - 2\t:invoke"),
            "etcd.log:1: expected: process, :type, :f and a value"
        );
        assert_eq!(
            error_of("INFO  jepsen.util - x\t:invoke\t:read\tnil"),
            "etcd.log:1: process must be a number, not \"x\""
        );
        assert!(
            error_of("INFO  jepsen.util - 2\t:invoke\t:write\tfour")
                .contains("expected a number, not \"four\"")
        );
        assert!(
            error_of("INFO  jepsen.util - 2\t:invoke\t:cas\t[1]").contains("expected [FROM TO]")
        );
        assert!(error_of("INFO  jepsen.util - 2\t:invoke\t:delete\t1").contains(":f must be"));
        assert!(error_of("INFO  jepsen.util - 2\t:begin\t:read\tnil").contains(":type must be"));
        assert_eq!(
            error_of(&format!("{invoke}{invoke}")),
            "etcd.log:2: process 2 invokes an operation while its operation from line 1 has not returned"
        );
        assert_eq!(
            error_of("INFO  jepsen.util - 2\t:ok\t:write\t4"),
            "etcd.log:1: process 2 has no operation in progress to end"
        );
        assert_eq!(
            error_of(&format!("{invoke}INFO  jepsen.util - 2\t:ok\t:write\t5")),
            "etcd.log:2: returned value 5 differs from the one invoked on line 1"
        );
        assert!(
            error_of(&format!("{invoke}INFO  jepsen.util - 2\t:ok\t:read\t4"))
                .contains("does not match the :write")
        );
        assert!(
            error_of(&format!("{invoke}INFO  jepsen.util - 2\t:fail\t:write\t4"))
                .contains("cannot :fail")
        );
        assert!(
            parse("\n\n").unwrap().is_empty(),
            "an empty history is valid"
        );
    }
}
