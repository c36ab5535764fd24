//! The audit log `audit.log`: one JSON line per committed change (time,
//! transaction id, command, origin, file, serial, checksums and versions
//! before and after, outcome). Every line carries `prev`, the hash of the
//! line before it, and `hash`, the checksum of its own canonical form
//! without `hash`; so an edited line fails its own hash, and a removed,
//! inserted or reordered line breaks the chain at the next line.
//!
//! When the log would grow past its size limit it is rotated: `audit.log.N`
//! become `audit.log.N+1`, `audit.log` becomes `audit.log.1`, and the first
//! line of the new `audit.log` chains to the last line of `audit.log.1` and
//! is marked `"rotated": true`. The oldest files are dropped past the number
//! kept, so the first line of the oldest file left must either chain to
//! [`GENESIS`] or carry that mark: a log whose head lines were cut off
//! starts with neither, and [`AuditLog::verify`] reports it.
//! Lines are appended with one write and fsynced; a line left incomplete
//! by a crash is cut off on open.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::envelope::checksum;
use crate::store::atomic;
use crate::store::error::{Result, StoreError};
use crate::store::fs::Fs;

/// The log's file name inside the state dir.
pub const AUDIT_FILE: &str = "audit.log";
/// `prev` of the very first line.
pub const GENESIS: &str = "sha256:0000000000000000000000000000000000000000000000000000000000000000";

/// One line of the audit log.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AuditEntry {
    /// When (RFC 3339).
    pub time: String,
    /// The transaction id (shared by the lines of one transaction).
    pub tx: String,
    /// The command that made the change.
    pub command: String,
    /// The writer's origin record.
    pub origin: Value,
    /// The document's path inside the state dir.
    pub file: String,
    /// The serial written.
    pub serial: u64,
    /// The checksum before (none for a new document).
    pub before: Option<String>,
    /// The checksum after.
    pub after: Option<String>,
    /// The version before.
    pub from_version: Option<u32>,
    /// The version after.
    pub to_version: Option<u32>,
    /// `written`, `restored`, `rolled-forward`, ...
    pub outcome: String,
    /// The hash of the previous line.
    #[serde(default)]
    pub prev: String,
    /// The checksum of this line without this field.
    #[serde(default)]
    pub hash: String,
    /// Set on the first line of a log file started by rotation (its `prev`
    /// is the last line of the file rotated away, which may be dropped
    /// later); left out of the line when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub rotated: bool,
    /// Set on a line that starts the file's history in this log: the
    /// versions before it are acknowledged as not logged here (written by
    /// `check --repair` for a log that was deleted or restarted); left out
    /// of the line when false.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub anchor: bool,
}

impl AuditEntry {
    fn seal(&mut self, prev: &str) -> String {
        self.prev = prev.to_owned();
        self.hash = String::new();
        let v = serde_json::to_value(&*self).unwrap_or(Value::Null);
        self.hash = checksum(&v, "/hash");
        serde_json::to_string(self).unwrap_or_default()
    }

    fn own_hash(&self) -> String {
        let v = serde_json::to_value(self).unwrap_or(Value::Null);
        checksum(&v, "/hash")
    }
}

/// The audit log of one state dir.
#[derive(Debug)]
pub struct AuditLog {
    dir: PathBuf,
    max_bytes: u64,
    keep: usize,
    /// The end of the current file as last seen by this process.
    tail: Mutex<Option<Tail>>,
    /// The serials the verified lines record, as last read by this
    /// process (see [`AuditLog::verified_serial`]).
    verified: Mutex<Option<Verified>>,
}

/// The highest serial per document of the lines whose chain verifies, and
/// the length of the current file they were read at.
#[derive(Debug)]
struct Verified {
    len: u64,
    serials: HashMap<String, u64>,
}

/// How much of the end of the log is read to find its last line.
const TAIL_CHUNK: u64 = 64 * 1024;

/// The end of the current log file, as last seen by this process.
#[derive(Debug)]
struct Tail {
    /// The file's length.
    len: u64,
    /// The hash of the last line (of `audit.log.1` when the file is empty).
    hash: String,
}

/// Seals and chains `entries` after `prev`: their lines, and the hash of
/// the last one.
pub(crate) fn seal_all(entries: &mut [AuditEntry], prev: &str) -> (String, String) {
    let mut prev = prev.to_owned();
    let mut text = String::new();
    for e in entries {
        text.push_str(&e.seal(&prev));
        text.push('\n');
        prev = e.hash.clone();
    }
    (text, prev)
}

