//! `labtool`: what students and instructors of the Raft labs otherwise script by hand.
//!
//! - `stress`: run tests many times on several workers, with live progress, a table of
//!   failures and times, and the logs and seeds of failed runs;
//! - `grade`: score parts from verdicts a submission cannot forge, with JSON and JUnit;
//! - `logs`: raftlab logs as one column per peer, coloured by topic;
//! - `viz`: run a test and write the HTML timeline of what happened in it;
//! - `handout`: generate the student handout (guided or open) from the solution workspace;
//! - `mutants`: apply a catalogue of realistic bugs one at a time and report which test
//!   kills each (for course maintainers changing the suite).
//!
//! Tests run as processes of the test binaries cargo builds (one process per run), so a
//! run that crashes, hangs or exits early affects only itself. Exit status: 0 when
//! everything passed, 1 when a run failed, 2 for bad input, 130 when interrupted.

mod cpu;
mod grade;
mod gradescope;
mod handout;
mod interrupt;
mod logs;
mod markers;
mod mutants;
mod pool;
mod replay;
mod report;
mod run;
mod stats;
mod stress;
mod suite;
mod table;
mod viz;

use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Args, Parser, Subcommand};

use suite::Profile;

#[derive(Parser)]
#[command(
    name = "labtool",
    version,
    about = "Stress, grade, logs, timelines and the handout for raftlab's Raft labs"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run tests many times on several workers; report failures and times per test.
    ///
    /// Logs and seeds of failed runs are kept in a timestamped folder (stress/… in the target directory);
    /// passing runs' logs are deleted unless --keep-all. Exit status 1 if any run failed.
    Stress {
        /// Tests to run: names (basic_agree_3B), parts (3A) or substrings of names.
        tests: Vec<String>,
        /// Runs per test.
        #[arg(short = 'n', long = "runs", default_value_t = 10, value_parser = at_least_one)]
        runs: usize,
        /// Runs at a time (the tests mostly sleep, so many fit on a core; stress warns if
        /// the machine was saturated).
        #[arg(short = 'j', long = "workers", default_value_t = grade::DEFAULT_WORKERS, value_parser = at_least_one)]
        workers: usize,
        /// The folder for logs (default: stress/<date>-<time> in the target directory).
        #[arg(short = 'o', long, value_name = "DIR")]
        output: Option<PathBuf>,
        /// Keep the logs of passing runs too.
        #[arg(long)]
        keep_all: bool,
        /// RUST_LOG for the runs, e.g. raft=debug (read the logs with `labtool logs`).
        #[arg(long, value_name = "FILTER")]
        log: Option<String>,
        /// Run in sim mode (RAFTLAB_SIM=1): each run a seeded simulation on a virtual clock,
        /// fast, and each failure replays exactly from its seed (`labtool replay`).
        #[arg(long)]
        sim: bool,
        #[command(flatten)]
        build: BuildArgs,
    },
    /// Run one test again in sim mode with a seed, with logs and its HTML timeline; with
    /// --check, twice, comparing the two runs (trace hash, log output) to show the run is
    /// deterministic, or where it is not.
    Replay {
        /// The test's name (e.g. figure8_unreliable_3C).
        test: String,
        /// The seed (from a failure's replay line, or any number).
        #[arg(long, value_parser = parse_seed)]
        seed: u64,
        /// RUST_LOG for the run (default: the Raft peers' and the tester's lines).
        #[arg(long, value_name = "FILTER", default_value = replay::DEFAULT_LOG)]
        log: String,
        /// Run twice and compare.
        #[arg(long)]
        check: bool,
        #[command(flatten)]
        build: BuildArgs,
    },
    /// Run every test of the chosen parts K times and print a score table.
    ///
    /// A run passes only if the harness's verdict for it (stamped with a nonce this run
    /// chose) says so and its process exits cleanly. Exit status 1 if any run failed.
    Grade {
        /// Parts to grade, comma-separated (default: every part the suites have).
        #[arg(long, value_delimiter = ',', value_name = "PARTS")]
        parts: Option<Vec<String>>,
        /// Runs per test.
        #[arg(long, default_value_t = 1, value_parser = at_least_one)]
        runs: usize,
        /// Runs at a time, across all parts (the tests mostly sleep, so many fit on a core;
        /// grade warns if the machine was saturated).
        #[arg(short = 'j', long = "workers", default_value_t = grade::DEFAULT_WORKERS, value_parser = at_least_one)]
        workers: usize,
        /// Write the results as JSON to this file.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        /// Write the results as JUnit XML to this file.
        #[arg(long, value_name = "FILE")]
        junit: Option<PathBuf>,
        /// Write the results in Gradescope's autograder format (results.json) to this file.
        #[arg(long, value_name = "FILE")]
        gradescope: Option<PathBuf>,
        /// Seconds each part may take in all, from its first run's start (its runs past
        /// that fail).
        #[arg(long, default_value_t = 600, value_name = "SECS", value_parser = at_least_one_u64)]
        part_limit: u64,
        /// CPU seconds (user + system) a part may use for one run of each of its tests;
        /// a part over it scores nothing. The 6.5840 guidance is about 60 s for all of 3A-3D.
        #[arg(long, value_name = "SECS", value_parser = positive_secs)]
        cpu_limit: Option<f64>,
        /// Run in sim mode (RAFTLAB_SIM=1): fast and exactly replayable, but CPU is free in
        /// virtual time, so the speed tests and --cpu-limit judge nothing (see README).
        #[arg(long)]
        sim: bool,
        #[command(flatten)]
        build: BuildArgs,
    },
    /// Show raftlab logs one column per peer, coloured by topic.
    ///
    /// Reads lines `<ms> <TOPIC> S<peer> T<term> <message>` (RUST_LOG=raft=debug ...
    /// --nocapture), and draws the tester's own lines `<ms> TESTER <message>` (starts,
    /// crashes, link changes, network settings, checks; RUST_LOG=raft=debug,tests=info)
    /// across all the columns; other lines (result lines, panics) pass through unchanged.
    /// Colour only on a terminal, and never with NO_COLOR set.
    Logs {
        /// The log file, or - for standard input.
        #[arg(default_value = "-")]
        file: String,
        /// Number of peer columns (default: one per peer seen; reads all input first).
        #[arg(short = 'c', long, value_parser = at_least_one)]
        columns: Option<usize>,
        /// Show only these topics (comma-separated: vote,leader,...; tester for the
        /// tester's lines, timeline for the events your code logs for the timeline).
        #[arg(short = 'j', long, value_delimiter = ',', value_name = "TOPICS")]
        just: Vec<String>,
        /// Hide these topics (comma-separated).
        #[arg(short = 'i', long, value_delimiter = ',', value_name = "TOPICS")]
        ignore: Vec<String>,
    },
    /// Run one test and write the HTML timeline of it; print where it is.
    ///
    /// The timeline shows servers over time (up, crashed, cut off, leader and term),
    /// the network's settings and the tester's checks. Raft tests (3A-3D) write it
    /// themselves when they fail (RAFTLAB_VIZ=always|never changes that); Lab 4 tests
    /// write their history view instead.
    Viz {
        /// The test: its exact name, e.g. figure8_3C.
        test: String,
        /// Where to write the page (default: viz/<test>.html in the target directory).
        #[arg(short = 'o', long, value_name = "FILE")]
        output: Option<PathBuf>,
        #[command(flatten)]
        build: BuildArgs,
    },
    /// Generate the student handout from the solution workspace.
    ///
    /// Guided (the default): solution code between `// solution:begin` and
    /// `// solution:skeleton` is dropped and the commented skeleton up to
    /// `// solution:end` is uncommented, so the plumbing stays and each rule is a
    /// todo!(). Open: raft and kvraft are the lab's API with todo!() bodies (the solution
    /// workspace keeps them under labtool/open), the design left to the student. The
    /// tests and the tester are copied unchanged.
    Handout {
        /// The folder to create (must not exist, or be empty).
        out: PathBuf,
        /// The solution workspace (default: the one around the current directory).
        #[arg(short = 'C', long, value_name = "DIR")]
        dir: Option<PathBuf>,
        /// How much the handout gives away: guided (plumbing given, rules to write) or
        /// open (the API only).
        #[arg(long, value_enum, default_value_t = handout::Level::Guided)]
        level: handout::Level,
        /// Keep the solutions of these parts, comma-separated: e.g. 3A,3B,3C,3D hands out
        /// part 3E on a working Raft. At the open level a crate is kept whole or not at
        /// all: 3A,3B,3C,3D,3E keeps raft (Lab 4 on a working Raft); kvraft is kept only
        /// with raft.
        #[arg(long, value_delimiter = ',', value_name = "PARTS")]
        solved: Vec<String>,
    },
    /// Apply each mutant of a catalogue of realistic bugs to a copy of the workspace and
    /// run its part (then the later parts of its lab) until a test kills it.
    ///
    /// Prints the kill matrix (which test killed each mutant, in which part, after how
    /// long, with what message; and the first randomized test, probes left out) and a
    /// summary per part. Exit status 1 if a mutant survived, 2 if the catalogue no longer
    /// fits the code.
    Mutants {
        /// The catalogue (default: mutants/catalogue.toml in the workspace).
        #[arg(long, value_name = "FILE")]
        catalogue: Option<PathBuf>,
        /// Only these mutants, comma-separated ids.
        #[arg(long, value_delimiter = ',', value_name = "IDS")]
        only: Option<Vec<String>>,
        /// Passes of a mutant's own part before it counts as surviving it.
        #[arg(long, default_value_t = 3, value_parser = at_least_one)]
        runs: usize,
        /// Test runs at a time.
        #[arg(short = 'j', long = "workers", default_value_t = grade::DEFAULT_WORKERS, value_parser = at_least_one)]
        workers: usize,
        /// Write the kill matrix as JSON to this file.
        #[arg(long, value_name = "FILE")]
        json: Option<PathBuf>,
        #[command(flatten)]
        build: BuildArgs,
    },
}

