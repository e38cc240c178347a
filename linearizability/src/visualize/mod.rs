//! The HTML view: a self-contained page (inline CSS and JavaScript, data as embedded
//! JSON; it opens offline) drawing a [`Timeline`].
//!
//! [`history_timeline`] makes the timeline of a checked history (from
//! [`crate::check_operations_verbose`]): a section per partition, a row per client, the
//! longest linearizable prefix as numbered linearization points, the operation where it
//! breaks in red, state before and after on hover (click to pin). Annotations — labelled
//! time intervals on extra tracks — can be added to any timeline, and the same page
//! draws timelines that are not histories at all.
//!
//! ```no_run
//! use linearizability::models::kv::KvModel;
//! use linearizability::visualize::{Annotation, VisualizeOptions, history_timeline, write_html};
//! # let history = Vec::new();
//! let analysis = linearizability::check_operations_verbose(&KvModel, &history, None).unwrap();
//! let mut timeline = history_timeline(&KvModel, &history, &analysis, &VisualizeOptions::default());
//! timeline.annotations.push(Annotation {
//!     track: "leader".into(), start: 0, end: 1_000_000, label: "server 2".into(),
//!     details: "term 3".into(), color: None,
//! });
//! write_html(std::path::Path::new("history.html"), &timeline).unwrap();
//! ```

mod history_view;
mod page;
mod timeline;

pub use history_view::{VisualizeOptions, history_timeline, verdict_status};
pub use page::{format_time, to_html};
pub use timeline::{
    Annotation, Axis, Item, ItemKind, ItemRef, Linearization, LinearizationStep, Section, Status,
    TimeUnit, Timeline, Tone, Track,
};

/// Writes the page for `timeline` to `path`.
pub fn write_html(path: &std::path::Path, timeline: &Timeline) -> std::io::Result<()> {
    std::fs::write(path, to_html(timeline))
}
