//! `statewright completions SHELL` and `statewright man`: generated from the
//! same clap definitions that parse the arguments, so they never drift.

use std::path::PathBuf;

use clap::{Args, CommandFactory};

use crate::args::{Cli, Global};
use crate::exit::Exit;

/// Print a shell completion script on stdout.
///
/// Examples:
///   statewright completions bash > ~/.local/share/bash-completion/completions/statewright
///   statewright completions zsh > ~/.zfunc/_statewright     # with fpath+=~/.zfunc
///   statewright completions fish > ~/.config/fish/completions/statewright.fish
///   statewright completions powershell >> $PROFILE
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct CompletionsArgs {
    /// The shell.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// Print the man page (roff) on stdout, or write one page per command.
///
/// Examples:
///   statewright man | man -l -
///   statewright man --dir ~/.local/share/man/man1
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ManArgs {
    /// Write statewright.1 and statewright-<command>.1 for every command
    /// into this folder instead.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

pub fn completions(args: CompletionsArgs) -> Exit {
    let mut cmd = Cli::command();
    clap_complete::generate(args.shell, &mut cmd, "statewright", &mut std::io::stdout());
    Exit::Clean
}

pub fn man(global: &Global, args: ManArgs) -> Exit {
    let cmd = Cli::command();
    let written = match &args.dir {
        Some(dir) => std::fs::create_dir_all(dir)
            .and_then(|()| clap_mangen::generate_to(cmd, dir))
            .map_err(|e| (dir.display().to_string(), e)),
        None => clap_mangen::Man::new(cmd)
            .render(&mut std::io::stdout())
            .map_err(|e| ("stdout".to_owned(), e)),
    };
    match written {
        Ok(()) => Exit::Clean,
        Err((place, e)) => {
            let message = format!("cannot write the man page to {place}: {e}");
            crate::output::print_error(global, &message, None);
            Exit::Usage
        }
    }
}
