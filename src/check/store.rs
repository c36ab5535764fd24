//! Store-level findings: what the store's own files say about a state dir
//! (leftover temps and journals, locks, backups, the audit chain) and what
//! a document's envelope says against the store's records (checksum,
//! migration history, state transitions since the newest backup).
//!
//! Everything here only reads. Nothing takes the lock for longer than an
//! instant (to tell a held lock from a free one), nothing is created.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use serde_json::Value;
use statewright_spec::document::{self, SourceText};
use statewright_spec::migration::MigrationSet;
use statewright_spec::{Catalog, Kind, ParseLimits, Position, locate};

use crate::codes;
use crate::envelope::checksum;
use crate::finding::Finding;
use crate::store::audit::{AUDIT_FILE, AuditIndex, verify_audit};
use crate::store::backup::{self, BACKUP_DIR, BackupEntry, INDEX_DIR, MANIFEST};
use crate::store::journal::{self, JOURNAL};
use crate::store::lock::{self, LOCK_FILE, LockStatus};
use crate::store::{RealFs, StoreError, atomic};

/// The backups of a state dir, as the per-document indexes and the backup
/// folder list them (read once per check).
#[derive(Debug, Default)]
pub struct BackupIndex {
    dir: PathBuf,
    /// (index file, position, entry) of every usable index entry.
    listed: Vec<(PathBuf, usize, BackupEntry)>,
    /// (index file, pointer, message) of every index that cannot be used.
    errors: Vec<(PathBuf, String, String)>,
    /// The newest committed serial each index records.
    heads: HashMap<String, u64>,
    files: Vec<String>,
    temps: Vec<PathBuf>,
    newest: HashMap<String, (u64, String)>,
}

impl BackupIndex {
    /// Reads the backup indexes and the backup folder's names.
    pub fn load(state_dir: &Path) -> BackupIndex {
        let dir = state_dir.join(BACKUP_DIR);
        let mut idx = BackupIndex {
            dir: dir.clone(),
            ..BackupIndex::default()
        };
        let Ok(names) = std::fs::read_dir(&dir) else {
            return idx;
        };
        let (temps, files): (Vec<String>, Vec<String>) = names
            .filter_map(|e| e.ok()?.file_name().into_string().ok())
            .filter(|n| n != MANIFEST && n != INDEX_DIR)
            .partition(|n| atomic::temp_target(n).is_some());
        idx.files = files;
        idx.temps = temps.into_iter().map(|t| dir.join(t)).collect();
        idx.temps.sort();
        idx.files.sort();
        let all = backup::read_all(&RealFs, state_dir);
        (idx.listed, idx.errors, idx.heads) = (all.entries, all.errors, all.serials);
        let mut add = |file: String, serial: u64, name: &str| {
            let slot = idx.newest.entry(file).or_insert((0, String::new()));
            if slot.1.is_empty() || serial > slot.0 {
                *slot = (serial, name.to_owned());
            }
        };
        for (_, _, b) in &idx.listed {
            if idx.files.contains(&b.backup) {
                add(b.file.clone(), b.serial, &b.backup);
            }
        }
        idx
    }

    /// The newest listed backup file of `rel` (path and serial), if any.
    pub fn newest(&self, rel: &str) -> Option<(PathBuf, u64)> {
        self.newest
            .get(rel)
            .map(|(serial, name)| (self.dir.join(name), *serial))
    }

    /// Whether the state dir has any backup.
    pub fn is_empty(&self) -> bool {
        self.files.is_empty()
    }

    /// The highest serial the index of `rel` records (its newest committed
    /// version's, or a listed backup's). Backup files no index lists do
    /// not count: anyone can put a file there.
    pub fn highest(&self, rel: &str) -> Option<u64> {
        let listed = self.listed.iter().filter(|(_, _, b)| b.file == rel);
        listed
            .map(|(_, _, b)| b.serial)
            .chain(self.heads.get(rel).copied())
            .max()
    }

    /// Every document with a listed backup or an index of its own.
    pub fn recorded(&self) -> impl Iterator<Item = String> + '_ {
        self.newest
            .keys()
            .cloned()
            .chain(self.listed.iter().map(|(_, _, b)| b.file.clone()))
            .chain(self.heads.keys().cloned())
    }

    /// How many documents have a listed backup file.
    pub fn documents(&self) -> usize {
        self.newest.len()
    }
}

