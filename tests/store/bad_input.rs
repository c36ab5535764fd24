//! Bad input: symbolic links, read-only and missing folders, a full disk,
//! a document from a newer schema version. Each is a clear error and the
//! original stays byte for byte.

use std::io;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use serde_json::json;
use statewright::envelope::checksum;
use statewright::store::fs::{FsFile, FsLock, Meta};
use statewright::store::{Fs, RealFs, Store, StoreError, StoreOptions};

use crate::harness::*;

#[test]
fn a_symlink_at_the_target_is_refused_and_nothing_changes() {
    let f = fixture();
    let store = f.open();
    let outside = f.root.path().join("outside.json");
    std::fs::write(&outside, b"precious").unwrap();
    std::os::unix::fs::symlink(&outside, f.state.join("counter.json")).unwrap();
    let g = store.lock(&lock()).unwrap();
    let e = store
        .write(&g, "counter.json", counter(1), &ctx())
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, StoreError::Symlink { .. }) && msg.contains("is a symbolic link"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&outside).unwrap(), b"precious");
    assert!(
        std::fs::symlink_metadata(f.state.join("counter.json"))
            .unwrap()
            .file_type()
            .is_symlink()
    );
    let msg = store.read("counter.json").unwrap_err().to_string();
    assert!(msg.contains("is a symbolic link"), "{msg}");
}

/// Plants a symbolic link at every temp name just before the store
/// creates it (an attacker winning the race).
#[derive(Debug)]
struct Planting(RealFs, PathBuf);

impl Fs for Planting {
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<Box<dyn FsFile>> {
        if path
            .file_name()
            .unwrap()
            .to_string_lossy()
            .ends_with(".tmp")
        {
            std::os::unix::fs::symlink(&self.1, path)?;
        }
        self.0.create_new(path, mode)
    }
    fn open_append(&self, p: &Path) -> io::Result<Box<dyn FsFile>> {
        self.0.open_append(p)
    }
    fn open_lock(&self, p: &Path) -> io::Result<Box<dyn FsLock>> {
        self.0.open_lock(p)
    }
    fn read(&self, p: &Path) -> io::Result<Vec<u8>> {
        self.0.read(p)
    }
    fn meta(&self, p: &Path) -> io::Result<Option<Meta>> {
        self.0.meta(p)
    }
    fn rename(&self, a: &Path, b: &Path) -> io::Result<()> {
        self.0.rename(a, b)
    }
    fn hard_link(&self, a: &Path, b: &Path) -> io::Result<()> {
        self.0.hard_link(a, b)
    }
    fn remove(&self, p: &Path) -> io::Result<()> {
        self.0.remove(p)
    }
    fn sync_dir(&self, p: &Path) -> io::Result<()> {
        self.0.sync_dir(p)
    }
    fn list(&self, p: &Path) -> io::Result<Vec<String>> {
        self.0.list(p)
    }
    fn create_dir(&self, p: &Path) -> io::Result<()> {
        self.0.create_dir(p)
    }
}

#[test]
fn a_symlink_at_the_temp_name_is_never_followed() {
    let f = fixture();
    put(&f.open(), "counter.json", counter(1));
    let original = std::fs::read(f.state.join("counter.json")).unwrap();
    let outside = f.root.path().join("victim");
    std::fs::write(&outside, b"victim").unwrap();
    let fs: Arc<dyn Fs> = Arc::new(Planting(RealFs, outside.clone()));
    let (store, _) = f
        .open_on(fs, &f.state, StoreOptions::default(), &f.verifier())
        .unwrap();
    let e = store
        .update(&lock(), "counter.json", &ctx(), |v| v["count"] = json!(2))
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("create temp") && msg.contains(".counter.json.") && msg.contains("exists"),
        "{msg}"
    );
    assert_eq!(std::fs::read(&outside).unwrap(), b"victim");
    assert_eq!(
        std::fs::read(f.state.join("counter.json")).unwrap(),
        original
    );
}

#[test]
fn a_missing_state_dir_is_named() {
    let f = fixture();
    let missing = f.root.path().join("nope");
    let e = Store::open(&f.catalog, &missing, StoreOptions::default()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("nope") && msg.contains("does not exist"),
        "{msg}"
    );
}

