//! The HTML timeline of a test, drawn with the `linearizability` crate's page (the
//! same offline, self-contained view as the history checker's): a row per server showing
//! when it was up, its term, whether it led and whom it could reach; in tests that change
//! the membership (part 3E), under each server a row for its role in its own
//! configuration (voter, learner, outside), with the changes listed in the notes; a row
//! for the network's settings; a row for the tester's checks, the failed ones in red.
//! Under a server's segments, the events its code logged for the timeline
//! ([`crate::trace`]), each drawn until that server's next one.
//!
//! Written when a test fails, and for every test with `RAFTLAB_VIZ=always`
//! (`RAFTLAB_VIZ=never`: not at all); to `RAFTLAB_VIZ_FILE` if set, else to a file in
//! the temporary directory named after the test and its seed.

use std::path::PathBuf;

use linearizability::visualize::{
    Axis, Item, ItemKind, Section, Status, TimeUnit, Timeline, Tone, Track,
};

use crate::record::{Event, Role};

pub const VIZ_VAR: &str = "RAFTLAB_VIZ";
pub const VIZ_FILE_VAR: &str = "RAFTLAB_VIZ_FILE";

/// The tester's checks drawn at most (the latest are kept: a failure is at the end).
pub const MAX_CHECKS: usize = 2000;

/// Events logged by the code under test drawn at most (the latest are kept).
pub const MAX_LOGGED: usize = 2000;

/// Membership changes listed in the notes at most (the first are kept).
pub const MAX_LISTED_CHANGES: usize = 40;

/// Changes closer together than this are drawn as one (a partition is made by several
/// connects and disconnects in a row).
const MERGE_NS: u64 = 1_000_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Mode {
    Never,
    OnFailure,
    Always,
}

/// What `RAFTLAB_VIZ` asks for.
pub fn mode() -> Mode {
    match std::env::var(VIZ_VAR).as_deref() {
        Ok("never") | Ok("0") | Ok("off") => Mode::Never,
        Ok("always") | Ok("1") => Mode::Always,
        _ => Mode::OnFailure,
    }
}

/// Where the page of test `test` with `seed` goes.
pub fn path(test: &str, seed: u64) -> PathBuf {
    match std::env::var_os(VIZ_FILE_VAR) {
        Some(p) => PathBuf::from(p),
        None => std::env::temp_dir().join(format!("raftlab-{test}-{seed}.html")),
    }
}

/// What a test's page says about the test.
pub struct About<'a> {
    pub title: &'a str,
    pub servers: usize,
    pub seed: u64,
    /// `None` if it passed.
    pub failure: Option<&'a str>,
    /// When the page was made (ns since the test began): open intervals end here.
    pub end: u64,
}

/// One server's look at an instant.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Look {
    up: bool,
    term: u64,
    leader: bool,
    /// Servers it can talk to both ways (itself excluded).
    reaches: Vec<usize>,
}

