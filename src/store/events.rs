//! Structured events: what the store does that an operator may want to
//! see as it happens. The lock waited for, taken, reclaimed from a holder
//! that died, and released; each version committed, with the serial of the
//! version it backed up; a version written in full because the change
//! could not be made to the previous version's text in place.
//!
//! The library never prints. A caller that wants the events passes an
//! [`EventSink`] in [`StoreOptions::events`](crate::store::StoreOptions)
//! (or [`LockOptions::events`](crate::store::LockOptions)) and renders
//! them; the CLI prints them on stderr with `--verbose`, one line each
//! ([`StoreEvent`]'s `Display`), or one JSON object per line with
//! `--format json` (the serde form: `{"event": "lock_acquired", ...}`).

use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;

use crate::store::lock::HolderInfo;

/// One thing the store did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum StoreEvent {
    /// The lock is held by another process; this one waits (with backoff)
    /// for up to `timeout_ms`. Sent once per acquisition.
    LockWaiting {
        /// The lock file.
        lock: PathBuf,
        /// Who holds it, when its record is readable.
        holder: Option<HolderInfo>,
        /// How long this process waits at most.
        timeout_ms: u64,
    },
    /// The lock was taken.
    LockAcquired {
        /// The lock file.
        lock: PathBuf,
        /// This acquisition's id (what `lock status` shows).
        lock_id: String,
        /// How long it took, waiting included.
        waited_ms: u64,
    },
    /// The lock was free but recorded a holder that is gone: the record is
    /// replaced, and what the holder left unfinished is finished.
    LockReclaimed {
        /// The lock file.
        lock: PathBuf,
        /// The holder that died.
        previous: HolderInfo,
    },
    /// The lock was released.
    LockReleased {
        /// The lock file.
        lock: PathBuf,
        /// The acquisition's id.
        lock_id: String,
        /// How long it was held.
        held_ms: u64,
    },
    /// A document failed a check and was restored from its newest good
    /// backup (`--recover`, `recover = true`, `check --repair`). Changes
    /// made after the backup's serial are not in the restored version.
    Restored {
        /// The document.
        file: PathBuf,
        /// Which check failed, and where.
        reason: String,
        /// The serial the failed version claimed, when readable.
        lost_serial: Option<u64>,
        /// The backup restored (inside `.backup/`).
        backup: String,
        /// The serial of the backup restored.
        backup_serial: u64,
        /// The serial the restored version was written with.
        serial: u64,
        /// Where the failed version's bytes were kept (inside the state
        /// dir), if there was a file.
        kept: Option<String>,
    },
    /// A new version of a document is in place, durable and audited.
    Committed {
        /// The document.
        file: PathBuf,
        /// Its new serial.
        serial: u64,
        /// Its schema version.
        version: u32,
        /// Its checksum.
        checksum: String,
        /// The serial of the version replaced, when that version was kept
        /// as a backup.
        backed_up: Option<u64>,
    },
    /// A new version was written as the whole document serialized anew
    /// (its comments and formatting lost), not as edits to the previous
    /// version's text: the change is one the format's splicer does not
    /// make in place, or the edited text did not read back as the new
    /// value. Sent just before its [`StoreEvent::Committed`].
    Rewritten {
        /// The document.
        file: PathBuf,
        /// Why (the change and where, as a JSON pointer).
        reason: String,
    },
}

impl std::fmt::Display for StoreEvent {
    #[allow(
        clippy::too_many_lines,
        reason = "one flat arm per event: the messages stay side by side"
    )]
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StoreEvent::LockWaiting {
                lock,
                holder,
                timeout_ms,
            } => {
                let who = holder.as_ref().map_or_else(
                    || "a process that left no record".to_owned(),
                    |h| h.to_string(),
                );
                write!(
                    f,
                    "lock {} is held by {who}; waiting up to {timeout_ms} ms",
                    lock.display()
                )
            }
            StoreEvent::LockAcquired {
                lock,
                lock_id,
                waited_ms,
            } => write!(
                f,
                "lock {} acquired (lock id {lock_id}) after {waited_ms} ms",
                lock.display()
            ),
            StoreEvent::LockReclaimed { lock, previous } => write!(
                f,
                "lock {} reclaimed from {previous}, which is gone",
                lock.display()
            ),
            StoreEvent::LockReleased {
                lock,
                lock_id,
                held_ms,
            } => write!(
                f,
                "lock {} released (lock id {lock_id}) after {held_ms} ms",
                lock.display()
            ),
            StoreEvent::Restored {
                file,
                reason,
                lost_serial,
                backup,
                backup_serial,
                serial,
                kept,
            } => {
                write!(
                    f,
                    "restored {} from backup {backup} (serial {backup_serial}), written as serial {serial}, after: {reason}",
                    file.display()
                )?;
                match lost_serial.filter(|l| l > backup_serial) {
                    Some(lost) if lost == backup_serial + 1 => {
                        write!(f, "; the changes of serial {lost} are not in it")?
                    }
                    Some(lost) => write!(
                        f,
                        "; the changes of serials {} to {lost} are not in it",
                        backup_serial + 1
                    )?,
                    None => {}
                }
                match kept {
                    Some(k) => write!(f, "; the failed version is kept in {k}"),
                    None => Ok(()),
                }
            }
            StoreEvent::Committed {
                file,
                serial,
                version,
                checksum,
                backed_up,
            } => {
                write!(
                    f,
                    "wrote {} (serial {serial}, v{version}, {checksum})",
                    file.display()
                )?;
                match backed_up {
                    Some(s) => write!(f, "; serial {s} kept in .backup/"),
                    None => Ok(()),
                }
            }
            StoreEvent::Rewritten { file, reason } => {
                write!(f, "{}: rewritten in full ({reason})", file.display())
            }
        }
    }
}

/// Where events go: a function called on the thread that did the work.
/// It should be quick (printing a line is); it must not take the lock.
#[derive(Clone)]
pub struct EventSink(Arc<dyn Fn(&StoreEvent) + Send + Sync>);

impl EventSink {
    /// A sink calling `f` for each event.
    pub fn new(f: impl Fn(&StoreEvent) + Send + Sync + 'static) -> EventSink {
        EventSink(Arc::new(f))
    }

    /// Delivers `event`.
    pub fn emit(&self, event: &StoreEvent) {
        (self.0)(event)
    }
}

impl std::fmt::Debug for EventSink {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("EventSink")
    }
}

/// Delivers `event` (built only when there is a sink).
pub(crate) fn emit(sink: &Option<EventSink>, event: impl FnOnce() -> StoreEvent) {
    if let Some(s) = sink {
        s.emit(&event());
    }
}
