//! Crash consistency: every file operation of a single write, a
//! transaction and a recovery is a crash point; at each, the disk a reboot
//! would find is built with unsynced data kept, dropped or torn and
//! unsynced folder entries kept, dropped or half kept. After recovery
//! every document is entirely old or entirely new, and no write that
//! returned success is lost.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use statewright::store::{Fs, Store, StoreError, StoreOptions, Verifier, atomic};

use crate::harness::*;
use crate::simfs::{Data, Dirs, MODES, SimFs};

const DIR: &str = "/sim/state";

struct World {
    f: Fixture,
    v: Arc<dyn Verifier>,
    /// Rolling backups kept per document.
    keep: usize,
}

impl World {
    fn new() -> World {
        World::keeping(StoreOptions::default().backups)
    }

    /// A world whose stores keep `keep` backups (1: every write rotates).
    fn keeping(keep: usize) -> World {
        let f = fixture();
        let v = f.verifier();
        World { f, v, keep }
    }

    fn open(&self, fs: &SimFs, recover: bool) -> statewright::store::Result<Store> {
        let opts = StoreOptions {
            recover,
            backups: self.keep,
            lock_timeout: std::time::Duration::ZERO,
            ..StoreOptions::default()
        };
        let fs: Arc<dyn Fs> = Arc::new(fs.clone());
        self.f
            .open_on(fs, Path::new(DIR), opts, &self.v)
            .map(|(s, _)| s)
    }
}

fn sim() -> SimFs {
    let fs = SimFs::new(Path::new("/sim"));
    fs.create_dir(Path::new(DIR)).unwrap();
    fs.sync_dir(Path::new("/sim")).unwrap();
    fs.settled()
}

fn body(store: &Store, rel: &str) -> Result<(u64, Value), StoreError> {
    let l = store.read(rel)?;
    let b = l
        .value
        .get("count")
        .or_else(|| l.value.get("items"))
        .cloned()
        .unwrap_or(Value::Null);
    Ok((l.envelope.serial, b))
}

/// Runs `run` on `base` with a crash before each operation in turn, then
/// for every crash mode checks the rebooted disk with `check`. `run`
/// returns how far it got with success. Returns the crash states checked.
fn explore<R, C>(w: &World, base: &SimFs, run: R, check: C) -> usize
where
    R: Fn(&World, &SimFs) -> usize,
    C: Fn(&World, &SimFs, usize, (Data, Dirs), usize),
{
    let clean = base.settled();
    let acked_all = run(w, &clean);
    let total = clean.ops();
    let mut states = 0;
    for k in 0..=total {
        let fs = base.settled();
        fs.crash_at(k);
        let acked = run(w, &fs);
        assert!(k == total || fs.crashed(), "crash point {k} not reached");
        assert!(k < total || acked == acked_all);
        for mode in MODES {
            let rebooted = fs.after_crash(mode.0, mode.1);
            check(w, &rebooted, acked, mode, k);
            states += 1;
        }
    }
    states
}

fn single_base(w: &World) -> SimFs {
    let fs = sim();
    let store = w.open(&fs, false).unwrap();
    put(&store, "counter.json", counter(1));
    store
        .update(&lock(), "counter.json", &ctx(), |v| v["count"] = json!(2))
        .unwrap();
    fs.settled()
}

fn two_increments(w: &World, fs: &SimFs) -> usize {
    let Ok(store) = w.open(fs, false) else {
        return 0;
    };
    let mut acked = 0;
    for _ in 0..2 {
        let r = store.update(&lock(), "counter.json", &ctx(), |v| {
            v["count"] = json!(v["count"].as_i64().unwrap() + 1);
        });
        if r.is_err() {
            break;
        }
        acked += 1;
    }
    acked
}

fn check_single(w: &World, fs: &SimFs, acked: usize, mode: (Data, Dirs), k: usize) {
    let store = w
        .open(fs, false)
        .unwrap_or_else(|e| panic!("open after crash {k} {mode:?}: {e}"));
    let (serial, count) =
        body(&store, "counter.json").unwrap_or_else(|e| panic!("crash {k} {mode:?}: {e}"));
    assert_eq!(
        json!(serial),
        count,
        "crash {k} {mode:?}: a mix of versions"
    );
    assert!(
        (2..=4).contains(&serial),
        "crash {k} {mode:?}: serial {serial}"
    );
    assert!(
        serial >= 2 + acked as u64,
        "crash {k} {mode:?}: acknowledged write lost ({serial} < {})",
        2 + acked
    );
    store
        .verify_audit()
        .unwrap_or_else(|e| panic!("crash {k} {mode:?}: {e}"));
    assert_no_leftovers(fs, k, mode);
    // The records the crash left (backup index, audit log) let the next
    // write through: a torn record would be refused and block the document.
    store
        .update(&lock(), "counter.json", &ctx(), |v| {
            v["count"] = json!(v["count"].as_i64().unwrap() + 1);
        })
        .unwrap_or_else(|e| panic!("crash {k} {mode:?}: the next write is refused: {e}"));
}

