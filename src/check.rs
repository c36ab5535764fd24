//! `check`: everything that can be wrong with a state directory, each
//! finding with a code, a severity, the file and pointer, and the remedy.
//!
//! Document checks reuse [`crate::validate`]; directory checks (leftover
//! temp files, journals, locks, backups, the audit chain) ask the store.
//! Checks only read; repairs are the store's business.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use statewright_spec::migration::MigrationSet;
use statewright_spec::{ArtifactRule, Kind, SourceText, locate};

use crate::codes;
use crate::store::RealFs;
use crate::store::fs::read_regular;
use crate::store::layout::{self, Listing};

pub mod database;
pub mod repair;
pub mod store;
use crate::finding::{DocumentReport, Finding};
use crate::validate::{Target, ValidateError, Validator};

/// The result of checking a state directory.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The state directory.
    pub state_dir: PathBuf,
    /// One report per document found.
    pub documents: Vec<DocumentReport>,
    /// Findings about the directory itself, or files that are not documents.
    pub findings: Vec<Finding>,
}

impl CheckReport {
    /// Every finding, documents' and directory's.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.documents
            .iter()
            .flat_map(|d| d.findings.iter())
            .chain(self.findings.iter())
    }
}

/// What `check` needs besides the validator and the state dir.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions<'a> {
    /// The project's migrations, to check documents' recorded history
    /// against the migration files (skipped when `None`).
    pub migrations: Option<&'a MigrationSet>,
    /// Whether to run the store-level checks (envelope checksum, history,
    /// transitions, temps, journal, lock, backups, audit chain).
    pub store: bool,
    /// Worker threads (0: one per available CPU).
    pub threads: usize,
}

/// Checks every document of a state dir and the dir itself: the document
/// checks only (see [`check_state`] for the store's files as well).
pub fn check_documents(
    validator: &Validator,
    state_dir: &Path,
) -> Result<CheckReport, ValidateError> {
    check_state(validator, state_dir, &CheckOptions::default())
}

/// Checks a state dir: every document (parse, version, schema, artifacts
/// and, with `opts.store`, checksum, history and transitions since the
/// newest backup) and the store's own files. Only reads: nothing is
/// created, removed or locked (beyond an instant to see whether the lock
/// is held).
pub fn check_state(
    validator: &Validator,
    state_dir: &Path,
    opts: &CheckOptions<'_>,
) -> Result<CheckReport, ValidateError> {
    let mut temps = Vec::new();
    let Collected {
        docs,
        unmatched,
        listing,
    } = collect(validator, state_dir, &mut temps)?;
    let backups = match opts.store {
        true => store::BackupIndex::load(state_dir),
        false => store::BackupIndex::default(),
    };
    let held = opts.store && store::lock_held(state_dir);
    let audit = match opts.store && !held {
        true => crate::store::audit::audit_index(&crate::store::RealFs, state_dir),
        false => Default::default(),
    };
    let cx = store::DocContext {
        state_dir,
        migrations: opts.migrations,
        backups: &backups,
        limits: Default::default(),
        audit: &audit,
    };
    let results = check_in_parallel(validator, &cx, opts, &docs);
    let mut report = CheckReport {
        state_dir: state_dir.to_owned(),
        documents: Vec::with_capacity(docs.len()),
        findings: Vec::new(),
    };
    let mut stamped = Vec::new();
    for r in results {
        for (doc, serial) in r? {
            stamped.extend(serial.map(|s| (rel_of(state_dir, &doc.file), s)));
            report.documents.push(doc);
        }
    }
    settle_audit_gaps(state_dir, &audit, &mut report.documents);
    let recorded: BTreeSet<String> = match opts.store {
        true => backups
            .recorded()
            .chain(audit.serials.keys().cloned())
            .collect(),
        false => BTreeSet::new(),
    };
    report
        .findings
        .extend(layout_findings(validator, state_dir, &listing, &recorded));
    if opts.store && !held {
        report.findings.extend(store::audit_log_missing(
            state_dir, &audit, stamped, &backups,
        ));
    }
    report
        .findings
        .extend(catalog_findings(validator, state_dir, &docs, unmatched));
    if let (true, Some(catalog)) = (opts.store, validator.catalog()) {
        let found = store::dir_findings(catalog, state_dir, &backups, &temps);
        report
            .findings
            .extend(store::settle_in_progress(catalog, state_dir, &temps, found));
    }
    Ok(report)
}

/// A document's report and the serial its envelope records.
type Checked = (DocumentReport, Option<u64>);