/// The highest serial per document of the lines of `files` (oldest first)
/// whose chain verifies: from the first line that is edited, does not
/// chain or does not parse, nothing is counted.
fn verified_serials(fs: &dyn Fs, files: &[PathBuf]) -> HashMap<String, u64> {
    let mut out = HashMap::new();
    let mut prev: Option<String> = None;
    for path in files {
        for line in lines_of(&fs.read(path).unwrap_or_default()) {
            let Ok(e) = serde_json::from_str::<AuditEntry>(&line) else {
                return out;
            };
            let chained = match &prev {
                Some(p) => *p == e.prev,
                None => e.prev == GENESIS || e.rotated,
            };
            if !chained || e.own_hash() != e.hash {
                return out;
            }
            let top = out.entry(e.file).or_insert(0);
            *top = e.serial.max(*top);
            prev = Some(e.hash);
        }
    }
    out
}

/// The hash of the last line of the file `path` of length `len`, reading
/// only its end (the whole file when its last line is longer than that).
fn tail_hash(fs: &dyn Fs, path: &Path, len: u64) -> Option<String> {
    if len == 0 {
        return None;
    }
    let end = fs.read_from(path, len.saturating_sub(TAIL_CHUNK)).ok()?;
    last_hash(&end).or_else(|| last_hash(&fs.read(path).ok()?))
}

fn rotated(dir: &Path, n: usize) -> PathBuf {
    dir.join(format!("{AUDIT_FILE}.{n}"))
}

impl AuditLog {
    /// The log of `dir`, rotated past `max_bytes`, keeping `keep` old files.
    pub fn new(dir: &Path, max_bytes: u64, keep: usize) -> AuditLog {
        AuditLog {
            dir: dir.to_owned(),
            max_bytes,
            keep: keep.max(1),
            tail: Mutex::new(None),
            verified: Mutex::new(None),
        }
    }

    fn path(&self) -> PathBuf {
        self.dir.join(AUDIT_FILE)
    }

    /// Appends `entries` (sealed and chained here) with one write + fsync.
    /// The first line written to an empty file that continues an older
    /// one (after a rotation) is marked `rotated`.
    pub fn append(&self, fs: &dyn Fs, mut entries: Vec<AuditEntry>) -> Result<()> {
        let path = self.path();
        let mut cache = self.tail.lock().unwrap_or_else(|e| e.into_inner());
        let mut tail = self.current_tail(fs, cache.take())?;
        if let Some(first) = entries.first_mut() {
            first.rotated = tail.len == 0 && tail.hash != GENESIS;
        }
        let (mut text, mut last) = seal_all(&mut entries, &tail.hash);
        if tail.len > 0 && tail.len + text.len() as u64 > self.max_bytes {
            self.rotate(fs)?;
            tail.len = 0;
            if let Some(first) = entries.first_mut() {
                first.rotated = true;
            }
            (text, last) = seal_all(&mut entries, &tail.hash);
        }
        let mut f = fs
            .open_append(&path)
            .map_err(|e| StoreError::write_io("open", path.clone(), e))?;
        f.write_all(text.as_bytes())
            .map_err(|e| StoreError::write_io("append", path.clone(), e))?;
        f.sync()
            .map_err(|source| StoreError::Sync { path, source })?;
        let len = tail.len + text.len() as u64;
        let mut verified = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        match verified.as_mut() {
            // Lines this process sealed and chained verify by construction.
            Some(v) if v.len == tail.len => {
                for e in &entries {
                    let top = v.serials.entry(e.file.clone()).or_insert(0);
                    *top = e.serial.max(*top);
                }
                v.len = len;
            }
            _ => *verified = None,
        }
        *cache = Some(Tail { len, hash: last });
        Ok(())
    }

    fn current_tail(&self, fs: &dyn Fs, cached: Option<Tail>) -> Result<Tail> {
        let path = self.path();
        let len = fs.meta(&path).ok().flatten().map_or(0, |m| m.len);
        if let Some(t) = cached.filter(|t| t.len == len) {
            return Ok(t);
        }
        self.repair_tail(fs)?;
        let len = fs.meta(&path).ok().flatten().map_or(0, |m| m.len);
        let hash = tail_hash(fs, &path, len).unwrap_or_else(|| {
            let older = rotated(&self.dir, 1);
            let older_len = fs.meta(&older).ok().flatten().map_or(0, |m| m.len);
            tail_hash(fs, &older, older_len).unwrap_or_else(|| GENESIS.into())
        });
        Ok(Tail { len, hash })
    }

    /// The highest serial that the lines of the log whose chain verifies
    /// record for `file` (rotated files included): an edited line, or one
    /// that does not chain, and every line after it, raise nothing. Read
    /// once per process and kept up to date with the lines this process
    /// appends; read again only when another process appended in between.
    /// Changes nothing on disk.
    pub fn verified_serial(&self, fs: &dyn Fs, file: &str) -> Option<u64> {
        let len = fs.meta(&self.path()).ok().flatten().map_or(0, |m| m.len);
        let mut cache = self.verified.lock().unwrap_or_else(|e| e.into_inner());
        if cache.as_ref().is_none_or(|v| v.len != len) {
            *cache = Some(Verified {
                len,
                serials: verified_serials(fs, &self.files(fs)),
            });
        }
        cache.as_ref().and_then(|v| v.serials.get(file).copied())
    }

