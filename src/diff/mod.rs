//! Differences between schemas, between documents, and between what
//! templates declare and what a state document records.
//!
//! - [`schema`]: [`diff_schemas`] lists every change between two JSON
//!   Schemas with a stable rule code, a pointer into each schema and a
//!   verdict for readers (backward) and writers (forward).
//!
//! The library never prints: every function returns data.

mod error;
pub mod schema;

pub use error::DiffError;
pub use schema::{Change, RuleInfo, SchemaDiff, SchemaDiffOptions, Severity, diff_schemas};
