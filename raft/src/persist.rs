//! What a peer saves before it acts (Figure 2, "Persistent state on all servers", plus the
//! log's cut for §7), and how it is encoded for the persister.
//!
//! When it is saved: after each batch of events in which the node set
//! [`Outbox::persist`](crate::node::Outbox::persist), the peer encodes the state with
//! [`encode`] and saves it, with the service's latest snapshot, before it answers, sends
//! or applies anything of that batch. At a restart it reads it back with [`decode`].

use crate::log::Log;
// solution:begin 3C The solution's encoded layout.
use serde::{Deserialize, Serialize};
// solution:skeleton
// solution:end

/// The persistent state, as read back after a restart.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Persistent {
    pub term: u64,
    pub voted_for: Option<usize>,
    pub log: Log,
}

// solution:begin 3C The solution's encoded layout.
/// The encoded layout. Saving borrows the live log instead of copying it.
#[derive(Serialize)]
struct Saving<'a> {
    term: u64,
    voted_for: Option<usize>,
    log: &'a Log,
}

#[derive(Deserialize)]
struct Loading {
    term: u64,
    voted_for: Option<usize>,
    log: Log,
}

// solution:skeleton
// solution:end
/// Encodes term, vote and log into the bytes the persister keeps as "raft state".
pub fn encode(term: u64, voted_for: Option<usize>, log: &Log) -> Vec<u8> {
    // solution:begin 3C Encode term, vote and log (with the log's cut, for 3D) into bytes.
    let saving = Saving {
        term,
        voted_for,
        log,
    };
    postcard::to_allocvec(&saving).expect("raft state is always encodable")
    // solution:skeleton
    // // 3C: encode term, vote and log (all of it, with its cut and its start configuration:
    // // `Log` is serializable) into bytes. Until then nothing is saved, though the peer
    // // calls this whenever the node set `out.persist`, and a restarted peer starts empty.
    // let _ = (term, voted_for, log);
    // Vec::new()
    // solution:end
}

/// Decodes what [`encode`] produced: the same term, vote and log. Empty bytes (a peer's
/// first start) give the initial state; bytes that do not decode are an error that says
/// why (the peer cannot restart, and panics with it).
pub fn decode(bytes: &[u8]) -> Result<Persistent, String> {
    if bytes.is_empty() {
        return Ok(Persistent::default());
    }
    // solution:begin 3C Decode what `encode` produced.
    let (loading, rest) = postcard::take_from_bytes::<Loading>(bytes).map_err(|e| {
        format!(
            "the saved raft state ({} bytes) does not decode: {e}",
            bytes.len()
        )
    })?;
    if !rest.is_empty() {
        return Err(format!(
            "the saved raft state has {} bytes left over after decoding",
            rest.len()
        ));
    }
    Ok(Persistent {
        term: loading.term,
        voted_for: loading.voted_for,
        log: loading.log,
    })
    // solution:skeleton
    // todo!("3C: decode what `encode` produced")
    // solution:end
}

#[cfg(test)]
mod tests {
    //! What any correct encoding does, whatever its format and its error messages: the
    //! state comes back as it was saved.

    use super::*;
    use crate::config::Config;
    use crate::messages::Entry;

    fn round_trip(term: u64, voted_for: Option<usize>, log: Log) {
        let bytes = encode(term, voted_for, &log);
        assert_eq!(
            decode(&bytes),
            Ok(Persistent {
                term,
                voted_for,
                log
            })
        );
    }

    #[test]
    fn nothing_saved_means_the_initial_state() {
        assert_eq!(decode(&[]), Ok(Persistent::default()));
    }

    #[test]
    fn term_vote_and_log_survive_a_round_trip() {
        round_trip(0, None, Log::new());
        let mut log = Log::new();
        for term in [1, 1, 2, 5] {
            log.push(Entry::new(term, vec![term as u8; 3]));
        }
        log.push(Entry::new(5, Vec::new()));
        round_trip(7, Some(2), log.clone());
        round_trip(u64::MAX, Some(0), log);
    }

    #[test]
    fn a_cut_log_and_its_configuration_survive_a_round_trip() {
        let mut log = Log::new();
        log.push(Entry::config(1, Config::of_voters([0, 1, 2])));
        for term in [1, 1, 2] {
            log.push(Entry::new(term, vec![term as u8; 3]));
        }
        log.compact_to(2, 1);
        round_trip(7, Some(2), log.clone());
        log.compact_to(4, 2);
        round_trip(7, None, log);
        round_trip(3, Some(1), Log::from_parts(10, 3, Vec::new()));
    }
}
