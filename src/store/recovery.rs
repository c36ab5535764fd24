//! Recovery: what the store does on open (and when it takes a lock a dead
//! holder left) with the remains of interrupted writes, and how a corrupt
//! document is restored from its newest good backup.
//!
//! On open, under the lock (skipped, and said so, when someone holds it):
//! 1. a transaction journal is rolled forward if committed, back if not;
//! 2. each leftover temp is verified like a document: a complete, valid
//!    one that is newer than the document (same lineage, higher serial, or
//!    no readable document at all) is renamed into place and audited; any
//!    other is removed; corrupt ones and transaction temps not named by a
//!    committed journal are removed with a warning;
//! 3. an audit line left incomplete is cut off;
//! 4. when the lock was reclaimed from a holder that died, each document
//!    it committed without getting to append the audit line (stamped
//!    after it took the lock, serial above the last audited) gets that
//!    line, marked as written on recovery.
//!
//! The library never prints: everything done is in the [`OpenReport`].

use serde_json::Value;

use statewright_spec::{ParseLimits, document};

use crate::store::Store;
use crate::store::audit::AuditEntry;
use crate::store::backend::{Leftover, Previous};
use crate::store::backup::BackupEntry;
use crate::store::error::{Result, StoreError};
use crate::store::events::{self, StoreEvent};
use crate::store::lock::{HolderInfo, LockGuard, LockOptions};
use crate::store::read::Loaded;
use crate::store::write::{Basis, WriteContext};

/// What opening a store found and did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OpenReport {
    /// Things an operator should know (corrupt leftovers removed, ...).
    pub warnings: Vec<String>,
    /// Recovery actions taken (journal rolled forward, temp finished, ...).
    pub actions: Vec<String>,
    /// Why recovery was skipped, when it was (lock held, read-only).
    pub skipped: Option<String>,
}

/// How a document was restored from a backup.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Restored {
    /// The backup file used.
    pub backup: String,
    /// The serial the backup had.
    pub backup_serial: u64,
    /// The serial written.
    pub serial: u64,
    /// Why the document was restored (the failed check).
    pub reason: String,
    /// The serial the failed version claimed, when readable: the changes
    /// after `backup_serial` up to it are not in the restored version.
    pub lost_serial: Option<u64>,
    /// Where the failed version's bytes were kept, inside the state dir.
    pub kept: Option<String>,
}

impl Store {
    pub(crate) fn recover_on_open(&self) -> Result<OpenReport> {
        // Reading never needs to write: the lock (whose holder record is
        // a write) is taken only when there is something to recover.
        if !self.backend.pending()? {
            return Ok(OpenReport::default());
        }
        let opts = LockOptions {
            timeout: std::time::Duration::ZERO,
            command: "open (recovery)".into(),
            events: None,
        };
        match self.backend.lock(&self.with_events(&opts)) {
            // A journal the store did not write is never acted on: reads
            // go on, recovery waits for someone to look at it.
            Ok(guard) => match self.recover_pending(&guard) {
                Err(e @ StoreError::Journal { .. }) => Ok(OpenReport {
                    warnings: vec![e.to_string()],
                    skipped: Some(
                        "recovery of interrupted writes skipped: the journal is not the store's"
                            .into(),
                    ),
                    ..OpenReport::default()
                }),
                other => other,
            },
            Err(
                e @ (StoreError::LockHeld { .. }
                | StoreError::ReadOnly { .. }
                | StoreError::DiskFull { .. }),
            ) => Ok(OpenReport {
                skipped: Some(format!(
                    "recovery of interrupted writes deferred to the next write (it needs the lock): {e}"
                )),
                ..OpenReport::default()
            }),
            Err(e) => Err(e),
        }
    }

    /// Finishes or removes what interrupted writes left (under the lock).
    pub fn recover_pending(&self, guard: &LockGuard) -> Result<OpenReport> {
        let mut report = OpenReport::default();
        if let Some(done) = self.backend.resolve_journal(guard)? {
            report.actions.push(done);
        }
        for l in self.backend.leftovers()? {
            self.handle_leftover(guard, &l, &mut report)?;
        }
        if let Some(w) = self.backend.repair_audit()? {
            report.warnings.push(w);
        }
        if let Some(dead) = &guard.reclaimed {
            self.audit_what_the_dead_committed(guard, dead, &mut report)?;
        }
        Ok(report)
    }

