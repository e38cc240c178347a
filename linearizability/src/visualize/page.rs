//! Renders a [`Timeline`] as one self-contained HTML page: the layout (positions, lanes)
//! is computed here and embedded as JSON; one inline script draws it. No network access
//! is needed to open the page.

use std::collections::HashMap;

use serde::Serialize;

use super::timeline::{
    Annotation, Axis, Item, ItemKind, Section, Status, TimeUnit, Timeline, Tone, Track,
};

const TEMPLATE: &str = include_str!("assets/page.html");
const STYLE: &str = include_str!("assets/timeline.css");
const SCRIPT: &str = include_str!("assets/timeline.js");

/// The page for `timeline`.
pub fn to_html(timeline: &Timeline) -> String {
    let data = page_data(timeline);
    let json = serde_json::to_string(&data).expect("page data serializes");
    // `<` only occurs inside JSON strings, where `\u003c` means the same: this keeps
    // `</script>` in a label from ending the data block.
    let json = json.replace('<', "\\u003c");
    TEMPLATE
        .replace("{{title}}", &escape_html(&timeline.title))
        .replace("/*{{style}}*/", STYLE)
        .replace("{{data}}", &json)
        .replace("/*{{script}}*/", SCRIPT)
}

fn escape_html(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Writes a time for a tooltip.
pub fn format_time(time: u64, unit: TimeUnit) -> String {
    match unit {
        TimeUnit::Line => format!("line {time}"),
        TimeUnit::Plain => time.to_string(),
        TimeUnit::Nanoseconds => {
            let t = time as f64;
            if time < 1_000 {
                format!("{time} ns")
            } else if time < 1_000_000 {
                format!("{:.3} µs", t / 1e3)
            } else if time < 1_000_000_000 {
                format!("{:.3} ms", t / 1e6)
            } else {
                format!("{:.6} s", t / 1e9)
            }
        }
    }
}

#[derive(Serialize)]
struct PageData<'a> {
    title: &'a str,
    status: Option<PageStatus>,
    notes: &'a [String],
    axis: &'static str,
    sections: Vec<PageSection>,
}

#[derive(Serialize)]
struct PageStatus {
    text: String,
    tone: &'static str,
}

#[derive(Serialize)]
struct PageSection {
    id: String,
    title: String,
    status: Option<PageStatus>,
    notes: Vec<String>,
    /// Width in axis units, and pixels per unit.
    width: f64,
    unit: f64,
    tracks: Vec<PageTrack>,
    states: Vec<String>,
    lins: Vec<Vec<PageStep>>,
    shown: Option<usize>,
    failure: Option<String>,
}

#[derive(Serialize)]
struct PageTrack {
    label: String,
    annotation: bool,
    lanes: usize,
    items: Vec<PageItem>,
}

#[derive(Serialize)]
struct PageItem {
    id: String,
    label: String,
    x0: f64,
    x1: f64,
    open: bool,
    lane: usize,
    kind: &'static str,
    details: Vec<(String, String)>,
    lin: Option<usize>,
    color: Option<String>,
}

#[derive(Serialize)]
struct PageStep {
    item: String,
    before: usize,
    after: usize,
}

fn status(status: &Option<Status>) -> Option<PageStatus> {
    status.as_ref().map(|s| PageStatus {
        text: s.text.clone(),
        tone: match s.tone {
            Tone::Good => "good",
            Tone::Bad => "bad",
            Tone::Neutral => "neutral",
        },
    })
}

fn page_data(timeline: &Timeline) -> PageData<'_> {
    let annotations_only;
    let sections: &[Section] = if timeline.sections.is_empty() && !timeline.annotations.is_empty() {
        annotations_only = [Section {
            title: "annotations".to_owned(),
            ..Section::default()
        }];
        &annotations_only
    } else {
        &timeline.sections
    };
    PageData {
        title: &timeline.title,
        status: status(&timeline.status),
        notes: &timeline.notes,
        axis: match timeline.axis {
            Axis::EventOrder => {
                "Time runs left to right; distinct times are evenly spaced (event order, not to scale)."
            }
            Axis::Proportional => "Time runs left to right, to scale.",
        },
        sections: sections
            .iter()
            .enumerate()
            .map(|(index, section)| page_section(timeline, index, section))
            .collect(),
    }
}

