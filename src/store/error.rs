//! The store's one error type: every variant names the file, the pointer,
//! the lock holder or the remedy an operator needs to act.

use std::path::PathBuf;

use crate::store::lock::HolderInfo;

/// Which read check a corrupt document failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Check {
    /// The bytes are not a well-formed document (truncated, garbled, empty).
    Parse,
    /// The envelope fields are missing or mistyped.
    Envelope,
    /// The checksum does not match the content.
    Checksum,
    /// The version is unknown to the catalog.
    Version,
    /// The document does not match its schema.
    Schema,
}

impl std::fmt::Display for Check {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Check::Parse => "parse",
            Check::Envelope => "envelope",
            Check::Checksum => "checksum",
            Check::Version => "version",
            Check::Schema => "schema",
        })
    }
}

/// Everything that can go wrong in the store.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum StoreError {
    /// An I/O operation failed.
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done (`write`, `fsync`, `rename`).
        op: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// An fsync failed: the write is abandoned and never retried, because
    /// the kernel may already have dropped the unwritten pages.
    #[error("fsync of {} failed; the write was abandoned and the previous version kept: {source}", path.display())]
    Sync {
        /// The file or folder that failed to sync.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The state directory does not exist.
    #[error("state directory {} does not exist; create it or point --state at the right folder", path.display())]
    MissingDir {
        /// The folder.
        path: PathBuf,
    },
    /// The state directory is not a plain folder (a symbolic link, a
    /// file, ...): the store never follows links for its state.
    #[error("state directory {} is {what}, not a folder; the store never follows links for state; point --state at the folder itself{}", path.display(), target.as_ref().map(|t| format!(" ({})", t.display())).unwrap_or_default())]
    StateNotDir {
        /// The path given.
        path: PathBuf,
        /// What it is.
        what: &'static str,
        /// Where a link points.
        target: Option<PathBuf>,
    },
    /// The state directory cannot be written (read-only file system, no
    /// permission).
    #[error("cannot write in {}: {source}; {remedy}", path.display())]
    ReadOnly {
        /// The folder.
        path: PathBuf,
        /// How to fix it.
        remedy: &'static str,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A state file cannot be read for lack of permission.
    #[error("cannot read {}: {source}; you lack permission to read it: run as the state dir's owner or grant read permission (`chmod u+r` on the file); nothing was changed", path.display())]
    Unreadable {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// No space left on the device; the previous version is kept.
    #[error("no space left writing {}; the previous version is intact; free space and retry", path.display())]
    DiskFull {
        /// The document.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A symbolic link where the store writes or reads a document.
    #[error("{} is a symbolic link; the store never follows links for state files; replace it with a regular file", path.display())]
    Symlink {
        /// The path that is a link.
        path: PathBuf,
    },
    /// A backup index (`.backup/index/<file>`, or the older
    /// `.backup/manifest.json`) that cannot be used: not one, or an entry
    /// naming a path that is not the store's own backup of that document.
    /// Nothing is read, restored or removed through it.
    #[error("{}{}: {message}; nothing was read or removed through it; fix or remove the file (the store lists the document's backups anew at its next write; `statewright check` reports the backup files it no longer lists)", path.display(), if pointer.is_empty() { String::new() } else { format!(" at `{pointer}`") })]
    BackupIndex {
        /// The index file.
        path: PathBuf,
        /// The JSON pointer of the member at fault (empty: the whole file).
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// A path outside the state dir, or with `..`.
    #[error("`{path}` is not a relative path inside the state dir")]
    BadPath {
        /// The path given.
        path: String,
    },
    /// No kind in the catalog matches the path.
    #[error(
        "no kind in the catalog matches `{path}`; add a [kinds.<name>] table whose path pattern matches it"
    )]
    UnknownKind {
        /// The path inside the state dir.
        path: String,
    },
    /// The document does not exist.
    #[error("{} does not exist", path.display())]
    NotFound {
        /// The document.
        path: PathBuf,
    },
    /// A document failed a read check.
    #[error("{}{}: {check} check failed{}: {message}; {remedy}", path.display(), at.map(|(l, c)| format!(":{l}:{c}")).unwrap_or_default(), pointer.as_ref().map(|p| format!(" at `{p}`")).unwrap_or_default())]
    Corrupt {
        /// The document.
        path: PathBuf,
        /// Which check failed.
        check: Check,
        /// Line and column, when known.
        at: Option<(usize, usize)>,
        /// The JSON pointer, when known.
        pointer: Option<String>,
        /// What is wrong.
        message: String,
        /// What to do.
        remedy: &'static str,
    },
    /// The document's version is newer than the catalog knows.
    #[error("{} has schema version {found}, newer than the newest known ({known}){}", path.display(), newer_remedy(*checksum_mismatch))]
    NewerVersion {
        /// The document.
        path: PathBuf,
        /// Its version.
        found: u32,
        /// The newest version the catalog has.
        known: u32,
        /// The document's checksum does not match its content either: the
        /// version may have been edited by hand.
        checksum_mismatch: bool,
    },
    /// A write would lower the schema version.
    #[error("refusing to downgrade {} from version {from} to {to}; pass force to override", path.display())]
    Downgrade {
        /// The document.
        path: PathBuf,
        /// The version on disk.
        from: u32,
        /// The version being written.
        to: u32,
    },
    /// The written value was based on an older serial (a lost update) or a
    /// different lineage (another document's history).
    #[error("refusing to write {}: {message}; re-read and retry, or pass force to override", path.display())]
    Conflict {
        /// The document.
        path: PathBuf,
        /// What does not match.
        message: String,
    },
    /// The document on disk is at a lower serial than the store has
    /// recorded for it (a newer backup or audit line): it was rolled back
    /// or replaced by an older copy outside statewright, and writing over
    /// it would use a serial again.
    #[error("refusing to write {}: it is at serial {found}, but the store has recorded serial {recorded} for it (audit log or backups), so it was rolled back or replaced by an older copy outside statewright and a write now would reuse a serial; nothing was written; copy the version you want back from .backup/ (listed in .backup/index/<file>; `statewright check` reports this as SW046), or pass force to write over it with a serial above {recorded}", path.display())]
    SerialBehind {
        /// The document.
        path: PathBuf,
        /// The serial on disk.
        found: u64,
        /// The highest serial recorded for it.
        recorded: u64,
    },
    /// The audit log is missing or empty although the state dir shows
    /// writes through the store (documents with a serial, backups).
    #[error("{}: the audit log is missing or empty, but the store has written in this state dir ({evidence}); it was removed or emptied outside statewright", path.display())]
    AuditMissing {
        /// The log file.
        path: PathBuf,
        /// What shows that the store wrote here.
        evidence: String,
    },
    /// The lock is held by someone else.
    #[error("state lock {} is held by {}; retry later, wait with --lock-timeout SECONDS, or {}", path.display(), holder.as_ref().as_ref().map_or("a process that left no holder record".to_owned(), |h| h.to_string()), holder.as_ref().as_ref().map_or_else(|| format!("find the process with `fuser -v {}` (the lock is free as soon as it exits)", path.display()), |h| format!("if the holder is gone run `statewright lock break {}`", h.lock_id)))]
    LockHeld {
        /// The lock file.
        path: PathBuf,
        /// Who holds it, when it could be read.
        holder: Box<Option<HolderInfo>>,
    },
    /// A lock break was refused.
    #[error("cannot break lock {}: {message}", path.display())]
    LockBreak {
        /// The lock file.
        path: PathBuf,
        /// Why.
        message: String,
    },
    /// The guard passed to a write belongs to another store, or was lost.
    #[error("the lock guard does not hold the lock of {}", path.display())]
    NotLocked {
        /// The lock file.
        path: PathBuf,
    },
    /// A string value looks like a credential.
    #[error("{}: refusing to store what looks like {what} at `{pointer}`; remove it, mark the field \"x-statewright-secret\": true in the schema, or list the pointer in the kind's `secrets_allow` in the project file", path.display())]
    Secret {
        /// The document.
        path: PathBuf,
        /// The JSON pointer of the field.
        pointer: String,
        /// The kind of credential recognised.
        what: &'static str,
    },
    /// The kind's schema cannot check any document: it does not compile,
    /// or a `$ref` cannot be served offline. The schema is at fault, not
    /// the document.
    #[error("{}: cannot be checked: {message}; fix: correct the schema (`statewright validate` reports where), or map the `$ref`'s URL prefix to a folder in [project] schema_dirs", path.display())]
    SchemaBroken {
        /// The document being read or written.
        path: PathBuf,
        /// The schema version.
        version: u32,
        /// What is wrong with the schema.
        message: String,
    },
    /// The new document does not match its schema.
    #[error("{}: not written, it does not match schema version {version}: {}; fix: give a value the schema accepts at that pointer (or change the schema and add a migration)", path.display(), problems.iter().map(|p| p.to_string()).collect::<Vec<_>>().join("; "))]
    Invalid {
        /// The document.
        path: PathBuf,
        /// The version validated against.
        version: u32,
        /// What is wrong.
        problems: Vec<crate::store::verify::Problem>,
    },
    /// The write changes a state along an edge its schema's
    /// `x-statewright-transitions` machine does not allow.
    #[error("{}: not written, {}", path.display(), violations.iter().map(|v| v.to_string()).collect::<Vec<_>>().join("; "))]
    Transition {
        /// The document.
        path: PathBuf,
        /// Every forbidden change, with the states allowed instead.
        violations: Vec<crate::transitions::Violation>,
    },
    /// The document could not be serialised or stamped.
    #[error("{}: cannot write: {message}", path.display())]
    Encode {
        /// The document.
        path: PathBuf,
        /// What failed.
        message: String,
    },
    /// No backup passes every check.
    #[error("{}: no good backup to restore from ({message})", path.display())]
    NoGoodBackup {
        /// The document.
        path: PathBuf,
        /// What was tried.
        message: String,
    },
    /// The transaction journal is not one the store wrote (a path outside
    /// the state dir or not of the store's naming, an edited line, ...):
    /// it was not acted on.
    #[error("{}:{line}{}: {message}; the journal is not one statewright wrote, so nothing it names was renamed or removed; fix: inspect it and remove it by hand (`statewright check` reports it as SW060)", path.display(), if field.is_empty() { String::new() } else { format!(" at `{field}`") })]
    Journal {
        /// The journal file.
        path: PathBuf,
        /// The 1-based line (0: the file as a whole).
        line: usize,
        /// The JSON pointer of the field at fault, empty for the line.
        field: String,
        /// What is wrong.
        message: String,
    },
    /// A path where the store expects a regular file is something else
    /// (a FIFO, socket, device or directory): it is never opened.
    #[error("{} is {what}, not a regular file; the store never opens it; fix: move it away and put the document back (`statewright check --repair` restores it from a backup)", path.display())]
    NotRegular {
        /// The path.
        path: PathBuf,
        /// What it is.
        what: &'static str,
    },
    /// A `state` URL that cannot be used (not `postgres://`, no
    /// `namespace`, a namespace that is not allowed). Its password, if
    /// any, is never part of the message.
    #[error("state URL {url}: {message}")]
    StateUrl {
        /// The URL, password removed.
        url: String,
        /// What is wrong and how to fix it.
        message: String,
    },
    /// The database could not be reached or refused a statement
    /// (unreachable host, wrong password, a session that was ended).
    /// Nothing was written unless the message says so.
    #[error("{url}: {op} failed: {message}; {remedy}")]
    Database {
        /// The server and namespace, password removed.
        url: String,
        /// What was being done (`connect`, `commit`, ...).
        op: &'static str,
        /// The server's or client's message.
        message: String,
        /// What to do.
        remedy: &'static str,
    },
    /// The database's tables were created or upgraded by a newer
    /// statewright: this one refuses to touch them.
    #[error(
        "{url}: the database's statewright tables are at schema version {found}, newer than this statewright knows ({known}); nothing was read or written; upgrade statewright (or point [project] state at another database)"
    )]
    DatabaseNewer {
        /// The server and namespace, password removed.
        url: String,
        /// The tables' schema version.
        found: i32,
        /// The newest this build knows.
        known: i32,
    },
    /// The audit log's chain is broken.
    #[error("{}:{line}: audit chain broken: {message}", path.display())]
    AuditBroken {
        /// The log file.
        path: PathBuf,
        /// The 1-based line.
        line: usize,
        /// What is wrong.
        message: String,
    },
}

