//! Every history in `histories/` (this crate's corpus) gets the verdict that its README's tables give
//! (porcupine's verdicts).

use std::path::PathBuf;
use std::time::Duration;

use linearizability::models::kv::KvModel;
use linearizability::models::register::RegisterModel;
use linearizability::parse::etcd::read_etcd_history;
use linearizability::parse::kv::read_kv_history;
use linearizability::{Verdict, check_operations, check_operations_verbose};

fn corpus_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("histories");
    assert!(
        dir.join("README.md").is_file(),
        "the histories corpus is missing: expected {} (with README.md, kv/ and etcd/) in the crate",
        dir.display()
    );
    dir
}

/// The `| file | linearizable |` rows of the README: (subdirectory, file, verdict).
fn expected_verdicts() -> Vec<(&'static str, String, bool)> {
    let readme = std::fs::read_to_string(corpus_dir().join("README.md")).expect("read README.md");
    let mut rows = Vec::new();
    for line in readme.lines() {
        let cells: Vec<&str> = line
            .trim()
            .trim_matches('|')
            .split('|')
            .map(str::trim)
            .collect();
        let [file, verdict] = cells[..] else { continue };
        let dir = if file.ends_with(".txt") {
            "kv"
        } else if file.ends_with(".log") {
            "etcd"
        } else {
            continue;
        };
        let linearizable = match verdict {
            "yes" => true,
            "no" => false,
            other => panic!("README row for {file} has verdict {other:?}, expected yes or no"),
        };
        rows.push((dir, file.to_owned(), linearizable));
    }
    rows
}

#[test]
fn the_readme_lists_all_56_files_and_they_exist() {
    let rows = expected_verdicts();
    assert_eq!(rows.iter().filter(|r| r.0 == "kv").count(), 6);
    assert_eq!(rows.iter().filter(|r| r.0 == "etcd").count(), 50);
    for (dir, file, _) in &rows {
        let path = corpus_dir().join(dir).join(file);
        assert!(
            path.is_file(),
            "{} is listed in the README but missing",
            path.display()
        );
    }
}

fn verdict_of(dir: &str, file: &str, verbose: bool) -> Verdict {
    let path = corpus_dir().join(dir).join(file);
    // A plain check of any file takes well under a second; this limit only turns a hang
    // into a failure. A verbose check searches every partition to the end, even after one
    // is found illegal, and two partitions of kv/c50-bad run for more than 20 s: it is
    // cut off sooner (an illegal partition is found within milliseconds).
    let timeout = Some(Duration::from_secs(if verbose { 3 } else { 60 }));
    match dir {
        "kv" => {
            let history = read_kv_history(&path).unwrap_or_else(|e| panic!("{e}"));
            if verbose {
                check_operations_verbose(&KvModel, &history, timeout)
                    .unwrap()
                    .verdict
            } else {
                check_operations(&KvModel, &history, timeout).unwrap()
            }
        }
        _ => {
            let history = read_etcd_history(&path).unwrap_or_else(|e| panic!("{e}"));
            if verbose {
                check_operations_verbose(&RegisterModel, &history, timeout)
                    .unwrap()
                    .verdict
            } else {
                check_operations(&RegisterModel, &history, timeout).unwrap()
            }
        }
    }
}

fn check_all(verbose: bool) {
    let rows = expected_verdicts();
    assert_eq!(rows.len(), 56);
    let mut wrong = Vec::new();
    for (dir, file, linearizable) in &rows {
        let expected = if *linearizable {
            Verdict::Ok
        } else {
            Verdict::Illegal
        };
        let got = verdict_of(dir, file, verbose);
        if got != expected {
            wrong.push(format!("{dir}/{file}: expected {expected}, got {got}"));
        }
    }
    assert!(
        wrong.is_empty(),
        "verdicts differ from the README:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn every_history_gets_the_readme_verdict() {
    check_all(false);
}

#[test]
fn every_history_gets_the_readme_verdict_in_verbose_mode() {
    check_all(true);
}