    /// A writer appends a document's audit line after its rename; one that
    /// died between the two left a committed version without its line.
    /// Every document that holder stamped (a `generated_at` at or after it
    /// took the lock) with a serial above the last one audited gets its
    /// line now, from its envelope, marked as written on recovery.
    fn audit_what_the_dead_committed(
        &self,
        guard: &LockGuard,
        dead: &HolderInfo,
        report: &mut OpenReport,
    ) -> Result<()> {
        let Ok(since) = dead.acquired_at.parse::<jiff::Timestamp>() else {
            return Ok(());
        };
        let outcome = format!(
            "committed by {dead}, which died before writing this line; written on recovery"
        );
        for rel in self.backend.files()? {
            let Ok(kind) = self.kind_for(&rel) else {
                continue;
            };
            let Ok(doc) = self.read_checked(kind, &rel) else {
                continue;
            };
            let stamped = doc
                .envelope
                .generated_at
                .as_deref()
                .and_then(|t| t.parse::<jiff::Timestamp>().ok());
            if stamped.is_none_or(|t| t < since) {
                continue;
            }
            if let Some(serial) = self.write_missing_audit(guard, &rel, &doc, &outcome)? {
                report.actions.push(format!(
                    "wrote the missing audit line of {rel} (serial {serial}), committed by a holder that died"
                ));
            }
        }
        Ok(())
    }

    /// Writes the audit line of `rel`'s version `doc` from its envelope
    /// when the log has none for its serial (under the lock). Returns the
    /// serial audited, `None` when the line was there (or the document
    /// has no serial).
    pub fn audit_unlogged(&self, guard: &LockGuard, rel: &str) -> Result<Option<u64>> {
        let kind = self.kind_for(rel)?;
        let doc = self.read_checked(kind, rel)?;
        self.write_missing_audit(
            guard,
            rel,
            &doc,
            "committed without its audit line (a writer that died or a crash between the rename and the append); written on repair",
        )
    }

    /// Lists the backup file `name` (in `.backup/`) in its document's
    /// index when the store wrote it: a name of the store's naming
    /// (`<document>.<serial>.<checksum prefix or unstamped>`) whose content
    /// hashes to what the name says. A write killed between linking the
    /// backup and recording it leaves one. Returns the document, `None`
    /// when the file is not such a backup (it is left for the operator).
    pub fn list_unlisted_backup(&self, guard: &LockGuard, name: &str) -> Result<Option<String>> {
        let mut parts = name.rsplitn(3, '.');
        let (Some(tag), Some(serial), Some(flat)) = (parts.next(), parts.next(), parts.next())
        else {
            return Ok(None);
        };
        let Ok(serial) = serial.parse::<u64>() else {
            return Ok(None);
        };
        let rel = super::backup::unflat(flat);
        let Ok(kind) = self.kind_for(&rel) else {
            return Ok(None);
        };
        let mut entry = BackupEntry {
            file: rel.clone(),
            backup: name.to_owned(),
            serial,
            checksum: String::new(),
            time: jiff::Timestamp::now().to_string(),
        };
        let Ok(bytes) = self.backend.read_backup(&entry) else {
            return Ok(None);
        };
        let path = self.backend.path_of(&rel);
        let parsed = document::decode(&path, bytes, kind.spec.format())
            .ok()
            .and_then(|s| document::parse(&s, self.opts.limits).ok());
        let Some(value) = parsed else {
            return Ok(None);
        };
        let sum = crate::envelope::checksum(&value, &kind.spec.fields.checksum);
        let hex = sum.strip_prefix("sha256:").unwrap_or(&sum);
        if tag != "unstamped" {
            if !hex.starts_with(tag) || tag.len() != 12 {
                return Ok(None);
            }
            entry.checksum = sum.clone();
        }
        if super::backup::backup_name(&rel, serial, &entry.checksum) != name {
            return Ok(None);
        }
        self.backend.list_backup(guard, entry)?;
        Ok(Some(rel))
    }

    /// Writes an anchor line for `rel` (under the lock): the audit log,
    /// which starts at the chain's genesis, does not hold the document's
    /// earlier versions (it was deleted, truncated or restarted), and the
    /// line says so for good, so the loss stays visible in the log while
    /// `check` is clean again. Returns the serial anchored, `None` when the
    /// document has no serial.
    pub fn acknowledge_lost_history(&self, guard: &LockGuard, rel: &str) -> Result<Option<u64>> {
        let kind = self.kind_for(rel)?;
        let doc = self.read_checked(kind, rel)?;
        if doc.envelope.serial == 0 {
            return Ok(None);
        }
        let mut entry = self.envelope_line(
            rel,
            &doc,
            "the versions before this one are not in the audit log (it was deleted, truncated or restarted); acknowledged by check --repair",
        );
        entry.anchor = true;
        entry.command = "check --repair".into();
        self.backend.append_audit(guard, vec![entry])?;
        Ok(Some(doc.envelope.serial))
    }

