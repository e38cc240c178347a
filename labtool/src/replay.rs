//! `labtool replay`: one test run again in sim mode with a given seed — the same
//! interleaving, faults and log as the run that printed the seed — with its log and HTML
//! timeline kept. `--check` runs it twice and compares the two runs: the simulation's
//! trace hash, every scheduling point, and the output byte for byte; where they differ
//! it says at which step, so that a source of non-determinism can be found.

use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};

use crate::suite::{self, Profile, TestCase};

/// The log lines a replay keeps unless told otherwise: the peers' and the tester's.
pub const DEFAULT_LOG: &str = "raft=debug,kvraft=debug,tests=info";

pub struct Options {
    pub test: String,
    pub seed: u64,
    pub log: String,
    pub check: bool,
    pub dir: Option<PathBuf>,
    pub profile: Profile,
}

/// What one run left.
struct Run {
    passed: bool,
    output: String,
    trace: Option<Vec<String>>,
}

pub fn replay(opts: Options) -> Result<ExitCode, String> {
    let root = suite::workspace(opts.dir.as_deref())?;
    let suite = suite::build(&root, opts.profile)?;
    let case = suite
        .select(std::slice::from_ref(&opts.test))?
        .into_iter()
        .find(|t| t.name == opts.test)
        .ok_or_else(|| {
            format!(
                "replay takes one test by its exact name; {:?} names a part or a pattern",
                opts.test
            )
        })?;
    let out = suite::target_dir(&root)?
        .join("replay")
        .join(format!("{}-{}", case.name, opts.seed));
    std::fs::create_dir_all(&out).map_err(|e| format!("cannot create {}: {e}", out.display()))?;

    let first = run_once(&case, &opts, &out, 1)?;
    print_run(&first, &out, 1);
    if !opts.check {
        return Ok(exit(first.passed));
    }
    let second = run_once(&case, &opts, &out, 2)?;
    match divergence(&first, &second) {
        None => {
            let steps = first.trace.as_ref().map_or(0, Vec::len);
            println!(
                "deterministic: two runs with seed {} passed the same {steps} scheduling points \
                 and wrote the same output byte for byte",
                opts.seed
            );
            Ok(exit(first.passed))
        }
        Some(report) => {
            println!("NOT deterministic with seed {}: {report}", opts.seed);
            println!(
                "  outputs: {} and {}",
                out.join("run-1.log").display(),
                out.join("run-2.log").display()
            );
            Ok(ExitCode::from(1))
        }
    }
}

fn exit(passed: bool) -> ExitCode {
    if passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    }
}

fn run_once(case: &TestCase, opts: &Options, out: &Path, k: usize) -> Result<Run, String> {
    let log = out.join(format!("run-{k}.log"));
    let trace = out.join(format!("run-{k}.trace"));
    let _ = std::fs::remove_file(&trace);
    let file =
        std::fs::File::create(&log).map_err(|e| format!("cannot create {}: {e}", log.display()))?;
    let err = file
        .try_clone()
        .map_err(|e| format!("cannot write {}: {e}", log.display()))?;
    let mut command = Command::new(&case.binary);
    command
        .args([case.name.as_str(), "--exact", "--nocapture"])
        .current_dir(&case.cwd)
        .env(crate::stress::SIM_VAR, "1")
        .env(crate::run::SEED_VAR, opts.seed.to_string())
        .env("RUST_LOG", &opts.log)
        .env("RAFTLAB_VIZ", "always")
        .env("RAFTLAB_VIZ_FILE", out.join("timeline.html"))
        .stdin(Stdio::null())
        .stdout(file)
        .stderr(err);
    if opts.check {
        command.env("RAFTLAB_SIM_TRACE", &trace);
    }
    let status = command
        .status()
        .map_err(|e| format!("cannot run {}: {e}", case.binary.display()))?;
    let output =
        std::fs::read_to_string(&log).map_err(|e| format!("cannot read {}: {e}", log.display()))?;
    let trace = opts
        .check
        .then(|| std::fs::read_to_string(&trace).map(|t| t.lines().map(str::to_owned).collect()))
        .transpose()
        .map_err(|e| {
            format!(
                "the test wrote no trace to {} ({e}): does it run in sim mode?",
                trace.display()
            )
        })?;
    Ok(Run {
        passed: status.success(),
        output,
        trace,
    })
}

