//! `labtool handout OUT`: the student workspace, generated from the reference.
//!
//! Every member crate is copied; in Rust files the solution markers are replaced by
//! their skeletons ([`crate::markers`]). The tests and the tester are copied unchanged.
//! Left out: the checker's own tests, corpus and benchmark, the reference's own
//! unit tests of its protocol, labtool's tests (they grade the reference), and the
//! design notes, which describe the reference's solution; the README is the students'.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::markers;
use crate::suite;

/// Paths (relative to the workspace) that the handout leaves out.
pub const OMIT: [&str; 5] = [
    // The reference's unit tests of its own rules (its `mod tests;` is a solution section).
    "raft/src/node/tests.rs",
    // The checker's own tests, their corpus of histories and its benchmark: they check
    // the checker, which students use as it is, not their code.
    "linearizability/tests",
    "linearizability/histories",
    "linearizability/benches/corpus.rs",
    // labtool's tests check it against the reference solution.
    "labtool/tests",
];

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

const STUDENT_README: &str = include_str!("handout_readme.md");

/// What was generated.
#[derive(Debug, Default)]
pub struct Summary {
    pub files: usize,
    /// Solution sections replaced, by part.
    pub sections: BTreeMap<String, usize>,
    /// Solution sections kept (`--solved`), by part.
    pub kept: BTreeMap<String, usize>,
}

pub fn handout(out: &Path, dir: Option<&Path>, solved: &[String]) -> Result<ExitCode, String> {
    let root = suite::workspace(dir)?;
    let summary = generate(&root, out, solved)?;
    let parts: Vec<String> = summary
        .sections
        .iter()
        .map(|(part, n)| format!("{part}: {n}"))
        .collect();
    println!(
        "wrote the handout to {}: {} files, {} solution sections replaced by skeletons ({})",
        out.display(),
        summary.files,
        summary.sections.values().sum::<usize>(),
        parts.join(", ")
    );
    if !summary.kept.is_empty() {
        let kept: Vec<&str> = summary.kept.keys().map(String::as_str).collect();
        println!("kept the solutions of {}", kept.join(", "));
    }
    println!("try it: cd {} && cargo test -- 3A", out.display());
    Ok(ExitCode::SUCCESS)
}

/// Writes the handout of the workspace at `root` into `out`, keeping the solutions of
/// the parts in `solved` (e.g. 3A-3D, to hand out part 3E on a working Raft).
pub fn generate(root: &Path, out: &Path, solved: &[String]) -> Result<Summary, String> {
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
        STUDENT_README.as_bytes().to_vec(),
    ));
    for member in &members {
        for rel in walk(root, member)? {
            let bytes = read(&root.join(&rel))?;
            let bytes = transform(&rel, bytes, &solved, &mut summary)?;
            files.push((rel, bytes));
        }
    }
    if summary.sections.is_empty() {
        return Err(format!(
            "{} has no solution markers: is it the reference workspace?",
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
    fn omitted_paths_match_whole_components() {
        assert!(omitted(Path::new("linearizability/tests")));
        assert!(omitted(Path::new("raft/src/node/tests.rs")));
        assert!(!omitted(Path::new("tests")));
        assert!(!omitted(Path::new("labrpc/tests")));
    }
}