/// Checks `docs` on up to `opts.threads` threads (0: one per core), in
/// chunks whose results come back in the documents' order.
fn check_in_parallel(
    validator: &Validator,
    cx: &store::DocContext<'_>,
    opts: &CheckOptions<'_>,
    docs: &Documents<'_>,
) -> Vec<Result<Vec<Checked>, ValidateError>> {
    let threads = match opts.threads {
        0 => std::thread::available_parallelism().map_or(1, |n| n.get()),
        n => n,
    }
    .min(docs.len().max(1));
    let chunk = docs.len().div_ceil(threads).max(1);
    std::thread::scope(|scope| {
        let handles: Vec<_> = docs
            .chunks(chunk)
            .map(|part| {
                scope.spawn(move || {
                    part.iter()
                        .map(|(d, kind)| check_one(validator, cx, opts.store, d, kind))
                        .collect::<Result<Vec<_>, _>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().expect("a check worker panicked"))
            .collect()
    })
}

/// SW020 for each file that matches no kind, SW021 for each kind that
/// matches no document.
fn catalog_findings(
    validator: &Validator,
    state_dir: &Path,
    docs: &Documents<'_>,
    unmatched: Vec<PathBuf>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for u in unmatched {
        out.push(Finding::new(
            codes::UNMATCHED,
            &u,
            "",
            format!(
                "{} matches no kind in the catalog",
                u.strip_prefix(state_dir).unwrap_or(&u).display()
            ),
        ));
    }
    if let Some(catalog) = validator.catalog() {
        for kind in catalog.kinds.values() {
            if !docs.iter().any(|(_, k)| k.name == kind.name) {
                out.push(kind_empty(catalog, kind, state_dir));
            }
        }
    }
    out
}

/// SW021: kind `kind` matches no document in `state_dir`.
pub(crate) fn kind_empty(
    catalog: &statewright_spec::Catalog,
    kind: &Kind,
    state_dir: &Path,
) -> Finding {
    Finding::new(
        codes::KIND_EMPTY,
        &catalog.project.file,
        format!("/kinds/{}/path", kind.name),
        format!(
            "kind `{}` (path `{}`) matches no document in {}",
            kind.name,
            kind.spec.path,
            state_dir.display()
        ),
    )
}

/// Drops the SW040 findings a writer working while the check ran may
/// explain: a writer renames its version, then appends its line, then
/// releases the lock. So when the lock is free now, every version read
/// earlier was either logged by now or left by a writer that is gone; a
/// finding stands only when the lock is free and the log, read again,
/// records nothing new for that file.
fn settle_audit_gaps(
    state_dir: &Path,
    first: &crate::store::audit::AuditIndex,
    docs: &mut [DocumentReport],
) {
    let is_gap = |f: &Finding| f.code == codes::AUDIT_MISSING.id;
    if !docs.iter().any(|d| d.findings.iter().any(is_gap)) {
        return;
    }
    let now = (!store::lock_held(state_dir))
        .then(|| crate::store::audit::audit_index(&crate::store::RealFs, state_dir));
    for d in docs {
        let rel = rel_of(state_dir, &d.file);
        let unchanged = now
            .as_ref()
            .is_some_and(|n| n.serials.get(&rel) == first.serials.get(&rel));
        d.findings.retain(|f| !is_gap(f) || unchanged);
    }
}

/// `path` relative to `state_dir`, with `/` separators (the store's name
/// of a document).
pub(crate) fn rel_of(state_dir: &Path, path: &Path) -> String {
    path.strip_prefix(state_dir)
        .unwrap_or(path)
        .to_string_lossy()
        .replace('\\', "/")
}

/// Documents with their kinds.
type Documents<'v> = Vec<(PathBuf, &'v Kind)>;

/// What the walk of a state dir found: documents with their kinds, files
/// no kind matches, temp files, and entries that are not regular files
/// (with what they are) or folders too deep to read.
struct Collected<'v> {
    docs: Documents<'v>,
    unmatched: Vec<PathBuf>,
    listing: Listing,
}

/// Lists a state dir through [`crate::store::layout`] (the one owner of
/// its layout) and matches each regular file with its kind. Temp files of
/// interrupted writes are put in `temps`.
fn collect<'v>(
    validator: &'v Validator,
    state_dir: &Path,
    temps: &mut Vec<PathBuf>,
) -> Result<Collected<'v>, ValidateError> {
    let listing = layout::list(&RealFs, state_dir)
        .map_err(|(path, source)| ValidateError::Read { path, source })?;
    temps.extend(listing.temps.iter().map(|t| state_dir.join(&t.temp)));
    let (mut docs, mut unmatched) = (Vec::new(), Vec::new());
    for rel in &listing.files {
        let f = state_dir.join(rel);
        match validator.catalog().and_then(|c| c.kind_for(Path::new(rel))) {
            Some(kind) => docs.push((f, kind)),
            None => unmatched.push(f),
        }
    }
    Ok(Collected {
        docs,
        unmatched,
        listing,
    })
}

