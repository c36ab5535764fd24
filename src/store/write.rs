//! The write path: lock held → read the current version (verified) →
//! check version, serial and lineage → stamp the envelope → refuse
//! secrets → validate against the target schema → encode and re-verify the
//! bytes → commit (temp, fsync, backup, rename, fsync dir, audit).

use std::path::PathBuf;
use std::sync::Arc;

use serde_json::Value;
use statewright_spec::catalog::VersionProblem;
use statewright_spec::document::{self};
use statewright_spec::number::values_equal;
use statewright_spec::{Format, Kind, splice};

use crate::envelope::{self, Origin, Stamp, checksum};
use crate::store::audit::AuditEntry;
use crate::store::backend::{Previous, Staged};
use crate::store::cache::depth;
use crate::store::error::{Result, StoreError};
use crate::store::events::{self, StoreEvent};
use crate::store::lock::{LockGuard, LockOptions};
use crate::store::read::Loaded;
use crate::store::verify::Problem;
use crate::store::{Store, secrets};

/// Documents of more nodes than this are checksummed in parallel with
/// their checks and encoding (see [`Store::seal`]); below it, starting a
/// thread costs more than it saves.
const PARALLEL_NODES: usize = 4096;

/// A replaced cached version of at least this many bytes is freed off the
/// write path.
const FREE_ASIDE_BYTES: usize = 256 * 1024;

/// The error for an envelope field that cannot be set in a document.
fn cannot_set(path: &std::path::Path, pointer: &str) -> StoreError {
    StoreError::Encode {
        path: path.to_owned(),
        message: format!("cannot set envelope field `{pointer}`"),
    }
}

/// Whether `v` has more than `n` nodes (values at any depth); stops
/// counting once it knows.
fn has_more_nodes(v: &Value, n: usize) -> bool {
    fn count(v: &Value, left: &mut usize) -> bool {
        if *left == 0 {
            return true;
        }
        *left -= 1;
        match v {
            Value::Array(a) => a.iter().any(|x| count(x, left)),
            Value::Object(m) => m.values().any(|x| count(x, left)),
            _ => false,
        }
    }
    let mut left = n;
    count(v, &mut left)
}

/// Replaces the only occurrence of `from` in `bytes` by `to` (of the same
/// length). False, changing nothing, when `from` is not there exactly once.
fn replace_once(bytes: &mut [u8], from: &[u8], to: &[u8]) -> bool {
    let finder = memchr::memmem::Finder::new(from);
    let Some(at) = finder.find(bytes) else {
        return false;
    };
    if from.len() != to.len() || finder.find(&bytes[at + 1..]).is_some() {
        return false;
    }
    bytes[at..at + to.len()].copy_from_slice(to);
    true
}

/// Who writes, and how carefully.
#[derive(Debug, Clone)]
pub struct WriteContext {
    /// The command (`migrate`, `set`, `repair`).
    pub command: String,
    /// The module or system writing (recorded in `origin.module`).
    pub module: String,
    /// A unique id of this command's run.
    pub command_id: String,
    /// The tool's version.
    pub tool_version: String,
    /// Override the downgrade, serial and lineage checks (a document
    /// rolled back below a serial the store recorded included), and write
    /// over a corrupt document. Serials still only grow: a forced write
    /// gets a serial above every one recorded.
    pub force: bool,
}

impl WriteContext {
    /// A context for `command`, with a fresh command id.
    pub fn new(command: &str) -> WriteContext {
        WriteContext {
            command: command.to_owned(),
            module: "statewright".into(),
            command_id: uuid::Uuid::new_v4().to_string(),
            tool_version: env!("CARGO_PKG_VERSION").into(),
            force: false,
        }
    }

    fn origin(&self) -> Origin {
        Origin {
            module: self.module.clone(),
            command: self.command.clone(),
            command_id: self.command_id.clone(),
            tool_version: self.tool_version.clone(),
        }
    }
}

/// What a write did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WriteOutcome {
    /// The document's file.
    pub path: PathBuf,
    /// The serial written.
    pub serial: u64,
    /// The lineage.
    pub lineage: String,
    /// The checksum written.
    pub checksum: String,
    /// The schema version written.
    pub version: u32,
    /// Why the document was written in full rather than as edits to the
    /// previous version's text (which keep its comments and formatting);
    /// `None` when it was edited in place, or is new.
    pub rewritten: Option<String>,
}

/// Several documents written together or not at all.
pub struct Transaction<'a> {
    store: &'a Store,
    guard: &'a LockGuard,
    puts: Vec<(String, Put)>,
    unstamped_ok: bool,
}

