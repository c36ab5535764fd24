//! Build-time code generation for statewright catalogs.
//!
//! A build script hands the [`Builder`] a project file (`statewright.toml`);
//! the builder loads the catalog with [`statewright_spec`], bundles each
//! schema's `$ref`s into one document, turns it into Rust types with typify
//! and writes one module per kind and version:
//!
//! ```text
//! pub mod env_config {
//!     pub mod v1 { pub struct EnvConfig { .. } /* .. */ }
//!     pub type Latest = v1::EnvConfig;
//! }
//! ```
//!
//! Every root type implements the `Document` trait (by default
//! `::statewright::models::Document`). Typify panics on some schemas; the
//! builder catches that, finds the node it could not handle and either
//! returns an error naming the file and JSON pointer or, with
//! [`Builder::value_fallback`], types that node as `serde_json::Value` and
//! records it in the [`Report`].
//!
//! ```no_run
//! // build.rs
//! let out_dir = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
//! let report = statewright_codegen::Builder::new()
//!     .project("statewright.toml")
//!     .value_fallback(true)
//!     .out_file(out_dir.join("statewright_models.rs"))
//!     .generate()
//!     .unwrap();
//! report.emit_rerun_if_changed();
//! ```
#![deny(missing_docs)]
// No function over 80 lines (clippy.toml sets the threshold).
#![warn(clippy::too_many_lines)]

pub mod builder;
pub mod bundle;
pub mod error;
mod faithful;
pub mod isolate;
pub mod names;
pub mod render;
pub mod typify_run;

pub use builder::{Builder, Fallback, Report, SchemaReport};
pub use bundle::Bundled;
pub use error::CodegenError;
pub use typify_run::{Generated, Generator, Settings};
