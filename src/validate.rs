//! Validation: documents against the schema of their kind and version, or
//! against a schema given directly. `$ref`s resolve offline only.
//!
//! An invalid schema is an `Err` ([`ValidateError`]); an invalid document is
//! a [`DocumentReport`] full of findings.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use jsonschema::Draft;
use serde_json::Value;
use statewright_spec::catalog::VersionProblem;
use statewright_spec::document::{self, ParseError};
use statewright_spec::{
    Catalog, Format, Kind, OfflineRegistry, ParseLimits, ProjectError, SourceText, locate,
};

use crate::codes;
use crate::finding::{DocumentReport, Finding};
use crate::store::RealFs;
use crate::store::fs::{NotRegular, read_regular};
use crate::store::layout;

/// What to validate a document against.
#[derive(Debug, Clone)]
pub enum Target {
    /// The kind whose path pattern matches the document.
    Auto,
    /// A kind named in the catalog.
    Kind(String),
    /// A schema file, bypassing the catalog.
    Schema(PathBuf),
}

/// Settings for a [`Validator`].
#[derive(Debug, Clone, Default)]
pub struct ValidateOptions {
    /// Parsing limits.
    pub limits: ParseLimits,
    /// The draft for schemas that do not declare `$schema`.
    pub draft: Option<Draft>,
    /// Assert `format` (default: the draft's own rule — asserted up to
    /// draft 7, annotation only from 2019-09 on).
    pub validate_formats: Option<bool>,
    /// Read every document in this format, whatever its extension.
    pub format: Option<Format>,
}

/// A problem that stops validation itself (not a finding about a document).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ValidateError {
    /// A document or folder could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The path.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A schema is invalid, or one of its `$ref`s cannot be resolved.
    #[error("invalid schema {}: {message}", path.display())]
    Schema {
        /// The schema file.
        path: PathBuf,
        /// What is wrong.
        message: String,
    },
    /// `--kind` names a kind the catalog does not have.
    #[error("unknown kind `{name}`; the catalog has: {}", known.join(", "))]
    UnknownKind {
        /// The name asked for.
        name: String,
        /// The kinds there are.
        known: Vec<String>,
    },
    /// A file named on the command line matches no kind.
    #[error("{} matches no kind in the catalog; pass --kind NAME or --schema FILE", path.display())]
    NoKind {
        /// The file.
        path: PathBuf,
    },
    /// Kinds are needed but there is no project file.
    #[error("no catalog: {message}")]
    NoCatalog {
        /// Why not.
        message: String,
    },
    /// The project file or catalog is broken.
    #[error(transparent)]
    Project(#[from] ProjectError),
}

/// Validates documents; compiles each schema once and keeps it.
pub struct Validator {
    catalog: Option<Catalog>,
    registry: OfflineRegistry,
    options: ValidateOptions,
    compiled: Mutex<HashMap<PathBuf, Arc<jsonschema::Validator>>>,
}

impl Validator {
    /// A validator over `catalog` (if any) resolving `$ref`s from `registry`.
    /// The catalog's schemas dir is preloaded, so schemas can refer to each
    /// other by `$id`.
    pub fn new(
        catalog: Option<Catalog>,
        registry: OfflineRegistry,
        options: ValidateOptions,
    ) -> Self {
        if let Some(c) = &catalog {
            registry.preload_dir_on_miss(&c.project.schemas_dir);
        }
        Validator {
            catalog,
            registry,
            options,
            compiled: Mutex::new(HashMap::new()),
        }
    }

    /// The catalog, if the validator has one.
    pub fn catalog(&self) -> Option<&Catalog> {
        self.catalog.as_ref()
    }

    /// Compiles (once) the schema in `path`.
    pub fn schema(&self, path: &Path) -> Result<Arc<jsonschema::Validator>, ValidateError> {
        if let Some(v) = self.compiled.lock().ok().and_then(|m| m.get(path).cloned()) {
            return Ok(v);
        }
        let schema = statewright_spec::catalog::read_json(path)?;
        let compiled = Arc::new(self.compile(path, &schema)?);
        if let Ok(mut m) = self.compiled.lock() {
            m.insert(path.to_owned(), compiled.clone());
        }
        Ok(compiled)
    }

    /// Compiles a schema value; `path` is its file, used as the base URI
    /// when the schema has no `$id`.
    pub fn compile(
        &self,
        path: &Path,
        schema: &Value,
    ) -> Result<jsonschema::Validator, ValidateError> {
        let mut opts = jsonschema::options().with_retriever(self.registry.clone());
        // `--draft` is for schemas that do not say; a `$schema` (possibly a
        // custom metaschema with its own vocabularies) always wins.
        if let Some(d) = self.options.draft
            && schema.get("$schema").is_none()
        {
            opts = opts.with_draft(d);
        }
        if let Some(f) = self.options.validate_formats {
            opts = opts.should_validate_formats(f);
        }
        let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
        opts = opts.with_base_uri(format!("file://{}", abs.display()));
        opts.build(schema).map_err(|e| ValidateError::Schema {
            path: path.to_owned(),
            message: e.to_string(),
        })
    }

