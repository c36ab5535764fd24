//! The formats statewright reads, shared by build-time code generation, the
//! runtime library and the CLI: one parser per format, never two.
//!
//! - [`project`]: the project file `statewright.toml`.
//! - [`catalog`]: document kinds and their schema versions, found on disk.
//! - [`document`]: strict parsing of JSON, YAML and TOML documents with
//!   line:col positions for every error.
//! - [`locate`]: mapping JSON pointers to line:col in a document's text.
//! - [`number`]: exact number values (equality, sums, canonical text).
//! - [`migration`]: migration files, their inverses and the sum file.
//! - [`registry`]: the offline schema registry (`$ref` resolution without a
//!   network).
#![deny(missing_docs)]
// No function over 80 lines (clippy.toml sets the threshold).
#![warn(clippy::too_many_lines)]

pub mod catalog;
pub mod document;
pub mod glob;
pub mod locate;
pub mod migration;
pub mod number;
pub mod pointer;
pub mod project;
pub mod registry;
pub mod splice;

pub use catalog::{Catalog, Kind, SchemaVersion};
pub use document::{Format, ParseError, ParseLimits, Position, SourceText};
pub use project::{
    ArtifactRule, DriftRule, EnvelopeFields, KindSpec, OlderThan, Project, ProjectError, PruneRule,
};
pub use registry::{OfflineRegistry, RegistryError, SCHEMA_PREFIX};