/// What the per-document store checks need.
#[derive(Debug, Clone, Copy)]
pub struct DocContext<'a> {
    /// The state dir.
    pub state_dir: &'a Path,
    /// The migrations (for history checks), when the project has them.
    pub migrations: Option<&'a MigrationSet>,
    /// The backups.
    pub backups: &'a BackupIndex,
    /// Parser limits for backups.
    pub limits: ParseLimits,
    /// What the audit log records (empty: no audit checks).
    pub audit: &'a AuditIndex,
}

/// Store findings about one parsed document of `kind` at `rel`.
pub fn document_findings(
    cx: &DocContext<'_>,
    kind: &Kind,
    rel: &str,
    source: &SourceText,
    value: &Value,
) -> Vec<Finding> {
    let mut out = Vec::new();
    let fields = &kind.spec.fields;
    let at = |p: &str| locate::locate(source, p);
    let bad_checksum = match value.pointer(&fields.checksum) {
        Some(Value::String(recorded)) => {
            let actual = checksum(value, &fields.checksum);
            (*recorded != actual).then(|| {
                format!("the envelope records {recorded}, but the content hashes to {actual}")
            })
        }
        // The store stamps a checksum on every document it writes; only a
        // document with none of its stamp is an adopted, unstamped one.
        None if !crate::store::is_unstamped(fields, value) => Some(format!(
            "the envelope has no checksum, but it records {}: the store stamps a checksum on every document it writes, so it was removed",
            stamp_of(fields, value)
        )),
        _ => None,
    };
    if let Some(message) = bad_checksum {
        out.push(
            Finding::new(
                codes::CHECKSUM_MISMATCH,
                &source.path,
                fields.checksum.clone(),
                message,
            )
            .at(at(&fields.checksum)),
        );
    }
    out.extend(serial_behind(cx, kind, rel, source, value));
    out.extend(secret_finding(kind, source, value));
    if let (Some(set), Some(Value::Array(history))) =
        (cx.migrations, value.pointer(&fields.history))
    {
        for (i, entry) in history.iter().enumerate() {
            out.extend(history_finding(
                set,
                kind,
                source,
                &fields.history,
                i,
                entry,
            ));
        }
    }
    out.extend(audit_gap(cx, kind, rel, source, value));
    if let Some((backup, serial)) = cx.backups.newest(rel) {
        out.extend(transition_findings(
            cx, kind, source, value, &backup, serial,
        ));
    }
    out
}

/// SW049 for the first string that looks like a credential, by the rules
/// the store refuses to write one with (`store::secrets`): a document
/// edited by hand, or written before a rule existed.
fn secret_finding(kind: &Kind, source: &SourceText, value: &Value) -> Option<Finding> {
    let version = kind.spec.version_of(value).ok();
    let schema = version
        .and_then(|v| kind.version(v))
        .unwrap_or_else(|| kind.latest());
    let found = crate::store::secrets::scan(value, &schema.schema, &kind.spec.secrets_allow)?;
    // No line:col: a finding with a position is shown with its source
    // line, and the credential must not land in a CI log.
    Some(Finding::new(
        codes::SECRET_STORED,
        &source.path,
        found.pointer,
        format!(
            "the value looks like {} (not shown; the pointer says where)",
            found.what
        ),
    ))
}

/// The serial and lineage an envelope records, for messages.
fn stamp_of(fields: &statewright_spec::EnvelopeFields, value: &Value) -> String {
    let serial = value.pointer(&fields.serial).map(|s| format!("serial {s}"));
    let lineage = value.pointer(&fields.lineage).map(|l| {
        format!(
            "lineage {}",
            l.as_str().map_or(l.to_string(), str::to_owned)
        )
    });
    [serial, lineage]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" and ")
}

