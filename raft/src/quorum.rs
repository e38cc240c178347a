//! What counts as a majority while the cluster moves from one set of voters to another
//! (part 3E, §6 of the extended paper, thesis ch. 4): the rules of [`Config`].
//!
//! A configuration is an ordinary log entry. It is in effect on a server as soon as the
//! server has it in its log, committed or not (thesis §4.1), and the log's cut remembers
//! the configuration in effect at the cut, so a snapshot carries it.

use std::collections::BTreeSet;

use crate::config::Config;

impl Config {
    /// Whether `server` votes in this configuration (in either set of a joint one).
    pub fn is_voter(&self, server: usize) -> bool {
        self.voters.contains(&server) || self.outgoing.as_ref().is_some_and(|o| o.contains(&server))
    }

    pub fn is_learner(&self, server: usize) -> bool {
        self.learners.contains(&server) && !self.is_voter(server)
    }

    /// Every voter, of both sets in a joint configuration.
    pub fn all_voters(&self) -> BTreeSet<usize> {
        let mut all = self.voters.clone();
        all.extend(self.outgoing.iter().flatten());
        all
    }

    /// The sets whose majorities decide: the voters, and the old voters during a joint
    /// change.
    pub fn majorities(&self) -> impl Iterator<Item = &BTreeSet<usize>> {
        std::iter::once(&self.voters).chain(self.outgoing.as_ref())
    }

    /// Whether the servers for which `yes` holds form a quorum: a majority of the voters,
    /// and, in a joint configuration, separately a majority of the old voters (§6:
    /// "agreement requires separate majorities from both configurations"). An empty set
    /// of voters has no quorum.
    pub fn has_quorum(&self, yes: impl Fn(usize) -> bool) -> bool {
        // solution:begin 3E Count a separate majority in each set of voters (§6, joint consensus).
        self.majorities().all(|set| {
            let granted = set.iter().filter(|&&p| yes(p)).count();
            !set.is_empty() && granted > set.len() / 2
        })
        // solution:skeleton
        // if self.is_joint() {
        //     todo!("3E: count a separate majority in each set of voters (§6, joint consensus)")
        // }
        // let granted = self.voters.iter().filter(|&&p| yes(p)).count();
        // !self.voters.is_empty() && granted > self.voters.len() / 2
        // solution:end
    }

    /// The highest index that a quorum holds, given what each voter holds (`matched`):
    /// in each set of voters the index a majority has reached, and the lower of the two
    /// in a joint configuration. 0 if there are no voters.
    pub fn quorum_index(&self, matched: impl Fn(usize) -> u64) -> u64 {
        self.quorum_value(matched).unwrap_or(0)
    }

    /// The greatest value that a quorum has reached, given each voter's (`held`): in each
    /// set of voters the value a majority has reached, and the lower of the two in a
    /// joint configuration. `None` if there are no voters. A log index for commits
    /// (3E); for reads (4D), the time of the latest request each voter answered.
    pub fn quorum_value<T: Ord + Copy>(&self, held: impl Fn(usize) -> T) -> Option<T> {
        // solution:begin 3E Find the value a majority of each set of voters holds (§6, joint consensus).
        self.majorities()
            .filter_map(|set| {
                let mut values: Vec<T> = set.iter().map(|&p| held(p)).collect();
                values.sort_unstable_by(|a, b| b.cmp(a));
                values.get(set.len() / 2).copied()
            })
            .min()
        // solution:skeleton
        // if self.is_joint() {
        //     todo!("3E: find the value a majority of each set of voters holds (§6, joint consensus)")
        // }
        // let mut values: Vec<T> = self.voters.iter().map(|&p| held(p)).collect();
        // values.sort_unstable_by(|a, b| b.cmp(a));
        // values.get(self.voters.len() / 2).copied()
        // solution:end
    }
}
// solution:begin tests The solution's unit tests of its quorum rules: the 3E suite checks a student's.

#[cfg(test)]
mod tests {
    use super::*;

    fn set(ids: &[usize]) -> BTreeSet<usize> {
        ids.iter().copied().collect()
    }

    #[test]
    fn a_simple_configuration_needs_a_majority_of_its_voters() {
        let c = Config::of_voters([0, 1, 2]);
        assert!(c.has_quorum(|p| p != 2));
        assert!(!c.has_quorum(|p| p == 0));
        assert_eq!(c.quorum_index(|p| [5, 3, 1][p]), 3);
        assert!(!Config::default().has_quorum(|_| true));
    }

    #[test]
    fn a_joint_configuration_needs_a_majority_of_each_set() {
        let c = Config {
            voters: set(&[3, 4, 5]),
            outgoing: Some(set(&[0, 1, 2])),
            learners: BTreeSet::new(),
        };
        // All of the old set and one of the new: a combined majority (4 of 6), not a
        // majority of each.
        assert!(!c.has_quorum(|p| p <= 3));
        assert!(c.has_quorum(|p| p <= 4 && p != 2));
        // Old set at 10, new set at 7: the joint quorum holds 7.
        assert_eq!(c.quorum_index(|p| if p < 3 { 10 } else { 7 }), 7);
        assert_eq!(c.all_voters(), set(&[0, 1, 2, 3, 4, 5]));
        assert!(c.is_voter(1) && c.is_voter(4));
    }

    #[test]
    fn learners_do_not_count() {
        let c = Config {
            voters: set(&[0, 1, 2]),
            outgoing: None,
            learners: set(&[3, 4]),
        };
        assert!(!c.has_quorum(|p| p == 0 || p >= 3));
        assert!(c.is_learner(3) && !c.is_voter(3));
        assert_eq!(c.members(), set(&[0, 1, 2, 3, 4]));
        assert_eq!(c.to_string(), "voters {0,1,2}, learners {3,4}");
    }
}
// solution:end