fn assert_no_leftovers(fs: &SimFs, k: usize, mode: (Data, Dirs)) {
    let left: Vec<String> = fs
        .names(Path::new(DIR))
        .into_iter()
        .filter(|n| n.ends_with(".tmp") || n == ".journal")
        .collect();
    assert!(left.is_empty(), "crash {k} {mode:?}: left behind {left:?}");
}

fn tx_base(w: &World) -> SimFs {
    let fs = sim();
    let store = w.open(&fs, false).unwrap();
    let g = store.lock(&lock()).unwrap();
    let mut tx = store.transaction(&g);
    tx.put("sources.json", json!({"schema_version": 1, "items": [0]}));
    tx.put("index.json", json!({"schema_version": 1, "items": [0]}));
    tx.commit(&ctx()).unwrap();
    store.write(&g, "counter.json", counter(1), &ctx()).unwrap();
    store
        .update_locked(&g, "counter.json", &ctx(), |v| v["count"] = json!(2))
        .unwrap();
    drop(g);
    fs.settled()
}

fn tx_run(w: &World, fs: &SimFs) -> usize {
    let Ok(store) = w.open(fs, false) else {
        return 0;
    };
    let Ok(g) = store.lock(&lock()) else { return 0 };
    let mut tx = store.transaction(&g);
    let (Ok(s), Ok(i)) = (
        store.read_locked(&g, "sources.json"),
        store.read_locked(&g, "index.json"),
    ) else {
        return 0;
    };
    let (mut s, mut i) = (s.value, i.value);
    s["items"] = json!([1]);
    i["items"] = json!([1]);
    tx.put("sources.json", s).put("index.json", i);
    usize::from(tx.commit(&ctx()).is_ok())
}

fn check_tx(w: &World, fs: &SimFs, acked: usize, mode: (Data, Dirs), k: usize) {
    let store = w
        .open(fs, false)
        .unwrap_or_else(|e| panic!("open after crash {k} {mode:?}: {e}"));
    let s = body(&store, "sources.json").unwrap_or_else(|e| panic!("crash {k} {mode:?}: {e}"));
    let i = body(&store, "index.json").unwrap_or_else(|e| panic!("crash {k} {mode:?}: {e}"));
    assert_eq!(s.1, i.1, "crash {k} {mode:?}: transaction half applied");
    assert_eq!(s.0, i.0);
    if acked == 1 {
        assert_eq!(
            s.1,
            json!([1]),
            "crash {k} {mode:?}: committed transaction lost"
        );
    }
    store
        .verify_audit()
        .unwrap_or_else(|e| panic!("crash {k} {mode:?}: {e}"));
    assert_no_leftovers(fs, k, mode);
}

/// A disk with a committed but unfinished transaction and a corrupt
/// counter.json whose backups are good.
fn recovery_base(w: &World) -> SimFs {
    let base = tx_base(w);
    for k in 0.. {
        let fs = base.settled();
        fs.crash_at(k);
        tx_run(w, &fs);
        let durable = fs.after_crash(Data::Drop, Dirs::Drop);
        let journal = durable
            .get(&PathBuf::from(DIR).join(".journal"))
            .unwrap_or_default();
        if String::from_utf8_lossy(&journal).contains("COMMIT ") {
            let mut bytes = durable
                .get(&PathBuf::from(DIR).join("counter.json"))
                .unwrap();
            bytes.truncate(bytes.len() / 2);
            durable.put(&PathBuf::from(DIR).join("counter.json"), &bytes);
            return durable;
        }
    }
    unreachable!()
}

fn recovery_run(w: &World, fs: &SimFs) -> usize {
    let Ok(store) = w.open(fs, true) else {
        return 0;
    };
    usize::from(store.read("counter.json").is_ok())
}

fn check_recovery(w: &World, fs: &SimFs, acked: usize, mode: (Data, Dirs), k: usize) {
    let store = w
        .open(fs, true)
        .unwrap_or_else(|e| panic!("open after crash {k} {mode:?}: {e}"));
    let l = store
        .read("counter.json")
        .unwrap_or_else(|e| panic!("crash {k} {mode:?}: {e}"));
    assert_eq!(
        l.value["count"],
        json!(1),
        "crash {k} {mode:?}: not the backup's content"
    );
    assert!(
        l.envelope.serial > 2,
        "crash {k} {mode:?}: serial went back to {}",
        l.envelope.serial
    );
    if acked == 1 {
        // The restore that returned success must not be redone.
        assert!(
            l.restored.is_none(),
            "crash {k} {mode:?}: acknowledged restore lost"
        );
    }
    for rel in ["sources.json", "index.json"] {
        let b = body(&store, rel).unwrap_or_else(|e| panic!("crash {k} {mode:?}: {e}"));
        assert_eq!(
            b.1,
            json!([1]),
            "crash {k} {mode:?}: committed transaction not rolled forward"
        );
    }
    store
        .verify_audit()
        .unwrap_or_else(|e| panic!("crash {k} {mode:?}: {e}"));
    assert_no_leftovers(fs, k, mode);
}

