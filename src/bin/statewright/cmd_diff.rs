//! `statewright diff`.

use clap::Args;

use crate::args::Global;
use crate::exit::Exit;
use crate::output;

/// Compare two schemas or two documents.
#[derive(Debug, Args)]
pub struct DiffArgs {}

pub fn run(global: &Global, _args: DiffArgs) -> Exit {
    output::print_error(
        global,
        "`statewright diff` is not available in this build",
        None,
    );
    Exit::Usage
}
