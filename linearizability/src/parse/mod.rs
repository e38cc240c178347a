//! Readers for the two history formats of porcupine's test data.
//!
//! - [`kv`]: one Jepsen-style map per line, `{:process 0, :type :invoke, :f :append,
//!   :key "0", :value "x 0 0 y"}`, for the get/put/append model.
//! - [`etcd`]: Jepsen etcd logs, `INFO  jepsen.util - 2  :invoke  :write  4`, for the register
//!   model.
//!
//! The time of an event is its line number. Malformed input is an error naming the
//! source, the line and what is wrong with it.

pub mod etcd;
pub mod kv;

use std::fmt;
use std::path::Path;

/// A malformed line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// The file (or other source) the text came from.
    pub source: String,
    /// 1-based line number.
    pub line: usize,
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}: {}", self.source, self.line, self.message)
    }
}

impl std::error::Error for ParseError {}

/// Why a history file could not be loaded.
#[derive(Debug)]
pub enum LoadError {
    Read { path: String, error: std::io::Error },
    Parse(ParseError),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::Read { path, error } => write!(f, "cannot read {path}: {error}"),
            LoadError::Parse(error) => error.fmt(f),
        }
    }
}

impl std::error::Error for LoadError {}

impl From<ParseError> for LoadError {
    fn from(error: ParseError) -> Self {
        LoadError::Parse(error)
    }
}

/// Reads a whole file as UTF-8 text.
pub(crate) fn read_text(path: &Path) -> Result<String, LoadError> {
    std::fs::read_to_string(path).map_err(|error| LoadError::Read {
        path: path.display().to_string(),
        error,
    })
}

/// Builds errors for one line of one source.
pub(crate) struct LineContext<'a> {
    pub source: &'a str,
    pub line: usize,
}

impl LineContext<'_> {
    pub(crate) fn error(&self, message: impl Into<String>) -> ParseError {
        ParseError {
            source: self.source.to_owned(),
            line: self.line,
            message: message.into(),
        }
    }
}