/// SW046 when the document's serial is below the highest one the audit
/// log or the backups record for it: it was rolled back or replaced by an
/// older copy (a document without a serial counts as serial 0).
fn serial_behind(
    cx: &DocContext<'_>,
    kind: &Kind,
    rel: &str,
    source: &SourceText,
    value: &Value,
) -> Option<Finding> {
    let fields = &kind.spec.fields;
    let serial = value
        .pointer(&fields.serial)
        .and_then(Value::as_u64)
        .unwrap_or(0);
    let audited = cx.audit.serials.get(rel).copied();
    let backed_up = cx.backups.highest(rel);
    let recorded = audited.max(backed_up)?;
    if serial >= recorded {
        return None;
    }
    let show = |s: Option<u64>| s.map_or("none".to_owned(), |s| s.to_string());
    Some(at_serial(
        codes::SERIAL_BEHIND,
        source,
        fields,
        format!(
            "serial {serial} is lower than serial {recorded}, the highest the store has recorded for this file (audit log: {}, backup index: {}): it was rolled back or replaced by an older copy outside statewright, and the store refuses to write over it",
            show(audited),
            show(backed_up)
        ),
    ))
}

/// A finding `code` at the envelope's serial.
fn at_serial(
    code: codes::Code,
    source: &SourceText,
    fields: &statewright_spec::EnvelopeFields,
    message: String,
) -> Finding {
    Finding::new(code, &source.path, fields.serial.clone(), message)
        .at(locate::locate(source, &fields.serial))
}

/// SW047 when the audit log holds no line (`audit`, read with the lock
/// free) although the store has written in the state dir: documents of
/// `stamped` (path, serial) with a serial, or backups. Settled like SW040:
/// it stands only when the lock is free now and the log still has no line
/// (a first write may have been between its rename and its line).
pub fn audit_log_missing(
    state_dir: &Path,
    audit: &AuditIndex,
    stamped: Vec<(String, u64)>,
    backups: &BackupIndex,
) -> Option<Finding> {
    if audit.lines > 0 {
        return None;
    }
    let evidence = crate::store::audit::written_evidence(stamped, backups.documents())?;
    if lock_held(state_dir) || crate::store::audit::audit_index(&RealFs, state_dir).lines > 0 {
        return None;
    }
    Some(Finding::new(
        codes::AUDIT_LOG_MISSING,
        state_dir.join(AUDIT_FILE),
        "",
        format!(
            "the audit log is missing or empty, but the store has written in this state dir ({evidence})"
        ),
    ))
}

/// SW040 when the document's serial has no audit line although the log
/// reaches back to the time the version was written (so rotation did not
/// take the line away). Documents without a serial or a time (never
/// written by the store) and logs with no line are left out.
fn audit_gap(
    cx: &DocContext<'_>,
    kind: &Kind,
    rel: &str,
    source: &SourceText,
    value: &Value,
) -> Option<Finding> {
    let fields = &kind.spec.fields;
    let since = cx.audit.since?;
    let serial = value.pointer(&fields.serial)?.as_u64().filter(|s| *s > 0)?;
    if let Some(lost) = history_lost(cx, rel, source, fields, serial) {
        return Some(lost);
    }
    let written: jiff::Timestamp = value
        .pointer(&fields.generated_at)?
        .as_str()?
        .parse()
        .ok()?;
    let recorded = cx.audit.serials.get(rel).copied();
    // A log that starts at the genesis reaches back to every version.
    if (written < since && !cx.audit.genesis) || recorded.is_some_and(|r| r >= serial) {
        return None;
    }
    let last = match recorded {
        Some(r) => format!("its last line for this file records serial {r}"),
        None => "it has no line for this file".to_owned(),
    };
    Some(at_serial(
        codes::AUDIT_MISSING,
        source,
        fields,
        format!(
            "serial {serial} (written {written}) has no line in the audit log, although the log reaches back to {since}; {last}"
        ),
    ))
}

