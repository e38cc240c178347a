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
    pub runs_per_test: usize,
    pub part_limit_secs: u64,
    pub parts: Vec<PartReport>,
    pub interrupted: bool,
}

pub struct PartReport {
    pub part: String,
    pub tests: Vec<TestReport>,
}

pub struct TestReport {
    pub test: String,
    /// The runs that happened (an interrupted grade may have fewer than asked).
    pub runs: Vec<RunResult>,
}

impl TestReport {
    pub fn passed(&self) -> usize {
        self.runs.iter().filter(|r| r.outcome.passed()).count()
    }

    fn first_failure(&self) -> Option<&str> {
        self.runs.iter().find_map(|r| match &r.outcome {
            Outcome::Failed(why) => Some(why.as_str()),
            _ => None,
        })
    }

    fn times(&self) -> Stats {
        let mut s = Stats::default();
        for r in self.runs.iter().filter(|r| r.secs > 0.0) {
            s.add(r.secs);
        }
        s
    }
}

impl PartReport {
    /// Runs passed, out of tests × runs per test: runs that did not happen count as failed.
    pub fn score(&self, runs_per_test: usize) -> (usize, usize) {
        let passed = self.tests.iter().map(TestReport::passed).sum();
        (passed, self.tests.len() * runs_per_test)
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
            format!(
                "{} of {} tests passed every run",
                p.tests_always_passed(k),
                p.tests.len()
            ),
        ]);
    }
    let mut out = table::render(
        &[
            "part",
            "test",
            "passed",
            "time (mean ± sd)",
            "first failure",
        ],
        &[
            Align::Left,
            Align::Left,
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
    if g.interrupted {
        out.push_str("interrupted: runs that did not happen count as failed\n");
    }
    out
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
                "tests": p.tests.iter().map(|t| json!({
                    "test": t.test,
                    "passed_runs": t.passed(),
                    "total_runs": k,
                    "runs": t.runs.iter().map(|r| json!({
                        "run": r.run,
                        "passed": r.outcome.passed(),
                        "reason": match &r.outcome {
                            Outcome::Failed(why) => Some(why.as_str()),
                            _ => None,
                        },
                        "secs": r.secs,
                        "seed": r.seed,
                    })).collect::<Vec<_>>(),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    let doc = json!({
        "workspace": g.workspace,
        "profile": if g.profile == Profile::Release { "release" } else { "debug" },
        "runs_per_test": k,
        "part_limit_secs": g.part_limit_secs,
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

#[cfg(test)]
mod tests {
    use std::path::PathBuf;

    use super::*;

    fn run(test: &str, k: usize, outcome: Outcome) -> RunResult {
        RunResult {
            test: test.into(),
            run: k,
            outcome,
            secs: 1.0 + k as f64,
            seed: 40 + k as u64,
            log: PathBuf::new(),
        }
    }

    fn graded() -> Graded {
        Graded {
            workspace: "/w".into(),
            profile: Profile::Release,
            runs_per_test: 2,
            part_limit_secs: 600,
            interrupted: false,
            parts: vec![PartReport {
                part: "3A".into(),
                tests: vec![
                    TestReport {
                        test: "initial_election_3A".into(),
                        runs: vec![
                            run("initial_election_3A", 1, Outcome::Passed),
                            run("initial_election_3A", 2, Outcome::Passed),
                        ],
                    },
                    TestReport {
                        test: "re_election_3A".into(),
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
