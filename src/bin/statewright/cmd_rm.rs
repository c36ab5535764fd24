//! `statewright rm`.

use clap::Args;

use crate::args::Global;
use crate::exit::Exit;
use crate::output;

/// Remove the value at a JSON pointer in a document, through the store.
#[derive(Debug, Args)]
pub struct RmArgs {}

pub fn run(global: &Global, _args: RmArgs) -> Exit {
    output::print_error(
        global,
        "`statewright rm` is not available in this build",
        None,
    );
    Exit::Usage
}