    fn rotate(&self, fs: &dyn Fs) -> Result<()> {
        for n in (1..self.keep).rev() {
            let from = rotated(&self.dir, n);
            if fs.meta(&from).ok().flatten().is_some() {
                fs.rename(&from, &rotated(&self.dir, n + 1))
                    .map_err(|e| StoreError::write_io("rotate", from.clone(), e))?;
            }
        }
        fs.rename(&self.path(), &rotated(&self.dir, 1))
            .map_err(|e| StoreError::write_io("rotate", self.path(), e))?;
        atomic::sync_dir(fs, &self.dir)
    }

    /// Whether the log's last line is incomplete (a crash cut it). Reads
    /// the last byte only.
    pub fn tail_incomplete(&self, fs: &dyn Fs) -> bool {
        let path = self.path();
        let len = fs.meta(&path).ok().flatten().map_or(0, |m| m.len);
        len > 0
            && fs
                .read_from(&path, len - 1)
                .is_ok_and(|b| !b.ends_with(b"\n"))
    }

    /// Cuts off a last line left incomplete by a crash. Returns a warning
    /// when it did.
    pub fn repair_tail(&self, fs: &dyn Fs) -> Result<Option<String>> {
        let path = self.path();
        if !self.tail_incomplete(fs) {
            return Ok(None);
        }
        let Ok(bytes) = fs.read(&path) else {
            return Ok(None);
        };
        if bytes.is_empty() || bytes.ends_with(b"\n") {
            return Ok(None);
        }
        let keep = bytes.iter().rposition(|&b| b == b'\n').map_or(0, |i| i + 1);
        atomic::write_file(fs, &path, &bytes[..keep], 0o644)?;
        *self.tail.lock().unwrap_or_else(|e| e.into_inner()) = None;
        Ok(Some(format!(
            "{}: cut off an incomplete last line ({} bytes) left by an interrupted write",
            path.display(),
            bytes.len() - keep
        )))
    }

    /// The highest serial the log records for `file`.
    pub fn last_serial(&self, fs: &dyn Fs, file: &str) -> Option<u64> {
        self.files(fs)
            .iter()
            .flat_map(|p| lines_of(&fs.read(p).unwrap_or_default()))
            .filter_map(|l| serde_json::from_str::<AuditEntry>(&l).ok())
            .filter(|e| e.file == file)
            .map(|e| e.serial)
            .max()
    }

    /// Whether the current log file has a line of transaction `tx`.
    pub fn contains_tx(&self, fs: &dyn Fs, tx: &str) -> bool {
        let needle = format!("\"tx\":{}", serde_json::Value::from(tx));
        let bytes = fs.read(&self.path()).unwrap_or_default();
        String::from_utf8_lossy(&bytes).contains(&needle)
    }

    fn files(&self, fs: &dyn Fs) -> Vec<PathBuf> {
        let mut out: Vec<PathBuf> = (1..=self.keep + 1)
            .rev()
            .map(|n| rotated(&self.dir, n))
            .filter(|p| fs.meta(p).ok().flatten().is_some())
            .collect();
        out.push(self.path());
        out
    }

    /// Checks the whole chain, oldest file first. Returns the number of
    /// lines checked, or the first broken line. The first line of the
    /// oldest file must chain to [`GENESIS`] or be marked `rotated` (older
    /// files were rotated away); otherwise lines were cut off the head.
    pub fn verify(&self, fs: &dyn Fs) -> Result<usize> {
        let mut prev: Option<String> = None;
        let mut count = 0;
        for path in self.files(fs) {
            let bytes = fs.read(&path).unwrap_or_default();
            let broken = |line: usize, message: String| StoreError::AuditBroken {
                path: path.clone(),
                line,
                message,
            };
            if !bytes.is_empty() && !bytes.ends_with(b"\n") {
                let n = bytes.iter().filter(|&&b| b == b'\n').count() + 1;
                return Err(broken(n, "incomplete last line".into()));
            }
            for (i, line) in lines_of(&bytes).into_iter().enumerate() {
                let e = check_line(prev.as_deref(), &line).map_err(|m| broken(i + 1, m))?;
                prev = Some(e.hash);
                count += 1;
            }
        }
        Ok(count)
    }
}