    /// Validates one file. `relative` is its path inside the state dir, used
    /// to find its kind when `target` is [`Target::Auto`].
    pub fn validate_file(
        &self,
        path: &Path,
        target: &Target,
    ) -> Result<DocumentReport, ValidateError> {
        let bytes = match read_regular(path, true) {
            Ok(bytes) => bytes,
            Err(e) if NotRegular::of(&e).is_some() => {
                return Ok(not_regular_report(path, &e));
            }
            Err(source) => {
                return Err(ValidateError::Read {
                    path: path.to_owned(),
                    source,
                });
            }
        };
        self.validate_bytes(path, bytes, target)
    }

    /// Validates `paths` on every core, the reports in the order of
    /// `paths` (as [`Validator::validate_file`] one after another gives
    /// them); the first error in that order, if any.
    pub fn validate_files(
        &self,
        paths: &[PathBuf],
        target: &Target,
    ) -> Result<Vec<DocumentReport>, ValidateError> {
        use std::sync::atomic::{AtomicUsize, Ordering};
        let threads = std::thread::available_parallelism()
            .map_or(1, |n| n.get())
            .min(paths.len().div_ceil(16))
            .max(1);
        if threads == 1 {
            return paths
                .iter()
                .map(|p| self.validate_file(p, target))
                .collect();
        }
        let next = AtomicUsize::new(0);
        let work = || {
            let mut done = Vec::new();
            loop {
                let i = next.fetch_add(1, Ordering::Relaxed);
                let Some(p) = paths.get(i) else { break done };
                done.push((i, self.validate_file(p, target)));
            }
        };
        let mut all: Vec<(usize, Result<DocumentReport, ValidateError>)> =
            std::thread::scope(|scope| {
                let others: Vec<_> = (1..threads).map(|_| scope.spawn(work)).collect();
                let mut all = work();
                for h in others {
                    all.extend(h.join().unwrap_or_else(|p| std::panic::resume_unwind(p)));
                }
                all
            });
        all.sort_by_key(|(i, _)| *i);
        all.into_iter().map(|(_, r)| r).collect()
    }

    /// Validates every document a store holds, a state dir or a database
    /// namespace alike, each read through the store as raw bytes and
    /// checked against its kind's schema: the reports `validate_files`
    /// gives, named by the document's place in the store. Also returns
    /// what no kind matches.
    pub fn validate_store(
        &self,
        store: &crate::store::Store,
    ) -> Result<(Vec<DocumentReport>, Vec<PathBuf>), ValidateError> {
        let read_error = |path: &Path, e: crate::store::StoreError| ValidateError::Read {
            path: path.to_owned(),
            source: std::io::Error::other(e),
        };
        let files = store
            .listing(false)
            .map_err(|e| read_error(store.dir(), e))?
            .files;
        let (mut reports, mut unmatched) = (Vec::new(), Vec::new());
        for rel in files {
            let path = store.dir().join(&rel);
            let Some(kind) = store.catalog().kind_for(Path::new(&rel)) else {
                unmatched.push(path);
                continue;
            };
            let bytes = store.read_raw(&rel).map_err(|e| read_error(&path, e))?;
            let target = Target::Kind(kind.name.clone());
            reports.push(self.validate_bytes(&path, bytes, &target)?);
        }
        Ok((reports, unmatched))
    }

    /// Validates a document's bytes.
    pub fn validate_bytes(
        &self,
        path: &Path,
        bytes: Vec<u8>,
        target: &Target,
    ) -> Result<DocumentReport, ValidateError> {
        self.validate_parsed(path, bytes, target).map(|(r, _)| r)
    }

