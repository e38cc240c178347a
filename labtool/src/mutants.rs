//! `labtool mutants`: does the suite still catch the classic bugs? A catalogue of
//! realistic bugs, each a textual patch to one file of the solution
//! (`mutants/catalogue.toml`), is applied one mutant at a time to a copy of the
//! workspace, and the mutant's part is run, then the later parts of its lab, until a test
//! fails. The kill matrix says which test killed each mutant, in which part, after how
//! long and with what message; it also says which *randomized* test (not a conformance
//! probe, `probe_…`) first killed it, so that the table before and after the probes comes
//! from one run.
//!
//! Mutants of the tester's own machinery (`part = "labrpc"` or `"linearizability"`) are
//! run against that crate's own tests: a tester whose network drops nothing, or whose
//! checker accepts everything, must fail its own tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::sync::Mutex;
use std::time::Instant;

use serde::Deserialize;

use crate::pool;
use crate::run::{self, Launch, Outcome, RunResult, Scratch};
use crate::suite::{self, Profile, TestCase};
use crate::table::{self, Align};

/// Where the catalogue lives in the workspace unless `--catalogue` says otherwise.
pub const CATALOGUE: &str = "mutants/catalogue.toml";

/// The parts of each lab, in order: a mutant runs against its own and the later ones.
const LABS: [&[&str]; 2] = [
    &["3A", "3B", "3C", "3D", "3E"],
    &["4A", "4B", "4C", "4D", "4E"],
];

/// Crates whose own tests check the tester's machinery.
const TESTER_CRATES: [&str; 2] = ["labrpc", "linearizability"];

pub struct Options {
    pub catalogue: Option<PathBuf>,
    /// Mutant ids to run (default: all).
    pub only: Option<Vec<String>>,
    /// Passes of the mutant's own part before it counts as surviving it.
    pub runs: usize,
    pub workers: usize,
    pub json: Option<PathBuf>,
    pub dir: Option<PathBuf>,
    pub profile: Profile,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Catalogue {
    mutant: Vec<Mutant>,
}

/// One realistic bug.
#[derive(Clone, Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Mutant {
    pub id: String,
    /// The part that introduces the rule it breaks (`3B`), or a tester crate.
    pub part: String,
    /// The rule it breaks, in words.
    pub rule: String,
    /// The file it changes, relative to the workspace.
    pub file: String,
    /// Text that occurs exactly once in the file…
    pub find: String,
    /// …and what it becomes.
    pub replace: String,
}

/// The first failure of a mutant's runs.
#[derive(Clone, Debug)]
pub struct Kill {
    pub part: String,
    pub test: String,
    pub secs: f64,
    pub message: String,
    /// The tester's hint for a known symptom (its `hint: ` line), if it gave one.
    pub hint: Option<String>,
}

/// What became of one mutant.
#[derive(Clone, Debug)]
pub struct Verdict {
    pub mutant: Mutant,
    /// The first test that failed (probes included).
    pub killed: Option<Kill>,
    /// The first randomized test that failed (probes left out).
    pub killed_without_probes: Option<Kill>,
    /// Parts run, in order.
    pub parts_run: Vec<String>,
}

impl Verdict {
    fn in_own_part(kill: &Option<Kill>, part: &str) -> bool {
        kill.as_ref().is_some_and(|k| k.part == part)
    }
}