#[derive(Args)]
struct BuildArgs {
    /// The workspace to test (default: the one around the current directory).
    #[arg(short = 'C', long, value_name = "DIR")]
    dir: Option<PathBuf>,
    /// Build the tests without optimisations (cargo's dev profile); default --release.
    #[arg(long)]
    debug: bool,
}

impl BuildArgs {
    fn profile(&self) -> Profile {
        if self.debug {
            Profile::Debug
        } else {
            Profile::Release
        }
    }
}

fn parse_seed(s: &str) -> Result<u64, String> {
    s.trim()
        .parse::<u64>()
        .map_err(|_| format!("`{s}` is not a seed (a whole number from 0 to 18446744073709551615)"))
}

fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(_) => Err(format!("`{s}` is not a whole number")),
    }
}

fn at_least_one_u64(s: &str) -> Result<u64, String> {
    at_least_one(s).map(|n| n as u64)
}

fn positive_secs(s: &str) -> Result<f64, String> {
    match s.parse::<f64>() {
        Ok(x) if x.is_finite() && x > 0.0 => Ok(x),
        Ok(_) => Err("must be a positive number of seconds".into()),
        Err(_) => Err(format!("`{s}` is not a number of seconds")),
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Stress {
            tests,
            runs,
            workers,
            output,
            keep_all,
            log,
            sim,
            build,
        } => stress::stress(stress::Options {
            tests,
            runs,
            workers,
            output,
            keep_all,
            log,
            sim,
            profile: build.profile(),
            dir: build.dir,
        }),
        Command::Replay {
            test,
            seed,
            log,
            check,
            build,
        } => replay::replay(replay::Options {
            test,
            seed,
            log,
            check,
            dir: build.dir.clone(),
            profile: build.profile(),
        }),
        Command::Grade {
            parts,
            runs,
            workers,
            json,
            junit,
            gradescope,
            part_limit,
            cpu_limit,
            sim,
            build,
        } => grade::grade(grade::Options {
            parts,
            runs,
            workers,
            json,
            junit,
            gradescope,
            part_limit: Duration::from_secs(part_limit),
            cpu_limit,
            sim,
            profile: build.profile(),
            dir: build.dir,
        }),
        Command::Logs {
            file,
            columns,
            just,
            ignore,
        } => logs::logs(&logs::Options {
            file,
            columns,
            just,
            ignore,
        }),
        Command::Viz {
            test,
            output,
            build,
        } => viz::viz(&test, output, build.dir.as_deref(), build.profile()),
        Command::Handout {
            out,
            dir,
            level,
            solved,
        } => handout::handout(&out, dir.as_deref(), level, &solved),
        Command::Mutants {
            catalogue,
            only,
            runs,
            workers,
            json,
            build,
        } => mutants::mutants(mutants::Options {
            catalogue,
            only,
            runs,
            workers,
            json,
            profile: build.profile(),
            dir: build.dir,
        }),
    };
    match result {
        Ok(code) => code,
        Err(message) => {
            eprintln!("labtool: error: {message}");
            ExitCode::from(2)
        }
    }
}
