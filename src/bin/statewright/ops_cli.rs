//! What the operator commands (get, set, rm, list, export, import, prune) share:
//! the `--state DIR` option, opening the store on a document, and the exit
//! code of an [`OpsError`].

use std::path::{Path, PathBuf};

use clap::Args;
use statewright::ops::{self, OpsError};
use statewright::store::WriteContext;

use crate::args::Global;
use crate::exit::Exit;
use crate::output;
use crate::store::{Opened, exit_for, open, open_after};

/// Which state dir.
#[derive(Debug, Args)]
pub struct StateArg {
    /// The state directory (default: the project's `[project] state`).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
}

/// `--json`, the shorthand scripts expect from listing commands.
#[derive(Debug, Args)]
pub struct JsonArg {
    /// The same as --format json.
    #[arg(long)]
    pub json: bool,
}

/// Opens the store of `state`.
pub fn open_state(global: &Global, state: &StateArg) -> Result<Opened, Exit> {
    open(global, state.state.as_deref())
}

/// Resolves `file` to a document inside the state dir, then opens the
/// store (a path outside the state dir is refused without touching it).
pub fn open_doc(global: &Global, state: &StateArg, file: &Path) -> Result<(Opened, String), Exit> {
    open_after(global, state.state.as_deref(), |dir, remote| {
        let resolved = match remote {
            true => ops::resolve_in_namespace(file),
            false => ops::resolve(dir, file),
        };
        resolved.map_err(|e| fail(global, &e))
    })
}

/// The exit code an operator error means: the store's for store errors
/// (3 lock held, 4 refused, 1 corrupt); 1 for a bundle that does not match
/// its manifest (`Bundle::verify`); 4 for an import refused (a newer bundle
/// format or schema version, a state dir copy newer or of another lineage);
/// 2 for everything else (bad pointer, bad value, missing parent, unknown
/// kind or rule, existing output, a bundle `import` cannot read).
pub fn exit_for_ops(e: &OpsError) -> Exit {
    match e {
        OpsError::Store(s) => exit_for(s),
        OpsError::BadBundle { .. } => Exit::Findings,
        OpsError::BundleFormat { newer: true, .. }
        | OpsError::BundleNewerVersion { .. }
        | OpsError::ImportRefused { .. } => Exit::Refused,
        _ => Exit::Usage,
    }
}

/// Prints an operator error and returns its exit code.
pub fn fail(global: &Global, e: &OpsError) -> Exit {
    let file = match e {
        OpsError::Store(s) => s.file().map(|f| (f, s.line_col())),
        _ => None,
    };
    output::print_error_in(global, file, &e.to_string(), None);
    exit_for_ops(e)
}

/// The write context of `command`.
pub fn context(command: &str) -> WriteContext {
    WriteContext::new(command)
}

/// A value for one line of human output: strings bare, the rest as JSON.
pub fn plain(v: &serde_json::Value) -> String {
    match v {
        serde_json::Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}
