//! The suites as runnable things: builds the `tests` package's test binaries with cargo,
//! lists the tests in each, and resolves what a user names (a test, a part, a pattern)
//! to tests.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// The package whose integration tests are the suites.
pub const SUITE_PACKAGE: &str = "tests";

/// One test of a suite, and how to run it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TestCase {
    /// The test's name, e.g. `basic_agree_3B`.
    pub name: String,
    /// Its part, from the name's suffix (`3B`); `None` for a test without one.
    pub part: Option<String>,
    /// The test binary that holds it.
    pub binary: PathBuf,
    /// The binary's target name, e.g. `raft_3b` (for `cargo test --test raft_3b`).
    pub target: String,
    /// Where cargo would run it: the package's directory.
    pub cwd: PathBuf,
}

/// Every test of the suites, in the binaries' order.
#[derive(Clone, Debug, Default)]
pub struct Suite {
    pub tests: Vec<TestCase>,
}

/// Which cargo profile to build the suites with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Profile {
    Release,
    Debug,
}

/// The part a test name ends with: `basic_agree_3B` → `3B`.
pub fn part_of(name: &str) -> Option<String> {
    let suffix = name.rsplit('_').next()?;
    let mut chars = suffix.chars();
    match (chars.next(), chars.next(), chars.next()) {
        (Some(d), Some(l), None) if d.is_ascii_digit() && l.is_ascii_uppercase() => {
            Some(suffix.to_owned())
        }
        _ => None,
    }
}

/// The workspace to work on: `dir` if given (it must hold a `Cargo.toml`), else the
/// workspace around the current directory.
pub fn workspace(dir: Option<&Path>) -> Result<PathBuf, String> {
    if let Some(dir) = dir {
        let manifest = dir.join("Cargo.toml");
        if !manifest.is_file() {
            return Err(format!(
                "{} is not a cargo workspace: there is no {}",
                dir.display(),
                manifest.display()
            ));
        }
        return dir
            .canonicalize()
            .map_err(|e| format!("cannot use {}: {e}", dir.display()));
    }
    let out = Command::new("cargo")
        .args(["locate-project", "--workspace", "--message-format", "plain"])
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err("not inside a cargo workspace (use --dir DIR to name one)".into());
    }
    let manifest = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
    Ok(manifest
        .parent()
        .expect("a manifest path has a directory")
        .to_owned())
}

/// What `cargo metadata --no-deps` says of the workspace at `root`.
pub fn metadata(root: &Path) -> Result<serde_json::Value, String> {
    let out = Command::new("cargo")
        .args([
            "metadata",
            "--no-deps",
            "--format-version",
            "1",
            "--offline",
        ])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!("cargo metadata failed in {}", root.display()));
    }
    serde_json::from_slice(&out.stdout).map_err(|e| format!("cargo metadata printed bad JSON: {e}"))
}

/// Where cargo puts the workspace's build output (`target/`, or wherever
/// `CARGO_TARGET_DIR` or cargo's configuration says). labtool's logs and pages go there.
pub fn target_dir(root: &Path) -> Result<PathBuf, String> {
    metadata(root)?["target_directory"]
        .as_str()
        .map(PathBuf::from)
        .ok_or_else(|| "cargo metadata names no target directory".to_owned())
}

/// Builds the suites of the workspace at `root` (cargo's progress goes to stderr) and
/// lists their tests.
pub fn build(root: &Path, profile: Profile) -> Result<Suite, String> {
    let mut cargo = Command::new("cargo");
    cargo
        .args([
            "test",
            "--no-run",
            "--message-format=json-render-diagnostics",
        ])
        .args(["-p", SUITE_PACKAGE, "--tests"])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"));
    if profile == Profile::Release {
        cargo.arg("--release");
    }
    let out = cargo
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "cannot build the test suites in {} (cargo's errors are above)",
            root.display()
        ));
    }
    let mut suite = Suite::default();
    for binary in test_binaries(&String::from_utf8_lossy(&out.stdout))? {
        let names = list_tests(&binary.path)?;
        suite.tests.extend(names.into_iter().map(|name| TestCase {
            part: part_of(&name),
            name,
            binary: binary.path.clone(),
            target: binary.target.clone(),
            cwd: binary.cwd.clone(),
        }));
    }
    if suite.tests.is_empty() {
        return Err(format!(
            "the package `{SUITE_PACKAGE}` in {} has no tests",
            root.display()
        ));
    }
    Ok(suite)
}

