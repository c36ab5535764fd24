//! Compiled steps: migration files rendered to straight-line Rust at build
//! time (see `statewright_spec::migration::render`), run through the same
//! planner and bookkeeping as the interpreter.

use serde_json::Value;

use super::apply::{HistoryEntry, StepRunner, append_history, op_error, set_version};
use super::error::MigrateError;
use super::plan::{Direction, PlannedStep};
use super::prim::OpFailure;

/// A compiled step function.
pub type StepFn = fn(&mut Value) -> Result<(), OpFailure>;

/// One migration file, compiled.
#[derive(Debug, Clone, Copy)]
pub struct CompiledStep {
    /// The kind.
    pub kind: &'static str,
    /// The migration id.
    pub id: &'static str,
    /// Version before the step.
    pub from: u32,
    /// Version after the step.
    pub to: u32,
    /// The hash of the file it was compiled from.
    pub file_hash: &'static str,
    /// The ops.
    pub up: StepFn,
    /// The inverses (ops without one are skipped: see `lossy`).
    pub down: StepFn,
    /// Whether some op has no inverse.
    pub lossy: bool,
}

/// Runs planned steps with a table of compiled steps. A step whose file
/// hash differs from the compiled one is refused as stale.
#[derive(Debug, Clone, Copy)]
pub struct Compiled<'s> {
    /// The table the build generated.
    pub steps: &'s [CompiledStep],
}

impl StepRunner for Compiled<'_> {
    fn run(&self, step: &PlannedStep<'_>, v: &mut Value) -> Result<(), MigrateError> {
        let m = step.migration;
        let c = self
            .steps
            .iter()
            .find(|c| c.kind == m.file.kind && c.id == m.id && c.file_hash == m.file_hash)
            .ok_or_else(|| MigrateError::StaleCompiled {
                kind: m.file.kind.clone(),
                migration: m.id.clone(),
                file_hash: m.file_hash.clone(),
            })?;
        let f = match step.direction {
            Direction::Up => c.up,
            Direction::Down => c.down,
        };
        f(v).map_err(|e| op_error(step, e))
    }
}

/// Where a kind keeps its version and history, as the build saw the
/// catalog: what a typed load needs to run compiled steps with no catalog
/// or migration file at hand.
#[derive(Debug, Clone, Copy)]
pub struct CompiledKind {
    /// The kind.
    pub kind: &'static str,
    /// Pointer of the version field.
    pub version: &'static str,
    /// Pointer of the history field.
    pub history: &'static str,
    /// The latest version.
    pub latest: u32,
}

/// What a build compiled from a project: its kinds and its steps. The
/// generated `compiled` module has one (`compiled::CATALOG`); hand it to
/// `statewright::models::load_with` to load an application's own kinds.
#[derive(Debug, Clone, Copy)]
pub struct CompiledCatalog {
    /// Where each kind keeps its version and history, and its latest.
    pub kinds: &'static [CompiledKind],
    /// Every compiled step.
    pub steps: &'static [CompiledStep],
}

/// Upgrades `value` of `kind` to version `to` with the compiled `steps`:
/// each step from the document's version up, the version field set after
/// each, and one history entry per step (stamped `applied_at`) appended.
/// Refuses a document newer than `to` and a chain with a gap. Returns the
/// history entries added (none when already at `to`).
pub fn upgrade(
    value: &mut Value,
    kind: &CompiledKind,
    steps: &[CompiledStep],
    to: u32,
    applied_at: &str,
) -> Result<Vec<HistoryEntry>, MigrateError> {
    let from = statewright_spec::catalog::version_of(value, kind.version).map_err(|p| {
        MigrateError::NoVersion {
            path: std::path::PathBuf::new(),
            kind: kind.kind.into(),
            pointer: kind.version.into(),
            problem: format!("{p:?}"),
        }
    })?;
    if from > to {
        return Err(MigrateError::NewerThanKnown {
            kind: kind.kind.into(),
            version: from,
            latest: to,
        });
    }
    let mut entries = Vec::with_capacity((to - from) as usize);
    for v in from..to {
        let step = steps
            .iter()
            .find(|s| s.kind == kind.kind && s.from == v)
            .ok_or_else(|| MigrateError::Gap {
                kind: kind.kind.into(),
                from: v,
                to: v + 1,
            })?;
        (step.up)(value).map_err(|f| MigrateError::Op {
            file: format!("{}/{}", step.kind, step.id),
            migration: step.id.into(),
            from: step.from,
            to: step.to,
            op_pointer: if f.pointer.is_empty() {
                "/".into()
            } else {
                f.pointer
            },
            message: f.message,
        })?;
        set_version(value, kind.version, step.to);
        entries.push(HistoryEntry {
            migration: step.id.into(),
            from: step.from,
            to: step.to,
            file_hash: step.file_hash.into(),
            applied_at: applied_at.to_owned(),
        });
    }
    append_history(value, kind.history, &entries);
    Ok(entries)
}