#[cfg(test)]
#[test]
fn error_stays_small() {
    assert!(
        std::mem::size_of::<StoreError>() <= 120,
        "{}",
        std::mem::size_of::<StoreError>()
    );
}

/// A result with [`StoreError`].
pub type Result<T, E = StoreError> = std::result::Result<T, E>;

impl StoreError {
    /// The file the error is about (for annotations), when it names one.
    pub fn file(&self) -> Option<&std::path::Path> {
        use StoreError::*;
        match self {
            Io { path, .. }
            | Sync { path, .. }
            | MissingDir { path, .. }
            | StateNotDir { path, .. }
            | ReadOnly { path, .. }
            | Unreadable { path, .. }
            | DiskFull { path, .. }
            | Symlink { path, .. }
            | NotFound { path, .. }
            | Corrupt { path, .. }
            | NewerVersion { path, .. }
            | Downgrade { path, .. }
            | Conflict { path, .. }
            | SerialBehind { path, .. }
            | AuditMissing { path, .. }
            | LockHeld { path, .. }
            | LockBreak { path, .. }
            | NotLocked { path, .. }
            | Secret { path, .. }
            | SchemaBroken { path, .. }
            | Invalid { path, .. }
            | Transition { path, .. }
            | Encode { path, .. }
            | NoGoodBackup { path, .. }
            | AuditBroken { path, .. }
            | BackupIndex { path, .. }
            | Journal { path, .. }
            | NotRegular { path, .. } => Some(path),
            BadPath { .. }
            | UnknownKind { .. }
            | StateUrl { .. }
            | Database { .. }
            | DatabaseNewer { .. } => None,
        }
    }

