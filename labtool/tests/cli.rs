//! labtool as a user runs it. Most tests use a stand-in suite (`fixtures/fake-suite`:
//! tests that pass, fail, exit early with status 0, forge a verdict, or hang), which
//! builds in seconds; a few run one or two short tests of the real Raft suite.
//!
//! Each kind of workspace builds in its own target directory under
//! `target/labtool-tests`, so the cargo that labtool runs never waits on the cargo
//! running these tests.

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use tempfile::TempDir;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn fake_suite() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/fake-suite")
}

/// A fresh folder for one test, removed (with everything in it) when dropped.
fn scratch(name: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("labtool-test-{name}-"))
        .tempdir()
        .unwrap()
}

/// Runs labtool with `args`; `target` names its build directory.
fn labtool(target: &str, args: &[&str]) -> Output {
    labtool_with_input(target, args, None)
}

fn labtool_with_input(target: &str, args: &[&str], input: Option<&str>) -> Output {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_labtool"));
    cmd.args(args)
        .env(
            "CARGO_TARGET_DIR",
            workspace().join("target/labtool-tests").join(target),
        )
        .env_remove("RUST_LOG")
        .env("NO_COLOR", "1")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    if input.is_some() {
        cmd.stdin(Stdio::piped());
    } else {
        cmd.stdin(Stdio::null());
    }
    let mut child = cmd.spawn().unwrap();
    if let Some(text) = input {
        use std::io::Write;
        let written = child.stdin.take().unwrap().write_all(text.as_bytes());
        // labtool may reject its arguments and exit before it reads its input: the pipe
        // is then closed, which is no error of the command under test.
        if let Err(e) = written {
            assert_eq!(e.kind(), std::io::ErrorKind::BrokenPipe, "{e}");
        }
    }
    child.wait_with_output().unwrap()
}

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// The words of the table row for `name` (the table follows its line of dashes; lines
/// before it are progress).
fn row(text: &str, name: &str) -> Vec<String> {
    let table = text.rsplit_once("\n---").map_or(text, |(_, after)| after);
    let line = table
        .lines()
        .find(|l| l.split_whitespace().any(|w| w == name))
        .unwrap_or_else(|| panic!("no row for {name} in:\n{text}"));
    line.split_whitespace().map(str::to_owned).collect()
}

fn fake_dir() -> String {
    fake_suite().display().to_string()
}

// ----- grade -------------------------------------------------------------------------------

