//! `statewright init`.

use std::path::PathBuf;

use clap::Args;
use statewright::init::{AdoptReport, InitError, InitOptions, adopt, init};

use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::output::{display_path, print_error};

/// Create a new project: statewright.toml, schemas/, migrations/ and the
/// state directory.
///
/// Writes a commented statewright.toml (with a `#:schema` line for editors),
/// its JSON Schema statewright.schema.json, migrations/statewright.sum (no
/// migrations yet) and migrations/migration.schema.json, creates schemas/
/// and the state directory, and prints the commands to run next. Never
/// overwrites: when any of these files exists, nothing is written (exit 4).
///
/// With --adopt DIR, DIR is an existing folder of JSON, YAML or TOML files
/// that nobody wrote schemas for: it becomes the state directory, its files
/// are grouped into kinds by folder (config/*.json, runs/*/state.yaml, a
/// top-level file on its own), a v1 schema is inferred for each kind from
/// its documents (types, members every document has as required, small
/// closed string sets as enums, date-time/date/uuid/uri formats, maps
/// keyed by ids), up to three documents per kind are copied as fixtures
/// into schemas/<kind>/examples/v1/, and every document is checked against
/// its schema before anything is written. The documents are not changed.
///
/// Examples:
///   statewright init
///   statewright init my-project --state var/state
///   statewright init --adopt var/lib/mytool        # in the repository root
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InitArgs {
    /// The project folder (default: the current folder; created when missing).
    pub dir: Option<PathBuf>,
    /// The state directory, relative to the project folder.
    #[arg(long, value_name = "DIR", default_value = "state")]
    pub state: PathBuf,
    /// Adopt this existing folder of documents (relative to the project
    /// folder) as the state directory, inferring kinds and schemas.
    #[arg(long, value_name = "DIR", conflicts_with = "state")]
    pub adopt: Option<PathBuf>,
}

pub fn run(global: &Global, args: InitArgs) -> Exit {
    let root = args.dir.unwrap_or_else(|| PathBuf::from("."));
    if let Some(dir) = args.adopt {
        return match adopt(&root, &dir) {
            Ok(r) => show_adopted(global, &r),
            Err(e) => refused(global, e),
        };
    }
    let report = match init(&root, &InitOptions { state: args.state }) {
        Ok(r) => r,
        Err(e) => return refused(global, e),
    };
    if global.format == OutputFormat::Json {
        println!(
            "{}",
            serde_json::to_string_pretty(&report).unwrap_or_default()
        );
        return Exit::Clean;
    }
    println!("created a statewright project in {}:", shown(&root));
    for f in &report.files {
        println!("  {}", f.display());
    }
    for d in &report.dirs {
        println!("  {}/", d.display());
    }
    println!("\nnext:\n");
    for line in report.next_steps.lines() {
        println!("    {line}");
    }
    Exit::Clean
}

fn refused(global: &Global, e: InitError) -> Exit {
    print_error(global, &e.to_string(), e.help());
    match e {
        InitError::Exists { .. } | InitError::Inference { .. } => Exit::Refused,
        InitError::NothingToAdopt { .. } => Exit::Findings,
        _ => Exit::Usage,
    }
}

fn show_adopted(global: &Global, r: &AdoptReport) -> Exit {
    if global.format == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
        return Exit::Clean;
    }
    println!(
        "adopted {} as the state directory of a project in {}:",
        r.state,
        shown(&r.root)
    );
    for k in &r.kinds {
        let version = match &k.version_field {
            Some(p) => format!("version at {p}"),
            None => "unversioned, read as v1".to_owned(),
        };
        println!(
            "  kind {:<20} {:<28} {} document(s), {}, all valid against {}",
            k.name,
            k.path,
            k.documents.len(),
            version,
            k.schema.display()
        );
        for (field, pointer) in &k.moved_fields {
            println!(
                "      envelope field {field} moved to {pointer} (the documents use its name)"
            );
        }
    }
    for s in &r.skipped {
        println!("  skipped {}: {}", s.file, s.reason);
    }
    println!("wrote {} file(s)\n\nnext:\n", r.files.len());
    for line in r.next_steps.lines() {
        println!("    {line}");
    }
    Exit::Clean
}

/// The project folder as shown: relative to the current folder, `.` for it.
fn shown(root: &std::path::Path) -> String {
    match display_path(root) {
        s if s.is_empty() => ".".to_owned(),
        s => s,
    }
}
