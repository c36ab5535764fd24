//! `statewright migrate new`: draft the migration file of a kind's newest
//! schema version from the schema diff.

use clap::Args;
use serde_json::json;
use statewright::migrate::{MigrateError, NewMigration, new_migration};
use statewright::spec::migration::load_dir;

use crate::args::{Global, OutputFormat};
use crate::cmd_diff::catalog;
use crate::exit::Exit;
use crate::output;

/// Draft the migration file for the newest schema version of a kind.
///
/// Picks the oldest version vN of KIND that no migration file reaches yet,
/// diffs v(N-1) and vN, and writes migrations/<kind>/<NNNN>_<name>.yaml:
/// `add` with the schema's default for each new required (or defaulted)
/// property, `remove` for each removed one, candidate renames (a removed
/// and an added property of the same type) as commented suggestions, and
/// TODO comments for type or enum changes that need a `convert`. Review the
/// draft, then run `statewright migrate hash` to record it in the sum file.
/// Never overwrites an existing file (exit 4).
///
/// Examples:
///   statewright migrate new deploy-pins
///   statewright migrate new deploy-pins --name owners_and_instances
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct NewArgs {
    /// The document kind (a [kinds.<name>] of statewright.toml).
    pub kind: String,
    /// The file name after the number: lower-case letters, digits and `_`
    /// (default: to_v<N>).
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
}

pub fn run(global: &Global, args: NewArgs) -> Exit {
    let (project, catalog) = match catalog(global, "`migrate new`") {
        Ok(x) => x,
        Err((message, help)) => {
            output::print_error(global, &message, help.as_deref());
            return Exit::Usage;
        }
    };
    let set = match load_dir(&project.migrations_dir) {
        Ok(s) => s,
        Err(e) => return crate::cmd_migrate::fail(global, &MigrateError::Files(e)),
    };
    match new_migration(&project, &catalog, &set, &args.kind, args.name.as_deref()) {
        Ok(drafted) => {
            print(global, &drafted);
            Exit::Clean
        }
        Err(e) => crate::cmd_migrate::fail(global, &e),
    }
}

fn print(global: &Global, d: &NewMigration) {
    let shown = output::display_path(&d.file);
    if global.format == OutputFormat::Json {
        let mut v = serde_json::to_value(d).unwrap_or_default();
        v["file"] = json!(shown);
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    println!(
        "drafted {shown} ({} v{} → v{}): {}, {}, {}, {}, {}",
        d.kind,
        d.from,
        d.to,
        output::plural(d.ops, "op"),
        output::plural(d.lossy, "lossy op"),
        output::plural(d.rename_suggestions, "rename suggestion"),
        output::plural(d.move_suggestions, "move suggestion"),
        output::plural(d.todos, "TODO"),
    );
    println!(
        "review it (description, defaults, lossy ops, suggested renames and moves), then run `statewright migrate hash`"
    );
}