#[test]
fn a_newer_schema_version_is_refused_and_left_alone() {
    let f = fixture();
    let store = f.open();
    let mut doc = json!({"schema_version": 3, "count": 1, "serial": 5, "lineage": "x"});
    doc["checksum"] = json!(checksum(&doc, "/checksum"));
    let bytes = serde_json::to_vec_pretty(&doc).unwrap();
    std::fs::write(f.state.join("counter.json"), &bytes).unwrap();
    let e = store.read("counter.json").unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("schema version 3, newer than the newest known (2)")
            && msg.contains("upgrade statewright"),
        "{msg}"
    );
    let g = store.lock(&lock()).unwrap();
    let mut forced = ctx();
    forced.force = true;
    let e = store
        .write(&g, "counter.json", counter(9), &forced)
        .unwrap_err();
    assert!(e.to_string().contains("newer than the newest known"), "{e}");
    let e = store
        .write(
            &g,
            "counter2.json",
            json!({"schema_version": 7, "count": 1}),
            &ctx(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("schema version 7"), "{e}");
    assert_eq!(std::fs::read(f.state.join("counter.json")).unwrap(), bytes);
}

fn sh(args: &[&str]) -> bool {
    Command::new(args[0])
        .args(&args[1..])
        .output()
        .is_ok_and(|o| o.status.success())
}

/// Unmounts on drop.
struct Mount(PathBuf);

impl Drop for Mount {
    fn drop(&mut self) {
        sh(&["umount", "-l", self.0.to_str().unwrap()]);
    }
}

#[test]
fn a_read_only_state_dir_is_a_clear_error() {
    let f = fixture();
    let store = f.open();
    put(&store, "counter.json", counter(1));
    let original = std::fs::read(f.state.join("counter.json")).unwrap();
    let dir = f.state.to_str().unwrap();
    let early = store.lock(&lock()).unwrap();
    if !sh(&["mount", "--bind", dir, dir]) {
        println!("read-only test skipped: cannot bind-mount (not root or no mount)");
        return;
    }
    let _m = Mount(f.state.clone());
    assert!(sh(&["mount", "-o", "remount,ro,bind", dir]), "remount ro");
    // A writer that already held the lock: the temp cannot be created.
    let e = store
        .write(&early, "counter.json", counter(2), &ctx())
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, StoreError::ReadOnly { .. })
            && msg.contains("Read-only file system")
            && msg.contains("nothing was changed"),
        "{msg}"
    );
    drop(early);
    // A new writer cannot even take the lock; reads still work.
    // Nothing was left to recover, so opening did not try to write.
    let (ro, report) = Store::open(&f.catalog, &f.state, StoreOptions::default()).unwrap();
    assert_eq!(report.skipped, None);
    let msg = ro.lock(&lock()).unwrap_err().to_string();
    assert!(
        msg.contains("cannot write in") && msg.contains("Read-only file system"),
        "{msg}"
    );
    assert_eq!(ro.read("counter.json").unwrap().value["count"], json!(1));
    assert_eq!(
        std::fs::read(f.state.join("counter.json")).unwrap(),
        original
    );
}

#[test]
fn a_full_disk_keeps_the_previous_version() {
    let f = fixture();
    let dir = f.root.path().join("small");
    std::fs::create_dir(&dir).unwrap();
    if !sh(&[
        "mount",
        "-t",
        "tmpfs",
        "-o",
        "size=64k",
        "tmpfs",
        dir.to_str().unwrap(),
    ]) {
        println!("disk-full test skipped: cannot mount a 64 KiB tmpfs (not root or no mount)");
        return;
    }
    let _m = Mount(dir.clone());
    let (store, _) = Store::open(&f.catalog, &dir, StoreOptions::default()).unwrap();
    put(&store, "counter.json", counter(1));
    let original = std::fs::read(dir.join("counter.json")).unwrap();
    let e = store
        .update(&lock(), "counter.json", &ctx(), |v| {
            v["pad"] = json!("x".repeat(200_000))
        })
        .unwrap_err();
    let msg = e.to_string();
    assert!(
        matches!(e, StoreError::DiskFull { .. })
            && msg.contains("no space left")
            && msg.contains("previous version is intact"),
        "{msg}"
    );
    assert_eq!(std::fs::read(dir.join("counter.json")).unwrap(), original);
    let temps: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .collect();
    assert!(temps.is_empty(), "temp left behind");
    assert_eq!(store.read("counter.json").unwrap().value["count"], json!(1));
}
