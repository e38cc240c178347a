//! The replicated log, addressed by Raft index (the first command has index 1), with the
//! prefix that a snapshot replaced cut off.
//!
//! The log remembers the index and term of the last entry the snapshot covers (the
//! *start*); `term_at(start)` answers with that term so that AppendEntries consistency
//! checks work across the cut. Index 0 with term 0 is the start of an uncut log. For
//! part 3E it also remembers the configuration in effect at the cut, the last one that
//! the snapshot replaced.
//!
//! A log serializes (serde) as it is, cut and all, for the persister.

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::messages::Entry;

#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Log {
    start_index: u64,
    start_term: u64,
    /// `entries[i]` has index `start_index + 1 + i`.
    entries: Vec<Entry>,
    /// The latest configuration at or before the cut (part 3E), if any entry had one.
    start_config: Option<Config>,
}

impl Log {
    /// An empty, uncut log.
    pub fn new() -> Self {
        Self::default()
    }

    /// A log cut at (`start_index`, `start_term`) holding `entries` after it.
    pub fn from_parts(start_index: u64, start_term: u64, entries: Vec<Entry>) -> Self {
        Self {
            start_index,
            start_term,
            entries,
            start_config: None,
        }
    }

    /// The same log, with `config` as the configuration in effect at its cut.
    pub fn with_start_config(mut self, config: Option<Config>) -> Self {
        self.start_config = config;
        self
    }

    /// The index of the last entry a snapshot replaced (0 if none).
    pub fn start_index(&self) -> u64 {
        self.start_index
    }

    /// The term of the entry at [`Log::start_index`] (0 if none).
    pub fn start_term(&self) -> u64 {
        self.start_term
    }

    pub fn last_index(&self) -> u64 {
        self.start_index + self.entries.len() as u64
    }

    pub fn last_term(&self) -> u64 {
        self.entries.last().map_or(self.start_term, |e| e.term)
    }

    /// The configuration in effect at the cut (part 3E), if one was recorded.
    pub fn start_config(&self) -> Option<&Config> {
        self.start_config.as_ref()
    }

    /// The latest configuration in the log and the index of its entry (the start index
    /// for the one at the cut), if the log has one (part 3E).
    pub fn latest_config(&self) -> Option<(u64, &Config)> {
        let after_cut = self
            .entries
            .iter()
            .rposition(|e| e.config.is_some())
            .map(|i| {
                (
                    self.start_index + 1 + i as u64,
                    self.entries[i].config.as_ref(),
                )
            });
        match after_cut {
            Some((index, Some(config))) => Some((index, config)),
            _ => self.start_config.as_ref().map(|c| (self.start_index, c)),
        }
    }

    /// The entries after the cut, in order.
    pub fn entries(&self) -> &[Entry] {
        &self.entries
    }

    /// The term of the entry at `index`, if the log still knows it (the start counts).
    pub fn term_at(&self, index: u64) -> Option<u64> {
        if index == self.start_index {
            Some(self.start_term)
        } else {
            self.entry(index).map(|e| e.term)
        }
    }

    /// The entry at `index`, if it is after the cut and not past the end.
    pub fn entry(&self, index: u64) -> Option<&Entry> {
        let offset = index.checked_sub(self.start_index + 1)?;
        self.entries.get(usize::try_from(offset).ok()?)
    }

    /// Up to `max` entries starting at `index` (which must be after the cut).
    pub fn entries_from(&self, index: u64, max: usize) -> &[Entry] {
        assert!(
            index > self.start_index,
            "entries_from({index}) is inside the snapshot (cut at {})",
            self.start_index
        );
        let from = ((index - self.start_index - 1) as usize).min(self.entries.len());
        let to = from.saturating_add(max).min(self.entries.len());
        &self.entries[from..to]
    }

    /// Appends an entry and returns its index.
    pub fn push(&mut self, entry: Entry) -> u64 {
        self.entries.push(entry);
        self.last_index()
    }

    /// Removes the entry at `index` and everything after it.
    pub fn truncate_from(&mut self, index: u64) {
        assert!(
            index > self.start_index,
            "truncate_from({index}) would cut into the snapshot (cut at {})",
            self.start_index
        );
        self.entries
            .truncate((index - self.start_index - 1) as usize);
    }

    /// The first index, no earlier than the cut, of the run of entries with `term` that
    /// contains `index`.
    pub fn first_index_of_term(&self, term: u64, mut index: u64) -> u64 {
        while index > self.start_index + 1 && self.term_at(index - 1) == Some(term) {
            index -= 1;
        }
        index
    }

    /// The last index whose entry has `term`, if the log (from its start on) has one.
    pub fn last_index_of_term(&self, term: u64) -> Option<u64> {
        let after_cut = self.entries.iter().rposition(|e| e.term == term);
        match after_cut {
            Some(i) => Some(self.start_index + 1 + i as u64),
            None => (self.start_term == term && self.start_index > 0).then_some(self.start_index),
        }
    }

