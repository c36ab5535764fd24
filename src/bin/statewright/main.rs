//! The `statewright` command: a thin shell over the library. It parses
//! arguments, calls library functions, renders their results and errors for
//! people (or as JSON / GitHub annotations) and chooses the exit code.

mod args;
mod cmd_check;
mod cmd_validate;
mod exit;
mod output;

use clap::Parser;

fn main() {
    let cli = args::Cli::parse();
    let code = match cli.command {
        args::Command::Validate(a) => cmd_validate::run(&cli.global, a),
        args::Command::Check(a) => cmd_check::run(&cli.global, a),
    };
    std::process::exit(code.into());
}
