//! Models that come with the crate.
//!
//! - [`versioned_kv`]: the versioned key/value store of MIT 6.5840's 2025 lab 4
//!   (`Put(key, value, version)`, `Get(key) -> (value, version)`), partitioned by key.
//! - [`kv`]: the get/put/append key/value store of porcupine's `kv` test histories and
//!   the 2024 labs, partitioned by key.
//! - [`register`]: one register with read, write and compare-and-set, as in the Jepsen
//!   etcd histories.

pub mod kv;
pub mod register;
pub mod versioned_kv;

/// `"text"` with quotes and backslashes escaped, for descriptions.
pub(crate) fn quoted(text: &str) -> String {
    format!("{text:?}")
}
