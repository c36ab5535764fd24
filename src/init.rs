//! `statewright init`: a new project in a folder. It writes a commented
//! `statewright.toml` (pointing editors at its JSON Schema with taplo's
//! `#:schema` directive), the project file's schema, `schemas/`, the state
//! directory, and `migrations/` with an empty sum file and the migration
//! format's schema. It never overwrites: when any file it would write
//! exists, nothing is written and every such file is named.
//!
//! Every file goes through [`write_durably`]: a temp file, fsync, rename,
//! folder fsync.

use std::path::{Component, Path, PathBuf};

use statewright_spec::migration::{self, MigrationSet, SumFile};
use statewright_spec::project::{self, PROJECT_FILE};

use crate::store::fs::{Fs, RealFs};

pub mod adopt;
mod infer;

pub use adopt::{AdoptReport, AdoptedKind, Skipped, adopt};
pub use infer::Shape;

/// What to create.
#[derive(Debug, Clone)]
pub struct InitOptions {
    /// The state directory, relative to the project folder (`state`).
    pub state: PathBuf,
}

impl Default for InitOptions {
    fn default() -> Self {
        InitOptions {
            state: PathBuf::from("state"),
        }
    }
}

/// What `init` created.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct InitReport {
    /// The project folder.
    pub root: PathBuf,
    /// The files written, relative to `root`, in the order written.
    pub files: Vec<PathBuf>,
    /// The folders created (or found empty), relative to `root`.
    pub dirs: Vec<PathBuf>,
    /// The commands to run next, as a snippet for a README.
    pub next_steps: String,
}

/// Why `init` wrote nothing.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum InitError {
    /// Files `init` would write exist already.
    #[error("{} already has {}; nothing was written", root.display(), list(existing))]
    Exists {
        /// The project folder.
        root: PathBuf,
        /// The files that exist, relative to `root`.
        existing: Vec<PathBuf>,
    },
    /// The state directory option is not a relative path inside the project.
    #[error("--state `{}` must be a relative path inside the project folder", state.display())]
    BadState {
        /// The path given.
        state: PathBuf,
    },
    /// A folder or file could not be created.
    #[error("cannot create {}: {source}", path.display())]
    Io {
        /// The folder or file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The folder to adopt holds no JSON, YAML or TOML object document.
    #[error("{} holds no document to adopt ({skipped} file(s) skipped)", dir.display())]
    NothingToAdopt {
        /// The folder.
        dir: PathBuf,
        /// How many files were left out.
        skipped: usize,
    },
    /// A document does not pass the schema inferred from it (a defect of
    /// the inference: nothing was written).
    #[error("{}: {message}", file.display())]
    Inference {
        /// The document (or the folder).
        file: PathBuf,
        /// What failed.
        message: String,
    },
    /// The durable write of a file failed.
    #[error(transparent)]
    Write(#[from] crate::store::StoreError),
}

impl InitError {
    /// How to fix the problem.
    pub fn help(&self) -> Option<&'static str> {
        match self {
            InitError::Exists { .. } => Some(
                "run init in a new or empty folder (`statewright init DIR`), or edit the existing project",
            ),
            InitError::BadState { .. } => Some("give a path such as `state` or `var/state`"),
            InitError::NothingToAdopt { .. } => Some(
                "point --adopt at the folder holding the documents (.json, .yaml, .yml or .toml files whose top level is an object)",
            ),
            InitError::Inference { .. } => {
                Some("report it with the document; meanwhile write this kind's schema by hand")
            }
            _ => None,
        }
    }
}

