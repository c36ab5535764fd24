//! End-to-end tests of the `statewright` binary, sharing one harness.

mod audit;
mod check_store;
mod diff;
mod import;
mod lock;
mod migrate;
mod migrate_kill;
mod numbers;
mod ops;
mod schemastore;
mod state;
mod suite;
mod util;
mod validate;