/// What a transaction writes to one document.
enum Put {
    /// A new value, stamped by the store.
    Value(Value),
    /// The bytes of an exported version (see [`Transaction::put_exported`]).
    Exported(Vec<u8>),
}

impl Transaction<'_> {
    /// Adds a new version of `rel`.
    pub fn put(&mut self, rel: &str, value: Value) -> &mut Self {
        self.puts.retain(|(r, _)| r != rel);
        self.puts.push((rel.to_owned(), Put::Value(value)));
        self
    }

    /// Adds a version of `rel` exported from a state dir (`statewright
    /// export`), kept byte for byte when that is safe: it passes every
    /// read check (a copy the store never stamped included), its serial is
    /// above every serial `rel` had here (current version, backups, audit
    /// log) and its lineage and version are those of the current version
    /// or later. Otherwise its value is written as [`Transaction::put`]
    /// writes one, stamped with a new serial. Either way the secret,
    /// provenance, schema and transition checks run, and the audit line
    /// says which it was.
    pub fn put_exported(&mut self, rel: &str, bytes: Vec<u8>) -> &mut Self {
        self.puts.retain(|(r, _)| r != rel);
        self.puts.push((rel.to_owned(), Put::Exported(bytes)));
        self
    }

    /// Verifies every document as [`Transaction::commit`] does and returns
    /// what it would write, without writing anything: for `--dry-run`.
    pub fn dry_run(self, ctx: &WriteContext) -> Result<Vec<WriteOutcome>> {
        let tx = uuid::Uuid::new_v4().to_string();
        self.puts
            .into_iter()
            .map(|(rel, put)| {
                self.store
                    .stage_put(self.guard, &rel, put, ctx, &tx, self.unstamped_ok)
                    .map(|(_, o, _)| o)
            })
            .collect()
    }

    /// Accepts current versions that carry no checksum at all (adopted
    /// documents the store never wrote, as [`Store::read_unstamped`] reads
    /// them) as the version being replaced, instead of refusing them as
    /// corrupt. A checksum that does not match is still refused.
    pub fn accept_unstamped(&mut self, yes: bool) -> &mut Self {
        self.unstamped_ok = yes;
        self
    }

    /// How many documents the transaction holds.
    pub fn len(&self) -> usize {
        self.puts.len()
    }

    /// Whether the transaction holds no document.
    pub fn is_empty(&self) -> bool {
        self.puts.is_empty()
    }

    /// Verifies every document, then commits them all, or none.
    pub fn commit(self, ctx: &WriteContext) -> Result<Vec<WriteOutcome>> {
        let tx = uuid::Uuid::new_v4().to_string();
        let mut staged = Vec::new();
        let mut outcomes = Vec::new();
        let mut verified = Vec::new();
        let mut replaced = Vec::new();
        for (rel, put) in self.puts {
            let (s, o, v) =
                self.store
                    .stage_put(self.guard, &rel, put, ctx, &tx, self.unstamped_ok)?;
            verified.push((rel, v.map(|v| (Arc::clone(&s.bytes), v))));
            replaced.push(s.previous.as_ref().map(|p| p.serial));
            staged.push(s);
            outcomes.push(o);
        }
        self.store.backend.commit(self.guard, staged)?;
        for (rel, v) in verified {
            self.store.remember(&rel, v);
        }
        for (o, r) in outcomes.iter().zip(replaced) {
            self.store.announce(o, r);
        }
        Ok(outcomes)
    }
}

/// A staged version, what the write will report, and the new version as
/// the read checks would load it (when that is certain without reading
/// it back; see [`Store::verified_new`]).
pub(crate) type Prepared = (Staged, WriteOutcome, Option<Loaded>);

/// A new version's bytes.
struct Encoded {
    bytes: Vec<u8>,
    /// Why they are the whole document rather than edits to the previous
    /// version's text.
    rewritten: Option<String>,
    /// What edited bytes read back as.
    back: Option<Value>,
}

impl Encoded {
    /// The checksum, bytes and reason for a full rewrite; `value` becomes
    /// what edited bytes read back as (a large value it replaces is freed
    /// on a thread of its own, off the write path).
    fn settle(self, sum: String, value: &mut Value) -> (String, Vec<u8>, Option<String>) {
        if let Some(back) = self.back {
            let old = std::mem::replace(value, back);
            if has_more_nodes(&old, PARALLEL_NODES) {
                // When no thread can be started, `old` is dropped here.
                let _ = std::thread::Builder::new()
                    .name("statewright-free".into())
                    .spawn(move || drop(old));
            }
        }
        (sum, self.bytes, self.rewritten)
    }
}

