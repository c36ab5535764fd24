//! `statewright get`.

use clap::Args;

use crate::args::Global;
use crate::exit::Exit;
use crate::output;

/// Print the value at a JSON pointer in a document.
#[derive(Debug, Args)]
pub struct GetArgs {}

pub fn run(global: &Global, _args: GetArgs) -> Exit {
    output::print_error(
        global,
        "`statewright get` is not available in this build",
        None,
    );
    Exit::Usage
}
