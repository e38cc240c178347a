//! `linearizability check FILE --model kv|register [--html OUT] [--timeout SECS]`

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, Subcommand, ValueEnum};
use linearizability::Verdict;
use linearizability::files::{FileCheckOptions, FileModel, check_file};

/// Exit status for bad arguments, unreadable or malformed files, or an HTML file that
/// cannot be written.
const EXIT_ERROR: u8 = 3;

#[derive(Parser)]
#[command(
    name = "linearizability",
    version,
    about = "Checks whether a history of client operations is linearizable (porcupine's algorithm)",
    after_help = "Exit status: 0 linearizable, 1 not linearizable, 2 unknown (the time limit ran out), \
                  3 bad arguments, an unreadable or malformed file, or an HTML file that cannot be written."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check one history file; prints `linearizable`, `not linearizable` or `unknown`.
    #[command(
        after_help = "Exit status: 0 linearizable, 1 not linearizable, 2 unknown (the time limit ran out), \
                            3 bad arguments, an unreadable or malformed file, or an HTML file that cannot be written."
    )]
    Check {
        /// The history file.
        file: PathBuf,
        /// The model, which also fixes the file format.
        #[arg(long, value_enum)]
        model: ModelArg,
        /// Write an HTML view of the history here (self-contained; opens offline).
        #[arg(long, value_name = "OUT")]
        html: Option<PathBuf>,
        /// Give up after this many seconds (fractions allowed) and report unknown.
        #[arg(long, value_name = "SECS", value_parser = parse_timeout)]
        timeout: Option<Duration>,
    },
}

#[derive(Clone, Copy, ValueEnum)]
enum ModelArg {
    /// Key/value store with get, put, append; one `{:process 0, :type :invoke, ...}` map per line.
    Kv,
    /// Register with read, write, cas; Jepsen etcd log lines.
    Register,
}

fn parse_timeout(text: &str) -> Result<Duration, String> {
    let seconds: f64 = text
        .parse()
        .map_err(|_| format!("{text:?} is not a number of seconds"))?;
    if !seconds.is_finite() || seconds <= 0.0 {
        return Err(format!(
            "the timeout must be a positive number of seconds, not {text}"
        ));
    }
    Duration::try_from_secs_f64(seconds).map_err(|e| format!("bad timeout {text}: {e}"))
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(error) => {
            let code = if error.use_stderr() { EXIT_ERROR } else { 0 };
            let _ = error.print();
            return ExitCode::from(code);
        }
    };
    let Command::Check {
        file,
        model,
        html,
        timeout,
    } = cli.command;
    let model = match model {
        ModelArg::Kv => FileModel::Kv,
        ModelArg::Register => FileModel::Register,
    };
    match check_file(&file, model, &FileCheckOptions { timeout, html }) {
        Ok(report) => {
            println!("{}", report.verdict);
            if let Some(path) = report.html {
                eprintln!("wrote the HTML view to {}", path.display());
            }
            ExitCode::from(match report.verdict {
                Verdict::Ok => 0,
                Verdict::Illegal => 1,
                Verdict::Unknown => 2,
            })
        }
        Err(error) => {
            eprintln!("error: {error}");
            ExitCode::from(EXIT_ERROR)
        }
    }
}
