//! statewright: versioned state documents, validated, migrated and written
//! atomically.
//!
//! The library is what the `statewright` CLI runs; every command is a
//! function here too. Library code never prints and never exits.
#![deny(missing_docs)]

pub mod diff;
pub mod models;

pub use statewright_spec as spec;