/// The version being replaced, and the lowest serial a new one may have.
pub(crate) struct Basis<'a> {
    pub current: Option<&'a Loaded>,
    /// The bytes `current` was read from: the new version is written as
    /// edits to them when it can be (see [`statewright_spec::splice`]).
    pub text: Option<&'a [u8]>,
    pub floor: u64,
    pub outcome: &'a str,
}

impl Store {
    /// Writes a new version of `rel` under the lock.
    pub fn write(
        &self,
        guard: &LockGuard,
        rel: &str,
        value: Value,
        ctx: &WriteContext,
    ) -> Result<WriteOutcome> {
        let tx = uuid::Uuid::new_v4().to_string();
        let (staged, outcome, verified) = self.stage(guard, rel, value, ctx, &tx)?;
        let verified = verified.map(|v| (Arc::clone(&staged.bytes), v));
        let replaced = staged.previous.as_ref().map(|p| p.serial);
        self.backend.commit(guard, vec![staged])?;
        self.remember(rel, verified);
        self.announce(&outcome, replaced);
        Ok(outcome)
    }

    /// Runs every check of [`Store::write`] (version, serial, lineage,
    /// secrets, provenance, schema, encoding) and returns what the write
    /// would do, without writing anything: for `--dry-run`.
    pub fn dry_run_write(
        &self,
        guard: &LockGuard,
        rel: &str,
        value: Value,
        ctx: &WriteContext,
    ) -> Result<WriteOutcome> {
        let tx = uuid::Uuid::new_v4().to_string();
        self.stage(guard, rel, value, ctx, &tx).map(|(_, o, _)| o)
    }

    /// Read-modify-write of `rel` under a lock already held.
    pub fn update_locked<F>(
        &self,
        guard: &LockGuard,
        rel: &str,
        ctx: &WriteContext,
        f: F,
    ) -> Result<WriteOutcome>
    where
        F: FnOnce(&mut Value),
    {
        let mut value = self.read_locked(guard, rel)?.value;
        f(&mut value);
        self.write(guard, rel, value, ctx)
    }

    /// Takes the lock, reads `rel`, applies `f`, writes it, releases.
    pub fn update<F>(
        &self,
        lock: &LockOptions,
        rel: &str,
        ctx: &WriteContext,
        f: F,
    ) -> Result<WriteOutcome>
    where
        F: FnOnce(&mut Value),
    {
        let guard = self.lock(lock)?;
        self.update_locked(&guard, rel, ctx, f)
    }

    /// Starts a transaction under the lock.
    pub fn transaction<'a>(&'a self, guard: &'a LockGuard) -> Transaction<'a> {
        Transaction {
            store: self,
            guard,
            puts: Vec::new(),
            unstamped_ok: false,
        }
    }

    fn stage_put(
        &self,
        guard: &LockGuard,
        rel: &str,
        put: Put,
        ctx: &WriteContext,
        tx: &str,
        unstamped_ok: bool,
    ) -> Result<Prepared> {
        match put {
            Put::Value(v) => self.stage_with(guard, rel, v, ctx, tx, unstamped_ok),
            Put::Exported(bytes) => self.stage_exported(guard, rel, bytes, ctx, tx, unstamped_ok),
        }
    }