    /// Validates a document's bytes, and hands back its text and parsed
    /// value when it could be parsed (so callers checking more need not
    /// parse again).
    pub fn validate_parsed(
        &self,
        path: &Path,
        bytes: Vec<u8>,
        target: &Target,
    ) -> Result<(DocumentReport, Option<(SourceText, Value)>), ValidateError> {
        let kind = match target {
            Target::Schema(_) => None,
            Target::Kind(name) => Some(self.kind_named(name)?),
            Target::Auto => Some(self.kind_for(path).ok_or_else(|| ValidateError::NoKind {
                path: path.to_owned(),
            })?),
        };
        let format = self
            .options
            .format
            .or_else(|| kind.map(|k| k.spec.format()))
            .or_else(|| Format::from_path(path))
            .unwrap_or(Format::Json);
        let mut report = DocumentReport {
            file: path.to_owned(),
            kind: kind.map(|k| k.name.clone()),
            version: None,
            schema: None,
            findings: Vec::new(),
        };
        let parsed = document::decode(path, bytes, format)
            .and_then(|src| document::parse(&src, self.options.limits).map(|v| (src, v)));
        let (source, value) = match parsed {
            Ok(p) => p,
            Err(e) => {
                report.findings.push(parse_finding(e));
                return Ok((report, None));
            }
        };
        let schema_path = match (target, kind) {
            (Target::Schema(p), _) => p.clone(),
            (_, Some(kind)) => match self.version_findings(kind, &source, &value, &mut report) {
                Some(p) => p,
                None => return Ok((report, Some((source, value)))),
            },
            _ => unreachable!("a kind is found for every target but Schema"),
        };
        let compiled = self.schema(&schema_path)?;
        report
            .findings
            .extend(schema_findings(&compiled, &schema_path, &source, &value));
        report.schema = Some(schema_path);
        Ok((report, Some((source, value))))
    }

    /// Checks the version field; returns the schema to validate against, or
    /// `None` when validation cannot go on.
    fn version_findings(
        &self,
        kind: &Kind,
        source: &SourceText,
        value: &Value,
        report: &mut DocumentReport,
    ) -> Option<PathBuf> {
        let file = &source.path;
        let pointer = &kind.spec.fields.version;
        let latest = kind.latest().version;
        let version = match kind.spec.version_of(value) {
            Ok(v) => v,
            Err(problem) => {
                report.findings.push(version_problem(kind, source, problem));
                return None;
            }
        };
        report.version = Some(version);
        let at = locate::locate(source, pointer);
        if version > latest {
            report.findings.push(
                Finding::new(
                    codes::VERSION_TOO_NEW,
                    file,
                    pointer.clone(),
                    format!("document is at version {version} of kind `{}`, but the newest schema known is v{latest}; refusing to read it", kind.name),
                )
                .at(at),
            );
            return None;
        }
        let Some(schema) = kind.version(version) else {
            report.findings.push(
                Finding::new(
                    codes::VERSION_UNKNOWN,
                    file,
                    pointer.clone(),
                    format!("kind `{}` has no schema v{version}", kind.name),
                )
                .at(at),
            );
            return None;
        };
        if version < latest {
            report.findings.push(
                Finding::new(
                    codes::VERSION_BEHIND,
                    file,
                    pointer.clone(),
                    format!(
                        "document is at v{version}; the latest `{}` schema is v{latest}",
                        kind.name
                    ),
                )
                .at(at),
            );
        }
        let prov = &kind.spec.fields.provenance;
        if kind.spec.provenance && value.pointer(prov).is_none_or(Value::is_null) {
            report.findings.push(
                Finding::new(
                    codes::PROVENANCE_MISSING,
                    file,
                    prov.clone(),
                    format!(
                        "kind `{}` requires provenance at `{prov}`; none recorded",
                        kind.name
                    ),
                )
                .at(locate::locate(source, "")),
            );
        }
        Some(schema.path.clone())
    }

    fn kind_named(&self, name: &str) -> Result<&Kind, ValidateError> {
        let catalog = self.catalog.as_ref().ok_or_else(|| ValidateError::NoCatalog {
            message: "--kind needs a project file (statewright.toml); pass --project FILE or --schema FILE".into(),
        })?;
        catalog
            .kind(name)
            .ok_or_else(|| ValidateError::UnknownKind {
                name: name.to_owned(),
                known: catalog.kinds.keys().cloned().collect(),
            })
    }

    /// The kind of a document, from its path: relative to the state dir
    /// when it is inside it, otherwise the longest trailing part of the path
    /// that a kind's pattern matches.
    pub fn kind_for(&self, path: &Path) -> Option<&Kind> {
        let catalog = self.catalog.as_ref()?;
        let abs = std::path::absolute(path).ok()?;
        let state = std::path::absolute(&catalog.project.state_dir).ok()?;
        if let Ok(rel) = abs.strip_prefix(&state) {
            return catalog.kind_for(rel);
        }
        let parts: Vec<_> = abs.components().collect();
        (0..parts.len()).find_map(|i| {
            let rel: PathBuf = parts[i..].iter().collect();
            catalog.kind_for(&rel)
        })
    }

