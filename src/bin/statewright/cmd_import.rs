//! `statewright import`.

use std::path::PathBuf;

use clap::Args;
use statewright::ops::{self, Action, ImportReport, ImportRequest};

use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::ops_cli::{StateArg, context, fail, open_state};
use crate::output;
use crate::store::lock_options;

/// Import the documents of an export bundle into a state directory.
///
/// The bundle (from `statewright export`) is verified first: its format,
/// and every file's size and sha256 against its manifest; a bundle edited,
/// truncated or damaged after export is refused naming the file. Its
/// documents are then written through the store in one transaction, under
/// the state lock: all or none, each validated against its schema, the
/// replaced version backed up, one audit line each. A copy whose serial is
/// above every serial the document had here is written byte for byte as
/// exported (its serial, lineage, checksum and origin kept); a forced
/// import over a newer copy or another lineage is stamped anew (the next
/// serial above both, the bundle's lineage). The audit log and backups in
/// the bundle are not imported; the state dir keeps its own history.
///
/// A document the state dir already has is replaced only when its serial
/// is not newer than the bundle's, its lineage is the same and its schema
/// version not higher; otherwise the import is refused unless --force. A
/// copy equal to the bundle's is left alone, so a second import of the
/// same bundle writes nothing.
///
/// Examples:
///   statewright export --output state.json
///   statewright import state.json --state restored --dry-run
///   statewright import state.json --state restored
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ImportArgs {
    /// The bundle file written by `statewright export`.
    #[arg(value_name = "BUNDLE")]
    pub bundle: PathBuf,
    /// Check everything and print what would be written; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Replace documents that are newer, of another lineage, at a higher
    /// schema version or corrupt in the state dir.
    #[arg(long)]
    pub force: bool,
    #[command(flatten)]
    pub state: StateArg,
}

pub fn run(global: &Global, args: ImportArgs) -> Exit {
    let opened = match open_state(global, &args.state) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    let bundle = match ops::read_bundle(&args.bundle) {
        Ok(b) => b,
        Err(e) => return fail(global, &e),
    };
    let req = ImportRequest {
        bundle: &bundle,
        source: &args.bundle,
        dry_run: args.dry_run,
        force: args.force,
    };
    let lock = lock_options(global, "import");
    let report = match ops::import(&opened.store, &lock, &context("import"), &req) {
        Ok(r) => r,
        Err(e) => return fail(global, &e),
    };
    if global.format == OutputFormat::Json {
        let v = serde_json::json!({
            "bundle": output::display_path(&args.bundle),
            "state_dir": output::display_path(&opened.dir),
            "dry_run": args.dry_run,
            "written": report.written,
            "documents": report.documents,
            "skipped": report.skipped,
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return Exit::Clean;
    }
    print_human(&report, &args, &opened.dir);
    Exit::Clean
}

fn print_human(report: &ImportReport, args: &ImportArgs, dir: &std::path::Path) {
    let width = report
        .documents
        .iter()
        .map(|d| d.file.len())
        .max()
        .unwrap_or(0);
    for d in &report.documents {
        let before = d.serial_before.map_or("-".to_owned(), |s| s.to_string());
        let serial = match d.action {
            Action::Unchanged => format!("serial {before}"),
            _ => format!("serial {before} -> {}", d.serial_after),
        };
        println!("{:<9} {:<width$}  {serial}", d.action.name(), d.file);
    }
    let counts = format!(
        "{} created, {} replaced, {} unchanged",
        report.count(Action::Created),
        report.count(Action::Replaced),
        report.count(Action::Unchanged)
    );
    let docs = output::plural(report.documents.len(), "document");
    let (bundle, dir) = (
        output::display_path(&args.bundle),
        output::display_path(dir),
    );
    if args.dry_run {
        println!("dry run: {docs} from {bundle} into {dir} ({counts}); nothing written");
    } else {
        println!("imported {docs} from {bundle} into {dir} ({counts})");
    }
    if !report.skipped.is_empty() {
        println!(
            "not imported: {} of the exported state dir's own history (audit log, backups) or of no kind; the bundle keeps them",
            output::plural(report.skipped.len(), "file")
        );
    }
}
