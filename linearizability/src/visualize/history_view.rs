//! Builds the [`Timeline`] of a checked history: one section per partition (the
//! problematic ones first), one track per client, the longest linearizable prefix as
//! numbered linearization points, and the operation where it breaks highlighted. Large
//! histories are cut to stay usable, and the page says what was cut.

use std::collections::{BTreeMap, HashMap};

use super::timeline::{
    Item, ItemKind, ItemRef, Linearization, LinearizationStep, Section, Status, TimeUnit, Timeline,
    Tone, Track,
};
use crate::checker::{Analysis, PartitionAnalysis, Verdict};
use crate::history::Operation;
use crate::model::Model;

/// Limits that keep the page small enough for a browser (porcupine once wrote a 1.5 GB
/// page nobody could open).
#[derive(Debug, Clone)]
pub struct VisualizeOptions {
    pub title: String,
    pub time_unit: TimeUnit,
    /// Operations drawn per partition; a larger partition shows a window of this many
    /// (in call order) around the place where linearization breaks.
    pub max_operations_per_partition: usize,
    /// Operations drawn in all; partitions that do not fit are left out (the ones that
    /// are not linearizable come first).
    pub max_operations: usize,
    /// Partial linearizations kept per partition for hovering (besides the longest).
    pub max_partial_linearizations: usize,
    /// State descriptions longer than this are shortened in the middle.
    pub max_state_chars: usize,
}

impl Default for VisualizeOptions {
    fn default() -> Self {
        VisualizeOptions {
            title: "Linearizability check".to_owned(),
            time_unit: TimeUnit::Nanoseconds,
            max_operations_per_partition: 1_000,
            max_operations: 10_000,
            max_partial_linearizations: 20,
            max_state_chars: 600,
        }
    }
}

/// The badge for a verdict.
pub fn verdict_status(verdict: Verdict) -> Status {
    match verdict {
        Verdict::Ok => Status {
            text: "linearizable".to_owned(),
            tone: Tone::Good,
        },
        Verdict::Illegal => Status {
            text: "not linearizable".to_owned(),
            tone: Tone::Bad,
        },
        Verdict::Unknown => Status {
            text: "unknown: the search stopped at the time limit".to_owned(),
            tone: Tone::Neutral,
        },
    }
}

/// The timeline of `history` as checked in `analysis` (from
/// [`crate::check_operations_verbose`] on the same model and history).
pub fn history_timeline<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    analysis: &Analysis,
    options: &VisualizeOptions,
) -> Timeline {
    let mut timeline = Timeline {
        title: options.title.clone(),
        status: Some(verdict_status(analysis.verdict)),
        time_unit: options.time_unit,
        ..Timeline::default()
    };
    let severity = |v: Verdict| match v {
        Verdict::Illegal => 0,
        Verdict::Unknown => 1,
        Verdict::Ok => 2,
    };
    let mut order: Vec<usize> = (0..analysis.partitions.len()).collect();
    order.sort_by_key(|&p| (severity(analysis.partitions[p].verdict), p));
    let mut drawn = 0;
    let mut left_out: BTreeMap<&'static str, usize> = BTreeMap::new();
    for p in order {
        let part = &analysis.partitions[p];
        let size = part
            .operations
            .len()
            .min(options.max_operations_per_partition);
        if drawn + size > options.max_operations {
            *left_out
                .entry(match part.verdict {
                    Verdict::Ok => "linearizable",
                    Verdict::Illegal => "not linearizable",
                    Verdict::Unknown => "undecided",
                })
                .or_default() += 1;
            continue;
        }
        drawn += size;
        let mut section = partition_section(model, history, part, options);
        section.title = format!(
            "partition {}: {}",
            p + 1,
            model.describe_partition(history, &part.operations)
        );
        timeline.sections.push(section);
    }
    let partitions = analysis.partitions.len();
    timeline.notes.push(format!(
        "{} operations in {partitions} partition{}; {} partition{} shown.",
        history.len(),
        if partitions == 1 { "" } else { "s" },
        timeline.sections.len(),
        if timeline.sections.len() == 1 {
            ""
        } else {
            "s"
        },
    ));
    if !left_out.is_empty() {
        let counts: Vec<String> = left_out
            .iter()
            .map(|(kind, n)| format!("{n} {kind}"))
            .collect();
        timeline.notes.push(format!(
            "Cut to keep the page small: {} more partitions ({}) are not drawn (limit: {} operations per page).",
            left_out.values().sum::<usize>(),
            counts.join(", "),
            options.max_operations
        ));
    }
    timeline
}

fn shorten(text: String, max_chars: usize) -> String {
    let count = text.chars().count();
    if count <= max_chars {
        return text;
    }
    let keep = max_chars / 2;
    let head: String = text.chars().take(keep).collect();
    let tail: String = text.chars().skip(count - keep).collect();
    format!("{head} … ({} characters cut) … {tail}", count - 2 * keep)
}

/// Interns state descriptions so equal states are stored once.
struct States {
    list: Vec<String>,
    index: HashMap<String, usize>,
    max_chars: usize,
}

impl States {
    fn intern(&mut self, description: String) -> usize {
        let description = shorten(description, self.max_chars);
        if let Some(&i) = self.index.get(&description) {
            return i;
        }
        self.list.push(description.clone());
        self.index.insert(description, self.list.len() - 1);
        self.list.len() - 1
    }
}

