//! `migrate new`: drafting the next migration file of a kind from the
//! diff of its schemas, numbered after the kind's last migration and
//! written once (never over an existing file).

use std::path::{Path, PathBuf};

use serde::Serialize;
use statewright_spec::migration::{MigrationSet, Op, parse_str};
use statewright_spec::{Catalog, Kind, OfflineRegistry, Project};

use super::error::MigrateError;
use crate::diff::{SchemaDiffOptions, diff_schemas, draft_migration};

/// A drafted migration file, as written.
#[derive(Debug, Clone, Serialize)]
pub struct NewMigration {
    /// The file written (`migrations/<kind>/<NNNN>_<name>.yaml`).
    pub file: PathBuf,
    /// The kind.
    pub kind: String,
    /// The version the step starts from.
    pub from: u32,
    /// The version it produces.
    pub to: u32,
    /// How many ops the draft holds (inside `each` blocks counted one by one).
    pub ops: usize,
    /// Suggested renames (comments).
    pub rename_suggestions: usize,
    /// Suggested moves (comments).
    pub move_suggestions: usize,
    /// Ops marked as losing data.
    pub lossy: usize,
    /// `TODO` comments left for the author.
    pub todos: usize,
    /// The draft's text.
    #[serde(skip)]
    pub text: String,
}

/// Drafts and writes the migration file for the oldest version of `kind`
/// that no migration reaches yet (so drafts are numbered in version order),
/// named `name` (default `to_v<N>`).
///
/// ```no_run
/// use statewright::migrate::new_migration;
/// use statewright::spec::{Catalog, Project};
///
/// let project = Project::load(std::path::Path::new("statewright.toml"))?;
/// let catalog = Catalog::load(&project)?;
/// let set = statewright::spec::migration::load_dir(&project.migrations_dir)?;
/// let drafted = new_migration(&project, &catalog, &set, "deploy-pins", None)?;
/// println!("drafted {} (v{} → v{})", drafted.file.display(), drafted.from, drafted.to);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn new_migration(
    project: &Project,
    catalog: &Catalog,
    set: &MigrationSet,
    kind: &str,
    name: Option<&str>,
) -> Result<NewMigration, MigrateError> {
    let k = catalog
        .kind(kind)
        .ok_or_else(|| MigrateError::UnknownKind {
            kind: kind.to_owned(),
        })?;
    let to = next_version(project, k, set)?;
    let from = to - 1;
    let name = name.map_or_else(|| format!("to_v{to}"), str::to_owned);
    let named = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
    if !named {
        return Err(MigrateError::BadName { name });
    }
    let text = draft_text(project, k, from)?;
    let number = set
        .of_kind(kind)
        .filter_map(|m| m.id.get(..4)?.parse::<u32>().ok())
        .max()
        .unwrap_or(0)
        + 1;
    let file_name = format!("{number:04}_{name}.yaml");
    let draft_error = |message: String| MigrateError::Draft {
        kind: kind.to_owned(),
        from,
        message,
    };
    let parsed = parse_str(&file_name, &text).map_err(|e| {
        draft_error(format!(
            "the draft does not parse ({e}); report this as a bug, with the two schemas"
        ))
    })?;
    let file = project.migrations_dir.join(kind).join(&file_name);
    write_new(&file, &text)?;
    Ok(NewMigration {
        ops: count_ops(&parsed.file.ops),
        rename_suggestions: text.matches("# possible rename").count(),
        move_suggestions: text.matches("# possible move").count(),
        lossy: text.matches("# LOSSY").count(),
        todos: text.matches("# TODO").count(),
        file,
        kind: kind.to_owned(),
        from,
        to,
        text,
    })
}

/// The oldest version above the first that no migration reaches.
fn next_version(project: &Project, k: &Kind, set: &MigrationSet) -> Result<u32, MigrateError> {
    let first = *k.versions.keys().next().unwrap_or(&1);
    let latest = k.latest().version;
    if let Some(v) = (first + 1..=latest).find(|&v| set.step_from(&k.name, v - 1).is_none()) {
        return Ok(v);
    }
    let add = format!(
        "{}/{}/v{}.json",
        in_project(project, &project.schemas_dir).display(),
        k.name,
        latest + 1
    );
    match set.step_from(&k.name, latest.saturating_sub(1)) {
        Some(m) if latest > first => Err(MigrateError::AlreadyDrafted {
            kind: k.name.clone(),
            latest,
            file: in_project(project, &m.path).to_owned(),
            add,
        }),
        _ => Err(MigrateError::NothingToDraft {
            kind: k.name.clone(),
            latest,
            add,
        }),
    }
}

/// The draft of step `from` → `from + 1` of `k`.
fn draft_text(project: &Project, k: &Kind, from: u32) -> Result<String, MigrateError> {
    let to = from + 1;
    let (Some(sa), Some(sb)) = (k.version(from), k.version(to)) else {
        return Err(MigrateError::NoPreviousSchema {
            kind: k.name.clone(),
            from,
            to,
        });
    };
    let opts = SchemaDiffOptions::new()
        .with_registry(OfflineRegistry::for_project(project))
        .with_bases(file_uri(&sa.path), file_uri(&sb.path));
    let diff = diff_schemas(&sa.schema, &sb.schema, &opts).map_err(|e| MigrateError::Draft {
        kind: k.name.clone(),
        from,
        message: e.to_string(),
    })?;
    Ok(draft_migration(
        &k.name,
        from,
        &sa.schema,
        &sb.schema,
        &diff,
        &k.spec.fields.version,
    ))
}

/// `p` relative to the project's folder, as messages show it.
fn in_project<'p>(project: &Project, p: &'p Path) -> &'p Path {
    p.strip_prefix(&project.root).unwrap_or(p)
}

fn file_uri(p: &Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    format!("file://{}", abs.display())
}

fn count_ops(ops: &[Op]) -> usize {
    ops.iter()
        .map(|o| match o {
            Op::Each(e) => count_ops(&e.ops),
            _ => 1,
        })
        .sum()
}

/// Writes a new file through the store's durable write, refusing to
/// replace one: a crash leaves no draft or the whole of it.
fn write_new(path: &Path, text: &str) -> Result<(), MigrateError> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|source| MigrateError::Io {
        path: dir.to_owned(),
        source,
    })?;
    let fs = crate::store::RealFs;
    match crate::store::atomic::create_file(&fs, path, text.as_bytes(), 0o644) {
        Ok(true) => Ok(()),
        Ok(false) => Err(MigrateError::Exists {
            path: path.to_owned(),
        }),
        Err(e) => Err(MigrateError::Io {
            path: path.to_owned(),
            source: std::io::Error::other(e),
        }),
    }
}