    /// Moves the cut forward to `index` (a snapshot now covers it), keeping later entries
    /// and the latest configuration up to the cut.
    pub fn compact_to(&mut self, index: u64, term: u64) {
        assert!(
            index > self.start_index && index <= self.last_index(),
            "compact_to({index}) outside ({}, {}]",
            self.start_index,
            self.last_index()
        );
        let drop = (index - self.start_index) as usize;
        if let Some(config) = self.entries[..drop]
            .iter()
            .rev()
            .find_map(|e| e.config.clone())
        {
            self.start_config = Some(config);
        }
        self.entries.drain(..drop);
        self.start_index = index;
        self.start_term = term;
    }

    /// Discards every entry and restarts the log after (`index`, `term`), where `config`
    /// was in effect (an InstallSnapshot's configuration, part 3E).
    pub fn reset_to(&mut self, index: u64, term: u64, config: Option<Config>) {
        self.entries.clear();
        self.start_index = index;
        self.start_term = term;
        self.start_config = config;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn e(term: u64) -> Entry {
        Entry::new(term, vec![term as u8])
    }

    /// Terms by index: 1:1 2:1 3:2 4:2 5:2 6:3
    fn sample() -> Log {
        let mut log = Log::new();
        for t in [1, 1, 2, 2, 2, 3] {
            log.push(e(t));
        }
        log
    }

    #[test]
    fn indexes_start_at_one_and_zero_is_the_empty_start() {
        let log = sample();
        assert_eq!((log.last_index(), log.last_term()), (6, 3));
        assert_eq!(log.term_at(0), Some(0));
        assert_eq!(log.term_at(1), Some(1));
        assert_eq!(log.term_at(6), Some(3));
        assert_eq!(log.term_at(7), None);
        assert_eq!(Log::new().last_term(), 0);
    }

    #[test]
    fn terms_runs_are_found_in_both_directions() {
        let log = sample();
        assert_eq!(log.first_index_of_term(2, 5), 3);
        assert_eq!(log.first_index_of_term(1, 2), 1);
        assert_eq!(log.last_index_of_term(2), Some(5));
        assert_eq!(log.last_index_of_term(4), None);
    }

    #[test]
    fn truncation_and_slices() {
        let mut log = sample();
        assert_eq!(log.entries_from(5, 10), &[e(2), e(3)]);
        assert_eq!(log.entries_from(2, 2), &[e(1), e(2)]);
        assert_eq!(log.entries_from(7, 10), &[] as &[Entry]);
        log.truncate_from(4);
        assert_eq!(log.last_index(), 3);
        assert_eq!(log.last_term(), 2);
    }

    #[test]
    fn a_cut_log_keeps_the_start_term_and_later_entries() {
        let mut log = sample();
        log.compact_to(4, 2);
        assert_eq!((log.start_index(), log.start_term()), (4, 2));
        assert_eq!(log.term_at(3), None);
        assert_eq!(log.term_at(4), Some(2));
        assert_eq!(log.term_at(5), Some(2));
        assert_eq!(log.entry(4), None);
        assert_eq!(log.entry(6), Some(&e(3)));
        assert_eq!(log.last_index(), 6);
        // Runs of a term stop at the cut.
        assert_eq!(log.first_index_of_term(2, 5), 5);
        // The start counts as the last entry of its term when nothing later has it.
        log.compact_to(5, 2);
        assert_eq!(log.last_index_of_term(2), Some(5));
        log.reset_to(10, 4, None);
        assert_eq!(
            (log.last_index(), log.last_term(), log.entries().len()),
            (10, 4, 0)
        );
    }

    #[test]
    fn the_latest_configuration_survives_the_cut() {
        let mut log = sample();
        assert_eq!(log.latest_config(), None);
        let c1 = Config::of_voters([0, 1, 2]);
        let c2 = Config::of_voters([0, 1]);
        log.push(Entry::config(3, c1.clone())); // index 7
        log.push(e(3));
        assert_eq!(log.latest_config(), Some((7, &c1)));
        log.compact_to(8, 3);
        assert_eq!(log.latest_config(), Some((8, &c1)));
        log.push(Entry::config(3, c2.clone())); // index 9
        assert_eq!(log.latest_config(), Some((9, &c2)));
        // Truncating a configuration entry away brings back the one before it.
        log.truncate_from(9);
        assert_eq!(log.latest_config(), Some((8, &c1)));
        log.reset_to(20, 4, Some(c2.clone()));
        assert_eq!(log.latest_config(), Some((20, &c2)));
    }

    #[test]
    #[should_panic]
    fn reading_inside_the_snapshot_is_a_bug() {
        let mut log = sample();
        log.compact_to(3, 2);
        log.entries_from(3, 1);
    }
}
