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
    /// A template manifest that does not follow the documented format.
    #[error("template manifest is invalid at {pointer}: {message}")]
    InvalidManifest {
        /// Where in the manifest.
        pointer: String,
        /// What is wrong.
        message: String,
    },
}
