//! `import`: the way back from [`export`](crate::ops::export()). A bundle
//! is read, its format and manifest verified (every file's size and sha256,
//! every document's own envelope checksum), and its documents written into
//! a state dir through the store in one transaction: all or nothing, under
//! the lock, each validated, stamped, backed up and audited like any write.
//!
//! Only documents are imported (manifest role `document`). The audit log and
//! the backups of the exported state dir stay in the bundle: the state dir
//! imported into keeps its own history, and the import is one more entry in
//! it. Documents the state dir has and the bundle lacks are left alone.
//!
//! # What is refused
//!
//! | case | error | CLI exit |
//! |---|---|---|
//! | not JSON, truncated | [`OpsError::BundleSyntax`] | 2 |
//! | another format, or a newer one | [`OpsError::BundleFormat`] | 2, 4 (newer) |
//! | a file that does not match the manifest | [`OpsError::BundleMismatch`] | 2 |
//! | a document copy that fails a read check | [`OpsError::BundleCorrupt`] | 2 |
//! | a document of a kind the catalog lacks | [`OpsError::BundleUnknownKind`] | 2 |
//! | a schema version newer than the catalog's | [`OpsError::BundleNewerVersion`] | 4 |
//! | the state dir's copy is newer, of another lineage, at a higher version or corrupt | [`OpsError::ImportRefused`] (unless `force`) | 4 |
//!
//! # Serials and lineage
//!
//! A document the bundle's copy would replace is compared with it under
//! the lock: a newer serial, another lineage or a higher schema version in
//! the state dir is refused unless `force` (an older serial of the same
//! lineage is a legitimate import). Each copy is then written with
//! [`Transaction::put_exported`](crate::store::Transaction::put_exported):
//! byte for byte, keeping its serial, lineage, checksum and origin, when
//! its serial is above every serial the document had in this state dir
//! (so a restore into an empty state dir gives back the exported files
//! exactly, and hashes other documents record of them still match);
//! otherwise (a forced import over a newer copy, or a state dir whose
//! backups or audit log know a higher serial) stamped anew with a serial
//! above both, keeping the bundle's lineage. Every other check of the
//! write (schema, secrets, provenance, state transitions, a newer
//! version) applies either way. A copy equal to the state dir's (outside
//! the stamped fields serial, checksum, generated_at and origin) is left
//! alone, so importing the same bundle twice writes nothing the second
//! time.

use std::collections::BTreeSet;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use statewright_spec::document::{self, ParseLimits};
use statewright_spec::{EnvelopeFields, Kind};

use crate::check::hex;
use crate::envelope::{Envelope, checksum};
use crate::ops::export::{BUNDLE_FORMAT, Bundle};
use crate::ops::{OpsError, Result};
use crate::store::{LockGuard, LockOptions, Store, StoreError, WriteContext};

/// The prefix of every bundle format name; the number after it is the
/// format's version.
const FORMAT_PREFIX: &str = "statewright-export/";

/// What to import, and how.
#[derive(Debug, Clone, Copy)]
pub struct ImportRequest<'a> {
    /// The bundle (from [`read_bundle`] or built in memory).
    pub bundle: &'a Bundle,
    /// Where the bundle came from, named in every message.
    pub source: &'a Path,
    /// Check everything and report what would be written; write nothing.
    pub dry_run: bool,
    /// Replace documents whose state dir copy is newer, of another lineage
    /// or at a higher schema version, and documents that are corrupt.
    pub force: bool,
}

/// What happens to one document.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Action {
    /// The state dir has no such document: it is created.
    Created,
    /// The state dir's copy is replaced by the bundle's.
    Replaced,
    /// The state dir's copy already equals the bundle's: not written.
    Unchanged,
}

impl Action {
    /// `created`, `replaced` or `unchanged`.
    pub fn name(self) -> &'static str {
        match self {
            Action::Created => "created",
            Action::Replaced => "replaced",
            Action::Unchanged => "unchanged",
        }
    }
}

/// One document of the bundle and what the import does with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Imported {
    /// The document (relative to the state dir).
    pub file: String,
    /// Its kind.
    pub kind: String,
    /// What happens to it.
    pub action: Action,
    /// The state dir copy's serial before (`None`: no copy, or a corrupt
    /// one replaced with `force`).
    pub serial_before: Option<u64>,
    /// The serial after (the current one when unchanged).
    pub serial_after: u64,
    /// The bundle copy's serial.
    pub bundle_serial: u64,
    /// The schema version written.
    pub version: u32,
}

/// A file of the bundle that is not imported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Skipped {
    /// Its path in the bundle.
    pub path: String,
    /// Its manifest role (`audit`, `backup`, `backup-manifest`, `other`).
    pub role: String,
}

