//! Loads the HTML view of a non-linearizable history in headless Chromium and checks
//! that the script drew the operations, the linearization points and the failure point.
//! Skipped (with a message) when Chromium is not installed; a Chromium that is installed
//! but fails is a test failure.

use std::path::PathBuf;

use linearizability::models::register::RegisterModel;
use linearizability::parse::etcd::read_etcd_history;
use linearizability::visualize::{
    Annotation, TimeUnit, VisualizeOptions, history_timeline, write_html,
};
use linearizability::{Verdict, check_operations_verbose};

#[path = "support/chromium.rs"]
mod chromium;

/// A fresh folder, removed (with everything in it) when dropped.
fn scratch_dir(name: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("linearizability-browser-{name}-"))
        .tempdir()
        .unwrap()
}

#[test]
fn the_view_renders_operations_and_the_failure_point_in_chromium() {
    if !chromium::installed() {
        return;
    }
    let corpus = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("histories");
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
    let page_dir = scratch_dir("page");
    let page = page_dir.path().join("etcd_000.html");
    write_html(&page, &timeline).unwrap();

    let profile = scratch_dir("profile");
    let dom = chromium::dump_dom(&page, profile.path());
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
