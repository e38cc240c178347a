//! The labs' runtime: everything in `labrpc`, `raft`, `kvraft` and the tester that
//! spawns a thread, blocks, waits, reads the clock or draws a random number goes
//! through this crate, in the shape of the library it stands for:
//!
//! | here                 | stands for                               |
//! |----------------------|------------------------------------------|
//! | [`thread`]           | `std::thread` (spawn, scope, sleep)       |
//! | [`time::Instant`]    | `std::time::Instant`                      |
//! | [`sync`]             | `parking_lot::{Mutex, Condvar, RwLock}`   |
//! | [`channel`]          | `crossbeam_channel` (and its `Select`)    |
//! | [`random`]           | `rand::random`                            |
//!
//! **Real mode** (the default) is the library itself: each call checks a thread-local
//! and goes straight to std / parking_lot / crossbeam / rand.
//!
//! **Sim mode** ([`sim::run`]) runs a closure as a simulation: the calling thread and
//! every thread it spawns through this crate are real OS threads, but exactly one of them
//! runs at a time. Every call here that can block or reads the clock is a *scheduling
//! point*, where a scheduler seeded from the run's seed picks which runnable thread goes
//! on; when none can run, the virtual clock jumps to the earliest timer. The same seed
//! gives the same interleaving, the same times and the same output. See [`sim`].

pub mod channel;
pub mod random;
pub mod sim;
pub mod sync;
pub mod thread;
pub mod time;

mod sched;
mod wait;
mod watchdog;

pub use random::random;
