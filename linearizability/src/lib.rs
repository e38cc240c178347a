//! Linearizability checking of concurrent client histories, after porcupine.
//!
//! A *history* is a list of [`Operation`]s: which client called what, when it was called,
//! what it returned and when (or that it never returned). A *model* ([`Model`]) is a
//! sequential specification of the object the clients used: an initial state and a step
//! function that says whether an operation with a given input may produce a given output
//! in a given state, and what the state becomes. A history is *linearizable* when every
//! operation can be given a point between its call and its return such that executing
//! the operations one by one in that order, through the model, explains every output.
//!
//! The checker is porcupine's algorithm: a Wing–Gong backtracking search over the
//! time-ordered calls and returns, with Lowe's memoization of (set of linearized
//! operations, model state), run separately on each partition of the history that the
//! model defines (for a key/value store, one partition per key). It has three verdicts
//! ([`Verdict`]): linearizable, not linearizable, and unknown when the time limit ran out
//! (the search really stops at the deadline). In verbose mode it also returns the longest
//! linearizable prefix of every partition and the operation where linearization breaks,
//! which [`visualize`] turns into one self-contained HTML page.
//!
//! Models for three objects come with the crate ([`models`]): the versioned key/value
//! store of MIT 6.5840's 2025 lab 4, the get/put/append key/value store, and a register
//! with read, write and compare-and-set. [`parse`] reads the two history formats of
//! porcupine's test data (Jepsen-style key/value maps and Jepsen etcd logs), and
//! [`files`] is the whole `check FILE` command as a library call.

pub mod checker;
pub mod files;
pub mod history;
pub mod model;
pub mod models;
pub mod parse;
mod search;
pub mod visualize;

pub use checker::{
    Analysis, PartitionAnalysis, Verdict, check_events, check_operations, check_operations_verbose,
};
pub use history::{Event, EventKind, HistoryError, Operation, operations_from_events};
pub use model::{Model, NondeterministicModel, PowerSet, partition_by_key};
