//! `statewright list`.

use clap::Args;

use crate::args::Global;
use crate::exit::Exit;
use crate::output;

/// List the documents of a state directory.
#[derive(Debug, Args)]
pub struct ListArgs {}

pub fn run(global: &Global, _args: ListArgs) -> Exit {
    output::print_error(
        global,
        "`statewright list` is not available in this build",
        None,
    );
    Exit::Usage
}
