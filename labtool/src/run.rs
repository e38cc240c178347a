//! Running one test once, in a process of its own, and deciding what happened.
//!
//! The verdict comes from the harness's verdict file, not from the exit status or the
//! printed output: the harness appends a JSON line, stamped with a nonce this run
//! chose, only once the test has finished and been checked (`RAFTLAB_VERDICT_FILE`,
//! `RAFTLAB_VERDICT_NONCE`). A run passes only if exactly one line with its nonce names
//! its test and says passed, *and* the process then exited successfully. A process that
//! exits early (even with status 0), hangs, is killed, or prints `Passed` lines of its
//! own has no such line and fails.

use std::fs::File;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::thread;
use std::time::{Duration, Instant};

use serde::Deserialize;

use crate::cpu::{self, MachineTicks, Throttling};
use crate::suite::TestCase;

pub const VERDICT_FILE_VAR: &str = "RAFTLAB_VERDICT_FILE";
pub const VERDICT_NONCE_VAR: &str = "RAFTLAB_VERDICT_NONCE";
pub const SEED_VAR: &str = "RAFTLAB_SEED";

/// The harness fails a test at 120 s; a process still running this long is killed.
pub const HARD_LIMIT: Duration = Duration::from_secs(150);

/// One line of the verdict file.
#[derive(Clone, Debug, Deserialize)]
pub struct VerdictLine {
    pub nonce: String,
    pub test: String,
    pub passed: bool,
    #[serde(default)]
    pub message: Option<String>,
}

/// How a run ended.
#[derive(Clone, Debug, PartialEq)]
pub enum Outcome {
    Passed,
    /// Failed, with the reason in one line.
    Failed(String),
    /// Stopped by the user (Ctrl-C) before it finished: neither passed nor failed.
    Interrupted,
}

impl Outcome {
    pub fn passed(&self) -> bool {
        matches!(self, Outcome::Passed)
    }

    /// Why the run failed, if it did.
    pub fn reason(&self) -> Option<&str> {
        match self {
            Outcome::Failed(why) => Some(why),
            _ => None,
        }
    }
}

impl RunResult {
    /// A run that never started (its process was not launched).
    pub fn not_run(test: &str, run: usize, outcome: Outcome, log: PathBuf) -> Self {
        RunResult {
            test: test.to_owned(),
            run,
            outcome,
            secs: 0.0,
            cpu_secs: None,
            machine_busy: None,
            throttled: None,
            seed: 0,
            log,
        }
    }

    /// Whether the machine (or its CPU quota) was saturated while this run ran: its
    /// verdict may then reflect a want of CPU rather than the code.
    pub fn saturated(&self) -> bool {
        self.machine_busy.is_some_and(|b| b >= cpu::SATURATED)
            || self.throttled.is_some_and(|t| t >= cpu::THROTTLED)
    }

    /// The run as the JSON reports (grade's, stress's summary) give it.
    pub fn json(&self) -> serde_json::Value {
        serde_json::json!({
            "run": self.run,
            "passed": self.outcome.passed(),
            "reason": self.outcome.reason(),
            "secs": self.secs,
            "cpu_secs": self.cpu_secs,
            "machine_busy": self.machine_busy,
            "throttled": self.throttled,
            "saturated": self.saturated(),
            "seed": self.seed,
        })
    }
}

/// The result of one run.
#[derive(Clone, Debug)]
pub struct RunResult {
    pub test: String,
    /// Which run of this test (1-based).
    pub run: usize,
    pub outcome: Outcome,
    /// Wall time of the process.
    pub secs: f64,
    /// User + system CPU time of the process, when it was measured.
    pub cpu_secs: Option<f64>,
    /// How busy the machine's cores were while it ran (0 to 1), when known.
    pub machine_busy: Option<f64>,
    /// The share of its wall time that its CPU cgroup spent throttled by a CPU quota
    /// (0 to 1), where there is one.
    pub throttled: Option<f64>,
    pub seed: u64,
    /// The test's output (stdout and stderr).
    pub log: PathBuf,
}

/// Why a run must stop before its process ends.
#[derive(Clone, Debug, PartialEq)]
pub enum Stop {
    Interrupted,
    /// A time limit: the run fails with this reason.
    Limit(String),
}

