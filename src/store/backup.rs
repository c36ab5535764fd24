//! Rolling backups and the per-document index.
//!
//! Before a document is replaced, its current (verified) version gets a
//! second name in `.backup/` (a hard link, so no bytes are copied). Each
//! document has an index file of its own, `.backup/index/<file>`, listing
//! its backups (file, serial, checksum, time) and the serial of its newest
//! committed version (`serial`, the rollback-detection record). A write
//! reads and replaces that one small file and nothing else in `.backup/`:
//! its cost does not depend on how many documents the state dir holds.
//! The newest `keep` backups per document are kept.
//!
//! A backup is named `<file>.<serial>.<checksum prefix>` (`unstamped`
//! for an adopted document that has no checksum yet) with `/` in the
//! document's path written `%2F` (and `%` written `%25`); an index file is
//! named `<file>` the same way.
//!
//! Every index is untrusted input: an entry whose `file` is not the
//! document's, or whose `backup` is not the store's own name for that
//! serial and checksum (a path, `..`, an absolute path, another
//! document's backup), is a [`StoreError::BackupIndex`] naming the index
//! file and the JSON pointer, and nothing is ever read, restored or
//! removed through it. Only listed backups count: a backup file that no
//! index lists (a leftover, or one put there by hand) never raises the
//! serial a write expects, and is never pruned.
//!
//! Order of a write: the backup is linked before the document is renamed
//! (the replaced version is committed, so the link is true whatever
//! happens next); the index is replaced after the rename, so it never
//! records a serial that was not committed. A crash in between leaves an
//! unlisted backup (`statewright check` reports it) and the previous
//! index. In a transaction the backups are linked only after the journal's
//! commit mark, so a rolled-back transaction leaves none.
//!
//! Durability: the link and the index replace are not fsynced on their
//! own (that would double the cost of a save). On journaling file systems
//! they become durable with the fsyncs that commit the write; elsewhere a
//! crash can lose the newest backup, never a document.
//!
//! State dirs written before the index existed hold one
//! `.backup/manifest.json` for all documents; it is read (as untrusted as
//! the index) while a document has no index of its own, and split into
//! per-document indexes, then removed, by the first write under the lock.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::store::error::{Result, StoreError};
use crate::store::fs::Fs;

/// The backup folder's name inside the state dir.
pub const BACKUP_DIR: &str = ".backup";
/// The folder of the per-document index files inside the backup folder.
pub const INDEX_DIR: &str = "index";
/// The single manifest of state dirs written before the per-document
/// index (read, converted and removed; never written).
pub const MANIFEST: &str = "manifest.json";
/// The temp an index is written to before it is renamed into place.
const INDEX_TEMP_SUFFIX: &str = ".new";

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

/// What the store records of one document: its backups and the serial of
/// its newest committed version.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct DocIndex {
    /// The document's path inside the state dir.
    pub file: String,
    /// The serial of the newest version committed through the store
    /// (`None` in an index converted from a manifest, which did not
    /// record it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub serial: Option<u64>,
    /// The backups, oldest first.
    #[serde(default)]
    pub backups: Vec<BackupEntry>,
}

impl DocIndex {
    /// The highest serial the index records (its head serial or a
    /// backup's), 0 when none.
    pub fn highest(&self) -> u64 {
        self.backups
            .iter()
            .map(|b| b.serial)
            .chain(self.serial)
            .max()
            .unwrap_or(0)
    }
}

/// The backup folder of a state dir.
pub fn dir(state: &Path) -> PathBuf {
    state.join(BACKUP_DIR)
}

/// `rel` as one file name: `%` written `%25`, `/` written `%2F`.
pub fn flat(rel: &str) -> String {
    rel.replace('%', "%25").replace('/', "%2F")
}

/// The document path a [`flat`] name stands for.
pub fn unflat(name: &str) -> String {
    name.replace("%2F", "/").replace("%25", "%")
}

/// The index file of `rel`.
pub fn index_path(state: &Path, rel: &str) -> PathBuf {
    dir(state).join(INDEX_DIR).join(flat(rel))
}