/// What an import did (or, dry, would do).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ImportReport {
    /// Every document of the bundle, in manifest order.
    pub documents: Vec<Imported>,
    /// The bundle's other files: the exported state dir's audit log,
    /// backups and files of no kind.
    pub skipped: Vec<Skipped>,
    /// Whether anything was written (false for a dry run, and when every
    /// document was unchanged).
    pub written: bool,
}

impl ImportReport {
    /// How many documents have `action`.
    pub fn count(&self, action: Action) -> usize {
        self.documents.iter().filter(|d| d.action == action).count()
    }
}

/// Reads the bundle at `path` and verifies its format and manifest
/// ([`verify_bundle`]).
pub fn read_bundle(path: &Path) -> Result<Bundle> {
    let bytes = std::fs::read(path).map_err(|source| OpsError::Io {
        op: "read",
        path: path.to_owned(),
        source,
    })?;
    let syntax = |e: serde_json::Error| OpsError::BundleSyntax {
        bundle: path.to_owned(),
        line: e.line(),
        column: e.column(),
        message: e.to_string(),
    };
    let value: Value = serde_json::from_slice(&bytes).map_err(syntax)?;
    check_format(path, &value)?;
    let bundle: Bundle = serde_json::from_value(value).map_err(|e| OpsError::BundleSyntax {
        bundle: path.to_owned(),
        line: 0,
        column: 0,
        message: e.to_string(),
    })?;
    verify_bundle(&bundle, path)?;
    Ok(bundle)
}

/// Refuses a bundle whose `format` is not [`BUNDLE_FORMAT`], telling a
/// newer format (upgrade statewright) from something else.
fn check_format(bundle: &Path, value: &Value) -> Result<()> {
    let found = value.get("format").and_then(Value::as_str).unwrap_or("");
    if found == BUNDLE_FORMAT {
        return Ok(());
    }
    let ours: u64 = BUNDLE_FORMAT[FORMAT_PREFIX.len()..].parse().unwrap_or(1);
    let newer = found
        .strip_prefix(FORMAT_PREFIX)
        .and_then(|n| n.parse::<u64>().ok())
        .is_some_and(|n| n > ours);
    Err(OpsError::BundleFormat {
        bundle: bundle.to_owned(),
        found: value.get("format").map_or("none".into(), Value::to_string),
        newer,
    })
}

/// Checks a bundle against its own manifest: the format, the same paths in
/// `manifest` and `files` (each once, each a relative path), and every
/// file's encoding, size and sha256. `source` names the bundle in errors.
pub fn verify_bundle(bundle: &Bundle, source: &Path) -> Result<()> {
    if bundle.format != BUNDLE_FORMAT {
        let value = serde_json::json!({ "format": bundle.format });
        check_format(source, &value)?;
    }
    let mismatch = |file: &str, pointer: String, message: String| OpsError::BundleMismatch {
        bundle: source.to_owned(),
        file: file.to_owned(),
        pointer,
        message,
    };
    let (m, f) = (bundle.manifest.len(), bundle.files.len());
    if m != f {
        let (file, pointer) = match m > f {
            true => (bundle.manifest[f].path.as_str(), format!("/manifest/{f}")),
            false => (bundle.files[m].path.as_str(), format!("/files/{m}")),
        };
        return Err(mismatch(
            file,
            pointer,
            format!("the manifest lists {m} files, the bundle holds {f}"),
        ));
    }
    let mut seen = BTreeSet::new();
    for (i, (entry, file)) in bundle.manifest.iter().zip(&bundle.files).enumerate() {
        if entry.path != file.path {
            return Err(mismatch(
                &entry.path,
                format!("/files/{i}/path"),
                format!(
                    "the manifest lists {} here, the files {}",
                    entry.path, file.path
                ),
            ));
        }
        if !is_relative(&entry.path) {
            return Err(mismatch(
                &entry.path,
                format!("/manifest/{i}/path"),
                "not a relative path inside a state dir".into(),
            ));
        }
        if !seen.insert(entry.path.as_str()) {
            return Err(mismatch(
                &entry.path,
                format!("/manifest/{i}/path"),
                "listed twice".into(),
            ));
        }
        let bytes = file
            .bytes()
            .map_err(|_| mismatch(&file.path, format!("/files/{i}"), bad_encoding(file)))?;
        let sum = hex(&Sha256::digest(&bytes));
        if sum != entry.sha256 || bytes.len() as u64 != entry.bytes {
            return Err(mismatch(
                &entry.path,
                format!("/files/{i}/content"),
                format!(
                    "its content has sha256 {sum} ({} bytes), the manifest records {} ({} bytes)",
                    bytes.len(),
                    entry.sha256,
                    entry.bytes
                ),
            ));
        }
    }
    Ok(())
}

