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
        last = serial;
    }
    println!(
        "kills: {runs} writers SIGKILLed, every document loaded, serial grew to {last}, {recovered} recovery actions, {:.1?}",
        start.elapsed()
    );
}
