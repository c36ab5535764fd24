//! The project file, `statewright.toml`: where schemas, migrations and the
//! state directory live, and one `[kinds.<name>]` table per document kind.
//!
//! ```toml
//! [project]
//! schemas = "schemas"
//! migrations = "migrations"
//! state = "examples/state"
//!
//! [kinds.mamfast-processed]
//! path = "processed.json"
//! [kinds.mamfast-processed.fields]
//! version = "/version"
//! ```

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use schemars::JsonSchema;
use serde::Deserialize;

use crate::document::{Format, Position, position_of};

/// The project file's name.
pub const PROJECT_FILE: &str = "statewright.toml";

/// The JSON Schema of the project file, checked in at the repository root
/// and written by `statewright init` next to the project file, where
/// taplo's `#:schema` directive points editors at it.
pub const SCHEMA_FILE: &str = "statewright.schema.json";

/// The JSON Schema of `statewright.toml`, generated from the Rust types
/// that read it, as pretty JSON with a trailing newline.
pub fn json_schema() -> String {
    let schema = schemars::schema_for!(ProjectFile);
    let mut text = serde_json::to_string_pretty(&schema).expect("a schema serializes");
    text.push('\n');
    text
}

/// A loaded project file, with every path made absolute.
#[derive(Debug, Clone)]
pub struct Project {
    /// The project file itself.
    pub file: PathBuf,
    /// The folder holding the project file; relative paths start here.
    pub root: PathBuf,
    /// Where `<kind>/v<N>.json` schemas live.
    pub schemas_dir: PathBuf,
    /// Where `<kind>/<NNNN>_<name>.yaml` migrations live.
    pub migrations_dir: PathBuf,
    /// The default state directory (not a folder when the state is kept
    /// in a database: see `state_url`).
    pub state_dir: PathBuf,
    /// `[project] state` when it names a database instead of a folder
    /// (`postgres://HOST:PORT/DATABASE?namespace=NAME`), as written.
    pub state_url: Option<String>,
    /// Offline `$ref` mappings: URL prefix → folder.
    pub schema_dirs: BTreeMap<String, PathBuf>,
    /// The document kinds, by name.
    pub kinds: BTreeMap<String, KindSpec>,
    /// How many rolling backups the store keeps per document.
    pub backups: usize,
    /// Whether reads restore a corrupt document from its newest good backup.
    pub recover: bool,
    /// The `[diff]` table.
    pub diff: DiffSpec,
}

/// The `[diff]` table: how schema diffs grade changes.
#[derive(Debug, Clone, Default, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct DiffSpec {
    /// Which direction a schema change must keep (`backward`, the
    /// default: a reader on the new schema reads documents written under
    /// the old one; `forward`; `full`; `none`).
    pub compatibility: DiffCompatibility,
}

/// `[diff] compatibility`, as schema registries name the modes.
#[derive(Debug, Clone, Copy, Default, Deserialize, PartialEq, Eq, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum DiffCompatibility {
    /// The new schema reads documents written under the old one.
    #[default]
    Backward,
    /// The old schema reads documents written under the new one.
    Forward,
    /// Both.
    Full,
    /// No direction is checked.
    None,
}

