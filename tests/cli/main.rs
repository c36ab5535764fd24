//! End-to-end tests of the `statewright` binary, sharing one harness.

mod diff;
mod ops;
mod schemastore;
mod suite;
mod util;
mod validate;
