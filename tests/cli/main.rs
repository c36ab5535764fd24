//! End-to-end tests of the `statewright` binary, sharing one harness.

mod audit;
mod backends;
mod check_store;
mod diff;
mod fault;
mod graph;
mod hostile;
mod import;
mod init;
mod json_contract;
mod keep_format;
mod lock;
mod migrate;
mod migrate_authoring;
mod migrate_kill;
mod numbers;
mod ops;
#[path = "../common/pg.rs"]
mod pg;
mod pg_only;
mod pg_restart;
mod precommit;
mod schemastore;
mod shell;
mod state;
mod suite;
mod util;
mod validate;
