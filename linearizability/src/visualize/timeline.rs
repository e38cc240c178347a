//! The data a timeline page shows: sections of tracks (rows) of labelled time intervals,
//! optionally with linearizations over them, plus annotations. A history view is one
//! kind of timeline; a test's event timeline is another.

/// A whole page.
#[derive(Debug, Clone, Default)]
pub struct Timeline {
    pub title: String,
    /// A badge next to the title (e.g. the verdict).
    pub status: Option<Status>,
    /// Lines shown under the title (e.g. what was cut to keep the page small).
    pub notes: Vec<String>,
    pub sections: Vec<Section>,
    /// Labelled intervals on extra tracks, drawn in every section whose time span they
    /// overlap (or in a section of their own when there are no sections).
    pub annotations: Vec<Annotation>,
    /// How times are written in tooltips.
    pub time_unit: TimeUnit,
    /// How times are placed on the horizontal axis.
    pub axis: Axis,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TimeUnit {
    /// Nanoseconds (shown as ns, µs, ms or s).
    #[default]
    Nanoseconds,
    /// Line numbers of the file the history came from.
    Line,
    /// Plain numbers.
    Plain,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Axis {
    /// Distinct times are evenly spaced in order: readable whatever the real gaps are
    /// (porcupine's choice).
    #[default]
    EventOrder,
    /// Positions proportional to time.
    Proportional,
}

/// A badge: text and whether it is good, bad or neither.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Status {
    pub text: String,
    pub tone: Tone,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    Good,
    Bad,
    Neutral,
}

/// One independently laid out part of the page (for a history: one partition).
#[derive(Debug, Clone, Default)]
pub struct Section {
    pub title: String,
    pub status: Option<Status>,
    pub notes: Vec<String>,
    pub tracks: Vec<Track>,
    /// State descriptions, referred to by index from linearization steps.
    pub states: Vec<String>,
    pub linearizations: Vec<Linearization>,
    /// The linearization shown when nothing is hovered.
    pub shown_linearization: Option<usize>,
    /// The item where linearization breaks, highlighted.
    pub failure: Option<ItemRef>,
}

/// One row: a client, or an annotation track.
#[derive(Debug, Clone, Default)]
pub struct Track {
    pub label: String,
    pub items: Vec<Item>,
}

/// One interval on a track.
#[derive(Debug, Clone)]
pub struct Item {
    pub label: String,
    pub start: u64,
    /// `None`: it never ended (drawn to the end of the section).
    pub end: Option<u64>,
    pub kind: ItemKind,
    /// Shown in the tooltip, in order, as `name: value`.
    pub details: Vec<(String, String)>,
    /// The linearization to show while this item is hovered or pinned.
    pub linearization: Option<usize>,
    /// A CSS colour for the item's background.
    pub color: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ItemKind {
    /// An operation that returned.
    Operation,
    /// An operation that never returned.
    Pending,
    /// An annotation.
    Annotation,
}

/// Points at an item: `sections[..].tracks[track].items[item]`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ItemRef {
    pub track: usize,
    pub item: usize,
}

/// Items in the order they take effect, with the state before and after each.
#[derive(Debug, Clone, Default)]
pub struct Linearization {
    pub steps: Vec<LinearizationStep>,
}

#[derive(Debug, Clone, Copy)]
pub struct LinearizationStep {
    pub item: ItemRef,
    /// Indices into the section's `states`.
    pub state_before: usize,
    pub state_after: usize,
}

/// A labelled time interval on a named track. If a section has a track with the same
/// label (e.g. `client 3`), the annotation is drawn on it; otherwise on an extra track.
#[derive(Debug, Clone)]
pub struct Annotation {
    pub track: String,
    pub start: u64,
    pub end: u64,
    pub label: String,
    /// Shown in the tooltip.
    pub details: String,
    /// A CSS colour for the background.
    pub color: Option<String>,
}