    /// Expands paths: files stay, folders are listed for documents that
    /// some kind matches through [`crate::store::layout`] (statewright's
    /// own files — locks, backups, journals, temp files, the audit log —
    /// are skipped; entries that are not regular files are kept, and
    /// reported by [`Validator::validate_file`] without being opened).
    /// Returns the documents and the files no kind matched.
    pub fn collect(
        &self,
        paths: &[PathBuf],
    ) -> Result<(Vec<PathBuf>, Vec<PathBuf>), ValidateError> {
        let mut docs = Vec::new();
        let mut unmatched = Vec::new();
        for p in paths {
            if !p.is_dir() {
                docs.push(p.clone());
                continue;
            }
            let listing = layout::list(&RealFs, p)
                .map_err(|(path, source)| ValidateError::Read { path, source })?;
            let mut files: Vec<PathBuf> = listing.files.iter().map(|f| p.join(f)).collect();
            files.extend(listing.special.iter().map(|(f, _)| p.join(f)));
            files.sort();
            for f in files {
                if self.kind_for(&f).is_some() {
                    docs.push(f);
                } else {
                    unmatched.push(f);
                }
            }
        }
        Ok((docs, unmatched))
    }
}

/// Files and folders the store keeps for itself inside a state dir (see
/// [`crate::store::layout`], which owns the rule).
pub fn is_store_file(name: &str) -> bool {
    layout::is_store_name(name, true)
}

/// The report of a path that is not a regular file: one SW061 finding.
fn not_regular_report(path: &Path, e: &std::io::Error) -> DocumentReport {
    let what = NotRegular::of(e).map_or("not a regular file", |n| n.0);
    DocumentReport {
        file: path.to_owned(),
        kind: None,
        version: None,
        schema: None,
        findings: vec![Finding::new(
            codes::NOT_REGULAR,
            path,
            "",
            format!(
                "{} is {what}, not a regular file; it was not opened",
                path.display()
            ),
        )],
    }
}

/// A finding for a document that could not be parsed.
pub fn parse_finding(e: ParseError) -> Finding {
    let (code, file, pointer) = match &e {
        ParseError::InvalidUtf8 { path, .. } => (codes::INVALID_UTF8, path.clone(), String::new()),
        ParseError::TooLarge { path, .. } => (codes::TOO_LARGE, path.clone(), String::new()),
        ParseError::Empty { path } => (codes::EMPTY, path.clone(), String::new()),
        ParseError::Syntax { path, pointer, .. } => (
            codes::SYNTAX,
            path.clone(),
            pointer.clone().unwrap_or_default(),
        ),
        _ => (codes::SYNTAX, PathBuf::new(), String::new()),
    };
    let message = match &e {
        ParseError::Syntax { message, .. } => message.clone(),
        other => {
            let s = other.to_string();
            // Drop the "path:line:col: " prefix; the finding carries those.
            s.rsplit_once(": ").map_or(s.clone(), |(_, m)| m.to_owned())
        }
    };
    Finding::new(code, file, pointer, message).at(e.position())
}

/// Findings for every schema violation of `value`.
pub fn schema_findings(
    validator: &jsonschema::Validator,
    schema_file: &Path,
    source: &SourceText,
    value: &Value,
) -> Vec<Finding> {
    if validator.is_valid(value) {
        return Vec::new();
    }
    validator
        .iter_errors(value)
        .map(|e| {
            let mut pointer = e.instance_path().as_str().to_owned();
            let mut extra = None;
            // A member the schema does not allow: point at the (first)
            // member, not at the object that holds it.
            if let jsonschema::error::ValidationErrorKind::AdditionalProperties { unexpected }
            | jsonschema::error::ValidationErrorKind::UnevaluatedProperties { unexpected } =
                e.kind()
                && let Some(key) = unexpected.first()
            {
                pointer = statewright_spec::pointer::join(&pointer, key);
                extra = Some(format!(
                    "remove `{key}` (and any other member named), or rename it to a member the schema declares"
                ));
            }
            let mut f = Finding::new(codes::SCHEMA, &source.path, pointer.clone(), e.to_string())
                .at(locate::locate(source, &pointer));
            if let Some(remedy) = extra {
                f = f.remedy(remedy);
            }
            f.keyword = Some(e.kind().keyword().to_owned());
            f.schema_location = Some(e.schema_path().as_str().to_owned());
            f.schema_file = Some(schema_file.to_owned());
            f
        })
        .collect()
}

/// SW011 or SW012: the document's version cannot be read.
fn version_problem(kind: &Kind, source: &SourceText, problem: VersionProblem) -> Finding {
    let pointer = &kind.spec.fields.version;
    let latest = kind.latest().version;
    let (code, msg) = match problem {
        VersionProblem::Missing => (
            codes::VERSION_MISSING,
            format!(
                "no schema version at `{pointer}` (kind `{}`, latest v{latest})",
                kind.name
            ),
        ),
        VersionProblem::NotAVersion(v) => (
            codes::VERSION_INVALID,
            format!("schema version at `{pointer}` is {v}, not a version number"),
        ),
    };
    let at = locate::locate(source, pointer).or_else(|| locate::locate(source, ""));
    Finding::new(code, &source.path, pointer.clone(), msg).at(at)
}
