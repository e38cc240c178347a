//! The fault model: Go labrpc's constants, and the pure decision of what the network does
//! to one call. Everything random about a call is decided here, at once, from that call's
//! own generator (see [`call_rng`]).

use std::time::Duration;

use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

/// Unreliable network: each request waits `0..SHORT_DELAY_MS` ms before it travels.
pub const SHORT_DELAY_MS: u64 = 27;
/// Dead link with long delays on (Raft tests): the call fails after `0..LONG_DELAY_MS` ms.
pub const LONG_DELAY_MS: u64 = 7000;
/// Dead link with long delays off (KV tests): the call fails after `0..DEAD_LINK_DELAY_MS` ms.
pub const DEAD_LINK_DELAY_MS: u64 = 100;
/// Unreliable network: a request is lost with probability `LOSS_PER_MILLE / 1000`, and so,
/// independently, is the reply.
pub const LOSS_PER_MILLE: u32 = 100;
/// Long reordering: a reply is held back with probability `REORDER_NUMERATOR / REORDER_DENOMINATOR` (2/3)...
pub const REORDER_NUMERATOR: u32 = 600;
/// ...out of this many.
pub const REORDER_DENOMINATOR: u32 = 900;
/// ...for `REORDER_MIN_MS + rand(0..=rand(0..REORDER_SPREAD_MS))` ms: 200–2199 ms, median
/// about 570 ms.
pub const REORDER_MIN_MS: u64 = 200;
/// See [`REORDER_MIN_MS`].
pub const REORDER_SPREAD_MS: u64 = 2000;

/// The network settings that shape a call's fate.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Conditions {
    pub reliable: bool,
    pub long_delays: bool,
    pub long_reordering: bool,
}

/// What the network will do with one call, decided when it takes the request.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Fate {
    /// The end is disabled, unconnected, or its server is missing: the call fails after
    /// this long and no server sees it.
    DeadLink { fail_after: Duration },
    /// The link is up.
    Live {
        /// Time the request spends on the wire before it reaches the server.
        request_delay: Duration,
        /// The request is lost on the way: the call fails after `request_delay`.
        drop_request: bool,
        /// The server runs the handler but its reply is lost.
        drop_reply: bool,
        /// The reply is held back this long before delivery (long reordering).
        reply_delay: Option<Duration>,
    },
}

/// Decides a call's fate the way Go's `processReq` does, drawing in the same order.
pub(crate) fn decide(rng: &mut impl RngExt, cond: Conditions, link_up: bool) -> Fate {
    if !link_up {
        let bound = if cond.long_delays {
            LONG_DELAY_MS
        } else {
            DEAD_LINK_DELAY_MS
        };
        return Fate::DeadLink {
            fail_after: Duration::from_millis(rng.random_range(0..bound)),
        };
    }
    let mut request_delay = Duration::ZERO;
    let mut drop_request = false;
    let mut drop_reply = false;
    if !cond.reliable {
        request_delay = Duration::from_millis(rng.random_range(0..SHORT_DELAY_MS));
        drop_request = rng.random_range(0..1000) < LOSS_PER_MILLE;
        drop_reply = rng.random_range(0..1000) < LOSS_PER_MILLE;
    }
    let mut reply_delay = None;
    if cond.long_reordering && rng.random_range(0..REORDER_DENOMINATOR) < REORDER_NUMERATOR {
        let spread = rng.random_range(0..REORDER_SPREAD_MS);
        reply_delay = Some(Duration::from_millis(
            REORDER_MIN_MS + rng.random_range(0..=spread),
        ));
    }
    Fate::Live {
        request_delay,
        drop_request,
        drop_reply,
        reply_delay,
    }
}

/// The generator for the `seq`-th call made on the end named `end_name`, on a network
/// seeded with `seed`.
///
/// Each call's faults come from a stream fixed by the network seed, the end and the call's
/// position on that end, so the same seed gives every link the same fault schedule however
/// the threads of a run happen to interleave.
pub(crate) fn call_rng(seed: u64, end_name: &str, seq: u64) -> Xoshiro256PlusPlus {
    let key =
        splitmix(seed ^ splitmix(fnv1a(end_name.as_bytes())) ^ splitmix(seq.wrapping_add(0x5EED)));
    Xoshiro256PlusPlus::seed_from_u64(key)
}

