//! Key/value histories, one Jepsen-style map per line:
//!
//! ```text
//! {:process 0, :type :invoke, :f :append, :key "0", :value "x 0 0 y"}
//! {:process 0, :type :ok, :f :append, :key "0", :value "x 0 0 y"}
//! {:process 1, :type :invoke, :f :get, :key "0", :value nil}
//! {:process 1, :type :ok, :f :get, :key "0", :value "x 0 0 y"}
//! ```
//!
//! `:invoke` starts an operation of the process (`:f` is `:get`, `:put` or `:append`;
//! a get invokes with `:value nil`), `:ok` ends the process's pending operation with the
//! same `:f` and `:key` (a get's `:value` is what it read; `nil` reads as the empty
//! string), and `:info` leaves it pending: its outcome is unknown and it counts as
//! returning at the end of the history, as does an operation with no `:ok` line. Other
//! keys in the map (such as `:time`) are ignored. Blank lines are skipped.

use std::collections::HashMap;
use std::path::Path;

use super::{LineContext, LoadError, ParseError, read_text};
use crate::history::Operation;
use crate::models::kv::{KvInput, KvOutput};

/// Parses a key/value history; `source` names it in error messages.
pub fn parse_kv_history(
    text: &str,
    source: &str,
) -> Result<Vec<Operation<KvInput, KvOutput>>, ParseError> {
    let mut history: Vec<Operation<KvInput, KvOutput>> = Vec::new();
    // process -> (index in history, line of the invoke)
    let mut open: HashMap<u64, (usize, usize)> = HashMap::new();
    for (index, raw) in text.lines().enumerate() {
        let line = index + 1;
        if raw.trim().is_empty() {
            continue;
        }
        let ctx = LineContext { source, line };
        let event = parse_event(raw, &ctx)?;
        let time = line as u64;
        match event.kind {
            Kind::Invoke => {
                if let Some(&(_, invoked_at)) = open.get(&event.process) {
                    return Err(ctx.error(format!(
                        "process {} invokes an operation while its operation from line {invoked_at} has not returned",
                        event.process
                    )));
                }
                let input = match (event.function, event.value) {
                    (Function::Get, Value::Nil) => KvInput::Get { key: event.key },
                    (Function::Get, _) => {
                        return Err(ctx.error("a get must be invoked with :value nil"));
                    }
                    (Function::Put, Value::Str(value)) => KvInput::Put {
                        key: event.key,
                        value,
                    },
                    (Function::Append, Value::Str(value)) => KvInput::Append {
                        key: event.key,
                        value,
                    },
                    (Function::Put | Function::Append, _) => {
                        return Err(
                            ctx.error(format!("{} needs a string :value", event.function.name()))
                        );
                    }
                };
                open.insert(event.process, (history.len(), line));
                history.push(Operation::pending(
                    event.process as usize,
                    input,
                    time,
                    KvOutput::Unknown,
                ));
            }
            Kind::Ok | Kind::Info => {
                let Some((op_index, invoked_at)) = open.remove(&event.process) else {
                    return Err(ctx.error(format!(
                        "process {} has no operation in progress to end",
                        event.process
                    )));
                };
                let op = &mut history[op_index];
                let (function, key) = match &op.input {
                    KvInput::Get { key } => (Function::Get, key),
                    KvInput::Put { key, .. } => (Function::Put, key),
                    KvInput::Append { key, .. } => (Function::Append, key),
                };
                if function != event.function || *key != event.key {
                    return Err(ctx.error(format!(
                        "this {} of key {:?} does not match the {} of key {key:?} that process {} invoked on line {invoked_at}",
                        event.function.name(),
                        event.key,
                        function.name(),
                        event.process
                    )));
                }
                if event.kind == Kind::Info {
                    // Outcome unknown: the operation stays pending to the end of the history.
                    continue;
                }
                op.output = match (&op.input, event.value) {
                    (KvInput::Get { .. }, Value::Str(read)) => KvOutput::Value(read),
                    (KvInput::Get { .. }, Value::Nil) => KvOutput::Value(String::new()),
                    (
                        KvInput::Put { value, .. } | KvInput::Append { value, .. },
                        Value::Str(returned),
                    ) if *value == returned => KvOutput::Done,
                    (KvInput::Put { value, .. } | KvInput::Append { value, .. }, returned) => {
                        return Err(ctx.error(format!(
                            "the :ok of a {} must repeat the invoked :value {value:?}, not {}",
                            function.name(),
                            returned.show()
                        )));
                    }
                    (KvInput::Get { .. }, other) => {
                        return Err(ctx.error(format!(
                            "a get's :ok needs a string :value, not {}",
                            other.show()
                        )));
                    }
                };
                op.return_time = Some(time);
            }
        }
    }
    // An empty history is a valid one (and linearizable, as porcupine says).
    Ok(history)
}