/// What to run.
pub struct Launch<'a> {
    pub case: &'a TestCase,
    pub run: usize,
    pub seed: u64,
    /// Where the test's output goes.
    pub log: PathBuf,
    /// The directory for the verdict file.
    pub scratch: &'a Path,
    /// Extra environment (e.g. `RUST_LOG`).
    pub env: Vec<(String, String)>,
}

/// Runs the test and waits for it, killing it past [`HARD_LIMIT`] or when `stop` says so
/// (polled every 20 ms).
pub fn run(launch: &Launch, stop: &dyn Fn() -> Option<Stop>) -> RunResult {
    let started = Instant::now();
    let ticks_at_start = MachineTicks::now();
    let throttling_at_start = Throttling::now();
    let nonce = format!(
        "{:016x}{:016x}",
        rand::random::<u64>(),
        rand::random::<u64>()
    );
    let verdicts = launch
        .scratch
        .join(format!("{}-{}-{nonce}.jsonl", launch.case.name, launch.run));
    // A simulation's verdict does not depend on the CPU it got (time is virtual): how busy
    // the machine was says nothing about it, so it is not measured.
    let simulated = launch
        .env
        .iter()
        .any(|(k, v)| k == crate::stress::SIM_VAR && v == "1");
    let result = |outcome, cpu_secs| RunResult {
        test: launch.case.name.clone(),
        run: launch.run,
        outcome,
        secs: started.elapsed().as_secs_f64(),
        cpu_secs,
        machine_busy: MachineTicks::now()
            .zip(ticks_at_start)
            .and_then(|(now, then)| now.busy_since(&then))
            .filter(|_| !simulated),
        throttled: Throttling::now()
            .zip(throttling_at_start)
            .and_then(|(now, then)| now.share_since(&then))
            .filter(|_| !simulated),
        seed: launch.seed,
        log: launch.log.clone(),
    };
    let child = File::create(&launch.log).and_then(|mut log| {
        writeln!(
            log,
            "labtool: {} run {} with {SEED_VAR}={}\n",
            launch.case.name, launch.run, launch.seed
        )?;
        let err = log.try_clone()?;
        Command::new(&launch.case.binary)
            .args([launch.case.name.as_str(), "--exact", "--nocapture"])
            .current_dir(&launch.case.cwd)
            .env(SEED_VAR, launch.seed.to_string())
            .env(VERDICT_FILE_VAR, &verdicts)
            .env(VERDICT_NONCE_VAR, &nonce)
            .envs(launch.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(log)
            .stderr(err)
            .spawn()
    });
    let mut child = match child {
        Ok(c) => c,
        Err(e) => {
            return result(
                Outcome::Failed(format!(
                    "cannot start {}: {e}",
                    launch.case.binary.display()
                )),
                None,
            );
        }
    };
    let (status, cpu_secs) = loop {
        match cpu::reap(&child, false) {
            Ok(Some(ended)) => break ended,
            Ok(None) => {}
            Err(e) => {
                let _ = child.kill();
                let _ = child.wait();
                return result(Outcome::Failed(format!("lost the test process: {e}")), None);
            }
        }
        let reason = if started.elapsed() > HARD_LIMIT {
            Some(Stop::Limit(format!(
                "killed: still running after {} s (the tester fails a test at 120 s)",
                HARD_LIMIT.as_secs()
            )))
        } else {
            stop()
        };
        if let Some(reason) = reason {
            let _ = child.kill();
            let cpu_secs = cpu::reap(&child, true).ok().flatten().map(|(_, cpu)| cpu);
            let _ = std::fs::remove_file(&verdicts);
            let outcome = match reason {
                Stop::Interrupted => Outcome::Interrupted,
                Stop::Limit(why) => Outcome::Failed(why),
            };
            return result(outcome, cpu_secs);
        }
        thread::sleep(Duration::from_millis(20));
    };
    let lines = read_verdicts(&verdicts, &nonce, &launch.case.name);
    let _ = std::fs::remove_file(&verdicts);
    if stop() == Some(Stop::Interrupted) && lines.is_empty() {
        // Ctrl-C reached the test process too.
        return result(Outcome::Interrupted, Some(cpu_secs));
    }
    result(decide(&lines, status), Some(cpu_secs))
}

/// The verdict lines of this run: its nonce and its test. Lines that do not parse, or
/// carry another nonce, are not this run's and are ignored.
pub fn read_verdicts(path: &Path, nonce: &str, test: &str) -> Vec<VerdictLine> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str::<VerdictLine>(l).ok())
        .filter(|v| v.nonce == nonce && v.test == test)
        .collect()
}

