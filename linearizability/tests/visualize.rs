//! The HTML view's content: the failure point, linearizations, cuts for large histories,
//! annotations.

use linearizability::models::kv::{KvInput, KvModel, KvOutput};
use linearizability::models::register::{
    RegisterInput as In, RegisterModel, RegisterOutput as Out,
};
use linearizability::visualize::{
    Annotation, ItemKind, VisualizeOptions, history_timeline, to_html,
};
use linearizability::{Operation, Verdict, check_operations_verbose};

fn illegal_register_history() -> Vec<Operation<In, Out>> {
    vec![
        Operation::returned(0, In::Write(1), 0, Out::Written, 10),
        Operation::returned(1, In::Read, 2, Out::Read(Some(1)), 12),
        Operation::returned(1, In::Write(2), 13, Out::Written, 14),
        Operation::pending(2, In::Cas { from: 7, to: 8 }, 15, Out::Unknown),
        Operation::returned(0, In::Read, 16, Out::Read(Some(1)), 17),
    ]
}

#[test]
fn the_view_shows_the_longest_prefix_and_where_it_breaks() {
    let history = illegal_register_history();
    let analysis = check_operations_verbose(&RegisterModel, &history, None).unwrap();
    assert_eq!(analysis.verdict, Verdict::Illegal);
    let timeline = history_timeline(
        &RegisterModel,
        &history,
        &analysis,
        &VisualizeOptions::default(),
    );
    assert_eq!(timeline.status.as_ref().unwrap().text, "not linearizable");
    let section = &timeline.sections[0];
    assert_eq!(
        section
            .tracks
            .iter()
            .map(|t| t.label.as_str())
            .collect::<Vec<_>>(),
        ["client 0", "client 1", "client 2"]
    );
    let failure = section.failure.expect("a failure point");
    let failed = &section.tracks[failure.track].items[failure.item];
    assert_eq!(failed.label, "read() -> 1");
    assert_eq!(
        failed.start, 16,
        "the last read is the one that cannot be linearized"
    );
    let shown = &section.linearizations[section.shown_linearization.unwrap()];
    let labels: Vec<&str> = shown
        .steps
        .iter()
        .map(|s| {
            section.tracks[s.item.track].items[s.item.item]
                .label
                .as_str()
        })
        .collect();
    assert_eq!(labels[..3], ["write(1)", "read() -> 1", "write(2)"]);
    let last = shown.steps[2];
    assert_eq!(
        (
            section.states[last.state_before].as_str(),
            section.states[last.state_after].as_str()
        ),
        ("1", "2")
    );
    let pending = section.tracks[2]
        .items
        .iter()
        .find(|i| i.kind == ItemKind::Pending)
        .expect("the pending cas");
    assert_eq!(pending.end, None);
}

/// `keys` keys with `per_key` sequential appends each, and one get on key 0 that reads
/// a value never written.
fn large_history(keys: usize, per_key: usize) -> Vec<Operation<KvInput, KvOutput>> {
    let mut history = Vec::new();
    let mut time = 0;
    for round in 0..per_key {
        for k in 0..keys {
            let input = KvInput::Append {
                key: format!("k{k}"),
                value: format!("{round},"),
            };
            history.push(Operation::returned(
                k,
                input,
                time,
                KvOutput::Done,
                time + 1,
            ));
            time += 2;
        }
    }
    history.push(Operation::returned(
        0,
        KvInput::Get { key: "k0".into() },
        time,
        KvOutput::Value("wrong".into()),
        time + 1,
    ));
    history
}

#[test]
fn large_histories_are_cut_and_the_page_says_so() {
    let history = large_history(40, 500); // 20,001 operations
    let analysis = check_operations_verbose(&KvModel, &history, None).unwrap();
    assert_eq!(analysis.verdict, Verdict::Illegal);
    let options = VisualizeOptions {
        max_operations_per_partition: 300,
        max_operations: 3_000,
        max_state_chars: 100,
        ..VisualizeOptions::default()
    };
    let timeline = history_timeline(&KvModel, &history, &analysis, &options);
    assert_eq!(timeline.sections.len(), 10);
    assert!(
        timeline.sections[0].title.contains("key \"k0\""),
        "the illegal partition comes first"
    );
    assert!(
        timeline.sections[0].failure.is_some(),
        "the window includes the failure"
    );
    let drawn: usize = timeline
        .sections
        .iter()
        .flat_map(|s| &s.tracks)
        .map(|t| t.items.len())
        .sum();
    assert_eq!(drawn, 3_000);
    assert!(
        timeline
            .notes
            .iter()
            .any(|n| n.contains("30 more partitions (30 linearizable) are not drawn")),
        "{:?}",
        timeline.notes
    );
    assert!(
        timeline.sections[0]
            .notes
            .iter()
            .any(|n| n.contains("showing operations 202–501 of 501")),
        "{:?}",
        timeline.sections[0].notes
    );
    assert!(
        timeline
            .sections
            .iter()
            .flat_map(|s| &s.states)
            .all(|s| s.chars().count() < 150),
        "long states are shortened"
    );
    let html = to_html(&timeline);
    assert!(html.len() < 3_000_000, "the page is {} bytes", html.len());
}

#[test]
fn annotations_are_drawn_on_extra_tracks() {
    let history = illegal_register_history();
    let analysis = check_operations_verbose(&RegisterModel, &history, None).unwrap();
    let mut timeline = history_timeline(
        &RegisterModel,
        &history,
        &analysis,
        &VisualizeOptions::default(),
    );
    timeline.annotations.push(Annotation {
        track: "leader".into(),
        start: 0,
        end: 9,
        label: "server 2 leads term 3".into(),
        details: "elected at 0".into(),
        color: Some("#ffe0b2".into()),
    });
    timeline.annotations.push(Annotation {
        track: "client 1".into(),
        start: 3,
        end: 4,
        label: "retry".into(),
        details: String::new(),
        color: None,
    });
    let html = to_html(&timeline);
    assert!(html.contains(r#""label":"leader","annotation":true"#));
    assert!(html.contains("server 2 leads term 3"));
    assert!(html.contains(r##""color":"#ffe0b2""##));
    assert!(html.contains(r#""label":"retry""#));
}
