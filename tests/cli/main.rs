//! End-to-end tests of the `statewright` binary, sharing one harness.

mod migrate;
mod migrate_kill;
mod schemastore;
mod suite;
mod util;
mod validate;
