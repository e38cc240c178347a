//! Sim mode for the suites. With `RAFTLAB_SIM=1` each test runs as one labrt simulation
//! (see the `labrt` crate): its threads take turns as a scheduler seeded from the run's
//! seed decides, on a virtual clock. The same seed replays the same run exactly — the
//! same interleaving, the same network faults, the same log — so a failure prints the one
//! command that brings it back.

use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};

use crate::harness::notice;

/// Runs `test` in the mode the environment asks for: as is, or as a simulation seeded
/// with `RAFTLAB_SEED` (or a fresh seed). A simulation that fails on its own (a deadlock,
/// a thread stuck outside labrt) fails the test with the reason and the replay command.
pub fn run_in_mode(test: impl FnOnce()) {
    if !labrt::sim::requested() {
        return test();
    }
    let seed = labrpc::seed_from_env();
    match labrt::sim::run(seed, || catch_unwind(AssertUnwindSafe(test))) {
        Ok((outcome, report)) => {
            notice(&format!("  {report}"));
            if let Err(panic) = outcome {
                resume_unwind(panic);
            }
        }
        Err(failure) => {
            notice(&format!("  {} (stopped)", failure.report));
            panic!(
                "the simulation stopped: {}\n{}",
                failure.message,
                replay_hint(seed)
            );
        }
    }
}

/// What a speed test says in sim mode, where CPU is free and every message takes
/// `labrpc::SIM_LATENCY` of virtual time: its times measure the simulation, not the code
/// under test, so it reports them but judges none.
pub const SPEED_NOT_JUDGED: &str = "sim mode: these times are virtual (CPU is free, each message \
     takes labrpc::SIM_LATENCY), so they say nothing about the code's speed and no limit is \
     applied; run in real mode to judge speed";

/// How to replay this run: in sim mode the exact command; in real mode the seed, which
/// fixes the network's faults and the tester's choices but not the threads' timing.
pub fn replay_hint(seed: u64) -> String {
    if labrt::sim::is_simulated() || labrt::sim::requested() {
        format!("replay exactly: {}", replay_command(seed))
    } else {
        format!(
            "{}={seed} replays this run's network faults and the tester's random choices \
             (not the threads' timing; to find failures that replay exactly, run `labtool \
             stress --sim`)",
            labrpc::SEED_VAR
        )
    }
}

/// The command that reruns the current test in sim mode with `seed`.
pub fn replay_command(seed: u64) -> String {
    let test = std::thread::current()
        .name()
        .unwrap_or("<test name>")
        .to_owned();
    format!(
        "{}=1 {}={seed} cargo test --release -p tests --test {} -- --exact {test}",
        labrt::sim::SIM_VAR,
        labrpc::SEED_VAR,
        test_binary()
    )
}

/// The test binary's name as Cargo knows it (`raft_3a` for `raft_3a-0123abcd`).
fn test_binary() -> String {
    let exe = std::env::current_exe().unwrap_or_default();
    let stem = exe
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    match stem.rsplit_once('-') {
        Some((name, hash)) if hash.chars().all(|c| c.is_ascii_hexdigit()) => name.to_owned(),
        _ => stem,
    }
}
