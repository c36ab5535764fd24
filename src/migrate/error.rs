//! What can stop a migration: each variant names the document, the
//! versions and the remedy.

use std::path::PathBuf;

use statewright_spec::migration::{Lossy, MigrationFileError};

/// Why a migration was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrateError {
    /// A migration file or the sum file is unusable.
    #[error(transparent)]
    Files(#[from] MigrationFileError),
    /// The catalog has no such kind.
    #[error(
        "unknown kind `{kind}`; fix: add [kinds.{kind}] to statewright.toml, or check the name"
    )]
    UnknownKind {
        /// The kind asked for.
        kind: String,
    },
    /// The document's version could not be read.
    #[error("{}: no schema version at `{pointer}` ({problem}); fix: set it, or point [kinds.{kind}.fields] version at the field that holds it", path.display())]
    NoVersion {
        /// The document.
        path: PathBuf,
        /// Its kind.
        kind: String,
        /// The version pointer.
        pointer: String,
        /// What was found.
        problem: String,
    },
    /// The document is newer than the newest schema this tool knows.
    #[error(
        "document is at version {version} of kind `{kind}`, newer than the newest schema this tool knows (v{latest}); refusing to touch it; fix: upgrade statewright (or the application) to a release that ships {kind} v{version}, or copy back the version in the state dir's `.backup/` written before the upgrade (`.backup/index/<file>` lists each with its serial)"
    )]
    NewerThanKnown {
        /// The kind.
        kind: String,
        /// The document's version.
        version: u32,
        /// The newest version in the catalog.
        latest: u32,
    },
    /// The target version is not in the catalog.
    #[error(
        "kind `{kind}` has no version {to} (latest is v{latest}); fix: pass --to with a version between 1 and {latest}, or `latest`"
    )]
    UnknownTarget {
        /// The kind.
        kind: String,
        /// The requested version.
        to: u32,
        /// The newest version.
        latest: u32,
    },
    /// No migration covers a step of the chain.
    #[error(
        "kind `{kind}` has no migration from v{from} to v{to}: the chain has a gap; fix: add migrations/{kind}/<NNNN>_<name>.yaml with `from: {from}` and `to: {to}`, then run `statewright migrate hash`"
    )]
    Gap {
        /// The kind.
        kind: String,
        /// The version with no step out of it.
        from: u32,
        /// The next version.
        to: u32,
    },
    /// A downgrade passes through steps that cannot be undone.
    #[error(
        "downgrading `{kind}` from v{from} to v{to} is lossy: {}; fix: pass --allow-lossy to accept the loss (a backup is taken first), or restore a backup",
        describe(lost)
    )]
    LossyDowngrade {
        /// The kind.
        kind: String,
        /// The document's version.
        from: u32,
        /// The requested version.
        to: u32,
        /// What each lossy op loses, by migration id.
        lost: Vec<(String, Lossy)>,
    },
    /// The document's history names a migration that differs now.
    #[error(
        "provenance mismatch: the document's history records migration `{migration}` with {recorded}, but {current}; refusing to migrate a document whose past steps cannot be trusted; fix: restore migrations/{kind}/{migration}.yaml as released (from version control), or restore the document from a backup"
    )]
    Provenance {
        /// The kind.
        kind: String,
        /// The migration id in the history.
        migration: String,
        /// The hash the history records.
        recorded: String,
        /// What the file is now.
        current: String,
    },
    /// An op could not be applied.
    #[error(
        "migration `{migration}` (migrations/{file}, v{from} → v{to}) failed at {op_pointer}: {message}; fix: correct that value in the document, or the op in the migration file (then `statewright migrate hash`)"
    )]
    Op {
        /// The migration file relative to the migrations dir
        /// (`<kind>/<id>` and its extension when known).
        file: String,
        /// The migration id.
        migration: String,
        /// Version before the step.
        from: u32,
        /// Version after the step.
        to: u32,
        /// The op's pointer (relative to the value the op runs on).
        op_pointer: String,
        /// What went wrong.
        message: String,
    },
    /// A compiled step table does not match the migration files.
    #[error(
        "no compiled step for migration `{migration}` of `{kind}` with hash {file_hash}; fix: rebuild the application so its compiled steps match the migration files"
    )]
    StaleCompiled {
        /// The kind.
        kind: String,
        /// The migration id.
        migration: String,
        /// The file's current hash.
        file_hash: String,
    },
    /// A document-level failure, with the document's path.
    #[error("{}: {source}", path.display())]
    Document {
        /// The document.
        path: PathBuf,
        /// The failure.
        #[source]
        source: Box<MigrateError>,
    },
    /// A dry run's documents would be refused by the writer's checks.
    #[error("the migrated documents would be refused: {source}")]
    WouldBeRefused {
        /// The writer's refusal.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    /// `migrate new`: the kind has a single version, nothing to migrate to.
    #[error("`{kind}` has only v{latest}: there is no version to migrate to; fix: add {add} first")]
    NothingToDraft {
        /// The kind.
        kind: String,
        /// Its only version.
        latest: u32,
        /// The schema file to add.
        add: String,
    },
    /// `migrate new`: every version already has its migration.
    #[error("v{latest} of `{kind}` already has its migration {}; not overwritten; fix: edit that file, or add {add} and draft its migration", file.display())]
    AlreadyDrafted {
        /// The kind.
        kind: String,
        /// Its newest version.
        latest: u32,
        /// The migration file that reaches it.
        file: PathBuf,
        /// The schema file to add for a next version.
        add: String,
    },
    /// `migrate new`: a version to draft has no previous version to diff with.
    #[error(
        "kind `{kind}` has v{to} but no v{from} to diff it with; fix: add schemas/{kind}/v{from}.json"
    )]
    NoPreviousSchema {
        /// The kind.
        kind: String,
        /// The missing version.
        from: u32,
        /// The version to draft.
        to: u32,
    },
    /// `migrate new`: the name is not a migration name.
    #[error(
        "--name `{name}` is not a migration name; fix: use lower-case letters, digits and `_` (owners_and_instances)"
    )]
    BadName {
        /// The name given.
        name: String,
    },
    /// `migrate new`: the two schemas could not be diffed, or the draft
    /// does not parse (a bug: report it with the two schemas).
    #[error("cannot draft the migration of `{kind}` v{from} → v{}: {message}", from + 1)]
    Draft {
        /// The kind.
        kind: String,
        /// The version drafted from.
        from: u32,
        /// What went wrong.
        message: String,
    },
    /// `migrate new`: the file exists; it is never overwritten.
    #[error("{} already exists; not overwritten; fix: edit that file, or choose another --name", path.display())]
    Exists {
        /// The file.
        path: PathBuf,
    },
    /// `migrate new`: the draft could not be written.
    #[error("cannot write {}: {source}", path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The writer (the store) failed; nothing was written.
    #[error("writing the migrated documents failed: {source}")]
    Write {
        /// The writer's error.
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

fn describe(lost: &[(String, Lossy)]) -> String {
    lost.iter()
        .map(|(id, l)| format!("{id}: {} at {} loses {}", l.op, l.pointer, l.lost))
        .collect::<Vec<_>>()
        .join("; ")
}

impl MigrateError {
    /// Wraps the error with the document it concerns.
    pub fn in_document(self, path: impl Into<PathBuf>) -> MigrateError {
        MigrateError::Document {
            path: path.into(),
            source: Box::new(self),
        }
    }

    /// Whether this is a refusal (exit code 4: downgrade, integrity,
    /// provenance) rather than a failure.
    pub fn is_refusal(&self) -> bool {
        match self {
            MigrateError::Document { source, .. } => source.is_refusal(),
            MigrateError::Files(
                MigrationFileError::Sum { .. } | MigrationFileError::SumMissing { .. },
            ) => true,
            MigrateError::NewerThanKnown { .. }
            | MigrateError::LossyDowngrade { .. }
            | MigrateError::Provenance { .. }
            | MigrateError::AlreadyDrafted { .. }
            | MigrateError::Exists { .. } => true,
            _ => false,
        }
    }
}
