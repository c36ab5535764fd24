//! `statewright audit`: the audit log's hash chain.

use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use statewright::store::StoreError;

use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::output;
use crate::store;

/// Verify the audit log's hash chain.
///
/// Examples:
///   statewright audit verify
///   statewright audit verify --state path/to/state --format json
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct AuditArgs {
    #[command(subcommand)]
    pub action: AuditAction,
}

/// What to do with the audit log.
#[derive(Debug, Subcommand)]
pub enum AuditAction {
    /// Check every line of audit.log (and its rotated files, oldest
    /// first): each line's own hash, that it chains to the line before,
    /// and that the first line starts the log or follows a rotation. Exit
    /// 0 when intact; 1 naming the file:line of the first edited, removed,
    /// inserted or reordered line, or when the log is missing or empty
    /// although documents were written.
    Verify {
        /// The state directory (default: the project's).
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
}

pub fn run(global: &Global, args: AuditArgs) -> Exit {
    let AuditAction::Verify { state } = args.action;
    let opened = match store::open_read_only(global, state.as_deref()) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    match opened.store.verify_audit() {
        Ok(n) => {
            match global.format {
                OutputFormat::Json => println!(
                    "{}",
                    serde_json::json!({"ok": true, "verified": n, "dir": opened.dir})
                ),
                _ => println!(
                    "audit log in {}: {} verified, chain intact",
                    output::display_path(&opened.dir),
                    output::plural(n, "line")
                ),
            }
            Exit::Clean
        }
        Err(StoreError::AuditBroken {
            path,
            line,
            message,
        }) => {
            let human = format!(
                "{}:{line}: audit chain broken: {message}",
                output::display_path(&path)
            );
            let help = "the log was changed after it was written; restore it from a copy you trust, and find out who edited it";
            failed(global, &path, Some(line), &message, &human, help)
        }
        Err(StoreError::AuditMissing { path, evidence }) => {
            let message = format!(
                "{}: the audit log is missing or empty, but the store has written in this state dir ({evidence})",
                output::display_path(&path)
            );
            let help = "the log was removed or emptied outside statewright; restore audit.log (and its rotated files) from a copy you trust, and find out who removed it";
            failed(global, &path, None, &message, &message, help)
        }
        Err(e) => store::error(global, &e),
    }
}

/// Reports a log that fails verification (`line`: where, when it is one
/// line): `message` in JSON, `human` with `help` otherwise. Exit 1.
fn failed(
    global: &Global,
    path: &Path,
    line: Option<usize>,
    message: &str,
    human: &str,
    help: &str,
) -> Exit {
    match global.format {
        OutputFormat::Json => println!(
            "{}",
            serde_json::json!({"ok": false, "file": path, "line": line, "message": message})
        ),
        _ => output::print_error(global, human, Some(help)),
    }
    Exit::Findings
}
