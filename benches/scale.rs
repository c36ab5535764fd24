//! Scale benchmark (`cargo bench --bench scale`): what a write costs as
//! the state dir grows, each against a floor measured in the same run.
//!
//! 1. One transaction rewriting N documents of ~2 KiB with `backups = 3`
//!    (the write side of `migrate`: temps, journal, backups, indexes,
//!    audit) against a floor that reads, parses, pretty-writes, fsyncs
//!    and renames the same files. Prints N, both times and the process's
//!    peak RSS after each (the floor runs first). Target ≤ 1.5×.
//! 2. One `set` (open the store, take the lock, read, write, as a command
//!    does) in the N-document state dir against the same `set` in a
//!    10-document one. Target ≤ 1.2×.
//! 3. `P` concurrent processes each running `statewright set --increment`
//!    once, against `P` processes (of this bench binary) each taking the
//!    same `flock` and writing one file durably. Target ≤ 2×.
//!
//! `SW_BENCH_SCALE_DOCS` lists the N (default `1000,10000`);
//! `SW_BENCH_PROCS` sets P (default 100). `SW_BENCH_SMOKE=1` runs every
//! part once over a tiny input. State dirs live in the temp dir and are
//! removed after each N.

#[allow(dead_code)]
#[path = "../tests/store/harness.rs"]
mod harness;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use statewright::store::{LockOptions, Store, StoreOptions, WriteContext};

fn smoke() -> bool {
    std::env::var_os("SW_BENCH_SMOKE").is_some_and(|v| v != "0")
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

/// The process's peak resident set size in MiB.
fn peak_rss_mib() -> f64 {
    // SAFETY: getrusage fills the struct it is given.
    let mut r: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut r) };
    r.ru_maxrss as f64 / 1024.0
}

fn doc(i: usize) -> Value {
    json!({"schema_version": 1, "count": i, "pad": "x".repeat(2000)})
}

fn lock_opts() -> LockOptions {
    LockOptions {
        timeout: Duration::from_secs(600),
        command: "bench".into(),
        ..LockOptions::default()
    }
}

fn opts() -> StoreOptions {
    StoreOptions {
        backups: 3,
        ..StoreOptions::default()
    }
}

/// Writes documents `counter-0.json` … through the store, in
/// transactions of 1,000, `rounds` times (so each has backups).
fn populate(f: &harness::Fixture, n: usize, rounds: usize) {
    let (store, _) = Store::open(&f.catalog, &f.state, opts()).unwrap();
    let g = store.lock(&lock_opts()).unwrap();
    for round in 0..rounds {
        for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
            let mut tx = store.transaction(&g);
            for &i in chunk {
                tx.put(&format!("counter-{i}.json"), doc(i + round));
            }
            tx.commit(&WriteContext::new("bench")).unwrap();
        }
    }
}

/// Reads, parses, pretty-writes, fsyncs and renames every document, then
/// fsyncs the folder once.
fn floor(dir: &Path, n: usize) -> Duration {
    let start = Instant::now();
    for i in 0..n {
        let path = dir.join(format!("counter-{i}.json"));
        // The same value written back: the documents stay valid for the
        // store's run that follows.
        let v: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let mut bytes = serde_json::to_vec_pretty(&v).unwrap();
        bytes.push(b'\n');
        let tmp = dir.join(format!(".counter-{i}.json.floor.tmp"));
        let mut f = File::create(&tmp).unwrap();
        f.write_all(&bytes).unwrap();
        f.sync_all().unwrap();
        std::fs::rename(&tmp, &path).unwrap();
    }
    File::open(dir).unwrap().sync_all().unwrap();
    start.elapsed()
}

/// One transaction rewriting all `n` documents (each read, verified,
/// restamped, backed up).
fn transaction(f: &harness::Fixture, n: usize, round: usize) -> Duration {
    let start = Instant::now();
    let (store, _) = Store::open(&f.catalog, &f.state, opts()).unwrap();
    let g = store.lock(&lock_opts()).unwrap();
    let mut tx = store.transaction(&g);
    for i in 0..n {
        let rel = format!("counter-{i}.json");
        let mut v = store.read_locked(&g, &rel).unwrap().value;
        v["count"] = json!(i + round);
        tx.put(&rel, v);
    }
    tx.commit(&WriteContext::new("bench")).unwrap();
    start.elapsed()
}

/// One `set` as a command does it: open, lock, read, write.
fn set_once(f: &harness::Fixture, n: u64) -> Duration {
    let start = Instant::now();
    let (store, _) = Store::open(&f.catalog, &f.state, opts()).unwrap();
    store
        .update(
            &lock_opts(),
            "counter-0.json",
            &WriteContext::new("bench"),
            |v| v["count"] = json!(n),
        )
        .unwrap();
    start.elapsed()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn verdict(ok: bool) -> &'static str {
    if ok { "met" } else { "MISSED" }
}