    /// Stages an exported version byte for byte when that is safe, or its
    /// value stamped anew (see [`Transaction::put_exported`]).
    fn stage_exported(
        &self,
        guard: &LockGuard,
        rel: &str,
        bytes: Vec<u8>,
        ctx: &WriteContext,
        tx: &str,
        unstamped_ok: bool,
    ) -> Result<Prepared> {
        let kind = self.kind_for(rel)?;
        let copy = match self.check_with(kind, rel, &bytes, true) {
            Ok(copy) => copy,
            // A copy that fails a read check (its schema, most likely) is
            // written as a value, so that it is refused as any write is.
            Err(e) => {
                let path = self.backend.path_of(rel);
                let value = document::decode(&path, bytes, kind.spec.format())
                    .ok()
                    .and_then(|source| document::parse(&source, self.opts.limits).ok())
                    .ok_or(e)?;
                return self.stage_with(guard, rel, value, ctx, tx, unstamped_ok);
            }
        };
        let current = match self.read_current(guard, kind, rel, unstamped_ok) {
            Ok((c, _)) => Some(c),
            Err(StoreError::NotFound { .. }) => None,
            Err(StoreError::Corrupt { .. }) if ctx.force => None,
            Err(e) => return Err(e),
        };
        let env = &copy.envelope;
        let floor = self.recorded_serial(rel)?;
        let keep = match current.as_deref() {
            None => env.serial > floor || (env.serial == 0 && floor == 0),
            Some(c) => {
                env.serial > floor.max(c.envelope.serial)
                    && env.lineage == c.envelope.lineage
                    && c.version <= copy.version
            }
        };
        if !keep {
            return self.stage_with(guard, rel, copy.value, ctx, tx, unstamped_ok);
        }
        if let Some(c) = current.as_deref() {
            self.refuse_transitions(kind, rel, c, &copy.value)?;
        }
        self.refuse_bad_content(kind, rel, copy.version, &copy.value)?;
        let before = current.as_deref().map(|c| &c.envelope);
        let audit = AuditEntry {
            time: jiff::Timestamp::now().to_string(),
            tx: tx.to_owned(),
            command: ctx.command.clone(),
            origin: serde_json::to_value(ctx.origin()).unwrap_or(Value::Null),
            file: rel.to_owned(),
            serial: env.serial,
            before: before.and_then(|e| e.checksum.clone()),
            after: env.checksum.clone(),
            from_version: before.map(|e| e.version),
            to_version: Some(copy.version),
            outcome: "imported: the exported bytes kept".into(),
            prev: String::new(),
            hash: String::new(),
            rotated: false,
            anchor: false,
        };
        let previous = before.map(|e| Previous {
            serial: e.serial,
            checksum: e.checksum.clone().unwrap_or_default(),
        });
        let outcome = WriteOutcome {
            path: self.backend.path_of(rel),
            serial: env.serial,
            lineage: env.lineage.clone().unwrap_or_default(),
            checksum: env.checksum.clone().unwrap_or_default(),
            version: copy.version,
            rewritten: None,
        };
        // Only a version with a checksum is remembered as verified (as a
        // read of an unstamped version is not).
        let verified = env.checksum.is_some().then_some(copy);
        let staged = Staged {
            rel: rel.to_owned(),
            bytes: Arc::new(bytes),
            kind: kind.name.clone(),
            lineage: outcome.lineage.clone(),
            previous,
            audit,
        };
        Ok((staged, outcome, verified))
    }

    fn stage(
        &self,
        guard: &LockGuard,
        rel: &str,
        value: Value,
        ctx: &WriteContext,
        tx: &str,
    ) -> Result<Prepared> {
        self.stage_with(guard, rel, value, ctx, tx, false)
    }

    fn stage_with(
        &self,
        guard: &LockGuard,
        rel: &str,
        value: Value,
        ctx: &WriteContext,
        tx: &str,
        unstamped_ok: bool,
    ) -> Result<Prepared> {
        let kind = self.kind_for(rel)?;
        let (current, text) = match self.read_current(guard, kind, rel, unstamped_ok) {
            Ok((c, text)) => (Some(c), text),
            Err(StoreError::NotFound { .. }) => (None, None),
            Err(StoreError::Corrupt { .. }) if ctx.force => (None, None),
            Err(e) => return Err(e),
        };
        let floor = match &current {
            Some(c) => {
                let recorded = self.recorded_serial(rel)?;
                if recorded > c.envelope.serial && !ctx.force {
                    return Err(StoreError::SerialBehind {
                        path: self.backend.path_of(rel),
                        found: c.envelope.serial,
                        recorded,
                    });
                }
                recorded
            }
            None => self.recorded_serial(rel)?,
        };
        if let Some(c) = &current {
            self.refuse_transitions(kind, rel, c, &value)?;
        }
        let basis = Basis {
            current: current.as_deref(),
            text: text.as_deref().map(Vec::as_slice),
            floor,
            outcome: "written",
        };
        self.prepare(kind, rel, value, ctx, tx, &basis)
    }

    /// Refuses a new value that moves a state along an edge the schema's
    /// state machines forbid (checked against the current version's schema
    /// and the one being written). Recovery never comes here: restoring a
    /// backup may move a state back.
    fn refuse_transitions(
        &self,
        kind: &Kind,
        rel: &str,
        current: &Loaded,
        value: &Value,
    ) -> Result<()> {
        let target = kind.spec.version_of(value).unwrap_or(current.version);
        let schema = kind
            .version(target)
            .or_else(|| kind.version(current.version))
            .map(|s| &s.schema);
        let Some(schema) = schema else { return Ok(()) };
        let violations = crate::transitions::check(schema, &current.value, value);
        if violations.is_empty() {
            return Ok(());
        }
        Err(StoreError::Transition {
            path: self.backend.path_of(rel),
            violations,
        })
    }

