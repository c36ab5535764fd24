//! The store's records around the documents (backup indexes, the audit
//! log, the lock file) are untrusted input: a crafted path is never acted
//! on, an unverified record never blocks a write, a rolled-back
//! transaction leaves no record, and reading never writes.

use std::io;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use statewright::store::fs::{FsFile, FsLock, Meta};
use statewright::store::{Fs, RealFs, Store, StoreError, StoreOptions, lock};

use crate::harness::*;

fn one_backup() -> StoreOptions {
    StoreOptions {
        backups: 1,
        ..StoreOptions::default()
    }
}

fn set(store: &Store, n: i64) -> Result<u64, StoreError> {
    let g = store.lock(&lock())?;
    store
        .update_locked(&g, "counter.json", &ctx(), |v| v["count"] = json!(n))
        .map(|o| o.serial)
}

#[test]
fn a_manifest_entry_naming_an_outside_path_is_refused_and_never_removed() {
    let f = fixture();
    let store = f.open_opts(one_backup());
    put(&store, "counter.json", counter(1));
    let outside = f.root.path().join("outside.txt");
    std::fs::write(&outside, b"precious").unwrap();
    let bdir = f.state.join(".backup");
    std::fs::create_dir_all(&bdir).unwrap();
    let manifest = json!({"backups": [{
        "file": "counter.json",
        "backup": outside.to_str().unwrap(),
        "serial": 0,
        "checksum": "",
        "time": ""
    }]});
    std::fs::write(bdir.join("manifest.json"), manifest.to_string()).unwrap();
    let before = std::fs::read(f.state.join("counter.json")).unwrap();
    for n in 2..4 {
        let e = set(&store, n).unwrap_err();
        let msg = e.to_string();
        assert!(
            matches!(e, StoreError::BackupIndex { .. })
                && msg.contains("manifest.json at `/backups/0/backup`")
                && msg.contains("is not the store's name of a backup of `counter.json`"),
            "{msg}"
        );
    }
    assert_eq!(std::fs::read(&outside).unwrap(), b"precious");
    assert_eq!(std::fs::read(f.state.join("counter.json")).unwrap(), before);
}

#[test]
fn an_index_entry_naming_a_document_is_refused_and_the_document_kept() {
    let f = fixture();
    let store = f.open_opts(one_backup());
    put(&store, "counter.json", counter(1));
    put(&store, "counter-b.json", counter(1));
    set(&store, 2).unwrap();
    let index = f.state.join(".backup/index/counter.json");
    let mut idx: Value = serde_json::from_slice(&std::fs::read(&index).unwrap()).unwrap();
    assert_eq!(idx["serial"], 2, "{idx}");
    idx["backups"][0]["backup"] = json!("../counter-b.json");
    std::fs::write(&index, idx.to_string()).unwrap();
    for n in 3..5 {
        let msg = set(&store, n).unwrap_err().to_string();
        assert!(msg.contains("at `/backups/0/backup`"), "{msg}");
    }
    assert!(f.state.join("counter-b.json").is_file());
    assert_eq!(store.read("counter-b.json").unwrap().envelope.serial, 1);
}

#[test]
fn a_stray_backup_file_does_not_block_writes() {
    let f = fixture();
    let store = f.open();
    put(&store, "counter.json", counter(1));
    std::fs::copy(
        f.state.join("counter.json"),
        f.state.join(".backup/counter.json.9.0123456789ab"),
    )
    .unwrap();
    assert_eq!(set(&store, 2).unwrap(), 2);
    // A fresh process (no cached records) too.
    assert_eq!(set(&f.open(), 3).unwrap(), 3);
}

#[test]
fn an_edited_audit_serial_does_not_block_writes_but_a_real_rollback_is_refused() {
    for with_index in [true, false] {
        let f = fixture();
        let store = f.open();
        put(&store, "counter.json", counter(1));
        let v1 = std::fs::read(f.state.join("counter.json")).unwrap();
        set(&store, 2).unwrap();
        let log = f.state.join("audit.log");
        let text = std::fs::read_to_string(&log).unwrap();
        let edited = text.replacen("\"serial\":1,", "\"serial\":99,", 1);
        assert_ne!(text, edited);
        std::fs::write(&log, edited).unwrap();
        if !with_index {
            std::fs::remove_dir_all(f.state.join(".backup/index")).unwrap();
        }
        assert_eq!(set(&f.open(), 3).unwrap(), 3, "index kept: {with_index}");
        // Rolled back outside the store: refused, from the verified records.
        std::fs::write(&log, &text).unwrap();
        std::fs::write(f.state.join("counter.json"), &v1).unwrap();
        if !with_index {
            std::fs::remove_dir_all(f.state.join(".backup/index")).unwrap();
        }
        let e = set(&f.open(), 4).unwrap_err();
        assert!(
            matches!(e, StoreError::SerialBehind { found: 1, .. }),
            "index kept: {with_index}: {e}"
        );
    }
}

/// The real file system, except that creating `.journal` fails (as on a
/// full disk): a transaction fails after its temps, before its commit.
#[derive(Debug)]
struct Failing {
    journal: bool,
    writes: bool,
}

