//! `statewright state push|pull`.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use statewright::ops::{self, TransferRequest};

use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::ops_cli::{context, fail};
use crate::output;
use crate::store::{lock_options, open};

/// Move state between a state directory and the project's state.
///
/// `push DIR` copies every document of the state directory DIR into the
/// project's `[project] state` (typically a PostgreSQL namespace); `pull
/// DIR` copies the project's state into DIR (created if missing). The
/// source is exported under its lock and imported into the destination
/// under its lock, in one transaction: the export's sha256 of every file
/// and every document's envelope checksum are verified, each copy kept
/// byte for byte is read back and compared, and a destination copy that is
/// newer, of another lineage or at a higher schema version is refused
/// (exit 4) unless --force. Nothing is removed from the destination.
///
/// Examples:
///   statewright state push state        # a state dir into the database
///   statewright state pull backup-state --dry-run
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct StateArgs {
    #[command(subcommand)]
    pub action: StateAction,
}

/// Which way.
#[derive(Debug, Subcommand)]
pub enum StateAction {
    /// Copy the documents of the state directory DIR into the project's state.
    Push(Way),
    /// Copy the project's state into the state directory DIR.
    Pull(Way),
}

/// The state directory and the options.
#[derive(Debug, Args)]
pub struct Way {
    /// The state directory.
    #[arg(value_name = "DIR")]
    pub dir: PathBuf,
    /// Check everything and print what would be written; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Replace documents that are newer, of another lineage or at a
    /// higher schema version in the destination.
    #[arg(long)]
    pub force: bool,
}

pub fn run(global: &Global, args: StateArgs) -> Exit {
    let (way, push) = match &args.action {
        StateAction::Push(w) => (w, true),
        StateAction::Pull(w) => (w, false),
    };
    if !push && let Err(e) = std::fs::create_dir_all(&way.dir) {
        let msg = format!("cannot create {}: {e}", way.dir.display());
        output::print_error(global, &msg, None);
        return Exit::Usage;
    }
    let (project, dir) = match (open(global, None), open(global, Some(&way.dir))) {
        (Ok(p), Ok(d)) => (p, d),
        (Err(exit), _) | (_, Err(exit)) => return exit,
    };
    let (from, to, verb) = match push {
        true => (&dir.store, &project.store, "push"),
        false => (&project.store, &dir.store, "pull"),
    };
    let req = TransferRequest {
        dry_run: way.dry_run,
        force: way.force,
    };
    let command = format!("state {verb}");
    let lock = lock_options(global, &command);
    let report = match ops::transfer(from, to, &lock, &context(&command), req) {
        Ok(r) => r,
        Err(e) => return fail(global, &e),
    };
    let (from, to) = (
        output::display_path(from.dir()),
        output::display_path(to.dir()),
    );
    if global.format == OutputFormat::Json {
        let v = serde_json::json!({
            "from": from, "to": to, "dry_run": way.dry_run,
            "written": report.written, "documents": report.documents,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Exit::Clean;
    }
    for d in &report.documents {
        println!(
            "{:<9} {}  serial {}",
            d.action.name(),
            d.file,
            d.serial_after
        );
    }
    let docs = output::plural(report.documents.len(), "document");
    match way.dry_run {
        true => println!("dry run: {docs} from {from} into {to}; nothing written"),
        false => println!("{verb}ed {docs} from {from} into {to}, verified by sha256"),
    }
    Exit::Clean
}
