//! In-process cost of `Validator::validate_bytes` against the floor set by
//! the `jsonschema` crate alone, on the jsonschema-rs benchmark pairs
//! (`../shared/corpus/jsonschema-rs-bench`).
//!
//! Per pair, two measurements, interleaved sample by sample so both see the
//! same machine noise:
//!
//! - floor: `serde_json::from_slice::<Value>` + `is_valid` on a validator
//!   compiled once by `jsonschema::validator_for`;
//! - statewright: `Validator::validate_bytes(path, bytes.clone(), &Target::Schema(..))`
//!   on a validator created once (the schema is compiled on the warm-up
//!   call and cached): strict parse + validate + findings. The `clone` of
//!   the input is part of the loop (the API takes the bytes by value) and
//!   is reported on its own.
//!
//! Each measurement runs for about `SW_BENCH_SECS` seconds (default 1): the
//! iteration count is scaled from a calibration run and split into up to 31
//! samples; the median per-iteration time of the samples is reported.
//!
//! Run: `cargo bench --bench validate` (optionally `-- FILTER` to run only
//! pairs whose instance name contains FILTER).

use std::hint::black_box;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use statewright::spec::OfflineRegistry;
use statewright::validate::{Target, ValidateOptions, Validator};

/// Target: statewright at most this many times the floor on large pairs.
const TARGET: f64 = 1.2;
/// Instances this large or larger are "large pairs", the ones the target is for.
const LARGE: usize = 100_000;
const MAX_SAMPLES: usize = 31;

struct Pair {
    schema: PathBuf,
    instance: PathBuf,
}

/// The pairs of PAIRS.txt whose files exist: `schema -> a, b (comment)`.
fn pairs(root: &Path) -> Vec<Pair> {
    let text = std::fs::read_to_string(root.join("PAIRS.txt"))
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", root.join("PAIRS.txt").display()));
    let mut out = Vec::new();
    for line in text.lines() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let Some((schema, rest)) = line.split_once("->") else {
            continue;
        };
        let rest = rest.split(" (").next().unwrap_or(rest);
        let schema = root.join(schema.trim());
        for inst in rest.split(',') {
            let instance = root.join(inst.trim());
            if schema.is_file() && instance.is_file() {
                out.push(Pair {
                    schema: schema.clone(),
                    instance,
                });
            } else {
                eprintln!("skipped (absent from the snapshot): {line}");
            }
        }
    }
    out
}