fn nospc() -> io::Error {
    io::Error::from_raw_os_error(libc::ENOSPC)
}

impl Failing {
    fn check(&self, path: &Path) -> io::Result<()> {
        let is_journal = path.file_name().is_some_and(|n| n == ".journal");
        if self.writes || (self.journal && is_journal) {
            return Err(nospc());
        }
        Ok(())
    }
}

impl Fs for Failing {
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<Box<dyn FsFile>> {
        self.check(path)?;
        RealFs.create_new(path, mode)
    }
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        self.check(path)?;
        RealFs.open_append(path)
    }
    fn open_lock(&self, path: &Path) -> io::Result<Box<dyn FsLock>> {
        self.check(path)?;
        RealFs.open_lock(path)
    }
    fn open_lock_to_look(&self, path: &Path) -> io::Result<Box<dyn FsLock>> {
        RealFs.open_lock_to_look(path)
    }
    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        RealFs.read(path)
    }
    fn meta(&self, path: &Path) -> io::Result<Option<Meta>> {
        RealFs.meta(path)
    }
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.check(to)?;
        RealFs.rename(from, to)
    }
    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()> {
        self.check(to)?;
        RealFs.hard_link(from, to)
    }
    fn remove(&self, path: &Path) -> io::Result<()> {
        RealFs.remove(path)
    }
    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        RealFs.sync_dir(dir)
    }
    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        RealFs.list(dir)
    }
    fn create_dir(&self, dir: &Path) -> io::Result<()> {
        self.check(dir)?;
        RealFs.create_dir(dir)
    }
}

fn open_failing(f: &Fixture, fs: Failing) -> statewright::store::Result<Store> {
    let fs: Arc<dyn Fs> = Arc::new(fs);
    f.open_on(fs, &f.state, StoreOptions::default(), &f.verifier())
        .map(|(s, _)| s)
}

fn names(dir: &Path) -> Vec<String> {
    let mut out: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    out.sort();
    out
}

#[test]
fn a_transaction_that_never_committed_leaves_no_backup_and_checks_clean() {
    let f = fixture();
    // Adopted documents: written by another program, never by the store.
    for rel in ["counter.json", "counter-b.json"] {
        std::fs::write(f.state.join(rel), counter(1).to_string()).unwrap();
    }
    let store = open_failing(
        &f,
        Failing {
            journal: true,
            writes: false,
        },
    )
    .unwrap();
    let g = store.lock(&lock()).unwrap();
    let mut tx = store.transaction(&g);
    tx.accept_unstamped(true);
    tx.put("counter.json", counter(2));
    tx.put("counter-b.json", counter(2));
    let e = tx.commit(&ctx()).unwrap_err();
    assert!(matches!(e, StoreError::DiskFull { .. }), "{e}");
    drop(g);
    let backups: Vec<String> = names(&f.state.join(".backup"));
    assert!(backups.is_empty(), "{backups:?}");
    // Nothing records a write, so a missing audit log is no finding.
    assert_eq!(f.open().verify_audit().unwrap(), 0);
    assert_eq!(names(&f.state), [".lock", "counter-b.json", "counter.json"]);
}

/// A path inside `dir` that a read must not have created or changed.
fn snapshot(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut out = Vec::new();
    for name in names(dir) {
        let p = dir.join(&name);
        if p.is_file() {
            out.push((p.clone(), std::fs::read(&p).unwrap()));
        }
    }
    out
}

#[test]
fn reading_never_writes_and_recovery_that_needs_the_lock_is_deferred() {
    let f = fixture();
    {
        let store = f.open();
        put(&store, "counter.json", counter(1));
    }
    let before = snapshot(&f.state);
    let full = || Failing {
        journal: false,
        writes: true,
    };
    let store = open_failing(&f, full()).unwrap();
    assert_eq!(store.read("counter.json").unwrap().envelope.serial, 1);
    assert_eq!(store.document_paths().unwrap(), ["counter.json"]);
    // Looking at the lock opens it read-only.
    assert_eq!(
        lock::status(&full(), &f.state).unwrap(),
        statewright::store::LockStatus::Free
    );
    assert_eq!(snapshot(&f.state), before);
    // Something to recover, but no room to take the lock: said, deferred.
    std::fs::write(f.state.join(".journal"), b"{\"tx\":").unwrap();
    let fs: Arc<dyn Fs> = Arc::new(full());
    let (store, report) = f
        .open_on(fs, &f.state, StoreOptions::default(), &f.verifier())
        .unwrap();
    let skipped = report.skipped.unwrap_or_default();
    assert!(skipped.contains("deferred to the next write"), "{skipped}");
    assert_eq!(store.read("counter.json").unwrap().envelope.serial, 1);
    // The next writer recovers.
    let (_, report) = Store::open(&f.catalog, &f.state, StoreOptions::default()).unwrap();
    assert!(
        report.actions.iter().any(|a| a.contains("rolled back")),
        "{report:?}"
    );
}