/// SW063 when the log claims the whole history (its oldest line is the
/// chain's genesis, not the first of a rotated file) but does not hold
/// this document's creation: its first line for the file records a
/// version before it, or it has no line for a document past its first
/// version, and no anchor line acknowledges the loss. A deleted or
/// restarted log is caught this way after any number of writes. (A
/// document at serial 1 without a line is SW040: its creating write may
/// have died before the line.)
fn history_lost(
    cx: &DocContext<'_>,
    rel: &str,
    source: &SourceText,
    fields: &statewright_spec::EnvelopeFields,
    serial: u64,
) -> Option<Finding> {
    if !cx.audit.genesis || cx.audit.anchored.contains(rel) {
        return None;
    }
    let message = match cx.audit.serials.get(rel) {
        Some(r) => format!(
            "the audit log starts at the chain's genesis, but its first line for this file records an earlier version than the log holds (it holds serials up to {r}, not the creation): lines were lost"
        ),
        None if serial > 1 => format!(
            "serial {serial}: the audit log starts at the chain's genesis but has no line for this file: it was deleted or restarted after the document was written"
        ),
        None => return None,
    };
    Some(at_serial(
        codes::AUDIT_HISTORY_LOST,
        source,
        fields,
        message,
    ))
}

fn history_finding(
    set: &MigrationSet,
    kind: &Kind,
    source: &SourceText,
    history: &str,
    i: usize,
    entry: &Value,
) -> Option<Finding> {
    let id = entry.get("migration")?.as_str()?;
    let recorded = entry.get("file_hash")?.as_str()?;
    let remedy = format!(
        "restore migrations/{}/{id}.yaml as released (from version control), or restore the document from a backup; never edit the history by hand",
        kind.name
    );
    let (code, pointer, message) = match set.by_id(&kind.name, id) {
        Some(m) if m.file_hash == recorded => return None,
        Some(m) => (
            codes::HISTORY_CHANGED,
            format!("{history}/{i}/file_hash"),
            format!(
                "the history records migration `{id}` with {recorded}, but the file's hash is now {}",
                m.file_hash
            ),
        ),
        None => (
            codes::HISTORY_MISSING,
            format!("{history}/{i}/migration"),
            format!(
                "the history records migration `{id}` of kind `{}`, but no such migration file exists now",
                kind.name
            ),
        ),
    };
    let position = locate::locate(source, &pointer);
    Some(
        Finding::new(code, &source.path, pointer, message)
            .at(position)
            .remedy(remedy),
    )
}

fn transition_findings(
    cx: &DocContext<'_>,
    kind: &Kind,
    source: &SourceText,
    value: &Value,
    backup: &Path,
    serial: u64,
) -> Vec<Finding> {
    let version = kind.spec.version_of(value).ok();
    let Some(schema) = version.and_then(|v| kind.version(v)).map(|s| &s.schema) else {
        return Vec::new();
    };
    if !schema.to_string().contains(crate::transitions::KEYWORD) {
        return Vec::new();
    }
    let Some(old) = std::fs::read(backup)
        .ok()
        .and_then(|b| document::decode(backup, b, kind.spec.format()).ok())
        .and_then(|s| document::parse(&s, cx.limits).ok())
    else {
        return Vec::new();
    };
    let name = backup.file_name().unwrap_or_default().to_string_lossy();
    crate::transitions::check(schema, &old, value)
        .into_iter()
        .map(|v| {
            let position = locate::locate(source, &v.pointer);
            Finding::new(
                codes::TRANSITION_RECORDED,
                &source.path,
                v.pointer.clone(),
                format!("{v} (compared with the newest backup {name}, serial {serial})"),
            )
            .at(position)
        })
        .collect()
}

/// Findings about the state dir's own files: leftover temps (`temps`, as
/// found by the walk over the documents, plus those in `.backup/`) and
/// journal, stale or orphaned locks, backups and the manifest, the audit
/// chain.
pub fn dir_findings(
    catalog: &Catalog,
    state_dir: &Path,
    backups: &BackupIndex,
    temps: &[PathBuf],
) -> Vec<Finding> {
    let mut out: Vec<Finding> = temps
        .iter()
        .chain(&backups.temps)
        .filter_map(|t| temp_finding(t))
        .collect();
    journal_finding(state_dir, &mut out);
    lock_finding(state_dir, &mut out);
    backup_findings(catalog, backups, &mut out);
    audit_finding(state_dir, &mut out);
    out
}

/// Whether a finding may describe a write in progress: its temps, its
/// journal, a backup it linked before rewriting the manifest.
fn in_progress(f: &Finding) -> bool {
    [
        codes::LEFTOVER_TEMP.id,
        codes::LEFTOVER_JOURNAL.id,
        codes::BACKUP_UNLISTED.id,
    ]
    .contains(&f.code)
}

