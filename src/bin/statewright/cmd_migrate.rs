//! `statewright migrate`.

use clap::{Args, Subcommand};

use crate::args::Global;
use crate::exit::Exit;
use crate::output;

/// Migrate documents to another schema version.
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub command: Option<MigrateCommand>,
}

/// `statewright migrate` subcommands.
#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    New(crate::cmd_migrate_new::NewArgs),
}

pub fn run(global: &Global, args: MigrateArgs) -> Exit {
    match args.command {
        Some(MigrateCommand::New(a)) => crate::cmd_migrate_new::run(global, a),
        None => {
            output::print_error(
                global,
                "`statewright migrate` is not available in this build",
                None,
            );
            Exit::Usage
        }
    }
}