/// Findings for what a document path holds instead of a regular file,
/// for folders too deep to read, and for documents the store recorded
/// (backups, audit lines) that are gone.
fn layout_findings(
    validator: &Validator,
    state_dir: &Path,
    listing: &Listing,
    recorded: &BTreeSet<String>,
) -> Vec<Finding> {
    let catalog = validator.catalog();
    let kind_of = |rel: &str| catalog.and_then(|c| c.kind_for(Path::new(rel)));
    let mut out = Vec::new();
    for (rel, what) in &listing.special {
        let path = state_dir.join(rel);
        out.push(match kind_of(rel) {
            Some(kind) => Finding::new(
                codes::NOT_REGULAR,
                &path,
                "",
                format!(
                    "{rel} is {what} where a `{}` document belongs; it was not opened",
                    kind.name
                ),
            ),
            None => Finding::new(
                codes::UNMATCHED,
                &path,
                "",
                format!("{rel} is {what} and matches no kind in the catalog; it was not opened"),
            ),
        });
    }
    for rel in &listing.too_deep {
        out.push(Finding::new(
            codes::UNMATCHED,
            state_dir.join(rel),
            "",
            format!(
                "{rel} is deeper than {} folders; it was not read",
                layout::MAX_DEPTH
            ),
        ));
    }
    let present =
        |rel: &String| listing.files.contains(rel) || listing.special.iter().any(|(s, _)| s == rel);
    for rel in recorded.iter().filter(|r| !present(r)) {
        if layout::check_document(rel).is_err() || kind_of(rel).is_none() {
            continue;
        }
        out.push(Finding::new(
            codes::DOCUMENT_GONE,
            state_dir.join(rel),
            "",
            format!("{rel} has backups or audit lines, but it is gone"),
        ));
    }
    out
}

/// Checks one document; with it, the serial its envelope records (when
/// it parses and has one).
fn check_one(
    validator: &Validator,
    cx: &store::DocContext<'_>,
    with_store: bool,
    d: &Path,
    kind: &Kind,
) -> Result<(DocumentReport, Option<u64>), ValidateError> {
    let bytes = read_regular(d, false).map_err(|source| ValidateError::Read {
        path: d.to_owned(),
        source,
    })?;
    let target = Target::Kind(kind.name.clone());
    let (mut doc, parsed) = validator.validate_parsed(d, bytes, &target)?;
    let Some((source, value)) = parsed else {
        return Ok((doc, None));
    };
    let serial = value
        .pointer(&kind.spec.fields.serial)
        .and_then(Value::as_u64);
    if !doc.has_errors() {
        for rule in &kind.spec.artifacts {
            doc.findings
                .extend(artifact_findings(cx.state_dir, &source, &value, rule));
        }
    }
    if with_store {
        let rel = rel_of(cx.state_dir, d);
        doc.findings
            .extend(store::document_findings(cx, kind, &rel, &source, &value));
    }
    Ok((doc, serial))
}

/// Findings for entries whose artifact file is missing or has another hash.
pub fn artifact_findings(
    state_dir: &Path,
    source: &SourceText,
    doc: &Value,
    rule: &ArtifactRule,
) -> Vec<Finding> {
    let entries: Vec<(String, &Value)> = match doc.pointer(&rule.each) {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (statewright_spec::pointer::join(&rule.each, k), v))
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{}/{i}", rule.each), v))
            .collect(),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for (at, entry) in entries {
        let (Some(rel), Some(want)) = (
            entry.pointer(&rule.path).and_then(Value::as_str),
            entry.pointer(&rule.sha256).and_then(Value::as_str),
        ) else {
            continue;
        };
        let want = want
            .strip_prefix("sha256:")
            .unwrap_or(want)
            .to_ascii_lowercase();
        let path = state_dir.join(rel);
        let pointer = format!("{at}{}", rule.sha256);
        let position = locate::locate(source, &pointer);
        match std::fs::read(&path) {
            Err(e) => out.push(
                Finding::new(
                    codes::ARTIFACT_MISSING,
                    &source.path,
                    format!("{at}{}", rule.path),
                    format!("artifact `{rel}` cannot be read: {e}"),
                )
                .at(locate::locate(source, &format!("{at}{}", rule.path))),
            ),
            Ok(bytes) => {
                let got = hex(&Sha256::digest(&bytes));
                if got != want {
                    out.push(
                        Finding::new(
                            codes::ARTIFACT_HASH,
                            &source.path,
                            pointer,
                            format!(
                                "artifact `{rel}` has sha256 {got}, but the entry records {want}"
                            ),
                        )
                        .at(position),
                    );
                }
            }
        }
    }
    out
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
