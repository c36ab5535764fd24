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
pub use select::{select_documents, with_version};
pub use statewright_spec::migration::ScalarType;
pub use statewright_spec::migration::{MigrationSet, load_checked, rehash};
pub use verify::{Finding, VerifyReport, verify, verify_with};
