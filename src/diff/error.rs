//! The diff layer's one error type.

/// Why a diff could not be computed. An incompatible change is never an
/// error: it is a [`Change`](crate::diff::Change) in the report.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum DiffError {
    /// A `$ref` could not be resolved.
    #[error("schema {side}: `$ref` {reference} at {pointer} cannot be resolved: {reason}")]
    UnresolvableRef {
        /// `A` (the old schema) or `B` (the new schema).
        side: &'static str,
        /// Where the `$ref` is.
        pointer: String,
        /// The reference as written.
        reference: String,
        /// What went wrong.
        reason: String,
    },
    /// A chain of `$ref`s that only points at itself.
    #[error("schema {side}: `$ref` chain at {pointer} never reaches a schema (cycle)")]
    RefCycle {
        /// `A` or `B`.
        side: &'static str,
        /// Where the chain starts.
        pointer: String,
    },
    /// No kind to compare for drift.
    #[error("no kind declares `[kinds.<name>.drift]` in the project file")]
    NoDriftKind,
    /// A state document without the template path its kind's drift rule
    /// names.
    #[error(
        "the state document has no template path at `{pointer}` to find its template manifest by"
    )]
    NoTemplatePath {
        /// The rule's `template` pointer.
        pointer: String,
    },
    /// The manifest the drift rule names does not exist.
    #[error("no template manifest at {} (from the template path `{template}`)", path.display())]
    NoManifest {
        /// Where the rule says it is.
        path: std::path::PathBuf,
        /// The document's template path.
        template: String,
    },
    /// A template manifest that does not follow the documented format.
    #[error("template manifest is invalid at {pointer}: {message}")]
    InvalidManifest {
        /// Where in the manifest.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// The migration files or the catalog of the project could not be
    /// read (for the coverage of migration steps).
    #[error("{message}")]
    Project {
        /// What failed.
        message: String,
        /// How to fix it.
        help: Option<String>,
    },
}