pub fn mutants(opts: Options) -> Result<ExitCode, String> {
    let root = suite::workspace(opts.dir.as_deref())?;
    let path = opts
        .catalogue
        .clone()
        .unwrap_or_else(|| root.join(CATALOGUE));
    let catalogue = load(&path)?;
    check_patches(&root, &catalogue)?;
    let chosen = choose(&catalogue, opts.only.as_deref())?;
    let target = suite::target_dir(&root)?.join("mutants");
    let copy = target.join("workspace");
    sync_copy(&root, &copy)?;
    let logs = target.join("logs");
    std::fs::create_dir_all(&logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    let scratch = Scratch::new()?;
    println!(
        "{} mutant(s) from {}, on a copy of the workspace in {}",
        chosen.len(),
        path.display(),
        copy.display()
    );
    let started = Instant::now();
    let mut verdicts = Vec::new();
    for mutant in &chosen {
        let file = copy.join(&mutant.file);
        let original = read(&file)?;
        write(&file, &original.replacen(&mutant.find, &mutant.replace, 1))?;
        let verdict = judge(mutant, &copy, &opts, &logs.join(&mutant.id), scratch.path());
        write(&file, &original)?;
        let verdict = verdict?;
        println!("{}", one_line(&verdict));
        verdicts.push(verdict);
    }
    println!();
    print!("{}", matrix(&verdicts));
    println!();
    print!("{}", summary(&verdicts));
    println!(
        "{} mutant(s) in {:.0} s; test output in {}",
        verdicts.len(),
        started.elapsed().as_secs_f64(),
        logs.display()
    );
    if let Some(json) = &opts.json {
        write(json, &to_json(&verdicts))?;
        println!("wrote {}", json.display());
    }
    Ok(if verdicts.iter().all(|v| v.killed.is_some()) {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}

fn load(path: &Path) -> Result<Vec<Mutant>, String> {
    let text = read(path)?;
    let catalogue: Catalogue =
        toml::from_str(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let mut seen = BTreeMap::new();
    for m in &catalogue.mutant {
        if seen.insert(m.id.clone(), ()).is_some() {
            return Err(format!(
                "{}: mutant id `{}` appears twice",
                path.display(),
                m.id
            ));
        }
        let known = LABS.iter().any(|lab| lab.contains(&m.part.as_str()))
            || TESTER_CRATES.contains(&m.part.as_str());
        if !known {
            return Err(format!(
                "{}: mutant `{}` names part `{}`; parts are 3A-3E, 4A-4E, or a tester crate ({})",
                path.display(),
                m.id,
                m.part,
                TESTER_CRATES.join(", ")
            ));
        }
    }
    Ok(catalogue.mutant)
}

fn choose(catalogue: &[Mutant], only: Option<&[String]>) -> Result<Vec<Mutant>, String> {
    let Some(only) = only else {
        return Ok(catalogue.to_vec());
    };
    only.iter()
        .map(|id| {
            catalogue
                .iter()
                .find(|m| &m.id == id)
                .cloned()
                .ok_or_else(|| {
                    let ids: Vec<&str> = catalogue.iter().map(|m| m.id.as_str()).collect();
                    format!(
                        "no mutant `{id}` in the catalogue; it has: {}",
                        ids.join(", ")
                    )
                })
        })
        .collect()
}

/// Every patch must apply to the workspace as it is: its text found exactly once.
fn check_patches(root: &Path, mutants: &[Mutant]) -> Result<(), String> {
    let mut stale = Vec::new();
    for m in mutants {
        let text = read(&root.join(&m.file))?;
        let found = text.matches(&m.find).count();
        if found != 1 {
            stale.push(format!(
                "mutant `{}`: its text occurs {found} times in {} (it must occur once)",
                m.id, m.file
            ));
        }
    }
    if stale.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the catalogue no longer fits the code:\n{}",
            stale.join("\n")
        ))
    }
}

/// Makes `copy` hold the files git tracks in `root`, rewriting only those that differ
/// (so that cargo's builds in the copy stay incremental between invocations).
fn sync_copy(root: &Path, copy: &Path) -> Result<(), String> {
    let out = Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .stderr(Stdio::inherit())
        .output()
        .map_err(|e| format!("cannot run git in {}: {e}", root.display()))?;
    if !out.status.success() {
        return Err(format!(
            "{} is not a git checkout (`git ls-files` failed): mutants copy the files git tracks",
            root.display()
        ));
    }
    for name in out.stdout.split(|&b| b == 0).filter(|n| !n.is_empty()) {
        let name = String::from_utf8_lossy(name);
        let (from, to) = (root.join(&*name), copy.join(&*name));
        let Ok(bytes) = std::fs::read(&from) else {
            continue; // deleted in the working tree
        };
        if std::fs::read(&to).ok().as_deref() != Some(&bytes[..]) {
            if let Some(dir) = to.parent() {
                std::fs::create_dir_all(dir)
                    .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
            }
            std::fs::write(&to, &bytes)
                .map_err(|e| format!("cannot write {}: {e}", to.display()))?;
        }
    }
    Ok(())
}

/// Runs the mutated copy until a test fails: the mutant's part (up to `runs` passes),
/// then, if no randomized test has failed yet, the later parts of its lab at once.
fn judge(
    mutant: &Mutant,
    copy: &Path,
    opts: &Options,
    logs: &Path,
    scratch: &Path,
) -> Result<Verdict, String> {
    std::fs::create_dir_all(logs).map_err(|e| format!("cannot create {}: {e}", logs.display()))?;
    let mut verdict = Verdict {
        mutant: mutant.clone(),
        killed: None,
        killed_without_probes: None,
        parts_run: Vec::new(),
    };
    if TESTER_CRATES.contains(&mutant.part.as_str()) {
        verdict.parts_run.push(mutant.part.clone());
        verdict.killed = crate_tests(copy, &mutant.part, opts.profile)?;
        verdict.killed_without_probes = verdict.killed.clone();
        return Ok(verdict);
    }
    let suite = suite::build(copy, opts.profile)
        .map_err(|e| format!("mutant `{}` does not build: {e}", mutant.id))?;
    let lab = LABS
        .iter()
        .find(|lab| lab.contains(&mutant.part.as_str()))
        .expect("load checked the part");
    let own = lab.iter().position(|p| *p == mutant.part).unwrap_or(0);
    let is_probe = |name: &str| name.starts_with("probe_");
    let record = |verdict: &mut Verdict, failures: &[RunResult]| {
        // With the probes: the probe that failed first if any did (its message names the
        // rule), else the first test that failed. Without: the first randomized test.
        let first = |probes: bool| {
            let pick = |only_probes: bool| {
                failures
                    .iter()
                    .filter(|r| {
                        if only_probes {
                            is_probe(&r.test)
                        } else {
                            probes || !is_probe(&r.test)
                        }
                    })
                    .min_by(|a, b| a.secs.total_cmp(&b.secs))
            };
            probes
                .then(|| pick(true))
                .flatten()
                .or_else(|| pick(false))
                .map(|r| Kill {
                    part: suite::part_of(&r.test).unwrap_or_default(),
                    test: r.test.clone(),
                    secs: r.secs,
                    message: r.outcome.reason().unwrap_or("failed").to_owned(),
                    hint: hint_in(&r.log),
                })
        };
        verdict.killed = verdict.killed.take().or_else(|| first(true));
        verdict.killed_without_probes = verdict
            .killed_without_probes
            .take()
            .or_else(|| first(false));
    };
    // Its own part, up to `runs` passes.
    for _ in 0..opts.runs {
        verdict.parts_run.push(mutant.part.clone());
        let failures = run_tests(suite.part(&mutant.part), opts.workers, logs, scratch);
        record(&mut verdict, &failures);
        if !failures.is_empty() {
            break;
        }
    }
    // The later parts of its lab, all at once: for a kill if it has none, or for a kill by
    // a randomized test if only probes killed it.
    if verdict.killed_without_probes.is_none() && own + 1 < lab.len() {
        let later = &lab[own + 1..];
        let probes_too = verdict.killed.is_none();
        let tests: Vec<TestCase> = later
            .iter()
            .flat_map(|part| suite.part(part))
            .filter(|t| probes_too || !is_probe(&t.name))
            .collect();
        verdict.parts_run.push(later.join("+"));
        let failures = run_tests(tests, opts.workers, logs, scratch);
        record(&mut verdict, &failures);
    }
    Ok(verdict)
}

/// Runs each of `tests` once, `workers` at a time; the runs that failed.
fn run_tests(tests: Vec<TestCase>, workers: usize, logs: &Path, scratch: &Path) -> Vec<RunResult> {
    let failed = Mutex::new(Vec::new());
    pool::run(
        tests,
        workers,
        |case| {
            let launch = Launch {
                case: &case,
                run: 1,
                seed: rand::random::<u64>() >> 1,
                log: logs.join(format!("{}.log", case.name)),
                scratch,
                env: Vec::new(),
            };
            run::run(&launch, &|| None)
        },
        |result| {
            if matches!(result.outcome, Outcome::Failed(_)) {
                failed.lock().expect("failures lock").push(result);
            }
        },
    );
    failed.into_inner().expect("failures lock")
}

/// The tester's `hint: ` line in a run's output, if there is one.
fn hint_in(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines()
        .find_map(|l| l.strip_prefix("hint: "))
        .map(str::to_owned)
}

/// Runs a tester crate's own tests in the copy; the first failing test, if any.
fn crate_tests(copy: &Path, krate: &str, profile: Profile) -> Result<Option<Kill>, String> {
    let cargo = |build_only: bool| {
        let mut cargo = Command::new("cargo");
        cargo
            .args(["test", "-q", "-p", krate, "--manifest-path"])
            .arg(copy.join("Cargo.toml"));
        if profile == Profile::Release {
            cargo.arg("--release");
        }
        if build_only {
            cargo.arg("--no-run");
        }
        cargo
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot run cargo: {e}"))
    };
    // Built first, so that the time to kill is the tests' own.
    let built = cargo(true)?;
    if !built.status.success() {
        return Err(format!(
            "the tests of {krate} do not build with the mutant: {}",
            String::from_utf8_lossy(&built.stderr).trim()
        ));
    }
    let started = Instant::now();
    let out = cargo(false)?;
    if out.status.success() {
        return Ok(None);
    }
    let text = String::from_utf8_lossy(&out.stdout);
    let test = text
        .lines()
        .find_map(|l| l.strip_prefix("test ")?.strip_suffix(" ... FAILED"))
        .or_else(|| {
            // `-q` prints failing tests under "failures:" as `    name`.
            let after = text.split("\nfailures:\n").nth(2)?;
            after.lines().map(str::trim).find(|l| !l.is_empty())
        })
        .unwrap_or("(the crate did not build or its tests did not run)")
        .to_owned();
    let message = text
        .lines()
        .find(|l| l.contains("panicked at"))
        .map(|l| l.trim().to_owned())
        .unwrap_or_else(|| {
            String::from_utf8_lossy(&out.stderr)
                .lines()
                .last()
                .unwrap_or("")
                .to_owned()
        });
    Ok(Some(Kill {
        part: krate.to_owned(),
        test,
        secs: started.elapsed().as_secs_f64(),
        message,
        hint: None,
    }))
}

fn one_line(v: &Verdict) -> String {
    match &v.killed {
        Some(k) => format!(
            "{}: killed in {} by {} after {:.1} s: {}",
            v.mutant.id,
            k.part,
            k.test,
            k.secs,
            shorten(&k.message, 160)
        ),
        None => format!(
            "{}: SURVIVED (parts run: {})",
            v.mutant.id,
            v.parts_run.join(", ")
        ),
    }
}

fn shorten(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_owned()
    } else {
        let cut: String = text.chars().take(max - 1).collect();
        format!("{cut}…")
    }
}