#[test]
fn every_crash_point_leaves_old_or_new_never_a_mix() {
    let w = World::new();
    let single = explore(&w, &single_base(&w), two_increments, check_single);
    let tx = explore(&w, &tx_base(&w), tx_run, check_tx);
    let rec = explore(&w, &recovery_base(&w), recovery_run, check_recovery);
    let keep1 = World::keeping(1);
    let rot = explore(&keep1, &single_base(&keep1), two_increments, check_single);
    let files = other_writers(&w);
    let all = single + tx + rec + rot + files;
    println!(
        "crash states explored: {all} (single write x2: {single}, transaction: {tx}, recovery: {rec}, backup rotation: {rot}, sum file / draft / bundle: {files})"
    );
    assert!(all >= 1000, "{all}");
}

/// The writers outside documents, each on the store's one durable write:
/// the sum file and a forced export replace a file (`write_file`), a
/// migration draft and an export create one (`create_file`, never
/// replacing). After every crash point and mode the file is entirely old
/// (or absent) or entirely new, a write that returned success is there,
/// and nothing but a temp of the store's naming is left.
fn other_writers(w: &World) -> usize {
    let target = Path::new("/sim/migrations/statewright.sum");
    let (old, new) = (
        b"old sum\n".to_vec(),
        b"new sum, longer than the old\n".to_vec(),
    );
    let replace_base = {
        let fs = sim();
        fs.create_dir(Path::new("/sim/migrations")).unwrap();
        atomic::write_file(&fs, target, &old, 0o644).unwrap();
        fs.settled()
    };
    let mut states = file_states(&replace_base, target, Some(&old), &|fs| {
        atomic::write_file(fs, target, &new, 0o644).is_ok()
    });
    let draft = Path::new("/sim/migrations/0001_to_v2.yaml");
    let create_base = replace_base.settled();
    states += file_states(&create_base, draft, None, &|fs| {
        atomic::create_file(fs, draft, &new, 0o644).unwrap_or(false)
    });
    // An export of the transaction's state, written as a new bundle.
    let base = tx_base(w);
    let bundle = {
        let store = w.open(&base.settled(), false).unwrap();
        let g = store.lock(&lock()).unwrap();
        statewright::ops::export(&store, &w.f.catalog, &g).unwrap()
    };
    let out = Path::new("/sim/state.bundle.json");
    let bytes = bundle.to_vec();
    states += file_states(&base, out, None, &|fs| {
        statewright::ops::write_bundle_with(fs, &bundle, out, false, Path::new(DIR)).is_ok()
    });
    assert!(!bytes.is_empty());
    states
}

/// Crashes `run` on `base` before each of its operations, in every mode,
/// and checks `target` holds `before` or the bytes a clean run leaves.
fn file_states(
    base: &SimFs,
    target: &Path,
    before: Option<&Vec<u8>>,
    run: &dyn Fn(&SimFs) -> bool,
) -> usize {
    let clean = base.settled();
    assert!(run(&clean), "the clean run succeeds");
    let after = clean.get(target).expect("written");
    let total = clean.ops();
    let mut states = 0;
    for k in 0..=total {
        let fs = base.settled();
        fs.crash_at(k);
        let acked = run(&fs);
        assert!(k == total || fs.crashed(), "crash point {k} not reached");
        for mode in MODES {
            let rebooted = fs.after_crash(mode.0, mode.1);
            let now = rebooted.get(target);
            let whole = now.as_ref() == Some(&after) || now.as_ref() == before;
            assert!(
                whole,
                "crash {k} {mode:?}: {target:?} is neither old nor new: {now:?}"
            );
            assert!(
                !acked || now.as_ref() == Some(&after),
                "crash {k} {mode:?}: acknowledged write lost"
            );
            let dir = target.parent().unwrap();
            let name = target.file_name().unwrap().to_str().unwrap();
            for n in rebooted.names(dir) {
                let ours = n == name;
                let temp = atomic::temp_target(&n).is_some_and(|(t, _)| t == name);
                assert!(
                    ours || temp || base.names(dir).contains(&n),
                    "crash {k} {mode:?}: left {n}"
                );
            }
            states += 1;
        }
    }
    states
}

#[test]
fn a_failed_fsync_abandons_the_write_and_is_never_retried() {
    let w = World::new();
    let base = single_base(&w);
    let probe = base.settled();
    let before = probe.syncs();
    two_increments(&w, &probe);
    let per_run = probe.syncs() - before;
    for n in 1..=per_run {
        let fs = base.settled();
        fs.fail_sync_at(fs.syncs() + n);
        let store = w.open(&fs, false).unwrap();
        let start = fs.syncs();
        let r = store.update(&lock(), "counter.json", &ctx(), |v| v["count"] = json!(3));
        if let Err(e) = r {
            assert!(e.to_string().contains("fsync"), "{e}");
            assert_eq!(fs.syncs() - start, n, "sync retried after failure {n}");
        }
        let reopened = w.open(&fs.settled(), false).unwrap();
        let (serial, count) = body(&reopened, "counter.json").unwrap();
        assert_eq!(json!(serial), count);
    }
}
