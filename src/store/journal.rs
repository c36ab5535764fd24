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
//!
//! The journal is read as untrusted input ([`find`]): every path in it
//! must be relative, normalized and of the store's own naming (targets
//! are document paths, temps the transaction temps of their targets, in
//! the same folder), every audit line must be about one of the targets,
//! and a complete commit mark must match. A journal that breaks any rule
//! is a [`StoreError::Journal`] naming the line and the field, and is
//! never acted on: nothing is renamed or removed.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::envelope::checksum;
use crate::store::atomic::{self, parent};
use crate::store::audit::AuditEntry;
use crate::store::error::{Result, StoreError};
use crate::store::fs::{Fs, FsFile};
use crate::store::layout;

/// The journal's file name inside the state dir.
pub const JOURNAL: &str = ".journal";

/// One rename of a transaction.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Rename {
    /// The temp, relative to the state dir.
    pub temp: String,
    /// The document, relative to the state dir.
    pub target: String,
}

/// What a transaction will do.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
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
/// gone were renamed before. Every rename is checked on the file system
/// first (no folder on the way is a link, the temp is a regular file):
/// when one fails, none is done.
pub fn apply(fs: &dyn Fs, dir: &Path, j: &Journal) -> Result<()> {
    let path = dir.join(JOURNAL);
    for (i, r) in j.renames.iter().enumerate() {
        for (field, rel) in [("temp", &r.temp), ("target", &r.target)] {
            layout::check_inside(fs, dir, rel).map_err(|message| StoreError::Journal {
                path: path.clone(),
                line: 1,
                field: format!("/renames/{i}/{field}"),
                message,
            })?;
        }
        match fs.meta(&dir.join(&r.temp)) {
            Ok(Some(m)) if !m.is_file => {
                return Err(StoreError::Journal {
                    path,
                    line: 1,
                    field: format!("/renames/{i}/temp"),
                    message: format!("`{}` is {}", r.temp, layout::describe(&m)),
                });
            }
            _ => {}
        }
    }
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

/// Reads the journal of `dir`, if there is one, as untrusted input (see
/// the module's rules). A first line cut short (no newline: a crash while
/// it was written) is a journal that never committed. Anything else that
/// is not what the store writes is a [`StoreError::Journal`].
pub fn find(fs: &dyn Fs, dir: &Path) -> Result<Option<Found>> {
    let path = dir.join(JOURNAL);
    let bad = |line: usize, field: &str, message: String| StoreError::Journal {
        path: path.clone(),
        line,
        field: field.to_owned(),
        message,
    };
    let bytes = match fs.read(&path) {
        Ok(b) => b,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(bad(0, "", unreadable(&e))),
    };
    let text = std::str::from_utf8(&bytes).map_err(|e| bad(1, "", format!("not UTF-8: {e}")))?;
    let mut lines = text.split_inclusive('\n');
    let Some(first) = lines.next().and_then(|l| l.strip_suffix('\n')) else {
        return Ok(Some(Found {
            journal: None,
            committed: false,
        }));
    };
    let journal: Journal =
        serde_json::from_str(first).map_err(|e| bad(1, "", format!("not a journal line: {e}")))?;
    check(&journal).map_err(|(field, message)| bad(1, &field, message))?;
    let committed = match lines.next() {
        None => false,
        Some(m) => match m.strip_suffix('\n') {
            None => false,
            Some(m) if m.strip_prefix("COMMIT ") == Some(mark_of(first).as_str()) => true,
            Some(_) => {
                return Err(bad(
                    2,
                    "",
                    "the commit mark does not match the first line (edited after it was written)"
                        .into(),
                ));
            }
        },
    };
    if lines.next().is_some() {
        return Err(bad(3, "", "a journal has at most two lines".into()));
    }
    Ok(Some(Found {
        journal: Some(journal),
        committed,
    }))
}

fn unreadable(e: &std::io::Error) -> String {
    match crate::store::fs::NotRegular::of(e) {
        Some(n) => format!("cannot be read: it is {n}"),
        None if e.raw_os_error() == Some(libc::ELOOP) => {
            "is a symbolic link; the store never follows links for its own files".into()
        }
        None => format!("cannot be read: {e}"),
    }
}

/// Checks the paths of a journal line: each target a document path, each
/// temp the transaction temp of its target, no target twice, every audit
/// line about a target. The error names the field (a JSON pointer).
fn check(j: &Journal) -> std::result::Result<(), (String, String)> {
    let mut targets = BTreeSet::new();
    for (i, r) in j.renames.iter().enumerate() {
        let at = |f: &str| format!("/renames/{i}/{f}");
        layout::check_document(&r.target).map_err(|m| (at("target"), m))?;
        layout::check_tx_temp(&r.temp, &r.target).map_err(|m| (at("temp"), m))?;
        if !targets.insert(r.target.as_str()) {
            return Err((at("target"), format!("`{}` is renamed twice", r.target)));
        }
    }
    for (i, a) in j.audit.iter().enumerate() {
        if !targets.contains(a.file.as_str()) {
            return Err((
                format!("/audit/{i}/file"),
                format!("`{}` is not one of the transaction's targets", a.file),
            ));
        }
    }
    Ok(())
}