/// One `[kinds.<name>]` table.
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct KindSpec {
    /// What the documents of this kind are, for people.
    #[serde(default)]
    pub description: Option<String>,
    /// Path pattern inside the state dir (`config/*.json`, `**/state.yaml`).
    pub path: String,
    /// File format; by default taken from the path's extension.
    #[serde(default)]
    pub format: Option<Format>,
    /// Whether documents of this kind must carry provenance.
    #[serde(default)]
    pub provenance: bool,
    /// Where the envelope fields live in the document.
    #[serde(default)]
    pub fields: EnvelopeFields,
    /// Entries that point at artifact files with their expected sha256.
    #[serde(default)]
    pub artifacts: Vec<ArtifactRule>,
    /// Rules saying which entries `statewright prune` may remove.
    #[serde(default)]
    pub prune: Vec<PruneRule>,
    /// JSON pointers whose values the secret scan leaves alone (false
    /// positives such as a documented example key); a `*` token matches
    /// any one member name or index. The pointer covers its subtree.
    #[serde(default)]
    pub secrets_allow: Vec<String>,
    /// How `statewright diff --drift` finds the template manifest each
    /// document of this kind was generated from; a kind without it is not
    /// compared unless `--kind` and `--manifest` name it.
    #[serde(default)]
    pub drift: Option<DriftRule>,
    /// The version a document with no value at `fields.version` is read
    /// as: files written before the kind had a version field (an adopted
    /// folder). The store's next write of such a document stamps it. Unset,
    /// a missing version is an error (SW011).
    #[serde(default)]
    pub unversioned: Option<u32>,
}

/// `[kinds.<name>.drift]`: where a state document's template manifest is.
/// The manifest's path is `manifest` with `{stem}` replaced by the value
/// at `template` in the document, less the first of `strip` it ends with;
/// relative to the folder holding the state dir (the repository root).
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct DriftRule {
    /// JSON pointer, in the state document, of the template's path.
    pub template: String,
    /// The manifest's path, with `{stem}` for the template's path less
    /// its suffix.
    pub manifest: String,
    /// Suffixes taken off the template's path to give `{stem}` (the first
    /// that matches).
    #[serde(default)]
    pub strip: Vec<String>,
}

/// `[[kinds.<name>.artifacts]]`: each entry of the map or array at `each`
/// names a file (`path`, relative to the state dir) and the sha256 it must
/// have (`sha256`, 64 hex digits, optionally prefixed `sha256:`).
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ArtifactRule {
    /// Pointer to the map or array of entries.
    pub each: String,
    /// Pointer, inside an entry, to the artifact's path.
    pub path: String,
    /// Pointer, inside an entry, to its expected sha256.
    pub sha256: String,
}

/// `[[kinds.<name>.prune]]`: which entries of the map or array at `each`
/// are stale. An entry is stale when a path its status requires is missing
/// on disk (`paths`, keyed by the value at `status`), or when the time at
/// `older_than.field` is more than `older_than.days` days ago.
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PruneRule {
    /// The rule's name (`prune --rule NAME`).
    pub name: String,
    /// Pointer to the map or array of entries.
    pub each: String,
    /// Pointer, inside an entry, to its status.
    #[serde(default)]
    pub status: Option<String>,
    /// Status → pointers (inside an entry) to paths that must exist.
    #[serde(default)]
    pub paths: BTreeMap<String, Vec<String>>,
    /// Time-based staleness.
    #[serde(default)]
    pub older_than: Option<OlderThan>,
}

/// Entries whose timestamp is older than a number of days.
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct OlderThan {
    /// Pointer, inside an entry, to an RFC 3339 timestamp.
    pub field: String,
    /// Age in days beyond which the entry is stale.
    pub days: u64,
}

impl KindSpec {
    /// The schema version of `doc`: the value at `fields.version`, or
    /// [`KindSpec::unversioned`] when there is none.
    pub fn version_of(
        &self,
        doc: &serde_json::Value,
    ) -> Result<u32, crate::catalog::VersionProblem> {
        match crate::catalog::version_of(doc, &self.fields.version) {
            Err(crate::catalog::VersionProblem::Missing) => self
                .unversioned
                .ok_or(crate::catalog::VersionProblem::Missing),
            other => other,
        }
    }

    /// The format documents of this kind are read and written in.
    pub fn format(&self) -> Format {
        self.format
            .or_else(|| Format::from_path(Path::new(&self.path)))
            .unwrap_or(Format::Json)
    }
}