fn list(paths: &[PathBuf]) -> String {
    paths
        .iter()
        .map(|p| p.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}

/// The commented project file `init` writes, for a state dir at `state`.
pub fn project_file_text(state: &str) -> String {
    include_str!("init/statewright.toml").replace("{state}", state)
}

/// The commands to run next in a project whose state dir is `state`.
pub fn next_steps(state: &str) -> String {
    include_str!("init/next-steps.md").replace("{state}", state)
}

/// Creates a project in `root` (created when missing). Refuses, writing
/// nothing, when any file it would write exists.
pub fn init(root: &Path, opts: &InitOptions) -> Result<InitReport, InitError> {
    let state = state_dir(&opts.state)?;
    let files = planned_files(&state);
    refuse_existing(root, &files)?;
    let dirs = vec![
        PathBuf::from("schemas"),
        PathBuf::from("migrations"),
        PathBuf::from(&state),
    ];
    create_dirs(root, &dirs)?;
    for (rel, text) in &files {
        write_durably(&root.join(rel), text.as_bytes())?;
    }
    Ok(InitReport {
        root: root.to_owned(),
        files: files.into_iter().map(|(rel, _)| rel).collect(),
        dirs,
        next_steps: next_steps(&state),
    })
}

/// Refuses when any of `files` (relative to `root`) exists.
fn refuse_existing(root: &Path, files: &[(PathBuf, String)]) -> Result<(), InitError> {
    let existing: Vec<PathBuf> = files
        .iter()
        .map(|(rel, _)| rel.clone())
        .filter(|rel| root.join(rel).symlink_metadata().is_ok())
        .collect();
    if existing.is_empty() {
        return Ok(());
    }
    Err(InitError::Exists {
        root: root.to_owned(),
        existing,
    })
}

/// The state dir as written into the project file (`/`-separated).
fn state_dir(state: &Path) -> Result<String, InitError> {
    let bad = || InitError::BadState {
        state: state.to_owned(),
    };
    let mut parts = Vec::new();
    for c in state.components() {
        match c {
            Component::CurDir => {}
            Component::Normal(p) => parts.push(p.to_str().ok_or_else(bad)?),
            _ => return Err(bad()),
        }
    }
    if parts.is_empty() {
        return Err(bad());
    }
    Ok(parts.join("/"))
}

/// Every file `init` writes, relative to the project folder, with its text.
fn planned_files(state: &str) -> Vec<(PathBuf, String)> {
    let sum = SumFile::compute(&MigrationSet::default()).render();
    let migrations = Path::new("migrations");
    vec![
        (PathBuf::from(PROJECT_FILE), project_file_text(state)),
        (PathBuf::from(project::SCHEMA_FILE), project::json_schema()),
        (migrations.join(migration::SUM_FILE), sum),
        (
            migrations.join(migration::SCHEMA_FILE),
            migration::json_schema(),
        ),
    ]
}

/// Creates `root` and each folder (parents first), fsyncing each parent
/// so that the new entries survive a crash.
fn create_dirs(root: &Path, dirs: &[PathBuf]) -> Result<(), InitError> {
    let io = |path: &Path| {
        let path = path.to_owned();
        move |source| InitError::Io { path, source }
    };
    std::fs::create_dir_all(root).map_err(io(root))?;
    for dir in dirs {
        let full = root.join(dir);
        std::fs::create_dir_all(&full).map_err(io(&full))?;
        let mut synced = full.as_path();
        while let Some(parent) = synced.parent() {
            RealFs.sync_dir(parent).map_err(io(parent))?;
            if parent == root {
                break;
            }
            synced = parent;
        }
    }
    Ok(())
}

/// The one place `init` writes a file: the store's atomic durable write
/// (temp, fsync, rename, folder fsync).
fn write_durably(path: &Path, bytes: &[u8]) -> Result<(), InitError> {
    crate::store::atomic::write_file(&RealFs, path, bytes, 0o644)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn state_dir_must_stay_inside() {
        assert_eq!(state_dir(Path::new("var/state")).unwrap(), "var/state");
        assert_eq!(state_dir(Path::new("./st")).unwrap(), "st");
        for bad in ["", ".", "/abs", "../up", "a/../b"] {
            assert!(state_dir(Path::new(bad)).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_project_file_parses_and_names_its_schema() {
        let text = project_file_text("var/state");
        assert!(text.starts_with("#:schema ./statewright.schema.json\n"));
        let p = statewright_spec::Project::parse(&text, Path::new(PROJECT_FILE), Path::new("/p"))
            .unwrap();
        assert_eq!(p.state_dir, Path::new("/p/var/state"));
        assert!(p.kinds.is_empty());
    }
}
