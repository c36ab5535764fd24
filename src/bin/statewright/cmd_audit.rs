//! `statewright audit`.

use clap::Args;

use crate::args::Global;
use crate::exit::Exit;
use crate::output;

/// Verify the audit log's hash chain.
#[derive(Debug, Args)]
pub struct AuditArgs {}

pub fn run(global: &Global, _args: AuditArgs) -> Exit {
    output::print_error(
        global,
        "`statewright audit` is not available in this build",
        None,
    );
    Exit::Usage
}