/// Calls `f` `n` times and returns the mean time per call.
fn per_iter(n: usize, f: &mut dyn FnMut()) -> Duration {
    let t = Instant::now();
    for _ in 0..n {
        f();
    }
    t.elapsed() / n as u32
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// Medians of `fs`, measured together: each sample runs every function for
/// the same number of iterations, one after the other, so that noise on
/// the machine hits them alike.
fn measure(budget: Duration, fs: &mut [&mut dyn FnMut()]) -> (Vec<Duration>, usize) {
    // Calibrate: one warm call each, then each for ~50 ms; the slowest
    // function sets the iteration count, so it runs for about `budget`.
    let mut slowest = Duration::ZERO;
    for f in fs.iter_mut() {
        f();
        let t = Instant::now();
        let mut calls = 0u32;
        while t.elapsed() < Duration::from_millis(50) {
            f();
            calls += 1;
        }
        slowest = slowest.max(t.elapsed() / calls);
    }
    let n = (budget.as_secs_f64() / slowest.as_secs_f64()).ceil() as usize;
    let n = n.max(5);
    let samples = n.min(MAX_SAMPLES);
    let batch = n.div_ceil(samples);
    let mut times: Vec<Vec<Duration>> = vec![Vec::with_capacity(samples); fs.len()];
    for _ in 0..samples {
        for (i, f) in fs.iter_mut().enumerate() {
            times[i].push(per_iter(batch, *f));
        }
    }
    (times.into_iter().map(median).collect(), samples * batch)
}

/// Milliseconds with four significant digits.
fn ms(d: Duration) -> String {
    let v = d.as_secs_f64() * 1e3;
    let decimals = if v <= 0.0 {
        4
    } else {
        (3 - v.log10().floor() as i32).clamp(0, 7) as usize
    };
    format!("{v:.decimals$}")
}

#[path = "../tests/common/corpus.rs"]
mod shared_corpus;

fn main() {
    let filter: Option<String> = std::env::args().skip(1).find(|a| !a.starts_with('-'));
    let budget = Duration::from_secs_f64(
        std::env::var("SW_BENCH_SECS")
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or(1.0),
    );
    let root = shared_corpus::corpus().join("jsonschema-rs-bench");

    let pairs = pairs(&root);
    println!(
        "in-process validate: floor = serde_json::from_slice + jsonschema is_valid; \
         statewright = Validator::validate_bytes (strict parse + validate + findings)"
    );
    println!(
        "median per call, ~{:.1} s per measurement; target <= {TARGET}x on large pairs (instance >= {} kB)",
        budget.as_secs_f64(),
        LARGE / 1000
    );
    println!();
    println!(
        "{:<40} {:>9} {:>7} {:>10} {:>14} {:>9} {:>7} {:>8}  target",
        "pair (schema -> instance)",
        "size",
        "iters",
        "floor ms",
        "statewright ms",
        "clone ms",
        "ratio",
        "findings",
    );
    let mut misses = Vec::new();
    let mut large_pairs = 0;
    for pair in pairs {
        let name = format!(
            "{} -> {}",
            pair.schema.file_stem().unwrap().to_string_lossy(),
            pair.instance.file_stem().unwrap().to_string_lossy()
        );
        if filter.as_ref().is_some_and(|f| !name.contains(f.as_str())) {
            continue;
        }
        let bytes = std::fs::read(&pair.instance).expect("read instance");
        let schema: Value =
            serde_json::from_slice(&std::fs::read(&pair.schema).expect("read schema"))
                .expect("schema is JSON");

        // (a) the floor.
        let floor = jsonschema::validator_for(&schema).expect("floor compiles the schema");
        let expect_valid = floor.is_valid(&serde_json::from_slice::<Value>(&bytes).unwrap());

        // (b) statewright, schema compiled once and cached by the validator.
        let sw = Validator::new(None, OfflineRegistry::new(), ValidateOptions::default());
        let target = Target::Schema(pair.schema.clone());
        let report = sw
            .validate_bytes(&pair.instance, bytes.clone(), &target)
            .expect("statewright compiles the schema");
        let parse_failed = report.findings.iter().any(|f| f.keyword.is_none());
        let findings = report.findings.len();
        assert_eq!(
            report.findings.is_empty(),
            expect_valid,
            "{name}: statewright and the floor disagree: {:?}",
            report.findings.first().map(|f| &f.message)
        );

        let mut run_floor = || {
            let v: Value = serde_json::from_slice(black_box(&bytes)).unwrap();
            black_box(floor.is_valid(&v));
        };
        let mut run_sw = || {
            let r = sw
                .validate_bytes(black_box(&pair.instance), bytes.clone(), &target)
                .unwrap();
            black_box(r);
        };
        let mut run_clone = || {
            black_box(black_box(&bytes).clone());
        };
        let (t, iters) = measure(budget, &mut [&mut run_floor, &mut run_sw, &mut run_clone]);
        let (f, s, c) = (t[0], t[1], t[2]);
        let ratio = s.as_secs_f64() / f.as_secs_f64();
        let large = bytes.len() >= LARGE;
        large_pairs += usize::from(large);
        let verdict = match (large, ratio <= TARGET) {
            (true, true) => "met".to_owned(),
            (true, false) => {
                misses.push(name.clone());
                "NOT MET".to_owned()
            }
            (false, _) => "(small; not a target pair)".to_owned(),
        };
        println!(
            "{:<40} {:>8}B {:>7} {:>10} {:>14} {:>9} {:>6.2}x {:>8}  {}{}",
            name,
            bytes.len(),
            iters,
            ms(f),
            ms(s),
            ms(c),
            ratio,
            findings,
            verdict,
            if parse_failed {
                "  (statewright did not parse it: see findings)"
            } else {
                ""
            }
        );
    }
    println!();
    if large_pairs == 0 {
        println!("no large pair measured");
    } else if misses.is_empty() {
        println!("target <= {TARGET}x on every large pair: met");
    } else {
        println!("target <= {TARGET}x NOT met on: {}", misses.join(", "));
    }
}
