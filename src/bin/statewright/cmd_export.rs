//! `statewright export`.

use clap::Args;

use crate::args::Global;
use crate::exit::Exit;
use crate::output;

/// Export a state directory as one portable bundle.
#[derive(Debug, Args)]
pub struct ExportArgs {}

pub fn run(global: &Global, _args: ExportArgs) -> Exit {
    output::print_error(
        global,
        "`statewright export` is not available in this build",
        None,
    );
    Exit::Usage
}
