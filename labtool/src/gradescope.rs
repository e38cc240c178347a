//! Gradescope's autograder results (`results.json`): a test per suite test, scored by
//! the share of its runs that passed; failed tests carry each failed run's reason, seed,
//! replay command and the end of its output; the top-level output is the score table.
//!
//! Format: Gradescope's "autograder specifications" (`tests[]` with `name`, `number`,
//! `score`, `max_score`, `status`, `output`, `visibility`; `execution_time`, `output`).

use serde_json::json;

use crate::report::{self, Graded, PartReport, TestReport};
use crate::run::Outcome;
use crate::stress::replay_command;

/// Lines of a failed run's output shown to the student.
const OUTPUT_TAIL_LINES: usize = 30;

/// The results file for `g`; `execution_secs` is the whole grade's wall time.
pub fn results(g: &Graded, execution_secs: f64) -> String {
    let mut tests = Vec::new();
    for p in &g.parts {
        for (i, t) in p.tests.iter().enumerate() {
            tests.push(test_result(g, p, i, t));
        }
    }
    let mut output = report::table(g);
    if let Some(warning) = report::saturation_warning(g) {
        output.push_str(&warning);
        output.push('\n');
    }
    let doc = json!({
        "execution_time": execution_secs.round() as u64,
        "output": output,
        "output_format": "text",
        "test_output_format": "text",
        "visibility": "visible",
        "stdout_visibility": "hidden",
        "tests": tests,
    });
    serde_json::to_string_pretty(&doc).expect("the results serialize")
}

fn test_result(g: &Graded, p: &PartReport, index: usize, t: &TestReport) -> serde_json::Value {
    let k = g.runs_per_test;
    let passed = p.credited(t);
    let score = passed as f64 / k.max(1) as f64;
    let mut output = format!("{passed}/{k} runs passed.\n");
    if let Some(why) = &p.over_cpu_budget {
        output.push_str(&format!("The part scores nothing: {why}.\n"));
    }
    for r in &t.runs {
        let Outcome::Failed(reason) = &r.outcome else {
            continue;
        };
        output.push_str(&format!("\nRun {}: FAILED: {reason}\n", r.run));
        if r.saturated() {
            output.push_str(
                "(the machine's CPU was saturated during this run: it may have failed for \
                 want of CPU)\n",
            );
        }
        if r.secs > 0.0 {
            output.push_str(&format!(
                "seed: {}\nreplay: {}\n",
                r.seed,
                replay_command(&t.target, &t.test, r.seed, g.profile, g.sim)
            ));
        }
        if let Some(tail) = output_tail(&r.log) {
            output.push_str(&format!(
                "--- the end of its output ---\n{tail}--- end ---\n"
            ));
        }
    }
    let missing = k.saturating_sub(t.runs.len());
    if missing > 0 {
        output.push_str(&format!(
            "\n{missing} run(s) did not happen (the grade was interrupted) and count as failed.\n"
        ));
    }
    json!({
        "name": format!("{} {}", p.part, t.test),
        "number": format!("{}.{}", p.part, index + 1),
        "score": score,
        "max_score": 1.0,
        "status": if passed == k { "passed" } else { "failed" },
        "output": output,
        "visibility": "visible",
    })
}

/// The last lines of a run's output file, if it is there.
fn output_tail(log: &std::path::Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let lines: Vec<&str> = text.lines().collect();
    let start = lines.len().saturating_sub(OUTPUT_TAIL_LINES);
    let mut tail = lines[start..].join("\n");
    tail.push('\n');
    Some(tail)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixture::graded;

    #[test]
    fn results_have_gradescopes_fields_and_the_failures_details() {
        let dir = tempfile::tempdir().unwrap();
        let mut g = graded();
        let log = dir.path().join("re_election_3A-1.log");
        let output: String = (1..=40).map(|i| format!("line {i}\n")).collect();
        std::fs::write(&log, output).unwrap();
        g.parts[0].tests[1].runs[0].log = log;
        let v: serde_json::Value = serde_json::from_str(&results(&g, 12.4)).unwrap();
        assert_eq!(v["execution_time"], 12);
        assert!(
            v["output"]
                .as_str()
                .unwrap()
                .contains("total: 2/4 runs passed")
        );
        let tests = v["tests"].as_array().unwrap();
        assert_eq!(tests.len(), 2);
        let passed = &tests[0];
        assert_eq!(passed["name"], "3A initial_election_3A");
        assert_eq!(passed["number"], "3A.1");
        assert_eq!(passed["status"], "passed");
        assert_eq!(
            (passed["score"].as_f64(), passed["max_score"].as_f64()),
            (Some(1.0), Some(1.0))
        );
        assert_eq!(passed["visibility"], "visible");
        let failed = &tests[1];
        assert_eq!(failed["status"], "failed");
        assert_eq!(failed["score"].as_f64(), Some(0.0));
        let out = failed["output"].as_str().unwrap();
        for needle in [
            "0/2 runs passed.",
            "Run 1: FAILED: no verdict: the process exited with status 0",
            "seed: 41",
            "replay: RAFTLAB_SEED=41 cargo test --release -p tests --test raft_3a -- re_election_3A --exact",
            "line 40\n--- end ---",
            "1 run(s) did not happen",
        ] {
            assert!(out.contains(needle), "{needle:?} not in:\n{out}");
        }
        assert!(
            !out.contains("line 10\n"),
            "only the tail of the output: {out}"
        );
    }

    #[test]
    fn a_part_over_its_cpu_budget_scores_zero_with_the_reason() {
        let mut g = graded();
        g.parts[0].over_cpu_budget = Some("part 3A used 9.0 s of CPU".into());
        let v: serde_json::Value = serde_json::from_str(&results(&g, 1.0)).unwrap();
        assert_eq!(v["tests"][0]["score"].as_f64(), Some(0.0));
        assert_eq!(v["tests"][0]["status"], "failed");
        assert!(
            v["tests"][0]["output"]
                .as_str()
                .unwrap()
                .contains("The part scores nothing: part 3A used 9.0 s of CPU")
        );
    }
}
