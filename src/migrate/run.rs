//! The document-level driver: plan, refuse, apply, and hand the results to
//! a writer (the store) in one batch. `dry_run` runs the same preparation
//! and writes nothing (Atlas's dry-run-by-wrapping, not a copied loop).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use statewright_spec::Catalog;
use statewright_spec::migration::{Lossy, MigrationSet};

use super::apply::{
    HistoryEntry, Interpreter, StepRunner, apply_reporting_losses, check_provenance, now,
};
use super::error::MigrateError;
use super::interp::Hooks;
use super::plan::{Direction, Plan, plan};

/// The version to migrate to.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Target {
    /// The newest schema of each document's kind.
    #[default]
    Latest,
    /// A fixed version (older: a downgrade).
    Version(u32),
}

/// Options of `migrate` and `dry_run`.
#[derive(Debug, Clone, Default)]
pub struct MigrateOptions {
    /// Where to migrate to.
    pub to: Target,
    /// Accept downgrades through lossy steps (`--allow-lossy`).
    pub allow_lossy: bool,
    /// `applied_at` for history entries (default: now).
    pub applied_at: Option<String>,
}

/// A step as reported in plans and summaries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepSummary {
    /// The migration id.
    pub migration: String,
    /// Version before.
    pub from: u32,
    /// Version after.
    pub to: u32,
    /// Up or down.
    pub direction: Direction,
    /// What the step loses on this document (downgrades only): each
    /// value with its pointer; empty when nothing is lost.
    pub lost: Vec<Lossy>,
    /// A downgrade through a step that has ops without an inverse (which
    /// may or may not lose anything on a given document).
    pub lossy_step: bool,
}

/// What one document would receive (`--dry-run`).
#[derive(Debug, Clone, Serialize)]
pub struct DocumentPlan {
    /// The document, relative to the state dir.
    pub path: PathBuf,
    /// Its kind.
    pub kind: String,
    /// Its version.
    pub from: u32,
    /// The target version.
    pub to: u32,
    /// The steps.
    pub steps: Vec<StepSummary>,
    /// The JSON Patch (RFC 6902) the document would receive.
    pub patch: json_patch::Patch,
}

/// One migrated document, ready to be written.
#[derive(Debug, Clone)]
pub struct Migrated {
    /// The document, relative to the state dir.
    pub path: PathBuf,
    /// Its kind.
    pub kind: String,
    /// Version before.
    pub from: u32,
    /// Version after.
    pub to: u32,
    /// The steps run.
    pub steps: Vec<StepSummary>,
    /// The new content.
    pub value: Value,
    /// The history entries appended.
    pub history: Vec<HistoryEntry>,
}

/// What the writer receives: every changed document, to be written in one
/// transaction.
#[derive(Debug, Clone)]
pub struct WriteBatch {
    /// `(path, new value)` per changed document.
    pub documents: Vec<(PathBuf, Value)>,
    /// A lossy downgrade is in the batch: back up the current files first.
    pub backup_first: bool,
}

/// Writes a batch atomically: the store's transaction plugs in here.
pub trait StateWriter {
    /// Writes every document of the batch, or none.
    fn write_all(
        &mut self,
        batch: &WriteBatch,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>>;

    /// Runs every check [`StateWriter::write_all`] would (schema, secrets,
    /// transitions…) and writes nothing: for a dry run. The default
    /// checks nothing.
    fn check_all(
        &mut self,
        batch: &WriteBatch,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        let _ = batch;
        Ok(())
    }
}

impl<F> StateWriter for F
where
    F: FnMut(&WriteBatch) -> Result<(), Box<dyn std::error::Error + Send + Sync>>,
{
    fn write_all(
        &mut self,
        batch: &WriteBatch,
    ) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self(batch)
    }
}

/// What `migrate` did.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    /// The documents migrated.
    pub migrated: Vec<Migrated>,
    /// Documents already at the target.
    pub unchanged: Vec<PathBuf>,
    /// Whether a backup was asked for (lossy downgrade).
    pub backup_first: bool,
}

/// Where one document stands against its kind's latest schema.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DocumentStatus {
    /// The document, relative to the state dir.
    pub path: PathBuf,
    /// Its kind, when a kind's path pattern matches.
    pub kind: Option<String>,
    /// Its version, when readable.
    pub version: Option<u32>,
    /// The kind's latest version.
    pub latest: Option<u32>,
    /// The verdict.
    pub state: StatusState,
}