/// Checks one line of an audit chain: it parses, its own hash matches, and
/// it chains to `prev` (the hash of the line before; `None` for the first
/// line kept, which must chain to [`GENESIS`] or follow a rotation). The
/// entry, or what is wrong.
pub(crate) fn check_line(
    prev: Option<&str>,
    line: &str,
) -> std::result::Result<AuditEntry, String> {
    let e: AuditEntry =
        serde_json::from_str(line).map_err(|err| format!("not an audit entry: {err}"))?;
    if e.own_hash() != e.hash {
        return Err("the line was edited (its hash does not match)".into());
    }
    match prev {
        Some(p) if p != e.prev => Err(
            "does not chain to the line before it (a line was removed, inserted or reordered)"
                .into(),
        ),
        None if e.prev != GENESIS && !e.rotated => Err(
            "the log does not start here: this line neither chains to the start of the log (the genesis hash) nor follows a rotation, so the lines before it were removed".into(),
        ),
        _ => Ok(e),
    }
}

fn lines_of(bytes: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(bytes)
        .lines()
        .filter(|l| !l.is_empty())
        .map(str::to_owned)
        .collect()
}

fn last_hash(bytes: &[u8]) -> Option<String> {
    let text = std::str::from_utf8(bytes).ok()?;
    let line = text.lines().rev().find(|l| !l.is_empty())?;
    let e: AuditEntry = serde_json::from_str(line).ok()?;
    Some(e.hash)
}

/// Checks the audit chain of a state dir (all rotated files kept by the
/// default rotation), naming the first broken line.
pub fn verify_audit(fs: &dyn Fs, dir: &Path) -> Result<usize> {
    AuditLog::new(dir, u64::MAX, 64).verify(fs)
}

/// What the audit log of a state dir records per document, for checks
/// that compare it with the documents.
#[derive(Debug, Default, Clone)]
pub struct AuditIndex {
    /// The highest serial recorded for each file.
    pub serials: std::collections::HashMap<String, u64>,
    /// Files whose history the log holds from its start: the first line
    /// for the file created it (no checksum before), or a line for it is
    /// an anchor.
    pub anchored: std::collections::HashSet<String>,
    /// The log starts at the genesis of the chain (its oldest line is not
    /// the first of a rotated file): it claims the whole history, so a
    /// document written through the store has its first line in it.
    pub genesis: bool,
    /// The time of the oldest line the log still holds (older ones are
    /// rotated away); `None` when it holds none.
    pub since: Option<jiff::Timestamp>,
    /// How many lines the log holds (lines that do not parse included).
    pub lines: usize,
}

/// Reads every file of the audit log of `dir` (rotated ones included).
/// Serials, anchors and times come from the lines whose chain verifies,
/// up to the first that does not (the chain check reports that one).
pub fn audit_index(fs: &dyn Fs, dir: &Path) -> AuditIndex {
    let log = AuditLog::new(dir, u64::MAX, 64);
    let mut idx = AuditIndex::default();
    // Only lines whose chain verifies are records: from the first line
    // that is edited, does not chain or does not parse, nothing counts.
    let mut prev: Option<String> = None;
    let mut trusted = true;
    for path in log.files(fs) {
        for line in lines_of(&fs.read(&path).unwrap_or_default()) {
            idx.lines += 1;
            let Ok(e) = serde_json::from_str::<AuditEntry>(&line) else {
                trusted = false;
                continue;
            };
            let chained = match &prev {
                Some(p) => *p == e.prev,
                None => e.prev == GENESIS || e.rotated,
            };
            trusted &= chained && e.own_hash() == e.hash;
            if !trusted {
                continue;
            }
            prev = Some(e.hash.clone());
            if idx.since.is_none() {
                idx.since = e.time.parse().ok();
                idx.genesis = e.prev == GENESIS && !e.rotated;
            }
            let first = !idx.serials.contains_key(&e.file);
            if (first && e.before.is_none()) || e.anchor {
                idx.anchored.insert(e.file.clone());
            }
            let top = idx.serials.entry(e.file).or_insert(0);
            *top = (*top).max(e.serial);
        }
    }
    idx
}

/// What shows that the store has written in a state dir whose audit log
/// holds no line: the documents of `stamped` (path, serial) with a serial
/// above 0 (the first three named) and the number of documents with
/// backups. `None` when nothing does: a state dir never written through
/// the store needs no log.
pub fn written_evidence(stamped: Vec<(String, u64)>, backed_up: usize) -> Option<String> {
    let stamped: Vec<(String, u64)> = stamped.into_iter().filter(|(_, s)| *s > 0).collect();
    let mut evidence: Vec<String> = stamped
        .iter()
        .take(3)
        .map(|(rel, serial)| format!("{rel} is at serial {serial}"))
        .collect();
    if stamped.len() > 3 {
        evidence.push(format!(
            "{} more documents have a serial",
            stamped.len() - 3
        ));
    }
    match backed_up {
        0 => {}
        1 => evidence.push("1 document has backups in .backup/".to_owned()),
        n => evidence.push(format!("{n} documents have backups in .backup/")),
    }
    (!evidence.is_empty()).then(|| evidence.join(", "))
}