struct Binary {
    path: PathBuf,
    target: String,
    cwd: PathBuf,
}

/// The integration-test executables in cargo's JSON messages.
fn test_binaries(messages: &str) -> Result<Vec<Binary>, String> {
    let mut binaries = Vec::new();
    for line in messages.lines().filter(|l| l.starts_with('{')) {
        let msg: serde_json::Value =
            serde_json::from_str(line).map_err(|e| format!("cargo printed bad JSON: {e}"))?;
        if msg["reason"] != "compiler-artifact" {
            continue;
        }
        let is_test = msg["target"]["kind"]
            .as_array()
            .is_some_and(|kinds| kinds.iter().any(|k| k == "test"));
        let (Some(exe), Some(target), Some(manifest)) = (
            msg["executable"].as_str(),
            msg["target"]["name"].as_str(),
            msg["manifest_path"].as_str(),
        ) else {
            continue;
        };
        if is_test {
            binaries.push(Binary {
                path: PathBuf::from(exe),
                target: target.to_owned(),
                cwd: Path::new(manifest)
                    .parent()
                    .map(Path::to_owned)
                    .unwrap_or_default(),
            });
        }
    }
    Ok(binaries)
}

/// The tests a libtest binary holds (`--list --format terse`).
fn list_tests(binary: &Path) -> Result<Vec<String>, String> {
    let out = Command::new(binary)
        .args(["--list", "--format", "terse"])
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot run {}: {e}", binary.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} --list failed: {}",
            binary.display(),
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(parse_list(&String::from_utf8_lossy(&out.stdout)))
}

fn parse_list(listing: &str) -> Vec<String> {
    listing
        .lines()
        .filter_map(|l| l.strip_suffix(": test"))
        .map(str::to_owned)
        .collect()
}

impl Suite {
    /// A suite of the named tests with no binaries behind them, for unit tests.
    #[cfg(test)]
    pub fn of_names(names: &[&str]) -> Suite {
        let case = |name: &&str| TestCase {
            name: name.to_string(),
            part: part_of(name),
            binary: PathBuf::from("/bin/true"),
            target: "raft".into(),
            cwd: PathBuf::new(),
        };
        Suite {
            tests: names.iter().map(case).collect(),
        }
    }

    /// Every part some test belongs to, in order.
    pub fn parts(&self) -> BTreeSet<String> {
        self.tests.iter().filter_map(|t| t.part.clone()).collect()
    }

    /// The tests of `part`, in suite order.
    pub fn part(&self, part: &str) -> Vec<TestCase> {
        self.tests
            .iter()
            .filter(|t| t.part.as_deref() == Some(part))
            .cloned()
            .collect()
    }

    /// The tests `patterns` name, each once, in the order named. A pattern is a test's
    /// exact name, a part (`3A`, any case), or else a substring of names (as `cargo test
    /// PATTERN` filters). A pattern that matches nothing is an error naming it.
    pub fn select(&self, patterns: &[String]) -> Result<Vec<TestCase>, String> {
        let mut chosen: Vec<TestCase> = Vec::new();
        for pattern in patterns {
            let matched = self.matching(pattern);
            if matched.is_empty() {
                return Err(self.no_match(pattern));
            }
            for t in matched {
                if !chosen.iter().any(|c| c.name == t.name) {
                    chosen.push(t.clone());
                }
            }
        }
        Ok(chosen)
    }

    fn matching(&self, pattern: &str) -> Vec<&TestCase> {
        if let Some(t) = self.tests.iter().find(|t| t.name == pattern) {
            return vec![t];
        }
        let upper = pattern.to_ascii_uppercase();
        let by_part: Vec<&TestCase> = self
            .tests
            .iter()
            .filter(|t| t.part.as_deref() == Some(upper.as_str()))
            .collect();
        if !by_part.is_empty() {
            return by_part;
        }
        self.tests
            .iter()
            .filter(|t| t.name.contains(pattern))
            .collect()
    }

