//! The migration steps between two versions of a kind of the project's
//! catalog, each with the coverage of its backward-incompatible changes
//! (what `diff --kind K N M` and `diff A B` on two catalog schemas show
//! after the changes).

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use statewright_spec::catalog::parse_version_file_name;
use statewright_spec::migration::{MigrationFile, MigrationSet, load_dir};
use statewright_spec::{Catalog, OfflineRegistry, Project};

use crate::diff::{
    Compatibility, Coverage, DiffError, SchemaDiff, SchemaDiffOptions, coverage, diff_schemas,
};

/// One migration step, with the coverage of each change it must handle.
#[derive(Debug, Clone, Serialize)]
pub struct StepCoverage {
    /// The kind.
    pub kind: String,
    /// The version the step starts from (it ends at `from + 1`).
    pub from: u32,
    /// The migration file (none: every change is uncovered).
    pub file: Option<PathBuf>,
    /// Each backward-incompatible change and whether the step handles it.
    pub items: Vec<Coverage>,
}

/// The kind and version of `path` when it is a schema of the project's
/// catalog (`<schemas>/<kind>/v<N>.json` of a declared kind).
pub fn catalog_version_of(project: &Project, path: &Path) -> Option<(String, u32)> {
    let abs = path.canonicalize().ok()?;
    let rel = abs
        .strip_prefix(project.schemas_dir.canonicalize().ok()?)
        .ok()?;
    let mut parts = rel.iter();
    let kind = parts.next()?.to_string_lossy().into_owned();
    let v = parse_version_file_name(&parts.next()?.to_string_lossy())?;
    (parts.next().is_none() && project.kinds.contains_key(&kind)).then_some((kind, v))
}

/// Where documents of `kind` keep their version.
pub fn version_pointer<'a>(project: &'a Project, kind: &str) -> &'a str {
    project
        .kinds
        .get(kind)
        .map_or("/schema_version", |k| k.fields.version.as_str())
}

/// The coverage of each migration step of `kind` from `va` to `vb`:
/// `diff` (the diff of `a` and `b`, versions `va` and `vb`) when they are
/// adjacent, else one backward diff per step.
pub fn step_coverage(
    project: &Project,
    kind: &str,
    (va, vb): (u32, u32),
    (a, b, diff): (&Value, &Value, &SchemaDiff),
) -> Result<Vec<StepCoverage>, DiffError> {
    let set = load_dir(&project.migrations_dir).map_err(|e| DiffError::Project {
        message: e.to_string(),
        help: e.help().map(str::to_owned),
    })?;
    let version = version_pointer(project, kind);
    if vb == va + 1 {
        return Ok(vec![step(&set, kind, va, (a, b, diff), version)]);
    }
    let catalog = Catalog::load(project).map_err(|e| DiffError::Project {
        message: e.to_string(),
        help: e.help().map(str::to_owned),
    })?;
    let k = catalog.kind(kind).ok_or_else(|| DiffError::Project {
        message: format!("no kind `{kind}` in the catalog"),
        help: None,
    })?;
    let opts = SchemaDiffOptions::new()
        .with_registry(OfflineRegistry::for_project(project))
        .with_compatibility(Compatibility::Backward);
    let mut steps = Vec::new();
    for from in va..vb {
        let (Some(x), Some(y)) = (k.version(from), k.version(from + 1)) else {
            continue;
        };
        let opts = opts
            .clone()
            .with_bases(file_uri(&x.path), file_uri(&y.path))
            .with_version_field(version, from, from + 1);
        let d = diff_schemas(&x.schema, &y.schema, &opts)?;
        steps.push(step(&set, kind, from, (&x.schema, &y.schema, &d), version));
    }
    Ok(steps)
}

/// `file:///abs/path` of a file, the base its `$ref`s resolve against.
pub fn file_uri(p: &Path) -> String {
    let abs = std::path::absolute(p).unwrap_or_else(|_| p.to_owned());
    format!("file://{}", abs.display())
}

fn step(
    set: &MigrationSet,
    kind: &str,
    from: u32,
    (a, b, diff): (&Value, &Value, &SchemaDiff),
    version: &str,
) -> StepCoverage {
    let (file, m) = match set.step_from(kind, from) {
        Some(m) => (Some(m.path.clone()), m.file.clone()),
        None => (
            None,
            // No file: nothing is covered.
            MigrationFile {
                kind: kind.to_owned(),
                from,
                to: from + 1,
                description: String::new(),
                ops: Vec::new(),
            },
        ),
    };
    StepCoverage {
        kind: kind.to_owned(),
        from,
        file,
        items: coverage(a, b, diff, &m, version),
    }
}
