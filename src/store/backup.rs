//! Rolling backups: before a document is replaced, its current (verified)
//! version gets a second name in `.backup/` (a hard link, so no bytes are
//! copied), listed in `.backup/manifest.json` with file, serial, checksum
//! and time. The newest `keep` per document are kept.
//!
//! A backup is named `<file>.<serial>.<checksum prefix>` (`unstamped`
//! for an adopted document that has no checksum yet) with `/` in the
//! document's path written `%2F`. The manifest is an index, not the truth:
//! backups found on disk but missing from it are still listed (and
//! pruned), and every backup is fully verified before it is restored.
//!
//! Durability: the link and the manifest replace are not fsynced on their
//! own (that would double the cost of a save). On journaling file systems
//! they become durable with the state dir's fsync that commits the write;
//! elsewhere a crash can lose the newest backup, never a document.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::store::atomic;
use crate::store::error::{Result, StoreError};
use crate::store::fs::Fs;

/// The backup folder's name inside the state dir.
pub const BACKUP_DIR: &str = ".backup";
/// The manifest's name inside the backup folder.
pub const MANIFEST: &str = "manifest.json";

/// One backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupEntry {
    /// The document's path inside the state dir.
    pub file: String,
    /// The backup's file name inside `.backup/`.
    pub backup: String,
    /// The document's serial.
    pub serial: u64,
    /// The document's checksum (empty when unknown).
    pub checksum: String,
    /// When the backup was taken (RFC 3339).
    pub time: String,
}

#[derive(Debug, Default, Serialize, Deserialize)]
struct Manifest {
    backups: Vec<BackupEntry>,
}

/// The backup folder of a state dir.
pub fn dir(state: &Path) -> PathBuf {
    state.join(BACKUP_DIR)
}

/// `rel` as one file name: `%` written `%25`, `/` written `%2F`.
pub fn flat(rel: &str) -> String {
    rel.replace('%', "%25").replace('/', "%2F")
}

/// What is being backed up.
pub struct Source<'a> {
    /// The document's path inside the state dir.
    pub rel: &'a str,
    /// Its file.
    pub path: &'a Path,
    /// Its serial.
    pub serial: u64,
    /// Its checksum.
    pub checksum: &'a str,
}

/// Keeps the current version of a document in the backup folder and
/// prunes the oldest beyond `keep`. Nothing happens when `keep` is 0.
pub fn take(fs: &dyn Fs, state: &Path, src: &Source<'_>, keep: usize) -> Result<()> {
    if keep == 0 {
        return Ok(());
    }
    let bdir = dir(state);
    fs.create_dir(&bdir)
        .map_err(|e| StoreError::write_io("create", bdir.clone(), e))?;
    let hex = src.checksum.strip_prefix("sha256:").unwrap_or(src.checksum);
    // An adopted document has no checksum yet: its backup says so.
    let tag = match hex.is_empty() {
        true => "unstamped",
        false => &hex[..hex.len().min(12)],
    };
    let name = format!("{}.{}.{tag}", flat(src.rel), src.serial);
    match fs.hard_link(src.path, &bdir.join(&name)) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(StoreError::write_io("link backup", bdir.join(&name), e));
        }
        _ => {}
    }
    let mut names = fs.list(&bdir).unwrap_or_default();
    remove_stale_temps(fs, &bdir, &names);
    names.retain(|n| atomic::temp_target(n).is_none());
    let mut manifest = load(fs, &bdir);
    let mine = entries_of(&manifest, &names, src.rel);
    manifest.backups.retain(|b| b.file != src.rel);
    manifest
        .backups
        .extend(mine.into_iter().filter(|b| b.backup != name));
    manifest.backups.push(BackupEntry {
        file: src.rel.to_owned(),
        backup: name,
        serial: src.serial,
        checksum: src.checksum.to_owned(),
        time: jiff::Timestamp::now().to_string(),
    });
    let pruned = prune(&mut manifest, src.rel, keep);
    manifest
        .backups
        .sort_by(|a, b| (&a.file, a.serial).cmp(&(&b.file, b.serial)));
    save(fs, &bdir, &manifest)?;
    for old in pruned {
        let _ = fs.remove(&bdir.join(old));
    }
    Ok(())
}

/// Removes manifest temps an interrupted write left (under the lock).
fn remove_stale_temps(fs: &dyn Fs, bdir: &Path, names: &[String]) {
    for name in names {
        if atomic::temp_target(name).is_some() {
            let _ = fs.remove(&bdir.join(name));
        }
    }
}

fn prune(m: &mut Manifest, rel: &str, keep: usize) -> Vec<String> {
    let mut mine: Vec<&BackupEntry> = m.backups.iter().filter(|b| b.file == rel).collect();
    mine.sort_by_key(|b| std::cmp::Reverse(b.serial));
    let drop: Vec<String> = mine.iter().skip(keep).map(|b| b.backup.clone()).collect();
    m.backups.retain(|b| !drop.contains(&b.backup));
    drop
}

fn load(fs: &dyn Fs, bdir: &Path) -> Manifest {
    fs.read(&bdir.join(MANIFEST))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default()
}

/// Replaces the manifest (temp + rename, without fsyncs; see above).
fn save(fs: &dyn Fs, bdir: &Path, m: &Manifest) -> Result<()> {
    let mut bytes = serde_json::to_vec_pretty(m).unwrap_or_default();
    bytes.push(b'\n');
    let target = bdir.join(MANIFEST);
    let temp = atomic::temp_path(&target, false);
    let mut f = fs
        .create_new(&temp, 0o644)
        .map_err(|e| StoreError::write_io("create", temp.clone(), e))?;
    let written = f.write_all(&bytes);
    drop(f);
    if let Err(e) = written.and_then(|()| fs.rename(&temp, &target)) {
        let _ = fs.remove(&temp);
        return Err(StoreError::write_io("write", target, e));
    }
    Ok(())
}

/// The backups of one document, newest (highest serial) first: the
/// manifest's entries plus any backup file it does not list.
pub fn list(fs: &dyn Fs, state: &Path, rel: &str) -> Vec<BackupEntry> {
    let bdir = dir(state);
    let names = fs.list(&bdir).unwrap_or_default();
    entries_of(&load(fs, &bdir), &names, rel)
}

/// The backups of `rel`, newest first: the manifest's entries, plus files
/// among `names` (the backup folder's listing) it does not name.
fn entries_of(manifest: &Manifest, names: &[String], rel: &str) -> Vec<BackupEntry> {
    let mut out: Vec<BackupEntry> = manifest
        .backups
        .iter()
        .filter(|b| b.file == rel)
        .cloned()
        .collect();
    let prefix = format!("{}.", flat(rel));
    for name in names {
        let Some(rest) = name.strip_prefix(&prefix) else {
            continue;
        };
        if out.iter().any(|b| &b.backup == name) {
            continue;
        }
        let Some(serial) = rest.split('.').next().and_then(|s| s.parse().ok()) else {
            continue;
        };
        out.push(BackupEntry {
            file: rel.to_owned(),
            backup: name.clone(),
            serial,
            checksum: String::new(),
            time: String::new(),
        });
    }
    out.sort_by_key(|b| std::cmp::Reverse(b.serial));
    out
}
