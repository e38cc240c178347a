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
use std::sync::Mutex;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressStyle};

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
    pub part_limit: Duration,
    pub dir: Option<PathBuf>,
    pub profile: Profile,
}

pub fn grade(opts: Options) -> Result<ExitCode, String> {
    let root = suite::workspace(opts.dir.as_deref())?;
    let suite = suite::build(&root, opts.profile)?;
    let parts = choose_parts(&suite, opts.parts.as_deref())?;
    let scratch = Scratch::new()?;
    let logs = suite::target_dir(&root)?
        .join("grade")
        .join(jiff::Zoned::now().strftime("%Y%m%d-%H%M%S").to_string());
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    interrupt::install();

    let mut graded = Graded {
        workspace: root.display().to_string(),
        profile: opts.profile,
        runs_per_test: opts.runs,
        part_limit_secs: opts.part_limit.as_secs(),
        parts: Vec::new(),
        interrupted: false,
    };
    for part in &parts {
        let tests = suite.part(part);
        let results = grade_part(part, &tests, &opts, &logs, scratch.path());
        graded.interrupted |= results.iter().any(|r| r.outcome == Outcome::Interrupted);
        graded.parts.push(part_report(part, &tests, results));
        if interrupt::interrupted() {
            break;
        }
    }

    println!();
    print!("{}", report::table(&graded));
    if let Some(path) = &opts.json {
        write(path, &report::json(&graded))?;
        println!("wrote {}", path.display());
    }
    if let Some(path) = &opts.junit {
        write(path, &report::junit(&graded)?)?;
        println!("wrote {}", path.display());
    }
    let all_passed = graded
        .parts
        .iter()
        .all(|p| p.tests.iter().all(|t| t.passed() == opts.runs));
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

fn grade_part(
    part: &str,
    tests: &[TestCase],
    opts: &Options,
    logs: &Path,
    scratch: &Path,
) -> Vec<RunResult> {
    let jobs: Vec<(TestCase, usize)> = (1..=opts.runs)
        .flat_map(|k| tests.iter().map(move |t| (t.clone(), k)))
        .collect();
    let deadline = Instant::now() + opts.part_limit;
    let limit_note = format!(
        "part {part}'s time limit of {} s ran out",
        opts.part_limit.as_secs()
    );
    let bar = ProgressBar::new(jobs.len() as u64);
    bar.set_style(
        ProgressStyle::with_template(
            "{prefix} {elapsed_precise} [{bar:30}] {pos}/{len} runs {msg}",
        )
        .expect("a valid template")
        .progress_chars("=> "),
    );
    bar.set_prefix(format!("part {part}"));
    let results = Mutex::new(Vec::new());
    let failed = Mutex::new(0usize);
    pool::run(
        jobs,
        opts.workers,
        |(case, k)| {
            let log = logs.join(format!("{}-{k}.log", case.name));
            let skipped = |outcome| RunResult {
                test: case.name.clone(),
                run: k,
                outcome,
                secs: 0.0,
                seed: 0,
                log: log.clone(),
            };
            if interrupt::interrupted() {
                return skipped(Outcome::Interrupted);
            }
            if Instant::now() >= deadline {
                return skipped(Outcome::Failed(format!("not run: {limit_note}")));
            }
            let launch = Launch {
                case: &case,
                run: k,
                seed: rand::random::<u64>() >> 1,
                log: log.clone(),
                scratch,
                env: Vec::new(),
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
        },
        |result: RunResult| {
            if result.outcome.passed() || result.outcome == Outcome::Interrupted {
                let _ = std::fs::remove_file(&result.log);
            }
            if let Outcome::Failed(reason) = &result.outcome {
                let mut failed = failed.lock().expect("lock");
                *failed += 1;
                bar.set_message(format!("({} failed)", *failed));
                if bar.is_hidden() {
                    println!("FAILED {} run {}: {reason}", result.test, result.run);
                } else {
                    bar.println(format!(
                        "FAILED {} run {}: {reason}",
                        result.test, result.run
                    ));
                }
            }
            bar.inc(1);
            results.lock().expect("lock").push(result);
        },
    );
    bar.finish_and_clear();
    let failed = failed.into_inner().expect("lock");
    println!(
        "part {part}: {} run(s), {failed} failed",
        results.lock().expect("lock").len()
    );
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
        tests: tests
            .iter()
            .map(|t| {
                let mut runs = by_test.remove(&t.name).unwrap_or_default();
                runs.sort_by_key(|r| r.run);
                runs.retain(|r| r.outcome != Outcome::Interrupted);
                TestReport {
                    test: t.name.clone(),
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
