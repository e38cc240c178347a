//! `labtool viz TEST`: runs one test with its visualizations switched on and says where
//! the pages went. Every test writes the timeline of the test (servers, crashes,
//! partitions, the tester's checks; in Raft tests also leaders and terms) when
//! `RAFTLAB_VIZ=always`; Lab 4 tests also write their history view when
//! `VIS_ENABLE=always`, next to it (`<page>-history.html`).

use std::path::{Path, PathBuf};
use std::process::ExitCode;

use crate::run::{self, Launch, Outcome, Scratch, Stop};
use crate::suite::{self, Profile};

/// The tester's switch and file for the timeline (see `tests/src/viz.rs`).
pub const VIZ_VAR: &str = "RAFTLAB_VIZ";
pub const VIZ_FILE_VAR: &str = "RAFTLAB_VIZ_FILE";

pub fn viz(
    test: &str,
    output: Option<PathBuf>,
    dir: Option<&Path>,
    profile: Profile,
) -> Result<ExitCode, String> {
    let root = suite::workspace(dir)?;
    let suite = suite::build(&root, profile)?;
    let Some(case) = suite.tests.iter().find(|t| t.name == test) else {
        // The usual message, with similar names; a pattern is not enough here.
        let matched = suite.select(&[test.to_owned()])?;
        let names: Vec<&str> = matched.iter().map(|t| t.name.as_str()).collect();
        return Err(format!(
            "viz runs one test, named exactly; `{test}` matches {}",
            names.join(", ")
        ));
    };
    let out_dir = suite::target_dir(&root)?.join("viz");
    std::fs::create_dir_all(&out_dir)
        .map_err(|e| format!("cannot create {}: {e}", out_dir.display()))?;
    let page = output.unwrap_or_else(|| out_dir.join(format!("{test}.html")));
    let page = if page.is_absolute() {
        page
    } else {
        std::env::current_dir()
            .map_err(|e| format!("cannot read the current directory: {e}"))?
            .join(page)
    };
    let history = page.with_file_name(format!(
        "{}-history.html",
        page.file_stem().unwrap_or_default().to_string_lossy()
    ));
    let _ = std::fs::remove_file(&page);
    let _ = std::fs::remove_file(&history);
    let scratch = Scratch::new()?;
    let launch = Launch {
        case,
        run: 1,
        seed: rand::random::<u64>() >> 1,
        log: out_dir.join(format!("{test}.log")),
        scratch: scratch.path(),
        env: vec![
            (VIZ_VAR.into(), "always".into()),
            (VIZ_FILE_VAR.into(), page.display().to_string()),
            ("VIS_ENABLE".into(), "always".into()),
            ("VIS_FILE".into(), history.display().to_string()),
        ],
    };
    println!("running {test} (seed {})...", launch.seed);
    let result = run::run(&launch, &|| None::<Stop>);
    match &result.outcome {
        Outcome::Passed => println!("{test} passed in {:.1}s", result.secs),
        Outcome::Failed(why) => println!("{test} FAILED in {:.1}s: {why}", result.secs),
        Outcome::Interrupted => {}
    }
    println!("test output: {}", result.log.display());
    if !page.is_file() {
        return Err(format!(
            "{test} wrote no timeline at {} (the test's process ended before its teardown; \
             see its output)",
            page.display()
        ));
    }
    println!("timeline: {}", page.display());
    if history.is_file() {
        println!("history: {}", history.display());
    }
    Ok(if result.outcome.passed() {
        ExitCode::SUCCESS
    } else {
        ExitCode::from(1)
    })
}