fn partition_section<M: Model>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    part: &PartitionAnalysis,
    options: &VisualizeOptions,
) -> Section {
    let mut section = Section {
        status: Some(verdict_status(part.verdict)),
        ..Section::default()
    };

    // Which operations to draw: all, or a window in call order around the break.
    let mut by_call: Vec<usize> = part.operations.clone();
    by_call.sort_by_key(|&i| (history[i].call_time, i));
    let cap = options.max_operations_per_partition.max(1);
    let shown: &[usize] = if by_call.len() > cap {
        let in_longest: std::collections::HashSet<usize> = part.longest.iter().copied().collect();
        let focus = part
            .blocked_by
            .and_then(|b| by_call.iter().position(|&i| i == b))
            .or_else(|| by_call.iter().position(|i| !in_longest.contains(i)))
            .unwrap_or(0);
        let start = focus.saturating_sub(cap * 3 / 4).min(by_call.len() - cap);
        section.notes.push(format!(
            "Cut to keep the page small: showing operations {}–{} of {} (in call order){}.",
            start + 1,
            start + cap,
            by_call.len(),
            if part.blocked_by.is_some() {
                ", around where linearization breaks"
            } else {
                ""
            }
        ));
        &by_call[start..start + cap]
    } else {
        &by_call
    };

    // One track per client.
    let mut clients: Vec<usize> = shown.iter().map(|&i| history[i].client_id).collect();
    clients.sort_unstable();
    clients.dedup();
    let track_of: HashMap<usize, usize> =
        clients.iter().enumerate().map(|(t, &c)| (c, t)).collect();
    section.tracks = clients
        .iter()
        .map(|c| Track {
            label: format!("client {c}"),
            items: Vec::new(),
        })
        .collect();
    let mut item_of: HashMap<usize, ItemRef> = HashMap::new();
    for &i in shown {
        let op = &history[i];
        let track = track_of[&op.client_id];
        item_of.insert(
            i,
            ItemRef {
                track,
                item: section.tracks[track].items.len(),
            },
        );
        section.tracks[track].items.push(Item {
            label: model.describe_operation(&op.input, &op.output),
            start: op.call_time,
            end: op.return_time,
            kind: if op.return_time.is_some() {
                ItemKind::Operation
            } else {
                ItemKind::Pending
            },
            details: vec![("client".to_owned(), op.client_id.to_string())],
            linearization: None,
            color: None,
        });
    }

    // The longest linearizable prefix first, then the longest partial linearizations of
    // the drawn operations.
    let mut sequences: Vec<&[usize]> = Vec::new();
    if !part.longest.is_empty() {
        sequences.push(&part.longest);
    }
    let mut lin_of_partial: HashMap<usize, usize> = HashMap::new();
    let position_in_part: HashMap<usize, usize> = part
        .operations
        .iter()
        .enumerate()
        .map(|(k, &i)| (i, k))
        .collect();
    let mut wanted: Vec<usize> = shown
        .iter()
        .filter_map(|i| part.partial_of.get(position_in_part[i]).copied().flatten())
        .collect();
    wanted.sort_unstable();
    wanted.dedup();
    wanted.sort_by_key(|&p| std::cmp::Reverse(part.partials[p].len()));
    for p in wanted {
        let sequence = &part.partials[p][..];
        if let Some(existing) = sequences.iter().position(|s| *s == sequence) {
            lin_of_partial.insert(p, existing);
        } else if sequences.len() <= options.max_partial_linearizations {
            lin_of_partial.insert(p, sequences.len());
            sequences.push(sequence);
        }
    }
    let mut states = States {
        list: Vec::new(),
        index: HashMap::new(),
        max_chars: options.max_state_chars,
    };
    for sequence in &sequences {
        let mut steps = Vec::new();
        let mut state = model.init();
        for &i in *sequence {
            let op = &history[i];
            let Some(next) = model.step(&state, &op.input, &op.output) else {
                section.notes.push("A partial linearization could not be replayed through the model (the model's step is not deterministic); it is cut short.".to_owned());
                break;
            };
            if let Some(&item) = item_of.get(&i) {
                let state_before = states.intern(model.describe_state(&state));
                let state_after = states.intern(model.describe_state(&next));
                steps.push(LinearizationStep {
                    item,
                    state_before,
                    state_after,
                });
            }
            state = next;
        }
        section.linearizations.push(Linearization { steps });
    }
    section.states = states.list;
    section.shown_linearization = (!sequences.is_empty()).then_some(0);
    for &i in shown {
        if let Some(p) = part.partial_of.get(position_in_part[&i]).copied().flatten()
            && let Some(&lin) = lin_of_partial.get(&p)
        {
            let at = item_of[&i];
            section.tracks[at.track].items[at.item].linearization = Some(lin);
        }
    }

    section.failure = part.blocked_by.and_then(|b| item_of.get(&b).copied());
    let total = part.operations.len();
    section.notes.push(match part.verdict {
        Verdict::Ok => format!("Linearizable: the numbered points show one valid order of all {total} operations."),
        Verdict::Illegal => format!(
            "Not linearizable. The longest linearizable prefix has {} of {total} operations (numbered points); {} cannot be linearized after it (in red: it returned before it could take effect). Hover an operation to see its own longest linearizable prefix.",
            part.longest.len(),
            part.blocked_by.map_or_else(|| "no operation".to_owned(), |b| model.describe_operation(&history[b].input, &history[b].output)),
        ),
        Verdict::Unknown => format!(
            "Not decided: the search stopped at the time limit. The longest linearizable prefix found so far has {} of {total} operations.",
            part.longest.len()
        ),
    });
    section
}
