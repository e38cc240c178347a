//! The log stream and the timeline, each fed from the other side.
//!
//! **The tester in the log stream.** With `RUST_LOG` selecting the target
//! [`TESTER_TARGET`] (`RUST_LOG=raft=debug,tests=info`), the tester's own actions appear
//! among the peers' lines, in the same format and under the topic `TESTER`:
//!
//! ```text
//!     1203 TESTER   cuts S2 off from S0 S1 → {S0 S1} {S2}
//!     1204 VOTE     S0 T1 starts an election
//!     2711 TESTER   check_one_leader → leader 0 in term 2 (took 1508 ms)
//! ```
//!
//! Starts, crashes and link changes come from the group ([`crate::group`]), so every
//! tester that runs servers in a group logs them; the network's settings, the checks with
//! their outcome and the failure come from the test's recorder. `labtool logs` draws
//! these lines across all the peers' columns.
//!
//! **The code under test on the timeline.** A student's Raft cannot call the tester, but
//! it logs through the `log` crate, and the tester installs the process's logger. A record
//! with the target [`TIMELINE_TARGET`] at [`TIMELINE_LEVEL`] or above — e.g.
//! `log::info!(target: "timeline", "S{} T{} becomes leader", me, term)` — is kept as an
//! event of every test running in the process, whatever `RUST_LOG` says, and drawn on
//! the row of the server its text names (`S<n>` first, then optionally `T<term>`; see
//! [`split_server`]). The logger cannot tell which test a thread of the code under test
//! belongs to, so each event notes how many tests were running when it was logged; the
//! timeline says when an event may be another test's.
//!
//! Normal logging stays as cheap as before: the process's level is raised to `info` at
//! most (so `debug!` and `trace!` lines nobody asked for are still dropped by the `log`
//! macros' level check), and a record costs one string comparison more.

use labrt::time::Instant;
use std::io::{self, Write};
use std::sync::{Arc, Weak};

use labrt::sync::LeafMutex;
use log::{Level, Log, Metadata, Record};

use crate::calls::Calls;
use crate::group::GroupEvent;
use crate::record::Event;

/// The target of the tester's own log lines; their topic is its last part, `TESTER`.
pub const TESTER_TARGET: &str = "tests::tester";

/// The target under which the code under test puts events on a test's timeline.
pub const TIMELINE_TARGET: &str = "timeline";

/// The least severe level a timeline event is kept at (`info`, `warn` and `error` are;
/// `debug` and `trace` records under the target are ordinary log lines).
pub const TIMELINE_LEVEL: Level = Level::Info;

/// A test's recorded events, shared with the logger that adds the timeline events.
pub(crate) type Events = LeafMutex<Vec<(u64, Event)>>;

/// Where timeline events go: a test's events and when the test began.
struct Sink {
    start: Instant,
    events: Weak<Events>,
}

/// The recorders of the tests alive in this process.
static SINKS: LeafMutex<Vec<Sink>> = LeafMutex::new(Vec::new());

/// Makes `events` (of a test that began at `start`) receive the timeline events logged
/// from now on, until it is dropped.
pub(crate) fn register(start: Instant, events: &Arc<Events>) {
    // The test's peers may log from their first moment on.
    crate::harness::init_logging();
    let mut sinks = SINKS.lock();
    sinks.retain(|s| s.events.strong_count() > 0);
    sinks.push(Sink {
        start,
        events: Arc::downgrade(events),
    });
}

// ----- the process's logger ----------------------------------------------------------------

/// env_logger, with the timeline's records taken aside first.
struct Logger {
    inner: env_logger::Logger,
}

fn is_timeline(metadata: &Metadata) -> bool {
    metadata.level() <= TIMELINE_LEVEL && metadata.target() == TIMELINE_TARGET
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        is_timeline(metadata) || self.inner.enabled(metadata)
    }

    fn log(&self, record: &Record) {
        if is_timeline(record.metadata()) {
            timeline_event(record);
        }
        self.inner.log(record);
    }

    fn flush(&self) {
        self.inner.flush();
    }
}