/// The store's name for the backup of `rel` at `serial` with `checksum`.
pub fn backup_name(rel: &str, serial: u64, checksum: &str) -> String {
    let hex = checksum.strip_prefix("sha256:").unwrap_or(checksum);
    // An adopted document has no checksum yet: its backup says so.
    let tag = match hex.is_empty() {
        true => "unstamped",
        false => &hex[..hex.len().min(12)],
    };
    format!("{}.{serial}.{tag}", flat(rel))
}

/// Why `b` is not a backup entry the store may act on for `rel` (see the
/// module doc), with the member at fault; `None` when it is one.
fn entry_problem(rel: &str, b: &BackupEntry) -> Option<(&'static str, String)> {
    if b.file != rel {
        return Some((
            "file",
            format!("names `{}`, but this index is the one of `{rel}`", b.file),
        ));
    }
    let name_ok = b
        .backup
        .strip_prefix(&format!("{}.", flat(rel)))
        .is_some_and(|rest| {
            let Some((serial, hex)) = rest.split_once('.') else {
                return false;
            };
            let is_hex = |s: &str| s.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f'));
            let unstamped = hex == "unstamped" && b.checksum.is_empty();
            serial == b.serial.to_string()
                && (unstamped || (hex.len() <= 12 && is_hex(hex)))
                && (b.checksum.is_empty()
                    || b.checksum
                        .strip_prefix("sha256:")
                        .is_some_and(|h| h.starts_with(hex)))
        });
    if !name_ok {
        return Some((
            "backup",
            format!(
                "`{}` is not the store's name of a backup of `{rel}` at serial {} (expected `{}`); the store never reads, restores or removes a path an index names otherwise",
                b.backup,
                b.serial,
                backup_name(rel, b.serial, &b.checksum)
            ),
        ));
    }
    None
}

fn bad_index(path: PathBuf, pointer: String, message: String) -> StoreError {
    StoreError::BackupIndex {
        path,
        pointer,
        message,
    }
}

/// Parses and checks the index file `path` of `rel`.
fn parse_index(path: &Path, rel: &str, bytes: &[u8]) -> Result<DocIndex> {
    let idx: DocIndex = serde_json::from_slice(bytes)
        .map_err(|e| bad_index(path.to_owned(), String::new(), e.to_string()))?;
    if idx.file != rel {
        return Err(bad_index(
            path.to_owned(),
            "/file".into(),
            format!("names `{}`, but it is the index of `{rel}`", idx.file),
        ));
    }
    check_entries(path, rel, idx.backups.iter().enumerate())?;
    Ok(idx)
}

fn check_entries<'a>(
    path: &Path,
    rel: &str,
    entries: impl Iterator<Item = (usize, &'a BackupEntry)>,
) -> Result<()> {
    for (i, b) in entries {
        if let Some((member, message)) = entry_problem(rel, b) {
            return Err(bad_index(
                path.to_owned(),
                format!("/backups/{i}/{member}"),
                message,
            ));
        }
    }
    Ok(())
}

/// The index of `rel`: its own file, or (in a state dir written before
/// per-document indexes) its entries in the old manifest. `None` when
/// neither exists. Every entry is checked (see the module doc).
pub fn read_index(fs: &dyn Fs, state: &Path, rel: &str) -> Result<Option<DocIndex>> {
    if let Some(own) = read_own(fs, state, rel)? {
        return Ok(Some(own));
    }
    let Some(all) = read_manifest(fs, state)? else {
        return Ok(None);
    };
    let mine: Vec<BackupEntry> = all.into_iter().filter(|b| b.file == rel).collect();
    Ok((!mine.is_empty()).then(|| DocIndex {
        file: rel.to_owned(),
        serial: None,
        backups: mine,
    }))
}

/// The entries of the old single manifest, each checked against the
/// document it names; `None` when there is none.
fn read_manifest(fs: &dyn Fs, state: &Path) -> Result<Option<Vec<BackupEntry>>> {
    #[derive(Deserialize)]
    struct Manifest {
        backups: Vec<BackupEntry>,
    }
    let path = dir(state).join(MANIFEST);
    let bytes = match fs.read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(source) => {
            return Err(StoreError::Io {
                op: "read",
                path,
                source,
            });
        }
    };
    let m: Manifest = serde_json::from_slice(&bytes)
        .map_err(|e| bad_index(path.clone(), String::new(), e.to_string()))?;
    for (i, b) in m.backups.iter().enumerate() {
        check_entries(&path, &b.file, std::iter::once((i, b)))?;
    }
    Ok(Some(m.backups))
}

