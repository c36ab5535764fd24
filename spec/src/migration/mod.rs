//! Migration files: the format ([`file`]), its one reader ([`parse`]),
//! inverses ([`inverse`]), the integrity sum file ([`sum`]), the format's
//! JSON Schema ([`json_schema`]) and the renderer of compiled steps
//! ([`render`]).

pub mod error;
pub mod file;
pub mod inverse;
pub mod parse;
#[cfg(feature = "render")]
pub mod render;
pub mod sum;

pub use error::{MigrationFileError, SumChange};
pub use file::{
    Cast, ConvertOp, EachOp, FillOp, FromToOp, HookOp, Mapping, MigrationFile, Op, PathOp,
    RemoveOp, RenameOp, ScalarType,
};
pub use inverse::{Lossy, invert};
pub use parse::{Migration, MigrationSet, load_dir, parse_migration, parse_str};
#[cfg(feature = "render")]
pub use render::{RenderOptions, render_steps};
pub use sum::{SUM_FILE, SumFile, check_sum, file_hash, load_checked, rehash_with};

/// The schema file checked in next to the migrations.
pub const SCHEMA_FILE: &str = "migration.schema.json";

/// The JSON Schema of the migration file format, generated from the Rust
/// types, as pretty JSON with a trailing newline.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(MigrationFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}
