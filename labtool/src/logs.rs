//! `labtool logs`: raftlab's log lines (`<ms> <TOPIC> S<peer> T<term> <message>`, as the
//! tester's logger writes them) laid out one column per peer, coloured by topic. The
//! tester's own lines (`<ms> TESTER <message>`: starts, crashes, link changes, network
//! settings, checks) run across all the columns. Lines that are not log lines (the
//! tester's result lines, panics, libtest's output) pass through unchanged, so nothing is
//! lost.

use std::io::{BufRead, BufReader, IsTerminal, Read, Write};
use std::process::ExitCode;

use console::Style;

pub struct Options {
    pub file: String,
    pub columns: Option<usize>,
    pub just: Vec<String>,
    pub ignore: Vec<String>,
}

/// The log topics (`raft::<topic>`) that `--just` and `--ignore` take.
pub const TOPICS: [&str; 8] = [
    "vote", "leader", "term", "append", "commit", "snapshot", "client", "config",
];

/// The topic of the tester's own lines, `<ms> TESTER <message>` (no peer, no term).
pub const TESTER: &str = "TESTER";

/// Topics beyond the Raft peers': the tester's actions (`RUST_LOG=tests=info`), and the
/// events the code under test logs for a test's timeline (`timeline=info`), which are
/// peer lines when they begin `S<peer> T<term>`.
pub const OTHER_TOPICS: [&str; 2] = ["tester", "timeline"];

/// Width of the time and topic prefix: `{ms:>8} {topic:<8} `.
const PREFIX: usize = 18;

/// One parsed log line.
#[derive(Debug, PartialEq, Eq)]
pub struct Entry<'a> {
    pub ms: u64,
    pub topic: &'a str,
    pub peer: usize,
    pub term: u64,
    pub text: &'a str,
}

/// Reads a log line, or `None` if the line is something else.
pub fn parse(line: &str) -> Option<Entry<'_>> {
    let mut rest = line.trim_start();
    let mut token = || -> Option<&str> {
        let t = rest.split_whitespace().next()?;
        let at = rest.find(t)? + t.len();
        rest = rest[at..].trim_start();
        Some(t)
    };
    let ms = token()?.parse().ok()?;
    let topic = token()?;
    if topic.is_empty() || !topic.chars().all(|c| c.is_ascii_uppercase() || c == '_') {
        return None;
    }
    let peer = token()?.strip_prefix('S')?.parse().ok()?;
    let term = token()?.strip_prefix('T')?.parse().ok()?;
    Some(Entry {
        ms,
        topic,
        peer,
        term,
        text: rest.trim_end(),
    })
}

/// Reads a tester line, `<ms> TESTER <message>`: its time and message.
pub fn parse_tester(line: &str) -> Option<(u64, &str)> {
    let (ms, rest) = line.trim_start().split_once(char::is_whitespace)?;
    let ms = ms.parse().ok()?;
    let rest = rest.trim_start();
    let (topic, text) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
    (topic == TESTER).then(|| (ms, text.trim()))
}

/// Checks a topic list against [`TOPICS`] and [`OTHER_TOPICS`]; returns it in upper case.
pub fn topic_list(names: &[String], option: &str) -> Result<Vec<String>, String> {
    names
        .iter()
        .map(|n| n.trim().to_ascii_lowercase())
        .filter(|n| !n.is_empty())
        .map(|n| {
            if TOPICS.contains(&n.as_str()) || OTHER_TOPICS.contains(&n.as_str()) {
                Ok(n.to_ascii_uppercase())
            } else {
                Err(format!(
                    "unknown topic `{n}` in {option}: topics are {}, {}",
                    TOPICS.join(", "),
                    OTHER_TOPICS.join(", ")
                ))
            }
        })
        .collect()
}

/// Lays out lines for a terminal `width` characters wide.
pub struct Renderer {
    pub columns: usize,
    pub width: usize,
    pub color: bool,
    pub just: Vec<String>,
    pub ignore: Vec<String>,
}

impl Renderer {
    fn column_width(&self) -> usize {
        (self.width.saturating_sub(PREFIX) / self.columns).max(12)
    }