/// Settles the findings of [`dir_findings`] (`found`, from the files
/// `temps` and `backups` seen earlier) that a writer at work explains.
/// When there is any, the dir is looked at again (temps still there, the
/// backups read again); then, while a live process holds the lock, the
/// write-in-progress findings are replaced by one SW048 note; with the
/// lock free (or held without a live holder), they stand as found again.
pub fn settle_in_progress(
    catalog: &Catalog,
    state_dir: &Path,
    temps: &[PathBuf],
    found: Vec<Finding>,
) -> Vec<Finding> {
    if !found.iter().any(in_progress) {
        return found;
    }
    let temps: Vec<PathBuf> = temps.iter().filter(|t| t.exists()).cloned().collect();
    let again = dir_findings(catalog, state_dir, &BackupIndex::load(state_dir), &temps);
    let holder = match lock::status(&RealFs, state_dir) {
        Ok(LockStatus::Held {
            holder: Some(h),
            dead: Some(false) | None,
        }) => h,
        _ => return again,
    };
    let (pending, mut out): (Vec<Finding>, Vec<Finding>) = again.into_iter().partition(in_progress);
    if !pending.is_empty() {
        let count = |code: &str| pending.iter().filter(|f| f.code == code).count();
        let what = [
            (count(codes::LEFTOVER_TEMP.id), "temp file", "temp files"),
            (count(codes::LEFTOVER_JOURNAL.id), "journal", "journals"),
            (
                count(codes::BACKUP_UNLISTED.id),
                "backup not yet in the manifest",
                "backups not yet in the manifest",
            ),
        ]
        .into_iter()
        .filter(|(n, _, _)| *n > 0)
        .map(|(n, one, many)| match n {
            1 => format!("1 {one}"),
            n => format!("{n} {many}"),
        })
        .collect::<Vec<_>>()
        .join(", ");
        out.push(Finding::new(
            codes::WRITE_IN_PROGRESS,
            state_dir.join(LOCK_FILE),
            "",
            format!(
                "a write is in progress: the lock is held by {holder}; its files ({what}) are not reported while it works"
            ),
        ));
    }
    out
}

/// The finding for `path` when it is a temp file left by a write.
pub fn temp_finding(path: &Path) -> Option<Finding> {
    let name = path.file_name()?.to_str()?;
    let (target, tx) = atomic::temp_target(name)?;
    let what = if tx {
        "a transaction"
    } else {
        "an interrupted write"
    };
    Some(Finding::new(
        codes::LEFTOVER_TEMP,
        path,
        "",
        format!("temp file of {what} to `{target}` is left behind"),
    ))
}

fn journal_finding(state_dir: &Path, out: &mut Vec<Finding>) {
    let state = match journal::find(&RealFs, state_dir) {
        Ok(None) => return,
        Ok(Some(f)) if f.committed => "committed: repair rolls it forward",
        Ok(Some(_)) => "not committed: repair rolls it back",
        Err(StoreError::Journal {
            path,
            line,
            field,
            message,
        }) => {
            let at = (line > 0).then_some(Position {
                line,
                column: 1,
                offset: 0,
            });
            out.push(
                Finding::new(
                    codes::JOURNAL_INVALID,
                    &path,
                    field,
                    format!("{message}; it was not acted on"),
                )
                .at(at),
            );
            return;
        }
        Err(e) => {
            let path = state_dir.join(JOURNAL);
            out.push(Finding::new(
                codes::JOURNAL_INVALID,
                &path,
                "",
                e.to_string(),
            ));
            return;
        }
    };
    out.push(Finding::new(
        codes::LEFTOVER_JOURNAL,
        state_dir.join(JOURNAL),
        "",
        format!("the journal of an interrupted transaction is left ({state})"),
    ));
}

/// Whether a live process holds the lock of `state_dir` right now.
pub fn lock_held(state_dir: &Path) -> bool {
    matches!(
        lock::status(&RealFs, state_dir),
        Ok(LockStatus::Held { .. })
    )
}

