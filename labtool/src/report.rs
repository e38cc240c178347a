//! What `labtool grade` found, and its three renderings: the score table, JSON and
//! JUnit XML.

use std::time::Duration;

use quick_junit::{NonSuccessKind, Property, Report, TestCase, TestCaseStatus, TestSuite};
use serde_json::json;

use crate::run::{Outcome, RunResult};
use crate::stats::Stats;
use crate::suite::Profile;
use crate::table::{self, Align};

pub struct Graded {
    pub workspace: String,
    pub profile: Profile,
    /// Whether the runs were simulations (`--sim`).
    pub sim: bool,
    pub runs_per_test: usize,
    pub part_limit_secs: u64,
    /// `--cpu-limit`: CPU seconds a part may use for one run of each of its tests.
    pub cpu_limit_secs: Option<f64>,
    pub parts: Vec<PartReport>,
    pub interrupted: bool,
    /// Wall time from the first run's start to the last run's end.
    pub grading_secs: f64,
}

pub struct PartReport {
    pub part: String,
    /// Why the part failed its CPU budget, if it did: it then scores nothing.
    pub over_cpu_budget: Option<String>,
    pub tests: Vec<TestReport>,
}

pub struct TestReport {
    pub test: String,
    /// The test binary's target name (`raft_3b`), for the replay command.
    pub target: String,
    /// The runs that happened (an interrupted grade may have fewer than asked).
    pub runs: Vec<RunResult>,
}

impl TestReport {
    pub fn passed(&self) -> usize {
        self.runs.iter().filter(|r| r.outcome.passed()).count()
    }

    fn first_failure(&self) -> Option<&str> {
        self.runs.iter().find_map(|r| r.outcome.reason())
    }

    fn times(&self) -> Stats {
        let mut s = Stats::default();
        for r in self.runs.iter().filter(|r| r.secs > 0.0) {
            s.add(r.secs);
        }
        s
    }

    /// CPU seconds per run, over the runs whose CPU was measured.
    pub fn cpu(&self) -> Stats {
        let mut s = Stats::default();
        for cpu in self.runs.iter().filter_map(|r| r.cpu_secs) {
            s.add(cpu);
        }
        s
    }
}

impl PartReport {
    /// Runs passed, out of tests × runs per test: runs that did not happen count as
    /// failed, and a part over its CPU budget scores nothing.
    pub fn score(&self, runs_per_test: usize) -> (usize, usize) {
        let passed = self.tests.iter().map(|t| self.credited(t)).sum();
        (passed, self.tests.len() * runs_per_test)
    }

    /// The runs of `t` (a test of this part) that count as passed: none when the part is
    /// over its CPU budget.
    pub fn credited(&self, t: &TestReport) -> usize {
        if self.over_cpu_budget.is_some() {
            0
        } else {
            t.passed()
        }
    }

    /// CPU seconds all the part's runs used.
    pub fn cpu_secs(&self) -> f64 {
        self.tests
            .iter()
            .flat_map(|t| &t.runs)
            .filter_map(|r| r.cpu_secs)
            .sum()
    }

    /// Why the part is over `limit` CPU seconds per run of each of its tests, if it is.
    pub fn cpu_budget_exceeded(&self, limit: f64, runs_per_test: usize) -> Option<String> {
        let per_round = self.cpu_secs() / runs_per_test.max(1) as f64;
        (per_round > limit).then(|| {
            format!(
                "part {} used {per_round:.1} s of CPU for one run of each test, over its \
                 --cpu-limit of {limit} s (a busy-waiting loop? timers that spin?)",
                self.part
            )
        })
    }

    /// Tests that passed every one of their runs.
    pub fn tests_always_passed(&self, runs_per_test: usize) -> usize {
        self.tests
            .iter()
            .filter(|t| t.passed() == runs_per_test)
            .count()
    }
}

fn percent(passed: usize, total: usize) -> String {
    if total == 0 {
        "-".to_owned()
    } else {
        format!("{:.1}%", 100.0 * passed as f64 / total as f64)
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let head: String = text.chars().take(max - 1).collect();
        format!("{head}…")
    }
}

