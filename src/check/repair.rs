//! `check --repair`: the automated recoveries the store offers, under the
//! lock: a leftover journal rolled forward or back, leftover temps
//! finished or removed, an incomplete audit line cut off, the record of a
//! dead lock holder cleared, the missing audit line of a committed version
//! written from its envelope, and each document that fails a read check
//! restored from its newest backup that passes every check. A document
//! with no good backup is left as it is and reported: nothing is ever
//! deleted that cannot be replaced by a verified version.

use serde::Serialize;

use crate::check::CheckReport;
use crate::codes;
use crate::codes::Severity;
use crate::store::{LockOptions, Store, StoreError};

/// What a repair did, and what it could not do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct RepairReport {
    /// Each action taken, for people.
    pub actions: Vec<String>,
    /// Things an operator should know (corrupt leftovers removed, ...).
    pub warnings: Vec<String>,
    /// Documents that still fail, with why they could not be repaired.
    pub unrepaired: Vec<String>,
}

/// The finding codes of documents a backup can replace.
pub const RESTORABLE: [&str; 8] = [
    codes::SYNTAX.id,
    codes::INVALID_UTF8.id,
    codes::EMPTY.id,
    codes::SCHEMA.id,
    codes::VERSION_MISSING.id,
    codes::VERSION_INVALID.id,
    codes::VERSION_UNKNOWN.id,
    codes::CHECKSUM_MISMATCH.id,
];

/// Repairs what `report` (a check of `store`'s state dir) found, under
/// the lock taken with `lock`.
pub fn repair(
    store: &Store,
    lock: &LockOptions,
    report: &CheckReport,
) -> Result<RepairReport, StoreError> {
    let (guard, opened) = store.lock_and_recover(lock)?;
    let mut out = RepairReport {
        actions: opened.actions,
        warnings: opened.warnings,
        unrepaired: Vec::new(),
    };
    for d in &report.documents {
        let rel = crate::check::rel_of(&report.state_dir, &d.file);
        if d.findings.iter().any(|f| f.code == codes::AUDIT_MISSING.id) {
            match store.audit_unlogged(&guard, &rel) {
                Ok(Some(serial)) => out.actions.push(format!(
                    "wrote the missing audit line of {rel} (serial {serial}) from its envelope"
                )),
                Ok(None) => {}
                Err(e) => out
                    .unrepaired
                    .push(format!("{rel}: audit line not written: {e}")),
            }
        }
        if d.findings
            .iter()
            .any(|f| f.code == codes::AUDIT_HISTORY_LOST.id)
        {
            match store.acknowledge_lost_history(&guard, &rel) {
                Ok(Some(serial)) => out.actions.push(format!(
                    "wrote an anchor line for {rel} (serial {serial}): its earlier versions are not in the audit log"
                )),
                Ok(None) => {}
                Err(e) => out
                    .unrepaired
                    .push(format!("{rel}: anchor line not written: {e}")),
            }
        }
        let restorable = d
            .findings
            .iter()
            .any(|f| f.severity == Severity::Error && RESTORABLE.contains(&f.code));
        if !restorable {
            continue;
        }
        restore(store, &guard, &rel, &mut out);
    }
    for f in report
        .findings
        .iter()
        .filter(|f| f.code == codes::DOCUMENT_GONE.id)
    {
        let rel = crate::check::rel_of(&report.state_dir, &f.file);
        restore(store, &guard, &rel, &mut out);
    }
    for f in report
        .findings
        .iter()
        .filter(|f| f.code == codes::BACKUP_UNLISTED.id)
    {
        let name = f
            .file
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        match store.list_unlisted_backup(&guard, &name) {
            Ok(Some(rel)) => out.actions.push(format!(
                "listed backup {name} in the backup index of {rel} (a write was killed before recording it)"
            )),
            Ok(None) => out.unrepaired.push(format!(
                "{name}: left as it is: not a backup the store wrote (its name or content does not match); remove it from .backup/ if it is not needed"
            )),
            Err(e) => out.unrepaired.push(format!("{name}: not listed: {e}")),
        }
    }
    Ok(out)
}

/// Restores `rel` (which fails a read check, or is gone) from its newest
/// good backup, saying what was done or why not.
fn restore(store: &Store, guard: &crate::store::LockGuard, rel: &str, out: &mut RepairReport) {
    match store.recover(guard, rel) {
        Ok(loaded) => {
            if let Some(r) = loaded.restored {
                out.actions.push(format!(
                    "restored {rel} from backup {} (serial {}), written as serial {}; it had failed: {}",
                    r.backup, r.backup_serial, r.serial, r.reason
                ));
            }
        }
        Err(e) => out.unrepaired.push(format!(
            "{rel}: left as it is: {e}; fix it by hand where its finding says, or put back a copy you trust"
        )),
    }
}
