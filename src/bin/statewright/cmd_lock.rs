//! `statewright lock`.

use clap::Args;

use crate::args::Global;
use crate::exit::Exit;
use crate::output;

/// Show or break the state lock.
#[derive(Debug, Args)]
pub struct LockArgs {}

pub fn run(global: &Global, _args: LockArgs) -> Exit {
    output::print_error(
        global,
        "`statewright lock` is not available in this build",
        None,
    );
    Exit::Usage
}
