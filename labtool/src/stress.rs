//! `labtool stress`: runs chosen tests many times on several workers, with live
//! progress, and reports failures and times per test. Logs of failed runs are kept
//! (with the seed that replays each); logs of passing runs are deleted unless asked.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::json;

use crate::interrupt;
use crate::pool;
use crate::run::{self, Launch, Outcome, RunResult, Scratch, Stop};
use crate::stats::Stats;
use crate::suite::{self, Profile, TestCase};
use crate::table::{self, Align};

pub struct Options {
    pub tests: Vec<String>,
    pub runs: usize,
    pub workers: usize,
    pub output: Option<PathBuf>,
    pub keep_all: bool,
    /// `RUST_LOG` for the runs.
    pub log: Option<String>,
    /// Sim mode: every run a seeded simulation, each failure replayable exactly.
    pub sim: bool,
    pub dir: Option<PathBuf>,
    pub profile: Profile,
}

/// Per-test tallies.
#[derive(Default)]
struct Tally {
    failed: usize,
    finished: usize,
    times: Stats,
    cpu: Stats,
}

pub fn stress(opts: Options) -> Result<ExitCode, String> {
    if opts.tests.is_empty() {
        return Err(
            "name the tests to stress: test names (basic_agree_3B), parts (3A) or patterns".into(),
        );
    }
    let root = suite::workspace(opts.dir.as_deref())?;
    let suite = suite::build(&root, opts.profile)?;
    let tests = suite.select(&opts.tests)?;
    let out_dir = match &opts.output {
        Some(dir) => dir.clone(),
        None => suite::target_dir(&root)?
            .join("stress")
            .join(jiff::Zoned::now().strftime("%Y%m%d-%H%M%S").to_string()),
    };
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create the log folder {}: {e}", out_dir.display()))?;
    let scratch = Scratch::new()?;
    interrupt::install();

    // Interleaved, as dstest does: every test's first run, then every test's second...
    let jobs: Vec<(TestCase, usize)> = (1..=opts.runs)
        .flat_map(|k| tests.iter().map(move |t| (t.clone(), k)))
        .collect();
    let total = jobs.len();
    println!(
        "stress: {} test(s) x {} run(s) on {} worker(s); logs in {}",
        tests.len(),
        opts.runs,
        opts.workers,
        out_dir.display()
    );

    let progress = Progress::new(&tests, opts.runs, total);
    let tallies: Mutex<BTreeMap<String, Tally>> = Mutex::new(
        tests
            .iter()
            .map(|t| (t.name.clone(), Tally::default()))
            .collect(),
    );
    let results: Mutex<Vec<RunResult>> = Mutex::new(Vec::new());
    let mut env: Vec<(String, String)> = opts
        .log
        .iter()
        .map(|f| ("RUST_LOG".to_owned(), f.clone()))
        .collect();
    if opts.sim {
        env.push((SIM_VAR.to_owned(), "1".to_owned()));
    }

    pool::run(
        jobs,
        opts.workers,
        |(case, k)| {
            let log = out_dir.join(format!("{}-{k}.log", case.name));
            if interrupt::interrupted() {
                return RunResult::not_run(&case.name, k, Outcome::Interrupted, log);
            }
            let launch = Launch {
                case: &case,
                run: k,
                seed: rand::random::<u64>() >> 1,
                log,
                scratch: scratch.path(),
                env: env.clone(),
            };
            run::run(&launch, &|| {
                interrupt::interrupted().then_some(Stop::Interrupted)
            })
        },
        |result| {
            let keep = match &result.outcome {
                Outcome::Passed => opts.keep_all,
                Outcome::Failed(_) => true,
                Outcome::Interrupted => false,
            };
            if !keep {
                let _ = std::fs::remove_file(&result.log);
            }
            if result.outcome != Outcome::Interrupted {
                let mut tallies = tallies.lock().expect("tally lock");
                let tally = tallies.get_mut(&result.test).expect("a chosen test");
                tally.finished += 1;
                tally.times.add(result.secs);
                if let Some(cpu) = result.cpu_secs {
                    tally.cpu.add(cpu);
                }
                if !result.outcome.passed() {
                    tally.failed += 1;
                }
                progress.finished(&result, tally.failed);
            }
            results.lock().expect("results lock").push(result);
        },
    );
    progress.clear();

    let results = results.into_inner().expect("results lock");
    let tallies = tallies.into_inner().expect("tally lock");
    let interrupted = results.iter().any(|r| r.outcome == Outcome::Interrupted);
    let failures: Vec<&RunResult> = results
        .iter()
        .filter(|r| matches!(r.outcome, Outcome::Failed(_)))
        .collect();
    write_summary(&out_dir, &results, opts.profile)?;

    println!();
    print!("{}", report(&tests, &tallies, opts.runs));
    let finished: Vec<&RunResult> = results
        .iter()
        .filter(|r| r.outcome != Outcome::Interrupted)
        .collect();
    if let Some(warning) = crate::report::saturation_note(&finished, "") {
        println!("{warning}");
    }
    if interrupted {
        let done: usize = tallies.values().map(|t| t.finished).sum();
        println!("interrupted after {done} of {total} runs");
    }
    if failures.is_empty() {
        println!("no failures; {}", kept_note(&out_dir, opts.keep_all));
    } else {
        println!(
            "\n{} failed run(s); logs and seeds in {}:",
            failures.len(),
            out_dir.display()
        );
        let by_name: BTreeMap<&str, &TestCase> =
            tests.iter().map(|t| (t.name.as_str(), t)).collect();
        for r in &failures {
            let Outcome::Failed(reason) = &r.outcome else {
                continue;
            };
            println!("  {} run {}: {reason}", r.test, r.run);
            println!("    log:    {}", r.log.display());
            println!(
                "    replay: {}",
                replay_command(
                    &by_name[r.test.as_str()].target,
                    &r.test,
                    r.seed,
                    opts.profile,
                    opts.sim
                )
            );
            if opts.sim {
                println!("    or:     labtool replay {} --seed {}", r.test, r.seed);
            }
        }
    }
    Ok(if !failures.is_empty() {
        ExitCode::from(1)
    } else if interrupted {
        ExitCode::from(130)
    } else {
        ExitCode::SUCCESS
    })
}

