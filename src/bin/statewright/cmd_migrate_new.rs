//! `statewright migrate new`.

use clap::Args;

use crate::args::Global;
use crate::exit::Exit;
use crate::output;

/// Draft the migration file for the next version of a kind.
#[derive(Debug, Args)]
pub struct NewArgs {}

pub fn run(global: &Global, _args: NewArgs) -> Exit {
    output::print_error(
        global,
        "`statewright migrate new` is not available in this build",
        None,
    );
    Exit::Usage
}
