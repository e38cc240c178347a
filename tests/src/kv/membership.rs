//! Part 4E's verbs: the KV service's servers added, removed and replaced while clients
//! keep using it. Changes go through the leader's Raft as in part 3E; a leader that has
//! committed nothing of its term yet is handed a get, as any client would.

use labrt::thread;
use labrt::time::{Duration, Instant};
use std::sync::atomic::{AtomicBool, Ordering};

use super::{ClientResult, KvTest, TestClerk};
use crate::calls::TimedRaft;
use crate::group::CHANGE_TIMEOUT;
use crate::harness::join;

/// How often a wait for a configuration hands the service a get meanwhile.
const NUDGE_INTERVAL: Duration = Duration::from_millis(200);

impl KvTest {
    /// The voters after the last change the test made.
    pub fn voters(&self) -> Vec<usize> {
        self.voters.lock().clone()
    }

    /// Gets an operation of the current leader's term committed: a get through a clerk
    /// of the test's own (not part of the checked history: a read changes nothing).
    fn nudge(&self) {
        let ck = self.nudger.get_or_init(|| self.make_clerk());
        let _ = ck.clerk().get("nudge");
    }

    /// Asks the leader for a change until it accepts (see
    /// [`crate::group::Group::change_through_leader`]).
    #[track_caller]
    fn leader_change<T>(
        &self,
        what: &str,
        change: impl Fn(&TimedRaft) -> Result<T, raft::ChangeError>,
    ) -> (usize, T) {
        match self
            .group()
            .change_through_leader(what, change, |_| self.nudge(), || {})
        {
            Ok(accepted) => accepted,
            Err(failure) => self.fatal(failure),
        }
    }

    /// Waits until every running server in `servers` uses a configuration for which
    /// `done` holds, handing the service a get now and then.
    #[track_caller]
    fn wait_membership(&self, what: &str, servers: &[usize], done: impl Fn(&raft::Config) -> bool) {
        let t0 = Instant::now();
        loop {
            let behind: Vec<usize> = servers
                .iter()
                .copied()
                .filter(|&i| self.group().raft(i).is_some_and(|r| !done(&r.membership())))
                .collect();
            if behind.is_empty() {
                return;
            }
            if t0.elapsed() > CHANGE_TIMEOUT {
                self.fatal(format!(
                    "{what}: servers {behind:?} do not use it {} s after the leader accepted it",
                    CHANGE_TIMEOUT.as_secs()
                ));
            }
            self.nudge();
            thread::sleep(NUDGE_INTERVAL);
        }
    }

    /// Makes `voters` the voters, and waits until each of them uses exactly that
    /// configuration (C_new, after C_old,new for a joint change).
    #[track_caller]
    pub fn change_voters(&self, voters: &[usize]) {
        let what = format!("change_voters({voters:?})");
        self.leader_change(&what, |raft| raft.change_voters(voters));
        self.wait_membership(&what, voters, |c| {
            !c.is_joint() && c.voters.iter().eq(voters.iter())
        });
        *self.voters.lock() = voters.to_vec();
    }

    /// Starts server `i` outside the cluster (if it is not running), connects it, adds it
    /// as a learner, and makes it a voter once it has caught up.
    #[track_caller]
    pub fn add_server(&self, i: usize) {
        if self.group().raft(i).is_none() {
            self.start_server(i);
        }
        self.group().connect_one(i);
        let what = format!("add_learner({i})");
        self.leader_change(&what, |raft| raft.add_learner(i));
        self.wait_membership(&what, &[i], |c| c.learners.contains(&i));
        let mut voters = self.voters();
        voters.push(i);
        voters.sort_unstable();
        self.change_voters(&voters);
    }

    /// Removes the voter `i` from the configuration (it keeps running).
    #[track_caller]
    pub fn remove_server(&self, i: usize) {
        let voters: Vec<usize> = self.voters().into_iter().filter(|&v| v != i).collect();
        self.change_voters(&voters);
    }

    /// Runs `nclients` clients putting to `keys` (Go's `OneClientPut`) while `body` runs,
    /// and returns what each did.
    pub fn clients_during(
        &self,
        nclients: usize,
        keys: &[String],
        body: impl FnOnce(),
    ) -> Vec<ClientResult> {
        let done = AtomicBool::new(false);
        thread::scope(|s| {
            let clients: Vec<_> = (0..nclients)
                .map(|cli| {
                    let done = &done;
                    s.spawn(move || {
                        let ck: TestClerk = self.make_clerk();
                        let result = self.one_client_put(cli, &ck, keys, done);
                        self.delete_clerk(ck);
                        result
                    })
                })
                .collect();
            // Let the clients work undisturbed for a while first.
            thread::sleep(Duration::from_secs(1));
            body();
            thread::sleep(Duration::from_secs(1));
            done.store(true, Ordering::Release);
            clients.into_iter().map(join).collect()
        })
    }
}
