//! `labtool handout OUT`: the student workspace, generated from the solution workspace.
//!
//! Every member crate is copied. At the *guided* level (the default) the solution
//! markers in Rust files are replaced by their skeletons ([`crate::markers`]): `raft`
//! and `kvraft` keep their plumbing, and each rule is a `todo!()`. At the *open* level
//! `raft` and `kvraft` are replaced by the open skeleton, which the solution workspace
//! keeps under `labtool/open` (handouts leave it out): the lab's API
//! with `todo!()` bodies, and nothing else. The tests and the tester are copied
//! unchanged at both levels. Left out: the checker's own tests, corpus and benchmark,
//! the solution's unit tests of its own rules, labtool's tests (they grade the
//! solution), and the design notes, which describe the solution; the README is the
//! students'. Added: a `clippy.toml` at the root that flags raw threads, clocks, locks,
//! channels and randomness in the students' crates and names the `labrt` call to use
//! instead, and one without rules in each crate handed out whole ([`clippy_files`]).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::markers;
use crate::suite;

/// Paths (relative to the workspace) that the handout leaves out.
pub const OMIT: [&str; 6] = [
    // The solution's unit tests of its own rules (its `mod tests;` is a solution section).
    "raft/src/node/tests.rs",
    // The checker's own tests, their corpus of histories and its benchmark: they check
    // the checker, which students use as it is, not their code.
    "linearizability/tests",
    "linearizability/histories",
    "linearizability/benches/corpus.rs",
    // labtool's tests check it against the solution.
    "labtool/tests",
    // The open level's skeleton: it replaces `raft` and `kvraft` in an open handout.
    OPEN_DIR,
];

/// Where the open level's skeleton lies in the solution workspace: a tree of the files of
/// `raft` and `kvraft` (e.g. `labtool/open/raft/src/lib.rs` is `raft/src/lib.rs`).
pub const OPEN_DIR: &str = "labtool/open";

/// The crates that an open handout hands out open, each with the lab whose parts it
/// holds (`3` for 3A-3E): parts of another lab in it (the 4D read index in `raft`) go
/// with it.
const OPEN_CRATES: [(&str, char); 2] = [("raft", '3'), ("kvraft", '4')];

/// Files of an open crate that the open level keeps as they are: the configuration types
/// of part 3E, and the messages between the peers and between the clerk and the servers,
/// which the tester sends too (the conformance probes play a peer's peers with them).
const OPEN_KEPT: [&str; 3] = [
    "raft/src/config.rs",
    "raft/src/messages.rs",
    "kvraft/src/rpc.rs",
];

/// How much of the solution a handout gives away.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, clap::ValueEnum)]
pub enum Level {
    /// The plumbing (the peer's thread, timers, event loop, outbox, the log with its
    /// snapshot offset, the rsm's applier thread) is given;
    /// each rule of the protocol is a `todo!()`.
    #[default]
    Guided,
    /// The public API of `raft` and `kvraft` with `todo!()` bodies; the design is the
    /// student's.
    Open,
}

/// Files at the workspace root that the handout keeps.
const ROOT_FILES: [&str; 6] = [
    "Cargo.toml",
    "Cargo.lock",
    ".gitignore",
    "rust-toolchain.toml",
    // How many tests cargo test and nextest run at once.
    ".cargo/config.toml",
    ".config/nextest.toml",
];

/// The handout's root `clippy.toml`: clippy's `disallowed-methods`, `disallowed-types` and
/// `disallowed-macros` flag each call of std, parking_lot, crossbeam-channel or rand that
/// blocks, spawns, reads the clock or draws a random number, with the `labrt` equivalent
/// as the reason. In sim mode a test runs on labrt alone: a thread that blocks outside it
/// stalls the simulation.
const CLIPPY_TOML: &str = include_str!("handout_clippy.toml");

/// The students' README, with `{what_to_write}` and `{logging}` for the level's parts.
const STUDENT_README: &str = include_str!("handout_readme.md");
const README_GUIDED: &str = include_str!("handout_readme_guided.md");
const README_OPEN: &str = include_str!("handout_readme_open.md");