/// Builds the timeline from the recorded events.
pub fn timeline(about: &About, events: &[(u64, Event)]) -> Timeline {
    let n = about.servers;
    let mut looks: Vec<Look> = vec![
        Look {
            up: false,
            term: 0,
            leader: false,
            reaches: Vec::new()
        };
        n
    ];
    let mut links = vec![vec![false; n]; n];
    // Per server: the look being drawn and since when.
    let mut open: Vec<Option<(u64, Look)>> = vec![None; n];
    let mut servers: Vec<Track> = (0..n)
        .map(|i| Track {
            label: format!("server {i}"),
            items: Vec::new(),
        })
        .collect();
    let mut network = Track {
        label: "network".into(),
        items: Vec::new(),
    };
    let mut net_open: Option<(u64, bool, bool)> = None;
    let mut checks: Vec<Item> = Vec::new();
    // Per server: its roles, each from when it began (changes only).
    let mut roles: Vec<Vec<(u64, Role)>> = vec![Vec::new(); n];
    // What the code under test logged for the timeline, in time order.
    let mut logged: Vec<(u64, &Event)> = Vec::new();

    for (at, event) in events {
        let at = *at;
        match event {
            Event::Started(i) if *i < n => {
                looks[*i] = Look {
                    up: true,
                    term: 0,
                    leader: false,
                    reaches: Vec::new(),
                };
            }
            Event::Crashed(i) if *i < n => {
                looks[*i].up = false;
                looks[*i].leader = false;
            }
            Event::Links(l) if l.len() == n => links = l.clone(),
            Event::State {
                server,
                term,
                leader,
            } if *server < n => {
                looks[*server].term = *term;
                looks[*server].leader = *leader;
            }
            Event::Membership { server, role }
                if *server < n && roles[*server].last().map(|&(_, r)| r) != Some(*role) =>
            {
                roles[*server].push((at, *role));
            }
            Event::Network {
                reliable,
                long_reordering,
            } => {
                if let Some((start, r, lr)) = net_open.take() {
                    push_network(&mut network, start, at.saturating_sub(1).max(start), r, lr);
                }
                net_open = Some((at, *reliable, *long_reordering));
            }
            Event::Check {
                name,
                start,
                ok,
                detail,
            } => checks.push(Item {
                label: name.clone(),
                start: *start,
                end: Some(at.max(*start)),
                kind: ItemKind::Annotation,
                details: vec![("result".into(), detail.clone())],
                linearization: None,
                color: Some(if *ok { "#d7ccc8" } else { "#e57373" }.into()),
            }),
            Event::Failure(message) => checks.push(Item {
                label: "FAILED".into(),
                start: at,
                end: Some(at),
                kind: ItemKind::Annotation,
                details: vec![("failure".into(), message.clone())],
                linearization: None,
                color: Some("#d32f2f".into()),
            }),
            Event::Logged { .. } => logged.push((at, event)),
            _ => {}
        }
        for i in 0..n {
            looks[i].reaches = (0..n)
                .filter(|&j| j != i && looks[j].up && links[i][j] && links[j][i])
                .collect();
            let now = looks[i].clone();
            match &mut open[i] {
                Some((_, look)) if *look == now => {}
                Some((since, look)) if at < *since + MERGE_NS => *look = now,
                slot => {
                    if let Some((since, look)) = slot.take() {
                        // Ends just before the next begins, so both sit in one lane.
                        let end = at.saturating_sub(1).max(since);
                        servers[i].items.push(server_item(since, end, &look, n));
                    }
                    *slot = Some((at, now));
                }
            }
        }
    }
    for (i, slot) in open.into_iter().enumerate() {
        if let Some((since, look)) = slot {
            servers[i]
                .items
                .push(server_item(since, about.end.max(since), &look, n));
        }
    }
    if let Some((start, r, lr)) = net_open {
        push_network(&mut network, start, about.end.max(start), r, lr);
    }

    let mut notes = vec![
        format!(
            "seed {0}: RAFTLAB_SEED={0} replays the network's faults and the tester's choices",
            about.seed
        ),
        "servers: green leads (T = term); blue reaches every server; yellow some \
         (\"with 0,2\"); pink none (cut off); grey is down. Hover for details."
            .to_owned(),
    ];
    if checks.len() > MAX_CHECKS {
        let cut = checks.len() - MAX_CHECKS;
        checks.drain(..cut);
        notes.push(format!(
            "the first {cut} of the tester's checks are not drawn (the latest {MAX_CHECKS} are)"
        ));
    }
    let mut others = Track {
        label: "events naming no server".into(),
        items: Vec::new(),
    };
    notes.extend(draw_logged(&logged, &mut servers, &mut others, about.end));
    if let Some(failure) = about.failure {
        notes.push(format!(
            "failed: {}",
            failure.lines().next().unwrap_or_default()
        ));
    }
    // Tests that keep every server a voter (parts 3A–3D) get no membership rows.
    let membership_changes = roles.iter().flatten().any(|&(_, r)| r != Role::Voter);
    let mut tracks = Vec::new();
    if membership_changes {
        notes.insert(
            2,
            "membership (the row under each server: its role in its own configuration in \
             effect, kept while it is down): indigo voter; teal voter in the new set only of \
             a joint configuration (joining); orange voter in the old set only (leaving); \
             lilac learner; white outside the configuration."
                .to_owned(),
        );
        notes.insert(3, membership_note(&roles));
        for (i, track) in servers.into_iter().enumerate() {
            tracks.push(track);
            tracks.push(membership_track(i, &roles[i], about.end));
        }
    } else {
        tracks = servers;
    }
    tracks.push(network);
    if !others.items.is_empty() {
        tracks.push(others);
    }
    tracks.push(Track {
        label: "tester".into(),
        items: checks,
    });
    Timeline {
        title: about.title.to_owned(),
        status: Some(match about.failure {
            None => Status {
                text: "passed".into(),
                tone: Tone::Good,
            },
            Some(_) => Status {
                text: "FAILED".into(),
                tone: Tone::Bad,
            },
        }),
        notes,
        sections: vec![Section {
            title: format!("{} servers", about.servers),
            tracks,
            ..Section::default()
        }],
        annotations: Vec::new(),
        time_unit: TimeUnit::Nanoseconds,
        axis: Axis::Proportional,
    }
}