/// Reads and parses a key/value history file.
pub fn read_kv_history(path: &Path) -> Result<Vec<Operation<KvInput, KvOutput>>, LoadError> {
    let text = read_text(path)?;
    Ok(parse_kv_history(&text, &path.display().to_string())?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Invoke,
    Ok,
    Info,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Function {
    Get,
    Put,
    Append,
}

impl Function {
    fn name(self) -> &'static str {
        match self {
            Function::Get => "get",
            Function::Put => "put",
            Function::Append => "append",
        }
    }
}

struct KvEvent {
    process: u64,
    kind: Kind,
    function: Function,
    key: String,
    value: Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Value {
    Nil,
    Int(i64),
    Keyword(String),
    Str(String),
}

impl Value {
    fn show(&self) -> String {
        match self {
            Value::Nil => "nil".to_owned(),
            Value::Int(n) => n.to_string(),
            Value::Keyword(k) => format!(":{k}"),
            Value::Str(s) => format!("{s:?}"),
        }
    }
}

fn parse_event(raw: &str, ctx: &LineContext) -> Result<KvEvent, ParseError> {
    let fields = MapReader {
        text: raw,
        pos: 0,
        ctx,
    }
    .read_map()?;
    let field = |name: &str| -> Result<&Value, ParseError> {
        fields
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value)
            .ok_or_else(|| ctx.error(format!("missing :{name}")))
    };
    let process = match field("process")? {
        Value::Int(n) if *n >= 0 => *n as u64,
        other => {
            return Err(ctx.error(format!(
                ":process must be a number of 0 or more, not {}",
                other.show()
            )));
        }
    };
    let kind = match field("type")? {
        Value::Keyword(k) if k == "invoke" => Kind::Invoke,
        Value::Keyword(k) if k == "ok" => Kind::Ok,
        Value::Keyword(k) if k == "info" => Kind::Info,
        Value::Keyword(k) if k == "fail" => {
            return Err(ctx.error(":type :fail is not supported in key/value histories (expected :invoke, :ok or :info)"));
        }
        other => {
            return Err(ctx.error(format!(
                ":type must be :invoke, :ok or :info, not {}",
                other.show()
            )));
        }
    };
    let function = match field("f")? {
        Value::Keyword(k) if k == "get" => Function::Get,
        Value::Keyword(k) if k == "put" => Function::Put,
        Value::Keyword(k) if k == "append" => Function::Append,
        other => {
            return Err(ctx.error(format!(
                ":f must be :get, :put or :append, not {}",
                other.show()
            )));
        }
    };
    let key = match field("key")? {
        Value::Str(s) => s.clone(),
        Value::Int(n) => n.to_string(),
        other => return Err(ctx.error(format!(":key must be a string, not {}", other.show()))),
    };
    let value = field("value")?.clone();
    Ok(KvEvent {
        process,
        kind,
        function,
        key,
        value,
    })
}

/// Reads one `{:key value, ...}` map: keywords, strings, integers and nil.
struct MapReader<'a> {
    text: &'a str,
    pos: usize,
    ctx: &'a LineContext<'a>,
}