#[test]
fn grade_counts_a_test_passed_only_when_its_verdict_says_so() {
    let tmp = scratch("grade");
    let dir = tmp.path();
    let (json, junit, gradescope) = (
        dir.join("g.json"),
        dir.join("g.xml"),
        dir.join("results.json"),
    );
    let out = labtool(
        "fake",
        &[
            "grade",
            "--parts",
            "1A",
            "--dir",
            &fake_dir(),
            "--debug",
            "--json",
            json.to_str().unwrap(),
            "--junit",
            junit.to_str().unwrap(),
            "--gradescope",
            gradescope.to_str().unwrap(),
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert_eq!(row(&text, "passes_1A")[..3], ["1A", "passes_1A", "1/1"]);
    assert_eq!(row(&text, "fails_1A")[..3], ["1A", "fails_1A", "0/1"]);
    assert!(
        row(&text, "fails_1A")
            .join(" ")
            .ends_with("expected one leader, got none")
    );
    // Printed "Passed" and "test result: ok", then exit(0): no verdict, no pass.
    let early = row(&text, "exits_early_1A").join(" ");
    assert!(early.starts_with("1A exits_early_1A 0/1"), "{text}");
    assert!(
        early.contains("no verdict: the process exited with status 0"),
        "{text}"
    );
    // A verdict line with another nonce is not this run's.
    assert!(
        row(&text, "forges_1A")
            .join(" ")
            .starts_with("1A forges_1A 0/1"),
        "{text}"
    );
    assert_eq!(
        row(&text, "score")[..5],
        ["1A", "=", "score", "1/4", "25.0%"]
    );
    // The failed runs' output is kept, and the table says where.
    let kept = text
        .lines()
        .find_map(|l| l.strip_prefix("test output of failed runs: "))
        .unwrap_or_else(|| panic!("no folder of failed runs named: {text}"));
    assert!(
        std::path::Path::new(kept).join("fails_1A-1.log").is_file(),
        "{text}"
    );

    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(report["parts"][0]["part"], "1A");
    assert_eq!(report["parts"][0]["passed_runs"], 1);
    assert_eq!(report["parts"][0]["total_runs"], 4);
    let xml = std::fs::read_to_string(&junit).unwrap();
    assert_eq!(xml.matches("<testcase ").count(), 4, "{xml}");
    assert_eq!(xml.matches("<failure").count(), 3, "{xml}");

    // Gradescope: a test per suite test; a failed one says why, with seed and replay.
    let results: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&gradescope).unwrap()).unwrap();
    assert!(results["execution_time"].as_u64().is_some(), "{results}");
    assert!(
        results["output"]
            .as_str()
            .unwrap()
            .contains("total: 1/4 runs passed")
    );
    let tests = results["tests"].as_array().unwrap();
    assert_eq!(tests.len(), 4, "{results}");
    let test = |name: &str| {
        tests
            .iter()
            .find(|t| t["name"] == format!("1A {name}"))
            .unwrap_or_else(|| panic!("no {name} in {results}"))
    };
    assert_eq!(test("passes_1A")["status"], "passed");
    assert_eq!(test("passes_1A")["score"].as_f64(), Some(1.0));
    let fails = test("fails_1A");
    assert_eq!(fails["status"], "failed");
    assert_eq!(fails["score"].as_f64(), Some(0.0));
    assert_eq!(fails["max_score"].as_f64(), Some(1.0));
    let output = fails["output"].as_str().unwrap();
    for needle in [
        "Run 1: FAILED: expected one leader, got none",
        "seed: ",
        "replay: RAFTLAB_SEED=",
        "--test fake_1a -- fails_1A --exact",
        "panicked at",
    ] {
        assert!(output.contains(needle), "{needle:?} not in {output}");
    }
}

