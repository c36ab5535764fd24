//! statewright: versioned state documents, validated, migrated and written
//! atomically.
//!
//! The library is what the `statewright` CLI runs; every command is a
//! function here too. Library code never prints and never exits.
#![deny(missing_docs)]
// No function over 80 lines (clippy.toml sets the threshold).
#![warn(clippy::too_many_lines)]

pub mod check;
pub mod codes;
pub mod diff;
pub mod envelope;
pub mod finding;
pub mod graph;
pub mod init;
pub mod migrate;
pub mod models;
pub mod ops;
pub mod store;
pub mod transitions;
pub mod validate;

pub use statewright_spec as spec;
