//! The transaction journal `.journal`: several documents change together
//! or not at all.
//!
//! Commit: every new version is written to a temp `.<name>.tx-<random>.tmp`
//! and fsynced; then `.journal` is created with one JSON line naming the
//! renames (and the audit lines to append), fsynced, and the state dir
//! fsynced; then the commit mark `COMMIT <hash of the first line>` is
//! appended and fsynced. Only then are the temps renamed over their
//! targets, each folder fsynced, the journal removed and the state dir
//! fsynced.
//!
//! Recovery on open (under the lock): a journal whose commit mark matches
//! is rolled forward (remaining temps renamed; temps already gone were
//! renamed before the crash); a journal without a valid mark is rolled
//! back (its temps removed). Transaction temps never named by a committed
//! journal are always removed, never finished.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::envelope::checksum;
use crate::store::atomic::{self, parent};
use crate::store::audit::AuditEntry;
use crate::store::error::{Result, StoreError};
use crate::store::fs::{Fs, FsFile};

/// The journal's file name inside the state dir.
pub const JOURNAL: &str = ".journal";

/// One rename of a transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rename {
    /// The temp, relative to the state dir.
    pub temp: String,
    /// The document, relative to the state dir.
    pub target: String,
}

/// What a transaction will do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Journal {
    /// The transaction id.
    pub tx: String,
    /// The renames, in order.
    pub renames: Vec<Rename>,
    /// The audit lines to append once the renames are done.
    pub audit: Vec<AuditEntry>,
}

/// A journal found on open.
#[derive(Debug)]
pub struct Found {
    /// The journal, when its first line is intact.
    pub journal: Option<Journal>,
    /// Whether its commit mark is present and matches.
    pub committed: bool,
}

fn mark_of(line: &str) -> String {
    checksum(&serde_json::Value::String(line.to_owned()), "/none")
}

/// Writes and syncs the journal (without its commit mark).
pub fn begin(fs: &dyn Fs, dir: &Path, j: &Journal) -> Result<(Box<dyn FsFile>, String)> {
    let path = dir.join(JOURNAL);
    let line = serde_json::to_string(j).unwrap_or_default();
    let mut f = fs
        .create_new(&path, 0o644)
        .map_err(|e| StoreError::write_io("create journal", path.clone(), e))?;
    f.write_all(format!("{line}\n").as_bytes())
        .map_err(|e| StoreError::write_io("write journal", path.clone(), e))?;
    f.sync()
        .map_err(|source| StoreError::Sync { path, source })?;
    atomic::sync_dir(fs, dir)?;
    Ok((f, mark_of(&line)))
}

/// Appends and syncs the commit mark: from here on, the transaction
/// happens even if the process dies.
pub fn commit(dir: &Path, f: &mut Box<dyn FsFile>, mark: &str) -> Result<()> {
    let path = dir.join(JOURNAL);
    f.write_all(format!("COMMIT {mark}\n").as_bytes())
        .map_err(|e| StoreError::write_io("write journal", path.clone(), e))?;
    f.sync().map_err(|source| StoreError::Sync { path, source })
}

/// Performs the renames still to do and syncs the folders. Temps already
/// gone were renamed before.
pub fn apply(fs: &dyn Fs, dir: &Path, j: &Journal) -> Result<()> {
    let mut dirs = BTreeSet::<PathBuf>::new();
    for r in &j.renames {
        let (temp, target) = (dir.join(&r.temp), dir.join(&r.target));
        if fs.meta(&temp).ok().flatten().is_some() {
            fs.rename(&temp, &target)
                .map_err(|e| StoreError::write_io("rename", target.clone(), e))?;
        }
        dirs.insert(parent(&target).to_owned());
    }
    for d in &dirs {
        atomic::sync_dir(fs, d)?;
    }
    Ok(())
}

/// Removes the temps of an uncommitted journal, then the journal.
pub fn roll_back(fs: &dyn Fs, dir: &Path, j: Option<&Journal>) -> Result<()> {
    for r in j.map(|j| j.renames.as_slice()).unwrap_or_default() {
        let _ = fs.remove(&dir.join(&r.temp));
    }
    end(fs, dir)
}

/// Removes the journal and syncs the state dir: the transaction is over.
pub fn end(fs: &dyn Fs, dir: &Path) -> Result<()> {
    let path = dir.join(JOURNAL);
    match fs.remove(&path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => {
            return Err(StoreError::write_io("remove journal", path, e));
        }
        _ => {}
    }
    atomic::sync_dir(fs, dir)
}

/// Reads the journal of `dir`, if there is one.
pub fn find(fs: &dyn Fs, dir: &Path) -> Option<Found> {
    let bytes = fs.read(&dir.join(JOURNAL)).ok()?;
    let text = String::from_utf8_lossy(&bytes);
    let mut lines = text.split_inclusive('\n');
    let first = lines.next().unwrap_or("");
    let journal: Option<Journal> = first
        .strip_suffix('\n')
        .and_then(|l| serde_json::from_str(l).ok());
    let committed = journal.is_some()
        && lines.next().is_some_and(|m| {
            m.strip_suffix('\n')
                .and_then(|m| m.strip_prefix("COMMIT "))
                .is_some_and(|m| m == mark_of(first.trim_end_matches('\n')))
        });
    Some(Found { journal, committed })
}
