//! The catalog: every document kind the project declares, with the schema
//! versions found on disk as `schemas/<kind>/v<N>.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value;

use crate::document::{self, Format, ParseLimits};
use crate::project::{KindSpec, Project, ProjectError};

/// One schema version of a kind.
#[derive(Debug, Clone)]
pub struct SchemaVersion {
    /// The version number `N` of `v<N>.json`.
    pub version: u32,
    /// The schema file.
    pub path: PathBuf,
    /// The parsed schema.
    pub schema: Value,
}

/// A document kind: its project-file settings and its schema versions.
#[derive(Debug, Clone)]
pub struct Kind {
    /// The kind's name (`env-config`).
    pub name: String,
    /// Its `[kinds.<name>]` settings.
    pub spec: KindSpec,
    /// Schema versions, ascending.
    pub versions: BTreeMap<u32, SchemaVersion>,
}

impl Kind {
    /// The newest schema version.
    pub fn latest(&self) -> &SchemaVersion {
        // A kind is only built with at least one version.
        self.versions
            .values()
            .next_back()
            .expect("kind has a version")
    }

    /// The schema of one version, if the catalog has it.
    pub fn version(&self, v: u32) -> Option<&SchemaVersion> {
        self.versions.get(&v)
    }
}

/// All kinds of a project.
#[derive(Debug, Clone)]
pub struct Catalog {
    /// The project the catalog was loaded from.
    pub project: Project,
    /// Kinds by name.
    pub kinds: BTreeMap<String, Kind>,
}

impl Catalog {
    /// Loads every kind's schemas from the project's schemas dir.
    pub fn load(project: &Project) -> Result<Catalog, ProjectError> {
        let mut kinds = BTreeMap::new();
        for (name, spec) in &project.kinds {
            let dir = project.schemas_dir.join(name);
            let versions = load_versions(&dir)?;
            if versions.is_empty() {
                return Err(ProjectError::Invalid {
                    path: project.file.clone(),
                    at: None,
                    message: format!(
                        "kind `{name}` has no schema: no v<N>.json in {}",
                        dir.display()
                    ),
                    help: format!("add {}/v1.json, or remove [kinds.{name}]", dir.display()),
                });
            }
            kinds.insert(
                name.clone(),
                Kind {
                    name: name.clone(),
                    spec: spec.clone(),
                    versions,
                },
            );
        }
        Ok(Catalog {
            project: project.clone(),
            kinds,
        })
    }

    /// The kind whose path pattern matches `relative` (a path inside the
    /// state dir). The first match in name order wins.
    pub fn kind_for(&self, relative: &Path) -> Option<&Kind> {
        let rel = relative.to_string_lossy().replace('\\', "/");
        self.kinds
            .values()
            .find(|k| crate::glob::matches(&k.spec.path, &rel))
    }

    /// A kind by name.
    pub fn kind(&self, name: &str) -> Option<&Kind> {
        self.kinds.get(name)
    }
}

fn load_versions(dir: &Path) -> Result<BTreeMap<u32, SchemaVersion>, ProjectError> {
    let mut out = BTreeMap::new();
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(source) => {
            return Err(ProjectError::Read {
                path: dir.to_owned(),
                source,
            });
        }
    };
    for entry in entries {
        let entry = entry.map_err(|source| ProjectError::Read {
            path: dir.to_owned(),
            source,
        })?;
        let name = entry.file_name();
        let Some(version) = parse_version_file_name(&name.to_string_lossy()) else {
            continue;
        };
        let path = entry.path();
        let schema = read_json(&path)?;
        out.insert(
            version,
            SchemaVersion {
                version,
                path,
                schema,
            },
        );
    }
    Ok(out)
}

/// `v12.json` → 12.
pub fn parse_version_file_name(name: &str) -> Option<u32> {
    name.strip_prefix('v')?.strip_suffix(".json")?.parse().ok()
}

/// Reads and strictly parses a JSON file (schemas, fixtures).
pub fn read_json(path: &Path) -> Result<Value, ProjectError> {
    let bytes = std::fs::read(path).map_err(|source| ProjectError::Read {
        path: path.to_owned(),
        source,
    })?;
    let format = Format::from_path(path).unwrap_or(Format::Json);
    let source = document::decode(path, bytes, format)?;
    Ok(document::parse(&source, ParseLimits::default())?)
}

/// Reads a document's schema version from the value at `pointer`: an
/// integer, or a string whose leading number counts (`"2"`, `"1.0.0"`).
pub fn version_of(doc: &Value, pointer: &str) -> Result<u32, VersionProblem> {
    let v = doc.pointer(pointer).ok_or(VersionProblem::Missing)?;
    match v {
        Value::Number(n) => n
            .as_u64()
            .and_then(|n| u32::try_from(n).ok())
            .ok_or_else(|| VersionProblem::NotAVersion(v.to_string())),
        Value::String(s) => s
            .split('.')
            .next()
            .and_then(|m| m.parse().ok())
            .ok_or_else(|| VersionProblem::NotAVersion(v.to_string())),
        other => Err(VersionProblem::NotAVersion(other.to_string())),
    }
}

/// Why a document's version could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum VersionProblem {
    /// No value at the version pointer.
    Missing,
    /// A value that is not a non-negative integer or version string.
    NotAVersion(String),
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn versions() {
        assert_eq!(parse_version_file_name("v3.json"), Some(3));
        assert_eq!(parse_version_file_name("v3.yaml"), None);
        assert_eq!(version_of(&json!({"v": 2}), "/v"), Ok(2));
        assert_eq!(version_of(&json!({"v": "1.0.0"}), "/v"), Ok(1));
        assert_eq!(version_of(&json!({}), "/v"), Err(VersionProblem::Missing));
        assert_eq!(
            version_of(&json!({"v": -1}), "/v"),
            Err(VersionProblem::NotAVersion("-1".into()))
        );
    }
}