    /// Line and column in [`StoreError::file`], when known.
    pub fn line_col(&self) -> Option<(usize, usize)> {
        match self {
            StoreError::Corrupt { at, .. } => *at,
            StoreError::AuditBroken { line, .. } | StoreError::Journal { line, .. }
                if *line > 0 =>
            {
                Some((*line, 1))
            }
            _ => None,
        }
    }

    /// Maps an I/O error of a write to the clearest variant.
    pub(crate) fn write_io(op: &'static str, path: PathBuf, source: std::io::Error) -> StoreError {
        match source.raw_os_error() {
            Some(libc::ENOSPC) | Some(libc::EDQUOT) => StoreError::DiskFull { path, source },
            Some(libc::EROFS) => StoreError::ReadOnly {
                remedy: "the file system is mounted read-only: remount it read-write; nothing was changed",
                path,
                source,
            },
            Some(libc::EACCES) | Some(libc::EPERM) => StoreError::ReadOnly {
                remedy: "you lack permission to write there: run as the state dir's owner or grant write permission (`chmod u+w` on the folder); nothing was changed",
                path,
                source,
            },
            Some(libc::ELOOP) => StoreError::Symlink { path },
            _ => StoreError::Io { op, path, source },
        }
    }
}

/// What to do about a document newer than the catalog; when its checksum
/// fails too, which of the two to trust.
fn newer_remedy(checksum_mismatch: bool) -> &'static str {
    match checksum_mismatch {
        false => "; upgrade statewright (or the catalog) before touching it",
        true => {
            ", and its checksum does not match its content; if the version was edited by hand, trust the checksum and restore the newest good backup with `statewright check --repair`; if a newer statewright wrote it, upgrade statewright (or the catalog) before touching it"
        }
    }
}
