//! Migrating 10,000 documents through a three-step chain: compiled steps
//! against the interpreter, and both against a plain serde_json parse +
//! serialize of the same documents, measured in the same run.
//!
//! Targets: compiled ≤ 1.5× parse+serialize per document; compiled ≥ 2×
//! faster than the interpreter. Run with `cargo bench --bench migrate`
//! (`SW_BENCH_SMOKE=1`: one round over 50 documents, to keep it from
//! going stale).

use std::hint::black_box;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use statewright::migrate::{Hooks, StepFn, run_ops};
use statewright::spec::migration::{self, MigrationSet};

#[allow(dead_code)]
mod compiled {
    include!("../tests/generated/bench_steps.rs");
}

/// Whether to run once over a tiny input (`SW_BENCH_SMOKE=1`).
fn smoke() -> bool {
    std::env::var_os("SW_BENCH_SMOKE").is_some_and(|v| v != "0")
}

fn document(i: usize) -> Value {
    let tiers = ["gold", "silver", "bronze"];
    let mut services = serde_json::Map::new();
    for s in 0..12 {
        services.insert(
            format!("svc-{s}"),
            json!({
                "image": format!("registry.example.net/team{}/svc-{s}", i % 7),
                "tag": format!("1.{}.{}", i % 13, s),
                "replicas": ((i + s) % 9 + 1).to_string(),
                "tier": tiers[(i + s) % 3],
                "region": if s % 2 == 0 { "eu-west-1" } else { "us-east-2" },
            }),
        );
    }
    json!({"schema_version": 1, "defaults": {"channel": "stable"}, "services": services})
}

/// One timed run of `f` over a fresh input from `setup` (what `f` returns
/// is dropped outside the measurement).
fn once<T, R>(setup: impl FnOnce() -> T, f: impl FnOnce(T) -> R) -> Duration {
    let input = setup();
    let t = Instant::now();
    let out = black_box(f(input));
    let elapsed = t.elapsed();
    drop(out);
    elapsed
}

fn main() {
    let (docs, rounds) = if smoke() { (50, 1) } else { (10_000, 9) };
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/bench-migrations");
    let set: MigrationSet = migration::load_dir(&dir).expect("bench migrations parse");
    let texts: Vec<String> = (0..docs).map(|i| document(i).to_string()).collect();
    let values: Vec<Value> = texts
        .iter()
        .map(|t| serde_json::from_str(t).unwrap())
        .collect();
    let steps: Vec<StepFn> = compiled::STEPS.iter().map(|s| s.up).collect();
    assert_eq!(steps.len(), 3, "a three-step chain");
    let hooks = Hooks::new();

    // The three are measured in turn within each round and the fastest
    // round of each kept, so that load changing during the run (a shared
    // CI machine) weighs on all three alike.
    let mut base = Duration::MAX;
    let mut compiled = Duration::MAX;
    let mut interpreted = Duration::MAX;
    let mut whole = Duration::MAX;
    for _ in 0..rounds {
        base = base.min(once(
            || (),
            |()| {
                for t in &texts {
                    let v: Value = serde_json::from_str(black_box(t)).unwrap();
                    black_box(serde_json::to_string(&v).unwrap());
                }
            },
        ));
        compiled = compiled.min(once(
            || values.clone(),
            |mut docs| {
                for d in &mut docs {
                    for f in &steps {
                        f(d).unwrap();
                    }
                }
                docs
            },
        ));
        interpreted = interpreted.min(once(
            || values.clone(),
            |mut docs| {
                for d in &mut docs {
                    for m in &set.migrations {
                        run_ops(&m.file.ops, d, &hooks).unwrap();
                    }
                }
                docs
            },
        ));
    }
    // The whole upgrade of a text (parse, steps, serialize) is measured
    // after the targets, in rounds of its own: its freeing of every parsed
    // document leaves the allocator in a state that would weigh on
    // whichever measurement came next.
    for _ in 0..rounds {
        whole = whole.min(once(
            || (),
            |()| {
                for t in &texts {
                    let mut v: Value = serde_json::from_str(black_box(t)).unwrap();
                    for f in &steps {
                        f(&mut v).unwrap();
                    }
                    black_box(serde_json::to_string(&v).unwrap());
                }
            },
        ));
    }
    same_output(&set, &values[..50], &steps, &hooks);

    let per = |d: Duration| d.as_secs_f64() * 1e9 / docs as f64;
    println!("migrate bench: {docs} documents, 12 services each, 3-step chain (best of {rounds})");
    println!("  serde_json parse + serialize : {:>9.0} ns/doc", per(base));
    println!(
        "  compiled steps               : {:>9.0} ns/doc",
        per(compiled)
    );
    println!(
        "  interpreter                  : {:>9.0} ns/doc",
        per(interpreted)
    );
    println!(
        "  parse + compiled + serialize : {:>9.0} ns/doc  ({:.2}x parse+serialize; the whole upgrade of a text)",
        per(whole),
        per(whole) / per(base)
    );
    let cost = per(compiled) / per(base);
    let speedup = per(interpreted) / per(compiled);
    println!(
        "  compiled / parse+serialize   : {cost:>9.2}x  (target <= 1.50x) {}",
        verdict(cost <= 1.5)
    );
    println!(
        "  interpreter / compiled       : {speedup:>9.2}x  (target >= 2.00x) {}",
        verdict(speedup >= 2.0)
    );
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "MISSED" }
}

fn same_output(set: &MigrationSet, docs: &[Value], steps: &[StepFn], hooks: &Hooks) {
    for d in docs {
        let (mut a, mut b) = (d.clone(), d.clone());
        for (m, f) in set.migrations.iter().zip(steps) {
            run_ops(&m.file.ops, &mut a, hooks).unwrap();
            f(&mut b).unwrap();
        }
        assert_eq!(a, b);
    }
}