    fn write_missing_audit(
        &self,
        guard: &LockGuard,
        rel: &str,
        doc: &Loaded,
        outcome: &str,
    ) -> Result<Option<u64>> {
        let env = &doc.envelope;
        if env.serial == 0
            || self
                .backend
                .audited_serial(rel)
                .is_some_and(|s| s >= env.serial)
        {
            return Ok(None);
        }
        let entry = self.envelope_line(rel, doc, outcome);
        self.backend.append_audit(guard, vec![entry])?;
        Ok(Some(env.serial))
    }

    /// The audit line of `rel`'s version `doc`, from its envelope.
    fn envelope_line(&self, rel: &str, doc: &Loaded, outcome: &str) -> AuditEntry {
        let env = &doc.envelope;
        let before = self
            .backend
            .backups(rel)
            .into_iter()
            .find(|b| b.serial < env.serial && !b.checksum.is_empty())
            .map(|b| b.checksum);
        AuditEntry {
            time: jiff::Timestamp::now().to_string(),
            tx: uuid::Uuid::new_v4().to_string(),
            command: "open (recovery)".into(),
            origin: env.origin.clone().unwrap_or(Value::Null),
            file: rel.to_owned(),
            serial: env.serial,
            before,
            after: env.checksum.clone(),
            from_version: None,
            to_version: Some(doc.version),
            outcome: outcome.to_owned(),
            prev: String::new(),
            hash: String::new(),
            rotated: false,
            anchor: false,
        }
    }

    fn handle_leftover(
        &self,
        guard: &LockGuard,
        l: &Leftover,
        report: &mut OpenReport,
    ) -> Result<()> {
        let temp = self.backend.path_of(&l.temp);
        let kind = match self.kind_for(&l.target) {
            Ok(k) if !l.tx => k,
            _ => {
                self.backend.discard(guard, l)?;
                let why = if l.tx {
                    "of a transaction that never committed"
                } else {
                    "of no known kind"
                };
                report
                    .warnings
                    .push(format!("removed temp {} {why}", temp.display()));
                return Ok(());
            }
        };
        let bytes = self.backend.read(&l.temp)?.unwrap_or_default();
        let candidate = match self.check(kind, &l.target, &bytes) {
            Ok(c) => c,
            Err(e) => {
                self.backend.discard(guard, l)?;
                report
                    .warnings
                    .push(format!("removed incomplete temp {}: {e}", temp.display()));
                return Ok(());
            }
        };
        let current = self.read_checked(kind, &l.target);
        let newer = match &current {
            Ok(c) => {
                c.envelope.lineage == candidate.envelope.lineage
                    && candidate.envelope.serial > c.envelope.serial
            }
            Err(StoreError::NotFound { .. }) => true,
            Err(e) => {
                report.warnings.push(format!(
                    "{} was unreadable ({e}); replaced by a complete interrupted write",
                    l.target
                ));
                true
            }
        };
        if !newer {
            self.backend.discard(guard, l)?;
            report
                .actions
                .push(format!("removed stale temp {}", temp.display()));
            return Ok(());
        }
        let previous = current.ok().map(|c| previous_of(&c));
        let audit = finish_audit(l, &candidate, previous.as_ref());
        self.backend.finish(guard, l, previous, audit)?;
        report.actions.push(format!(
            "finished interrupted write of {} (serial {})",
            l.target, candidate.envelope.serial
        ));
        Ok(())
    }