/// Installs the process's logger (call once; [`crate::harness::init_logging`] does):
/// env_logger as `RUST_LOG` configures it (off when unset), writing each line with
/// [`write_line`] into the test's captured output, and the timeline's records.
pub(crate) fn install_logger() {
    // The time on a line: since the process started, or in a simulation the virtual time
    // since it began (the same on every replay, and no scheduling point).
    let start = std::time::Instant::now();
    let env = env_logger::Env::default().filter_or(env_logger::DEFAULT_FILTER_ENV, "off");
    let inner = env_logger::Builder::from_env(env)
        .format(move |buf, record| {
            let since = labrt::sim::elapsed().unwrap_or_else(|| start.elapsed());
            write_line(buf, since.as_millis(), record)
        })
        .is_test(true)
        .build();
    let max_level = inner.filter().max(TIMELINE_LEVEL.to_level_filter());
    match log::set_boxed_logger(Box::new(Logger { inner })) {
        Ok(()) => log::set_max_level(max_level),
        Err(_) => crate::harness::notice(
            "warning: a logger was installed before the tester's: RUST_LOG is not the \
             tester's to apply, and events logged under the target `timeline` do not reach \
             the test's timeline",
        ),
    }
}

/// Writes one log line: `<ms since start> <TOPIC> <message>`, the topic being the last
/// part of the record's target in upper case (`raft::vote` → `VOTE`, `tests::tester` →
/// `TESTER`). A Raft peer's messages begin `S<peer> T<term>`; the tester's do not.
pub fn write_line(out: &mut impl Write, ms: u128, record: &Record) -> io::Result<()> {
    let target = record.target();
    let topic = target.rsplit("::").next().unwrap_or(target).to_uppercase();
    writeln!(out, "{ms:>8} {topic:<8} {}", record.args())
}

// ----- the tester's lines ------------------------------------------------------------------

/// Whether `RUST_LOG` asks for the tester's lines.
pub fn tester_logging() -> bool {
    log::log_enabled!(target: TESTER_TARGET, Level::Info)
}

/// Logs a start, crash or change of links of the group whose calls are `group` (a group's
/// [`Calls`] belong to it alone, so they name it: the link changes are told as the
/// difference from the group's previous links).
pub(crate) fn group_event(group: &Arc<Calls>, event: &GroupEvent) {
    crate::harness::init_logging();
    if !tester_logging() {
        return;
    }
    match event {
        GroupEvent::Started(i) => log::info!(target: TESTER_TARGET, "starts S{i}"),
        GroupEvent::Crashed(i) => log::info!(target: TESTER_TARGET, "crashes S{i}"),
        GroupEvent::Links(links) => {
            let before = previous_links(group, links);
            if let Some(line) = link_changes(&before, links) {
                log::info!(target: TESTER_TARGET, "{line}");
            }
        }
    }
}

/// The links last logged for `group` (none up if this is its first), remembering `now`.
fn previous_links(group: &Arc<Calls>, now: &[Vec<bool>]) -> Vec<Vec<bool>> {
    // Keyed by the group's `Calls`: the weak pointer keeps the allocation, so a later
    // group cannot get the same address while the entry exists.
    type Links = Vec<Vec<bool>>;
    static LAST: LeafMutex<Vec<(Weak<Calls>, Links)>> = LeafMutex::new(Vec::new());
    let mut last = LAST.lock();
    last.retain(|(g, _)| g.strong_count() > 0);
    let key = Arc::downgrade(group);
    match last.iter_mut().find(|(g, _)| g.ptr_eq(&key)) {
        Some((_, links)) => std::mem::replace(links, now.to_vec()),
        None => {
            last.push((key, now.to_vec()));
            Vec::new()
        }
    }
}