/// The kill matrix: one row per mutant.
pub fn matrix(verdicts: &[Verdict]) -> String {
    let rows: Vec<Vec<String>> = verdicts
        .iter()
        .map(|v| {
            let kill = |k: &Option<Kill>| match k {
                Some(k) => (
                    k.test.clone(),
                    k.part.clone(),
                    format!("{:.1}", k.secs),
                    shorten(&k.message, 70),
                ),
                None => ("survived".into(), "-".into(), "-".into(), String::new()),
            };
            let (test, part, secs, message) = kill(&v.killed);
            let (before, before_part, _, _) = kill(&v.killed_without_probes);
            vec![
                v.mutant.id.clone(),
                v.mutant.part.clone(),
                test,
                part,
                secs,
                format!("{before} ({before_part})"),
                message,
            ]
        })
        .collect();
    table::render(
        &[
            "mutant",
            "part",
            "killed by",
            "in",
            "secs",
            "without probes",
            "message",
        ],
        &[
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Left,
            Align::Right,
            Align::Left,
            Align::Left,
        ],
        &rows,
    )
}

/// Per part: mutants killed, killed in their own part, and the median time to kill —
/// without the probes and with them.
pub fn summary(verdicts: &[Verdict]) -> String {
    let mut parts: BTreeMap<&str, Vec<&Verdict>> = BTreeMap::new();
    for v in verdicts {
        parts.entry(v.mutant.part.as_str()).or_default().push(v);
    }
    let cells = |vs: &[&Verdict], pick: fn(&Verdict) -> &Option<Kill>| {
        let killed = vs.iter().filter(|v| pick(v).is_some()).count();
        let own = vs
            .iter()
            .filter(|v| Verdict::in_own_part(pick(v), &v.mutant.part))
            .count();
        let mut secs: Vec<f64> = vs
            .iter()
            .filter_map(|v| pick(v).as_ref().map(|k| k.secs))
            .collect();
        secs.sort_by(f64::total_cmp);
        let median = match secs.len() {
            0 => "-".to_owned(),
            n if n % 2 == 1 => format!("{:.1}", secs[n / 2]),
            n => format!("{:.1}", (secs[n / 2 - 1] + secs[n / 2]) / 2.0),
        };
        [
            format!("{killed}/{}", vs.len()),
            format!("{own}/{}", vs.len()),
            median,
        ]
    };
    let mut rows: Vec<Vec<String>> = parts
        .iter()
        .map(|(part, vs)| {
            let mut row = vec![(*part).to_owned()];
            row.extend(cells(vs, |v| &v.killed_without_probes));
            row.extend(cells(vs, |v| &v.killed));
            row
        })
        .collect();
    let all: Vec<&Verdict> = verdicts.iter().collect();
    let mut total = vec!["all".to_owned()];
    total.extend(cells(&all, |v| &v.killed_without_probes));
    total.extend(cells(&all, |v| &v.killed));
    rows.push(total);
    table::render(
        &[
            "part",
            "killed (no probes)",
            "in own part",
            "median s",
            "killed (probes)",
            "in own part",
            "median s",
        ],
        &[
            Align::Left,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
            Align::Right,
        ],
        &rows,
    )
}

