//! Every finding code statewright reports, registered in one table.
//!
//! Codes are stable: two letters and three digits. A code's meaning never
//! changes once released; retired codes are not reused. `--format json`
//! output carries them, so scripts may match on them.

/// How serious a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Informational; never fails a run.
    Info,
    /// Worth attention; fails only with a stricter `--fail-on`.
    Warning,
    /// The document is invalid or unsafe to use.
    Error,
}

/// One registered finding code.
#[derive(Debug, Clone, Copy)]
pub struct Code {
    /// The stable code, e.g. `SW010`.
    pub id: &'static str,
    /// A short title.
    pub title: &'static str,
    /// Default severity.
    pub severity: Severity,
    /// What to do about it, for people.
    pub remedy: &'static str,
}

macro_rules! codes {
    ($($name:ident = $id:literal, $sev:ident, $title:literal, $remedy:literal;)*) => {
        $(
            #[doc = concat!("`", $id, "`: ", $title, ".")]
            pub const $name: Code = Code { id: $id, title: $title, severity: Severity::$sev, remedy: $remedy };
        )*
        /// Every registered code, in order.
        pub const ALL: &[Code] = &[$($name),*];
    };
}

codes! {
    SYNTAX = "SW001", Error, "document is not well-formed",
        "fix the syntax at the position shown, or restore the file from a backup (`statewright check --repair`)";
    INVALID_UTF8 = "SW002", Error, "document is not UTF-8",
        "re-encode the file as UTF-8";
    EMPTY = "SW003", Error, "document is empty",
        "the file may have been truncated; restore it from a backup (`statewright check --repair`)";
    TOO_LARGE = "SW004", Error, "document exceeds the size limit",
        "split the document, or raise the limit with --max-bytes";
    SCHEMA = "SW010", Error, "document violates its schema",
        "change the value at the pointer shown so that it satisfies the schema keyword named";
    VERSION_MISSING = "SW011", Error, "document has no schema version",
        "add the version field the kind declares (see `fields.version` in statewright.toml)";
    VERSION_INVALID = "SW012", Error, "schema version is not a version number",
        "set the version field to a non-negative integer such as 1";
    VERSION_TOO_NEW = "SW013", Error, "document is newer than every schema this catalog knows",
        "upgrade statewright or the catalog to a release that knows this version, or restore an older backup; never edit the version down by hand";
    VERSION_UNKNOWN = "SW014", Error, "no schema for the document's version",
        "add schemas/<kind>/v<N>.json for this version, or migrate the document to a known one";
    VERSION_BEHIND = "SW015", Info, "document is behind the latest schema version",
        "run `statewright migrate` to bring it to the latest version";
    PROVENANCE_MISSING = "SW016", Error, "required provenance is missing",
        "record the test suite, timestamp and artifact links that produced this document";
    UNMATCHED = "SW020", Warning, "file matches no kind in the catalog",
        "add a [kinds.<name>] table whose `path` matches it, or pass --kind / --schema";
    KIND_EMPTY = "SW021", Info, "kind matches no document in the state dir",
        "nothing to do if no document of this kind exists yet; otherwise check the kind's `path` pattern (it is matched inside the state dir: `*` within one folder, `**` across folders)";
    CHECKSUM_MISMATCH = "SW030", Error, "recorded checksum does not match the content",
        "the file was changed outside statewright or damaged; restore the newest good backup with `statewright check --repair`, or write it again through statewright";
    LEFTOVER_TEMP = "SW031", Warning, "temp file of an interrupted write is left",
        "run `statewright check --repair`: a complete temp newer than its document is finished, any other is removed";
    LEFTOVER_JOURNAL = "SW032", Error, "journal of an interrupted transaction is left",
        "run `statewright check --repair`: a committed transaction is rolled forward, an uncommitted one rolled back";
    LOCK_STALE = "SW033", Warning, "lock records a holder that is gone",
        "run `statewright check --repair` (or any command that takes the lock): it clears the record and finishes what the holder left, including its missing audit lines; `statewright lock break <lock id>` only clears the record";
    LOCK_ORPHANED = "SW034", Error, "lock is held without a live holder",
        "a process that inherited the holder's descriptor keeps the lock; find it with `fuser <state dir>/.lock` and stop it";
    BACKUP_MISSING = "SW035", Warning, "backup listed in the manifest is missing",
        "the backup file was removed by hand; restore it from a copy if that version is needed (the entry is dropped at the document's next write)";
    BACKUP_CHECKSUM = "SW036", Error, "backup does not match the checksum its manifest records",
        "the backup was changed after it was taken and is never restored; remove it from .backup/ and find out who changed it";
    BACKUP_UNLISTED = "SW037", Warning, "backup file is not listed in the manifest",
        "left by a write killed between linking the backup and recording it, or copied in by hand: `statewright check --repair` lists it when its name and content are the store's (a verified backup), otherwise remove it from .backup/";
    MANIFEST_UNREADABLE = "SW038", Error, "backup manifest cannot be read",
        "fix or remove the index file named (`.backup/index/<file>`, or the older `.backup/manifest.json`); the store never acts on an entry it cannot verify, and writes to that document are refused until then";
    AUDIT_BROKEN = "SW039", Error, "audit log chain is broken",
        "the log was changed after it was written; restore it from a copy you trust and find out who edited it (`statewright audit verify` names the line)";
    AUDIT_MISSING = "SW040", Warning, "committed version has no audit line",
        "run `statewright check --repair`: it writes the line from the document's envelope, marked as written on recovery (a writer that died, or a crash, between the rename and the audit append leaves this)";
    ARTIFACT_MISSING = "SW041", Error, "artifact named by an entry is missing",
        "restore the artifact file, or remove the entry that points at it";
    ARTIFACT_HASH = "SW042", Error, "artifact does not match its recorded sha256",
        "rebuild the artifact, or record its new hash through the tool that produced it";
    HISTORY_CHANGED = "SW043", Error, "history names a migration whose file has changed",
        "restore the migration file as released (from version control), or restore the document from a backup";
    HISTORY_MISSING = "SW044", Error, "history names a migration file that no longer exists",
        "restore the migration file as released (from version control), or restore the document from a backup";
    TRANSITION_RECORDED = "SW045", Error, "state changed along a transition its schema forbids",
        "the document was changed outside statewright (the store refuses such writes); set the state back to one allowed from the previous value, or restore the newest backup";
    SERIAL_BEHIND = "SW046", Error, "serial is lower than one the store has recorded",
        "the document was rolled back or replaced by an older copy outside statewright, and the store refuses to write over it; `check --repair` leaves it as it is, because the newer version may be gone: copy the version you want back from .backup/ (listed in .backup/index/<file>), or keep this one by writing it with force (`migrate --force`, `import --force`), which gives it a serial above every recorded one";
    AUDIT_LOG_MISSING = "SW047", Error, "audit log is missing although documents were written",
        "the log was removed or emptied outside statewright; restore audit.log (and its rotated files) from a copy you trust and find out who removed it (`check --repair` does not recreate it; the next write starts a new log)";
    WRITE_IN_PROGRESS = "SW048", Info, "a write is in progress",
        "a live process holds the lock; its temp files, journal and new backups are not reported while it works: run `statewright check` again when it is done";
    SECRET_STORED = "SW049", Error, "a value looks like a credential",
        "secrets are never persisted: move the value to a secret store and keep a reference in its place (`vault://…`, `${ENV_VAR}`), and rotate the credential, which has been on disk; if the field is meant to hold one, mark it `\"x-statewright-secret\": true` in the schema";
    JOURNAL_INVALID = "SW060", Error, "journal is not one the store wrote",
        "a path in it is outside the state dir or not of the store's naming, or a line was edited; the store does not act on it: inspect it, put back the documents it names from .backup/ if needed, and remove it by hand";
    NOT_REGULAR = "SW061", Error, "a document path is not a regular file",
        "a FIFO, socket, device or symbolic link is where a document belongs; the store never opens it: move it away, then restore the document with `statewright check --repair` (from its newest backup) or put back a copy you trust";
    DOCUMENT_GONE = "SW062", Error, "a document the store recorded is gone",
        "it has backups or audit lines but no longer exists (deleted, or replaced by a folder): restore it with `statewright check --repair` (from its newest good backup), or, if it was removed on purpose, remove its backups from .backup/ as well";
    AUDIT_HISTORY_LOST = "SW063", Error, "the audit log does not reach back to the document's creation",
        "the audit log was deleted, truncated or restarted after the document was written (or the document was copied in from another state dir): restore audit.log (and its rotated files) from a copy you trust or an export bundle; if that history is gone for good, `check --repair` writes an anchor line per document saying so, which stays in the log";
}

/// Looks a code up by its id.
pub fn find(id: &str) -> Option<&'static Code> {
    ALL.iter().find(|c| c.id == id)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for c in ALL {
            assert!(seen.insert(c.id), "duplicate code {}", c.id);
            assert_eq!(c.id.len(), 5, "{}", c.id);
            assert!(c.id[..2].chars().all(|ch| ch.is_ascii_uppercase()));
            assert!(c.id[2..].chars().all(|ch| ch.is_ascii_digit()));
            assert!(!c.remedy.is_empty());
        }
        assert_eq!(find("SW013").unwrap().severity, Severity::Error);
    }

    /// docs/CLI.md lists every code with its severity and title.
    #[test]
    fn docs_list_every_code() {
        let doc =
            std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/CLI.md")).unwrap();
        for c in ALL {
            let sev = format!("{:?}", c.severity).to_lowercase();
            let row = format!("| {} | {sev} | {} |", c.id, c.title);
            assert!(doc.contains(&row), "docs/CLI.md lacks the row `{row}`");
        }
    }
}
