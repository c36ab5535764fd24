//! The `statewright` command: a thin shell over the library. It parses
//! arguments, calls library functions, renders their results and errors for
//! people (or as JSON / GitHub annotations) and chooses the exit code.

// No function over 80 lines (clippy.toml sets the threshold).
#![warn(clippy::too_many_lines)]

mod args;
mod cmd_append;
mod cmd_audit;
mod cmd_check;
mod cmd_completions;
mod cmd_diff;
mod cmd_export;
mod cmd_get;
mod cmd_graph;
mod cmd_import;
mod cmd_init;
mod cmd_list;
mod cmd_lock;
mod cmd_migrate;
mod cmd_migrate_new;
mod cmd_migrate_print;
mod cmd_prune;
mod cmd_rm;
mod cmd_set;
mod cmd_state;
mod cmd_validate;
mod exit;
mod ops_cli;
mod output;
mod store;

use clap::Parser;

fn main() {
    // Output piped into `head` and the like ends quietly when the reader
    // goes away, as other command-line tools do, instead of reporting a
    // failed write. (Every state write is crash-safe, so this cannot leave
    // a half-written document.)
    // SAFETY: called before any other thread exists; restores the default
    // disposition of one signal.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let mut cli = args::Cli::parse();
    if let args::Command::List(cmd_list::ListArgs { json, .. })
    | args::Command::Prune(cmd_prune::PruneArgs { json, .. }) = &cli.command
        && json.json
    {
        cli.global.format = args::OutputFormat::Json;
    }
    let code = match cli.command {
        args::Command::Validate(a) => cmd_validate::run(&cli.global, a),
        args::Command::Check(a) => cmd_check::run(&cli.global, a),
        args::Command::Migrate(a) => cmd_migrate::run(&cli.global, a),
        args::Command::Diff(a) => cmd_diff::run(&cli.global, a),
        args::Command::Get(a) => cmd_get::run(&cli.global, a),
        args::Command::Set(a) => cmd_set::run(&cli.global, a),
        args::Command::Append(a) => cmd_append::run(&cli.global, a),
        args::Command::Rm(a) => cmd_rm::run(&cli.global, a),
        args::Command::List(a) => cmd_list::run(&cli.global, a),
        args::Command::Export(a) => cmd_export::run(&cli.global, a),
        args::Command::Import(a) => cmd_import::run(&cli.global, a),
        args::Command::Prune(a) => cmd_prune::run(&cli.global, a),
        args::Command::State(a) => cmd_state::run(&cli.global, a),
        args::Command::Lock(a) => cmd_lock::run(&cli.global, a),
        args::Command::Audit(a) => cmd_audit::run(&cli.global, a),
        args::Command::Init(a) => cmd_init::run(&cli.global, a),
        args::Command::Graph(a) => cmd_graph::run(&cli.global, a),
        args::Command::Completions(a) => cmd_completions::completions(a),
        args::Command::Man(a) => cmd_completions::man(&cli.global, a),
    };
    std::process::exit(code.into());
}