/// JSON pointers to the envelope fields inside a document, so that adopted
/// files keep their own names (`/version`, `/schemaVersion`).
#[derive(Debug, Clone, Deserialize, PartialEq, JsonSchema)]
#[serde(deny_unknown_fields, default)]
pub struct EnvelopeFields {
    /// The schema version (an integer, or a string whose major number counts).
    pub version: String,
    /// When the document was written (RFC 3339).
    pub generated_at: String,
    /// Which module and command wrote it.
    pub origin: String,
    /// `sha256:<hex>` over the canonical form without this field.
    pub checksum: String,
    /// Write counter; only ever grows.
    pub serial: String,
    /// Identity of the document's history, set at creation.
    pub lineage: String,
    /// Test suite, timestamp and artifact links that produced it.
    pub provenance: String,
    /// Migrations applied to it.
    pub history: String,
}

impl Default for EnvelopeFields {
    fn default() -> Self {
        EnvelopeFields {
            version: "/schema_version".into(),
            generated_at: "/generated_at".into(),
            origin: "/origin".into(),
            checksum: "/checksum".into(),
            serial: "/serial".into(),
            lineage: "/lineage".into(),
            provenance: "/provenance".into(),
            history: "/history".into(),
        }
    }
}

impl EnvelopeFields {
    /// Each field's name with its pointer.
    pub fn all(&self) -> [(&'static str, &str); 8] {
        [
            ("version", &self.version),
            ("generated_at", &self.generated_at),
            ("origin", &self.origin),
            ("checksum", &self.checksum),
            ("serial", &self.serial),
            ("lineage", &self.lineage),
            ("provenance", &self.provenance),
            ("history", &self.history),
        ]
    }
}

/// The file as written: what its JSON Schema ([`json_schema`]) describes.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
#[schemars(
    title = "statewright project file",
    description = "statewright.toml: where the catalog and the state live, and one [kinds.<name>] table per document kind (docs/FORMATS.md)."
)]
struct ProjectFile {
    /// Where schemas, migrations and the state directory live.
    #[serde(default)]
    project: ProjectSection,
    /// The document kinds, by name: lower-case letters, digits and `-`,
    /// starting with a letter (`env-config`).
    #[serde(default)]
    #[schemars(extend("propertyNames" = { "pattern": "^[a-z][a-z0-9-]*$" }))]
    kinds: BTreeMap<String, KindSpec>,
    /// How schema diffs grade changes.
    #[serde(default)]
    diff: DiffSpec,
}

/// `[project]`: paths are relative to the folder holding the project file.
#[derive(Deserialize, JsonSchema)]
#[serde(deny_unknown_fields, default)]
struct ProjectSection {
    /// Where `<kind>/v<N>.json` schemas live.
    schemas: PathBuf,
    /// Where `<kind>/<NNNN>_<name>.yaml` migrations and `statewright.sum` live.
    migrations: PathBuf,
    /// The state directory commands use by default, or a database
    /// namespace: `postgres://[USER@]HOST[:PORT]/DATABASE?namespace=NAME`
    /// (the password comes from PGPASSWORD or ~/.pgpass, never from here;
    /// see docs/POSTGRES.md).
    state: PathBuf,
    /// Offline `$ref` mappings: URL prefix → folder.
    schema_dirs: BTreeMap<String, PathBuf>,
    /// How many rolling backups the store keeps per document.
    backups: usize,
    /// Whether reads restore a corrupt document from its newest good backup.
    recover: bool,
}

impl Default for ProjectSection {
    fn default() -> Self {
        ProjectSection {
            schemas: "schemas".into(),
            migrations: "migrations".into(),
            state: "state".into(),
            schema_dirs: BTreeMap::new(),
            backups: 3,
            recover: false,
        }
    }
}

