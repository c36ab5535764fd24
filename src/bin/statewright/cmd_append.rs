//! `statewright append`.

use std::path::PathBuf;

use clap::Args;
use statewright::ops::{self, Change, SetRequest};

use crate::args::{Global, OutputFormat};
use crate::cmd_get::shown;
use crate::cmd_set::{ValueOpts, parse_value, print_edit};
use crate::exit::Exit;
use crate::ops_cli::{StateArg, context, fail, open_doc};
use crate::store::lock_options;

/// Add an item to the end of an array in a document.
///
/// The array at POINTER gains VALUE as its last item (a missing member
/// becomes a one-item array), under the state lock, validated against the
/// document's schema (an item the schema refuses is not written: exit 4),
/// backed up and audited like `set`. Concurrent appends from many
/// processes or machines are never lost: each is one read-modify-write
/// under the lock (on PostgreSQL, one transaction on the session holding
/// the namespace's lock).
///
/// VALUE is read as `set` reads it (JSON, else a string; --string,
/// --json).
///
/// Examples:
///   statewright append state/agents.json /events '{"at": "2025-01-01T00:00:00Z", "kind": "start"}'
///   statewright append config/dev.json /vars/hosts --string web-3
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, allow_negative_numbers = true)]
pub struct AppendArgs {
    /// The document.
    pub file: PathBuf,
    /// The array (JSON pointer).
    pub pointer: String,
    /// The item to add.
    pub value: String,
    #[command(flatten)]
    pub how: ValueOpts,
    #[command(flatten)]
    pub state: StateArg,
}

pub fn run(global: &Global, args: AppendArgs) -> Exit {
    let item = match parse_value(&args.value, args.how.string, args.how.json) {
        Ok(v) => v,
        Err(e) => return fail(global, &e),
    };
    let (opened, rel) = match open_doc(global, &args.state, &args.file) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    let req = SetRequest {
        rel: &rel,
        pointer: &args.pointer,
        change: Change::Append(item),
        parents: args.how.parents,
        dry_run: args.how.dry_run,
    };
    let lock = lock_options(global, "append");
    match ops::append(&opened.store, &lock, &context("append"), &req) {
        Ok(edit) if edit.written && global.format != OutputFormat::Json => {
            let items = edit
                .after
                .as_ref()
                .and_then(|a| a.as_array())
                .map_or(0, Vec::len);
            println!(
                "appended to {} in {}: now {items} items (serial {})",
                shown(&edit.pointer),
                edit.file,
                edit.outcome.serial
            );
            Exit::Clean
        }
        Ok(edit) => {
            print_edit(global, &edit, "append");
            Exit::Clean
        }
        Err(e) => fail(global, &e),
    }
}
