//! `statewright prune`.

use std::path::PathBuf;

use clap::Args;
use statewright::ops::{self, PruneRequest};

use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::ops_cli::{JsonArg, StateArg, context, fail, open_doc, open_state};
use crate::output;
use crate::store::lock_options;

/// Remove stale entries by the rules the project declares.
///
/// Rules live in statewright.toml per kind, as [[kinds.<kind>.prune]]
/// tables: `each` points at a map or array of entries; `status` and
/// `paths` flag an entry when a path its status requires is missing on
/// disk (status-aware: after upload the staging dir may be gone); and
/// `older_than = { field, days }` flags an entry whose timestamp is older.
///
/// A dry run by default: each entry that would go is listed with its rule
/// and reason, and the write is checked but not made. --apply removes them
/// all in one transaction through the store (validated, backed up,
/// audited). Without FILE, every document whose kind declares rules.
///
/// Examples:
///   statewright prune
///   statewright prune processed.json --rule failed-older-than-30d --apply
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct PruneArgs {
    /// Only this document.
    pub file: Option<PathBuf>,
    /// Only this rule (by name).
    #[arg(long, value_name = "NAME")]
    pub rule: Option<String>,
    /// Remove the entries (default: a dry run).
    #[arg(long)]
    pub apply: bool,
    #[command(flatten)]
    pub json: JsonArg,
    #[command(flatten)]
    pub state: StateArg,
}

pub fn run(global: &Global, args: PruneArgs) -> Exit {
    let (opened, rel) = match &args.file {
        Some(f) => match open_doc(global, &args.state, f) {
            Ok((o, r)) => (o, Some(r)),
            Err(exit) => return exit,
        },
        None => match open_state(global, &args.state) {
            Ok(o) => (o, None),
            Err(exit) => return exit,
        },
    };
    let req = PruneRequest {
        file: rel.as_deref(),
        rule: args.rule.as_deref(),
        now: jiff::Timestamp::now(),
        apply: args.apply,
    };
    let lock = lock_options(global, "prune");
    let report = match ops::prune(
        &opened.store,
        &opened.catalog,
        &lock,
        &context("prune"),
        &req,
    ) {
        Ok(r) => r,
        Err(e) => return fail(global, &e),
    };
    let files: Vec<&str> = report
        .writes
        .iter()
        .filter_map(|w| w.path.strip_prefix(&opened.dir).ok())
        .filter_map(|p| p.to_str())
        .collect();
    let mut entries: Vec<(&str, &str)> = report
        .stale
        .iter()
        .map(|s| (s.file.as_str(), s.pointer.as_str()))
        .collect();
    entries.dedup();
    if global.format == OutputFormat::Json {
        let v = serde_json::json!({
            "documents": report.documents,
            "stale": report.stale,
            "notes": report.notes,
            "entries": entries.len(),
            "applied": report.applied,
            "written": if report.applied { files.clone() } else { Vec::new() },
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Exit::Clean;
    }
    for s in &report.stale {
        println!("{} {} [{}]: {}", s.file, s.pointer, s.rule, s.reason);
    }
    for n in &report.notes {
        println!("note: {n}");
    }
    let n = output::plural(entries.len(), "entry").replace("entrys", "entries");
    let docs = output::plural(files.len(), "document");
    if entries.is_empty() {
        println!(
            "nothing to prune in {}",
            output::plural(report.documents.len(), "document")
        );
    } else if report.applied {
        println!("removed {n} from {docs}");
    } else {
        println!("dry run: {n} would be removed from {docs}; pass --apply to remove them");
    }
    Exit::Clean
}
