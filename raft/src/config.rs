//! Cluster membership (part 3E, §6 of the extended paper, thesis ch. 4): which servers
//! vote, which only receive the log, and what counts as a majority while the cluster
//! moves from one set of voters to another.
//!
//! A configuration is an ordinary log entry. It is in effect on a server as soon as the
//! server has it in its log, committed or not (thesis §4.1), and the log's cut remembers
//! the configuration in effect at the cut, so a snapshot carries it.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Deserialize, Serialize};

/// The servers of a cluster, by index into the peers' ends.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Config {
    /// The voters (C_new during a joint change).
    pub voters: BTreeSet<usize>,
    /// During joint consensus (C_old,new): the old voters, whose own majority is needed
    /// too. `None` outside a change.
    pub outgoing: Option<BTreeSet<usize>>,
    /// Members that receive the log but do not vote (thesis §4.2.1).
    pub learners: BTreeSet<usize>,
}

impl Config {
    /// A configuration of these voters and no learners.
    pub fn of_voters(voters: impl IntoIterator<Item = usize>) -> Self {
        Self {
            voters: voters.into_iter().collect(),
            ..Self::default()
        }
    }

    /// Whether this is C_old,new, a joint configuration.
    pub fn is_joint(&self) -> bool {
        self.outgoing.is_some()
    }

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

    /// Every server that gets the log: voters and learners.
    pub fn members(&self) -> BTreeSet<usize> {
        let mut all = self.all_voters();
        all.extend(&self.learners);
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

impl fmt::Display for Config {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |s: &BTreeSet<usize>| {
            let ids: Vec<String> = s.iter().map(|p| p.to_string()).collect();
            format!("{{{}}}", ids.join(","))
        };
        match &self.outgoing {
            Some(old) => write!(f, "voters {} → {}", set(old), set(&self.voters))?,
            None => write!(f, "voters {}", set(&self.voters))?,
        }
        if !self.learners.is_empty() {
            write!(f, ", learners {}", set(&self.learners))?;
        }
        Ok(())
    }
}

/// Why a membership change or a leadership transfer was refused (part 3E).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ChangeError {
    /// Only the leader changes the configuration.
    NotLeader,
    /// The latest configuration entry (at `index`) is not committed yet, or a joint
    /// change is still under way: one change at a time (thesis §4.1).
    ChangeInFlight { index: u64 },
    /// The leader has not yet committed an entry of its own term; until it has, a
    /// configuration entry could conflict with one an earlier leader left uncommitted
    /// (Ongaro's fix to single-server changes, raft-dev, 2015).
    NothingCommittedInTerm { term: u64 },
    /// A new voter must first be a learner that holds everything committed (thesis
    /// §4.2.1), or adding it could stall commits.
    NotCaughtUp {
        server: usize,
        matched: u64,
        commit: u64,
    },
    /// There is no such server among the peers' ends.
    UnknownServer(usize),
    /// Leadership goes only to a voter of the current configuration.
    NotAVoter(usize),
    /// The change asks for the configuration already in effect.
    Unchanged,
    /// A configuration needs at least one voter.
    NoVoters,
    /// A leadership transfer is under way; the leader takes no commands and no changes
    /// until it ends.
    TransferInProgress { to: usize },
}

impl fmt::Display for ChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::NotLeader => write!(f, "not the leader"),
            Self::ChangeInFlight { index } => write!(
                f,
                "a configuration change (index {index}) is still in flight: one change at a time"
            ),
            Self::NothingCommittedInTerm { term } => write!(
                f,
                "nothing of term {term} committed yet: a leader changes the configuration only \
                 after it has committed an entry of its own term"
            ),
            Self::NotCaughtUp {
                server,
                matched,
                commit,
            } => write!(
                f,
                "server {server} is not caught up (holds up to {matched}, commit index {commit}): \
                 add it as a learner and wait"
            ),
            Self::UnknownServer(s) => write!(f, "unknown server {s}"),
            Self::NotAVoter(s) => write!(f, "server {s} is not a voter"),
            Self::Unchanged => write!(f, "that configuration is already in effect"),
            Self::NoVoters => write!(f, "a configuration needs at least one voter"),
            Self::TransferInProgress { to } => {
                write!(f, "leadership is being transferred to server {to}")
            }
        }
    }
}

impl std::error::Error for ChangeError {}
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
