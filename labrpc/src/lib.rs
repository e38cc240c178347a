//! A simulated unreliable RPC network for testing distributed protocols in one process,
//! with the fault model of the MIT 6.5840 Go lab's `labrpc`.
//!
//! # The model
//!
//! A [`Network`] connects *client ends* to *servers*. A peer calls another peer through a
//! [`ClientEnd`]; the call names a method as `"Service.Method"` and carries arguments that
//! are encoded (serde + postcard) on the way in and decoded into a fresh value on the way
//! out, so no memory is ever shared between peers. A [`Server`] holds [`Service`]s, each a
//! set of typed handlers `Fn(Args) -> Reply`.
//!
//! The tester shapes the network with a handful of verbs: make ends, add and delete
//! servers (a deletion is a crash), connect an end to a server, enable or disable an end
//! (a partition), and switch three settings. On a live link (end enabled, server present):
//!
//! - **reliable** (default): the handler runs at once and its reply is delivered;
//! - **unreliable**: the request waits 0–26 ms, is lost with probability 1/10, and if the
//!   handler runs its reply is lost with probability 1/10;
//! - **long reordering**: 2/3 of replies are held back for 200–2199 ms (mostly short).
//!
//! On a dead link (end disabled, not connected, or server missing) the call fails after
//! 0–99 ms, or 0–6999 ms with **long delays** on (the Raft tests: a peer must not wait
//! for one RPC before sending the next). A lost call fails with [`RpcError::Lost`]; the
//! caller cannot tell a lost request from a lost reply, as in real networks.
//!
//! Deleting or replacing a server, or disabling an end, fails the affected calls that are
//! waiting for a reply *at once*, and a deleted server never runs another handler: a
//! crashed incarnation can never answer. Replies already held back by long reordering are
//! on the wire and still arrive.
//!
//! Every random choice derives from the network's seed: the `n`-th call on an end gets
//! the same fate in every run with that seed ([`Network::seed`], `RAFTLAB_SEED`).
//!
//! The network counts RPCs per server and in total, and bytes as Go does: the encoded
//! request when the network takes it, the encoded reply when it is delivered.
//!
//! # Threads
//!
//! There is no dispatcher thread: a call is taken on the caller's thread. Handlers run on
//! a pool that grows instead of queueing, so a handler that blocks never delays another
//! RPC; a timer thread runs the delays. A handler that panics fails its own call with
//! [`RpcError::HandlerPanicked`] and nothing else.
//!
//! ```
//! use labrpc::{Network, Server, Service};
//!
//! let net = Network::with_seed(1);
//! let mut server = Server::new();
//! server.add_service(Service::new("Echo").method("Twice", |x: u64| 2 * x));
//! net.add_server("s", server);
//! let end = net.make_end("client->s");
//! net.connect("client->s", "s");
//! net.enable("client->s", true);
//! assert_eq!(end.call::<u64, u64>("Echo.Twice", &21), Ok(42));
//! ```

mod codec;
mod end;
mod error;
pub mod faults;
mod network;
mod pool;
mod server;
mod spin;
mod timer;

pub use end::ClientEnd;
pub use error::RpcError;
pub use network::Network;
pub use server::{Server, Service};

/// The least time a message takes to arrive in a simulation (see `labrt::sim`): a real
/// network's latency, which real mode gets from the machine.
pub const SIM_LATENCY: std::time::Duration = std::time::Duration::from_micros(500);

/// The environment variable that seeds new networks (and, by convention, a test's own
/// random choices).
pub const SEED_VAR: &str = "RAFTLAB_SEED";

/// The seed named by `RAFTLAB_SEED`, or a fresh random one if it is unset; in a
/// simulation, the simulation's seed.
///
/// # Panics
/// If the variable is set but is not a whole number that fits in 64 bits.
pub fn seed_from_env() -> u64 {
    // A simulation's one seed drives everything in it, the network's faults included.
    if let Some(seed) = labrt::sim::seed() {
        return seed;
    }
    match std::env::var(SEED_VAR) {
        Ok(text) => parse_seed(&text).unwrap_or_else(|e| panic!("{e}")),
        Err(std::env::VarError::NotPresent) => labrt::random(),
        Err(std::env::VarError::NotUnicode(raw)) => {
            panic!("{SEED_VAR} must be a whole number from 0 to 18446744073709551615, got {raw:?}")
        }
    }
}

/// Parses a seed as written in `RAFTLAB_SEED`.
pub fn parse_seed(text: &str) -> Result<u64, String> {
    text.trim().parse::<u64>().map_err(|_| {
        format!("{SEED_VAR} must be a whole number from 0 to 18446744073709551615, got {text:?}")
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seeds_parse_or_name_the_problem() {
        assert_eq!(parse_seed("42"), Ok(42));
        assert_eq!(parse_seed(" 18446744073709551615\n"), Ok(u64::MAX));
        for bad in ["", "-1", "abc", "18446744073709551616", "1.5"] {
            let err = parse_seed(bad).unwrap_err();
            assert!(
                err.contains(SEED_VAR) && err.contains(&format!("{bad:?}")),
                "{err}"
            );
        }
    }
}