/// What can be wrong with a project file or the catalog it names.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProjectError {
    /// No project file in the folder or any parent.
    #[error("no {PROJECT_FILE} found in {} or any parent folder", start.display())]
    NotFound {
        /// Where the search started.
        start: PathBuf,
    },
    /// A file could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The project file is not valid TOML, or has an unknown or mistyped key.
    #[error("{}:{at}: {message}", path.display())]
    Syntax {
        /// The project file.
        path: PathBuf,
        /// Where.
        at: Position,
        /// What the TOML reader said.
        message: String,
        /// How to fix it.
        help: String,
    },
    /// A value is well-formed but unusable (bad kind name, bad pointer).
    #[error("{}: {message}", path.display())]
    Invalid {
        /// The file.
        path: PathBuf,
        /// Where, when known.
        at: Option<Position>,
        /// What is wrong.
        message: String,
        /// How to fix it.
        help: String,
    },
    /// A schema file is not valid JSON.
    #[error(transparent)]
    Schema(#[from] crate::document::ParseError),
}

impl ProjectError {
    /// How to fix the problem, when there is more to say than the message.
    pub fn help(&self) -> Option<&str> {
        match self {
            ProjectError::NotFound { .. } => {
                Some("run from inside a project, or pass --project FILE")
            }
            ProjectError::Syntax { help, .. } | ProjectError::Invalid { help, .. } => Some(help),
            _ => None,
        }
    }
}

impl Project {
    /// Finds `statewright.toml` in `start` or its nearest parent, and loads it.
    pub fn discover(start: &Path) -> Result<Project, ProjectError> {
        let start = start.canonicalize().unwrap_or_else(|_| start.to_owned());
        let mut dir = Some(start.as_path());
        while let Some(d) = dir {
            let candidate = d.join(PROJECT_FILE);
            if candidate.is_file() {
                return Project::load(&candidate);
            }
            dir = d.parent();
        }
        Err(ProjectError::NotFound { start })
    }