/// The README of a handout at `level`.
pub fn student_readme(level: Level) -> String {
    let section = match level {
        Level::Guided => README_GUIDED,
        Level::Open => README_OPEN,
    };
    let (what, logging) = section
        .split_once("\n<!-- logging -->\n")
        .expect("a level's README part has a logging section");
    STUDENT_README
        .replace("{what_to_write}\n", what)
        .replace("{logging}\n", logging)
}
/// What was generated.
#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    /// Solution sections replaced, by part.
    pub sections: BTreeMap<String, usize>,
    /// Solution sections kept (`--solved`), by part.
    pub kept: BTreeMap<String, usize>,
    /// Open level: the crates handed out open (their API with `todo!()` bodies).
    pub open: Vec<String>,
    /// Open level: the crates handed out solved, whole.
    pub solved_crates: Vec<String>,
}

pub fn handout(
    out: &Path,
    dir: Option<&Path>,
    level: Level,
    solved: &[String],
) -> Result<ExitCode, String> {
    let root = suite::workspace(dir)?;
    let summary = generate(&root, out, level, solved)?;
    match level {
        Level::Guided => {
            let parts: Vec<String> = summary
                .sections
                .iter()
                .map(|(part, n)| format!("{part}: {n}"))
                .collect();
            println!(
                "wrote the guided handout to {}: {} files, {} solution sections replaced by \
                 skeletons ({})",
                out.display(),
                summary.files,
                summary.sections.values().sum::<usize>(),
                parts.join(", ")
            );
            if !summary.kept.is_empty() {
                let kept: Vec<&str> = summary.kept.keys().map(String::as_str).collect();
                println!("kept the solutions of {}", kept.join(", "));
            }
        }
        Level::Open => {
            println!(
                "wrote the open handout to {}: {} files; open (the API with todo!() bodies): {}",
                out.display(),
                summary.files,
                if summary.open.is_empty() {
                    "none".to_owned()
                } else {
                    summary.open.join(", ")
                }
            );
            if !summary.solved_crates.is_empty() {
                println!("solved: {}", summary.solved_crates.join(", "));
            }
        }
    }
    // The first part left to write.
    let first = (summary.sections.keys())
        .filter(|tag| suite::part_of(&format!("_{tag}")).is_some())
        .find(|part| match level {
            Level::Guided => true,
            Level::Open => (OPEN_CRATES.iter()).any(|(krate, lab)| {
                part.starts_with(*lab) && summary.open.contains(&krate.to_string())
            }),
        });
    if let Some(part) = first {
        println!("try it: cd {} && cargo test -- {part}", out.display());
    }
    Ok(ExitCode::SUCCESS)
}