/// The score table: a row per test (runs passed, time, the first failure's reason) and
/// a score row per part.
pub fn table(g: &Graded) -> String {
    let k = g.runs_per_test;
    let mut rows = Vec::new();
    let (mut all_passed, mut all_total) = (0, 0);
    for p in &g.parts {
        for t in &p.tests {
            rows.push(vec![
                p.part.clone(),
                t.test.clone(),
                format!("{}/{k}", t.passed()),
                t.times().show(),
                show_cpu(&t.cpu()),
                t.first_failure()
                    .map(|w| shorten(w, 90))
                    .unwrap_or_default(),
            ]);
        }
        let (passed, total) = p.score(k);
        all_passed += passed;
        all_total += total;
        rows.push(vec![
            p.part.clone(),
            "= score".to_owned(),
            format!("{passed}/{total}"),
            percent(passed, total),
            format!("{:.1} s", p.cpu_secs()),
            match &p.over_cpu_budget {
                Some(why) => format!("FAILED: {why}"),
                None => format!(
                    "{} of {} tests passed every run",
                    p.tests_always_passed(k),
                    p.tests.len()
                ),
            },
        ]);
    }
    let mut out = table::render(
        &[
            "part",
            "test",
            "passed",
            "time (mean ± sd)",
            "CPU",
            "first failure",
        ],
        &[
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Left,
        ],
        &rows,
    );
    out.push_str(&format!(
        "total: {all_passed}/{all_total} runs passed ({})\n",
        percent(all_passed, all_total)
    ));
    out.push_str(
        "CPU: user + system time per run (mean) for a test, and of all its runs for a part\n",
    );
    if g.interrupted {
        out.push_str("interrupted: runs that did not happen count as failed\n");
    }
    out
}

fn show_cpu(cpu: &Stats) -> String {
    if cpu.count() == 0 {
        "-".to_owned()
    } else {
        format!("{:.1} s", cpu.mean())
    }
}

/// The saturation warning for a grade, naming the part that used the most CPU.
pub fn saturation_warning(g: &Graded) -> Option<String> {
    let runs: Vec<&RunResult> = g
        .parts
        .iter()
        .flat_map(|p| &p.tests)
        .flat_map(|t| &t.runs)
        .collect();
    let hungriest = g
        .parts
        .iter()
        .max_by(|a, b| a.cpu_secs().total_cmp(&b.cpu_secs()))
        .map(|p| {
            format!(
                " Part {} used the most CPU ({:.1} s).",
                p.part,
                p.cpu_secs()
            )
        })
        .unwrap_or_default();
    saturation_note(&runs, &hungriest)
}

/// A warning when runs found the machine's CPU saturated: a run that failed then may
/// have failed for want of CPU rather than for a bug (a pass still stands: load only
/// makes the tests' time limits harder to meet). Names those runs; `extra` is appended.
pub fn saturation_note(runs: &[&RunResult], extra: &str) -> Option<String> {
    let saturated: Vec<&&RunResult> = runs.iter().filter(|r| r.saturated()).collect();
    if saturated.is_empty() {
        return None;
    }
    let in_doubt: Vec<String> = saturated
        .iter()
        .filter(|r| !r.outcome.passed())
        .map(|r| format!("{} run {}", r.test, r.run))
        .collect();
    let mut text = format!(
        "warning: the machine's CPU was at least {:.0}% busy (or its CPU quota throttled the \
         tests {:.0}% of the time or more) during {} of {} runs.",
        crate::cpu::SATURATED * 100.0,
        crate::cpu::THROTTLED * 100.0,
        saturated.len(),
        runs.len()
    );
    if in_doubt.is_empty() {
        text.push_str(" Every one of them passed, so no verdict is in doubt.");
    } else {
        text.push_str(&format!(
            " These failed meanwhile and may have failed for want of CPU rather than for a \
             bug: {}. Run them again with fewer workers (-j) or on an idle machine to be sure.",
            in_doubt.join(", ")
        ));
    }
    text.push_str(extra);
    Some(text)
}

