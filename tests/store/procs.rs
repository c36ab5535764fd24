//! Real processes: this test binary re-invokes itself (`child_entry` with
//! `SW_CHILD` set) as writers, lock holders and incrementers.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::json;
use statewright::spec::{Catalog, Project};
use statewright::store::{LockOptions, LockStatus, Store, StoreError, StoreOptions, WriteContext};

use crate::harness::*;

fn child_store() -> Store {
    let root = std::env::var("SW_ROOT").unwrap();
    let project = Project::load(&Path::new(&root).join("statewright.toml")).unwrap();
    let catalog = Catalog::load(&project).unwrap();
    let dir = std::env::var("SW_DIR").unwrap();
    Store::open(&catalog, Path::new(&dir), StoreOptions::default())
        .unwrap()
        .0
}

fn increment(store: &Store) -> Result<(), StoreError> {
    let opts = LockOptions {
        timeout: Duration::from_secs(120),
        command: format!("increment {}", std::process::id()),
        ..LockOptions::default()
    };
    store
        .update(
            &opts,
            "counter.json",
            &WriteContext::new("increment"),
            |v| {
                v["count"] = json!(v["count"].as_i64().unwrap() + 1);
            },
        )
        .map(|_| ())
}

/// The helper role; a no-op unless run as a child.
#[test]
fn child_entry() {
    let Ok(role) = std::env::var("SW_CHILD") else {
        return;
    };
    let store = child_store();
    match role.as_str() {
        "incr" => {
            let n: usize = std::env::var("SW_N").unwrap().parse().unwrap();
            for _ in 0..n {
                increment(&store).unwrap();
            }
        }
        "hold" => {
            let _g = store.lock(&LockOptions::default()).unwrap();
            println!("locked");
            std::thread::sleep(Duration::from_secs(600));
        }
        "writer" => {
            println!("ready");
            loop {
                increment(&store).unwrap();
            }
        }
        other => panic!("unknown role {other}"),
    }
}