fn kept_note(dir: &Path, keep_all: bool) -> String {
    if keep_all {
        format!("all logs kept in {}", dir.display())
    } else {
        format!(
            "passing runs' logs deleted (--keep-all keeps them); summary in {}",
            dir.join("summary.json").display()
        )
    }
}

/// The table: per test, failed / total and the time of a run.
fn report(tests: &[TestCase], tallies: &BTreeMap<String, Tally>, runs: usize) -> String {
    let rows: Vec<Vec<String>> = tests
        .iter()
        .map(|t| {
            let tally = &tallies[&t.name];
            let total = if tally.finished < runs {
                format!("{} of {runs}", tally.finished)
            } else {
                tally.finished.to_string()
            };
            vec![
                t.name.clone(),
                tally.failed.to_string(),
                total,
                tally.times.show(),
                tally.cpu.show(),
            ]
        })
        .collect();
    table::render(
        &[
            "test",
            "failed",
            "total",
            "time (mean ± sd)",
            "CPU (mean ± sd)",
        ],
        &[
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
        ],
        &rows,
    )
}

/// The environment variable that selects sim mode in the test process.
pub const SIM_VAR: &str = "RAFTLAB_SIM";

/// The command that runs the test `test` of the binary `target` again with `seed`: in sim
/// mode (`sim`), the very same run.
pub fn replay_command(target: &str, test: &str, seed: u64, profile: Profile, sim: bool) -> String {
    let release = if profile == Profile::Release {
        " --release"
    } else {
        ""
    };
    let mode = if sim {
        format!("{SIM_VAR}=1 ")
    } else {
        String::new()
    };
    format!(
        "{mode}{}={seed} cargo test{release} -p {} --test {target} -- {test} --exact --nocapture",
        run::SEED_VAR,
        suite::SUITE_PACKAGE,
    )
}