fn migrate_case(n: usize) {
    let f = harness::fixture();
    populate(&f, n, 2);
    let fl = floor(&f.state, n);
    let rss_floor = peak_rss_mib();
    let tx = transaction(&f, n, 3);
    let rss_tx = peak_rss_mib();
    let ratio = tx.as_secs_f64() / fl.as_secs_f64();
    println!(
        "transaction of N={n} (backups=3): {:.0} ms (peak RSS {rss_tx:.0} MiB) | floor {:.0} ms (peak RSS {rss_floor:.0} MiB) | {ratio:.2}x (target <= 1.5x) {}",
        ms(tx),
        ms(fl),
        verdict(ratio <= 1.5)
    );
    let small = harness::fixture();
    populate(&small, 10, 2);
    let runs = if smoke() { 1 } else { 15 };
    let (mut big, mut little) = (Vec::new(), Vec::new());
    for k in 0..runs as u64 {
        little.push(set_once(&small, 100 + k));
        big.push(set_once(&f, 100 + k));
    }
    let (b, l) = (median(big), median(little));
    let ratio = b.as_secs_f64() / l.as_secs_f64();
    println!(
        "one set in N={n}: {:.2} ms | in 10 documents: {:.2} ms | {ratio:.2}x (target <= 1.2x) {}",
        ms(b),
        ms(l),
        verdict(ratio <= 1.2)
    );
}

/// The floor worker: take the `flock` of `lock`, write `target` durably.
fn floor_worker(lock: &Path, target: &Path) {
    let l = OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(lock)
        .unwrap();
    l.lock().unwrap();
    let tmp = target.with_extension(format!("{}.tmp", std::process::id()));
    let mut f = File::create(&tmp).unwrap();
    f.write_all(&[b'x'; 2048]).unwrap();
    f.sync_all().unwrap();
    std::fs::rename(&tmp, target).unwrap();
    File::open(target.parent().unwrap())
        .unwrap()
        .sync_all()
        .unwrap();
    l.unlock().unwrap();
}

fn run_all(mut cmds: Vec<Command>) -> Duration {
    let start = Instant::now();
    let children: Vec<_> = cmds
        .iter_mut()
        .map(|c| {
            c.stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    start.elapsed()
}

fn contention_case(procs: usize) {
    let f = harness::fixture();
    harness::put(
        &Store::open(&f.catalog, &f.state, opts()).unwrap().0,
        "counter.json",
        harness::counter(0),
    );
    let exe = std::env::current_exe().unwrap();
    let floor_cmds = (0..procs)
        .map(|_| {
            let mut c = Command::new(&exe);
            c.env("SW_SCALE_FLOOR_WORKER", f.state.join(".floor-lock"))
                .env("SW_SCALE_FLOOR_TARGET", f.state.join("floor.json"));
            c
        })
        .collect();
    let fl = run_all(floor_cmds);
    let project = f.root.path().join("statewright.toml");
    let set_cmds = (0..procs)
        .map(|_| {
            let mut c = Command::new(env!("CARGO_BIN_EXE_statewright"));
            c.arg("--project").arg(&project).args([
                "--lock-timeout",
                "600",
                "set",
                "counter.json",
                "/count",
                "--increment",
                "1",
            ]);
            c
        })
        .collect();
    let sets = run_all(set_cmds);
    let (store, _) = Store::open(&f.catalog, &f.state, opts()).unwrap();
    let count = store.read("counter.json").unwrap().value["count"].clone();
    assert_eq!(count, json!(procs), "an increment was lost");
    let ratio = sets.as_secs_f64() / fl.as_secs_f64();
    println!(
        "{procs} concurrent set --increment: {:.0} ms | {procs} x (flock + durable write) processes: {:.0} ms | {ratio:.2}x (target <= 2x) {}",
        ms(sets),
        ms(fl),
        verdict(ratio <= 2.0)
    );
}

fn main() {
    if let (Some(lock), Some(target)) = (
        std::env::var_os("SW_SCALE_FLOOR_WORKER"),
        std::env::var_os("SW_SCALE_FLOOR_TARGET"),
    ) {
        floor_worker(Path::new(&lock), Path::new(&target));
        return;
    }
    let sizes: Vec<usize> = match std::env::var("SW_BENCH_SCALE_DOCS") {
        Ok(s) => s.split(',').filter_map(|n| n.trim().parse().ok()).collect(),
        Err(_) if smoke() => vec![20],
        Err(_) => vec![1000, 10_000],
    };
    for n in sizes {
        migrate_case(n);
    }
    let procs = std::env::var("SW_BENCH_PROCS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(if smoke() { 4 } else { 100 });
    contention_case(procs);
}