impl MapReader<'_> {
    fn error(&self, message: &str) -> ParseError {
        let column = self.text[..self.pos].chars().count() + 1;
        self.ctx.error(format!("column {column}: {message}"))
    }

    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn skip_separators(&mut self) {
        while let Some(c) = self.peek() {
            if c.is_whitespace() || c == ',' {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
    }

    fn read_map(mut self) -> Result<Vec<(String, Value)>, ParseError> {
        self.skip_separators();
        if self.peek() != Some('{') {
            return Err(self.error("expected a map starting with '{'"));
        }
        self.pos += 1;
        let mut fields: Vec<(String, Value)> = Vec::new();
        loop {
            self.skip_separators();
            match self.peek() {
                None => return Err(self.error("the map is not closed with '}'")),
                Some('}') => {
                    self.pos += 1;
                    break;
                }
                Some(':') => {
                    let key = self.read_keyword()?;
                    if fields.iter().any(|(k, _)| *k == key) {
                        return Err(self.error(&format!(":{key} appears twice")));
                    }
                    self.skip_separators();
                    let value = self.read_value()?;
                    fields.push((key, value));
                }
                Some(_) => return Err(self.error("expected a :keyword or '}'")),
            }
        }
        self.skip_separators();
        if self.pos < self.text.len() {
            return Err(self.error("unexpected text after the map"));
        }
        Ok(fields)
    }

    fn read_keyword(&mut self) -> Result<String, ParseError> {
        self.pos += 1; // ':'
        let start = self.pos;
        while let Some(c) = self.peek() {
            if c.is_alphanumeric() || "-_?!*+./<>=".contains(c) {
                self.pos += c.len_utf8();
            } else {
                break;
            }
        }
        if self.pos == start {
            return Err(self.error("expected a keyword name after ':'"));
        }
        Ok(self.text[start..self.pos].to_owned())
    }

    fn read_value(&mut self) -> Result<Value, ParseError> {
        match self.peek() {
            Some(':') => Ok(Value::Keyword(self.read_keyword()?)),
            Some('"') => self.read_string(),
            Some(c) if c == '-' || c.is_ascii_digit() => {
                let start = self.pos;
                self.pos += 1;
                while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                    self.pos += 1;
                }
                let digits = &self.text[start..self.pos];
                digits
                    .parse()
                    .map(Value::Int)
                    .map_err(|_| self.error(&format!("bad number {digits:?}")))
            }
            _ if self.text[self.pos..].starts_with("nil") => {
                self.pos += 3;
                Ok(Value::Nil)
            }
            None => Err(self.error("expected a value, found the end of the line")),
            Some(_) => Err(self.error("expected a value (a string, number, :keyword or nil)")),
        }
    }

    fn read_string(&mut self) -> Result<Value, ParseError> {
        self.pos += 1; // opening quote
        let mut out = String::new();
        loop {
            let Some(c) = self.peek() else {
                return Err(self.error("the string is not closed with '\"'"));
            };
            self.pos += c.len_utf8();
            match c {
                '"' => return Ok(Value::Str(out)),
                '\\' => {
                    let Some(escaped) = self.peek() else {
                        return Err(self.error("the string ends in a lone backslash"));
                    };
                    self.pos += escaped.len_utf8();
                    out.push(match escaped {
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        '"' => '"',
                        '\\' => '\\',
                        other => return Err(self.error(&format!("unknown escape \\{other}"))),
                    });
                }
                c => out.push(c),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Vec<Operation<KvInput, KvOutput>>, ParseError> {
        parse_kv_history(text, "test.txt")
    }

    #[test]
    fn invoke_and_ok_become_one_operation_timed_by_line() {
        let history = parse(
            "{:process 0, :type :invoke, :f :append, :key \"0\", :value \"x 0 0 y\"}\n\
             {:process 1, :type :invoke, :f :get, :key \"0\", :value nil}\n\
             \n\
             {:process 1, :type :ok, :f :get, :key \"0\", :value \"\"}\n\
             {:process 0, :type :ok, :f :append, :key \"0\", :value \"x 0 0 y\"}\n",
        )
        .unwrap();
        assert_eq!(
            history,
            vec![
                Operation::returned(
                    0,
                    KvInput::Append {
                        key: "0".into(),
                        value: "x 0 0 y".into()
                    },
                    1,
                    KvOutput::Done,
                    5
                ),
                Operation::returned(
                    1,
                    KvInput::Get { key: "0".into() },
                    2,
                    KvOutput::Value(String::new()),
                    4
                ),
            ]
        );
    }

    #[test]
    fn unreturned_and_info_operations_stay_pending() {
        let history = parse(
            "{:process 0, :type :invoke, :f :put, :key \"k\", :value \"a\"}\n\
             {:process 1, :type :invoke, :f :put, :key \"k\", :value \"b\"}\n\
             {:process 1, :type :info, :f :put, :key \"k\", :value \"b\"}\n\
             {:process 1, :type :invoke, :f :get, :key \"k\", :value nil}\n",
        )
        .unwrap();
        assert_eq!(history.len(), 3);
        assert!(
            history
                .iter()
                .all(|op| op.return_time.is_none() && op.output == KvOutput::Unknown)
        );
    }

    #[test]
    fn escapes_in_strings() {
        let history =
            parse(r#"{:process 0, :type :invoke, :f :put, :key "a\"b", :value "x\\y"}"#).unwrap();
        assert_eq!(
            history[0].input,
            KvInput::Put {
                key: "a\"b".into(),
                value: "x\\y".into()
            }
        );
    }

    fn error_of(text: &str) -> String {
        parse(text).unwrap_err().to_string()
    }

    #[test]
    fn malformed_lines_name_file_line_and_problem() {
        let ok_line = "{:process 0, :type :invoke, :f :get, :key \"k\", :value nil}\n";
        assert_eq!(
            error_of(&format!("{ok_line}garbage")),
            "test.txt:2: column 1: expected a map starting with '{'"
        );
        assert_eq!(
            error_of("{:process 0, :type :invoke"),
            "test.txt:1: column 27: the map is not closed with '}'"
        );
        assert!(
            error_of("{:process 0, :type :invoke, :f :get, :key \"k\"}")
                .ends_with("missing :value")
        );
        assert!(
            error_of("{:process 0, :type :launch, :f :get, :key \"k\", :value nil}")
                .contains(":type must be")
        );
        assert!(
            error_of("{:process 0, :type :fail, :f :get, :key \"k\", :value nil}")
                .contains("not supported")
        );
        assert!(
            error_of("{:process -1, :type :invoke, :f :get, :key \"k\", :value nil}")
                .contains(":process")
        );
        assert!(
            error_of("{:process 0, :type :invoke, :f :cas, :key \"k\", :value nil}")
                .contains(":f must be")
        );
        assert!(
            error_of("{:process 0, :type :invoke, :f :put, :key \"k\", :value nil}")
                .contains("string :value")
        );
        assert!(
            error_of("{:process 0, :type :invoke, :f :put, :key \"k, :value nil}")
                .contains("not closed")
        );
        assert!(error_of("{:process 0, :process 1}").contains("appears twice"));
        assert!(error_of("{:process 0} trailing").contains("after the map"));
        assert!(parse("").unwrap().is_empty(), "an empty history is valid");
    }

    #[test]
    fn inconsistent_events_are_errors() {
        let invoke = "{:process 3, :type :invoke, :f :put, :key \"k\", :value \"a\"}\n";
        assert_eq!(
            error_of(&format!("{invoke}{invoke}")),
            "test.txt:2: process 3 invokes an operation while its operation from line 1 has not returned"
        );
        assert_eq!(
            error_of("{:process 3, :type :ok, :f :put, :key \"k\", :value \"a\"}"),
            "test.txt:1: process 3 has no operation in progress to end"
        );
        assert!(
            error_of(&format!(
                "{invoke}{{:process 3, :type :ok, :f :append, :key \"k\", :value \"a\"}}"
            ))
            .contains("does not match the put")
        );
        assert!(
            error_of(&format!(
                "{invoke}{{:process 3, :type :ok, :f :put, :key \"k\", :value \"b\"}}"
            ))
            .contains("must repeat the invoked :value \"a\"")
        );
    }
}
