//! Checking a history file, with an optional HTML view: the whole `linearizability check`
//! command as one library call (the binary only parses arguments and prints).

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::checker::{Verdict, check_operations, check_operations_verbose};
use crate::history::{HistoryError, Operation};
use crate::model::Model;
use crate::models::kv::KvModel;
use crate::models::register::RegisterModel;
use crate::parse::LoadError;
use crate::parse::etcd::read_etcd_history;
use crate::parse::kv::read_kv_history;
use crate::visualize::{TimeUnit, VisualizeOptions, history_timeline, write_html};

/// Which model (and so which file format) to check a file against.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FileModel {
    /// Get/put/append key/value store, one Jepsen-style map per line ([`crate::parse::kv`]).
    Kv,
    /// Read/write/cas register, Jepsen etcd log ([`crate::parse::etcd`]).
    Register,
}

#[derive(Debug, Clone, Default)]
pub struct FileCheckOptions {
    /// Stop the search after this long and report `Unknown`.
    pub timeout: Option<Duration>,
    /// Also write the HTML view here.
    pub html: Option<PathBuf>,
}

/// Time the search for the HTML view may take when no timeout is given. The view needs a
/// verbose search, which runs every partition to the end even after one is found illegal;
/// some partitions take far longer to exhaust than the verdict does.
pub const VIEW_SEARCH_LIMIT: Duration = Duration::from_secs(10);

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileReport {
    pub verdict: Verdict,
    pub operations: usize,
    /// Where the HTML view was written, if it was asked for.
    pub html: Option<PathBuf>,
}

#[derive(Debug)]
pub enum FileCheckError {
    Load(LoadError),
    History(HistoryError),
    WriteHtml {
        path: PathBuf,
        error: std::io::Error,
    },
}

impl fmt::Display for FileCheckError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileCheckError::Load(error) => error.fmt(f),
            FileCheckError::History(error) => write!(f, "the history cannot be checked: {error}"),
            FileCheckError::WriteHtml { path, error } => {
                write!(
                    f,
                    "cannot write the HTML view to {}: {error}",
                    path.display()
                )
            }
        }
    }
}

impl std::error::Error for FileCheckError {}

impl From<LoadError> for FileCheckError {
    fn from(error: LoadError) -> Self {
        FileCheckError::Load(error)
    }
}

impl From<HistoryError> for FileCheckError {
    fn from(error: HistoryError) -> Self {
        FileCheckError::History(error)
    }
}

/// Reads `path`, checks it against `model`, and writes the HTML view if asked.
pub fn check_file(
    path: &Path,
    model: FileModel,
    options: &FileCheckOptions,
) -> Result<FileReport, FileCheckError> {
    let title = format!("Linearizability of {}", path.display());
    match model {
        FileModel::Kv => check_history(&KvModel, &read_kv_history(path)?, options, title),
        FileModel::Register => {
            check_history(&RegisterModel, &read_etcd_history(path)?, options, title)
        }
    }
}

fn check_history<M>(
    model: &M,
    history: &[Operation<M::Input, M::Output>],
    options: &FileCheckOptions,
    title: String,
) -> Result<FileReport, FileCheckError>
where
    M: Model + Sync,
    M::State: Send,
    M::Input: Sync,
    M::Output: Sync,
{
    let verdict = check_operations(model, history, options.timeout)?;
    let mut report = FileReport {
        verdict,
        operations: history.len(),
        html: None,
    };
    if let Some(path) = &options.html {
        let limit = options.timeout.unwrap_or(VIEW_SEARCH_LIMIT);
        let analysis = check_operations_verbose(model, history, Some(limit))?;
        let view_options = VisualizeOptions {
            title,
            time_unit: TimeUnit::Line,
            ..VisualizeOptions::default()
        };
        let mut timeline = history_timeline(model, history, &analysis, &view_options);
        if analysis.verdict != verdict {
            timeline.status = Some(crate::visualize::verdict_status(verdict));
            timeline.notes.push(format!(
                "The search for this page was limited to {:.1} s; partitions it did not finish in that time are marked undecided.",
                limit.as_secs_f64()
            ));
        }
        write_html(path, &timeline).map_err(|error| FileCheckError::WriteHtml {
            path: path.clone(),
            error,
        })?;
        report.html = Some(path.clone());
    }
    Ok(report)
}
