//! Cluster membership (part 3E, §6 of the extended paper, thesis ch. 4): which servers
//! vote and which only receive the log, and why a change was refused. These types are
//! part of the lab's API, the same in every handout: the tester reads a peer's
//! [`Config`] ([`crate::Raft::membership`], [`crate::ApplyMsg::Config`]) and matches on
//! [`ChangeError`].

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

    /// Every server that gets the log: voters (of both sets in a joint configuration)
    /// and learners.
    pub fn members(&self) -> BTreeSet<usize> {
        let mut all = self.voters.clone();
        all.extend(self.outgoing.iter().flatten());
        all.extend(&self.learners);
        all
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
