//! The `linearizability` binary: verdicts and exit codes, the HTML view, and bad input.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use tempfile::TempDir;

fn corpus(file: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("histories");
    assert!(
        dir.is_dir(),
        "the histories corpus is missing: expected {}",
        dir.display()
    );
    dir.join(file)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_linearizability"))
        .args(args)
        .output()
        .expect("run the binary")
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A fresh folder for one test, removed (with everything in it) when dropped.
fn scratch() -> TempDir {
    tempfile::Builder::new()
        .prefix("linearizability-cli-")
        .tempdir()
        .unwrap()
}

fn path(p: &Path) -> &str {
    p.to_str().unwrap()
}

#[test]
fn verdicts_are_printed_with_their_exit_codes() {
    let ok = run(&["check", path(&corpus("kv/c10-ok.txt")), "--model", "kv"]);
    assert_eq!(
        (stdout(&ok).as_str(), ok.status.code()),
        ("linearizable", Some(0)),
        "{}",
        stderr(&ok)
    );
    let bad = run(&["check", path(&corpus("kv/c10-bad.txt")), "--model", "kv"]);
    assert_eq!(
        (stdout(&bad).as_str(), bad.status.code()),
        ("not linearizable", Some(1))
    );
    // An empty history has nothing to contradict: linearizable, as porcupine says.
    let tmp = scratch();
    let empty = tmp.path().join("empty.txt");
    std::fs::write(&empty, "").unwrap();
    for model in ["kv", "register"] {
        let out = run(&["check", path(&empty), "--model", model]);
        assert_eq!(
            (stdout(&out).as_str(), out.status.code()),
            ("linearizable", Some(0)),
            "{model}: {}",
            stderr(&out)
        );
    }
    let etcd = run(&[
        "check",
        path(&corpus("etcd/etcd_000.log")),
        "--model",
        "register",
        "--timeout",
        "30",
    ]);
    assert_eq!(
        (stdout(&etcd).as_str(), etcd.status.code()),
        ("not linearizable", Some(1))
    );
}

#[test]
fn a_timeout_gives_unknown_and_exit_code_2_promptly() {
    // 40 concurrent writes and a read of a value nobody wrote: the search would take
    // far longer than the limit.
    let mut log = String::new();
    for p in 0..40 {
        log.push_str(&format!("INFO  jepsen.util - {p}\t:invoke\t:write\t{p}\n"));
    }
    for p in 0..40 {
        log.push_str(&format!("INFO  jepsen.util - {p}\t:ok\t:write\t{p}\n"));
    }
    log.push_str(
        "INFO  jepsen.util - 40\t:invoke\t:read\tnil\nINFO  jepsen.util - 40\t:ok\t:read\t99\n",
    );
    let tmp = scratch();
    let file = tmp.path().join("hard.log");
    std::fs::write(&file, log).unwrap();
    let started = Instant::now();
    let out = run(&[
        "check",
        path(&file),
        "--model",
        "register",
        "--timeout",
        "0.2",
    ]);
    assert_eq!(
        (stdout(&out).as_str(), out.status.code()),
        ("unknown", Some(2)),
        "{}",
        stderr(&out)
    );
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn html_view_is_written_on_request() {
    let tmp = scratch();
    let html = tmp.path().join("c01-bad.html");
    let out = run(&[
        "check",
        path(&corpus("kv/c01-bad.txt")),
        "--model",
        "kv",
        "--html",
        path(&html),
    ]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("wrote the HTML view to"));
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>"));
    assert!(
        page.contains("\"failure\":\"s0-"),
        "the failure point is in the page data"
    );
}

#[test]
fn bad_input_is_a_clear_error_with_exit_code_3() {
    let missing = run(&["check", "/nonexistent/history.txt", "--model", "kv"]);
    assert_eq!(missing.status.code(), Some(3));
    assert!(
        stderr(&missing).contains("cannot read /nonexistent/history.txt"),
        "{}",
        stderr(&missing)
    );

    let tmp = scratch();
    let malformed = tmp.path().join("malformed.txt");
    std::fs::write(
        &malformed,
        "{:process 0, :type :invoke, :f :get, :key \"k\", :value nil}\n{:process 0, :type\n",
    )
    .unwrap();
    let out = run(&["check", path(&malformed), "--model", "kv"]);
    assert_eq!(out.status.code(), Some(3));
    assert!(
        stderr(&out).contains(&format!("{}:2: ", malformed.display())),
        "{}",
        stderr(&out)
    );
    assert!(stdout(&out).is_empty(), "no verdict for a malformed file");

    // The right file with the wrong model is malformed too.
    let wrong_model = run(&["check", path(&corpus("etcd/etcd_000.log")), "--model", "kv"]);
    assert_eq!(wrong_model.status.code(), Some(3));
    assert!(stderr(&wrong_model).contains("etcd_000.log:1: column 1: expected a map"));

    for args in [
        &["check", "x", "--model", "bank"][..],
        &["check", "x"],
        &["check", "x", "--model", "kv", "--timeout=-1"],
        &["check", "x", "--model", "kv", "--timeout", "soon"],
        &["frobnicate"],
        &[],
    ] {
        let out = run(args);
        assert_eq!(out.status.code(), Some(3), "{args:?}: {}", stderr(&out));
        // With no arguments at all, the usage is the message.
        let expected = if args.is_empty() { "Usage:" } else { "error" };
        assert!(
            stderr(&out).contains(expected),
            "{args:?}: {}",
            stderr(&out)
        );
    }

    let unwritable = run(&[
        "check",
        path(&corpus("kv/c01-ok.txt")),
        "--model",
        "kv",
        "--html",
        "/nonexistent/dir/x.html",
    ]);
    assert_eq!(unwritable.status.code(), Some(3));
    assert!(stderr(&unwritable).contains("cannot write the HTML view to /nonexistent/dir/x.html"));
}

#[test]
fn help_documents_the_exit_codes() {
    let out = run(&["check", "--help"]);
    assert_eq!(out.status.code(), Some(0));
    let help = stdout(&out);
    for needle in [
        "--model",
        "--html",
        "--timeout",
        "0 linearizable, 1 not linearizable, 2 unknown",
        "3 bad arguments",
    ] {
        assert!(help.contains(needle), "help lacks {needle:?}:\n{help}");
    }
}
