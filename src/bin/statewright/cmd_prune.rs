//! `statewright prune`.

use clap::Args;

use crate::args::Global;
use crate::exit::Exit;
use crate::output;

/// Remove entries the kind's prune rules select.
#[derive(Debug, Args)]
pub struct PruneArgs {}

pub fn run(global: &Global, _args: PruneArgs) -> Exit {
    output::print_error(
        global,
        "`statewright prune` is not available in this build",
        None,
    );
    Exit::Usage
}
