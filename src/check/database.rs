//! `check` of a state kept in a database (a PostgreSQL namespace): the
//! same document checks as a state dir's (parse, version, schema,
//! checksum, serial rolled back below what the audit lines record, audit
//! line missing, secrets, migration history) on the bytes the backend
//! holds, and the store findings a database can have: a broken audit chain
//! (SW039), a lock record whose session ended (SW033) or a lock held
//! without a live holder (SW034). A database has no temps, journals,
//! backup files or links, so the findings about those do not arise;
//! artifacts named by entries are files and are not checked here.

use std::collections::HashMap;
use std::path::Path;

use statewright_spec::migration::MigrationSet;

use crate::check::CheckReport;
use crate::check::store::{self, BackupIndex, DocContext};
use crate::codes;
use crate::finding::Finding;
use crate::store::audit::AuditIndex;
use crate::store::lock::LOCK_FILE;
use crate::store::{LockStatus, Store, StoreError};
use crate::validate::{Target, ValidateError, Validator};

/// Checks every document of `store` and what the backend records about
/// them. Only reads.
pub fn check_backend(
    validator: &Validator,
    store: &Store,
    migrations: Option<&MigrationSet>,
) -> Result<CheckReport, StoreError> {
    let dir = store.dir();
    let audit = audit_index(store)?;
    let backups = BackupIndex::default();
    let cx = DocContext {
        state_dir: dir,
        migrations,
        backups: &backups,
        limits: Default::default(),
        audit: &audit,
    };
    let mut report = CheckReport {
        state_dir: dir.to_owned(),
        documents: Vec::new(),
        findings: Vec::new(),
    };
    for rel in store.listing(false)?.files {
        let path = dir.join(&rel);
        let Some(kind) = store.catalog().kind_for(Path::new(&rel)) else {
            let message = format!("{rel} matches no kind in the catalog");
            report
                .findings
                .push(Finding::new(codes::UNMATCHED, &path, "", message));
            continue;
        };
        let bytes = store.read_raw(&rel)?;
        let target = Target::Kind(kind.name.clone());
        let (mut doc, parsed) = validator
            .validate_parsed(&path, bytes, &target)
            .map_err(|e| as_store_error(&path, e))?;
        if let Some((source, value)) = parsed {
            doc.findings
                .extend(store::document_findings(&cx, kind, &rel, &source, &value));
        }
        report.documents.push(doc);
    }
    report.findings.extend(empty_kinds(store, &report));
    report.findings.extend(audit_chain(store));
    report.findings.extend(lock_finding(store)?);
    Ok(report)
}

/// The highest serial the audit lines record per document (for the
/// serial check). A commit and its audit lines are one transaction, so a
/// version without its line cannot arise: no `since`, no SW040.
fn audit_index(store: &Store) -> Result<AuditIndex, StoreError> {
    let mut serials: HashMap<String, u64> = HashMap::new();
    let files = store.listing(false)?.files;
    for rel in &files {
        if let Some(s) = store.audited_serial(rel) {
            serials.insert(rel.clone(), s);
        }
    }
    Ok(AuditIndex {
        serials,
        ..AuditIndex::default()
    })
}

/// SW021 for each kind no document matches, as on a state dir.
fn empty_kinds(store: &Store, report: &CheckReport) -> Vec<Finding> {
    let catalog = store.catalog();
    let dir = store.dir();
    catalog
        .kinds
        .values()
        .filter(|kind| {
            !report.documents.iter().any(|d| {
                let rel = crate::check::rel_of(dir, &d.file);
                catalog.kind_for(Path::new(&rel)).map(|k| &k.name) == Some(&kind.name)
            })
        })
        .map(|kind| crate::check::kind_empty(catalog, kind, dir))
        .collect()
}

fn audit_chain(store: &Store) -> Option<Finding> {
    match store.verify_audit() {
        Err(StoreError::AuditBroken {
            path,
            line,
            message,
        }) => Some(Finding::new(
            codes::AUDIT_BROKEN,
            &path,
            "",
            format!("line {line}: {message}"),
        )),
        Err(StoreError::AuditMissing { path, evidence }) => Some(Finding::new(
            codes::AUDIT_LOG_MISSING,
            &path,
            "",
            format!("the audit log holds no line, but the store has written here ({evidence})"),
        )),
        _ => None,
    }
}

fn lock_finding(store: &Store) -> Result<Option<Finding>, StoreError> {
    let path = store.dir().join(LOCK_FILE);
    Ok(match store.lock_status()? {
        LockStatus::Stale(h) => Some(Finding::new(
            codes::LOCK_STALE,
            &path,
            "",
            format!(
                "the lock records {h}, whose server session ended (PostgreSQL released the lock); the next command that takes the lock clears it, or `statewright lock break {}`",
                h.lock_id
            ),
        )),
        LockStatus::Held {
            holder: Some(h),
            dead: Some(true),
        } => Some(Finding::new(
            codes::LOCK_ORPHANED,
            &path,
            "",
            format!("the lock is held for {h}, which is not running on this host"),
        )),
        _ => None,
    })
}

fn as_store_error(path: &Path, e: ValidateError) -> StoreError {
    StoreError::Encode {
        path: path.to_owned(),
        message: e.to_string(),
    }
}