    /// The highest serial `rel` is known to have had: the store's verified
    /// records of it (its backup index, or the audit lines whose chain
    /// verifies; see [`crate::store::Backend::recorded_serial`]). A current
    /// version below it was rolled back outside the store.
    pub(crate) fn recorded_serial(&self, rel: &str) -> Result<u64> {
        self.backend.recorded_serial(rel)
    }

    pub(crate) fn prepare(
        &self,
        kind: &Kind,
        rel: &str,
        mut value: Value,
        ctx: &WriteContext,
        tx: &str,
        basis: &Basis<'_>,
    ) -> Result<Prepared> {
        let path = self.backend.path_of(rel);
        let fields = &kind.spec.fields;
        let version = self.target_version(kind, rel, &value, basis.current, ctx.force)?;
        let (serial, lineage) = self.next_serial(rel, &value, ctx, basis)?;
        let stamp = Stamp {
            serial,
            lineage: lineage.clone(),
            generated_at: jiff::Timestamp::now().to_string(),
            origin: ctx.origin(),
            default_version: version,
        };
        envelope::stamp_fields(fields, &mut value, &stamp).map_err(|p| cannot_set(&path, &p))?;
        let previous = basis.text.zip(basis.current.map(|c| &c.value));
        let (sum, bytes, rewritten) = self.seal(kind, rel, version, &mut value, previous)?;
        let before = basis.current.map(|c| &c.envelope);
        let audit = AuditEntry {
            time: stamp.generated_at.clone(),
            tx: tx.to_owned(),
            command: ctx.command.clone(),
            origin: serde_json::to_value(ctx.origin()).unwrap_or(Value::Null),
            file: rel.to_owned(),
            serial,
            before: before.and_then(|e| e.checksum.clone()),
            after: Some(sum.clone()),
            from_version: before.map(|e| e.version),
            to_version: Some(version),
            outcome: basis.outcome.to_owned(),
            prev: String::new(),
            hash: String::new(),
            rotated: false,
            anchor: false,
        };
        let previous = before.map(|e| Previous {
            serial: e.serial,
            checksum: e.checksum.clone().unwrap_or_default(),
        });
        let staged = Staged {
            rel: rel.to_owned(),
            bytes: Arc::new(bytes),
            kind: kind.name.clone(),
            lineage: lineage.clone(),
            previous,
            audit,
        };
        let verified = self.verified_new(kind, &staged.bytes, value, &path, version);
        let outcome = WriteOutcome {
            path,
            serial,
            lineage,
            checksum: sum,
            version,
            rewritten,
        };
        Ok((staged, outcome, verified))
    }

    fn target_version(
        &self,
        kind: &Kind,
        rel: &str,
        value: &Value,
        current: Option<&Loaded>,
        force: bool,
    ) -> Result<u32> {
        let path = self.backend.path_of(rel);
        let known = kind.latest().version;
        let version = match kind.spec.version_of(value) {
            Ok(v) => v,
            Err(VersionProblem::Missing) => current.map_or(known, |c| c.version),
            Err(VersionProblem::NotAVersion(v)) => {
                return Err(StoreError::Encode {
                    path,
                    message: format!(
                        "`{v}` at `{}` is not a schema version",
                        kind.spec.fields.version
                    ),
                });
            }
        };
        if version > known {
            return Err(StoreError::NewerVersion {
                path,
                found: version,
                known,
                checksum_mismatch: false,
            });
        }
        if kind.version(version).is_none() {
            return Err(StoreError::Encode {
                path,
                message: format!("kind `{}` has no schema version {version}", kind.name),
            });
        }
        match current {
            Some(c) if c.version > version && !force => Err(StoreError::Downgrade {
                path,
                from: c.version,
                to: version,
            }),
            _ => Ok(version),
        }
    }

