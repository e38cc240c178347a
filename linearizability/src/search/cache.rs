//! Lowe's memoization: every (set of linearized operations, model state) pair the search
//! has reached. Reaching a pair again means the same subtree again, so it is skipped.
//!
//! States live in one arena and are referred to by [`StateId`]: the search moves a new
//! state into the cache and keeps only its id on its stack, so no state is ever cloned.
//! The sets are stored side by side in one flat vector of words.

use std::collections::HashMap;
use std::collections::hash_map::Entry;
use std::hash::{BuildHasherDefault, Hash, Hasher};

pub(super) type StateId = u32;
const NIL: u32 = u32::MAX;

/// The set of linearized operations, with a hash kept up to date on every change
/// (Zobrist hashing: the XOR of a fixed random key per member).
pub(super) struct LinearizedSet {
    words: Vec<u64>,
    hash: u64,
}

/// SplitMix64's output function: a fixed, well-mixed 64-bit value per input.
fn mix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9e37_79b9_7f4a_7c15);
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl LinearizedSet {
    pub(super) fn new(n: usize) -> Self {
        LinearizedSet {
            words: vec![0; n.div_ceil(64).max(1)],
            hash: 0,
        }
    }

    pub(super) fn insert(&mut self, op: u32) {
        self.words[(op / 64) as usize] |= 1 << (op % 64);
        self.hash ^= mix(op as u64);
    }

    pub(super) fn remove(&mut self, op: u32) {
        self.words[(op / 64) as usize] &= !(1 << (op % 64));
        self.hash ^= mix(op as u64);
    }
}

/// A fast non-cryptographic hasher for model states (the Fx hash of rustc).
#[derive(Default)]
struct StateHasher {
    hash: u64,
}

impl StateHasher {
    fn add(&mut self, word: u64) {
        self.hash = (self.hash.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for StateHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            self.add(u64::from_le_bytes(chunk.try_into().expect("8 bytes")));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut last = [0u8; 8];
            last[..rest.len()].copy_from_slice(rest);
            self.add(u64::from_le_bytes(last));
        }
    }
    fn write_u8(&mut self, n: u8) {
        self.add(n as u64);
    }
    fn write_u32(&mut self, n: u32) {
        self.add(n as u64);
    }
    fn write_u64(&mut self, n: u64) {
        self.add(n);
    }
    fn write_usize(&mut self, n: usize) {
        self.add(n as u64);
    }
    fn finish(&self) -> u64 {
        self.hash
    }
}

/// The table's keys are already mixed hashes; use them as they are.
#[derive(Default)]
struct PassThrough(u64);

impl Hasher for PassThrough {
    fn write(&mut self, _: &[u8]) {
        unreachable!("the cache table is only keyed by u64")
    }
    fn write_u64(&mut self, n: u64) {
        self.0 = n;
    }
    fn finish(&self) -> u64 {
        self.0
    }
}

pub(super) struct Cache<S> {
    words: usize,
    states: Vec<S>,
    /// Entry `i`'s set is `sets[i * words..(i + 1) * words]`; entry `i` holds state `i`.
    sets: Vec<u64>,
    /// The next entry with the same hash.
    chain: Vec<u32>,
    /// First entry for each hash.
    table: HashMap<u64, u32, BuildHasherDefault<PassThrough>>,
}

impl<S: Eq + Hash> Cache<S> {
    pub(super) fn new(init: S, n: usize) -> Self {
        let words = n.div_ceil(64).max(1);
        Cache {
            words,
            states: vec![init],
            sets: vec![0; words],
            chain: vec![NIL],
            table: HashMap::default(),
        }
    }

    pub(super) fn initial_state(&self) -> StateId {
        0
    }

    pub(super) fn state(&self, id: StateId) -> &S {
        &self.states[id as usize]
    }

    /// Records (`set`, `state`) and returns the state's id, or `None` if the pair was
    /// already there.
    pub(super) fn insert_if_new(&mut self, set: &LinearizedSet, state: S) -> Option<StateId> {
        let mut hasher = StateHasher::default();
        state.hash(&mut hasher);
        let key = mix(set.hash ^ hasher.finish());
        let id = self.states.len() as u32;
        let next_in_chain = match self.table.entry(key) {
            Entry::Occupied(mut first) => {
                let mut entry = *first.get();
                while entry != NIL {
                    let start = entry as usize * self.words;
                    if self.sets[start..start + self.words] == set.words[..]
                        && self.states[entry as usize] == state
                    {
                        return None;
                    }
                    entry = self.chain[entry as usize];
                }
                std::mem::replace(first.get_mut(), id)
            }
            Entry::Vacant(slot) => {
                slot.insert(id);
                NIL
            }
        };
        assert!(id != NIL, "search cache full");
        self.states.push(state);
        self.sets.extend_from_slice(&set.words);
        self.chain.push(next_in_chain);
        Some(id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pair_is_new_once() {
        let mut cache = Cache::new(String::new(), 3);
        let mut set = LinearizedSet::new(3);
        set.insert(1);
        assert_eq!(cache.insert_if_new(&set, "a".to_string()), Some(1));
        assert_eq!(cache.insert_if_new(&set, "a".to_string()), None);
        assert_eq!(cache.insert_if_new(&set, "b".to_string()), Some(2));
        set.insert(2);
        assert_eq!(cache.insert_if_new(&set, "a".to_string()), Some(3));
        set.remove(2);
        assert_eq!(cache.insert_if_new(&set, "a".to_string()), None);
        assert_eq!(cache.state(2), "b");
    }

    #[test]
    fn colliding_hashes_are_told_apart_by_comparison() {
        // Force every key into one chain by using a set hash that cancels the state hash:
        // equal keys must still be compared by contents.
        let mut cache = Cache::new(0u64, 1);
        let set = LinearizedSet {
            words: vec![1],
            hash: 0,
        };
        let other = LinearizedSet {
            words: vec![0],
            hash: 0,
        };
        assert!(cache.insert_if_new(&set, 5).is_some());
        assert!(cache.insert_if_new(&other, 5).is_some());
        assert!(cache.insert_if_new(&set, 5).is_none());
        assert!(cache.insert_if_new(&other, 5).is_none());
    }
}
