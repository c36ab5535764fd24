//! `statewright rm`.

use std::path::PathBuf;

use clap::Args;
use statewright::ops::{self, RmOutcome};

use crate::args::{Global, OutputFormat};
use crate::cmd_get::shown;
use crate::cmd_set::print_edit;
use crate::exit::Exit;
use crate::ops_cli::{StateArg, context, fail, open_doc};
use crate::store::lock_options;

/// Remove the value at a JSON pointer from a document.
///
/// Made under the state lock and written through the store like `set`:
/// removing a member the schema requires is refused (exit 4) with the
/// schema's message and pointer. A pointer with nothing there prints
/// "<pointer> not found in <file>" and exits 0: nothing to do is not an
/// error. --dry-run prints the change as a JSON Patch and writes nothing.
///
/// Examples:
///   statewright rm processed.json /failed/B0BZ9L4P6F
///   statewright rm --dry-run processed.json /processed/B0CX7W3N1T
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct RmArgs {
    /// The document.
    pub file: PathBuf,
    /// What to remove (JSON pointer).
    pub pointer: String,
    /// Show the change as a JSON Patch; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    #[command(flatten)]
    pub state: StateArg,
}

pub fn run(global: &Global, args: RmArgs) -> Exit {
    let (opened, rel) = match open_doc(global, &args.state, &args.file) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    let lock = lock_options(global, "rm");
    let ctx = context("rm");
    match ops::rm(
        &opened.store,
        &lock,
        &ctx,
        &rel,
        &args.pointer,
        args.dry_run,
    ) {
        Ok(RmOutcome::Removed(edit)) => {
            print_edit(global, &edit, "removed");
            Exit::Clean
        }
        Ok(RmOutcome::NotFound) => {
            if global.format == OutputFormat::Json {
                let v = serde_json::json!({"file": rel, "pointer": args.pointer, "found": false, "written": false});
                println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
            } else {
                println!(
                    "{} not found in {rel}; nothing removed",
                    shown(&args.pointer)
                );
            }
            Exit::Clean
        }
        Err(e) => fail(global, &e),
    }
}