/// What changed between two states of the links (`links[i][j]`: server `i`'s end to `j`
/// is up; a missing entry is down), as the tester's log line says it: who was cut off
/// from whom, who was connected with whom, the links changed one way only, and — when the
/// servers now form separate groups, each connected within — those groups.
///
/// `None` if nothing changed.
pub fn link_changes(before: &[Vec<bool>], after: &[Vec<bool>]) -> Option<String> {
    let n = after.len();
    let was = |i: usize, j: usize| before.get(i).and_then(|r| r.get(j)) == Some(&true);
    let is = |i: usize, j: usize| after[i].get(j) == Some(&true);
    let (mut cut, mut joined, mut one_way) = (Vec::new(), Vec::new(), Vec::new());
    for i in 0..n {
        for j in i + 1..n {
            let both_changed = was(i, j) != is(i, j) && was(j, i) != is(j, i);
            match (is(i, j), is(j, i)) {
                (false, false) if both_changed => cut.push((i, j)),
                (true, true) if both_changed => joined.push((i, j)),
                _ => {
                    for (from, to) in [(i, j), (j, i)] {
                        if was(from, to) != is(from, to) {
                            one_way.push((from, to, is(from, to)));
                        }
                    }
                }
            }
        }
    }
    let mut parts: Vec<String> = Vec::new();
    for (server, others) in stars(cut) {
        parts.push(format!("cuts S{server} off from {}", names(&others)));
    }
    for (server, others) in stars(joined) {
        parts.push(format!("connects S{server} with {}", names(&others)));
    }
    for (from, to, up) in one_way {
        let verb = if up { "connects" } else { "cuts" };
        parts.push(format!("{verb} S{from}→S{to} (one way)"));
    }
    if parts.is_empty() {
        return None;
    }
    let mut line = parts.join("; ");
    if let Some(groups) = separate_groups(after) {
        line.push_str(" → ");
        line.push_str(&groups);
    }
    Some(line)
}

/// Pairs of servers grouped around the server in most of them (the lowest on a tie), so
/// that cutting one server off from several reads as one phrase.
fn stars(mut pairs: Vec<(usize, usize)>) -> Vec<(usize, Vec<usize>)> {
    let mut out = Vec::new();
    while !pairs.is_empty() {
        let mut degree = std::collections::BTreeMap::<usize, usize>::new();
        for &(a, b) in &pairs {
            *degree.entry(a).or_default() += 1;
            *degree.entry(b).or_default() += 1;
        }
        let most = degree.values().copied().max().unwrap_or(0);
        let centre = degree
            .iter()
            .find(|&(_, &d)| d == most)
            .map_or(0, |(&s, _)| s);
        let (mine, rest): (Vec<_>, Vec<_>) = pairs
            .into_iter()
            .partition(|&(a, b)| a == centre || b == centre);
        let mut others: Vec<usize> = mine
            .into_iter()
            .map(|(a, b)| if a == centre { b } else { a })
            .collect();
        others.sort_unstable();
        out.push((centre, others));
        pairs = rest;
    }
    out
}

fn names(servers: &[usize]) -> String {
    let names: Vec<String> = servers.iter().map(|s| format!("S{s}")).collect();
    names.join(" ")
}

/// `{S0 S1 S2} {S3 S4}` if the servers form groups linked both ways within and not at all
/// between (a crashed or cut-off server is a group of its own); `None` if some link is
/// up one way only, or a group is not fully linked inside.
fn separate_groups(links: &[Vec<bool>]) -> Option<String> {
    let n = links.len();
    let up = |i: usize, j: usize| links[i].get(j) == Some(&true);
    let mut group_of: Vec<Option<usize>> = vec![None; n];
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for i in 0..n {
        if group_of[i].is_some() {
            continue;
        }
        let members: Vec<usize> = (i..n)
            .filter(|&j| j == i || (up(i, j) && up(j, i)))
            .collect();
        for &m in &members {
            group_of[m] = Some(groups.len());
        }
        groups.push(members);
    }
    for i in 0..n {
        for j in 0..n {
            if i != j && (up(i, j) != (group_of[i] == group_of[j])) {
                return None;
            }
        }
    }
    let groups: Vec<String> = groups.iter().map(|g| format!("{{{}}}", names(g))).collect();
    Some(groups.join(" "))
}

