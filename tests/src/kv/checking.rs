//! Checking what the clerks did: the linearizability of the recorded history (Go's
//! `porcupine.go`), with its HTML view on a violation, and the log and snapshot sizes.

use std::time::Duration;

use linearizability::models::versioned_kv::{self, VersionedKvModel};
use linearizability::visualize::{VisualizeOptions, history_timeline, write_html};
use linearizability::{Verdict, check_operations_verbose};

use super::{CHECK_TIMEOUT, KvOperation, KvTest};
use crate::harness;

impl KvTest {
    /// Checks that the history so far is linearizable (Go's `CheckPorcupine`). A
    /// violation writes the HTML view (`VIS_ENABLE=never` to skip it, `VIS_FILE=path` to
    /// choose where) and fails; running out of time prints a warning.
    #[track_caller]
    pub fn check_porcupine(&self) {
        let history = self.history.lock().clone();
        // Real CPU time, outside the simulation's clock (a no-op in real mode).
        let checked = labrt::sim::compute(|| versioned_kv::check(&history, Some(CHECK_TIMEOUT)));
        let verdict = match checked {
            Ok(v) => v,
            Err(e) => self.fatal(format!("the recorded history is malformed: {e}")),
        };
        let always = std::env::var("VIS_ENABLE").as_deref() == Ok("always");
        match verdict {
            Verdict::Illegal => {
                let written = self.visualize(&history, "the history is not linearizable");
                self.fatal(format!("history is not linearizable{written}"));
            }
            Verdict::Unknown => harness::notice(&format!(
                "warning: linearizability check timed out after {} s: the history of {} operations \
                 was neither confirmed nor refuted",
                CHECK_TIMEOUT.as_secs(),
                history.len()
            )),
            Verdict::Ok if always => {
                self.visualize(&history, "the history is linearizable");
            }
            Verdict::Ok => {}
        }
    }

    /// Writes the HTML view of `history`; returns a note for the failure message.
    fn visualize(&self, history: &[KvOperation], title: &str) -> String {
        if std::env::var("VIS_ENABLE").as_deref() == Ok("never") {
            return String::new();
        }
        let analysis = match check_operations_verbose(
            &VersionedKvModel,
            history,
            Some(Duration::from_secs(10)),
        ) {
            Ok(a) => a,
            Err(e) => return format!(" (no visualization: {e})"),
        };
        let options = VisualizeOptions {
            title: format!("{}: {title}", self.setup.title()),
            ..VisualizeOptions::default()
        };
        let timeline = history_timeline(&VersionedKvModel, history, &analysis, &options);
        let path = match std::env::var("VIS_FILE") {
            Ok(p) => std::path::PathBuf::from(p),
            Err(_) => std::env::temp_dir().join(format!(
                "porcupine-{}-{}.html",
                std::process::id(),
                self.net().seed()
            )),
        };
        match write_html(&path, &timeline) {
            Ok(()) => {
                harness::notice(&format!(
                    "info: wrote history visualization to {}",
                    path.display()
                ));
                format!(" (visualization: {})", path.display())
            }
            Err(e) => format!(
                " (failed to write the visualization to {}: {e})",
                path.display()
            ),
        }
    }

    /// Fails the test if the logs or snapshots break the test's size limits.
    #[track_caller]
    pub fn check_sizes(&self) {
        match self.setup.maxraftstate {
            Some(max) => {
                let size = self.log_size();
                if size > 8 * max {
                    self.fatal(format!("logs were not trimmed ({size} > 8*{max})"));
                }
            }
            None => {
                let size = self.snapshot_size();
                if size > 0 {
                    self.fatal(format!(
                        "snapshot too large ({size}), should not be used when maxraftstate = -1"
                    ));
                }
            }
        }
    }
}
