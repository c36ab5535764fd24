//! `statewright init`.

use std::path::PathBuf;

use clap::Args;
use statewright::init::{InitError, InitOptions, init};

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
/// Examples:
///   statewright init
///   statewright init my-project --state var/state
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct InitArgs {
    /// The project folder (default: the current folder; created when missing).
    pub dir: Option<PathBuf>,
    /// The state directory, relative to the project folder.
    #[arg(long, value_name = "DIR", default_value = "state")]
    pub state: PathBuf,
}

pub fn run(global: &Global, args: InitArgs) -> Exit {
    let root = args.dir.unwrap_or_else(|| PathBuf::from("."));
    let report = match init(&root, &InitOptions { state: args.state }) {
        Ok(r) => r,
        Err(e) => {
            print_error(global, &e.to_string(), e.help());
            return match e {
                InitError::Exists { .. } => Exit::Refused,
                _ => Exit::Usage,
            };
        }
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

/// The project folder as shown: relative to the current folder, `.` for it.
fn shown(root: &std::path::Path) -> String {
    match display_path(root) {
        s if s.is_empty() => ".".to_owned(),
        s => s,
    }
}