fn bad_encoding(file: &crate::ops::BundleFile) -> String {
    match file.encoding.as_str() {
        "hex" => "the content is not lower-case hex".into(),
        "utf-8" => "the content cannot be read".into(),
        other => format!("unknown encoding `{other}` (utf-8 or hex)"),
    }
}

fn is_relative(path: &str) -> bool {
    !path.is_empty()
        && !path.starts_with('/')
        && !path.contains('\\')
        && path
            .split('/')
            .all(|p| !p.is_empty() && p != "." && p != "..")
}

/// A document of the bundle, parsed and checked.
struct Copy<'a> {
    file: &'a str,
    kind: &'a Kind,
    /// The exported bytes, written as they are when that is safe.
    bytes: Vec<u8>,
    value: Value,
    envelope: Envelope,
}

/// Imports the bundle's documents into the store's state dir, under the
/// lock, in one transaction (see the module docs for what is refused).
/// With `dry_run`, every check runs (the store's included) and nothing is
/// written.
pub fn import(
    store: &Store,
    lock: &LockOptions,
    ctx: &WriteContext,
    req: &ImportRequest<'_>,
) -> Result<ImportReport> {
    verify_bundle(req.bundle, req.source)?;
    let (copies, skipped) = documents(store, req)?;
    let guard = store.lock(lock)?;
    let mut report = ImportReport {
        skipped,
        ..ImportReport::default()
    };
    // The refusals are made here; the store's own serial and lineage
    // checks are forced so that the written copy keeps the bundle's
    // lineage (see the module docs).
    let mut forced = ctx.clone();
    forced.force = true;
    let mut tx = store.transaction(&guard);
    for copy in copies {
        let planned = plan(store, &guard, &copy, req.force)?;
        if planned.action != Action::Unchanged {
            tx.put_exported(copy.file, copy.bytes);
        }
        report.documents.push(planned);
    }
    let outcomes = match (tx.is_empty(), req.dry_run) {
        (true, _) => Vec::new(),
        (false, true) => tx.dry_run(&forced)?,
        (false, false) => tx.commit(&forced)?,
    };
    report.written = !req.dry_run && !outcomes.is_empty();
    let changed = report
        .documents
        .iter_mut()
        .filter(|d| d.action != Action::Unchanged);
    for (doc, outcome) in changed.zip(&outcomes) {
        doc.serial_after = outcome.serial;
        doc.version = outcome.version;
    }
    Ok(report)
}

/// The bundle's documents, parsed and checked against the catalog, and
/// its other files.
fn documents<'a>(
    store: &'a Store,
    req: &ImportRequest<'a>,
) -> Result<(Vec<Copy<'a>>, Vec<Skipped>)> {
    let mut copies = Vec::new();
    let mut skipped = Vec::new();
    for (entry, file) in req.bundle.manifest.iter().zip(&req.bundle.files) {
        match entry.role.as_str() {
            "document" => {}
            "audit" | "backup" | "backup-manifest" | "other" => {
                skipped.push(Skipped {
                    path: entry.path.clone(),
                    role: entry.role.clone(),
                });
                continue;
            }
            other => {
                return Err(OpsError::BundleMismatch {
                    bundle: req.source.to_owned(),
                    file: entry.path.clone(),
                    pointer: "/manifest".into(),
                    message: format!(
                        "unknown role `{other}` (document, audit, backup, backup-manifest or other)"
                    ),
                });
            }
        }
        if entry.path.split('/').any(crate::validate::is_store_file) {
            return Err(OpsError::BundleMismatch {
                bundle: req.source.to_owned(),
                file: entry.path.clone(),
                pointer: "/manifest".into(),
                message: "a document at a path the store keeps for itself (lock, journal, backups, audit log)".into(),
            });
        }
        let Some(kind) = store.catalog().kind_for(Path::new(&entry.path)) else {
            return Err(OpsError::BundleUnknownKind {
                bundle: req.source.to_owned(),
                file: entry.path.clone(),
            });
        };
        let bytes = file.bytes()?;
        copies.push(parse_copy(req.source, &entry.path, kind, bytes)?);
    }
    Ok((copies, skipped))
}

