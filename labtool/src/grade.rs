//! `labtool grade`: runs every test of the chosen parts K times and scores them.
//!
//! A run counts as passed only when the harness's nonce-stamped verdict says so and the
//! process then exits cleanly ([`crate::run`]). Everything else fails: a test missing
//! from the report, killed at the time limit, or lost because the process exited early.
//! Each part has a time budget for all its runs; runs still going when it runs out are
//! killed, and runs not yet started are not run; both count as failed.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

use crate::gradescope;
use crate::interrupt;
use crate::pool;
use crate::report::{self, Graded, PartReport, TestReport};
use crate::run::{self, Launch, Outcome, RunResult, Scratch, Stop};
use crate::suite::{self, Profile, Suite, TestCase};

pub struct Options {
    pub parts: Option<Vec<String>>,
    pub runs: usize,
    pub workers: usize,
    pub json: Option<PathBuf>,
    pub junit: Option<PathBuf>,
    pub gradescope: Option<PathBuf>,
    pub part_limit: Duration,
    /// CPU seconds a part may use for one run of each of its tests.
    pub cpu_limit: Option<f64>,
    pub dir: Option<PathBuf>,
    pub profile: Profile,
    /// Sim mode: every run a seeded simulation (see `labtool replay`).
    pub sim: bool,
}

/// Runs at a time unless `-j` says otherwise. The suites sleep far more than they
/// compute (a correct Raft uses a few percent of a core per test), so runs are packed
/// many to a machine. Measured on 2 cores (BENCHMARKS.md, "labtool grade"): all 60
/// tests take 71 s at 8, 47 s at 16, 46 s at 32 and 45 s at 64, the longest test being
/// 46 s; the busiest run saw the machine 68%, 79%, 89% and 96% busy. 16 is as fast as
/// more, with the most headroom.
pub const DEFAULT_WORKERS: usize = 16;

