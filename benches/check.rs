//! `check` over a generated state dir of 10,000 documents against the
//! floor of reading and parsing the same files with `serde_json`, in the
//! same run.
//!
//! The state dir holds 10,000 packer manifests (the example's shape, each
//! with its own values), written through the store twice (so each has a
//! backup, two audit lines and its envelope) under the repo's catalog.
//! `check` runs everything it runs for users: strict parse,
//! version, schema, artifacts, and the store checks (checksum, history
//! against the migration files, backups, temps, journal, lock, audit).
//! The floor is `std::fs::read` + `serde_json::from_slice::<Value>` per
//! file, on one thread. Runs are interleaved (floor, check, floor, ...)
//! and the median of each is reported.
//!
//! Target: check ≤ 1.5× the floor.
//!
//! Run: `cargo bench --bench check` (`SW_BENCH_DOCS` sets the count;
//! `SW_BENCH_SMOKE=1` runs once over 20 documents, to keep it from going
//! stale).

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use statewright::check::{CheckOptions, check_state};
use statewright::codes::Severity;
use statewright::spec::migration::load_dir;
use statewright::spec::{Catalog, OfflineRegistry, Project};
use statewright::store::{LockOptions, Store, StoreOptions, WriteContext};
use statewright::validate::{ValidateOptions, Validator};

const TARGET: f64 = 1.5;
/// Whether to run once over a tiny input (`SW_BENCH_SMOKE=1`).
fn smoke() -> bool {
    std::env::var_os("SW_BENCH_SMOKE").is_some_and(|v| v != "0")
}

/// Writes `n` packer manifests through the store, in transactions of
/// 1,000, twice (so each has a backup and two audit lines); their paths.
fn generate(catalog: &Catalog, dir: &Path, n: usize) -> Vec<PathBuf> {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut base: Value = serde_json::from_slice(
        &std::fs::read(repo.join("examples/state/packer-manifests/rocky-9.json")).unwrap(),
    )
    .unwrap();
    for stamp in ["serial", "lineage", "checksum", "generated_at", "origin"] {
        base.as_object_mut().unwrap().remove(stamp);
    }
    std::fs::create_dir_all(dir).unwrap();
    let opts = StoreOptions {
        backups: 3,
        ..StoreOptions::default()
    };
    let (store, _) = Store::open(catalog, dir, opts).unwrap();
    let lock = LockOptions {
        timeout: Duration::from_secs(600),
        command: "bench".into(),
        ..LockOptions::default()
    };
    let guard = store.lock(&lock).unwrap();
    let rel = |i: usize| format!("packer-manifests/m{i:05}.json");
    for round in 0..2u64 {
        for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
            let mut tx = store.transaction(&guard);
            for &i in chunk {
                let mut v = base.clone();
                v["build"] = json!(format!("build-{i}"));
                v["builds"][0]["build_time"] = json!(1_773_241_405u64 + i as u64 + round);
                tx.put(&rel(i), v);
            }
            tx.commit(&WriteContext::new("bench")).unwrap();
        }
    }
    (0..n).map(|i| dir.join(rel(i))).collect()
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn main() {
    let n: usize = std::env::var("SW_BENCH_DOCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if smoke() { 20 } else { 10_000 });
    let runs = if smoke() { 1 } else { 7 };
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = Project::load(&repo.join("statewright.toml")).unwrap();
    let catalog = Catalog::load(&project).unwrap();
    let migrations = load_dir(&project.migrations_dir).unwrap();
    let tmp = tempfile::tempdir().unwrap();
    let state = tmp.path().join("state");
    let files = generate(&catalog, &state, n);
    let validator = Validator::new(
        Some(catalog),
        // The envelope schema and the project's schema dirs, as the CLI
        // resolves them.
        OfflineRegistry::for_project(&project),
        ValidateOptions::default(),
    );
    let opts = CheckOptions {
        migrations: Some(&migrations),
        store: true,
        threads: 0,
    };
    let check_with = |opts: &CheckOptions<'_>| {
        let t = Instant::now();
        let r = check_state(&validator, &state, opts).unwrap();
        let d = t.elapsed();
        assert_eq!(r.documents.len(), n);
        // Kinds with no document here are SW021 notes, not damage.
        let bad: Vec<_> = r
            .all_findings()
            .filter(|f| f.severity != Severity::Info)
            .take(3)
            .collect();
        assert!(bad.is_empty(), "generated state is not clean: {bad:#?}");
        d
    };
    let check = || check_with(&opts);
    let floor = || {
        let t = Instant::now();
        for f in &files {
            let v: Value = serde_json::from_slice(&std::fs::read(f).unwrap()).unwrap();
            std::hint::black_box(v);
        }
        t.elapsed()
    };
    check();
    floor();
    let (mut c, mut f) = (Vec::new(), Vec::new());
    for _ in 0..runs {
        f.push(floor());
        c.push(check());
    }
    let (c, f) = (median(c), median(f));
    let one = CheckOptions { threads: 1, ..opts };
    let single = median((0..runs.min(3)).map(|_| check_with(&one)).collect());
    let docs_only = CheckOptions {
        store: false,
        ..opts
    };
    let plain = median((0..runs.min(3)).map(|_| check_with(&docs_only)).collect());
    let ratio = c.as_secs_f64() / f.as_secs_f64();
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    println!("check bench: {n} documents, {threads} threads, median of {runs} runs");
    println!("  floor (read + serde_json::from_slice, 1 thread): {f:.1?}");
    println!("  statewright check (store checks on):             {c:.1?}");
    println!("  (check on 1 thread: {single:.1?}; without the store checks: {plain:.1?})");
    println!(
        "  ratio {ratio:.2}x (target <= {TARGET}x): {}",
        if ratio <= TARGET { "met" } else { "MISSED" }
    );
}