/// Parses the bundle's copy of `file` and runs the read checks that do not
/// need the schema (parse, envelope, checksum, version); the store
/// validates the schema when it writes.
fn parse_copy<'a>(
    bundle: &Path,
    file: &'a str,
    kind: &'a Kind,
    bytes: Vec<u8>,
) -> Result<Copy<'a>> {
    let corrupt = |message: String| OpsError::BundleCorrupt {
        bundle: bundle.to_owned(),
        file: file.to_owned(),
        message,
    };
    let source = document::decode(Path::new(file), bytes.clone(), kind.spec.format())
        .map_err(|e| corrupt(e.to_string()))?;
    let value =
        document::parse(&source, ParseLimits::default()).map_err(|e| corrupt(e.to_string()))?;
    let fields = &kind.spec.fields;
    let envelope = Envelope::read(&kind.spec, &value).map_err(|p| corrupt(p.to_string()))?;
    let actual = checksum(&value, &fields.checksum);
    match &envelope.checksum {
        Some(s) if *s != actual => {
            return Err(corrupt(format!(
                "checksum at `{}` records {s}, but the content hashes to {actual}",
                fields.checksum
            )));
        }
        None if !unstamped(fields, &value) => {
            return Err(corrupt(format!(
                "it has a serial or lineage but no checksum at `{}`",
                fields.checksum
            )));
        }
        _ => {}
    }
    let known = kind.latest().version;
    if envelope.version > known {
        return Err(OpsError::BundleNewerVersion {
            bundle: bundle.to_owned(),
            file: file.to_owned(),
            kind: kind.name.clone(),
            found: envelope.version,
            known,
        });
    }
    if kind.version(envelope.version).is_none() {
        return Err(corrupt(format!(
            "the catalog has no schema version {} for kind `{}`",
            envelope.version, kind.name
        )));
    }
    Ok(Copy {
        file,
        kind,
        bytes,
        value,
        envelope,
    })
}

fn unstamped(fields: &EnvelopeFields, value: &Value) -> bool {
    [&fields.checksum, &fields.serial, &fields.lineage]
        .iter()
        .all(|p| value.pointer(p).is_none())
}

/// Compares the bundle's copy with the state dir's under the lock.
fn plan(store: &Store, guard: &LockGuard, copy: &Copy<'_>, force: bool) -> Result<Imported> {
    let b = &copy.envelope;
    let mut planned = Imported {
        file: copy.file.to_owned(),
        kind: copy.kind.name.clone(),
        action: Action::Created,
        serial_before: None,
        serial_after: b.serial + 1,
        bundle_serial: b.serial,
        version: b.version,
    };
    let current = match store.read_locked(guard, copy.file) {
        Ok(c) => c,
        Err(StoreError::NotFound { .. }) => return Ok(planned),
        Err(StoreError::Corrupt { .. }) if force => {
            planned.action = Action::Replaced;
            return Ok(planned);
        }
        Err(e) => return Err(refused_by_store(copy.file, e)),
    };
    let c = &current.envelope;
    planned.serial_before = Some(c.serial);
    planned.action = Action::Replaced;
    if same_content(&copy.kind.spec.fields, &copy.value, &current.value, b, c) {
        planned.action = Action::Unchanged;
        planned.serial_after = c.serial;
        planned.version = c.version;
        return Ok(planned);
    }
    if force {
        return Ok(planned);
    }
    let refuse = |message: String| OpsError::ImportRefused {
        file: copy.file.to_owned(),
        message,
    };
    if let (Some(bl), Some(cl)) = (&b.lineage, &c.lineage)
        && bl != cl
    {
        return Err(refuse(format!(
            "the state dir's copy has lineage {cl}, the bundle's {bl} (another document's history)"
        )));
    }
    if c.version > b.version {
        return Err(refuse(format!(
            "the state dir's copy is at schema version {}, the bundle's at {} (a downgrade)",
            c.version, b.version
        )));
    }
    if c.serial > b.serial {
        return Err(refuse(format!(
            "the state dir's copy is at serial {}, newer than the bundle's serial {}",
            c.serial, b.serial
        )));
    }
    Ok(planned)
}

/// A corrupt state dir copy is refused with the remedy `--force` adds.
fn refused_by_store(file: &str, e: StoreError) -> OpsError {
    match e {
        StoreError::Corrupt { .. } => OpsError::ImportRefused {
            file: file.to_owned(),
            message: format!("the state dir's copy is corrupt ({e})"),
        },
        other => OpsError::Store(other),
    }
}

/// Whether the two copies hold the same document outside the fields every
/// write stamps (serial, checksum, generated_at, origin), at the same
/// version; a bundle copy without a lineage matches any.
fn same_content(
    fields: &EnvelopeFields,
    bundle: &Value,
    current: &Value,
    b: &Envelope,
    c: &Envelope,
) -> bool {
    let strip = |v: &Value| {
        let mut v = v.clone();
        for p in [
            &fields.serial,
            &fields.checksum,
            &fields.generated_at,
            &fields.origin,
            &fields.lineage,
        ] {
            remove(&mut v, p);
        }
        v
    };
    let lineage_ok = b.lineage.is_none() || b.lineage == c.lineage;
    lineage_ok && b.version == c.version && strip(bundle) == strip(current)
}

fn remove(v: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        return;
    };
    let last = last.replace("~1", "/").replace("~0", "~");
    if let Some(Value::Object(m)) = v.pointer_mut(parent) {
        m.remove(&last);
    }
}
