//! Integration tests of the store: one test binary, modules per concern,
//! a shared harness. Process tests re-invoke this binary as helpers.

#[path = "store/harness.rs"]
mod harness;
#[path = "store/simfs.rs"]
mod simfs;

#[path = "store/bad_input.rs"]
mod bad_input;
#[path = "store/basics.rs"]
mod basics;
#[path = "store/corruption.rs"]
mod corruption;
#[path = "store/crash.rs"]
mod crash;
#[path = "store/numbers.rs"]
mod numbers;
#[path = "store/procs.rs"]
mod procs;
#[path = "store/records.rs"]
mod records;
#[path = "store/transitions.rs"]
mod transitions;