/// The verdict of `migrate status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StatusState {
    /// At the latest version.
    Current,
    /// Older: `migrate` would upgrade it.
    Behind,
    /// Newer than this tool knows: refused.
    Newer,
    /// No kind matches its path.
    NoKind,
    /// No readable version.
    NoVersion,
}

/// Plans, refuses and applies migrations for a catalog's documents.
#[derive(Debug, Clone)]
pub struct Migrator<'a> {
    /// The catalog.
    pub catalog: &'a Catalog,
    /// The migration files (already checked against the sum file).
    pub migrations: &'a MigrationSet,
    /// Hooks `hook` ops call.
    pub hooks: Hooks,
}

impl<'a> Migrator<'a> {
    /// A migrator with no hooks.
    pub fn new(catalog: &'a Catalog, migrations: &'a MigrationSet) -> Self {
        Migrator {
            catalog,
            migrations,
            hooks: Hooks::new(),
        }
    }

    /// The plan for one document (`path` relative to the state dir),
    /// after the refusals: unknown kind, unreadable or newer version,
    /// provenance mismatch, lossy downgrade without `allow_lossy`.
    pub fn plan_document(
        &self,
        path: &Path,
        value: &Value,
        opts: &MigrateOptions,
    ) -> Result<Plan<'a>, MigrateError> {
        self.plan_inner(path, value, opts)
            .map_err(|e| e.in_document(path))
    }

    fn plan_inner(
        &self,
        path: &Path,
        value: &Value,
        opts: &MigrateOptions,
    ) -> Result<Plan<'a>, MigrateError> {
        let (kind, from) = self.kind_and_version(path, value)?;
        let latest = self
            .catalog
            .kind(&kind)
            .map_or(from, |k| k.latest().version);
        let to = match opts.to {
            Target::Latest => latest.max(1),
            Target::Version(v) => v,
        };
        let p = plan(self.catalog, self.migrations, &kind, from, to)?;
        check_provenance(&kind, value, &p.fields.history, self.migrations)?;
        // A step without an inverse is refused only when this document
        // loses a value through it (found when the plan is applied).
        Ok(p)
    }

    fn kind_and_version(&self, path: &Path, value: &Value) -> Result<(String, u32), MigrateError> {
        let kind = self
            .catalog
            .kind_for(path)
            .ok_or_else(|| MigrateError::UnknownKind {
                kind: format!("(none matches {})", path.display()),
            })?;
        let pointer = &kind.spec.fields.version;
        let version = kind
            .spec
            .version_of(value)
            .map_err(|p| MigrateError::NoVersion {
                path: path.to_owned(),
                kind: kind.name.clone(),
                pointer: pointer.clone(),
                problem: format!("{p:?}"),
            })?;
        Ok((kind.name.clone(), version))
    }

    /// Migrates every document in memory, stopping at the first refusal.
    pub fn prepare(
        &self,
        docs: &[(PathBuf, Value)],
        opts: &MigrateOptions,
    ) -> Result<Vec<Migrated>, MigrateError> {
        let at = opts.applied_at.clone().unwrap_or_else(now);
        let runner = Interpreter { hooks: &self.hooks };
        docs.iter()
            .map(|(path, value)| self.prepare_one(path, value, opts, &runner, &at))
            .collect()
    }

    fn prepare_one(
        &self,
        path: &Path,
        value: &Value,
        opts: &MigrateOptions,
        runner: &dyn StepRunner,
        at: &str,
    ) -> Result<Migrated, MigrateError> {
        let p = self.plan_document(path, value, opts)?;
        let (new, history, found) = apply_reporting_losses(&p, value.clone(), runner, at)
            .map_err(|e| e.in_document(path))?;
        if !opts.allow_lossy {
            let lost: Vec<(String, Lossy)> = p
                .steps
                .iter()
                .zip(&found)
                .flat_map(|(s, l)| l.iter().map(|l| (s.migration.id.clone(), l.clone())))
                .collect();
            if !lost.is_empty() {
                return Err(MigrateError::LossyDowngrade {
                    kind: p.kind.clone(),
                    from: p.from,
                    to: p.to,
                    lost,
                }
                .in_document(path));
            }
        }
        let mut steps = summarize(&p);
        for (s, mut l) in steps.iter_mut().zip(found) {
            s.lost.append(&mut l);
        }
        Ok(Migrated {
            path: path.to_owned(),
            kind: p.kind.clone(),
            from: p.from,
            to: p.to,
            steps,
            value: new,
            history,
        })
    }

    /// What `migrate` would do to each document, with the JSON Patch each
    /// would receive. Writes nothing.
    pub fn dry_run(
        &self,
        docs: &[(PathBuf, Value)],
        opts: &MigrateOptions,
    ) -> Result<Vec<DocumentPlan>, MigrateError> {
        Ok(plans_of(self.prepare(docs, opts)?, docs))
    }

    /// [`Migrator::dry_run`], and then every check `writer` would run on
    /// the migrated documents ([`StateWriter::check_all`]): a dry run that
    /// passes is a run that will not be refused for what it writes.
    pub fn dry_run_checked(
        &self,
        docs: &[(PathBuf, Value)],
        opts: &MigrateOptions,
        writer: &mut dyn StateWriter,
    ) -> Result<Vec<DocumentPlan>, MigrateError> {
        let migrated = self.prepare(docs, opts)?;
        let batch = batch_of(migrated.iter().filter(|m| !m.steps.is_empty()));
        if !batch.documents.is_empty() {
            writer
                .check_all(&batch)
                .map_err(|source| MigrateError::WouldBeRefused { source })?;
        }
        Ok(plans_of(migrated, docs))
    }

    /// Migrates the documents and hands every changed one to `writer` in
    /// one batch (one transaction). Nothing is written when any document is
    /// refused.
    pub fn migrate(
        &self,
        docs: &[(PathBuf, Value)],
        opts: &MigrateOptions,
        writer: &mut dyn StateWriter,
    ) -> Result<Summary, MigrateError> {
        let (migrated, unchanged): (Vec<_>, Vec<_>) = self
            .prepare(docs, opts)?
            .into_iter()
            .partition(|m| !m.steps.is_empty());
        let batch = batch_of(migrated.iter());
        if !batch.documents.is_empty() {
            writer
                .write_all(&batch)
                .map_err(|source| MigrateError::Write { source })?;
        }
        Ok(Summary {
            backup_first: batch.backup_first,
            migrated,
            unchanged: unchanged.into_iter().map(|m| m.path).collect(),
        })
    }

    /// Each document's version against its kind's latest.
    pub fn status(&self, docs: &[(PathBuf, Value)]) -> Vec<DocumentStatus> {
        docs.iter()
            .map(|(path, value)| self.status_one(path, value))
            .collect()
    }

    fn status_one(&self, path: &Path, value: &Value) -> DocumentStatus {
        let kind = self.catalog.kind_for(path);
        let latest = kind.map(|k| k.latest().version);
        let version = kind.and_then(|k| k.spec.version_of(value).ok());
        let state = match (kind, version, latest) {
            (None, _, _) => StatusState::NoKind,
            (_, None, _) | (_, _, None) => StatusState::NoVersion,
            (_, Some(v), Some(l)) if v == l => StatusState::Current,
            (_, Some(v), Some(l)) if v < l => StatusState::Behind,
            _ => StatusState::Newer,
        };
        DocumentStatus {
            path: path.to_owned(),
            kind: kind.map(|k| k.name.clone()),
            version,
            latest,
            state,
        }
    }
}

