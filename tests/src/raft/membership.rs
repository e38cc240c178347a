//! Part 3E's verbs: clusters over a pool of server slots larger than the first
//! configuration, and the membership changes the tests make — through the leader, as a
//! service would, waiting for each change to commit.
//!
//! A refused change is retried when the refusal is one a correct leader gives for a
//! while (not the leader, a change in flight, a learner still catching up, a transfer
//! under way); "nothing of this term committed yet" is answered by committing a command
//! first, as a service would. Any other refusal, or a change not committed within
//! [`CHANGE_TIMEOUT`], fails the test.

use labrt::time::{Duration, Instant};
use std::collections::BTreeSet;

use raft::{ChangeError, Config};

use super::RaftTest;
use crate::calls::TimedRaft;

pub use crate::group::CHANGE_TIMEOUT;

/// How often [`RaftTest::wait_config`] hands the leader a command while it waits.
pub const NUDGE_INTERVAL: Duration = Duration::from_millis(200);

/// How long a leadership transfer may take: two of the tests' election timeouts, one for
/// catching the target up and one for its election (thesis §3.10 gives the leader one
/// election timeout before it abandons the transfer).
pub const TRANSFER_LIMIT: Duration = Duration::from_secs(2);

fn set(ids: impl IntoIterator<Item = usize>) -> BTreeSet<usize> {
    ids.into_iter().collect()
}

impl RaftTest {
    /// The latest configuration that a server applied (committed), or the first one.
    pub fn committed_config(&self) -> Config {
        match &self.applied.lock().committed_config {
            Some((_, config)) => config.clone(),
            None => Config::of_voters(0..self.setup.voters),
        }
    }

    /// The voters of the latest committed configuration.
    pub fn voters(&self) -> Vec<usize> {
        self.committed_config().voters.into_iter().collect()
    }

    /// Peer `i`'s configuration in effect (committed or not).
    #[track_caller]
    pub fn membership(&self, i: usize) -> Config {
        match self.raft(i) {
            Some(raft) => raft.membership(),
            None => self.fatal(format!("membership({i}): server {i} is not running")),
        }
    }

    /// Asks the leader for a change until it accepts
    /// ([`crate::group::Group::change_through_leader`];
    /// a leader with nothing of its term committed is handed a command), and returns the
    /// leader and what it answered.
    #[track_caller]
    pub fn leader_change<T>(
        &self,
        what: &str,
        change: impl Fn(&TimedRaft) -> Result<T, ChangeError>,
    ) -> (usize, T) {
        let check = self.recorder().check(what.to_owned());
        let nudge = |raft: &TimedRaft| {
            let _ = raft.start(super::Cmd::Int(self.rand_u64()).encode());
        };
        match self
            .group()
            .change_through_leader(what, change, nudge, || self.check_background())
        {
            Ok((leader, answer)) => {
                check.ok(format!("accepted by leader {leader}"));
                (leader, answer)
            }
            Err(failure) => self.fatal(failure),
        }
    }

    /// A connected, running server that believes it leads (the one of the highest term).
    pub fn connected_leader(&self) -> Option<(usize, TimedRaft)> {
        self.group().connected_leader()
    }

    /// Waits until a server has applied a configuration for which `done` holds. Every
    /// [`NUDGE_INTERVAL`] meanwhile the leader gets a command: a leader commits entries of
    /// earlier terms only through one of its own (§5.4.2), and a new leader may hold an
    /// uncommitted configuration of its predecessor.
    #[track_caller]
    pub fn wait_config(&self, what: &str, done: impl Fn(&Config) -> bool) -> Config {
        let check = self.recorder().check(format!("wait for {what}"));
        let deadline = Instant::now() + CHANGE_TIMEOUT;
        let reached = loop {
            let step = (Instant::now() + NUDGE_INTERVAL).min(deadline);
            let reached = self.applied.wait_until(step, |state| {
                state
                    .committed_config
                    .as_ref()
                    .is_some_and(|(_, config)| done(config))
            });
            if reached || Instant::now() >= deadline {
                break reached;
            }
            if let Some((_, raft)) = self.connected_leader() {
                let _ = raft.start(super::Cmd::Int(self.rand_u64()).encode());
            }
        };
        self.check_background();
        let config = self.committed_config();
        if !reached {
            self.fatal(format!(
                "{what} not committed within {} s (committed: {config})",
                CHANGE_TIMEOUT.as_secs()
            ));
        }
        check.ok(config.to_string());
        config
    }

    /// Adds server `i` as a learner through the leader and waits until that commits.
    #[track_caller]
    pub fn add_learner(&self, i: usize) {
        self.leader_change(&format!("add_learner({i})"), |raft| raft.add_learner(i));
        self.wait_config(&format!("learner {i}"), |c| c.learners.contains(&i));
    }

    /// Makes `voters` the voters through the leader and waits until a configuration of
    /// exactly those voters (C_new, after C_old,new if the change is joint) is committed.
    #[track_caller]
    pub fn change_voters(&self, voters: &[usize]) {
        let want = set(voters.iter().copied());
        let what = format!("change_voters({want:?})");
        self.leader_change(&what, |raft| raft.change_voters(voters));
        self.wait_config(&format!("a configuration of voters {want:?}"), |c| {
            !c.is_joint() && c.voters == want
        });
    }

    /// Starts server `i` outside the cluster (if it is not running), connects it, adds it
    /// as a learner, and makes it a voter once it has caught up.
    #[track_caller]
    pub fn add_server(&self, i: usize) {
        if self.raft(i).is_none() {
            self.start_server(i);
        }
        self.connect_one(i);
        self.add_learner(i);
        let mut voters = self.voters();
        voters.push(i);
        self.change_voters(&voters);
    }

    /// Removes the voter `i` from the configuration (it keeps running).
    #[track_caller]
    pub fn remove_server(&self, i: usize) {
        let voters: Vec<usize> = self.voters().into_iter().filter(|&v| v != i).collect();
        self.change_voters(&voters);
    }

    /// Asks the leader to hand its leadership to `to`, and waits until `to` leads: within
    /// [`TRANSFER_LIMIT`] of the leader's accepting. Returns the old leader.
    #[track_caller]
    pub fn transfer_leadership(&self, to: usize) -> usize {
        let (from, ()) = self.leader_change(&format!("transfer_leadership({to})"), |raft| {
            raft.transfer_leadership(to)
        });
        let deadline = Instant::now() + TRANSFER_LIMIT;
        while Instant::now() < deadline {
            if let Some(raft) = self.raft(to)
                && raft.get_state().1
            {
                return from;
            }
            self.sleep(Duration::from_millis(10));
        }
        self.fatal(format!(
            "leadership did not move from server {from} to server {to} within {} ms of \
             transfer_leadership({to}): the leader must bring {to} up to date and send it \
             TimeoutNow, and {to} must then campaign at once (thesis §3.10)",
            TRANSFER_LIMIT.as_millis()
        ))
    }
}