/// The section's tracks with the annotations that overlap its time span added.
fn tracks_with_annotations(
    section: &Section,
    annotations: &[Annotation],
) -> (Vec<Track>, Vec<bool>) {
    let mut tracks = section.tracks.clone();
    let mut is_annotation = vec![false; tracks.len()];
    let times = section
        .tracks
        .iter()
        .flat_map(|t| &t.items)
        .flat_map(|i| [Some(i.start), i.end])
        .flatten();
    let span = times.fold(None, |span: Option<(u64, u64)>, t| match span {
        None => Some((t, t)),
        Some((lo, hi)) => Some((lo.min(t), hi.max(t))),
    });
    for annotation in annotations {
        let (start, end) = (
            annotation.start.min(annotation.end),
            annotation.start.max(annotation.end),
        );
        if let Some((lo, hi)) = span
            && (end < lo || start > hi)
        {
            continue;
        }
        let track = match tracks.iter().position(|t| t.label == annotation.track) {
            Some(track) => track,
            None => {
                tracks.push(Track {
                    label: annotation.track.clone(),
                    items: Vec::new(),
                });
                is_annotation.push(true);
                tracks.len() - 1
            }
        };
        let mut details = vec![("track".to_owned(), annotation.track.clone())];
        if !annotation.details.is_empty() {
            details.push(("details".to_owned(), annotation.details.clone()));
        }
        tracks[track].items.push(Item {
            label: annotation.label.clone(),
            start,
            end: Some(end),
            kind: ItemKind::Annotation,
            details,
            linearization: None,
            color: annotation.color.clone(),
        });
    }
    (tracks, is_annotation)
}

