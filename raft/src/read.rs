//! Part 4D: linearizable reads without the log (§8 of the extended paper, thesis §6.4).
//!
//! A leader answers a read at its commit index once it knows it still leads: a quorum has
//! answered a request it sent after the read arrived (ReadIndex), or, in lease mode, one
//! it sent less than [`LEASE`] ago (thesis §6.4.1). A follower asks the leader for the
//! index and serves the read once it has applied that far.

use std::time::Duration;

use crate::node::MIN_ELECTION_TIMEOUT;

/// How long after sending a request that a quorum answered a leader may serve reads
/// without asking again: the minimum election timeout (no server that answered will vote
/// for another before it has passed, §4.2.3) less a fifth for clock drift.
pub const LEASE: Duration = Duration::from_millis(MIN_ELECTION_TIMEOUT.as_millis() as u64 * 4 / 5);

/// A leader waits this long after a read arrives before asking the followers to confirm
/// it, so that reads arriving together share one round. 50 µs: in the read-heavy test
/// the RPCs per operation fall from 1.49 (asking at once) to 1.31, and a get by read
/// index still takes about a third of the time of one through the log (BENCHMARKS.md,
/// part 4D).
pub const READ_BATCH_DELAY: Duration = Duration::from_micros(50);

/// A leader asks only as many voters as make a quorum to confirm reads, those likeliest to
/// answer first; if the reads still wait this long after the oldest arrived, it asks the
/// rest too. 5 ms: tens of round trips on a healthy lab network, far below an election
/// timeout.
pub const READ_ASK_ALL_AFTER: Duration = Duration::from_millis(5);

/// How long [`crate::Raft::read_index`] waits for the leader to confirm a read.
pub const READ_TIMEOUT: Duration = Duration::from_secs(1);

pub use crate::messages::ReadError;
