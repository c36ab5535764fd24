//! The read path: parse strictly → envelope → checksum → version → schema.
//! A document failing a check is a [`StoreError::Corrupt`] naming the
//! check, the file, line:col and the JSON pointer; with `recover` on, the
//! newest good backup is restored instead.

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use statewright_spec::document::{self, ParseError, SourceText};
use statewright_spec::{Kind, locate};

use crate::envelope::{Envelope, checksum};
use crate::store::Store;
use crate::store::error::{Check, Result, StoreError};
use crate::store::lock::{LockGuard, LockOptions};
use crate::store::recovery::Restored;

/// A document read and verified.
#[derive(Debug, Clone)]
pub struct Loaded {
    /// The kind's name.
    pub kind: String,
    /// The schema version.
    pub version: u32,
    /// The whole document, envelope included.
    pub value: Value,
    /// The envelope fields.
    pub envelope: Envelope,
    /// The file it was read from.
    pub source: PathBuf,
    /// Set when the document was restored from a backup by this read.
    pub restored: Option<Restored>,
}

/// The current version of a document, with the bytes it was read from
/// (`None` when it was restored from a backup instead).
pub(crate) type Current = (Arc<Loaded>, Option<Arc<Vec<u8>>>);

struct Checker<'a> {
    path: PathBuf,
    source: Option<&'a SourceText>,
    recover: bool,
}

impl Checker<'_> {
    fn fail(&self, check: Check, pointer: Option<String>, message: String) -> StoreError {
        let at = match (self.source, &pointer) {
            (Some(s), Some(p)) => locate::locate(s, p).map(|pos| (pos.line, pos.column)),
            _ => None,
        };
        let remedy = if self.recover {
            "no good backup could be restored; restore it by hand from .backup/"
        } else {
            "restore the newest good backup with `statewright check --repair` (or rerun with `--recover`, or set recover = true in statewright.toml)"
        };
        StoreError::Corrupt {
            path: self.path.clone(),
            check,
            at,
            pointer,
            message,
            remedy,
        }
    }
}

fn parse_failure(c: &Checker<'_>, e: ParseError) -> StoreError {
    let pointer = match &e {
        ParseError::Syntax { pointer, .. } => pointer.clone(),
        _ => None,
    };
    // The error's own `path:line:col: ` prefix is dropped: the corrupt
    // document's message says where once.
    let text = e.to_string();
    let rest = text
        .strip_prefix(&c.path.display().to_string())
        .unwrap_or(&text);
    let rest = match e.position() {
        Some(pos) => rest.strip_prefix(&format!(":{pos}")).unwrap_or(rest),
        None => rest,
    };
    let message = rest.strip_prefix(": ").unwrap_or(rest).to_owned();
    let mut err = c.fail(Check::Parse, None, message);
    if let StoreError::Corrupt { at, pointer: p, .. } = &mut err {
        *at = e.position().map(|pos| (pos.line, pos.column));
        *p = pointer;
    }
    err
}

impl Store {
    /// Reads and verifies a document. With `recover` on, a corrupt one is
    /// restored from its newest good backup (taking the lock).
    pub fn read(&self, rel: &str) -> Result<Loaded> {
        self.read_inner(rel, None)
    }

    /// Like [`Store::read`], for a caller already holding the lock.
    pub fn read_locked(&self, guard: &LockGuard, rel: &str) -> Result<Loaded> {
        self.read_inner(rel, Some(guard))
    }

    /// Like [`Store::read`] (or [`Store::read_locked`] with `guard`), but a
    /// document that has no checksum at all passes: an adopted document
    /// the store never wrote (its first write stamps it). Every other check
    /// applies; a checksum that does not match is still corrupt.
    pub fn read_unstamped(&self, guard: Option<&LockGuard>, rel: &str) -> Result<Loaded> {
        let kind = self.kind_for(rel)?;
        match self.read_bytes_checked(kind, rel, true) {
            Err(StoreError::Corrupt { .. }) if self.opts.recover => self.read_inner(rel, guard),
            other => other,
        }
    }