fn page_section(timeline: &Timeline, index: usize, section: &Section) -> PageSection {
    let (tracks, is_annotation) = tracks_with_annotations(section, &timeline.annotations);
    let mut times: Vec<u64> = tracks
        .iter()
        .flat_map(|t| &t.items)
        .flat_map(|i| [Some(i.start), i.end])
        .flatten()
        .collect();
    times.sort_unstable();
    times.dedup();
    let (position, open_end, width, unit): (Box<dyn Fn(u64) -> f64>, f64, f64, f64) =
        match timeline.axis {
            Axis::EventOrder => {
                let rank: HashMap<u64, usize> =
                    times.iter().enumerate().map(|(r, &t)| (t, r)).collect();
                let end = times.len() as f64;
                (Box::new(move |t| rank[&t] as f64), end, end + 1.0, 24.0)
            }
            Axis::Proportional => {
                let lo = times.first().copied().unwrap_or(0);
                let hi = times.last().copied().unwrap_or(0);
                let span = (hi - lo).max(1) as f64;
                (
                    Box::new(move |t| (t - lo) as f64 / span * 1000.0),
                    1020.0,
                    1040.0,
                    1.4,
                )
            }
        };
    let id = |track: usize, item: usize| format!("s{index}-t{track}-i{item}");
    let page_tracks = tracks
        .iter()
        .enumerate()
        .map(|(t, track)| {
            // Greedy lane packing so that overlapping items on one track do not cover
            // each other.
            let mut order: Vec<usize> = (0..track.items.len()).collect();
            order.sort_by_key(|&i| (track.items[i].start, track.items[i].end));
            let mut lane_ends: Vec<f64> = Vec::new();
            let mut lanes = vec![0; track.items.len()];
            for &i in &order {
                let item = &track.items[i];
                let x0 = position(item.start);
                let x1 = item.end.map_or(open_end, &position);
                let lane = match lane_ends.iter().position(|&end| end < x0) {
                    Some(lane) => lane,
                    None => {
                        lane_ends.push(f64::NEG_INFINITY);
                        lane_ends.len() - 1
                    }
                };
                lane_ends[lane] = x1;
                lanes[i] = lane;
            }
            PageTrack {
                label: track.label.clone(),
                annotation: is_annotation[t],
                lanes: lane_ends.len().max(1),
                items: track
                    .items
                    .iter()
                    .enumerate()
                    .map(|(i, item)| {
                        let mut details = vec![(
                            "start".to_owned(),
                            format_time(item.start, timeline.time_unit),
                        )];
                        details.push((
                            "end".to_owned(),
                            item.end.map_or_else(
                                || "never".to_owned(),
                                |e| format_time(e, timeline.time_unit),
                            ),
                        ));
                        details.extend(item.details.iter().cloned());
                        PageItem {
                            id: id(t, i),
                            label: item.label.clone(),
                            x0: position(item.start),
                            x1: item.end.map_or(open_end, &position),
                            open: item.end.is_none(),
                            lane: lanes[i],
                            kind: match item.kind {
                                ItemKind::Operation => "op",
                                ItemKind::Pending => "pending",
                                ItemKind::Annotation => "annotation",
                            },
                            details,
                            lin: item.linearization,
                            color: item.color.clone(),
                        }
                    })
                    .collect(),
            }
        })
        .collect();
    PageSection {
        id: format!("section-{index}"),
        title: section.title.clone(),
        status: status(&section.status),
        notes: section.notes.clone(),
        width,
        unit,
        tracks: page_tracks,
        states: section.states.clone(),
        lins: section
            .linearizations
            .iter()
            .map(|lin| {
                lin.steps
                    .iter()
                    .map(|step| PageStep {
                        item: id(step.item.track, step.item.item),
                        before: step.state_before,
                        after: step.state_after,
                    })
                    .collect()
            })
            .collect(),
        shown: section.shown_linearization,
        failure: section.failure.map(|f| id(f.track, f.item)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_written_in_their_unit() {
        assert_eq!(format_time(17, TimeUnit::Line), "line 17");
        assert_eq!(format_time(999, TimeUnit::Nanoseconds), "999 ns");
        assert_eq!(format_time(1_500_000, TimeUnit::Nanoseconds), "1.500 ms");
        assert_eq!(
            format_time(2_000_000_000, TimeUnit::Nanoseconds),
            "2.000000 s"
        );
    }

    #[test]
    fn labels_cannot_break_out_of_the_data_block() {
        let timeline = Timeline {
            title: "<b>t</b>".to_owned(),
            sections: vec![Section {
                title: "s".to_owned(),
                tracks: vec![Track {
                    label: "c".to_owned(),
                    items: vec![Item {
                        label: "</script><script>alert(1)</script>".to_owned(),
                        start: 0,
                        end: Some(1),
                        kind: ItemKind::Operation,
                        details: vec![],
                        linearization: None,
                        color: None,
                    }],
                }],
                ..Section::default()
            }],
            ..Timeline::default()
        };
        let html = to_html(&timeline);
        assert!(!html.contains("</script><script>alert"));
        assert!(html.contains("<title>&lt;b&gt;t&lt;/b&gt;</title>"));
    }

    #[test]
    fn annotations_join_a_track_with_their_label_or_get_their_own() {
        let section = Section {
            tracks: vec![Track {
                label: "client 0".to_owned(),
                items: vec![Item {
                    label: "op".to_owned(),
                    start: 10,
                    end: Some(20),
                    kind: ItemKind::Operation,
                    details: vec![],
                    linearization: None,
                    color: None,
                }],
            }],
            ..Section::default()
        };
        let annotation = |track: &str, start, end| Annotation {
            track: track.to_owned(),
            start,
            end,
            label: "a".to_owned(),
            details: String::new(),
            color: None,
        };
        let (tracks, is_annotation) = tracks_with_annotations(
            &section,
            &[
                annotation("client 0", 12, 14),
                annotation("leader", 0, 11),
                annotation("late", 30, 40),
            ],
        );
        assert_eq!(
            tracks.len(),
            2,
            "the annotation outside the section's span is left out"
        );
        assert_eq!(tracks[0].items.len(), 2);
        assert_eq!(tracks[1].label, "leader");
        assert_eq!(is_annotation, vec![false, true]);
    }
}