/// Writes the handout of the workspace at `root` into `out` at `level`, keeping the
/// solutions of the parts in `solved`: at the guided level any parts (e.g. 3A-3D, to
/// hand out part 3E on a working Raft); at the open level whole crates (every part of
/// Lab 3 keeps `raft`, every part of Lab 4 `kvraft`).
pub fn generate(
    root: &Path,
    out: &Path,
    level: Level,
    solved: &[String],
) -> Result<Summary, String> {
    let solved: Vec<String> = solved.iter().map(|p| p.to_ascii_uppercase()).collect();
    if let Some(bad) = solved
        .iter()
        .find(|p| suite::part_of(&format!("_{p}")).is_none())
    {
        return Err(format!(
            "--solved takes parts such as 3A or 4B, not `{bad}`"
        ));
    }
    if out.exists() {
        let empty = std::fs::read_dir(out)
            .map_err(|e| format!("cannot use {}: {e}", out.display()))?
            .next()
            .is_none();
        if !empty {
            return Err(format!(
                "{} already exists and is not empty: choose a new folder",
                out.display()
            ));
        }
    }
    let members = member_dirs(root)?;
    let out_abs = absolute(out)?;
    for member in &members {
        if out_abs.starts_with(root.join(member)) {
            return Err(format!(
                "{} is inside the crate {}: put the handout elsewhere",
                out.display(),
                member.display()
            ));
        }
    }
    // Build the whole handout in memory first, so a bad marker leaves nothing behind.
    let mut files: Vec<(PathBuf, Vec<u8>)> = Vec::new();
    let mut summary = Summary::default();
    for name in ROOT_FILES {
        let path = root.join(name);
        if path.is_file() {
            files.push((PathBuf::from(name), read(&path)?));
        }
    }
    files.push((
        PathBuf::from("README.md"),
        student_readme(level).into_bytes(),
    ));
    let mut sources = Vec::new();
    for member in &members {
        for rel in walk(root, member)? {
            let bytes = read(&root.join(&rel))?;
            sources.push((rel, bytes));
        }
    }
    // The guided transform of every file, which also checks the markers and finds the
    // parts; the open level then replaces the open crates.
    for (rel, bytes) in &sources {
        let bytes = transform(rel, bytes.clone(), &solved, &mut summary)?;
        files.push((rel.clone(), bytes));
    }
    if summary.sections.is_empty() && summary.kept.is_empty() {
        return Err(format!(
            "{} has no solution markers: is it the solution workspace?",
            root.display()
        ));
    }
    if let Some(unknown) = solved.iter().find(|p| !summary.kept.contains_key(*p)) {
        let parts: Vec<&str> = summary.sections.keys().map(String::as_str).collect();
        return Err(format!(
            "--solved {unknown}: no solution section belongs to part {unknown} (the parts: {})",
            parts.join(", ")
        ));
    }
    if level == Level::Open {
        files = open_level(root, files, &sources, &solved, &mut summary)?;
    }
    let given = match level {
        Level::Guided if !summary.kept.is_empty() => {
            let parts: Vec<&str> = summary.kept.keys().map(String::as_str).collect();
            Some(format!(
                "{} solved: the code is in place of the `todo!()`s, to build on.",
                list("part", "parts", &parts)
            ))
        }
        Level::Open if !summary.solved_crates.is_empty() => {
            let crates: Vec<&str> = summary.solved_crates.iter().map(String::as_str).collect();
            Some(format!(
                "{} solved, whole: working code to build on.",
                list("the crate", "the crates", &crates)
            ))
        }
        _ => None,
    };
    if let Some(given) = given {
        let note = format!("## What to write\n\nIn this handout {given}\n\n");
        if let Some((_, readme)) = files.iter_mut().find(|(p, _)| p == Path::new("README.md")) {
            let text = String::from_utf8_lossy(readme).replacen("## What to write\n\n", &note, 1);
            *readme = text.into_bytes();
        }
    }
    let clippy = clippy_files(&members, &files);
    files.extend(clippy);
    for (rel, bytes) in &files {
        let path = out.join(rel);
        if let Some(parent) = path.parent() {
            std::fs::create_dir_all(parent)
                .map_err(|e| format!("cannot create {}: {e}", parent.display()))?;
        }
        std::fs::write(&path, bytes)
            .map_err(|e| format!("cannot write {}: {e}", path.display()))?;
    }
    summary.files = files.len();
    Ok(summary)
}