/// Splits the old single manifest into per-document indexes and removes
/// it (under the lock; once per state dir). A manifest with an entry the
/// store may not act on is left as it is, and the write refused.
pub fn convert_manifest(fs: &dyn Fs, state: &Path) -> Result<()> {
    let Some(all) = read_manifest(fs, state)? else {
        return Ok(());
    };
    let mut by_file: std::collections::BTreeMap<String, Vec<BackupEntry>> = Default::default();
    for b in all {
        by_file.entry(b.file.clone()).or_default().push(b);
    }
    for (file, backups) in by_file {
        let mut idx = match read_own(fs, state, &file)? {
            Some(idx) => idx,
            None => DocIndex {
                file: file.clone(),
                ..DocIndex::default()
            },
        };
        for b in backups {
            if !idx.backups.iter().any(|x| x.backup == b.backup) {
                idx.backups.push(b);
            }
        }
        idx.backups.sort_by_key(|b| b.serial);
        write_index(fs, state, &idx)?;
    }
    let path = dir(state).join(MANIFEST);
    fs.remove(&path)
        .map_err(|e| StoreError::write_io("remove", path, e))
}

/// The document's own index file only (not the old manifest).
fn read_own(fs: &dyn Fs, state: &Path, rel: &str) -> Result<Option<DocIndex>> {
    let path = index_path(state, rel);
    match fs.read(&path) {
        Ok(bytes) => parse_index(&path, rel, &bytes).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(StoreError::Io {
            op: "read",
            path,
            source,
        }),
    }
}