    /// Loads a project file.
    pub fn load(file: &Path) -> Result<Project, ProjectError> {
        let text = std::fs::read_to_string(file).map_err(|source| ProjectError::Read {
            path: file.to_owned(),
            source,
        })?;
        let root = file
            .parent()
            .map(|p| {
                if p.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    p
                }
            })
            .unwrap_or(Path::new("."))
            .to_owned();
        let root = root.canonicalize().unwrap_or(root);
        Project::parse(&text, file, &root)
    }

    /// Parses project-file text; relative paths are taken from `root`.
    pub fn parse(text: &str, file: &Path, root: &Path) -> Result<Project, ProjectError> {
        let source = crate::document::SourceText {
            path: file.to_owned(),
            text: text.to_owned(),
            format: crate::document::Format::Toml,
        };
        if let Err(e) = crate::document::toml_nesting(&source, Default::default()) {
            return Err(ProjectError::Syntax {
                path: file.to_owned(),
                at: e.position().unwrap_or(position_of(text, 0)),
                message: match e {
                    crate::document::ParseError::Syntax { message, .. } => message,
                    other => other.to_string(),
                },
                help: "nest tables and arrays less deeply".into(),
            });
        }
        let parsed: ProjectFile = toml::from_str(text).map_err(|e| {
            let offset = e.span().map_or(0, |s| s.start);
            ProjectError::Syntax {
                path: file.to_owned(),
                at: position_of(text, offset),
                message: e.message().trim().to_owned(),
                help: "see the project file format in docs/FORMATS.md; known tables are [project], [kinds.<name>] and [diff]".into(),
            }
        })?;
        let invalid = |needle: &str, message: String, help: &str| ProjectError::Invalid {
            path: file.to_owned(),
            at: text.find(needle).map(|o| position_of(text, o)),
            message,
            help: help.to_owned(),
        };
        for (name, kind) in &parsed.kinds {
            let ok = name.starts_with(|c: char| c.is_ascii_lowercase())
                && name
                    .chars()
                    .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-');
            if !ok {
                return Err(invalid(
                    name,
                    format!("kind name `{name}` is not a lower-case identifier"),
                    "use lower-case letters, digits and `-`, starting with a letter (e.g. `env-config`)",
                ));
            }
            if kind.path.is_empty() || kind.path.starts_with('/') || kind.path.contains("..") {
                return Err(invalid(
                    &kind.path,
                    format!(
                        "kinds.{name}.path `{}` must be a relative pattern inside the state dir",
                        kind.path
                    ),
                    "write it relative to the state dir, e.g. `config/*.json`",
                ));
            }
            let rule_pointers = kind
                .artifacts
                .iter()
                .flat_map(|a| {
                    [
                        ("artifacts.each", &a.each),
                        ("artifacts.path", &a.path),
                        ("artifacts.sha256", &a.sha256),
                    ]
                })
                .chain(kind.prune.iter().map(|r| ("prune.each", &r.each)));
            for (field, pointer) in kind
                .fields
                .all()
                .into_iter()
                .chain(rule_pointers.map(|(f, p)| (f, p.as_str())))
            {
                if !pointer.starts_with('/') {
                    return Err(invalid(
                        pointer,
                        format!("kinds.{name}.fields.{field} `{pointer}` is not a JSON pointer"),
                        "JSON pointers start with `/`, e.g. `/schema_version`",
                    ));
                }
            }
        }
        let p = parsed.project;
        let state_url = p
            .state
            .to_str()
            .filter(|s| s.starts_with("postgres://") || s.starts_with("postgresql://"))
            .map(str::to_owned);
        let state_dir = root.join(&p.state);
        Ok(Project {
            file: file.to_owned(),
            root: root.to_owned(),
            schemas_dir: root.join(p.schemas),
            migrations_dir: root.join(p.migrations),
            state_dir,
            state_url,
            schema_dirs: p
                .schema_dirs
                .into_iter()
                .map(|(k, v)| (k, root.join(v)))
                .collect(),
            kinds: parsed.kinds,
            backups: p.backups,
            recover: p.recover,
            diff: parsed.diff,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Project, ProjectError> {
        Project::parse(text, Path::new("statewright.toml"), Path::new("/p"))
    }

    #[test]
    fn a_database_state_is_kept_as_its_url() {
        let p = parse("[project]\nstate = \"postgres://db:5432/s?namespace=a\"\n").unwrap();
        assert_eq!(
            p.state_url.as_deref(),
            Some("postgres://db:5432/s?namespace=a")
        );
    }

    #[test]
    fn defaults_and_fields() {
        let p = parse("[project]\nstate = \"st\"\n[kinds.a]\npath = \"x/*.yaml\"\n[kinds.a.fields]\nversion = \"/v\"\n").unwrap();
        assert_eq!(p.state_dir, Path::new("/p/st"));
        assert_eq!(p.state_url, None);
        assert_eq!(p.schemas_dir, Path::new("/p/schemas"));
        let a = &p.kinds["a"];
        assert_eq!(a.format(), Format::Yaml);
        assert_eq!(a.fields.version, "/v");
        assert_eq!(a.fields.checksum, "/checksum");
        assert_eq!(p.backups, 3);
    }

    #[test]
    fn unknown_key_names_line_and_fix() {
        let e = parse("[project]\nstate = \"st\"\n[kinds.a]\npaht = \"x\"\n").unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.starts_with("statewright.toml:4:1: unknown field `paht`"),
            "{msg}"
        );
        assert!(e.help().unwrap().contains("[kinds.<name>]"));
    }

    #[test]
    fn bad_values_are_explained() {
        let e = parse("[kinds.Bad]\npath = \"x\"\n").unwrap_err();
        assert!(e.to_string().contains("kind name `Bad`"), "{e}");
        let e = parse("[kinds.a]\npath = \"../x\"\n").unwrap_err();
        assert!(e.to_string().contains("relative pattern"), "{e}");
        let e = parse("[kinds.a]\npath = \"x\"\n[kinds.a.fields]\nversion = \"v\"\n").unwrap_err();
        assert!(e.to_string().contains("not a JSON pointer"), "{e}");
    }
}