    fn read_inner(&self, rel: &str, guard: Option<&LockGuard>) -> Result<Loaded> {
        let kind = self.kind_for(rel)?;
        let checked = match guard {
            // Under the lock, remember the verdict for a write that follows.
            Some(_) => self.read_bytes(rel).and_then(|bytes| {
                let loaded = self.check(kind, rel, &bytes)?;
                self.verified
                    .put(rel, Arc::new(bytes), Arc::new(loaded.clone()));
                Ok(loaded)
            }),
            None => self.read_checked(kind, rel),
        };
        match checked {
            Err(StoreError::Corrupt { .. }) if self.opts.recover => match guard {
                Some(g) => self.recover(g, rel),
                None => {
                    let opts = LockOptions {
                        timeout: self.opts.lock_timeout,
                        command: "read (recover)".into(),
                        events: None,
                    };
                    let g = self.lock(&opts)?;
                    self.recover(&g, rel)
                }
            },
            other => other,
        }
    }

    pub(crate) fn read_checked(&self, kind: &Kind, rel: &str) -> Result<Loaded> {
        self.read_bytes_checked(kind, rel, false)
    }

    pub(crate) fn read_bytes_checked(
        &self,
        kind: &Kind,
        rel: &str,
        unstamped_ok: bool,
    ) -> Result<Loaded> {
        let bytes = self.read_bytes(rel)?;
        self.check_with(kind, rel, &bytes, unstamped_ok)
    }

    fn read_bytes(&self, rel: &str) -> Result<Vec<u8>> {
        let path = self.backend.path_of(rel);
        self.backend.read(rel)?.ok_or(StoreError::NotFound { path })
    }

    /// The current version of `rel` for a write under the lock: read and
    /// verified like [`Store::read_locked`], except that the verdict of a
    /// version with exactly the same bytes is reused (see `cache.rs`).
    /// With it, the bytes it was read from (for the write to edit in place;
    /// `None` when it was restored from a backup instead).
    ///
    /// With `unstamped_ok`, a version without any checksum passes too (see
    /// [`Store::read_unstamped`]); that verdict is not remembered.
    pub(crate) fn read_current(
        &self,
        guard: &LockGuard,
        kind: &Kind,
        rel: &str,
        unstamped_ok: bool,
    ) -> Result<Current> {
        let bytes = self.read_bytes(rel)?;
        if let Some(loaded) = self.verified.get(rel, &bytes) {
            return Ok((loaded, Some(Arc::new(bytes))));
        }
        match self.check_with(kind, rel, &bytes, unstamped_ok) {
            Ok(loaded) => {
                let loaded = Arc::new(loaded);
                let bytes = Arc::new(bytes);
                if !unstamped_ok {
                    self.verified.put(rel, bytes.clone(), loaded.clone());
                }
                Ok((loaded, Some(bytes)))
            }
            Err(StoreError::Corrupt { .. }) if self.opts.recover => {
                Ok((Arc::new(self.recover(guard, rel)?), None))
            }
            Err(e) => Err(e),
        }
    }

    /// Runs every read check on `bytes` as the document `rel`.
    pub(crate) fn check(&self, kind: &Kind, rel: &str, bytes: &[u8]) -> Result<Loaded> {
        self.check_with(kind, rel, bytes, false)
    }

