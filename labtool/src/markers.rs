//! The solution markers in the solution's sources, and the skeleton they leave:
//!
//! ```text
//! // solution:begin 3A Compare the candidate's last entry with ours (§5.4.1).
//! … solution code: dropped …
//! // solution:skeleton
//! // todo!("3A: compare the candidate's last entry with ours (§5.4.1)")
//! // solution:end
//! ```
//!
//! Lines from `begin` to `skeleton` are dropped; the commented lines from `skeleton` to
//! `end` are uncommented. The tag after `begin` is the part (`3A` … `4C`) the code
//! belongs to. A section may have no skeleton (`begin` … `end`: all dropped).

const PREFIX: &str = "// solution:";

/// What a file's markers held.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Stripped {
    pub text: String,
    /// The tag of each section replaced by its skeleton, in order.
    pub sections: Vec<String>,
    /// The tag of each section whose solution was kept ([`strip`]), in order.
    pub kept: Vec<String>,
}

enum State {
    Code,
    /// Inside a solution, begun at this line; `true` if it is kept.
    Solution(usize, bool),
    Skeleton(usize, bool),
}

/// The skeleton of `text` (the file `name`, for messages), except that the sections
/// tagged with a part in `solved` keep their solution (and lose their skeleton): a
/// handout that starts on a working Raft.
pub fn strip(name: &str, text: &str, solved: &[String]) -> Result<Stripped, String> {
    let mut out = Stripped::default();
    let mut state = State::Code;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let trimmed = line.trim_start();
        let at = |what: &str| format!("{name}:{n}: {what}");
        if let Some(marker) = trimmed.strip_prefix(PREFIX) {
            let mut words = marker.split_whitespace();
            match (words.next(), &state) {
                (Some("begin"), State::Code) => {
                    let tag = words.next().ok_or_else(|| {
                        at("`solution:begin` needs a part, e.g. `// solution:begin 3A <hint>`")
                    })?;
                    let keep = solved.iter().any(|p| p == tag);
                    if keep {
                        out.kept.push(tag.to_owned());
                    } else {
                        out.sections.push(tag.to_owned());
                    }
                    state = State::Solution(n, keep);
                }
                (Some("skeleton"), State::Solution(begun, keep)) => {
                    state = State::Skeleton(*begun, *keep)
                }
                (Some("end"), State::Solution(..) | State::Skeleton(..)) => state = State::Code,
                (Some(word @ ("begin" | "skeleton" | "end")), _) => {
                    return Err(at(&format!(
                        "`solution:{word}` out of order{}",
                        match state {
                            State::Code => " (no section is open)".to_owned(),
                            State::Solution(b, _) | State::Skeleton(b, _) =>
                                format!(" (the section begun at line {b} is still open)"),
                        }
                    )));
                }
                (other, _) => {
                    return Err(at(&format!(
                        "unknown marker `solution:{}`: markers are begin, skeleton and end",
                        other.unwrap_or("")
                    )));
                }
            }
            continue;
        }
        match state {
            State::Code | State::Solution(_, true) => {
                out.text.push_str(line);
                out.text.push('\n');
            }
            State::Solution(_, false) | State::Skeleton(_, true) => {}
            State::Skeleton(_, false) => {
                let indent = &line[..line.len() - trimmed.len()];
                let code = if trimmed == "//" {
                    ""
                } else if let Some(code) = trimmed.strip_prefix("// ") {
                    code
                } else {
                    return Err(at("skeleton lines must be commented out with `// `"));
                };
                if !code.is_empty() {
                    out.text.push_str(indent);
                    out.text.push_str(code);
                }
                out.text.push('\n');
            }
        }
    }
    match state {
        State::Code => Ok(out),
        State::Solution(b, _) | State::Skeleton(b, _) => Err(format!(
            "{name}:{b}: the section begun here has no `// solution:end`"
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn solutions_are_dropped_and_skeletons_uncommented() {
        let src = "fn f(x: u64) -> u64 {\n    // solution:begin 3A Double it.\n    x * 2\n    // solution:skeleton\n    // let _ = x;\n    //\n    // todo!(\"3A: double it\")\n    // solution:end\n}\n";
        let out = strip("f.rs", src, &[]).unwrap();
        assert_eq!(
            out.text,
            "fn f(x: u64) -> u64 {\n    let _ = x;\n\n    todo!(\"3A: double it\")\n}\n"
        );
        assert_eq!(out.sections, ["3A"]);
    }

    #[test]
    fn solved_parts_keep_their_solution() {
        let src = "// solution:begin 3A Double it.\nx * 2\n// solution:skeleton\n// todo!(\"3A\")\n// solution:end\n// solution:begin 3E Halve it.\nx / 2\n// solution:skeleton\n// todo!(\"3E\")\n// solution:end\n";
        let out = strip("f.rs", src, &["3A".to_owned()]).unwrap();
        assert_eq!(out.text, "x * 2\ntodo!(\"3E\")\n");
        assert_eq!(
            (out.sections, out.kept),
            (vec!["3E".to_owned()], vec!["3A".to_owned()])
        );
    }

    #[test]
    fn a_section_without_skeleton_is_dropped_whole() {
        let src = "a\n// solution:begin tests Unit tests of the solution.\n#[cfg(test)]\nmod tests;\n// solution:end\nb\n";
        assert_eq!(strip("f.rs", src, &[]).unwrap().text, "a\nb\n");
    }

    #[test]
    fn text_without_markers_is_unchanged() {
        let src = "let s = \"// solution:begin is only a marker at the start of a line\";\n";
        let out = strip("f.rs", src, &[]).unwrap();
        assert_eq!(out.text, src);
        assert!(out.sections.is_empty());
    }

    #[test]
    fn malformed_markers_name_file_and_line() {
        let cases = [
            (
                "x\n// solution:begin\n",
                "f.rs:2: `solution:begin` needs a part",
            ),
            (
                "// solution:begin 3A h\ncode\n",
                "f.rs:1: the section begun here has no `// solution:end`",
            ),
            (
                "// solution:end\n",
                "f.rs:1: `solution:end` out of order (no section is open)",
            ),
            (
                "// solution:begin 3A h\n// solution:begin 3B h\n",
                "f.rs:2: `solution:begin` out of order (the section begun at line 1 is still open)",
            ),
            (
                "// solution:begin 3A h\n// solution:skeleton\nlet x = 1;\n// solution:end\n",
                "f.rs:3: skeleton lines must be commented out",
            ),
            (
                "// solution:start 3A\n",
                "f.rs:1: unknown marker `solution:start`",
            ),
        ];
        for (src, want) in cases {
            let err = strip("f.rs", src, &[]).unwrap_err();
            assert!(err.starts_with(want), "{src:?}: {err}");
        }
    }
}