    /// Verifies `rel`; if it fails a check, restores the newest backup
    /// that passes every check, through the write protocol, with a serial
    /// above any the document had, and records it in the audit log.
    pub fn recover(&self, guard: &LockGuard, rel: &str) -> Result<Loaded> {
        let kind = self.kind_for(rel)?;
        let failure = match self.read_checked(kind, rel) {
            Ok(loaded) => return Ok(loaded),
            Err(e @ (StoreError::Corrupt { .. } | StoreError::NotFound { .. })) => e,
            Err(e) => return Err(e),
        };
        let (entry, good) = self.newest_good_backup(kind, rel, &failure)?;
        let ctx = WriteContext::new("recover");
        let basis = Basis {
            current: None,
            text: None,
            floor: self.recorded_serial(rel)?,
            outcome: "restored",
        };
        let tx = uuid::Uuid::new_v4().to_string();
        let (mut staged, outcome, _) =
            self.prepare(kind, rel, good.value.clone(), &ctx, &tx, &basis)?;
        let reason = reason_of(&failure);
        let lost_serial = self.claimed_serial(kind, rel);
        let kept = self.backend.keep_corrupt(guard, rel)?;
        staged.audit.outcome = format!(
            "restored from {} after: {reason}{}",
            entry.backup,
            kept.as_ref()
                .map(|k| format!("; the failed version is kept in {k}"))
                .unwrap_or_default()
        );
        self.backend.commit(guard, vec![staged])?;
        self.announce(&outcome, None);
        events::emit(&self.opts.events, || StoreEvent::Restored {
            file: self.backend.path_of(rel),
            reason: reason.clone(),
            lost_serial,
            backup: entry.backup.clone(),
            backup_serial: good.envelope.serial,
            serial: outcome.serial,
            kept: kept.clone(),
        });
        let mut loaded = self.read_checked(kind, rel)?;
        loaded.restored = Some(Restored {
            backup: entry.backup,
            backup_serial: good.envelope.serial,
            serial: outcome.serial,
            reason,
            lost_serial,
            kept,
        });
        Ok(loaded)
    }

    /// The serial a document that fails a check claims, when it still
    /// parses far enough to say.
    fn claimed_serial(&self, kind: &statewright_spec::Kind, rel: &str) -> Option<u64> {
        let bytes = self.backend.read(rel).ok()??;
        let path = self.backend.path_of(rel);
        let source = document::decode(&path, bytes, kind.spec.format()).ok()?;
        let value = document::parse(&source, ParseLimits::default()).ok()?;
        value.pointer(&kind.spec.fields.serial)?.as_u64()
    }

    fn newest_good_backup(
        &self,
        kind: &statewright_spec::Kind,
        rel: &str,
        failure: &StoreError,
    ) -> Result<(crate::store::backup::BackupEntry, Loaded)> {
        let backups = self.backend.backups(rel);
        let mut tried = Vec::new();
        for b in backups {
            match self
                .backend
                .read_backup(&b)
                .and_then(|bytes| self.check(kind, rel, &bytes))
            {
                Ok(good) => return Ok((b, good)),
                Err(e) => tried.push(format!("{}: {e}", b.backup)),
            }
        }
        let failure = reason_of(failure);
        let message = if tried.is_empty() {
            format!("there are no backups; the document failed: {failure}")
        } else {
            format!(
                "every backup failed a check ({}); the document failed: {failure}",
                tried.join("; ")
            )
        };
        Err(StoreError::NoGoodBackup {
            path: self.backend.path_of(rel),
            message,
        })
    }
}

/// Which check failed and where, without the remedy a reader is given.
fn reason_of(e: &StoreError) -> String {
    match e {
        StoreError::Corrupt {
            check,
            at,
            pointer,
            message,
            ..
        } => format!(
            "{check} check failed{}{}: {message}",
            at.map(|(l, c)| format!(" at line {l}, column {c}"))
                .unwrap_or_default(),
            pointer
                .as_ref()
                .map(|p| format!(" (`{p}`)"))
                .unwrap_or_default()
        ),
        other => other.to_string(),
    }
}

fn previous_of(c: &Loaded) -> Previous {
    Previous {
        serial: c.envelope.serial,
        checksum: c.envelope.checksum.clone().unwrap_or_default(),
    }
}

fn finish_audit(l: &Leftover, c: &Loaded, previous: Option<&Previous>) -> AuditEntry {
    let origin = c.envelope.origin.clone().unwrap_or(Value::Null);
    AuditEntry {
        time: jiff::Timestamp::now().to_string(),
        tx: uuid::Uuid::new_v4().to_string(),
        command: "open (recovery)".into(),
        origin,
        file: l.target.clone(),
        serial: c.envelope.serial,
        before: previous.map(|p| p.checksum.clone()),
        after: c.envelope.checksum.clone(),
        from_version: None,
        to_version: Some(c.version),
        outcome: "finished interrupted write".into(),
        prev: String::new(),
        hash: String::new(),
        rotated: false,
        anchor: false,
    }
}