fn write_summary(dir: &Path, results: &[RunResult], profile: Profile) -> Result<(), String> {
    let runs: Vec<serde_json::Value> = results
        .iter()
        .filter(|r| r.outcome != Outcome::Interrupted)
        .map(|r| {
            let mut run = r.json();
            run["test"] = json!(r.test);
            run["log"] = json!((!r.outcome.passed()).then(|| r.log.display().to_string()));
            run
        })
        .collect();
    let summary = json!({
        "profile": if profile == Profile::Release { "release" } else { "debug" },
        "runs": runs,
    });
    let path = dir.join("summary.json");
    std::fs::write(
        &path,
        serde_json::to_string_pretty(&summary).expect("summary serializes"),
    )
    .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

/// The live view: a bar for all runs, and a line per test.
struct Progress {
    multi: MultiProgress,
    overall: ProgressBar,
    per_test: BTreeMap<String, ProgressBar>,
}

impl Progress {
    fn new(tests: &[TestCase], runs: usize, total: usize) -> Self {
        let multi = MultiProgress::new();
        let overall = multi.add(ProgressBar::new(total as u64));
        overall.set_style(
            ProgressStyle::with_template(
                "{elapsed_precise} [{bar:30}] {pos}/{len} runs, ETA {eta} {msg}",
            )
            .expect("a valid template")
            .progress_chars("=> "),
        );
        let width = tests.iter().map(|t| t.name.len()).max().unwrap_or(0);
        let style =
            ProgressStyle::with_template(&format!("  {{prefix:{width}}} {{pos}}/{{len}} {{msg}}"))
                .expect("a valid template");
        let per_test = tests
            .iter()
            .map(|t| {
                let bar = multi.add(ProgressBar::new(runs as u64));
                bar.set_style(style.clone());
                bar.set_prefix(t.name.clone());
                (t.name.clone(), bar)
            })
            .collect();
        Self {
            multi,
            overall,
            per_test,
        }
    }

    fn finished(&self, result: &RunResult, failed_so_far: usize) {
        self.overall.inc(1);
        if let Some(bar) = self.per_test.get(&result.test) {
            bar.inc(1);
            if failed_so_far > 0 {
                bar.set_message(
                    console::style(format!("{failed_so_far} failed"))
                        .red()
                        .to_string(),
                );
            }
        }
        if let Outcome::Failed(reason) = &result.outcome {
            let failed: usize = self
                .per_test
                .values()
                .filter(|b| !b.message().is_empty())
                .count();
            self.overall
                .set_message(format!("({failed} test(s) with failures)"));
            let _ = self.multi.println(format!(
                "{} {} run {} ({:.1}s, seed {}): {reason}\n    log: {}",
                console::style("FAILED").red().bold(),
                result.test,
                result.run,
                result.secs,
                result.seed,
                result.log.display()
            ));
            if self.multi.is_hidden() {
                // Not a terminal: indicatif draws nothing, so say it plainly.
                println!(
                    "FAILED {} run {} ({:.1}s, seed {}): {reason}",
                    result.test, result.run, result.secs, result.seed
                );
            }
        }
    }

    fn clear(&self) {
        self.overall.finish_and_clear();
        for bar in self.per_test.values() {
            bar.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_replay_command_names_seed_target_and_test() {
        assert_eq!(
            replay_command("raft_3b", "backup_3B", 42, Profile::Release, false),
            "RAFTLAB_SEED=42 cargo test --release -p tests --test raft_3b -- backup_3B --exact --nocapture"
        );
        assert_eq!(
            replay_command("raft_3b", "backup_3B", 42, Profile::Release, true),
            "RAFTLAB_SIM=1 RAFTLAB_SEED=42 cargo test --release -p tests --test raft_3b -- backup_3B --exact --nocapture"
        );
    }
}