/// FNV-1a: a stable hash of an end name (std's hashers may change between releases).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| {
        (h ^ u64::from(b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// SplitMix64's finaliser: spreads nearby inputs over the whole range.
fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fates(cond: Conditions, link_up: bool, n: u64) -> Vec<Fate> {
        (0..n)
            .map(|i| decide(&mut call_rng(7, "end", i), cond, link_up))
            .collect()
    }

    const RELIABLE: Conditions = Conditions {
        reliable: true,
        long_delays: false,
        long_reordering: false,
    };

    #[test]
    fn reliable_live_link_has_no_faults() {
        for fate in fates(RELIABLE, true, 1000) {
            assert_eq!(
                fate,
                Fate::Live {
                    request_delay: Duration::ZERO,
                    drop_request: false,
                    drop_reply: false,
                    reply_delay: None
                }
            );
        }
    }

    #[test]
    fn unreliable_loses_a_tenth_of_requests_and_of_replies() {
        let cond = Conditions {
            reliable: false,
            ..RELIABLE
        };
        let all = fates(cond, true, 100_000);
        let (mut req, mut rep, mut max_delay) = (0, 0, Duration::ZERO);
        for fate in &all {
            let Fate::Live {
                request_delay,
                drop_request,
                drop_reply,
                reply_delay,
            } = *fate
            else {
                panic!("live link gave {fate:?}")
            };
            req += usize::from(drop_request);
            rep += usize::from(drop_reply);
            max_delay = max_delay.max(request_delay);
            assert!(request_delay < Duration::from_millis(SHORT_DELAY_MS));
            assert_eq!(reply_delay, None);
        }
        // 100k draws at p = 0.1: the standard deviation is under 100.
        assert!((9_500..10_500).contains(&req), "{req} requests dropped");
        assert!((9_500..10_500).contains(&rep), "{rep} replies dropped");
        assert_eq!(max_delay, Duration::from_millis(SHORT_DELAY_MS - 1));
    }

    #[test]
    fn long_reordering_holds_back_two_thirds_for_200_to_2199_ms() {
        let cond = Conditions {
            long_reordering: true,
            ..RELIABLE
        };
        let delays: Vec<_> = fates(cond, true, 90_000)
            .into_iter()
            .filter_map(|f| match f {
                Fate::Live { reply_delay, .. } => reply_delay,
                Fate::DeadLink { .. } => panic!("live link gave {f:?}"),
            })
            .collect();
        assert!(
            (59_000..61_000).contains(&delays.len()),
            "{} held back",
            delays.len()
        );
        let min = delays.iter().min().unwrap().as_millis();
        let max = delays.iter().max().unwrap().as_millis();
        assert_eq!(min, 200);
        assert!((2100..2200).contains(&max), "longest hold {max} ms");
        // Nested draws favour short holds: the median is far below the midpoint.
        let mut ms: Vec<_> = delays.iter().map(|d| d.as_millis()).collect();
        ms.sort_unstable();
        let median = ms[ms.len() / 2];
        assert!((530..620).contains(&median), "median hold {median} ms");
    }

    #[test]
    fn dead_links_fail_within_7s_or_100ms() {
        for (long_delays, bound) in [(true, LONG_DELAY_MS), (false, DEAD_LINK_DELAY_MS)] {
            let cond = Conditions {
                long_delays,
                ..RELIABLE
            };
            let max = fates(cond, false, 20_000)
                .into_iter()
                .map(|f| match f {
                    Fate::DeadLink { fail_after } => fail_after,
                    Fate::Live { .. } => panic!("dead link gave {f:?}"),
                })
                .max()
                .unwrap();
            assert!(max < Duration::from_millis(bound));
            assert!(max > Duration::from_millis(bound * 9 / 10));
        }
    }

    #[test]
    fn streams_depend_on_seed_end_and_position_only() {
        let cond = Conditions {
            reliable: false,
            long_delays: true,
            long_reordering: true,
        };
        let a: Vec<_> = (0..50)
            .map(|i| decide(&mut call_rng(1, "a", i), cond, true))
            .collect();
        let again: Vec<_> = (0..50)
            .map(|i| decide(&mut call_rng(1, "a", i), cond, true))
            .collect();
        let other_seed: Vec<_> = (0..50)
            .map(|i| decide(&mut call_rng(2, "a", i), cond, true))
            .collect();
        let other_end: Vec<_> = (0..50)
            .map(|i| decide(&mut call_rng(1, "b", i), cond, true))
            .collect();
        assert_eq!(a, again);
        assert_ne!(a, other_seed);
        assert_ne!(a, other_end);
    }
}
