//! Migrating documents between schema versions: planning the chain
//! ([`plan`]), running it with the interpreter ([`interp`]) or compiled
//! steps ([`compiled`]) over the same value primitives ([`prim`]),
//! recording history ([`apply`]), the document-level driver with dry-run
//! and status ([`run`]), and the CI checks ([`verify`]).

pub mod apply;
pub mod cast;
pub mod compiled;
pub mod error;
pub mod generate;
mod generated;
pub mod interp;
pub mod new;
pub mod plan;
pub mod prim;
pub mod run;
pub mod select;
pub mod verify;

pub use apply::{
    HistoryEntry, Interpreter, StepLosses, StepRunner, apply_in_memory, apply_reporting_losses,
    apply_with, check_provenance, value_losses,
};
pub use compiled::{Compiled, CompiledCatalog, CompiledKind, CompiledStep, StepFn, upgrade};
pub use error::MigrateError;
pub use generated::VerifyOptions;
pub use interp::{HookFn, Hooks, run_ops};
pub use new::{NewMigration, new_migration};

pub use plan::{Direction, Plan, PlannedStep, plan};
pub use prim::OpFailure;
pub use run::{
    DocumentPlan, DocumentStatus, MigrateOptions, Migrated, Migrator, StateWriter, StatusState,
    StepSummary, Summary, Target, WriteBatch,
};
pub use select::{
    ReadError, StatusRow, read_documents, select_documents, state_status, with_version,
};
pub use statewright_spec::migration::ScalarType;
pub use statewright_spec::migration::{MigrationSet, load_checked};
pub use verify::{Finding, VerifyReport, verify, verify_with};

use std::path::Path;

use statewright_spec::migration::{MigrationFileError, SumFile, rehash_with};

/// Rewrites the sum file of the migrations in `dir` (`statewright migrate
/// hash`) through the store's durable write: temp file, fsync, rename,
/// folder fsync.
pub fn rehash(dir: &Path) -> Result<SumFile, MigrationFileError> {
    rehash_with(dir, &mut |path, bytes| {
        crate::store::atomic::write_file(&crate::store::RealFs, path, bytes, 0o644)
            .map_err(std::io::Error::other)
    })
}
