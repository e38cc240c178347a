//! Randomness: [`random`] stands for `rand::random`. In a simulation each value comes
//! from the simulation's seeded generator, in the order the threads draw them — the same
//! on every run with the seed. Seed a per-node generator with `random::<u64>()`.

use rand::distr::{Distribution, StandardUniform};
use rand::rngs::Xoshiro256PlusPlus;
use rand::{RngExt, SeedableRng};

use crate::sched;

/// A random value: from the thread's generator (real mode) or the simulation's.
pub fn random<T>() -> T
where
    StandardUniform: Distribution<T>,
{
    match sched::current() {
        None => rand::random(),
        Some(ctx) => Xoshiro256PlusPlus::seed_from_u64(ctx.sched.draw()).random(),
    }
}
