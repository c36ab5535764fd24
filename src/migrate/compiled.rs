//! Compiled steps: migration files rendered to straight-line Rust at build
//! time (see `statewright_spec::migration::render`), run through the same
//! planner and bookkeeping as the interpreter.

use serde_json::Value;

use super::apply::{StepRunner, op_error};
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