fn server_item(start: u64, end: u64, look: &Look, n: usize) -> Item {
    let reach = if look.reaches.len() + 1 == n {
        "connected to all".to_owned()
    } else if look.reaches.is_empty() {
        "cut off".to_owned()
    } else {
        let with: Vec<String> = look.reaches.iter().map(|j| j.to_string()).collect();
        format!("with {}", with.join(","))
    };
    let (label, color) = if !look.up {
        ("down".to_owned(), "#9e9e9e")
    } else if look.leader {
        (format!("leader T{} · {reach}", look.term), "#66bb6a")
    } else if look.reaches.len() + 1 == n {
        (format!("T{}", look.term), "#e3f2fd")
    } else if look.reaches.is_empty() {
        (format!("T{} · cut off", look.term), "#f8d7da")
    } else {
        (format!("T{} · {reach}", look.term), "#fff3cd")
    };
    let mut details = vec![(
        "state".into(),
        if look.up { "up" } else { "crashed" }.into(),
    )];
    if look.up {
        details.push(("term".into(), look.term.to_string()));
        details.push((
            "role".into(),
            if look.leader { "leader" } else { "not leader" }.into(),
        ));
        details.push(("links".into(), reach));
    }
    Item {
        label,
        start,
        end: Some(end),
        kind: ItemKind::Annotation,
        details,
        linearization: None,
        color: Some(color.into()),
    }
}

/// Server `i`'s row of roles, each until the next begins.
fn membership_track(i: usize, roles: &[(u64, Role)], end: u64) -> Track {
    let items = roles
        .iter()
        .enumerate()
        .map(|(k, &(start, role))| {
            let until = roles
                .get(k + 1)
                .map_or(end, |&(next, _)| next.saturating_sub(1))
                .max(start);
            let color = match role {
                Role::Voter => "#c5cae9",
                Role::NewVoter => "#b2dfdb",
                Role::OldVoter => "#ffccbc",
                Role::Learner => "#e1bee7",
                Role::Outside => "#ffffff",
            };
            Item {
                label: role.describe().to_owned(),
                start,
                end: Some(until),
                kind: ItemKind::Annotation,
                details: vec![
                    ("server".into(), i.to_string()),
                    ("membership".into(), role.describe().to_owned()),
                ],
                linearization: None,
                color: Some(color.into()),
            }
        })
        .collect();
    Track {
        label: format!("server {i} membership"),
        items,
    }
}

/// The membership changes in time order, as one line: each server's first role if it is
/// not "voter", then every change.
fn membership_note(roles: &[Vec<(u64, Role)>]) -> String {
    let mut changes: Vec<(u64, usize, Role)> = roles
        .iter()
        .enumerate()
        .flat_map(|(i, rs)| {
            rs.iter()
                .enumerate()
                .filter(|&(k, &(_, r))| k > 0 || r != Role::Voter)
                .map(move |(_, &(at, r))| (at, i, r))
        })
        .collect();
    changes.sort_unstable_by_key(|&(at, i, _)| (at, i));
    let total = changes.len();
    let mut listed: Vec<String> = changes
        .into_iter()
        .take(MAX_LISTED_CHANGES)
        .map(|(at, i, r)| format!("{:.3} s server {i} {}", at as f64 / 1e9, r.describe()))
        .collect();
    if total > MAX_LISTED_CHANGES {
        listed.push(format!("… and {} more", total - MAX_LISTED_CHANGES));
    }
    format!("membership changes: {}", listed.join("; "))
}