/// The open level: each crate of [`OPEN_CRATES`] is handed out open (its files replaced
/// by the skeleton under [`OPEN_DIR`], except [`OPEN_KEPT`]) or, when `solved` names
/// every part of its lab, solved whole. `files` is the guided handout; `sources` the
/// workspace's files.
fn open_level(
    root: &Path,
    files: Vec<(PathBuf, Vec<u8>)>,
    sources: &[(PathBuf, Vec<u8>)],
    solved: &[String],
    summary: &mut Summary,
) -> Result<Vec<(PathBuf, Vec<u8>)>, String> {
    let all_parts: Vec<String> = (summary.sections.keys())
        .chain(summary.kept.keys())
        .filter(|tag| suite::part_of(&format!("_{tag}")).is_some())
        .cloned()
        .collect();
    let mut solved_crates = Vec::new();
    for (krate, lab) in OPEN_CRATES {
        let parts: Vec<&String> = all_parts.iter().filter(|p| p.starts_with(lab)).collect();
        let named = parts.iter().filter(|p| solved.contains(p)).count();
        if named == 0 {
            summary.open.push(krate.to_owned());
        } else if named == parts.len() {
            solved_crates.push(krate);
            let also = all_parts
                .iter()
                .filter(|p| !p.starts_with(lab))
                .filter(|p| sections_in(sources, krate, p));
            let also: Vec<&str> = also.map(String::as_str).collect();
            summary.solved_crates.push(if also.is_empty() {
                format!("`{krate}`")
            } else {
                format!("`{krate}` (with its share of {})", also.join(", "))
            });
        } else {
            let parts: Vec<&str> = parts.iter().map(|p| p.as_str()).collect();
            return Err(format!(
                "the open level hands out `{krate}` whole, open or solved: --solved names \
                 some of its parts but not all ({}); name all of them or none, or use \
                 --level guided to hand out single parts",
                parts.join(",")
            ));
        }
    }
    // The solution's kvraft uses more of raft than the open API holds (the read index,
    // lease reads, the saved state's size): it builds only on the solution's raft.
    if solved_crates.contains(&"kvraft") && summary.open.iter().any(|c| c == "raft") {
        let lab3: Vec<&str> = (all_parts.iter())
            .filter(|p| p.starts_with('3'))
            .map(String::as_str)
            .collect();
        return Err(format!(
            "the open level hands out `kvraft` solved only on a solved `raft`: the solution's \
             kvraft uses more of raft than the open API has; add {} to --solved",
            lab3.join(",")
        ));
    }
    let skeleton_dir = root.join(OPEN_DIR);
    let mut skeleton = Vec::new();
    for krate in &summary.open {
        let dir = Path::new(OPEN_DIR).join(krate);
        if !root.join(&dir).is_dir() {
            return Err(format!(
                "the open level's skeleton of `{krate}` is missing: {} is not a folder",
                skeleton_dir.join(krate).display()
            ));
        }
        for rel in walk(root, &dir)? {
            let bytes = read(&root.join(&rel))?;
            let to = rel
                .strip_prefix(OPEN_DIR)
                .expect("walk returns paths under the folder it walks")
                .to_owned();
            skeleton.push((to, bytes));
        }
    }
    let open_src = |rel: &Path| {
        summary
            .open
            .iter()
            .any(|krate| rel.starts_with(Path::new(krate).join("src")))
            && !OPEN_KEPT.iter().any(|k| rel == Path::new(k))
    };
    let mut kept = Vec::new();
    for (rel, bytes) in files {
        if open_src(&rel) {
            continue;
        }
        let krate = solved_crates.iter().find(|k| rel.starts_with(k));
        match krate {
            // Solved whole: every part's solution, the other labs' parts in it too.
            Some(_) => {
                let source = sources
                    .iter()
                    .find(|(r, _)| *r == rel)
                    .map(|(_, b)| b.clone())
                    .unwrap_or(bytes);
                kept.push((
                    rel.clone(),
                    transform(&rel, source, &all_parts, &mut Summary::default())?,
                ));
            }
            None => kept.push((rel, bytes)),
        }
    }
    kept.extend(skeleton);
    kept.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(kept)
}

/// The handout's `clippy.toml` files: [`CLIPPY_TOML`] at the root, for the crates the
/// students write ([`OPEN_CRATES`]) and any they add, and one without rules in each crate
/// handed out whole (labrt itself, labrpc, persister, the tester, the checker, labtool),
/// which may use std, parking_lot, crossbeam-channel and rand. clippy reads the `clippy.toml`
/// nearest a crate's manifest, so the root's rules stop there. A file that `files`
/// already has stays as it is.
fn clippy_files(members: &[PathBuf], files: &[(PathBuf, Vec<u8>)]) -> Vec<(PathBuf, Vec<u8>)> {
    let students =
        |member: &Path| (OPEN_CRATES.iter()).any(|(krate, _)| member == Path::new(krate));
    let mut clippy = vec![(
        PathBuf::from("clippy.toml"),
        CLIPPY_TOML.as_bytes().to_vec(),
    )];
    for member in members {
        if member.as_os_str().is_empty() || students(member) {
            continue;
        }
        let name = member.display();
        let text = format!(
            "# `{name}` is given whole, and calls std, parking_lot, crossbeam-channel or rand\n\
             # where it must. This file, without rules, takes the place here of the clippy.toml\n\
             # at the root, whose rules on raw threads, clocks, locks, channels and random\n\
             # numbers are for raft, kvraft and any crate you add.\n"
        );
        clippy.push((member.join("clippy.toml"), text.into_bytes()));
    }
    clippy.retain(|(rel, _)| !files.iter().any(|(have, _)| have == rel));
    clippy
}

/// `items` as a list in words, with its verb: "part 3A is", "parts 3A, 3B and 3C are".
fn list(one: &str, many: &str, items: &[&str]) -> String {
    match items {
        [] => String::new(),
        [only] => format!("{one} {only} is"),
        [init @ .., last] => format!("{many} {} and {last} are", init.join(", ")),
    }
}

/// Whether any Rust file of `krate` has a solution section of `part`.
fn sections_in(sources: &[(PathBuf, Vec<u8>)], krate: &str, part: &str) -> bool {
    let begin = format!("// solution:begin {part} ");
    sources.iter().any(|(rel, bytes)| {
        rel.starts_with(krate)
            && rel.extension().is_some_and(|e| e == "rs")
            && String::from_utf8_lossy(bytes)
                .lines()
                .any(|l| l.trim_start().starts_with(&begin))
    })
}

