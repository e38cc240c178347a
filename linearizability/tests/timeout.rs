//! The time limit really stops the search: a hard history with a tiny limit comes back
//! `Unknown` promptly, in plain and in verbose mode, with one partition or many.

use std::time::{Duration, Instant};

use linearizability::models::kv::{KvInput, KvModel, KvOutput};
use linearizability::models::register::{RegisterInput, RegisterModel, RegisterOutput};
use linearizability::{Operation, Verdict, check_operations, check_operations_verbose};

/// `writers` concurrent writes of distinct values, then a read of a value nobody wrote:
/// not linearizable, but the search must try every order of the writes (with the cache,
/// every subset of them) before it can say so.
fn hard_register_history(writers: usize) -> Vec<Operation<RegisterInput, RegisterOutput>> {
    let mut history: Vec<_> = (0..writers)
        .map(|i| {
            Operation::returned(
                i,
                RegisterInput::Write(i as i64),
                0,
                RegisterOutput::Written,
                100,
            )
        })
        .collect();
    history.push(Operation::returned(
        writers,
        RegisterInput::Read,
        101,
        RegisterOutput::Read(Some(-1)),
        102,
    ));
    history
}

/// The same shape on several keys of the key/value store, so several partitions (and
/// threads) are busy when the limit hits.
fn hard_kv_history(keys: usize, writers: usize) -> Vec<Operation<KvInput, KvOutput>> {
    let mut history = Vec::new();
    for k in 0..keys {
        let key = format!("k{k}");
        for i in 0..writers {
            let put = KvInput::Put {
                key: key.clone(),
                value: format!("{i}"),
            };
            history.push(Operation::returned(i, put, 0, KvOutput::Done, 100));
        }
        history.push(Operation::returned(
            writers,
            KvInput::Get { key },
            101,
            KvOutput::Value("never".into()),
            102,
        ));
    }
    history
}

const LIMIT: Duration = Duration::from_millis(50);
/// Far above the limit, far below the minutes (or years) the full search would take.
const PROMPT: Duration = Duration::from_secs(2);

fn assert_prompt_unknown(verdict: Verdict, started: Instant) {
    let took = started.elapsed();
    assert_eq!(verdict, Verdict::Unknown);
    assert!(took < PROMPT, "a check limited to {LIMIT:?} took {took:?}");
}

#[test]
fn the_history_is_really_hard() {
    // Without this, a fast "Unknown" could just mean the history was easy.
    let started = Instant::now();
    let limit = Duration::from_millis(500);
    let verdict =
        check_operations(&RegisterModel, &hard_register_history(40), Some(limit)).unwrap();
    assert_eq!(
        verdict,
        Verdict::Unknown,
        "the search finished within 0.5 s"
    );
    assert!(started.elapsed() >= limit);
}

#[test]
fn a_tiny_limit_returns_unknown_promptly() {
    let history = hard_register_history(40);
    let started = Instant::now();
    assert_prompt_unknown(
        check_operations(&RegisterModel, &history, Some(LIMIT)).unwrap(),
        started,
    );
}

#[test]
fn a_tiny_limit_returns_unknown_promptly_in_verbose_mode() {
    let history = hard_register_history(40);
    let started = Instant::now();
    let analysis = check_operations_verbose(&RegisterModel, &history, Some(LIMIT)).unwrap();
    assert_prompt_unknown(analysis.verdict, started);
    assert_eq!(analysis.partitions[0].verdict, Verdict::Unknown);
    assert!(
        !analysis.partitions[0].longest.is_empty(),
        "the prefix found so far is kept"
    );
}

#[test]
fn a_tiny_limit_stops_every_partition() {
    let history = hard_kv_history(6, 40);
    let started = Instant::now();
    assert_prompt_unknown(
        check_operations(&KvModel, &history, Some(LIMIT)).unwrap(),
        started,
    );
    let started = Instant::now();
    let analysis = check_operations_verbose(&KvModel, &history, Some(LIMIT)).unwrap();
    assert_prompt_unknown(analysis.verdict, started);
    assert!(
        analysis
            .partitions
            .iter()
            .all(|p| p.verdict == Verdict::Unknown)
    );
}

#[test]
fn an_illegal_partition_decides_even_when_others_run_out_of_time() {
    let mut history = hard_kv_history(3, 40);
    // Key "easy": a get that sees a value nobody put, alone: illegal at once.
    history.push(Operation::returned(
        0,
        KvInput::Get { key: "easy".into() },
        500,
        KvOutput::Value("x".into()),
        501,
    ));
    let started = Instant::now();
    // Without a limit the plain check must still end quickly: the illegal partition stops
    // the hard ones.
    assert_eq!(
        check_operations(&KvModel, &history, None).unwrap(),
        Verdict::Illegal
    );
    assert!(started.elapsed() < PROMPT, "took {:?}", started.elapsed());
    let analysis = check_operations_verbose(&KvModel, &history, Some(LIMIT)).unwrap();
    assert_eq!(analysis.verdict, Verdict::Illegal);
    let verdicts: Vec<Verdict> = analysis.partitions.iter().map(|p| p.verdict).collect();
    assert_eq!(
        verdicts.iter().filter(|v| **v == Verdict::Illegal).count(),
        1
    );
    assert_eq!(
        verdicts.iter().filter(|v| **v == Verdict::Unknown).count(),
        3
    );
}