fn spawn(f: &Fixture, role: &str, n: usize) -> Child {
    Command::new(std::env::current_exe().unwrap())
        .args([
            "procs::child_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ])
        .env("SW_CHILD", role)
        .env("SW_ROOT", f.root.path())
        .env("SW_DIR", &f.state)
        .env("SW_N", n.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

fn wait_for_line(child: &mut Child, want: &str) {
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    loop {
        let line = lines.next().expect("child ended early").unwrap();
        if line.contains(want) {
            break;
        }
    }
}

fn sigkill(child: &mut Child) {
    // SAFETY: signalling our own child by pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    let _ = child.wait();
}

#[test]
fn a_hundred_processes_lose_no_update() {
    let f = fixture();
    put(&f.open(), "counter.json", counter(0));
    let (procs, each) = (100, 3);
    let start = Instant::now();
    let children: Vec<Child> = (0..procs).map(|_| spawn(&f, "incr", each)).collect();
    for mut c in children {
        assert!(c.wait().unwrap().success(), "an incrementer failed");
    }
    let store = f.open();
    let l = store.read("counter.json").unwrap();
    println!(
        "concurrency: {procs} processes x {each} increments -> count {} (serial {}) in {:.1?}",
        l.value["count"],
        l.envelope.serial,
        start.elapsed()
    );
    assert_eq!(l.value["count"], json!(procs * each));
    assert_eq!(l.envelope.serial, 1 + (procs * each) as u64);
    assert_eq!(store.verify_audit().unwrap(), 1 + procs * each);
}

#[test]
fn a_killed_lock_holder_is_reclaimed() {
    let f = fixture();
    let store = f.open();
    put(&store, "counter.json", counter(0));
    let mut holder = spawn(&f, "hold", 0);
    wait_for_line(&mut holder, "locked");
    let pid = holder.id();
    let e = store.lock(&LockOptions::default()).unwrap_err();
    assert!(e.to_string().contains(&format!("pid {pid}")), "{e}");
    match store.lock_status().unwrap() {
        LockStatus::Held {
            holder: Some(h),
            dead: Some(false),
        } => assert_eq!(h.pid, pid),
        other => panic!("{other:?}"),
    }
    sigkill(&mut holder);
    match store.lock_status().unwrap() {
        LockStatus::Stale(h) => assert_eq!((h.pid, h.is_dead()), (pid, Some(true))),
        other => panic!("{other:?}"),
    }
    let g = store.lock(&lock()).unwrap();
    assert_eq!(g.reclaimed.as_ref().map(|h| h.pid), Some(pid));
    store
        .update_locked(&g, "counter.json", &ctx(), |v| v["count"] = json!(1))
        .unwrap();
}

#[test]
fn writers_killed_at_random_moments_leave_loadable_documents() {
    let f = fixture();
    put(&f.open(), "counter.json", counter(0));
    let runs: usize = std::env::var("SW_KILL_RUNS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let mut rng = Rng(0xdead_beef_1234_5678);
    let mut last = 1;
    let mut recovered = 0;
    let start = Instant::now();
    for run in 0..runs {
        let mut w = spawn(&f, "writer", 0);
        wait_for_line(&mut w, "ready");
        std::thread::sleep(Duration::from_micros(rng.below(25_000)));
        sigkill(&mut w);
        let (store, report) = Store::open(&f.catalog, &f.state, StoreOptions::default()).unwrap();
        recovered += report.actions.len() + report.warnings.len();
        let l = store
            .read("counter.json")
            .unwrap_or_else(|e| panic!("run {run}: {e}"));
        let serial = l.envelope.serial;
        assert!(
            serial >= last,
            "run {run}: serial went back from {last} to {serial}"
        );
        assert_eq!(
            l.value["count"],
            json!(serial - 1),
            "run {run}: count and serial disagree"
        );
        store
            .verify_audit()
            .unwrap_or_else(|e| panic!("run {run}: {e}"));
        assert_eq!(
            audited(&f.state, "counter.json").last().map(|(s, _)| *s),
            Some(serial),
            "run {run}: the committed serial has no audit line"
        );
        last = serial;
    }
    let backfilled = audited(&f.state, "counter.json")
        .iter()
        .filter(|(_, outcome)| outcome.ends_with("written on recovery"))
        .count();
    println!(
        "kills: {runs} writers SIGKILLed, every document loaded, serial grew to {last}, every serial audited ({backfilled} lines written on recovery), {recovered} recovery actions, {:.1?}",
        start.elapsed()
    );
}

/// The (serial, outcome) of every audit line of `file`, in log order.
fn audited(state: &Path, file: &str) -> Vec<(u64, String)> {
    let text = std::fs::read_to_string(state.join("audit.log")).unwrap_or_default();
    text.lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .filter(|e| e["file"] == file)
        .map(|e| {
            let outcome = e["outcome"].as_str().unwrap_or_default().to_owned();
            (e["serial"].as_u64().unwrap(), outcome)
        })
        .collect()
}

/// A process that is gone: its pid, once reaped.
fn dead_pid() -> u32 {
    let mut c = Command::new("true").spawn().unwrap();
    c.wait().unwrap();
    c.id()
}

/// A writer killed after its rename but before its audit line leaves a
/// committed version without a line; whoever reclaims its lock writes it.
#[test]
fn the_audit_line_a_dead_writer_missed_is_written_on_reclaim() {
    let f = fixture();
    let store = f.open();
    put(&store, "counter.json", counter(0));
    let taken = jiff::Timestamp::now().to_string();
    put(&store, "counter.json", counter(1));
    put(&store, "config/old.json", json!({"schema_version": 1}));
    // The state a writer killed between its rename and its audit append
    // leaves: the last lines missing, and its description in the lock.
    let log = f.state.join("audit.log");
    let text = std::fs::read_to_string(&log).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines.len(), 3);
    std::fs::write(&log, format!("{}\n", lines[0])).unwrap();
    let holder = json!({
        "lock_id": "0b5e0c4e-1d4e-4a57-9d4f-2d1f3c0a9b11", "pid": dead_pid(),
        "start_time": null, "host": "elsewhere", "user": "ci",
        "command": "increment", "acquired_at": taken,
    });
    std::fs::write(f.state.join(".lock"), holder.to_string()).unwrap();

    let (store, report) = Store::open(&f.catalog, &f.state, StoreOptions::default()).unwrap();
    assert_eq!(
        report.actions,
        [
            "wrote the missing audit line of config/old.json (serial 1), committed by a holder that died",
            "wrote the missing audit line of counter.json (serial 2), committed by a holder that died",
        ]
    );
    assert_eq!(store.verify_audit().unwrap(), 3);
    let lines = audited(&f.state, "counter.json");
    assert_eq!(lines.len(), 2);
    let (serial, outcome) = &lines[1];
    assert_eq!(*serial, 2);
    assert!(
        outcome.starts_with("committed by `increment` (pid")
            && outcome.ends_with("which died before writing this line; written on recovery"),
        "{outcome}"
    );
    let entry: serde_json::Value = serde_json::from_str(
        std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .nth(2)
            .unwrap(),
    )
    .unwrap();
    let doc = store.read("counter.json").unwrap();
    assert_eq!(entry["after"], json!(doc.envelope.checksum));
    let backups =
        statewright::store::backup::list(&statewright::store::RealFs, &f.state, "counter.json");
    assert_eq!(entry["before"], json!(backups[0].checksum));
    // Nothing more to do on the next open: the lock record is gone.
    let (_, report) = Store::open(&f.catalog, &f.state, StoreOptions::default()).unwrap();
    assert!(report.actions.is_empty(), "{:?}", report.actions);
}