fn absolute(path: &Path) -> Result<PathBuf, String> {
    if path.is_absolute() {
        Ok(path.to_owned())
    } else {
        Ok(std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?
            .join(path))
    }
}

fn read(path: &Path) -> Result<Vec<u8>, String> {
    std::fs::read(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// The workspace members' directories, relative to `root` (from `cargo metadata`).
fn member_dirs(root: &Path) -> Result<Vec<PathBuf>, String> {
    let meta = suite::metadata(root)?;
    let root_dir = PathBuf::from(meta["workspace_root"].as_str().unwrap_or_default());
    let mut dirs = Vec::new();
    for package in meta["packages"].as_array().into_iter().flatten() {
        let manifest = Path::new(package["manifest_path"].as_str().unwrap_or_default());
        let dir = manifest.parent().unwrap_or(Path::new(""));
        let rel = dir.strip_prefix(&root_dir).map_err(|_| {
            format!(
                "the member {} lies outside the workspace {}",
                dir.display(),
                root_dir.display()
            )
        })?;
        dirs.push(rel.to_owned());
    }
    dirs.sort();
    Ok(dirs)
}

/// Every file under `root/member`, relative to `root`, except build output, hidden
/// files and [`OMIT`].
fn walk(root: &Path, member: &Path) -> Result<Vec<PathBuf>, String> {
    let mut found = Vec::new();
    let mut stack = vec![member.to_owned()];
    while let Some(rel) = stack.pop() {
        let dir = root.join(&rel);
        let entries =
            std::fs::read_dir(&dir).map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
        for entry in entries {
            let entry = entry.map_err(|e| format!("cannot read {}: {e}", dir.display()))?;
            let name = entry.file_name();
            let name = name.to_string_lossy();
            let child = rel.join(&*name);
            if name.starts_with('.') || name == "target" || omitted(&child) {
                continue;
            }
            let kind = entry
                .file_type()
                .map_err(|e| format!("cannot read {}: {e}", child.display()))?;
            if kind.is_dir() {
                stack.push(child);
            } else if kind.is_file() {
                found.push(child);
            }
        }
    }
    found.sort();
    Ok(found)
}

fn omitted(rel: &Path) -> bool {
    OMIT.iter().any(|o| rel == Path::new(o))
}

/// A file as the handout has it.
fn transform(
    rel: &Path,
    bytes: Vec<u8>,
    solved: &[String],
    summary: &mut Summary,
) -> Result<Vec<u8>, String> {
    let is = |ext: &str| rel.extension().is_some_and(|e| e == ext);
    if is("rs") {
        let text =
            String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8", rel.display()))?;
        let stripped = markers::strip(&rel.display().to_string(), &text, solved)?;
        for tag in stripped.sections {
            *summary.sections.entry(tag).or_default() += 1;
        }
        for tag in stripped.kept {
            *summary.kept.entry(tag).or_default() += 1;
        }
        return Ok(stripped.text.into_bytes());
    }
    if rel.file_name().is_some_and(|n| n == "Cargo.toml") {
        let text =
            String::from_utf8(bytes).map_err(|_| format!("{} is not UTF-8", rel.display()))?;
        let dir = rel.parent().unwrap_or(Path::new(""));
        return Ok(drop_omitted_benches(&text, dir).into_bytes());
    }
    Ok(bytes)
}

/// Removes the `[[bench]]` tables of a manifest whose bench file the handout omits.
pub fn drop_omitted_benches(manifest: &str, crate_dir: &Path) -> String {
    let mut out = String::new();
    let mut table: Vec<&str> = Vec::new();
    let flush = |table: &mut Vec<&str>, out: &mut String| {
        let bench_name = table
            .first()
            .filter(|h| h.trim() == "[[bench]]")
            .and_then(|_| {
                table.iter().find_map(|l| {
                    let (key, value) = l.split_once('=')?;
                    (key.trim() == "name").then(|| value.trim().trim_matches('"').to_owned())
                })
            });
        let drop = bench_name
            .is_some_and(|name| omitted(&crate_dir.join("benches").join(format!("{name}.rs"))));
        if !drop {
            for l in table.iter() {
                out.push_str(l);
                out.push('\n');
            }
        }
        table.clear();
    };
    for line in manifest.lines() {
        if line.trim_start().starts_with('[') {
            flush(&mut table, &mut out);
        }
        table.push(line);
    }
    flush(&mut table, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn benches_the_handout_omits_leave_the_manifest() {
        let manifest = "[package]\nname = \"linearizability\"\n\n[[bin]]\nname = \"linearizability\"\n\n[[bench]]\nname = \"corpus\"\nharness = false\n\n[[bench]]\nname = \"other\"\nharness = false\n";
        let out = drop_omitted_benches(manifest, Path::new("linearizability"));
        assert_eq!(
            out,
            "[package]\nname = \"linearizability\"\n\n[[bin]]\nname = \"linearizability\"\n\n[[bench]]\nname = \"other\"\nharness = false\n"
        );
        // Another crate's bench of the same name stays.
        assert_eq!(
            drop_omitted_benches(manifest, Path::new("labrpc")),
            manifest
        );
    }

    #[test]
    fn each_level_has_a_whole_readme() {
        for level in [Level::Guided, Level::Open] {
            let readme = student_readme(level);
            for left in ["{what_to_write}", "{logging}", "<!-- logging -->"] {
                assert!(!readme.contains(left), "{level:?}: {left} is left");
            }
            assert!(readme.contains("## What to write\n\nThis is the *"));
            assert!(readme.contains("cargo run -q -p labtool -- logs out.log"));
        }
        assert!(student_readme(Level::Guided).contains("trace!"));
        assert!(!student_readme(Level::Open).contains("trace!"));
    }

    #[test]
    fn clippy_toml_points_each_raw_call_at_labrt() {
        let config: toml::Table = toml::from_str(CLIPPY_TOML).expect("clippy.toml parses");
        for key in [
            "disallowed-methods",
            "disallowed-types",
            "disallowed-macros",
        ] {
            let entries = config[key].as_array().expect("a list");
            assert!(!entries.is_empty(), "{key} is empty");
            for entry in entries {
                let path = entry["path"].as_str().expect("a path");
                let reason = entry["reason"].as_str().expect("a reason");
                assert!(reason.contains("labrt::"), "{key}: {path}: {reason}");
            }
        }
        let paths = |key: &str| -> Vec<String> {
            (config[key].as_array().unwrap().iter())
                .map(|e| e["path"].as_str().unwrap().to_owned())
                .collect()
        };
        for (key, path) in [
            ("disallowed-methods", "std::thread::spawn"),
            ("disallowed-methods", "std::thread::sleep"),
            ("disallowed-methods", "std::time::Instant::now"),
            ("disallowed-methods", "crossbeam_channel::unbounded"),
            ("disallowed-methods", "rand::random"),
            ("disallowed-types", "std::time::Instant"),
            ("disallowed-types", "parking_lot::Mutex"),
            ("disallowed-macros", "crossbeam_channel::select"),
        ] {
            assert!(paths(key).iter().any(|p| p == path), "{key} lacks {path}");
        }
    }

    #[test]
    fn clippy_rules_stop_at_the_crates_given_whole() {
        let members: Vec<PathBuf> = ["kvraft", "labrt", "raft", "tests"]
            .iter()
            .map(PathBuf::from)
            .collect();
        let have = vec![(PathBuf::from("tests/clippy.toml"), b"# mine\n".to_vec())];
        let files = clippy_files(&members, &have);
        let paths: Vec<&Path> = files.iter().map(|(p, _)| p.as_path()).collect();
        assert_eq!(
            paths,
            [Path::new("clippy.toml"), Path::new("labrt/clippy.toml")]
        );
        assert_eq!(files[0].1, CLIPPY_TOML.as_bytes());
        let given = String::from_utf8_lossy(&files[1].1);
        assert!(given.lines().all(|l| l.starts_with('#')), "{given}");
        assert!(given.contains("`labrt`"), "{given}");
    }

    #[test]
    fn lists_read_as_words() {
        assert_eq!(list("part", "parts", &["3A"]), "part 3A is");
        assert_eq!(
            list("part", "parts", &["3A", "3B", "3C"]),
            "parts 3A, 3B and 3C are"
        );
    }

    #[test]
    fn omitted_paths_match_whole_components() {
        assert!(omitted(Path::new("linearizability/tests")));
        assert!(omitted(Path::new("raft/src/node/tests.rs")));
        assert!(!omitted(Path::new("tests")));
        assert!(!omitted(Path::new("labrpc/tests")));
    }
}
