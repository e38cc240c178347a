//! The commands the Raft tests submit: integers, or strings for the byte-count test; and
//! what the tester records where a peer applied a configuration (part 3E).
//! A Raft sees only their encoded bytes; the tester decodes them to print them.

use std::fmt;

use serde::{Deserialize, Serialize};

#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Cmd {
    Int(u64),
    Text(String),
    /// Part 3E: what the tester records at a configuration entry's index.
    Config(String),
}

impl Cmd {
    pub fn encode(&self) -> Vec<u8> {
        postcard::to_allocvec(self).expect("commands always encode")
    }

    pub fn decode(bytes: &[u8]) -> Option<Cmd> {
        postcard::from_bytes(bytes).ok()
    }

    /// How to print an encoded command in a failure message.
    pub fn show(bytes: &[u8]) -> String {
        match Cmd::decode(bytes) {
            Some(cmd) => cmd.to_string(),
            None => format!("<{} bytes that are not a tester command>", bytes.len()),
        }
    }
}

impl From<u64> for Cmd {
    fn from(n: u64) -> Self {
        Cmd::Int(n)
    }
}

impl From<String> for Cmd {
    fn from(s: String) -> Self {
        Cmd::Text(s)
    }
}

impl fmt::Display for Cmd {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cmd::Int(n) => write!(f, "{n}"),
            Cmd::Text(s) if s.chars().count() > 16 => {
                let head: String = s.chars().take(16).collect();
                write!(f, "{head:?}… ({} chars)", s.chars().count())
            }
            Cmd::Text(s) => write!(f, "{s:?}"),
            Cmd::Config(c) => write!(f, "configuration [{c}]"),
        }
    }
}