#[test]
fn grade_fails_runs_past_the_parts_time_limit() {
    let started = Instant::now();
    let out = labtool(
        "fake",
        &[
            "grade",
            "--parts",
            "1b",
            "--part-limit",
            "3",
            "-j",
            "1",
            "--dir",
            &fake_dir(),
            "--debug",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    // libtest lists hangs_1B first: it is killed at the limit, and quick_1B never starts.
    let hangs = row(&text, "hangs_1B").join(" ");
    assert!(hangs.contains("0/1"), "{text}");
    assert!(
        hangs.contains("killed: part 1B's time limit of 3 s ran out"),
        "{text}"
    );
    let quick = row(&text, "quick_1B").join(" ");
    assert!(
        quick.contains("not run: part 1B's time limit of 3 s ran out"),
        "{text}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(50),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn grade_rejects_a_part_that_does_not_exist() {
    let out = labtool(
        "fake",
        &["grade", "--parts", "1A,3E", "--dir", &fake_dir(), "--debug"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("part `3E` does not exist: the suites have parts 1A, 1B, 1C"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn counts_must_be_at_least_one() {
    for args in [
        &["grade", "--runs", "0"][..],
        &["stress", "passes_1A", "-n", "0"],
        &["stress", "passes_1A", "-j", "0"],
    ] {
        let out = labtool("fake", args);
        assert_eq!(out.status.code(), Some(2), "{args:?}");
        assert!(
            stderr(&out).contains("must be at least 1"),
            "{args:?}: {}",
            stderr(&out)
        );
    }
}

// ----- stress ------------------------------------------------------------------------------

#[test]
fn stress_keeps_the_logs_of_failed_runs_only() {
    let tmp = scratch("stress");
    let dir = tmp.path();
    let logs = dir.join("logs");
    let out = labtool(
        "fake",
        &[
            "stress",
            "passes_1A",
            "fails_1A",
            "-n",
            "3",
            "-j",
            "2",
            "-o",
            logs.to_str().unwrap(),
            "--dir",
            &fake_dir(),
            "--debug",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    assert_eq!(row(&text, "passes_1A")[..3], ["passes_1A", "0", "3"]);
    assert_eq!(row(&text, "fails_1A")[..3], ["fails_1A", "3", "3"]);
    assert!(text.contains("3 failed run(s)"), "{text}");
    assert!(
        text.contains("replay: RAFTLAB_SEED="),
        "the replay command is printed: {text}"
    );
    let mut kept: Vec<String> = std::fs::read_dir(&logs)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(
        kept,
        [
            "fails_1A-1.log",
            "fails_1A-2.log",
            "fails_1A-3.log",
            "summary.json"
        ]
    );
    let log = std::fs::read_to_string(logs.join("fails_1A-2.log")).unwrap();
    assert!(
        log.starts_with("labtool: fails_1A run 2 with RAFTLAB_SEED="),
        "{log}"
    );
    assert!(log.contains("expected one leader, got none"), "{log}");
    let summary: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(logs.join("summary.json")).unwrap()).unwrap();
    assert_eq!(summary["runs"].as_array().unwrap().len(), 6);
}

#[test]
fn stress_names_an_unknown_test() {
    let out = labtool(
        "fake",
        &[
            "stress",
            "passes_1A",
            "nope_1A",
            "--dir",
            &fake_dir(),
            "--debug",
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    let err = stderr(&out);
    assert!(err.contains("unknown test `nope_1A`"), "{err}");
    assert!(err.contains("parts: 1A, 1B, 1C"), "{err}");

    let out = labtool("fake", &["stress", "--dir", &fake_dir(), "--debug"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("name the tests to stress"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn grade_measures_cpu_and_fails_a_part_over_its_cpu_limit() {
    let tmp = scratch("cpu");
    let json = tmp.path().join("g.json");
    let out = labtool(
        "fake",
        &[
            "grade",
            "--parts",
            "1C",
            "--cpu-limit",
            "1",
            "--json",
            json.to_str().unwrap(),
            "--dir",
            &fake_dir(),
            "--debug",
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(1), "{text}\n{}", stderr(&out));
    // burns_1C passed, but spun every core for 3 s: over a 1 s budget.
    assert_eq!(row(&text, "burns_1C")[..3], ["1C", "burns_1C", "1/1"]);
    let score = row(&text, "score").join(" ");
    assert!(score.contains("0/1"), "{text}");
    assert!(
        score.contains("FAILED: part 1C used") && score.contains("over its --cpu-limit of 1 s"),
        "{text}"
    );
    // It kept the machine saturated, and it passed: no verdict is in doubt.
    assert!(
        text.contains("warning: the machine's CPU was at least 90% busy (or its CPU quota throttled the tests 10% of the time or more) during 1 of 1 runs"),
        "{text}"
    );
    assert!(text.contains("no verdict is in doubt"), "{text}");
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    let part = &report["parts"][0];
    assert!(part["cpu_secs"].as_f64().unwrap() > 2.0, "{report}");
    assert_eq!(part["tests"][0]["runs"][0]["saturated"], true, "{report}");
    assert!(part["over_cpu_budget"].is_string(), "{report}");
}

#[test]
fn stress_runs_a_real_raft_test() {
    let tmp = scratch("real-stress");
    let dir = tmp.path();
    let out = labtool(
        "real",
        &[
            "stress",
            "basic_agree_3B",
            "-n",
            "2",
            "-j",
            "1",
            "--debug",
            "-o",
            dir.to_str().unwrap(),
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert_eq!(
        row(&text, "basic_agree_3B")[..3],
        ["basic_agree_3B", "0", "2"]
    );
}

// ----- viz ---------------------------------------------------------------------------------

#[path = "../../linearizability/tests/support/chromium.rs"]
mod chromium;

#[test]
fn viz_writes_a_timeline_of_a_real_test_that_renders_in_chromium() {
    let tmp = scratch("viz");
    let dir = tmp.path();
    let page = dir.join("initial.html");
    let out = labtool(
        "real",
        &[
            "viz",
            "initial_election_3A",
            "--debug",
            "-o",
            page.to_str().unwrap(),
        ],
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{text}\n{}", stderr(&out));
    assert!(
        text.contains(&format!("timeline: {}", page.display())),
        "{text}"
    );
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("Test (3A): initial election (reliable network)"));
    assert!(
        !html.contains("src=\"http"),
        "the page must not load anything"
    );

    if !chromium::installed() {
        return;
    }
    let profile = scratch("chromium-profile");
    let dom = chromium::dump_dom(&page, profile.path());
    assert!(
        dom.contains(r#"data-rendered="true""#),
        "the script did not finish:\n{dom}"
    );
    for track in ["server 0", "server 1", "server 2", "network", "tester"] {
        assert!(
            dom.contains(&format!(">{track}<")),
            "no {track} row:\n{dom}"
        );
    }
    // A leader was elected, drawn in its own colour, and the tester checked for it.
    assert!(dom.contains("leader T"), "{dom}");
    assert!(dom.matches(">check_one_leader<").count() >= 2, "{dom}");
    assert!(dom.contains(">passed<"), "{dom}");
}

#[test]
fn viz_wants_one_test_by_its_exact_name() {
    let out = labtool("fake", &["viz", "1A", "--dir", &fake_dir(), "--debug"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("viz runs one test, named exactly"),
        "{}",
        stderr(&out)
    );
    let out = labtool("fake", &["viz", "nope_1A", "--dir", &fake_dir(), "--debug"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown test `nope_1A`"),
        "{}",
        stderr(&out)
    );
}

// ----- logs --------------------------------------------------------------------------------

const LOG: &str = "\
running 1 test
     101 VOTE     S0 T1 starts an election
     105 VOTE     S2 T1 grants its vote to S0
     109 LEADER   S0 T1 becomes leader with log up to 0
     250 APPEND   S1 T1 appends up to 3
thread 'raft-1' panicked at raft/src/node.rs:383:9:
Test (3A): initial election (reliable network) ... Passed -- 3.1s peers 3 RPCs 52 bytes 5404 cmds 0
";

#[test]
fn logs_puts_each_peer_in_its_column_and_passes_other_lines_through() {
    let tmp = scratch("logs");
    let dir = tmp.path();
    let file = dir.join("run.log");
    std::fs::write(&file, LOG).unwrap();
    let out = labtool("none", &["logs", file.to_str().unwrap()]);
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(!text.contains('\u{1b}'), "no colour when not a terminal");
    let lines: Vec<&str> = text.lines().collect();
    // A header with three columns (peers 0-2 seen), then every input line.
    assert!(lines[0].contains("S0") && lines[0].contains("S2"), "{text}");
    assert_eq!(lines.len(), 1 + LOG.lines().count(), "{text}");
    let col = |line: &str| line.find("T1 ").unwrap();
    let s0 = lines
        .iter()
        .find(|l| l.contains("starts an election"))
        .unwrap();
    let s2 = lines
        .iter()
        .find(|l| l.contains("grants its vote"))
        .unwrap();
    let s1 = lines
        .iter()
        .find(|l| l.contains("appends up to 3"))
        .unwrap();
    assert!(col(s0) < col(s1) && col(s1) < col(s2), "{text}");
    assert!(lines.contains(&"thread 'raft-1' panicked at raft/src/node.rs:383:9:"));
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Test (3A): initial election"))
    );

    // From standard input, topics filtered.
    let out = labtool_with_input(
        "none",
        &["logs", "-", "-c", "3", "--just", "vote"],
        Some(LOG),
    );
    let text = stdout(&out);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(text.contains("starts an election") && text.contains("grants its vote"));
    assert!(
        !text.contains("becomes leader") && !text.contains("appends up to"),
        "{text}"
    );
    assert!(text.contains("panicked at"), "{text}");
}

/// A real test's log with the tester's lines on (`tests=info`), as stress keeps it, laid
/// out by `logs`: the tester's actions run across the columns, the peers' lines sit in
/// theirs.
#[test]
fn logs_show_a_real_tests_tester_actions_across_the_columns() {
    let tmp = scratch("real-logs");
    let dir = tmp.path();
    let out = labtool(
        "real",
        &[
            "stress",
            "initial_election_3A",
            "-n",
            "1",
            "-j",
            "1",
            "--debug",
            "--keep-all",
            "--log",
            "raft=debug,tests=info",
            "-o",
            dir.to_str().unwrap(),
        ],
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}\n{}",
        stdout(&out),
        stderr(&out)
    );
    let log = dir.join("initial_election_3A-1.log");
    let raw = std::fs::read_to_string(&log).unwrap();
    // The tester's lines have the log's format: time, topic, message.
    for action in [
        "network: reliable",
        "starts S0",
        "starts S2",
        "connects S2 with S0 S1 → {S0 S1 S2}",
        "check_one_leader → leader ",
    ] {
        assert!(
            raw.lines().any(|l| {
                let words: Vec<&str> = l.split_whitespace().collect();
                words.len() > 2
                    && words[0].parse::<u64>().is_ok()
                    && words[1] == "TESTER"
                    && words[2..].join(" ").starts_with(action)
            }),
            "no tester line `{action}` in:\n{raw}"
        );
    }

    let width = 18 + 3 * 30;
    let cmd = Command::new(env!("CARGO_BIN_EXE_labtool"))
        .args(["logs", log.to_str().unwrap(), "-c", "3"])
        .env("COLUMNS", width.to_string())
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    let text = stdout(&cmd);
    assert_eq!(cmd.status.code(), Some(0), "{}", stderr(&cmd));
    let started: Vec<&str> = text
        .lines()
        .filter(|l| l.contains(" TESTER ") && l.contains("── starts S1 "))
        .collect();
    assert_eq!(started.len(), 1, "{text}");
    assert_eq!(started[0].chars().count(), width, "{text}");
    assert!(started[0].ends_with('─'), "{text}");
    let vote = text
        .lines()
        .find(|l| l.contains(" VOTE ") && l.contains("starts an election"))
        .expect("a peer's line");
    // S<peer> became the column.
    assert!(!vote.contains("VOTE     S"), "{text}");

    // The tester's lines are a topic: --just leaves them out unless named.
    let just = Command::new(env!("CARGO_BIN_EXE_labtool"))
        .args(["logs", log.to_str().unwrap(), "-c", "3", "--just", "vote"])
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .unwrap();
    assert!(!stdout(&just).contains(" TESTER "), "{}", stdout(&just));
}

#[test]
fn logs_reports_an_unreadable_file_and_unknown_topics() {
    let tmp = scratch("logs-missing");
    let missing = tmp.path().join("nothing.log");
    let out = labtool("none", &["logs", missing.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains(&format!("cannot read the log file {}", missing.display())),
        "{}",
        stderr(&out)
    );
    let out = labtool_with_input("none", &["logs", "--ignore", "votes"], Some(LOG));
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("unknown topic `votes` in --ignore"),
        "{}",
        stderr(&out)
    );
    let out = labtool_with_input("none", &["logs", "-c", "0"], Some(LOG));
    assert_eq!(out.status.code(), Some(2));
}

// ----- handout -----------------------------------------------------------------------------

fn files_under(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                found.push(p);
            }
        }
    }
    found
}

#[test]
fn the_handout_keeps_the_plumbing_and_drops_the_solutions() {
    let tmp = scratch("handout");
    let out_dir = tmp.path().join("student");
    let out = labtool(
        "none",
        &[
            "handout",
            out_dir.to_str().unwrap(),
            "--dir",
            workspace().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("solution sections replaced by skeletons"));

    for file in files_under(&out_dir) {
        let text = std::fs::read_to_string(&file).unwrap_or_default();
        assert!(
            !text
                .lines()
                .any(|l| l.trim_start().starts_with("// solution:")),
            "{} still has markers",
            file.display()
        );
    }
    let node = std::fs::read_to_string(out_dir.join("raft/src/node.rs")).unwrap();
    assert!(
        node.contains("todo!(\"3A: become a candidate and ask every other peer for its vote\")")
    );
    // Solution lines are gone; the API and the plumbing around them stay.
    assert!(!node.contains("last_log_term > my_term"));
    assert!(!node.contains("fn notify_commit"));
    assert!(node.contains(
        "pub fn candidate_log_is_up_to_date(&self, last_log_index: u64, last_log_term: u64) -> bool"
    ));
    assert!(node.contains("pub fn become_leader(&mut self, now: Instant)"));
    assert!(!node.contains("mod tests;"));
    // The tests and the tester are the reference's, unchanged.
    for same in [
        "tests/tests/raft_3a.rs",
        "tests/src/raft/mod.rs",
        "labrpc/src/network.rs",
        "raft/src/peer.rs",
        // So are the settings for how many tests run at once.
        ".cargo/config.toml",
        ".config/nextest.toml",
    ] {
        assert_eq!(
            std::fs::read(out_dir.join(same)).unwrap(),
            std::fs::read(workspace().join(same)).unwrap(),
            "{same}"
        );
    }
    // Left out: the checker's tests and corpus, the reference's unit tests, labtool's
    // tests, notes.
    for gone in [
        "raft/src/node/tests.rs",
        "linearizability/tests",
        "linearizability/histories",
        "linearizability/benches/corpus.rs",
        "labtool/tests",
        "DESIGN.md",
        "BENCHMARKS.md",
    ] {
        assert!(!out_dir.join(gone).exists(), "{gone} is in the handout");
    }
    let manifest = std::fs::read_to_string(out_dir.join("linearizability/Cargo.toml")).unwrap();
    assert!(!manifest.contains("name = \"corpus\""), "{manifest}");
    let readme = std::fs::read_to_string(out_dir.join("README.md")).unwrap();
    assert!(readme.contains("cargo test -- 3A"));
    assert!(readme.contains("This is the *guided* handout"));
    for placeholder in ["{what_to_write}", "{logging}", "<!-- logging -->"] {
        assert!(
            !readme.contains(placeholder),
            "{placeholder} is left: {readme}"
        );
    }
    // The open level's skeleton is not part of a handout.
    assert!(!out_dir.join("labtool/open").exists());
    // clippy's rules for student code (raw threads, clocks, locks... named with their labrt
    // equivalents) at the root; the crates given whole have a clippy.toml without them.
    assert_eq!(
        std::fs::read(out_dir.join("clippy.toml")).unwrap(),
        std::fs::read(workspace().join("labtool/src/handout_clippy.toml")).unwrap()
    );
    for given in ["labrt", "labrpc", "tests", "labtool", "linearizability"] {
        let text = std::fs::read_to_string(out_dir.join(given).join("clippy.toml")).unwrap();
        assert!(!text.contains("disallowed"), "{given}: {text}");
    }
    for students in ["raft", "kvraft"] {
        assert!(!out_dir.join(students).join("clippy.toml").exists());
    }
}

/// Generates a handout of the workspace into a fresh folder; the folder and the output.
fn handout(name: &str, args: &[&str]) -> (TempDir, PathBuf, Output) {
    let tmp = scratch(name);
    let out_dir = tmp.path().join("student");
    let mut all = vec![
        "handout",
        out_dir.to_str().unwrap(),
        "--dir",
        workspace().to_str().unwrap(),
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    all.extend(args.iter().map(|a| (*a).to_owned()));
    let all: Vec<&str> = all.iter().map(String::as_str).collect();
    let out = labtool("none", &all);
    (tmp, out_dir, out)
}

fn rust_files(dir: &Path) -> Vec<String> {
    let mut names: Vec<String> = files_under(dir)
        .iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect();
    names.sort();
    names
}

#[test]
fn the_open_handout_keeps_the_api_and_leaves_the_design_to_the_student() {
    let (_tmp, out_dir, out) = handout("handout-open", &["--level", "open"]);
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("open (the API with todo!() bodies): raft, kvraft"));
    // The API only: no node, peer, log, persist; the 3E types, the peers' messages and the
    // clerk's RPCs stay as they are.
    assert_eq!(
        rust_files(&out_dir.join("raft/src")),
        ["config.rs", "lib.rs", "messages.rs"]
    );
    assert_eq!(
        rust_files(&out_dir.join("kvraft/src")),
        ["client.rs", "lib.rs", "rpc.rs", "rsm.rs", "server.rs"]
    );
    for (handed, from) in [
        ("raft/src/lib.rs", "labtool/open/raft/src/lib.rs"),
        ("kvraft/src/rsm.rs", "labtool/open/kvraft/src/rsm.rs"),
        ("kvraft/src/rpc.rs", "kvraft/src/rpc.rs"),
        ("raft/src/config.rs", "raft/src/config.rs"),
        ("raft/src/messages.rs", "raft/src/messages.rs"),
        ("raft/Cargo.toml", "raft/Cargo.toml"),
        ("tests/src/raft/mod.rs", "tests/src/raft/mod.rs"),
    ] {
        assert_eq!(
            std::fs::read(out_dir.join(handed)).unwrap(),
            std::fs::read(workspace().join(from)).unwrap(),
            "{handed}"
        );
    }
    let lib = std::fs::read_to_string(out_dir.join("raft/src/lib.rs")).unwrap();
    assert!(lib.contains("todo!(\"3A: "), "{lib}");
    assert!(!out_dir.join("labtool/open").exists());
    let readme = std::fs::read_to_string(out_dir.join("README.md")).unwrap();
    assert!(readme.contains("This is the *open* handout"));
    assert!(
        !readme.contains("trace!"),
        "the open README names the guided macro"
    );
}

#[test]
fn the_open_handout_keeps_a_crate_solved_only_whole() {
    // Lab 3's parts all solved: raft is the solution's, whole (its 4D read index too);
    // kvraft stays open.
    let (_tmp, out_dir, out) = handout(
        "handout-open-lab4",
        &["--level", "open", "--solved", "3A,3B,3C,3D,3E"],
    );
    assert_eq!(out.status.code(), Some(0), "{}", stderr(&out));
    assert!(stdout(&out).contains("solved: `raft` (with its share of 4D)"));
    assert!(stdout(&out).contains("cargo test -- 4A"));
    let node = std::fs::read_to_string(out_dir.join("raft/src/node.rs")).unwrap();
    assert!(node.contains("last_log_term > my_term"));
    assert!(!node.contains("todo!("), "a solved raft has no todo!()");
    assert!(!node.contains("mod tests;"));
    assert_eq!(
        rust_files(&out_dir.join("kvraft/src")),
        ["client.rs", "lib.rs", "rpc.rs", "rsm.rs", "server.rs"]
    );
    let rsm = std::fs::read_to_string(out_dir.join("kvraft/src/rsm.rs")).unwrap();
    assert!(rsm.contains("todo!(\"4A: "));

    // Some of a crate's parts: refused, and nothing is written.
    let (_tmp, out_dir, out) = handout(
        "handout-open-some",
        &["--level", "open", "--solved", "3A,3B"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("the open level hands out `raft` whole, open or solved"),
        "{}",
        stderr(&out)
    );
    assert!(!out_dir.exists());
    // The solution's kvraft needs more of raft than the open API.
    let (_tmp, out_dir, out) = handout(
        "handout-open-kv",
        &["--level", "open", "--solved", "4A,4B,4C,4D"],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("hands out `kvraft` solved only on a solved `raft`"),
        "{}",
        stderr(&out)
    );
    assert!(!out_dir.exists());
}

#[test]
fn the_handout_refuses_a_used_folder_and_a_tree_without_markers() {
    let scratch_used = scratch("handout-used");
    let used = scratch_used.path();
    std::fs::write(used.join("keep.txt"), "mine").unwrap();
    let out = labtool(
        "none",
        &[
            "handout",
            used.to_str().unwrap(),
            "--dir",
            workspace().to_str().unwrap(),
        ],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("already exists and is not empty"),
        "{}",
        stderr(&out)
    );
    assert_eq!(
        std::fs::read_to_string(used.join("keep.txt")).unwrap(),
        "mine"
    );

    let scratch_none = scratch("handout-none");
    let fresh = scratch_none.path().join("out");
    let out = labtool(
        "none",
        &["handout", fresh.to_str().unwrap(), "--dir", &fake_dir()],
    );
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr(&out).contains("has no solution markers"),
        "{}",
        stderr(&out)
    );
    assert!(!fresh.exists(), "nothing is written on an error");
}
