//! A student's `raft/src/persist.rs` for the guided handout, for CI (`.ci/run`): correct,
//! but with its own format and error words, and lenient where the solution is strict
//! (bytes after the log are ignored). The handout's own unit tests of `persist.rs` must
//! pass with it; CI puts it in place of everything above the handout's `#[cfg(test)]`.

use crate::log::Log;

/// The persistent state, as read back after a restart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Persistent {
    pub term: u64,
    pub voted_for: Option<usize>,
    pub log: Log,
}

const MAGIC: &[u8] = b"RST1";

pub fn encode(term: u64, voted_for: Option<usize>, log: &Log) -> Vec<u8> {
    let mut out = MAGIC.to_vec();
    out.extend_from_slice(&term.to_be_bytes());
    match voted_for {
        None => out.push(0),
        Some(v) => {
            out.push(1);
            out.extend_from_slice(&(v as u64).to_be_bytes());
        }
    }
    out.extend(postcard::to_allocvec(log).expect("a log always encodes"));
    out
}

pub fn decode(bytes: &[u8]) -> Result<Persistent, String> {
    if bytes.is_empty() {
        return Ok(Persistent::default());
    }
    let rest = bytes
        .strip_prefix(MAGIC)
        .ok_or("not a state this peer wrote (bad magic)")?;
    let (term, rest) = take_u64(rest)?;
    let (voted_for, rest) = match rest.split_first() {
        Some((0, rest)) => (None, rest),
        Some((1, rest)) => {
            let (v, rest) = take_u64(rest)?;
            (Some(v as usize), rest)
        }
        _ => return Err("vote garbled".to_owned()),
    };
    let log = postcard::from_bytes(rest).map_err(|e| format!("log garbled: {e}"))?;
    Ok(Persistent {
        term,
        voted_for,
        log,
    })
}

fn take_u64(bytes: &[u8]) -> Result<(u64, &[u8]), String> {
    let (head, rest) = bytes
        .split_first_chunk::<8>()
        .ok_or("cut short".to_owned())?;
    Ok((u64::from_be_bytes(*head), rest))
}
