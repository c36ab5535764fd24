//! `statewright set`.

use clap::Args;

use crate::args::Global;
use crate::exit::Exit;
use crate::output;

/// Set the value at a JSON pointer in a document, through the store.
#[derive(Debug, Args)]
pub struct SetArgs {}

pub fn run(global: &Global, _args: SetArgs) -> Exit {
    output::print_error(
        global,
        "`statewright set` is not available in this build",
        None,
    );
    Exit::Usage
}