/// Each migrated document as a plan, with the patch from its old value.
fn plans_of(migrated: Vec<Migrated>, docs: &[(PathBuf, Value)]) -> Vec<DocumentPlan> {
    migrated
        .into_iter()
        .zip(docs)
        .map(|(m, (_, old))| DocumentPlan {
            patch: json_patch::diff(old, &m.value),
            path: m.path,
            kind: m.kind,
            from: m.from,
            to: m.to,
            steps: m.steps,
        })
        .collect()
}

/// The batch that writes `migrated`, backed up first when a step loses
/// anything or a downgrade passes through a step without an inverse.
fn batch_of<'m>(migrated: impl Iterator<Item = &'m Migrated> + Clone) -> WriteBatch {
    WriteBatch {
        documents: migrated
            .clone()
            .map(|m| (m.path.clone(), m.value.clone()))
            .collect(),
        backup_first: migrated
            .into_iter()
            .any(|m| m.steps.iter().any(|s| !s.lost.is_empty() || s.lossy_step)),
    }
}

fn summarize(p: &Plan<'_>) -> Vec<StepSummary> {
    p.steps
        .iter()
        .map(|s| StepSummary {
            migration: s.migration.id.clone(),
            from: s.from(),
            to: s.to(),
            direction: s.direction,
            lost: Vec::new(),
            lossy_step: !s.lossy().is_empty(),
        })
        .collect()
}
