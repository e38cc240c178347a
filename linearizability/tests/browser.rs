//! Loads the HTML view of a non-linearizable history in headless Chromium and checks
//! that the script drew the operations, the linearization points and the failure point.
//! Skipped (with a message) when Chromium is not installed; a Chromium that is installed
//! but fails is a test failure.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use linearizability::models::register::RegisterModel;
use linearizability::parse::etcd::read_etcd_history;
use linearizability::visualize::{
    Annotation, TimeUnit, VisualizeOptions, history_timeline, write_html,
};
use linearizability::{Verdict, check_operations_verbose};

const CHROMIUM: &str = "/usr/bin/chromium";

fn scratch_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!(
        "linearizability-browser-{}-{name}",
        std::process::id()
    ));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The DOM after the page's scripts ran.
fn dump_dom(page: &Path) -> String {
    let profile = scratch_dir("profile");
    let stdout_file = profile.join("dom.html");
    let mut child = Command::new(CHROMIUM)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg("--dump-dom")
        .arg(format!("file://{}", page.display()))
        .stdout(std::fs::File::create(&stdout_file).unwrap())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{CHROMIUM} exists but cannot be started: {e}"));
    let deadline = Instant::now() + Duration::from_secs(90);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("chromium did not finish within 90 s");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    use std::io::Read;
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut stderr)
        .unwrap();
    let dom = std::fs::read_to_string(&stdout_file).unwrap();
    assert!(
        status.success() && !dom.is_empty(),
        "chromium failed ({status}):\n{stderr}"
    );
    dom
}

#[test]
fn the_view_renders_operations_and_the_failure_point_in_chromium() {
    if !Path::new(CHROMIUM).exists() {
        println!("skipped: no chromium at {CHROMIUM}");
        return;
    }
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/histories");
    assert!(
        corpus.is_dir(),
        "the histories corpus is missing: expected {}",
        corpus.display()
    );
    let history = read_etcd_history(&corpus.join("etcd/etcd_000.log")).unwrap();
    let analysis = check_operations_verbose(&RegisterModel, &history, None).unwrap();
    assert_eq!(analysis.verdict, Verdict::Illegal);
    let options = VisualizeOptions {
        title: "etcd_000".into(),
        time_unit: TimeUnit::Line,
        ..VisualizeOptions::default()
    };
    let mut timeline = history_timeline(&RegisterModel, &history, &analysis, &options);
    timeline.annotations.push(Annotation {
        track: "nemesis".into(),
        start: 10,
        end: 40,
        label: "partition".into(),
        details: String::new(),
        color: None,
    });
    let page = scratch_dir("page").join("etcd_000.html");
    write_html(&page, &timeline).unwrap();

    let dom = dump_dom(&page);
    assert!(
        dom.contains(r#"data-rendered="true""#),
        "the script did not finish:\n{dom}"
    );
    let count = |needle: &str| dom.matches(needle).count();
    // Every operation is drawn, as an element with its id.
    assert_eq!(
        count(r#"id="s0-t"#),
        history.len() + 1,
        "operations plus the annotation"
    );
    assert_eq!(count(r#"class="item annotation""#), 1);
    // One linearization point (and its number) per operation of the longest prefix.
    let longest = analysis.partitions[0].longest.len();
    assert!(longest > 0);
    assert_eq!(count(r#"class="lp""#), longest);
    // The failure point: highlighted, with its marker.
    let failure = timeline.sections[0].failure.expect("a failure point");
    let failure_id = format!("s0-t{}-i{}", failure.track, failure.item);
    let failure_tag = dom
        .split('<')
        .find(|tag| tag.contains(&format!(r#"id="{failure_id}""#)))
        .expect("the failing operation is in the DOM");
    assert!(
        failure_tag.contains("failure"),
        "not highlighted: <{failure_tag}"
    );
    assert_eq!(count(r#"class="break-marker""#), 1);
    assert!(dom.contains("not linearizable"));
}