fn to_json(verdicts: &[Verdict]) -> String {
    let kill = |k: &Option<Kill>| {
        k.as_ref().map(|k| {
            serde_json::json!({
                "part": k.part, "test": k.test, "secs": k.secs, "message": k.message,
                "hint": k.hint,
            })
        })
    };
    let list: Vec<serde_json::Value> = verdicts
        .iter()
        .map(|v| {
            serde_json::json!({
                "id": v.mutant.id,
                "part": v.mutant.part,
                "rule": v.mutant.rule,
                "file": v.mutant.file,
                "killed": kill(&v.killed),
                "killed_without_probes": kill(&v.killed_without_probes),
                "parts_run": v.parts_run,
            })
        })
        .collect();
    serde_json::to_string_pretty(&list).expect("JSON values always print") + "\n"
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), String> {
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mutant(id: &str, part: &str) -> Mutant {
        Mutant {
            id: id.into(),
            part: part.into(),
            rule: "r".into(),
            file: "f".into(),
            find: "a".into(),
            replace: "b".into(),
        }
    }

    fn kill(part: &str, test: &str, secs: f64) -> Option<Kill> {
        Some(Kill {
            part: part.into(),
            test: test.into(),
            secs,
            message: "m".into(),
            hint: None,
        })
    }

    #[test]
    fn the_catalogue_must_name_known_parts_and_unique_ids() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c.toml");
        let entry = |id: &str, part: &str| {
            format!(
                "[[mutant]]\nid = \"{id}\"\npart = \"{part}\"\nrule = \"r\"\nfile = \"f\"\nfind = \"a\"\nreplace = \"b\"\n"
            )
        };
        std::fs::write(&path, entry("x", "3B") + &entry("x", "3C")).unwrap();
        assert!(load(&path).unwrap_err().contains("appears twice"));
        std::fs::write(&path, entry("x", "5A")).unwrap();
        assert!(load(&path).unwrap_err().contains("names part `5A`"));
        std::fs::write(&path, entry("x", "labrpc") + "color = 1\n").unwrap();
        assert!(load(&path).unwrap_err().contains("unknown field"));
        std::fs::write(&path, entry("x", "labrpc")).unwrap();
        assert_eq!(load(&path).unwrap().len(), 1);
    }

    #[test]
    fn a_patch_must_find_its_text_exactly_once() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("f"), "a a").unwrap();
        let err = check_patches(dir.path(), &[mutant("m", "3A")]).unwrap_err();
        assert!(err.contains("occurs 2 times in f"), "{err}");
    }

    #[test]
    fn the_summary_counts_kills_with_and_without_probes() {
        let verdicts = vec![
            Verdict {
                mutant: mutant("a", "3A"),
                killed: kill("3A", "probe_x_3A", 0.5),
                killed_without_probes: kill("3C", "figure8_3C", 30.0),
                parts_run: vec![],
            },
            Verdict {
                mutant: mutant("b", "3A"),
                killed: kill("3A", "initial_election_3A", 3.0),
                killed_without_probes: kill("3A", "initial_election_3A", 3.0),
                parts_run: vec![],
            },
        ];
        let text = summary(&verdicts);
        let row = text.lines().find(|l| l.starts_with("3A")).unwrap();
        let cells: Vec<&str> = row.split_whitespace().collect();
        assert_eq!(cells, ["3A", "2/2", "1/2", "16.5", "2/2", "2/2", "1.8"]);
    }
}
