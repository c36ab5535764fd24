//! The one error type of code generation: every variant names the file (and,
//! for schemas typify cannot handle, the JSON pointer) an operator must look
//! at.

use std::path::PathBuf;

/// Why code generation failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CodegenError {
    /// The project file or its catalog could not be loaded.
    #[error("cannot load project {}: {source}", path.display())]
    Project {
        /// The project file.
        path: PathBuf,
        /// What the spec crate reported.
        #[source]
        source: Box<statewright_spec::ProjectError>,
    },
    /// A `$ref` could not be resolved offline, or the schema's ids are
    /// malformed, so the schema could not be bundled into one document.
    #[error("cannot bundle {}: {source}", path.display())]
    Bundle {
        /// The schema being bundled.
        path: PathBuf,
        /// What the resolver reported.
        #[source]
        source: Box<referencing::Error>,
    },
    /// Typify could not turn a schema node into a type (it panicked or
    /// returned an error), and the `serde_json::Value` fallback is off.
    #[error(
        "{}: no Rust type for the node at `{pointer}` of {} ({reason}); \
         simplify the schema there, or enable the value fallback",
        schema.display(),
        path.display()
    )]
    Unsupported {
        /// The schema being generated.
        schema: PathBuf,
        /// The file the offending node lives in (the schema itself, or a
        /// file it refers to).
        path: PathBuf,
        /// JSON pointer of the offending node inside `path`.
        pointer: String,
        /// What typify said.
        reason: String,
    },
    /// Generated code that is not valid Rust (a bug in typify or here).
    #[error("generated code for {} does not parse: {message}", path.display())]
    Render {
        /// The schema, or the output file, the code was generated for.
        path: PathBuf,
        /// What the parser said.
        message: String,
    },
    /// The output file could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Write {
        /// The output file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The migration files could not be read, or rendered as compiled
    /// steps.
    #[error("cannot compile the migrations in {}: {message}", path.display())]
    Migrations {
        /// The migrations dir (or the file at fault).
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}
