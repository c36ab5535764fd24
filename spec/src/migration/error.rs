//! What can be wrong with migration files and the sum file.

use std::fmt;
use std::path::PathBuf;

use crate::document::Position;

/// How a migration file differs from what the sum file recorded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SumChange {
    /// The file is on disk but not in the sum file.
    Added,
    /// The file's content hash differs from the recorded one.
    Edited,
    /// The sum file records a file that is gone.
    Removed,
    /// The sum file lists the files in another order than their numbers.
    Reordered,
    /// The sum file's own chained total does not match its lines.
    Tampered,
}

impl fmt::Display for SumChange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            SumChange::Added => "added",
            SumChange::Edited => "edited",
            SumChange::Removed => "removed",
            SumChange::Reordered => "reordered",
            SumChange::Tampered => "tampered",
        })
    }
}

/// A migration file, or the sum file, that cannot be used.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MigrationFileError {
    /// A file or folder could not be read or written.
    #[error("cannot access {}: {source}", path.display())]
    Io {
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// Not valid YAML/JSON, or a key or value the format does not have.
    #[error("{}{}: {message}; fix: {help}", path.display(), at_suffix(at))]
    Syntax {
        /// The migration file.
        path: PathBuf,
        /// Where, when known.
        at: Option<Position>,
        /// What the reader said.
        message: String,
        /// How to fix it.
        help: String,
    },
    /// Well-formed but unusable: wrong name, kind or versions, bad pointer.
    #[error("{}{}: {message}; fix: {help}", path.display(), at_suffix(at))]
    Invalid {
        /// The migration file.
        path: PathBuf,
        /// Where, when known.
        at: Option<Position>,
        /// What is wrong.
        message: String,
        /// How to fix it.
        help: String,
    },
    /// There are migration files but no sum file.
    #[error("{}: no sum file next to the migration files; fix: {help}", sum.display())]
    SumMissing {
        /// Where the sum file belongs.
        sum: PathBuf,
        /// How to fix it.
        help: String,
    },
    /// The migration files do not match the sum file.
    #[error("{}: migration `{file}` was {change} since the sum file was written; fix: {help}", sum.display())]
    Sum {
        /// The sum file.
        sum: PathBuf,
        /// The migration file, relative to the migrations dir.
        file: String,
        /// What changed.
        change: SumChange,
        /// How to fix it.
        help: String,
    },
}

fn at_suffix(at: &Option<Position>) -> String {
    at.map(|p| format!(":{p}")).unwrap_or_default()
}

impl MigrationFileError {
    /// How to fix the problem.
    pub fn help(&self) -> Option<&str> {
        match self {
            MigrationFileError::Syntax { help, .. }
            | MigrationFileError::Invalid { help, .. }
            | MigrationFileError::Sum { help, .. }
            | MigrationFileError::SumMissing { help, .. } => Some(help),
            _ => None,
        }
    }
}