    fn next_serial(
        &self,
        rel: &str,
        value: &Value,
        ctx: &WriteContext,
        basis: &Basis<'_>,
    ) -> Result<(u64, String)> {
        let Some(kind) = self.catalog.kind_for(std::path::Path::new(rel)) else {
            return Err(StoreError::UnknownKind {
                path: rel.to_owned(),
            });
        };
        let fields = &kind.spec.fields;
        let given_serial = value.pointer(&fields.serial).and_then(Value::as_u64);
        let given_lineage = value
            .pointer(&fields.lineage)
            .and_then(Value::as_str)
            .map(str::to_owned);
        let conflict = |message: String| StoreError::Conflict {
            path: self.backend.path_of(rel),
            message,
        };
        let Some(c) = basis.current else {
            let serial = given_serial.unwrap_or(0).max(basis.floor) + 1;
            let lineage = given_lineage.unwrap_or_else(|| uuid::Uuid::new_v4().to_string());
            return Ok((serial, lineage));
        };
        let current_lineage = c.envelope.lineage.clone();
        if !ctx.force {
            if let (Some(g), Some(l)) = (&given_lineage, &current_lineage)
                && g != l
            {
                return Err(conflict(format!(
                    "its lineage {g} is not the document's lineage {l}"
                )));
            }
            if let Some(s) = given_serial.filter(|s| *s != c.envelope.serial) {
                return Err(conflict(format!(
                    "it is based on serial {s} but the document is at serial {}",
                    c.envelope.serial
                )));
            }
        }
        let lineage = match ctx.force {
            true => given_lineage.or(current_lineage),
            false => current_lineage,
        };
        let serial = c
            .envelope
            .serial
            .max(given_serial.unwrap_or(0))
            .max(basis.floor)
            + 1;
        Ok((
            serial,
            lineage.unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
        ))
    }

    fn refuse_bad_content(
        &self,
        kind: &Kind,
        rel: &str,
        version: u32,
        value: &Value,
    ) -> Result<()> {
        let path = self.backend.path_of(rel);
        let prov = &kind.spec.fields.provenance;
        if kind.spec.provenance && value.pointer(prov).is_none_or(Value::is_null) {
            return Err(StoreError::Invalid {
                path,
                version,
                problems: vec![Problem {
                    pointer: prov.clone(),
                    message: format!(
                        "kind `{}` requires provenance (test suite, timestamp, artifacts)",
                        kind.name
                    ),
                }],
            });
        }
        let schema = kind
            .version(version)
            .map(|s| &s.schema)
            .unwrap_or(&Value::Null);
        if let Some(f) = secrets::scan(value, schema, &kind.spec.secrets_allow) {
            return Err(StoreError::Secret {
                path,
                pointer: f.pointer,
                what: f.what,
            });
        }
        self.verifier
            .verify(kind, version, value)
            .map_err(|problems| match self.verifier.schema_error(kind, version) {
                Some(message) => StoreError::SchemaBroken {
                    path,
                    version,
                    message,
                },
                None => StoreError::Invalid {
                    path,
                    version,
                    problems,
                },
            })
    }

    /// The new version as a read would load it from `bytes`, when that is
    /// certain: JSON written by `serde_json` from the verified `value`
    /// reads back as exactly `value` (the guarantee [`Store::encode`]
    /// relies on), provided it is within the parser's size and depth
    /// limits. `None` otherwise (the next write then reads it fully).
    fn verified_new(
        &self,
        kind: &Kind,
        bytes: &[u8],
        value: Value,
        path: &std::path::Path,
        version: u32,
    ) -> Option<Loaded> {
        let limits = self.opts.limits;
        if kind.spec.format() != Format::Json
            || bytes.len() > limits.max_bytes
            || depth(&value) + 1 >= limits.max_depth.min(127)
        {
            return None;
        }
        let envelope = envelope::Envelope::read(&kind.spec, &value).ok()?;
        Some(Loaded {
            kind: kind.name.clone(),
            version,
            value,
            envelope,
            source: path.to_owned(),
            restored: None,
        })
    }