fn print_run(run: &Run, out: &Path, k: usize) {
    for line in run.output.lines() {
        let keep = line.starts_with("Test")
            || line.starts_with("Probe")
            || line.starts_with("  sim:")
            || line.contains("replay exactly:")
            || line.starts_with("thread '") && line.contains("panicked");
        if keep {
            println!("{line}");
        }
    }
    println!(
        "run {k} {}: log {}, timeline {}",
        if run.passed { "passed" } else { "FAILED" },
        out.join(format!("run-{k}.log")).display(),
        out.join("timeline.html").display()
    );
}

/// Where two runs differ: the first scheduling point, else the first line of output
/// (libtest's own timing line aside).
fn divergence(a: &Run, b: &Run) -> Option<String> {
    if let (Some(ta), Some(tb)) = (&a.trace, &b.trace)
        && let Some(i) = (0..ta.len().max(tb.len())).find(|&i| ta.get(i) != tb.get(i))
    {
        let show = |t: &Vec<String>| {
            t.get(i)
                .map_or("(the run had ended)".to_owned(), |l| describe_event(l))
        };
        return Some(format!(
            "the schedules part at trace line {}: run 1 {}, run 2 {}",
            i + 1,
            show(ta),
            show(tb)
        ));
    }
    let (la, lb) = (comparable(&a.output), comparable(&b.output));
    let i = (0..la.len().max(lb.len())).find(|&i| la.get(i) != lb.get(i))?;
    Some(format!(
        "the outputs part at line {}: run 1 {:?}, run 2 {:?}",
        i + 1,
        la.get(i).copied().unwrap_or("(ended)"),
        lb.get(i).copied().unwrap_or("(ended)")
    ))
}

/// A trace line (`step nanos thread op…`) in words.
fn describe_event(line: &str) -> String {
    let mut parts = line.splitn(4, ' ');
    match (parts.next(), parts.next(), parts.next(), parts.next()) {
        (Some(step), Some(nanos), Some(thread), Some(op)) if !line.starts_with('#') => {
            let ms = nanos.parse::<u64>().map_or(0.0, |n| n as f64 / 1e6);
            format!("ran '{thread}' at {op} (step {step}, {ms:.3} ms)")
        }
        _ => line.to_owned(),
    }
}

/// The lines of an output that must match: all but libtest's wall-clock summary.
fn comparable(output: &str) -> Vec<&str> {
    output
        .lines()
        .filter(|l| !(l.starts_with("test result:") && l.contains("finished in")))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(output: &str, trace: &[&str]) -> Run {
        Run {
            passed: true,
            output: output.to_owned(),
            trace: Some(trace.iter().map(|s| (*s).to_owned()).collect()),
        }
    }

    #[test]
    fn identical_runs_do_not_diverge_despite_libtest_timing() {
        let a = run(
            "x\ntest result: ok. 1 passed; finished in 0.5s\n",
            &["1 0 t op"],
        );
        let b = run(
            "x\ntest result: ok. 1 passed; finished in 0.7s\n",
            &["1 0 t op"],
        );
        assert_eq!(divergence(&a, &b), None);
    }

    #[test]
    fn the_first_differing_scheduling_point_is_named() {
        let a = run("x", &["1 0 main now", "2 1000000 raft-0 Sender::send"]);
        let b = run("x", &["1 0 main now", "2 1000000 raft-1 Sender::send"]);
        let d = divergence(&a, &b).unwrap();
        assert!(d.contains("trace line 2"), "{d}");
        assert!(
            d.contains("'raft-0' at Sender::send (step 2, 1.000 ms)"),
            "{d}"
        );
        assert!(d.contains("'raft-1'"), "{d}");
    }

    #[test]
    fn differing_output_is_named_by_line() {
        let a = run("a\nb\n", &[]);
        let b = run("a\nc\n", &[]);
        assert!(divergence(&a, &b).unwrap().contains("line 2"));
    }
}
