//! `statewright get`.

use std::path::PathBuf;

use clap::Args;
use statewright::ops;

use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::ops_cli::{StateArg, fail, open_doc};

/// Print the value at a JSON pointer in a document.
///
/// FILE is relative to the state dir (or a path to a file inside it).
/// POINTER is an RFC 6901 JSON pointer: /processed/B0C1234XYZ/status,
/// /sources/0/sha, "" for the whole document (`~1` stands for `/`, `~0`
/// for `~`). The document is read through the store and verified
/// (checksum, version, schema) first.
///
/// The value is printed as JSON; --raw prints a string without quotes.
/// A pointer with nothing there prints "<pointer> not found in <file>" on
/// stderr, nothing on stdout, and exits 0 (with --format json:
/// {"found": false}).
///
/// Examples:
///   statewright get processed.json /processed/B0C1234XYZ/status --raw
///   statewright get config/dev.json /vars
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct GetArgs {
    /// The document.
    pub file: PathBuf,
    /// Where in it (JSON pointer).
    #[arg(allow_hyphen_values = true)]
    pub pointer: String,
    /// Print a string value as plain text, without JSON quotes.
    #[arg(long)]
    pub raw: bool,
    #[command(flatten)]
    pub state: StateArg,
}

pub fn run(global: &Global, args: GetArgs) -> Exit {
    let (opened, rel) = match open_doc(global, &args.state, &args.file) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    let value = match ops::get(&opened.store, &rel, &args.pointer) {
        Ok(v) => v,
        Err(e) => return fail(global, &e),
    };
    if global.format == OutputFormat::Json {
        let v = serde_json::json!({
            "file": rel,
            "pointer": args.pointer,
            "found": value.is_some(),
            "value": value,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Exit::Clean;
    }
    match value {
        None => eprintln!("{} not found in {rel}", shown(&args.pointer)),
        Some(serde_json::Value::String(s)) if args.raw => println!("{s}"),
        Some(v) => println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default()),
    }
    Exit::Clean
}

/// A pointer as shown in messages (`""` for the whole document).
pub fn shown(pointer: &str) -> &str {
    if pointer.is_empty() { "\"\"" } else { pointer }
}
