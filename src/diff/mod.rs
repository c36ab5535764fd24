//! Differences between schemas, between documents, and between what
//! templates declare and what a state document records.
//!
//! - [`schema`]: [`diff_schemas`] lists every change between two JSON
//!   Schemas with a stable rule code, a pointer into each schema and a
//!   verdict for readers (backward) and writers (forward).
//! - [`document`]: [`diff_documents`] turns two documents into an RFC 6902
//!   JSON Patch, and [`render_patch`] into lines a CLI can print.
//! - [`coverage`](mod@coverage): [`coverage()`] says which backward-incompatible
//!   changes between two versions a migration file does not account for.
//! - [`draft`]: [`draft_migration`] drafts a migration file from a schema
//!   diff.
//! - [`drift`](mod@drift): [`drift()`] compares a template manifest with the
//!   `builders` map of a `packer-hybrid.json` state document.
//!
//! - [`mode_of`]: whether two files are compared as schemas or as
//!   documents, and why.
//!
//! The library never prints: every function returns data.

pub mod coverage;
pub mod document;
pub mod draft;
pub mod drift;
mod error;
mod mode;
pub mod schema;
pub mod steps;

pub use coverage::{Coverage, Need, coverage, uncovered};
pub use document::{
    DiffLine, DocDiffOptions, LineOp, NumberComparison, diff_documents, render_patch,
};
pub use draft::draft_migration;
pub use drift::{
    DeclaredBuilder, DriftFinding, DriftKind, TemplateManifest, drift, drift_kinds, manifest_path,
};
pub use error::DiffError;
pub use mode::{Mode, ModeReason, mode_of};
pub use schema::{
    Change, Compatibility, Direction, RULES, RuleInfo, SchemaDiff, SchemaDiffOptions, Severity,
    VERSION_BUMP, VersionField, Witness, diff_schemas, rule_info,
};
pub use steps::{StepCoverage, catalog_version_of, file_uri, step_coverage, version_pointer};