pub fn json(g: &Graded) -> String {
    let k = g.runs_per_test;
    let parts: Vec<serde_json::Value> = g
        .parts
        .iter()
        .map(|p| {
            let (passed, total) = p.score(k);
            json!({
                "part": p.part,
                "passed_runs": passed,
                "total_runs": total,
                "tests_passed_every_run": p.tests_always_passed(k),
                "cpu_secs": p.cpu_secs(),
                "over_cpu_budget": p.over_cpu_budget,
                "tests": p.tests.iter().map(|t| json!({
                    "test": t.test,
                    "passed_runs": t.passed(),
                    "total_runs": k,
                    "cpu_secs_mean": (t.cpu().count() > 0).then(|| t.cpu().mean()),
                    "runs": t.runs.iter().map(RunResult::json).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "workspace": g.workspace,
        "profile": if g.profile == Profile::Release { "release" } else { "debug" },
        "runs_per_test": k,
        "part_limit_secs": g.part_limit_secs,
        "cpu_limit_secs": g.cpu_limit_secs,
        "grading_secs": g.grading_secs,
        "interrupted": g.interrupted,
        "parts": parts,
    });
    serde_json::to_string_pretty(&doc).expect("the report serializes")
}

/// JUnit XML: a test suite per part, a test case per run (named `test` for one run per
/// test, `test (run k)` for several), failures with their reason.
pub fn junit(g: &Graded) -> Result<String, String> {
    let mut report = Report::new("labtool grade");
    for p in &g.parts {
        let mut suite = TestSuite::new(format!("part {}", p.part));
        for t in &p.tests {
            for k in 1..=g.runs_per_test {
                let name = if g.runs_per_test == 1 {
                    t.test.clone()
                } else {
                    format!("{} (run {k})", t.test)
                };
                let run = t.runs.iter().find(|r| r.run == k);
                let status = match run.map(|r| &r.outcome) {
                    Some(Outcome::Passed) => TestCaseStatus::success(),
                    Some(Outcome::Failed(why)) => {
                        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        s.set_message(why.as_str());
                        s
                    }
                    Some(Outcome::Interrupted) | None => {
                        let mut s = TestCaseStatus::non_success(NonSuccessKind::Failure);
                        s.set_message("did not run (the grade was interrupted)");
                        s
                    }
                };
                let mut case = TestCase::new(name, status);
                case.set_classname(format!("raftlab.{}", p.part));
                if let Some(r) = run {
                    case.set_time(Duration::from_secs_f64(r.secs));
                    case.add_property(Property::new("seed", r.seed.to_string()));
                    if let Some(cpu) = r.cpu_secs {
                        case.add_property(Property::new("cpu_secs", format!("{cpu:.3}")));
                    }
                }
                suite.add_test_case(case);
            }
        }
        report.add_test_suite(suite);
    }
    report
        .to_string()
        .map_err(|e| format!("cannot write the JUnit report: {e}"))
}

/// A small grade for the renderings' unit tests: part 3A, two runs per test; one test
/// passed both, the other failed its first run and never reported its second.
#[cfg(test)]
pub mod fixture {
    use std::path::PathBuf;

    use super::*;

    fn run(test: &str, k: usize, outcome: Outcome) -> RunResult {
        RunResult {
            test: test.into(),
            run: k,
            outcome,
            secs: 1.0 + k as f64,
            cpu_secs: Some(0.25 * k as f64),
            machine_busy: Some(0.5),
            throttled: None,
            seed: 40 + k as u64,
            log: PathBuf::new(),
        }
    }

    pub fn graded() -> Graded {
        Graded {
            workspace: "/w".into(),
            profile: Profile::Release,
            sim: false,
            runs_per_test: 2,
            part_limit_secs: 600,
            cpu_limit_secs: None,
            interrupted: false,
            grading_secs: 9.0,
            parts: vec![PartReport {
                part: "3A".into(),
                over_cpu_budget: None,
                tests: vec![
                    TestReport {
                        test: "initial_election_3A".into(),
                        target: "raft_3a".into(),
                        runs: vec![
                            run("initial_election_3A", 1, Outcome::Passed),
                            run("initial_election_3A", 2, Outcome::Passed),
                        ],
                    },
                    TestReport {
                        test: "re_election_3A".into(),
                        target: "raft_3a".into(),
                        // Its second run never reported: it counts as failed.
                        runs: vec![run(
                            "re_election_3A",
                            1,
                            Outcome::Failed("no verdict: the process exited with status 0".into()),
                        )],
                    },
                ],
            }],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::fixture::graded;
    use super::*;

    #[test]
    fn the_table_scores_missing_runs_as_failed() {
        let t = table(&graded());
        let row = |name: &str| -> Vec<String> {
            let line = t
                .lines()
                .find(|l| l.contains(name))
                .unwrap_or_else(|| panic!("{t}"));
            line.split_whitespace().map(str::to_owned).collect()
        };
        assert_eq!(
            row("initial_election_3A")[..3],
            ["3A", "initial_election_3A", "2/2"]
        );
        assert_eq!(row("re_election_3A")[..3], ["3A", "re_election_3A", "0/2"]);
        assert!(
            row("re_election_3A")
                .join(" ")
                .ends_with("no verdict: the process exited with status 0")
        );
        assert_eq!(row("= score")[..5], ["3A", "=", "score", "2/4", "50.0%"]);
        assert!(t.contains("1 of 2 tests passed every run"), "{t}");
        assert!(t.contains("total: 2/4 runs passed (50.0%)"), "{t}");
    }

    #[test]
    fn json_has_every_run_with_its_seed() {
        let v: serde_json::Value = serde_json::from_str(&json(&graded())).unwrap();
        let part = &v["parts"][0];
        assert_eq!(part["passed_runs"], 2);
        assert_eq!(part["total_runs"], 4);
        assert_eq!(part["tests"][1]["runs"][0]["passed"], false);
        assert_eq!(part["tests"][1]["runs"][0]["seed"], 41);
        assert_eq!(part["tests"][0]["runs"][1]["seed"], 42);
    }

    #[test]
    fn junit_has_a_case_per_run_and_fails_missing_ones() {
        let xml = junit(&graded()).unwrap();
        assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
        assert_eq!(xml.matches("<failure").count(), 2, "{xml}");
        assert!(xml.contains(r#"name="re_election_3A (run 2)""#), "{xml}");
        assert!(xml.contains("did not run"), "{xml}");
        assert!(xml.contains(r#"<testsuite name="part 3A""#), "{xml}");
    }
}

#[cfg(test)]
mod cpu_tests {
    use super::fixture::graded;
    use super::*;

    #[test]
    fn cpu_is_shown_per_test_and_part() {
        let g = graded();
        // 0.25 + 0.5 for the first test, 0.25 for the second.
        assert!((g.parts[0].cpu_secs() - 1.0).abs() < 1e-9);
        let t = table(&g);
        let row = t
            .lines()
            .find(|l| l.contains("initial_election_3A"))
            .unwrap();
        assert!(row.contains("0.4 s"), "mean CPU per run: {t}");
        let score = t.lines().find(|l| l.contains("= score")).unwrap();
        assert!(score.contains("1.0 s"), "{t}");
        let v: serde_json::Value = serde_json::from_str(&json(&g)).unwrap();
        assert_eq!(v["parts"][0]["cpu_secs"], 1.0);
        assert_eq!(v["parts"][0]["tests"][0]["runs"][1]["cpu_secs"], 0.5);
        assert_eq!(v["parts"][0]["tests"][0]["cpu_secs_mean"], 0.375);
    }

    #[test]
    fn a_part_over_its_cpu_budget_scores_nothing() {
        let mut g = graded();
        // 1.0 s of CPU over two runs per test: 0.5 s per round.
        assert_eq!(g.parts[0].cpu_budget_exceeded(0.5, 2), None);
        let why = g.parts[0].cpu_budget_exceeded(0.4, 2).unwrap();
        assert!(why.contains("part 3A used 0.5 s of CPU"), "{why}");
        assert!(why.contains("--cpu-limit of 0.4 s"), "{why}");
        g.parts[0].over_cpu_budget = Some(why);
        assert_eq!(g.parts[0].score(2), (0, 4));
        let t = table(&g);
        assert!(t.contains("FAILED: part 3A used 0.5 s of CPU"), "{t}");
        assert!(t.contains("total: 0/4 runs passed"), "{t}");
    }

    #[test]
    fn saturated_runs_are_named_only_when_they_failed() {
        let mut g = graded();
        assert_eq!(saturation_warning(&g), None, "50% busy is not saturated");
        for t in &mut g.parts[0].tests {
            for r in &mut t.runs {
                r.machine_busy = Some(0.97);
            }
        }
        let w = saturation_warning(&g).unwrap();
        assert!(w.contains("at least 90% busy (or its CPU quota throttled the tests 10% of the time or more) during 3 of 3 runs"), "{w}");
        assert!(
            w.contains("for want of CPU rather than for a bug: re_election_3A run 1."),
            "{w}"
        );
        assert!(!w.contains("initial_election_3A"), "passes stand: {w}");
        assert!(w.contains("Part 3A used the most CPU (1.0 s)"), "{w}");
        g.parts[0].tests.truncate(1);
        let w = saturation_warning(&g).unwrap();
        assert!(w.contains("no verdict is in doubt"), "{w}");
    }
}