    /// Checksums, checks (secrets, schema) and encodes a stamped `value`,
    /// setting its checksum field. Returns the checksum, the bytes and why
    /// they are a full rewrite of `previous` (its bytes and value), if they
    /// are. When the bytes are edits to `previous`, `value` becomes what
    /// they read back as (the same value, in the text's key order).
    ///
    /// A large JSON document is checksummed on a second thread while this
    /// one checks and encodes it with a placeholder checksum of the same
    /// shape (`sha256:` and 64 random hex digits), which is then replaced
    /// in the bytes. The checksum does not cover its own field, and the
    /// placeholder passes the same checks the real value does, so the
    /// result is byte for byte what the one-thread way gives; when the
    /// placeholder is not found exactly once the value is encoded again.
    fn seal(
        &self,
        kind: &Kind,
        rel: &str,
        version: u32,
        value: &mut Value,
        previous: Option<(&[u8], &Value)>,
    ) -> Result<(String, Vec<u8>, Option<String>)> {
        let fields = &kind.spec.fields;
        let path = self.backend.path_of(rel);
        if kind.spec.format() != Format::Json || !has_more_nodes(value, PARALLEL_NODES) {
            let sum = checksum(value, &fields.checksum);
            envelope::set_checksum(fields, value, &sum).map_err(|p| cannot_set(&path, &p))?;
            self.refuse_bad_content(kind, rel, version, value)?;
            let encoded = self.encode(kind, rel, value, &sum, previous)?;
            return Ok(encoded.settle(sum, value));
        }
        let placeholder = format!(
            "sha256:{}{}",
            uuid::Uuid::new_v4().simple(),
            uuid::Uuid::new_v4().simple()
        );
        envelope::set_checksum(fields, value, &placeholder).map_err(|p| cannot_set(&path, &p))?;
        let shared: &Value = value;
        let (sum, encoded) = std::thread::scope(|scope| {
            // When no thread can be started, the checksum is computed here.
            let sum = std::thread::Builder::new()
                .name("statewright-checksum".into())
                .spawn_scoped(scope, || checksum(shared, &fields.checksum));
            let encoded = self
                .refuse_bad_content(kind, rel, version, shared)
                .and_then(|()| self.encode(kind, rel, shared, &placeholder, previous));
            let sum = match sum {
                Ok(handle) => handle
                    .join()
                    .unwrap_or_else(|panic| std::panic::resume_unwind(panic)),
                Err(_) => checksum(shared, &fields.checksum),
            };
            (sum, encoded)
        });
        let mut encoded = encoded?;
        envelope::set_checksum(fields, value, &sum).map_err(|p| cannot_set(&path, &p))?;
        if !replace_once(&mut encoded.bytes, placeholder.as_bytes(), sum.as_bytes()) {
            encoded = self.encode(kind, rel, value, &sum, previous)?;
        } else if let Some(back) = encoded.back.as_mut() {
            envelope::set_checksum(fields, back, &sum).map_err(|p| cannot_set(&path, &p))?;
        }
        Ok(encoded.settle(sum, value))
    }

    /// Sends the [`StoreEvent::Committed`] of a version just committed,
    /// which replaced the version of serial `replaced`.
    /// A version written in full rather than edited in place is said
    /// first ([`StoreEvent::Rewritten`]).
    pub(crate) fn announce(&self, o: &WriteOutcome, replaced: Option<u64>) {
        if let Some(reason) = &o.rewritten {
            events::emit(&self.opts.events, || StoreEvent::Rewritten {
                file: o.path.clone(),
                reason: reason.clone(),
            });
        }
        events::emit(&self.opts.events, || StoreEvent::Committed {
            file: o.path.clone(),
            serial: o.serial,
            version: o.version,
            checksum: o.checksum.clone(),
            backed_up: replaced.filter(|_| self.opts.backups > 0),
        });
    }

    /// Remembers a version just committed (see `cache.rs`). A large
    /// version it replaces is freed on a thread of its own, off the write
    /// path (freeing a parsed 1 MiB document takes about as long as
    /// encoding it).
    fn remember(&self, rel: &str, verified: Option<(Arc<Vec<u8>>, Loaded)>) {
        if let Some((bytes, loaded)) = verified
            && let Some(old) = self.verified.put(rel, bytes, Arc::new(loaded))
            && old.len() >= FREE_ASIDE_BYTES
        {
            // When no thread can be started, the closure (and `old`) is
            // dropped right here instead.
            let _ = std::thread::Builder::new()
                .name("statewright-free".into())
                .spawn(move || drop(old));
        }
    }

    /// The bytes of `value`: edits to `previous` (its bytes and value)
    /// when there is one and they read back as exactly `value`, else the
    /// whole document serialized, with the reason.
    fn encode(
        &self,
        kind: &Kind,
        rel: &str,
        value: &Value,
        sum: &str,
        previous: Option<(&[u8], &Value)>,
    ) -> Result<Encoded> {
        let rewritten = match previous {
            None => None,
            Some((text, old)) => match self.splice(kind, rel, text, old, value, sum) {
                Ok((bytes, back)) => {
                    return Ok(Encoded {
                        bytes,
                        rewritten: None,
                        back: Some(back),
                    });
                }
                Err(reason) => Some(reason),
            },
        };
        Ok(Encoded {
            bytes: self.encode_full(kind, rel, value, sum)?,
            rewritten,
            back: None,
        })
    }