/// Logs what a test's recorder records that the group does not tell: the network's
/// settings, each check with its outcome, the failure. `test_start` is when the test
/// began (a check's start is counted from it).
pub(crate) fn recorded(test_start: Instant, event: &Event) {
    crate::harness::init_logging();
    if !tester_logging() {
        return;
    }
    match event {
        Event::Network {
            reliable,
            long_reordering,
        } => {
            let mut setting = if *reliable { "reliable" } else { "unreliable" }.to_owned();
            if *long_reordering {
                setting.push_str(", long reordering");
            }
            log::info!(target: TESTER_TARGET, "network: {setting}");
        }
        Event::Check {
            name,
            start,
            ok,
            detail,
        } => {
            let now = Instant::observe()
                .saturating_duration_since(test_start)
                .as_nanos() as u64;
            let took = now.saturating_sub(*start) / 1_000_000;
            if *ok {
                log::info!(target: TESTER_TARGET, "{name} → {detail} (took {took} ms)");
            } else {
                log::warn!(target: TESTER_TARGET, "{name} FAILED (after {took} ms)");
            }
        }
        Event::Failure(message) => {
            let first = message.lines().next().unwrap_or_default();
            log::warn!(target: TESTER_TARGET, "the test FAILS: {first}");
        }
        // Starts, crashes and links are the group's to log; the rest is not the tester's.
        _ => {}
    }
}

// ----- the code under test's timeline events -----------------------------------------------

/// Splits a timeline event's text into the server it names, the term it names and the
/// rest: `"S2 T5 becomes leader"` → `(Some(2), Some(5), "becomes leader")`; `"S2 votes"` →
/// `(Some(2), None, "votes")`. Text that does not begin with `S<n>` names no server and is
/// kept whole.
pub fn split_server(text: &str) -> (Option<usize>, Option<u64>, &str) {
    fn number<T: std::str::FromStr>(word: &str, prefix: char) -> Option<T> {
        let digits = word.strip_prefix(prefix)?;
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        digits.parse().ok()
    }
    fn first_word(text: &str) -> (&str, &str) {
        let text = text.trim_start();
        text.split_once(char::is_whitespace)
            .map_or((text, ""), |(w, rest)| (w, rest.trim_start()))
    }
    let (word, rest) = first_word(text);
    let Some(server) = number(word, 'S') else {
        return (None, None, text.trim());
    };
    let (word, after_term) = first_word(rest);
    match number(word, 'T') {
        Some(term) => (Some(server), Some(term), after_term.trim_end()),
        None => (Some(server), None, rest.trim_end()),
    }
}