    /// The header naming the columns.
    pub fn header(&self) -> String {
        let w = self.column_width();
        let mut out = format!("{:>8} {:<8} ", "ms", "topic");
        for peer in 0..self.columns {
            out.push_str(&format!("{:<w$}", format!("S{peer}")));
        }
        format!("{}\n", out.trim_end())
    }

    /// Whether lines of `topic` are shown.
    fn shows(&self, topic: &str) -> bool {
        (self.just.is_empty() || self.just.iter().any(|t| t == topic))
            && !self.ignore.iter().any(|t| t == topic)
    }

    /// The lines to print for `line` (none if its topic is filtered out).
    pub fn render(&self, line: &str) -> String {
        if let Some((ms, text)) = parse_tester(line) {
            return if self.shows(TESTER) {
                self.render_tester(ms, text)
            } else {
                String::new()
            };
        }
        let Some(entry) = parse(line).filter(|e| e.peer < self.columns) else {
            return format!("{line}\n");
        };
        if !self.shows(entry.topic) {
            return String::new();
        }
        let w = self.column_width();
        let text = format!("T{} {}", entry.term, entry.text);
        let style = topic_style(entry.topic).force_styling(self.color);
        let mut out = String::new();
        for (i, chunk) in wrap(&text, w - 1).iter().enumerate() {
            let prefix = if i == 0 {
                format!("{:>8} {:<8} ", entry.ms, entry.topic)
            } else {
                " ".repeat(PREFIX)
            };
            let line = format!("{prefix}{}{chunk}", " ".repeat(entry.peer * w));
            out.push_str(&style.apply_to(line).to_string());
            out.push('\n');
        }
        out
    }

    /// A tester line, across every column: `── <message> ───…` to the full width, or
    /// wrapped over several lines if it is too long for one.
    fn render_tester(&self, ms: u64, text: &str) -> String {
        let width = self.width.saturating_sub(PREFIX).max(12);
        let style = topic_style(TESTER).force_styling(self.color);
        let chunks = wrap(text, width - 3);
        let mut out = String::new();
        for (i, chunk) in chunks.iter().enumerate() {
            let mut line = if i == 0 {
                format!("{ms:>8} {TESTER:<8} ── {chunk}")
            } else {
                format!("{}   {chunk}", " ".repeat(PREFIX))
            };
            let used = line.chars().count();
            if chunks.len() == 1 && used + 1 < PREFIX + width {
                line.push(' ');
                line.push_str(&"─".repeat(PREFIX + width - used - 1));
            }
            out.push_str(&style.apply_to(line).to_string());
            out.push('\n');
        }
        out
    }
}

fn topic_style(topic: &str) -> Style {
    match topic {
        "VOTE" => Style::new().magenta(),
        "LEADER" => Style::new().green().bold(),
        "TERM" => Style::new().yellow(),
        "APPEND" => Style::new().blue(),
        "COMMIT" => Style::new().cyan(),
        "SNAPSHOT" => Style::new().red(),
        "CLIENT" => Style::new().white().bold(),
        "CONFIG" => Style::new().yellow().bold(),
        "TIMELINE" => Style::new().magenta().bold(),
        "TESTER" => Style::new().bold(),
        _ => Style::new(),
    }
}

/// Splits `text` into pieces of at most `width` characters, at spaces where it can.
fn wrap(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut lines = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let mut word: Vec<char> = word.chars().collect();
        let used = current.chars().count();
        if used > 0 && used + 1 + word.len() > width {
            lines.push(std::mem::take(&mut current));
        }
        while word.len() > width {
            if !current.is_empty() {
                lines.push(std::mem::take(&mut current));
            }
            lines.push(word.drain(..width).collect());
        }
        if !current.is_empty() {
            current.push(' ');
        }
        current.extend(word);
    }
    if !current.is_empty() || lines.is_empty() {
        lines.push(current);
    }
    lines
}

