//! `statewright set`.

use std::path::PathBuf;

use clap::{ArgGroup, Args};
use serde_json::Value;
use statewright::ops::{self, Change, Edit, OpsError, SetRequest};

use crate::args::{Global, OutputFormat};
use crate::cmd_get::shown;
use crate::exit::Exit;
use crate::ops_cli::{StateArg, context, fail, open_doc, plain};
use crate::store::lock_options;

/// Set the value at a JSON pointer in a document.
///
/// The change is made under the state lock and written through the store:
/// validated against the document's schema (a value the schema refuses is
/// not written: exit 4, with the pointer and the schema's message), the
/// old version backed up, an audit line appended, the file replaced
/// atomically.
///
/// VALUE is read as a JSON literal (42, true, null, {"a": 1}, "text") and
/// otherwise taken as a string (COMPLETE). --string always takes it as a
/// string; --json always as JSON (bad JSON is an error with line:column).
/// --increment N adds N to the number there (a missing member counts as
/// 0), as one atomic read-modify-write: concurrent increments are never
/// lost. A missing parent object is an error unless --parents; `-` as the
/// last token appends to an array. --dry-run prints the change as a JSON
/// Patch, runs every check and writes nothing.
///
/// Examples:
///   statewright set processed.json /processed/B0CX7W3N1T/status METADATA_FETCHED
///   statewright set processed.json /failed/B0BZ9L4P6F/retry_count --increment 1
///   statewright set config/dev.json /vars/ntp_server --string 10.0.0.1
#[derive(Debug, Args)]
#[command(verbatim_doc_comment, allow_negative_numbers = true)]
#[command(group(ArgGroup::new("what").required(true).args(["value", "increment"])))]
#[command(override_usage = "statewright set [OPTIONS] <FILE> <POINTER> <VALUE | --increment <N>>")]
pub struct SetArgs {
    /// The document.
    pub file: PathBuf,
    /// Where in it (JSON pointer).
    pub pointer: String,
    /// The new value.
    pub value: Option<String>,
    /// Add N to the number at POINTER (atomic under the lock).
    #[arg(long, value_name = "N", conflicts_with_all = ["string", "json"])]
    pub increment: Option<String>,
    #[command(flatten)]
    pub how: ValueOpts,
    #[command(flatten)]
    pub state: StateArg,
}

/// How `set` and `append` read VALUE and write it.
#[derive(Debug, Args)]
pub struct ValueOpts {
    /// Take VALUE as a string, even if it reads as JSON.
    #[arg(long, conflicts_with = "json")]
    pub string: bool,
    /// Take VALUE as JSON; refuse it if it does not parse.
    #[arg(long)]
    pub json: bool,
    /// Create missing parent objects.
    #[arg(long)]
    pub parents: bool,
    /// Show the change as a JSON Patch; write nothing.
    #[arg(long)]
    pub dry_run: bool,
}

/// VALUE as `--string` / `--json` / the default (JSON, else a string) say.
pub fn parse_value(text: &str, string: bool, json: bool) -> Result<Value, OpsError> {
    ops::parse_value(text, string, json)
}

pub fn run(global: &Global, args: SetArgs) -> Exit {
    let change = match (&args.value, &args.increment) {
        (_, Some(n)) => match serde_json::from_str::<Value>(n) {
            Ok(Value::Number(n)) => Change::Increment(n),
            _ => {
                let msg = format!("--increment needs a number, not `{n}`");
                crate::output::print_error(global, &msg, None);
                return Exit::Usage;
            }
        },
        (Some(v), None) => match parse_value(v, args.how.string, args.how.json) {
            Ok(v) => Change::Value(v),
            Err(e) => return fail(global, &e),
        },
        (None, None) => unreachable!("clap requires VALUE or --increment"),
    };
    let (opened, rel) = match open_doc(global, &args.state, &args.file) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    let req = SetRequest {
        rel: &rel,
        pointer: &args.pointer,
        change,
        parents: args.how.parents,
        dry_run: args.how.dry_run,
    };
    let lock = lock_options(global, "set");
    match ops::set(&opened.store, &lock, &context("set"), &req) {
        Ok(edit) => {
            print_edit(global, &edit, "set");
            Exit::Clean
        }
        Err(e) => fail(global, &e),
    }
}

/// Prints what a `set` or `rm` did (or would do).
pub fn print_edit(global: &Global, edit: &Edit, verb: &str) {
    if global.format == OutputFormat::Json {
        let v = serde_json::json!({
            "file": edit.file,
            "pointer": edit.pointer,
            "before": edit.before,
            "after": edit.after,
            "patch": edit.patch,
            "serial": edit.outcome.serial,
            "written": edit.written,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    let at = shown(&edit.pointer);
    if !edit.written {
        println!(
            "{}",
            serde_json::to_string_pretty(&edit.patch).unwrap_or_default()
        );
        println!(
            "dry run: {} not written (the write would pass every check and make serial {})",
            edit.file, edit.outcome.serial
        );
        return;
    }
    let change = match (&edit.before, &edit.after) {
        (Some(b), Some(a)) => format!(": {} → {}", plain(b), plain(a)),
        (None, Some(a)) => format!(": {}", plain(a)),
        _ => String::new(),
    };
    let prep = if verb == "removed" { "from" } else { "in" };
    println!(
        "{verb} {at} {prep} {}{change} (serial {})",
        edit.file, edit.outcome.serial
    );
}