pub fn grade(opts: Options) -> Result<ExitCode, String> {
    let started = Instant::now();
    let root = suite::workspace(opts.dir.as_deref())?;
    let suite = suite::build(&root, opts.profile)?;
    let parts = choose_parts(&suite, opts.parts.as_deref())?;
    let scratch = Scratch::new()?;
    let logs = suite::target_dir(&root)?
        .join("grade")
        .join(jiff::Zoned::now().strftime("%Y%m%d-%H%M%S").to_string());
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    interrupt::install();
    let grading_started = Instant::now();

    let tests: Vec<Vec<TestCase>> = parts.iter().map(|p| suite.part(p)).collect();
    let results = run_all(&parts, &tests, &opts, &logs, scratch.path());
    let mut graded = Graded {
        workspace: root.display().to_string(),
        profile: opts.profile,
        sim: opts.sim,
        runs_per_test: opts.runs,
        part_limit_secs: opts.part_limit.as_secs(),
        cpu_limit_secs: opts.cpu_limit,
        parts: Vec::new(),
        interrupted: results
            .iter()
            .flatten()
            .any(|r| r.outcome == Outcome::Interrupted),
        grading_secs: grading_started.elapsed().as_secs_f64(),
    };
    for ((part, tests), results) in parts.iter().zip(&tests).zip(results) {
        let mut report = part_report(part, tests, results);
        if let Some(limit) = opts.cpu_limit {
            report.over_cpu_budget = report.cpu_budget_exceeded(limit, opts.runs);
        }
        graded.parts.push(report);
    }

    println!();
    print!("{}", report::table(&graded));
    if let Some(warning) = report::saturation_warning(&graded) {
        println!("{warning}");
    }
    if let Some(path) = &opts.json {
        write(path, &report::json(&graded))?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &opts.junit {
        write(path, &report::junit(&graded)?)?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &opts.gradescope {
        let text = gradescope::results(&graded, started.elapsed().as_secs_f64());
        write(path, &text)?;
        println!("wrote {}", path.display());
    }
    let all_passed = graded.parts.iter().all(|p| {
        let (passed, total) = p.score(opts.runs);
        passed == total
    });
    if all_passed {
        // Nothing failed, so nothing was kept: do not leave an empty folder behind.
        let _ = std::fs::remove_dir(&logs);
    } else {
        println!("test output of failed runs: {}", logs.display());
    }
    Ok(if graded.interrupted {
        ExitCode::from(130)
    } else if all_passed {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

/// The parts to grade, in order: the ones named (each must exist), or all.
pub fn choose_parts(suite: &Suite, named: Option<&[String]>) -> Result<Vec<String>, String> {
    let known = suite.parts();
    let Some(named) = named else {
        return Ok(known.into_iter().collect());
    };
    let mut parts: Vec<String> = Vec::new();
    for name in named {
        let part = name.trim().to_ascii_uppercase();
        if part.is_empty() {
            continue;
        }
        if !known.contains(&part) {
            let list: Vec<&str> = known.iter().map(String::as_str).collect();
            return Err(format!(
                "part `{name}` does not exist: the suites have parts {}",
                list.join(", ")
            ));
        }
        if !parts.contains(&part) {
            parts.push(part);
        }
    }
    if parts.is_empty() {
        return Err("--parts names no part".into());
    }
    Ok(parts)
}

/// Runs every test of every part `opts.runs` times on one pool of `opts.workers`, and
/// returns each part's results. Each part's budget starts when its first run starts; a
/// run of a part whose budget has run out is killed, or not started, and fails.
fn run_all(
    parts: &[String],
    tests: &[Vec<TestCase>],
    opts: &Options,
    logs: &Path,
    scratch: &Path,
) -> Vec<Vec<RunResult>> {
    let jobs: Vec<(usize, TestCase, usize)> = (1..=opts.runs)
        .flat_map(|k| {
            tests
                .iter()
                .enumerate()
                .flat_map(move |(p, ts)| ts.iter().map(move |t| (p, t.clone(), k)))
        })
        .collect();
    let budgets: Vec<OnceLock<Instant>> = parts.iter().map(|_| OnceLock::new()).collect();
    let bar = ProgressBar::new(jobs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template("{elapsed_precise} [{bar:30}] {pos}/{len} runs {msg}")
            .expect("a valid template")
            .progress_chars("=> "),
    );
    let say = |line: String| {
        if bar.is_hidden() {
            println!("{line}");
        } else {
            bar.println(line);
        }
    };
    let results: Mutex<Vec<Vec<RunResult>>> =
        Mutex::new(parts.iter().map(|_| Vec::new()).collect());
    let failed = AtomicUsize::new(0);
    pool::run(
        jobs,
        opts.workers,
        |(p, case, k)| {
            let log = logs.join(format!("{}-{k}.log", case.name));
            let deadline = *budgets[p].get_or_init(|| Instant::now() + opts.part_limit);
            let limit_note = format!(
                "part {}'s time limit of {} s ran out",
                parts[p],
                opts.part_limit.as_secs()
            );
            let result = if interrupt::interrupted() {
                RunResult::not_run(&case.name, k, Outcome::Interrupted, log)
            } else if Instant::now() >= deadline {
                let outcome = Outcome::Failed(format!("not run: {limit_note}"));
                RunResult::not_run(&case.name, k, outcome, log)
            } else {
                let launch = Launch {
                    case: &case,
                    run: k,
                    seed: rand::random::<u64>() >> 1,
                    log,
                    scratch,
                    env: if opts.sim {
                        vec![(crate::stress::SIM_VAR.to_owned(), "1".to_owned())]
                    } else {
                        Vec::new()
                    },
                };
                run::run(&launch, &|| {
                    if interrupt::interrupted() {
                        Some(Stop::Interrupted)
                    } else if Instant::now() >= deadline {
                        Some(Stop::Limit(format!("killed: {limit_note}")))
                    } else {
                        None
                    }
                })
            };
            (p, result)
        },
        |(p, result): (usize, RunResult)| {
            if result.outcome.passed() || result.outcome == Outcome::Interrupted {
                let _ = std::fs::remove_file(&result.log);
            }
            if let Outcome::Failed(reason) = &result.outcome {
                let n = failed.fetch_add(1, Ordering::SeqCst) + 1;
                bar.set_message(format!("({n} failed)"));
                say(format!(
                    "FAILED {} run {}: {reason}",
                    result.test, result.run
                ));
                if opts.sim {
                    // A simulated run comes back exactly from its seed.
                    let target = tests[p]
                        .iter()
                        .find(|t| t.name == result.test)
                        .map_or(suite::SUITE_PACKAGE, |t| t.target.as_str());
                    say(format!(
                        "    replay: {}",
                        crate::stress::replay_command(
                            target,
                            &result.test,
                            result.seed,
                            opts.profile,
                            true
                        )
                    ));
                }
            }
            bar.inc(1);
            let mut results = results.lock().expect("lock");
            let part = &mut results[p];
            part.push(result);
            if part.len() == tests[p].len() * opts.runs {
                let failed = part
                    .iter()
                    .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
                    .count();
                say(format!(
                    "part {}: {} run(s), {failed} failed",
                    parts[p],
                    part.len()
                ));
            }
        },
    );
    bar.finish_and_clear();
    results.into_inner().expect("lock")
}

/// Groups a part's results by test, in the suite's order; every test of the part gets
/// an entry, with every run accounted for.
pub fn part_report(part: &str, tests: &[TestCase], results: Vec<RunResult>) -> PartReport {
    let mut by_test: BTreeMap<String, Vec<RunResult>> = BTreeMap::new();
    for r in results {
        by_test.entry(r.test.clone()).or_default().push(r);
    }
    PartReport {
        part: part.to_owned(),
        over_cpu_budget: None,
        tests: tests
            .iter()
            .map(|t| {
                let mut runs = by_test.remove(&t.name).unwrap_or_default();
                runs.sort_by_key(|r| r.run);
                runs.retain(|r| r.outcome != Outcome::Interrupted);
                TestReport {
                    test: t.name.clone(),
                    target: t.target.clone(),
                    runs,
                }
            })
            .collect(),
    }
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parts_must_exist() {
        let s = Suite::of_names(&["a_3A", "b_3B", "c_4A"]);
        assert_eq!(choose_parts(&s, None).unwrap(), ["3A", "3B", "4A"]);
        let named = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            choose_parts(&s, Some(&named(&["3b", "3A", "3B"]))).unwrap(),
            ["3B", "3A"]
        );
        let err = choose_parts(&s, Some(&named(&["3A", "3E"]))).unwrap_err();
        assert_eq!(
            err,
            "part `3E` does not exist: the suites have parts 3A, 3B, 4A"
        );
        assert!(choose_parts(&s, Some(&named(&[""]))).is_err());
    }
}