pub fn logs(opts: &Options) -> Result<ExitCode, String> {
    let just = topic_list(&opts.just, "--just")?;
    let ignore = topic_list(&opts.ignore, "--ignore")?;
    let reader: Box<dyn Read> = if opts.file == "-" {
        Box::new(std::io::stdin())
    } else {
        Box::new(
            std::fs::File::open(&opts.file)
                .map_err(|e| format!("cannot read the log file {}: {e}", opts.file))?,
        )
    };
    let stdout = std::io::stdout();
    let term = console::Term::stdout();
    let width = term
        .size_checked()
        .map(|(_, cols)| cols as usize)
        .or_else(|| std::env::var("COLUMNS").ok()?.parse().ok())
        .unwrap_or(160);
    let color = stdout.is_terminal() && console::colors_enabled();
    let mut renderer = Renderer {
        columns: opts.columns.unwrap_or(1),
        width,
        color,
        just,
        ignore,
    };
    let mut out = stdout.lock();
    let failed_read = |e: std::io::Error| format!("cannot read the log file {}: {e}", opts.file);
    let mut lines = BufReader::new(reader).lines();
    let buffered: Vec<String> = if opts.columns.is_none() {
        let all: Vec<String> = lines
            .by_ref()
            .collect::<Result<_, _>>()
            .map_err(failed_read)?;
        renderer.columns = all
            .iter()
            .filter_map(|l| parse(l))
            .map(|e| e.peer + 1)
            .max()
            .unwrap_or(1);
        all
    } else {
        Vec::new()
    };
    let mut write = |text: &str| -> Result<(), String> {
        match out.write_all(text.as_bytes()) {
            // A closed pipe (`| head`) is the reader's choice, not an error.
            Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
            other => other.map_err(|e| format!("cannot write: {e}")),
        }
    };
    write(&renderer.header())?;
    for line in buffered {
        write(&renderer.render(&line))?;
    }
    for line in lines {
        write(&renderer.render(&line.map_err(failed_read)?))?;
    }
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn renderer(columns: usize) -> Renderer {
        Renderer {
            columns,
            width: 18 + 3 * 20,
            color: false,
            just: Vec::new(),
            ignore: Vec::new(),
        }
    }

    #[test]
    fn log_lines_parse_and_other_lines_do_not() {
        assert_eq!(
            parse("     512 VOTE     S2 T1 grants its vote to S0"),
            Some(Entry {
                ms: 512,
                topic: "VOTE",
                peer: 2,
                term: 1,
                text: "grants its vote to S0"
            })
        );
        for other in [
            "Test (3A): initial election ... Passed -- 3.1s peers 3 RPCs 52 bytes 5404 cmds 0",
            "thread 'raft-1' panicked at raft/src/node.rs:383:9:",
            "512 VOTE S2 grants",
            "",
            "x VOTE S2 T1 y",
        ] {
            assert_eq!(parse(other), None, "{other}");
        }
    }

    #[test]
    fn each_peer_gets_its_column_and_other_lines_pass_through() {
        let r = renderer(3);
        assert_eq!(
            r.render("10 VOTE S0 T1 starts voting"),
            format!("{:>8} VOTE     T1 starts voting\n", 10)
        );
        let line = r.render("  12 LEADER   S2 T1 becomes leader");
        assert_eq!(
            line,
            format!("{:>8} LEADER   {}T1 becomes leader\n", 12, " ".repeat(40))
        );
        let raw = "thread 'raft-1' panicked at raft/src/node.rs:383:9:";
        assert_eq!(r.render(raw), format!("{raw}\n"));
        // A peer beyond the columns is not dropped either.
        assert_eq!(r.render("1 VOTE S7 T1 x"), "1 VOTE S7 T1 x\n");
        assert_eq!(
            r.header(),
            format!(
                "{:>8} {:<8} S0{}S1{}S2\n",
                "ms",
                "topic",
                " ".repeat(18),
                " ".repeat(18)
            )
        );
    }

    #[test]
    fn long_messages_wrap_inside_their_column() {
        let r = renderer(3);
        let out = r.render("5 APPEND S1 T2 appends up to 1234 and then a great deal more text");
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() >= 3, "{out}");
        for l in &lines[1..] {
            assert!(l.starts_with(&" ".repeat(18 + 20)), "{l:?}");
            assert!(l.chars().count() <= 18 + 40, "{l:?}");
        }
        assert_eq!(wrap("abcdefghij", 4), ["abcd", "efgh", "ij"]);
        assert_eq!(wrap("", 4), [""]);
    }

    #[test]
    fn topic_filters_hide_only_log_lines() {
        let mut r = renderer(2);
        r.just = topic_list(&["vote".into(), "Leader".into()], "--just").unwrap();
        assert!(!r.render("1 VOTE S0 T1 a").is_empty());
        assert!(r.render("1 APPEND S0 T1 a").is_empty());
        assert_eq!(r.render("panic!"), "panic!\n");
        r.just.clear();
        r.ignore = topic_list(&["append".into()], "--ignore").unwrap();
        assert!(r.render("1 APPEND S0 T1 a").is_empty());
        assert!(!r.render("1 COMMIT S0 T1 a").is_empty());
    }

    #[test]
    fn unknown_topics_are_errors() {
        let err = topic_list(&["votes".into()], "--just").unwrap_err();
        assert_eq!(
            err,
            "unknown topic `votes` in --just: topics are vote, leader, term, append, commit, snapshot, client, config, tester, timeline"
        );
    }

    #[test]
    fn tester_lines_run_across_every_column() {
        let r = renderer(3);
        let width = 18 + 3 * 20;
        assert_eq!(
            parse_tester("    1203 TESTER   crashes S2"),
            Some((1203, "crashes S2"))
        );
        assert_eq!(parse("    1203 TESTER   crashes S2"), None);
        assert_eq!(parse_tester("1203 VOTE S0 T1 x"), None);
        assert_eq!(parse_tester("TESTER crashes S2"), None);

        let out = r.render("    1203 TESTER   cuts S2 off from S0 S1 → {S0 S1} {S2}");
        let line = out.strip_suffix('\n').unwrap();
        assert!(!line.contains('\n'), "{out}");
        assert!(
            line.starts_with(&format!(
                "{:>8} TESTER   ── cuts S2 off from S0 S1 → {{S0 S1}} {{S2}} ─",
                1203
            )),
            "{line}"
        );
        // Ruled to the full width, past the last peer's column.
        assert_eq!(line.chars().count(), width, "{line}");
        assert!(line.ends_with("───"), "{line}");

        // Too long for one line: wrapped across the columns, not into one.
        let long = format!("5 TESTER the test FAILS: {}", "word ".repeat(30));
        let out = r.render(&long);
        let lines: Vec<&str> = out.lines().collect();
        assert!(lines.len() >= 3, "{out}");
        assert!(lines[0].starts_with(&format!("{:>8} TESTER   ── the test FAILS:", 5)));
        for l in &lines[1..] {
            assert!(l.starts_with(&" ".repeat(18 + 3)), "{l:?}");
            assert!(l.chars().count() <= width, "{l:?}");
        }
        assert!(lines.iter().all(|l| !l.contains('─') || l == &lines[0]));
    }

    #[test]
    fn tester_lines_are_a_topic_of_their_own() {
        let mut r = renderer(2);
        r.just = topic_list(&["vote".into()], "--just").unwrap();
        assert!(r.render("1 TESTER crashes S1").is_empty());
        r.just = topic_list(&["vote".into(), "tester".into()], "--just").unwrap();
        assert!(!r.render("1 TESTER crashes S1").is_empty());
        r.just.clear();
        r.ignore = topic_list(&["Tester".into()], "--ignore").unwrap();
        assert!(r.render("1 TESTER crashes S1").is_empty());
        assert!(!r.render("1 VOTE S0 T1 a").is_empty());
        // The code under test's timeline events are peer lines when they say S<n> T<term>.
        r.ignore.clear();
        assert!(
            r.render("9 TIMELINE S1 T2 becomes leader")
                .starts_with(&format!(
                    "{:>8} TIMELINE {}T2 becomes leader",
                    9,
                    " ".repeat(30)
                ))
        );
        r.ignore = topic_list(&["timeline".into()], "--ignore").unwrap();
        assert!(r.render("9 TIMELINE S1 T2 becomes leader").is_empty());
    }

    #[test]
    fn colour_only_when_asked() {
        let mut r = renderer(1);
        assert!(!r.render("1 VOTE S0 T1 a").contains('\u{1b}'));
        r.color = true;
        assert!(r.render("1 VOTE S0 T1 a").contains('\u{1b}'));
        assert!(!r.render("plain").contains('\u{1b}'));
        assert!(r.render("1 TESTER crashes S0").contains('\u{1b}'));
    }
}