/// Draws the events the code under test logged ([`Event::Logged`], in time order) on the
/// rows of the servers they name, or on `others`, each until the next on its row (the
/// last until `end`); returns the notes that explain them.
fn draw_logged(
    logged: &[(u64, &Event)],
    servers: &mut [Track],
    others: &mut Track,
    end: u64,
) -> Vec<String> {
    let mut notes = Vec::new();
    if logged.is_empty() {
        return notes;
    }
    let cut = logged.len().saturating_sub(MAX_LOGGED);
    let shared: Vec<usize> = logged
        .iter()
        .filter_map(|(_, e)| match e {
            Event::Logged { tests, .. } if *tests > 1 => Some(*tests),
            _ => None,
        })
        .collect();
    notes.push(
        "events your code logged (log::info!(target: \"timeline\", \"S<n> …\")) sit under \
         that server's segments, each drawn from when it was logged until the server's next \
         one; purple info, orange warn, red error. Hover for the text."
            .to_owned(),
    );
    if !shared.is_empty() {
        notes.push(format!(
            "{} of the {} events (marked ?) were logged while up to {} tests ran in this \
             process: the logger cannot tell whose thread logged them, so they may be another \
             test's. Run this test alone (cargo test -- <test> --exact, or \
             RUST_TEST_THREADS=1) to be sure.",
            shared.len(),
            logged.len(),
            shared.iter().max().copied().unwrap_or(0)
        ));
    }
    if cut > 0 {
        notes.push(format!(
            "the first {cut} logged events are not drawn (the latest {MAX_LOGGED} are)"
        ));
    }
    // Per row (a server's, or `others` last): its events, to end each at the next.
    let mut rows: Vec<Vec<Item>> = vec![Vec::new(); servers.len() + 1];
    for &(at, event) in &logged[cut..] {
        let Event::Logged {
            server,
            term,
            text,
            level,
            tests,
        } = event
        else {
            continue;
        };
        let row = server.filter(|&s| s < servers.len());
        let mut details = vec![("logged at".to_owned(), format!("{:.3} s", at as f64 / 1e9))];
        let named = match (row, server) {
            (Some(s), _) => s.to_string(),
            (None, Some(s)) => format!("S{s} (the test has no such server)"),
            (None, None) => "none named (begin the text with S<n>)".to_owned(),
        };
        details.push(("server".into(), named));
        if let Some(t) = term {
            details.push(("term".into(), t.to_string()));
        }
        details.push(("level".into(), level.as_str().to_lowercase()));
        details.push(("text".into(), text.clone()));
        if *tests > 1 {
            details.push((
                "which test".into(),
                format!(
                    "{tests} tests were running in this process: it may be another's \
                     (run this test alone to be sure)"
                ),
            ));
        }
        let color = match level {
            log::Level::Error => "#ef9a9a",
            log::Level::Warn => "#ffcc80",
            _ => "#ce93d8",
        };
        let label = if *tests > 1 {
            format!("? {text}")
        } else {
            text.clone()
        };
        rows[row.unwrap_or(servers.len())].push(Item {
            label,
            start: at,
            end: Some(at),
            kind: ItemKind::Annotation,
            details,
            linearization: None,
            color: Some(color.into()),
        });
    }
    for (r, mut items) in rows.into_iter().enumerate() {
        // Each ends just before the next begins, so both sit in one lane.
        let ends: Vec<u64> = items
            .iter()
            .skip(1)
            .map(|next| next.start.saturating_sub(1))
            .chain([end])
            .collect();
        for (item, until) in items.iter_mut().zip(ends) {
            item.end = Some(until.max(item.start));
        }
        match servers.get_mut(r) {
            Some(track) => track.items.extend(items),
            None => others.items.extend(items),
        }
    }
    notes
}