    fn no_match(&self, pattern: &str) -> String {
        let words: Vec<String> = pattern
            .to_ascii_lowercase()
            .split(['_', '-', ' '])
            .filter(|w| w.len() >= 3)
            .map(str::to_owned)
            .collect();
        let similar: Vec<&str> = self
            .tests
            .iter()
            .filter(|t| {
                let lower = t.name.to_ascii_lowercase();
                words.iter().any(|w| lower.contains(w.as_str()))
            })
            .map(|t| t.name.as_str())
            .take(6)
            .collect();
        let parts: Vec<String> = self.parts().into_iter().collect();
        let mut message = format!(
            "unknown test `{pattern}`: no test name contains it and it is not a part (parts: {})",
            parts.join(", ")
        );
        if !similar.is_empty() {
            message.push_str(&format!("; similar names: {}", similar.join(", ")));
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn suite() -> Suite {
        Suite::of_names(&[
            "initial_election_3A",
            "re_election_3A",
            "basic_agree_3B",
            "backup_3B",
            "snapshot_4C",
        ])
    }

    #[test]
    fn parts_come_from_name_suffixes() {
        assert_eq!(part_of("basic_agree_3B").as_deref(), Some("3B"));
        assert_eq!(part_of("snapshot_4C").as_deref(), Some("4C"));
        assert_eq!(part_of("helper"), None);
        assert_eq!(part_of("thing_3b"), None);
        assert_eq!(part_of("thing_33B"), None);
        let parts: Vec<String> = suite().parts().into_iter().collect();
        assert_eq!(parts, ["3A", "3B", "4C"]);
    }

    #[test]
    fn selection_by_name_part_and_substring() {
        let s = suite();
        let names = |p: &[&str]| -> Vec<String> {
            let p: Vec<String> = p.iter().map(|s| s.to_string()).collect();
            s.select(&p).unwrap().into_iter().map(|t| t.name).collect()
        };
        assert_eq!(names(&["backup_3B"]), ["backup_3B"]);
        assert_eq!(names(&["3a"]), ["initial_election_3A", "re_election_3A"]);
        assert_eq!(
            names(&["election"]),
            ["initial_election_3A", "re_election_3A"]
        );
        // Each test once, in the order named.
        assert_eq!(
            names(&["basic_agree_3B", "3B", "re_election_3A"]),
            ["basic_agree_3B", "backup_3B", "re_election_3A"]
        );
    }

    #[test]
    fn an_unknown_test_is_an_error_that_names_it() {
        let err = suite()
            .select(&["3A".into(), "basic_agreement_3B".into()])
            .unwrap_err();
        assert!(err.contains("unknown test `basic_agreement_3B`"), "{err}");
        assert!(err.contains("parts: 3A, 3B, 4C"), "{err}");
        assert!(err.contains("similar names: basic_agree_3B"), "{err}");
    }

    #[test]
    fn cargo_messages_and_listings_are_read() {
        let messages = r#"{"reason":"compiler-artifact","manifest_path":"/w/tests/Cargo.toml","target":{"kind":["test"],"name":"raft_3a"},"executable":"/w/target/release/deps/raft_3a-1"}
{"reason":"compiler-artifact","manifest_path":"/w/tests/Cargo.toml","target":{"kind":["lib"],"name":"tests"},"executable":"/w/target/release/deps/tests-2"}
{"reason":"compiler-artifact","manifest_path":"/w/raft/Cargo.toml","target":{"kind":["lib"],"name":"raft"},"executable":null}
{"reason":"build-finished","success":true}"#;
        let binaries = test_binaries(messages).unwrap();
        assert_eq!(binaries.len(), 1);
        assert_eq!(binaries[0].target, "raft_3a");
        assert_eq!(binaries[0].cwd, PathBuf::from("/w/tests"));
        assert_eq!(
            parse_list("initial_election_3A: test\nre_election_3A: test\nb: bench\n"),
            ["initial_election_3A", "re_election_3A"]
        );
    }
}