    /// Like [`Store::check`]; with `unstamped_ok`, a document with no
    /// checksum at all (an adopted document the store never wrote) passes
    /// the checksum check. A checksum that does not match still fails.
    pub(crate) fn check_with(
        &self,
        kind: &Kind,
        rel: &str,
        bytes: &[u8],
        unstamped_ok: bool,
    ) -> Result<Loaded> {
        let path = self.backend.path_of(rel);
        let mut c = Checker {
            path: path.clone(),
            source: None,
            recover: self.opts.recover,
        };
        let source = document::decode(&path, bytes.to_vec(), kind.spec.format())
            .map_err(|e| parse_failure(&c, e))?;
        let value = document::parse(&source, self.opts.limits).map_err(|e| parse_failure(&c, e))?;
        c.source = Some(&source);
        let fields = &kind.spec.fields;
        let envelope = Envelope::read(&kind.spec, &value).map_err(|p| {
            let pointer = match &p {
                crate::envelope::EnvelopeProblem::Version { pointer, .. } => pointer,
                crate::envelope::EnvelopeProblem::Field { pointer, .. } => pointer,
            };
            c.fail(Check::Envelope, Some(pointer.clone()), p.to_string())
        })?;
        let actual = checksum(&value, &fields.checksum);
        let mismatch = envelope.checksum.as_ref().is_some_and(|s| *s != actual);
        let known = kind.latest().version;
        // The version first: a document from a newer release is refused as
        // such (exit 4), saying whether its checksum fails too. Recovery
        // still restores a document whose checksum fails.
        if envelope.version > known && !(mismatch && self.opts.recover) {
            return Err(StoreError::NewerVersion {
                path,
                found: envelope.version,
                known,
                checksum_mismatch: mismatch,
            });
        }
        checksum_check(&c, fields, &envelope, &value, &actual, unstamped_ok)?;
        if envelope.version > known {
            return Err(StoreError::NewerVersion {
                path,
                found: envelope.version,
                known,
                checksum_mismatch: false,
            });
        }
        if kind.version(envelope.version).is_none() {
            let msg = format!(
                "the catalog has no schema version {} for kind `{}`",
                envelope.version, kind.name
            );
            return Err(c.fail(Check::Version, Some(fields.version.clone()), msg));
        }
        self.schema_check(&c, kind, envelope.version, &value)?;
        Ok(Loaded {
            kind: kind.name.clone(),
            version: envelope.version,
            value,
            envelope,
            source: path,
            restored: None,
        })
    }

    /// The schema of `version` accepts `value`; a schema that does not
    /// compile is said as such.
    fn schema_check(
        &self,
        c: &Checker<'_>,
        kind: &Kind,
        version: u32,
        value: &Value,
    ) -> Result<()> {
        let Err(problems) = self.verifier.verify(kind, version, value) else {
            return Ok(());
        };
        if let Some(message) = self.verifier.schema_error(kind, version) {
            return Err(StoreError::SchemaBroken {
                path: c.path.clone(),
                version,
                message,
            });
        }
        let first = problems.first().map(|p| p.pointer.clone());
        let msg = problems
            .iter()
            .map(ToString::to_string)
            .collect::<Vec<_>>()
            .join("; ");
        Err(c.fail(Check::Schema, first, msg))
    }
}

/// The recorded checksum matches the content (`actual`). An adopted
/// document that statewright never wrote (no checksum, serial or lineage
/// at all) passes, as does any document without a checksum when
/// `unstamped_ok`; it is read as serial 0 and the first write through the
/// store stamps it. A document with a serial or lineage but no checksum
/// is still corrupt.
fn checksum_check(
    c: &Checker<'_>,
    fields: &statewright_spec::EnvelopeFields,
    envelope: &Envelope,
    value: &Value,
    actual: &str,
    unstamped_ok: bool,
) -> Result<()> {
    match &envelope.checksum {
        None if unstamped_ok || is_unstamped(fields, value) => Ok(()),
        None => Err(c.fail(
            Check::Checksum,
            Some(fields.checksum.clone()),
            "no checksum".into(),
        )),
        Some(s) if s != actual => Err(c.fail(
            Check::Checksum,
            Some(fields.checksum.clone()),
            format!("recorded {s}, but the content hashes to {actual}"),
        )),
        Some(_) => Ok(()),
    }
}

/// Whether a document carries none of the store's stamp (checksum, serial,
/// lineage): an adopted file written by another program.
pub(crate) fn is_unstamped(fields: &statewright_spec::EnvelopeFields, value: &Value) -> bool {
    [&fields.checksum, &fields.serial, &fields.lineage]
        .iter()
        .all(|p| value.pointer(p).is_none())
}