/// A timeline event, given to every test alive in the process.
fn timeline_event(record: &Record) {
    let mut sinks = SINKS.lock();
    sinks.retain(|s| s.events.strong_count() > 0);
    if sinks.is_empty() {
        return;
    }
    let text = record.args().to_string();
    let (server, term, rest) = split_server(&text);
    // A test's cluster (and recorder) exists a moment before the harness counts the test.
    let tests = crate::harness::tests_running().max(sinks.len());
    let event = Event::Logged {
        server,
        term,
        text: rest.to_owned(),
        level: record.level(),
        tests,
    };
    for sink in sinks.iter() {
        if let Some(events) = sink.events.upgrade() {
            let mut events = events.lock();
            let at = Instant::observe()
                .saturating_duration_since(sink.start)
                .as_nanos() as u64;
            events.push((at, event.clone()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Recorder;
    use crate::viz;

    fn links(n: usize, up: &[(usize, usize)]) -> Vec<Vec<bool>> {
        let mut l = vec![vec![false; n]; n];
        for &(i, j) in up {
            l[i][j] = true;
            l[j][i] = true;
        }
        l
    }

    fn all(n: usize) -> Vec<(usize, usize)> {
        (0..n)
            .flat_map(|i| (i + 1..n).map(move |j| (i, j)))
            .collect()
    }

    #[test]
    fn link_changes_say_who_was_cut_from_whom() {
        let full = links(3, &all(3));
        let without_2 = links(3, &[(0, 1)]);
        assert_eq!(
            link_changes(&full, &without_2).as_deref(),
            Some("cuts S2 off from S0 S1 → {S0 S1} {S2}")
        );
        assert_eq!(
            link_changes(&without_2, &full).as_deref(),
            Some("connects S2 with S0 S1 → {S0 S1 S2}")
        );
        assert_eq!(link_changes(&full, &full), None);
        // A group's first links: nothing before.
        assert_eq!(
            link_changes(&[], &links(2, &[(0, 1)])).as_deref(),
            Some("connects S0 with S1 → {S0 S1}")
        );
        assert_eq!(link_changes(&[], &links(3, &[])), None);

        // A partition made at once: the servers cut from most are named first.
        let five = links(5, &all(5));
        let split = links(5, &[(0, 1), (0, 2), (1, 2), (3, 4)]);
        assert_eq!(
            link_changes(&five, &split).as_deref(),
            Some("cuts S3 off from S0 S1 S2; cuts S4 off from S0 S1 S2 → {S0 S1 S2} {S3 S4}")
        );

        // One direction only (part 4D's follower reads): no groups to speak of.
        let mut one_way = full.clone();
        one_way[1][2] = false;
        assert_eq!(
            link_changes(&full, &one_way).as_deref(),
            Some("cuts S1→S2 (one way)")
        );
        assert_eq!(
            link_changes(&one_way, &full).as_deref(),
            Some("connects S1→S2 (one way) → {S0 S1 S2}")
        );
        // Half a partition: still connected through S1, so no groups either.
        let half = links(3, &[(0, 1), (1, 2)]);
        assert_eq!(
            link_changes(&full, &half).as_deref(),
            Some("cuts S0 off from S2")
        );
    }

    #[test]
    fn a_tester_line_has_the_log_format() {
        let mut out = Vec::new();
        write_line(
            &mut out,
            1203,
            &Record::builder()
                .target(TESTER_TARGET)
                .level(Level::Info)
                .args(format_args!("crashes S{}", 2))
                .build(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "    1203 TESTER   crashes S2\n"
        );
        let mut out = Vec::new();
        write_line(
            &mut out,
            7,
            &Record::builder()
                .target("raft::vote")
                .level(Level::Debug)
                .args(format_args!("S{} T{} starts an election", 0, 1))
                .build(),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "       7 VOTE     S0 T1 starts an election\n"
        );
    }

    #[test]
    fn timeline_events_name_their_server_and_term() {
        assert_eq!(
            split_server("S2 T5 becomes leader"),
            (Some(2), Some(5), "becomes leader")
        );
        assert_eq!(split_server("S12 votes"), (Some(12), None, "votes"));
        assert_eq!(split_server("  S0   T1   x  "), (Some(0), Some(1), "x"));
        assert_eq!(split_server("S3"), (Some(3), None, ""));
        assert_eq!(split_server("S3 Tx y"), (Some(3), None, "Tx y"));
        assert_eq!(split_server("Server 3 up"), (None, None, "Server 3 up"));
        assert_eq!(split_server("S-1 x"), (None, None, "S-1 x"));
    }

    /// An event a peer logs reaches the test's page on its server's row, whatever
    /// `RUST_LOG` says (these tests run without it, so env_logger's filter is off).
    #[test]
    fn an_event_logged_by_a_peer_appears_on_its_row_of_the_timeline() {
        crate::harness::init_logging();
        let recorder = Recorder::new(true);
        recorder.record(Event::Started(0));
        recorder.record(Event::Started(1));
        // As a peer's thread would log it: no tester in sight.
        labrt::thread::spawn(|| {
            log::info!(target: "timeline", "S1 T3 wins the election with 2 votes");
            log::warn!(target: "timeline", "S0 steps down: saw a higher term");
            log::debug!(target: "timeline", "S0 T3 not an event: debug level");
            log::info!(target: "not-the-timeline", "S0 T3 nor is this");
        })
        .join()
        .unwrap();
        let ours = |e: &Event| {
            matches!(e, Event::Logged { text, .. }
                if text.starts_with("wins the election") || text.starts_with("steps down"))
        };
        let events: Vec<(u64, Event)> = recorder
            .events()
            .into_iter()
            .filter(|(_, e)| !matches!(e, Event::Logged { .. }) || ours(e))
            .collect();
        assert!(
            matches!(
                &events[2].1,
                Event::Logged {
                    server: Some(1),
                    term: Some(3),
                    level: Level::Info,
                    ..
                }
            ),
            "{events:?}"
        );
        assert!(
            matches!(
                &events[3].1,
                Event::Logged {
                    server: Some(0),
                    term: None,
                    level: Level::Warn,
                    ..
                }
            ),
            "{events:?}"
        );
        assert!(
            !format!("{:?}", recorder.events()).contains("not an event")
                && !format!("{:?}", recorder.events()).contains("nor is this"),
        );

        let about = viz::About {
            title: "Test (3A): events",
            servers: 2,
            seed: 1,
            failure: Some("expected one leader, got none"),
            end: recorder.now(),
        };
        let timeline = viz::timeline(&about, &events);
        let rows = &timeline.sections[0].tracks;
        // Other unit tests with recorders may run at the same time: then the events are
        // marked as possibly theirs ("? ").
        let on_row = |row: usize| -> Vec<&str> {
            rows[row]
                .items
                .iter()
                .map(|i| i.label.trim_start_matches("? "))
                .collect()
        };
        assert_eq!(rows[1].label, "server 1");
        assert!(
            on_row(1).contains(&"wins the election with 2 votes"),
            "{:?}",
            on_row(1)
        );
        assert!(on_row(0).contains(&"steps down: saw a higher term"));
        assert!(!on_row(0).contains(&"wins the election with 2 votes"));
        let html = linearizability::visualize::to_html(&timeline);
        assert!(html.contains("wins the election with 2 votes"));
        assert!(html.contains("steps down: saw a higher term"));
    }

    #[test]
    fn events_logged_while_other_tests_ran_are_marked_as_maybe_theirs() {
        let logged = |at: u64, server: Option<usize>, tests: usize, text: &str| {
            (
                at,
                Event::Logged {
                    server,
                    term: None,
                    text: text.into(),
                    level: Level::Info,
                    tests,
                },
            )
        };
        let events = vec![
            (0, Event::Started(0)),
            logged(10, Some(0), 1, "alone"),
            logged(20, Some(0), 3, "crowded"),
            logged(30, None, 1, "no server named"),
            logged(40, Some(7), 1, "S7 is not in this test"),
        ];
        let about = viz::About {
            title: "t",
            servers: 1,
            seed: 1,
            failure: None,
            end: 100,
        };
        let timeline = viz::timeline(&about, &events);
        let rows = &timeline.sections[0].tracks;
        let items = |row: usize| -> Vec<(&str, u64, Option<u64>)> {
            rows[row]
                .items
                .iter()
                .map(|i| (i.label.as_str(), i.start, i.end))
                .collect()
        };
        // Each event lasts until the next on its row.
        assert_eq!(
            items(0)[1..],
            [("alone", 10, Some(19)), ("? crowded", 20, Some(100))]
        );
        assert_eq!(rows[2].label, "events naming no server");
        assert_eq!(
            items(2),
            [
                ("no server named", 30, Some(39)),
                ("S7 is not in this test", 40, Some(100))
            ]
        );
        assert!(
            timeline.notes.iter().any(|n| n
                .starts_with("1 of the 4 events (marked ?) were logged while up to 3 tests ran")
                && n.contains("RUST_TEST_THREADS=1")),
            "{:?}",
            timeline.notes
        );
    }
}