fn lock_finding(state_dir: &Path, out: &mut Vec<Finding>) {
    let path = state_dir.join(LOCK_FILE);
    match lock::status(&RealFs, state_dir) {
        Ok(LockStatus::Stale(h)) => out.push(
            Finding::new(
                codes::LOCK_STALE,
                &path,
                "",
                format!("the lock is free but records holder {h}, which is gone"),
            )
            .remedy(format!(
                "run `statewright check --repair` (or any command that takes the lock): it clears the record and finishes what the holder left, including its missing audit lines; `statewright lock break {}` only clears the record",
                h.lock_id
            )),
        ),
        Ok(LockStatus::Held {
            holder: Some(h),
            dead: Some(true),
        }) => out.push(Finding::new(
            codes::LOCK_ORPHANED,
            &path,
            "",
            format!(
                "the lock is held, but its recorded holder {h} is gone: a process that inherited its descriptor keeps it"
            ),
        )
        .remedy(find_holder(&path))),
        Ok(LockStatus::Held { holder: None, .. }) => out.push(
            Finding::new(
                codes::LOCK_ORPHANED,
                &path,
                "",
                "the lock is held by a process that left no holder record".to_owned(),
            )
            .remedy(find_holder(&path)),
        ),
        _ => {}
    }
}

/// How to find the process that keeps the lock at `path`.
fn find_holder(path: &Path) -> String {
    format!(
        "find the process that keeps it with `fuser -v {}` (or `lsof {}`) and stop it; the lock is free as soon as it exits",
        path.display(),
        path.display()
    )
}

fn backup_findings(catalog: &Catalog, idx: &BackupIndex, out: &mut Vec<Finding>) {
    for (path, pointer, message) in &idx.errors {
        let what = if path.ends_with(MANIFEST) {
            "manifest"
        } else {
            "index"
        };
        out.push(Finding::new(
            codes::MANIFEST_UNREADABLE,
            path,
            pointer.as_str(),
            format!("the backup {what} cannot be read: {message}"),
        ));
    }
    for (index, i, b) in &idx.listed {
        let file = idx.dir.join(&b.backup);
        if !idx.files.contains(&b.backup) {
            out.push(Finding::new(
                codes::BACKUP_MISSING,
                index,
                format!("/backups/{i}/backup"),
                format!(
                    "backup {} of `{}` (serial {}) is listed but its file is missing",
                    b.backup, b.file, b.serial
                ),
            ));
            continue;
        }
        if b.checksum.is_empty() {
            continue;
        }
        let actual = catalog
            .kind_for(Path::new(&b.file))
            .and_then(|k| backup_checksum(k, &file));
        if actual.as_deref() != Some(b.checksum.as_str()) {
            let got = actual.map_or_else(
                || "cannot be parsed".to_owned(),
                |a| format!("hashes to {a}"),
            );
            out.push(Finding::new(
                codes::BACKUP_CHECKSUM,
                index,
                format!("/backups/{i}/checksum"),
                format!(
                    "backup {} of `{}` records {}, but its content {got}",
                    b.backup, b.file, b.checksum
                ),
            ));
        }
    }
    for name in &idx.files {
        if !idx.listed.iter().any(|(_, _, b)| b.backup == *name) && idx.errors.is_empty() {
            out.push(Finding::new(
                codes::BACKUP_UNLISTED,
                idx.dir.join(name),
                "",
                format!("backup file {name} is not listed in the backup index of its document"),
            ));
        }
    }
}

fn backup_checksum(kind: &Kind, path: &Path) -> Option<String> {
    let bytes = std::fs::read(path).ok()?;
    let source = document::decode(path, bytes, kind.spec.format()).ok()?;
    let value = document::parse(&source, ParseLimits::default()).ok()?;
    Some(checksum(&value, &kind.spec.fields.checksum))
}

fn audit_finding(state_dir: &Path, out: &mut Vec<Finding>) {
    if let Err(StoreError::AuditBroken {
        path,
        line,
        message,
    }) = verify_audit(&RealFs, state_dir)
    {
        out.push(
            Finding::new(
                codes::AUDIT_BROKEN,
                path,
                "",
                format!("line {line}: {message}"),
            )
            .at(Some(Position {
                line,
                column: 1,
                offset: 0,
            })),
        );
    }
}
