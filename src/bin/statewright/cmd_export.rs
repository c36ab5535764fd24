//! `statewright export`.

use std::io::Write;
use std::path::PathBuf;

use clap::Args;
use statewright::ops;

use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::ops_cli::{StateArg, fail, open_state};
use crate::output;
use crate::store::{error, lock_options};

/// Export a state directory as one portable bundle.
///
/// The bundle is one JSON file (format "statewright-export/1"): every file
/// of the state dir (documents, audit log and its rotations, backups and
/// the backup manifest; never the lock, journal or temps), each with its
/// content, and a manifest of every path with its size and sha256. It is
/// taken under the state lock, so no write lands half way through.
///
/// Without --output the bundle goes to stdout. With --output, --format json
/// prints {state_dir, output, files, bytes, manifest} on stdout. An
/// existing output file is refused unless --force; an output inside the
/// state dir always is.
///
/// Examples:
///   statewright export --output state-2026-12-03.json
///   statewright export | jq '.manifest[] | [.path, .sha256]'
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct ExportArgs {
    /// Write the bundle to FILE instead of stdout.
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Overwrite an existing output file.
    #[arg(long, requires = "output")]
    pub force: bool,
    #[command(flatten)]
    pub state: StateArg,
}

pub fn run(global: &Global, args: ExportArgs) -> Exit {
    let opened = match open_state(global, &args.state) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    if let Some(out) = &args.output
        && !args.force
        && out.exists()
    {
        return fail(global, &ops::OpsError::OutputExists { path: out.clone() });
    }
    let guard = match opened.store.lock(&lock_options(global, "export")) {
        Ok(g) => g,
        Err(e) => return error(global, &e),
    };
    let bundle = match ops::export(&opened.store, &opened.catalog, &guard) {
        Ok(b) => b,
        Err(e) => return fail(global, &e),
    };
    drop(guard);
    let bytes: u64 = bundle.manifest.iter().map(|m| m.bytes).sum();
    match &args.output {
        None => {
            let mut out = std::io::stdout().lock();
            if let Err(e) = out.write_all(&bundle.to_vec()).and_then(|()| out.flush()) {
                output::print_error(global, &format!("write stdout: {e}"), None);
                return Exit::Usage;
            }
        }
        Some(path) => {
            if let Err(e) = ops::write_bundle(&bundle, path, args.force, &opened.dir) {
                return fail(global, &e);
            }
            if global.format == OutputFormat::Json {
                let summary = serde_json::json!({
                    "state_dir": opened.dir,
                    "output": path,
                    "files": bundle.manifest.len(),
                    "bytes": bytes,
                    "manifest": bundle.manifest,
                });
                println!(
                    "{}",
                    serde_json::to_string_pretty(&summary).unwrap_or_default()
                );
                return Exit::Clean;
            }
            eprintln!(
                "exported {} ({bytes} bytes) from {} to {}",
                output::plural(bundle.manifest.len(), "file"),
                output::display_path(&opened.dir),
                output::display_path(path)
            );
        }
    }
    Exit::Clean
}