fn push_network(track: &mut Track, start: u64, end: u64, reliable: bool, long_reordering: bool) {
    let mut label = if reliable { "reliable" } else { "unreliable" }.to_owned();
    if long_reordering {
        label.push_str(" · long reordering");
    }
    track.items.push(Item {
        label: label.clone(),
        start,
        end: Some(end),
        kind: ItemKind::Annotation,
        details: vec![("network".into(), label)],
        linearization: None,
        color: Some(if reliable { "#eceff1" } else { "#ffe0b2" }.into()),
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    const MS: u64 = 1_000_000;

    fn all(n: usize) -> Vec<Vec<bool>> {
        vec![vec![true; n]; n]
    }

    #[test]
    fn servers_show_crashes_partitions_and_leaders() {
        let mut cut = all(3);
        cut[2] = vec![false; 3];
        for row in &mut cut {
            row[2] = false;
        }
        let events = vec![
            (
                0,
                Event::Network {
                    reliable: true,
                    long_reordering: false,
                },
            ),
            (0, Event::Started(0)),
            (0, Event::Started(1)),
            (0, Event::Started(2)),
            (10, Event::Links(all(3))),
            (
                400 * MS,
                Event::State {
                    server: 1,
                    term: 1,
                    leader: true,
                },
            ),
            (
                401 * MS,
                Event::State {
                    server: 0,
                    term: 1,
                    leader: false,
                },
            ),
            (
                402 * MS,
                Event::State {
                    server: 2,
                    term: 1,
                    leader: false,
                },
            ),
            (1000 * MS, Event::Links(cut)),
            (2000 * MS, Event::Crashed(0)),
            (
                2100 * MS,
                Event::Check {
                    name: "one(7)".into(),
                    start: 1900 * MS,
                    ok: false,
                    detail: "failed".into(),
                },
            ),
            (
                2100 * MS,
                Event::Failure("one(7) failed to reach agreement".into()),
            ),
        ];
        let about = About {
            title: "Test (3B): x",
            servers: 3,
            seed: 9,
            failure: Some("one(7) failed to reach agreement"),
            end: 2200 * MS,
        };
        let t = timeline(&about, &events);
        let tracks = &t.sections[0].tracks;
        let labels = |i: usize| -> Vec<&str> {
            tracks[i].items.iter().map(|it| it.label.as_str()).collect()
        };
        assert_eq!(labels(0), ["T0", "T1", "T1 · with 1", "down"]);
        assert_eq!(
            labels(1),
            [
                "T0",
                "leader T1 · connected to all",
                "leader T1 · with 0",
                "leader T1 · cut off"
            ]
        );
        assert_eq!(labels(2), ["T0", "T1", "T1 · cut off"]);
        assert_eq!(labels(3), ["reliable"]);
        assert_eq!(labels(4), ["one(7)", "FAILED"]);
        assert_eq!(tracks[0].items[3].end, Some(2200 * MS));
        assert_eq!(t.status.as_ref().unwrap().tone, Tone::Bad);
        assert!(t.notes.iter().any(|n| n.contains("RAFTLAB_SEED=9")));
    }

    #[test]
    fn changes_within_a_millisecond_are_drawn_as_one() {
        let mut half = all(2);
        half[0][1] = false;
        let events = vec![
            (0, Event::Started(0)),
            (0, Event::Started(1)),
            (5 * MS, Event::Links(half)),
            (5 * MS + 10, Event::Links(all(2))),
        ];
        let about = About {
            title: "t",
            servers: 2,
            seed: 1,
            failure: None,
            end: 9 * MS,
        };
        let t = timeline(&about, &events);
        let labels: Vec<&str> = t.sections[0].tracks[0]
            .items
            .iter()
            .map(|it| it.label.as_str())
            .collect();
        assert_eq!(labels, ["T0 · cut off", "T0"]);
    }

    #[test]
    fn membership_rows_appear_only_when_a_role_changes() {
        let member = |server, role| Event::Membership { server, role };
        let mut events = vec![
            (0, Event::Started(0)),
            (0, Event::Started(1)),
            (0, Event::Started(2)),
            (10, Event::Links(all(3))),
            (5 * MS, member(0, Role::Voter)),
            (5 * MS, member(1, Role::Voter)),
        ];
        let about = About {
            title: "Test (3E): x",
            servers: 3,
            seed: 4,
            failure: None,
            end: 900 * MS,
        };
        // Voters throughout (parts 3A–3D): the page is as it was.
        let t = timeline(&about, &events);
        let labels: Vec<&str> = t.sections[0]
            .tracks
            .iter()
            .map(|t| t.label.as_str())
            .collect();
        assert_eq!(
            labels,
            ["server 0", "server 1", "server 2", "network", "tester"]
        );
        assert!(!t.notes.iter().any(|n| n.contains("membership")));

        events.extend([
            (100 * MS, member(2, Role::Outside)),
            (200 * MS, member(2, Role::Learner)),
            (300 * MS, member(0, Role::OldVoter)),
            (300 * MS, member(2, Role::NewVoter)),
            (400 * MS, member(0, Role::Outside)),
            (400 * MS, member(2, Role::Voter)),
            (500 * MS, Event::Crashed(0)),
            (800 * MS, Event::Started(0)),
            (805 * MS, member(0, Role::Outside)),
        ]);
        let t = timeline(&about, &events);
        let tracks = &t.sections[0].tracks;
        let labels: Vec<&str> = tracks.iter().map(|t| t.label.as_str()).collect();
        assert_eq!(
            labels,
            [
                "server 0",
                "server 0 membership",
                "server 1",
                "server 1 membership",
                "server 2",
                "server 2 membership",
                "network",
                "tester"
            ]
        );
        let roles = |track: usize| -> Vec<(&str, u64, Option<u64>)> {
            tracks[track]
                .items
                .iter()
                .map(|it| (it.label.as_str(), it.start, it.end))
                .collect()
        };
        // A restart with the same role is no change.
        assert_eq!(
            roles(1),
            [
                ("voter", 5 * MS, Some(300 * MS - 1)),
                ("voter (joint: old set)", 300 * MS, Some(400 * MS - 1)),
                ("outside", 400 * MS, Some(900 * MS)),
            ]
        );
        assert_eq!(roles(3), [("voter", 5 * MS, Some(900 * MS))]);
        assert_eq!(
            roles(5).iter().map(|r| r.0).collect::<Vec<_>>(),
            ["outside", "learner", "voter (joint: new set)", "voter"]
        );
        let listed = t
            .notes
            .iter()
            .find(|n| n.starts_with("membership changes: "))
            .expect("the changes are listed");
        assert_eq!(
            listed,
            "membership changes: 0.100 s server 2 outside; 0.200 s server 2 learner; \
             0.300 s server 0 voter (joint: old set); 0.300 s server 2 voter (joint: new set); \
             0.400 s server 0 outside; 0.400 s server 2 voter"
        );

        let html = linearizability::visualize::to_html(&t);
        for text in [
            "server 2 membership",
            "voter (joint: new set)",
            "learner",
            "membership changes: ",
        ] {
            assert!(html.contains(text), "the page lacks {text:?}");
        }
    }

    #[test]
    fn only_the_latest_checks_are_kept() {
        let events: Vec<(u64, Event)> = (0..MAX_CHECKS as u64 + 5)
            .map(|k| {
                (
                    k,
                    Event::Check {
                        name: format!("c{k}"),
                        start: k,
                        ok: true,
                        detail: String::new(),
                    },
                )
            })
            .collect();
        let about = About {
            title: "t",
            servers: 1,
            seed: 1,
            failure: None,
            end: 1,
        };
        let t = timeline(&about, &events);
        let tester = t.sections[0].tracks.last().unwrap();
        assert_eq!(tester.items.len(), MAX_CHECKS);
        assert_eq!(tester.items[0].label, "c5");
        assert!(
            t.notes
                .iter()
                .any(|n| n.contains("the first 5 of the tester's checks"))
        );
    }
}
