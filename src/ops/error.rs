//! The operator commands' one error type: every variant names the file,
//! the pointer or the argument at fault, and the fix.

use std::path::PathBuf;

use crate::store::StoreError;

/// Everything that can stop an operator command.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OpsError {
    /// The store refused or failed (lock held, corrupt document, schema
    /// violation, missing file).
    #[error(transparent)]
    Store(#[from] StoreError),
    /// A JSON pointer that is not RFC 6901 syntax.
    #[error(
        "`{pointer}` is not a JSON pointer: {message}; write pointers as /key/0/child (RFC 6901: `~1` for `/`, `~0` for `~`, \"\" for the whole document)"
    )]
    BadPointer {
        /// The pointer given.
        pointer: String,
        /// What is wrong with it.
        message: String,
    },
    /// A document path outside the state dir.
    #[error("{} is not inside the state dir {}; pass a path relative to the state dir (or --state DIR)", path.display(), dir.display())]
    OutsideStateDir {
        /// The path given.
        path: PathBuf,
        /// The state dir.
        dir: PathBuf,
    },
    /// The value cannot be put at the pointer.
    #[error("{file}: cannot set `{pointer}`: {message}")]
    CannotSet {
        /// The document (relative to the state dir).
        file: String,
        /// The pointer.
        pointer: String,
        /// Why, with the fix.
        message: String,
    },
    /// `--increment` on something that is not a number.
    #[error(
        "{file}: `{pointer}` holds {found}, not a number; --increment only adds to numbers (set a number first)"
    )]
    NotANumber {
        /// The document.
        file: String,
        /// The pointer.
        pointer: String,
        /// What it holds, as JSON.
        found: String,
    },
    /// `--increment` left the range numbers may have.
    #[error(
        "{file}: adding {by} to `{pointer}` leaves the range of numbers (beyond binary64's largest, or over 4096 digits)"
    )]
    Overflow {
        /// The document.
        file: String,
        /// The pointer.
        pointer: String,
        /// The increment.
        by: String,
    },
    /// A value given as JSON does not parse.
    #[error(
        "VALUE is not valid JSON at line {line} column {column}: {message}; quote strings (e.g. '\"text\"') or pass --string"
    )]
    BadJson {
        /// 1-based line in the value.
        line: usize,
        /// 1-based column in the value.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// `list FILE POINTER` on a value that has no entries.
    #[error("{file}: `{pointer}` holds {found}; list needs an object or an array there")]
    NotAList {
        /// The document.
        file: String,
        /// The pointer.
        pointer: String,
        /// What it holds (`a string`, `a number`).
        found: &'static str,
    },
    /// A `--where` filter that is not `FIELD=VALUE`.
    #[error(
        "`{filter}` is not FIELD=VALUE (e.g. --where status=FAILED or --where /paths/staging=/data)"
    )]
    BadFilter {
        /// The filter given.
        filter: String,
    },
    /// A kind the catalog does not have.
    #[error("no kind `{name}` in the catalog; known kinds: {}", known.join(", "))]
    UnknownKind {
        /// The name given.
        name: String,
        /// The catalog's kinds.
        known: Vec<String>,
    },
    /// A prune rule that no kind in scope declares.
    #[error("no prune rule `{rule}`{}; declared rules: {}", file.as_ref().map(|f| format!(" for {f}")).unwrap_or_default(), if known.is_empty() { "none".to_owned() } else { known.join(", ") })]
    UnknownRule {
        /// The rule given.
        rule: String,
        /// The document, when one was given.
        file: Option<String>,
        /// The rules declared for the documents in scope.
        known: Vec<String>,
    },
    /// Nothing to prune by: no kind in scope declares rules.
    #[error("{}: no prune rules; declare them in statewright.toml as [[kinds.{kind}.prune]] (name, each, status/paths or older_than)", file.as_deref().unwrap_or("the state dir"))]
    NoPruneRules {
        /// The document, when one was given.
        file: Option<String>,
        /// Its kind (or `<kind>`).
        kind: String,
    },
    /// A change to an envelope field the store stamps on every write.
    #[error("{file}: `{pointer}` is the envelope's {field}, which the store stamps on every write; it cannot be {verb} by hand{}", if *field == "version" { " (change versions with `statewright migrate`)" } else { "" })]
    EnvelopeField {
        /// The document.
        file: String,
        /// The pointer given.
        pointer: String,
        /// Which field (`serial`, `checksum`, `version`).
        field: &'static str,
        /// `set` or `removed`.
        verb: &'static str,
    },
    /// `rm` of the whole document.
    #[error(
        "{file}: refusing to remove the whole document (pointer \"\"); name a member, e.g. /processed/ID"
    )]
    RootRemoval {
        /// The document.
        file: String,
    },
    /// The export's output exists.
    #[error("{} exists; pass --force to overwrite it", path.display())]
    OutputExists {
        /// The output file.
        path: PathBuf,
    },
    /// The export's output would land inside the state dir it exports.
    #[error("{} is inside the state dir {}; write the bundle somewhere else", path.display(), dir.display())]
    OutputInState {
        /// The output file.
        path: PathBuf,
        /// The state dir.
        dir: PathBuf,
    },
    /// An I/O error outside the store (reading for export, writing a
    /// bundle).
    #[error("{op} {}: {source}", path.display())]
    Io {
        /// What was being done.
        op: &'static str,
        /// The file or folder.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// A bundle whose contents do not match its manifest.
    #[error("bundle: {message}")]
    BadBundle {
        /// What does not match.
        message: String,
    },
    /// A bundle that is not JSON (truncated, or not a bundle at all).
    #[error("{}: not a statewright bundle{}: {message}; the file is truncated or was not written by `statewright export`, export it again", bundle.display(), if *line > 0 { format!(" (line {line} column {column})") } else { String::new() })]
    BundleSyntax {
        /// The bundle file.
        bundle: PathBuf,
        /// 1-based line of the error (0: not known).
        line: usize,
        /// 1-based column.
        column: usize,
        /// The parser's message.
        message: String,
    },
    /// A bundle of another format, or of a newer one.
    #[error("{}: bundle format {found}, {}", bundle.display(), if *newer { format!("newer than this statewright reads (\"{}\"); upgrade statewright to import it", crate::ops::BUNDLE_FORMAT) } else { format!("expected \"{}\"; import only reads bundles written by `statewright export`", crate::ops::BUNDLE_FORMAT) })]
    BundleFormat {
        /// The bundle file.
        bundle: PathBuf,
        /// The `format` found, as JSON (`none` when missing).
        found: String,
        /// Whether it is a newer version of the bundle format.
        newer: bool,
    },
    /// A bundle file that does not match the bundle's manifest (edited,
    /// truncated or damaged after export).
    #[error("{}: {file} at `{pointer}` does not match the manifest: {message}; the bundle was changed after export, export it again", bundle.display())]
    BundleMismatch {
        /// The bundle file.
        bundle: PathBuf,
        /// The file inside the bundle.
        file: String,
        /// The JSON pointer in the bundle.
        pointer: String,
        /// What does not match.
        message: String,
    },
    /// The bundle's copy of a document fails a read check (parse,
    /// envelope, checksum, version).
    #[error("{}: the bundle's copy of {file} is not a valid document: {message}; export it again from a state dir where `statewright check` is clean", bundle.display())]
    BundleCorrupt {
        /// The bundle file.
        bundle: PathBuf,
        /// The document.
        file: String,
        /// What is wrong.
        message: String,
    },
    /// A document of the bundle that no kind of the catalog matches.
    #[error("{}: no kind in the catalog matches document {file}; add a [kinds.<name>] table whose path matches it to statewright.toml, or import with the project that exported it", bundle.display())]
    BundleUnknownKind {
        /// The bundle file.
        bundle: PathBuf,
        /// The document.
        file: String,
    },
    /// A document of the bundle at a schema version the catalog does not
    /// know yet.
    #[error("{}: {file} has schema version {found} of kind `{kind}`, newer than the catalog knows ({known}); upgrade statewright or the catalog (schemas/{kind}/v{found}.json) before importing", bundle.display())]
    BundleNewerVersion {
        /// The bundle file.
        bundle: PathBuf,
        /// The document.
        file: String,
        /// Its kind.
        kind: String,
        /// Its version.
        found: u32,
        /// The newest version the catalog has.
        known: u32,
    },
    /// A document the import would overwrite that is newer, of another
    /// lineage, at a higher schema version, or corrupt.
    #[error(
        "{file}: not imported, {message}; nothing was written; pass --force to replace it with the bundle's copy"
    )]
    ImportRefused {
        /// The document.
        file: String,
        /// Why.
        message: String,
    },
}

/// A result with [`OpsError`].
pub type Result<T, E = OpsError> = std::result::Result<T, E>;