    /// `value` written as edits to `text`, the previous version (which
    /// reads as `old`), with the value the edited text reads back as; or
    /// why it cannot be. The edited text is parsed back and must read as
    /// exactly `value` (JSON: the same text of every number; YAML and TOML:
    /// the same values, checksum and checksum field).
    fn splice(
        &self,
        kind: &Kind,
        rel: &str,
        text: &[u8],
        old: &Value,
        value: &Value,
        sum: &str,
    ) -> std::result::Result<(Vec<u8>, Value), String> {
        let format = kind.spec.format();
        let (bom, body) = match text.strip_prefix(b"\xEF\xBB\xBF") {
            Some(rest) => (&text[..3], rest),
            None => (&text[..0], text),
        };
        let body = std::str::from_utf8(body)
            .map_err(|_| "the previous version is not UTF-8 text".to_owned())?;
        let edited = splice::splice(format, body, old, value).map_err(|u| u.to_string())?;
        let mismatch = || "the edited text did not read back as the new value".to_owned();
        let path = self.backend.path_of(rel);
        let source =
            document::decode(&path, edited.into_bytes(), format).map_err(|_| mismatch())?;
        let back = document::parse(&source, self.opts.limits).map_err(|_| mismatch())?;
        let field = &kind.spec.fields.checksum;
        let same = match format {
            Format::Json => back == *value,
            Format::Yaml | Format::Toml => {
                values_equal(&back, value)
                    && back.pointer(field) == value.pointer(field)
                    && checksum(&back, field) == sum
            }
        };
        if !same {
            return Err(mismatch());
        }
        let mut bytes = bom.to_vec();
        bytes.extend_from_slice(source.text.as_bytes());
        Ok((bytes, back))
    }

    /// The whole document serialized (pretty JSON, YAML, TOML), read back
    /// and compared (YAML, TOML).
    fn encode_full(&self, kind: &Kind, rel: &str, value: &Value, sum: &str) -> Result<Vec<u8>> {
        let path = self.backend.path_of(rel);
        let fail = |message: String| StoreError::Encode {
            path: path.clone(),
            message,
        };
        let format = kind.spec.format();
        let bytes = match format {
            Format::Json => serde_json::to_vec_pretty(value)
                .map(|mut b| {
                    b.push(b'\n');
                    b
                })
                .map_err(|e| fail(e.to_string()))?,
            Format::Yaml => serde_saphyr::to_string(&document::Portable(value))
                .map(String::into_bytes)
                .map_err(|e| fail(e.to_string()))?,
            Format::Toml => toml::to_string(&document::Portable(value))
                .map(String::into_bytes)
                .map_err(|e| fail(e.to_string()))?,
        };
        // Only a complete, verified document may become visible. JSON is
        // written by serde_json from the verified value, which round-trips
        // exactly; YAML and TOML encoders are read back and compared.
        if format == Format::Json {
            return Ok(bytes);
        }
        let source =
            document::decode(&path, bytes.clone(), format).map_err(|e| fail(e.to_string()))?;
        let back = document::parse(&source, self.opts.limits).map_err(|e| fail(e.to_string()))?;
        if checksum(&back, &kind.spec.fields.checksum) != sum {
            return Err(fail(format!(
                "the {} encoding does not read back the same",
                format.name()
            )));
        }
        Ok(bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_once_needs_exactly_one_occurrence_of_the_same_length() {
        let mut b = b"{\"a\": \"XXXX\", \"b\": 1}".to_vec();
        assert!(replace_once(&mut b, b"XXXX", b"abcd"));
        assert_eq!(b, b"{\"a\": \"abcd\", \"b\": 1}");
        let mut twice = b"XXXX XXXX".to_vec();
        assert!(!replace_once(&mut twice, b"XXXX", b"abcd"));
        assert_eq!(twice, b"XXXX XXXX");
        assert!(!replace_once(&mut b, b"none", b"abcd"));
        assert!(!replace_once(&mut b, b"abcd", b"abc"));
    }

    #[test]
    fn node_count_stops_early() {
        let v = serde_json::json!({"a": [1, 2, {"b": 3}], "c": null});
        // The object, the array, 1, 2, the inner object, 3, null: 7 nodes.
        assert!(has_more_nodes(&v, 6));
        assert!(!has_more_nodes(&v, 7));
        assert!(!has_more_nodes(&serde_json::json!(1), 1));
    }
}
