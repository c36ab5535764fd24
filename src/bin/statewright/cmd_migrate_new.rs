//! `statewright migrate new`: draft the migration file of a kind's newest
//! schema version from the schema diff.

use std::io::Write as _;
use std::path::Path;

use clap::Args;
use serde_json::json;
use statewright::diff::{SchemaDiffOptions, diff_schemas, draft_migration};
use statewright::spec::migration::{Op, load_dir, parse_str};

use crate::args::{Global, OutputFormat};
use crate::cmd_diff::{Fail, catalog, file_uri, kind, registry};
use crate::exit::Exit;
use crate::output;

/// Draft the migration file for the newest schema version of a kind.
///
/// Picks the newest version vN of KIND that no migration file reaches yet,
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
    match draft(global, &args) {
        Ok(exit) => exit,
        Err((message, help)) => {
            output::print_error(global, &message, help.as_deref());
            Exit::Usage
        }
    }
}

fn draft(global: &Global, args: &NewArgs) -> Result<Exit, Fail> {
    let (project, catalog) = catalog(global, "`migrate new`")?;
    let k = kind(&catalog, &args.kind)?;
    let set = load_dir(&project.migrations_dir)
        .map_err(|e| (e.to_string(), e.help().map(str::to_owned)))?;
    let latest = k.latest().version;
    let Some(to) = k
        .versions
        .keys()
        .rev()
        .copied()
        .find(|&v| v > 1 && set.step_from(&args.kind, v - 1).is_none())
    else {
        let add = format!(
            "{}/{}/v{}.json",
            output::display_path(&project.schemas_dir),
            args.kind,
            latest + 1
        );
        let Some(m) = set.step_from(&args.kind, latest.saturating_sub(1)) else {
            return Err((
                format!(
                    "`{}` has only v{latest}: there is no version to migrate to",
                    args.kind
                ),
                Some(format!("add {add} first")),
            ));
        };
        let message = format!(
            "v{latest} of `{}` already has its migration {}; not overwritten",
            args.kind,
            output::display_path(&m.path)
        );
        let help = format!("edit that file, or add {add} and draft its migration");
        output::print_error(global, &message, Some(&help));
        return Ok(Exit::Refused);
    };
    let from = to - 1;
    let Some(sa) = k.version(from) else {
        return Err((
            format!(
                "kind `{}` has v{to} but no v{from} to diff it with",
                args.kind
            ),
            Some(format!("add schemas/{}/v{from}.json", args.kind)),
        ));
    };
    let sb = k.version(to).expect("a listed version");
    let name = args.name.clone().unwrap_or_else(|| format!("to_v{to}"));
    if name.is_empty()
        || !name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_')
    {
        return Err((
            format!("--name `{name}` is not a migration name"),
            Some("use lower-case letters, digits and `_` (owners_and_instances)".into()),
        ));
    }
    let dir = project.migrations_dir.join(&args.kind);
    let number = set
        .of_kind(&args.kind)
        .filter_map(|m| m.id.get(..4)?.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    let path = dir.join(format!("{number:04}_{name}.yaml"));
    let opts = SchemaDiffOptions::new()
        .with_registry(registry(Some(&project)))
        .with_bases(file_uri(&sa.path), file_uri(&sb.path));
    let diff = diff_schemas(&sa.schema, &sb.schema, &opts).map_err(|e| (e.to_string(), None))?;
    let text = draft_migration(
        &args.kind,
        from,
        &sa.schema,
        &sb.schema,
        &diff,
        &k.spec.fields.version,
    );
    let parsed = parse_str(&format!("{number:04}_{name}.yaml"), &text).map_err(|e| {
        (
            format!("the drafted migration does not parse: {e}"),
            Some("report this as a bug, with the two schemas".into()),
        )
    })?;
    if let Err(e) = write_new(&path, &text) {
        return Ok(if e.kind() == std::io::ErrorKind::AlreadyExists {
            output::print_error(
                global,
                &format!(
                    "{} already exists; not overwritten",
                    output::display_path(&path)
                ),
                Some("edit that file, or choose another --name"),
            );
            Exit::Refused
        } else {
            output::print_error(
                global,
                &format!("cannot write {}: {e}", output::display_path(&path)),
                None,
            );
            Exit::Usage
        });
    }
    let ops = count_ops(&parsed.file.ops);
    let suggestions = text.matches("# possible rename").count();
    let todos = text.matches("# TODO").count();
    let shown = output::display_path(&path);
    match global.format {
        OutputFormat::Json => println!(
            "{}",
            serde_json::to_string_pretty(&json!({
                "file": shown,
                "kind": args.kind,
                "from": from,
                "to": to,
                "ops": ops,
                "rename_suggestions": suggestions,
                "todos": todos,
            }))
            .unwrap_or_default()
        ),
        _ => {
            println!(
                "drafted {shown} ({} v{from} → v{to}): {}, {}, {}",
                args.kind,
                output::plural(ops, "op"),
                output::plural(suggestions, "rename suggestion"),
                output::plural(todos, "TODO"),
            );
            println!(
                "review it (description, defaults, suggested renames), then run `statewright migrate hash`"
            );
        }
    }
    Ok(Exit::Clean)
}

fn count_ops(ops: &[Op]) -> usize {
    ops.iter()
        .map(|o| match o {
            Op::Each(e) => count_ops(&e.ops),
            _ => 1,
        })
        .sum()
}

/// Writes a new file, refusing to replace one (`AlreadyExists`).
fn write_new(path: &Path, text: &str) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut f = std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .open(path)?;
    f.write_all(text.as_bytes())?;
    f.sync_all()
}