/// Passed only if exactly one verdict line says so and the process then exited 0.
pub fn decide(lines: &[VerdictLine], status: ExitStatus) -> Outcome {
    match lines {
        [] => Outcome::Failed(format!(
            "no verdict: the process {} before the test reported passing",
            describe_exit(status)
        )),
        [v] if !v.passed => Outcome::Failed(
            v.message
                .as_deref()
                .and_then(|m| m.lines().next())
                .unwrap_or("failed")
                .to_owned(),
        ),
        [_] if !status.success() => Outcome::Failed(format!(
            "the test reported passing, but then its process {}",
            describe_exit(status)
        )),
        [_] => Outcome::Passed,
        _ => Outcome::Failed(format!(
            "{} verdicts for one run of the test: not trusted",
            lines.len()
        )),
    }
}

fn describe_exit(status: ExitStatus) -> String {
    #[cfg(unix)]
    {
        use std::os::unix::process::ExitStatusExt;
        if let Some(signal) = status.signal() {
            return format!("was killed by signal {signal}");
        }
    }
    match status.code() {
        Some(0) => "exited with status 0".to_owned(),
        Some(101) => "exited with status 101 (a panic outside the test harness)".to_owned(),
        Some(code) => format!("exited with status {code}"),
        None => "ended without a status".to_owned(),
    }
}

/// A scratch directory for verdict files, removed on drop.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new() -> Result<Self, String> {
        let dir = std::env::temp_dir().join(format!(
            "labtool-{}-{:08x}",
            std::process::id(),
            rand::random::<u32>()
        ));
        std::fs::create_dir_all(&dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        Ok(Self(dir))
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    fn status(code: i32) -> ExitStatus {
        use std::os::unix::process::ExitStatusExt;
        ExitStatus::from_raw(code << 8)
    }

    fn line(nonce: &str, test: &str, passed: bool) -> String {
        format!(
            r#"{{"nonce":"{nonce}","test":"{test}","title":"t","passed":{passed},"secs":1.5,"seed":7,"message":{}}}"#,
            if passed {
                "null".to_owned()
            } else {
                "\"only 1 decided for index 3; wanted 2\\nmore\"".to_owned()
            }
        )
    }

    #[test]
    #[cfg(unix)]
    fn only_a_verdict_line_with_the_nonce_counts() {
        let dir = Scratch::new().unwrap();
        let path = dir.path().join("v.jsonl");
        let text = [
            line("other", "a_3A", true),
            "Test (3A): a ... Passed".to_owned(),
            line("n1", "b_3A", true),
            line("n1", "a_3A", false),
        ]
        .join("\n");
        std::fs::write(&path, text).unwrap();
        let lines = read_verdicts(&path, "n1", "a_3A");
        assert_eq!(lines.len(), 1);
        assert_eq!(
            decide(&lines, status(101)),
            Outcome::Failed("only 1 decided for index 3; wanted 2".into())
        );
        assert!(read_verdicts(&dir.path().join("missing"), "n1", "a_3A").is_empty());
    }

    #[test]
    #[cfg(unix)]
    fn an_early_exit_with_status_0_fails() {
        let outcome = decide(&[], status(0));
        assert_eq!(
            outcome,
            Outcome::Failed(
                "no verdict: the process exited with status 0 before the test reported passing"
                    .into()
            )
        );
    }

    #[test]
    #[cfg(unix)]
    fn a_pass_needs_a_clean_exit_and_a_single_line() {
        let v: VerdictLine = serde_json::from_str(&line("n", "a_3A", true)).unwrap();
        assert_eq!(decide(std::slice::from_ref(&v), status(0)), Outcome::Passed);
        assert!(matches!(
            decide(std::slice::from_ref(&v), status(3)),
            Outcome::Failed(m) if m.contains("then its process exited with status 3")
        ));
        assert!(matches!(
            decide(&[v.clone(), v], status(0)),
            Outcome::Failed(m) if m.contains("2 verdicts")
        ));
    }
}