/// Replaces the index of `idx.file` (a temp beside it, then a rename;
/// without fsyncs, see the module doc).
fn write_index(fs: &dyn Fs, state: &Path, idx: &DocIndex) -> Result<()> {
    let idir = dir(state).join(INDEX_DIR);
    for d in [dir(state), idir.clone()] {
        fs.create_dir(&d)
            .map_err(|e| StoreError::write_io("create", d.clone(), e))?;
    }
    let target = index_path(state, &idx.file);
    let temp = idir.join(format!("{}{INDEX_TEMP_SUFFIX}", flat(&idx.file)));
    let mut bytes = serde_json::to_vec(idx).unwrap_or_default();
    bytes.push(b'\n');
    // Under the lock: a temp left here by an interrupted write is stale.
    let _ = fs.remove(&temp);
    let mut f = fs
        .create_new(&temp, 0o644)
        .map_err(|e| StoreError::write_io("create", temp.clone(), e))?;
    // Synced before the rename and the folder after it: a power loss
    // leaves the old index or the new one, never a torn one (which the
    // store would refuse to act on, blocking the document's writes).
    let written = f.write_all(&bytes).and_then(|()| f.sync());
    drop(f);
    if let Err(e) = written.and_then(|()| fs.rename(&temp, &target)) {
        let _ = fs.remove(&temp);
        return Err(StoreError::write_io("write", target, e));
    }
    super::atomic::sync_dir(fs, &idir)
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

/// Links the current version of a document into the backup folder (before
/// it is replaced); the entry to record once the new version is
/// committed ([`record`]). `None` when `keep` is 0.
pub fn link(
    fs: &dyn Fs,
    state: &Path,
    src: &Source<'_>,
    keep: usize,
) -> Result<Option<BackupEntry>> {
    if keep == 0 {
        return Ok(None);
    }
    let bdir = dir(state);
    fs.create_dir(&bdir)
        .map_err(|e| StoreError::write_io("create", bdir.clone(), e))?;
    let name = backup_name(src.rel, src.serial, src.checksum);
    match fs.hard_link(src.path, &bdir.join(&name)) {
        Err(e) if e.kind() != std::io::ErrorKind::AlreadyExists => {
            return Err(StoreError::write_io("link backup", bdir.join(&name), e));
        }
        _ => {}
    }
    Ok(Some(BackupEntry {
        file: src.rel.to_owned(),
        backup: name,
        serial: src.serial,
        checksum: src.checksum.to_owned(),
        time: jiff::Timestamp::now().to_string(),
    }))
}

/// Records that `rel` was committed at `serial`, with the backup `linked`
/// (if any) of the version it replaced, and removes the backups beyond
/// `keep` (under the lock, after the commit). Reads and replaces the
/// document's own index only.
pub fn record(
    fs: &dyn Fs,
    state: &Path,
    rel: &str,
    serial: u64,
    linked: Option<BackupEntry>,
    keep: usize,
) -> Result<()> {
    let mut idx = read_index(fs, state, rel)?.unwrap_or_else(|| DocIndex {
        file: rel.to_owned(),
        ..DocIndex::default()
    });
    idx.serial = Some(idx.serial.unwrap_or(0).max(serial));
    if let Some(b) = linked {
        idx.backups.retain(|x| x.backup != b.backup);
        idx.backups.push(b);
    }
    idx.backups.sort_by_key(|b| b.serial);
    let drop_n = idx.backups.len().saturating_sub(keep);
    let pruned: Vec<BackupEntry> = idx.backups.drain(..drop_n).collect();
    write_index(fs, state, &idx)?;
    let bdir = dir(state);
    for old in pruned {
        // Checked by `read_index`: a plain name of this document's backup.
        let _ = fs.remove(&bdir.join(old.backup));
    }
    Ok(())
}

/// The backups of one document, newest (highest serial) first, as its
/// index lists them; none when the index cannot be used (a located error
/// on the write path and in `statewright check`).
pub fn list(fs: &dyn Fs, state: &Path, rel: &str) -> Vec<BackupEntry> {
    let mut out = read_index(fs, state, rel)
        .ok()
        .flatten()
        .map(|i| i.backups)
        .unwrap_or_default();
    out.sort_by_key(|b| std::cmp::Reverse(b.serial));
    out
}

/// Every index of a state dir, for `statewright check`: the entries (with
/// the index file and the entry's position in it) and the located errors
/// of the index files that cannot be used.
#[derive(Debug, Default)]
pub struct AllIndexes {
    /// (index file, position, entry) of every usable entry.
    pub entries: Vec<(PathBuf, usize, BackupEntry)>,
    /// Head serial per document.
    pub serials: std::collections::HashMap<String, u64>,
    /// (index file, pointer, message) of every unusable index.
    pub errors: Vec<(PathBuf, String, String)>,
}

/// Reads every index of the state dir `state` (and the old manifest, when
/// it is still there). Lists the index folder: for `check`, never a write.
pub fn read_all(fs: &dyn Fs, state: &Path) -> AllIndexes {
    let mut all = AllIndexes::default();
    let push_err = |e: StoreError, all: &mut AllIndexes| {
        if let StoreError::BackupIndex {
            path,
            pointer,
            message,
        } = e
        {
            all.errors.push((path, pointer, message));
        } else if let Some(p) = e.file() {
            all.errors
                .push((p.to_owned(), String::new(), e.to_string()));
        }
    };
    let idir = dir(state).join(INDEX_DIR);
    for name in fs.list(&idir).unwrap_or_default() {
        if name.ends_with(INDEX_TEMP_SUFFIX) {
            continue;
        }
        let rel = unflat(&name);
        let path = idir.join(&name);
        match fs
            .read(&path)
            .map_err(|e| StoreError::Io {
                op: "read",
                path: path.clone(),
                source: e,
            })
            .and_then(|b| parse_index(&path, &rel, &b))
        {
            Ok(idx) => {
                if let Some(s) = idx.serial {
                    all.serials.insert(rel.clone(), s);
                }
                all.entries.extend(
                    idx.backups
                        .into_iter()
                        .enumerate()
                        .map(|(i, b)| (path.clone(), i, b)),
                );
            }
            Err(e) => push_err(e, &mut all),
        }
    }
    match read_manifest(fs, state) {
        Ok(Some(m)) => {
            let path = dir(state).join(MANIFEST);
            all.entries
                .extend(m.into_iter().enumerate().map(|(i, b)| (path.clone(), i, b)));
        }
        Ok(None) => {}
        Err(e) => push_err(e, &mut all),
    }
    all
}
