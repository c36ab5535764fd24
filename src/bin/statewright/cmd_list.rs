//! `statewright list`.

use std::path::PathBuf;

use clap::Args;
use serde_json::Value;
use statewright::ops::{self, DocumentRow, Entry, Filter};

use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::ops_cli::{JsonArg, StateArg, fail, open_doc, open_state, plain};
use crate::output;

/// List the documents of a state directory, or the entries of one map.
///
/// Without FILE: every document a kind matches, with its kind, schema
/// version, serial (0: never written by statewright), the command that
/// last wrote it and when. A document that fails a read check is listed
/// with the error, and the run exits 1.
///
/// With FILE POINTER: the entries of the object or array there (POINTER
/// defaults to "", the top level), one line each: key and scalar members.
/// --where FIELD=VALUE keeps entries whose FIELD (a member name or a
/// pointer inside the entry) equals VALUE; repeat it to require several.
///
/// Examples:
///   statewright list
///   statewright list --kind env-config --json
///   statewright list processed.json /processed --where status=STAGED
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ListArgs {
    /// A document whose entries to list.
    pub file: Option<PathBuf>,
    /// The map or array in it (JSON pointer).
    #[arg(requires = "file")]
    pub pointer: Option<String>,
    /// Only documents of this kind.
    #[arg(long, value_name = "KIND", conflicts_with = "file")]
    pub kind: Option<String>,
    /// Only entries whose FIELD equals VALUE (repeatable).
    #[arg(long = "where", value_name = "FIELD=VALUE", requires = "file")]
    pub filters: Vec<String>,
    /// Show at most N entries or documents.
    #[arg(long, value_name = "N")]
    pub limit: Option<usize>,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub state: StateArg,
}

pub fn run(global: &Global, args: ListArgs) -> Exit {
    match &args.file {
        Some(file) => entries(global, &args, file),
        None => documents(global, &args),
    }
}

fn documents(global: &Global, args: &ListArgs) -> Exit {
    let opened = match open_state(global, &args.state) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    let mut rows = match ops::list_documents(&opened.store, &opened.catalog, args.kind.as_deref()) {
        Ok(r) => r,
        Err(e) => return fail(global, &e),
    };
    let total = rows.len();
    rows.truncate(args.limit.unwrap_or(usize::MAX));
    let broken = rows.iter().filter(|r| r.error.is_some()).count();
    if global.format == OutputFormat::Json {
        let v = serde_json::json!({
            "state_dir": output::display_path(&opened.dir),
            "documents": rows,
            "total": total,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
    } else {
        print!("{}", document_table(&rows));
        println!(
            "{} in {}{}",
            output::plural(total, "document"),
            output::display_path(&opened.dir),
            if broken > 0 {
                format!(", {broken} unreadable")
            } else {
                String::new()
            }
        );
    }
    if broken > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    }
}

fn document_table(rows: &[DocumentRow]) -> String {
    let dash = || "-".to_owned();
    let mut table = vec![[
        "FILE".to_owned(),
        "KIND".to_owned(),
        "VERSION".to_owned(),
        "SERIAL".to_owned(),
        "WRITTEN BY".to_owned(),
        "AT".to_owned(),
    ]];
    for r in rows {
        let by = match (&r.module, &r.command) {
            (_, Some(c)) => c.clone(),
            (Some(m), None) => m.clone(),
            _ => dash(),
        };
        table.push([
            r.file.clone(),
            r.kind.clone(),
            r.version.map_or_else(dash, |v| v.to_string()),
            r.serial.map_or_else(dash, |s| s.to_string()),
            by,
            r.generated_at.clone().unwrap_or_else(dash),
        ]);
    }
    let mut out = columns(&table);
    for r in rows {
        if let Some(e) = &r.error {
            out.push_str(&format!("error: {e}\n"));
        }
    }
    out
}

/// Rows of cells as aligned columns.
fn columns<const N: usize>(table: &[[String; N]]) -> String {
    let mut width = [0; N];
    for row in table {
        for (w, c) in width.iter_mut().zip(row) {
            *w = (*w).max(c.chars().count());
        }
    }
    let mut out = String::new();
    for row in table {
        let line: Vec<String> = row
            .iter()
            .zip(width)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}

fn entries(global: &Global, args: &ListArgs, file: &std::path::Path) -> Exit {
    let mut filters = Vec::new();
    for f in &args.filters {
        match f.parse::<Filter>() {
            Ok(f) => filters.push(f),
            Err(e) => return fail(global, &e),
        }
    }
    let (opened, rel) = match open_doc(global, &args.state, file) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    let pointer = args.pointer.clone().unwrap_or_default();
    let mut found = match ops::list_entries(&opened.store, &rel, &pointer, &filters) {
        Ok(e) => e,
        Err(e) => return fail(global, &e),
    };
    let matched = found.len();
    found.truncate(args.limit.unwrap_or(usize::MAX));
    if global.format == OutputFormat::Json {
        let v = serde_json::json!({
            "file": rel,
            "pointer": pointer,
            "entries": found,
            "matched": matched,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Exit::Clean;
    }
    for e in &found {
        println!("{}", entry_line(e));
    }
    let shown = if matched > found.len() {
        format!(" (showing {})", found.len())
    } else {
        String::new()
    };
    let at = if pointer.is_empty() { "\"\"" } else { &pointer };
    let filtered = if filters.is_empty() {
        String::new()
    } else {
        " matching".to_owned()
    };
    println!(
        "{}{filtered} at {at} in {rel}{shown}",
        output::plural(matched, "entry").replace("entrys", "entries"),
    );
    Exit::Clean
}

/// `KEY  name=value name=value` (scalar members; nested ones as `{…}`/`[…]`).
fn entry_line(e: &Entry) -> String {
    let body = match &e.value {
        Value::Object(m) => m
            .iter()
            .map(|(k, v)| {
                let v = match v {
                    Value::Object(_) => "{…}".to_owned(),
                    Value::Array(a) => format!("[{} items]", a.len()),
                    Value::String(s) if s.contains(' ') || s.is_empty() => format!("{s:?}"),
                    other => plain(other),
                };
                format!("{k}={v}")
            })
            .collect::<Vec<_>>()
            .join(" "),
        Value::Array(a) => format!("[{} items]", a.len()),
        other => plain(other),
    };
    format!("{}  {body}", e.key)
}
