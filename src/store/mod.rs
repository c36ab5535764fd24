//! The store: the library's single read and write path for state
//! documents. It locks the state dir, reads and verifies documents,
//! restores corrupt ones from backups when asked, and writes new versions
//! atomically and durably with a stamped envelope, a backup of the version
//! replaced and an audit line; several documents at once through a journal.
//!
//! # State dir layout
//!
//! | name | what |
//! |---|---|
//! | documents | at the paths the catalog's kinds match |
//! | `.lock` | the lock file: `flock`ed, never renamed; content = holder JSON |
//! | `.backup/` | rolling backups (hard links) and `index/<file>`, one index per document |
//! | `.corrupt/` | versions that failed a check and were replaced by a restored backup, kept byte for byte (`<file>.<time>`) |
//! | `audit.log`, `audit.log.N` | hash-chained JSON lines, rotated by size |
//! | `.journal` | only while a transaction commits |
//! | `.<name>.<random>.tmp` | only while a write is in flight |
//!
//! # Write protocol (one document)
//!
//! 1. The caller holds the lock ([`Store::lock`], an RAII guard).
//! 2. The current version is read and fully verified (a corrupt one is
//!    refused unless `force`; a newer schema version always). When its
//!    bytes equal, byte for byte, those of a version this store verified
//!    or wrote before, that verdict is reused instead of parsing again
//!    (every check is a function of the bytes; see `cache.rs`).
//! 3. Version, serial and lineage are checked: a lower version
//!    (downgrade), a value based on an older serial (lost update) or from
//!    another lineage is refused unless `force`; serials always grow.
//!    A current version whose serial is below the highest one recorded
//!    for the document (its backup index: newest committed serial and
//!    listed backups; without an index, the audit lines whose chain
//!    verifies) was rolled back outside the store: writing over it is refused
//!    ([`StoreError::SerialBehind`]) unless `force`, which writes a serial
//!    above the recorded one.
//!    A state change that a schema's `x-statewright-transitions` machine
//!    forbids is refused ([`StoreError::Transition`], listing the states
//!    allowed); writing the same state again and new entries are allowed.
//!    Recovery (restoring a backup, finishing a temp) is not checked.
//! 4. The envelope is stamped (serial + 1, lineage kept or created,
//!    `generated_at`, `origin`, then the checksum).
//! 5. Secrets are refused ([`secrets`]), provenance is required where the
//!    kind says so, and the document is validated against its schema
//!    ([`Verifier`]).
//! 6. It is encoded. JSON is written by `serde_json` from the verified
//!    value, which reads back exactly; YAML and TOML are parsed back and
//!    their checksum compared. Only a complete, verified document can
//!    become visible. For a large JSON document (more than 4096 values)
//!    the checksum of step 4 is computed on a second thread while steps 5
//!    and 6 run on a placeholder of the same shape, which is then replaced
//!    in the bytes; the result is byte for byte the same.
//! 7. [`atomic`]: temp `.<name>.<random>.tmp` (`O_EXCL | O_NOFOLLOW`, the
//!    existing mode), write, fsync; the current version is linked into
//!    `.backup/` and the manifest rewritten; rename over; fsync the folder.
//!    An fsync error abandons the write and is never retried.
//! 8. One audit line is appended and fsynced.
//!
//! # Transactions
//!
//! See [`journal`]: all temps first, then `.journal` naming the renames,
//! fsync, a commit mark, fsync, the renames, the audit lines, journal
//! removed.
//!
//! # Read protocol
//!
//! Strict parse (`statewright_spec::document`) → envelope fields (at the
//! kind's `fields` pointers) → checksum (a document with no checksum,
//! serial or lineage at all is an adopted, unstamped file: read as serial
//! 0 and stamped by its first write) → version (newer than the catalog:
//! refused with the remedy) → schema. A failure is
//! [`StoreError::Corrupt`] with the check, `file:line:col` and pointer.
//! With `recover` on, the newest backup that passes every check is written
//! back through the write protocol with a serial above any the document
//! had (backups and audit log), and audited; nothing else is touched.
//! The failed version's bytes are kept in `.corrupt/` (a second name, not
//! a copy), and a [`StoreEvent::Restored`]
//! says which backup was restored, which serials its restore loses and
//! where the failed version is (the CLI always prints it as a warning).
//!
//! # On open
//!
//! See [`recovery`](Store::recover_pending): under the lock, a journal is
//! rolled forward or back, leftover temps are finished (complete, valid,
//! same lineage, higher serial) or removed, an incomplete audit line is
//! cut off. Everything done is returned in [`OpenReport`]; the library
//! never prints.
//!
//! # Known limits
//!
//! - The audit line is appended after the rename. A writer killed between
//!   the two leaves a committed change without its line until the lock is
//!   next taken: whoever reclaims the dead holder's lock writes the line
//!   from the document's envelope, marked as written on recovery. After a
//!   power loss that also lost the lock file's content, the line stays
//!   missing (the document's own envelope still records serial and
//!   origin) until `statewright check` reports it (SW040) and
//!   `check --repair` writes it ([`Store::audit_unlogged`]).
//! - The audit log's chain shows lines edited, removed, inserted or
//!   reordered, and lines cut off its head (see [`audit`]); lines cut off
//!   its tail only show as documents without their line (SW040). A log
//!   removed or emptied is reported (`audit verify`,
//!   [`StoreError::AuditMissing`]; `check`, SW047) while documents carry a
//!   serial or have backups; the next write starts a new log from the
//!   genesis hash.
//! - A write compares the current version's serial with the document's
//!   own backup index (one small file: the cost of a write does not grow
//!   with the state dir); `statewright check` compares it with every
//!   record (SW046). Unverified records (a backup file no index lists, an
//!   audit line whose chain does not verify) never raise the serial a
//!   write expects.
//! - Opening a store only looks; the lock (whose holder record is a
//!   write) is taken only when interrupted writes left something to
//!   recover, and when it cannot be (a full disk, a read-only state dir,
//!   another holder) recovery is deferred to the next writer and said.
//! - `lock break` can only clear the record of a holder that is gone; the
//!   kernel lock of a live process cannot be taken from outside it.
//! - Locks are `flock` locks: reliable on local file systems; on network
//!   file systems only as reliable as the server's lock support.
//!
//! A namespace of a PostgreSQL database (`store::pg`, feature `postgres`)
//! follows the same read and write protocols through the same [`Backend`]
//! trait; only steps 7 and 8 differ: one SQL transaction on the session
//! holding the namespace's advisory lock, and nothing to recover on open.

pub mod atomic;
pub mod audit;
pub mod backend;
pub mod backup;
mod cache;
pub mod error;
pub mod events;
pub mod fs;
pub mod journal;
pub mod layout;
pub mod lock;
pub mod migrating;
#[cfg(feature = "postgres")]
pub mod pg;
mod read;
mod recovery;
pub mod secrets;
pub mod verify;
mod write;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use statewright_spec::{Catalog, Kind, ParseLimits, Project};

pub use backend::{Backend, LocalBackend};
pub use error::{Check, Result, StoreError};
pub use events::{EventSink, StoreEvent};
pub use fs::{Fs, RealFs};
pub use lock::{HolderInfo, LockGuard, LockOptions, LockStatus};
pub use migrating::StoreWriter;
pub use read::Loaded;
pub(crate) use read::is_unstamped;
pub use recovery::{OpenReport, Restored};
pub use verify::{Problem, SchemaVerifier, Verifier};
pub use write::{Transaction, WriteContext, WriteOutcome};

/// How a store behaves.
#[derive(Debug, Clone)]
pub struct StoreOptions {
    /// Rolling backups kept per document (0: none).
    pub backups: usize,
    /// Whether reads restore a corrupt document from its newest good backup.
    pub recover: bool,
    /// How long reads that recover wait for the lock.
    pub lock_timeout: Duration,
    /// The audit log is rotated past this size.
    pub audit_max_bytes: u64,
    /// Parser limits for documents.
    pub limits: ParseLimits,
    /// Where the store's events go (see [`events`]); `None`: nowhere.
    pub events: Option<EventSink>,
}

impl Default for StoreOptions {
    fn default() -> Self {
        StoreOptions {
            backups: 3,
            recover: false,
            lock_timeout: Duration::from_secs(10),
            audit_max_bytes: 4 << 20,
            limits: ParseLimits::default(),
            events: None,
        }
    }
}

impl StoreOptions {
    /// The options a project file sets (`backups`, `recover`).
    pub fn from_project(p: &Project) -> StoreOptions {
        StoreOptions {
            backups: p.backups,
            recover: p.recover,
            ..StoreOptions::default()
        }
    }
}

/// Checks that `dir` is a folder (not a link to one): the one test of a
/// state dir, with the message that says what it is instead.
fn check_state_dir(fs: &dyn Fs, dir: &Path) -> Result<()> {
    match fs.meta(dir) {
        Ok(Some(m)) if m.is_dir => Ok(()),
        Ok(Some(m)) => Err(StoreError::StateNotDir {
            path: dir.to_owned(),
            what: layout::describe(&m),
            target: m.is_symlink.then(|| fs.read_link(dir).ok()).flatten(),
        }),
        Ok(None) => Err(StoreError::MissingDir {
            path: dir.to_owned(),
        }),
        Err(source) => Err(StoreError::Io {
            op: "stat",
            path: dir.to_owned(),
            source,
        }),
    }
}

/// A state dir opened for reading and writing.
pub struct Store {
    catalog: Catalog,
    dir: PathBuf,
    opts: StoreOptions,
    backend: Arc<dyn Backend>,
    verifier: Arc<dyn Verifier>,
    verified: cache::Verified,
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dir", &self.dir)
            .field("backend", &self.backend)
            .finish_non_exhaustive()
    }
}

impl Store {
    /// Opens the state dir `dir` on the local file system with the default
    /// schema verifier, and recovers what interrupted writes left.
    pub fn open(catalog: &Catalog, dir: &Path, opts: StoreOptions) -> Result<(Store, OpenReport)> {
        Store::open_with(
            catalog,
            dir,
            opts,
            Arc::new(RealFs),
            Arc::new(SchemaVerifier::new(catalog)),
        )
    }

    /// Opens the state dir `dir` without recovering anything and without
    /// taking the lock: for commands that only look (`check`, `lock
    /// status`, `audit verify`). Nothing on disk is changed by opening.
    pub fn open_read_only(catalog: &Catalog, dir: &Path, opts: StoreOptions) -> Result<Store> {
        check_state_dir(&RealFs, dir)?;
        let backend = Arc::new(LocalBackend::new(
            Arc::new(RealFs),
            dir,
            opts.backups,
            opts.audit_max_bytes,
        ));
        Ok(Store {
            catalog: catalog.clone(),
            dir: dir.to_owned(),
            opts,
            backend,
            verifier: Arc::new(SchemaVerifier::new(catalog)),
            verified: cache::Verified::default(),
        })
    }

    /// Opens with a given file-system interface and verifier.
    pub fn open_with(
        catalog: &Catalog,
        dir: &Path,
        opts: StoreOptions,
        fs: Arc<dyn Fs>,
        verifier: Arc<dyn Verifier>,
    ) -> Result<(Store, OpenReport)> {
        check_state_dir(&*fs, dir)?;
        let backend = Arc::new(LocalBackend::new(
            fs,
            dir,
            opts.backups,
            opts.audit_max_bytes,
        ));
        Store::with_backend(catalog, dir, opts, backend, verifier)
    }

    /// Opens the namespace `url` of a PostgreSQL database (see [`pg`]):
    /// connects, creates or upgrades the tables (refusing tables of a
    /// newer statewright) and registers the namespace. Nothing is left to
    /// recover on open: the server rolls back what an interrupted client
    /// left.
    #[cfg(feature = "postgres")]
    pub fn open_postgres(
        catalog: &Catalog,
        url: &pg::StateUrl,
        opts: StoreOptions,
    ) -> Result<(Store, OpenReport)> {
        let backend = Arc::new(pg::PgBackend::connect(url, opts.backups)?);
        let verifier = Arc::new(SchemaVerifier::new(catalog));
        Store::with_backend(catalog, &url.dir(), opts, backend, verifier)
    }

    /// Opens the state a `[project] state` URL names
    /// (`postgres://HOST:PORT/DATABASE?namespace=NAME`, see
    /// [`Store::open_postgres`]). A build without the `postgres` feature
    /// refuses it, saying so.
    pub fn open_url(
        catalog: &Catalog,
        url: &str,
        opts: StoreOptions,
    ) -> Result<(Store, OpenReport)> {
        #[cfg(feature = "postgres")]
        {
            let url = pg::StateUrl::parse(url)?;
            Store::open_postgres(catalog, &url, opts)
        }
        #[cfg(not(feature = "postgres"))]
        {
            let _ = (catalog, opts);
            let _ = url;
            Err(StoreError::StateUrl {
                url: "[project] state".into(),
                message: "this statewright was built without the `postgres` feature; rebuild it with `--features postgres`".into(),
            })
        }
    }

    /// Opens over any backend.
    pub fn with_backend(
        catalog: &Catalog,
        dir: &Path,
        opts: StoreOptions,
        backend: Arc<dyn Backend>,
        verifier: Arc<dyn Verifier>,
    ) -> Result<(Store, OpenReport)> {
        let store = Store {
            catalog: catalog.clone(),
            dir: dir.to_owned(),
            opts,
            backend,
            verifier,
            verified: cache::Verified::default(),
        };
        let report = store.recover_on_open()?;
        Ok((store, report))
    }

    /// What the state dir holds besides the store's own files (through
    /// [`layout`], the one owner of the layout): regular files, temps,
    /// entries that are not regular files, folders too deep to read.
    /// With `kept`, the store's files that hold state (backups, manifest,
    /// `.corrupt/`, audit log) are listed too: what an export bundles.
    pub fn listing(&self, kept: bool) -> Result<layout::Listing> {
        self.backend.listing(kept)
    }

    /// Every file an export bundles, with its bytes, sorted by path: the
    /// documents and the records that hold state (the audit log, backups
    /// or kept versions), named as in a state dir, on either backend.
    pub fn export_files(&self) -> Result<Vec<(String, Vec<u8>)>> {
        self.backend.export_files()
    }

    /// The bytes of the file `rel` inside the state dir, unverified (for
    /// an export): a path that is not relative and normalized, a link or
    /// anything but a regular file is refused.
    pub fn read_raw(&self, rel: &str) -> Result<Vec<u8>> {
        layout::check_relative(rel).map_err(|_| StoreError::BadPath {
            path: rel.to_owned(),
        })?;
        let path = self.backend.path_of(rel);
        self.backend.read(rel)?.ok_or(StoreError::NotFound { path })
    }

    /// The catalog the store checks documents against.
    pub fn catalog(&self) -> &Catalog {
        &self.catalog
    }

    /// The state dir.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Takes the state dir's lock (an RAII guard). Finishes what a holder
    /// that died left behind.
    pub fn lock(&self, opts: &LockOptions) -> Result<LockGuard> {
        let guard = self.backend.lock(&self.with_events(opts))?;
        if guard.reclaimed.is_some() {
            self.recover_pending(&guard)?;
        }
        Ok(guard)
    }

    /// Takes the lock and always recovers what interrupted writes left
    /// (journal, temps, audit tail), returning what was done, including
    /// the record of a dead holder that was cleared (for `check --repair`).
    pub fn lock_and_recover(&self, opts: &LockOptions) -> Result<(LockGuard, OpenReport)> {
        let guard = self.backend.lock(&self.with_events(opts))?;
        let mut report = self.recover_pending(&guard)?;
        if let Some(h) = &guard.reclaimed {
            report
                .actions
                .insert(0, format!("cleared the lock record of {h}, which is gone"));
        }
        Ok((guard, report))
    }

    /// `opts`, with the store's event sink when it names none.
    fn with_events(&self, opts: &LockOptions) -> LockOptions {
        let mut opts = opts.clone();
        if opts.events.is_none() {
            opts.events = self.opts.events.clone();
        }
        opts
    }

    /// Who holds the lock (for `statewright lock status`).
    pub fn lock_status(&self) -> Result<LockStatus> {
        self.backend.lock_status()
    }

    /// Clears the record of lock `lock_id` when its holder is gone (for
    /// `statewright lock break LOCK_ID`).
    pub fn break_lock(&self, lock_id: &str) -> Result<lock::Broken> {
        self.backend.break_lock(lock_id)
    }

    /// The highest serial the audit log records for document `rel`.
    pub fn audited_serial(&self, rel: &str) -> Option<u64> {
        self.backend.audited_serial(rel)
    }

    /// Checks the audit log's hash chain; the number of lines. A log
    /// without any line while the state dir shows writes through the
    /// store (a document with a serial, a backup) is
    /// [`StoreError::AuditMissing`], unless a live process holds the lock
    /// (its first line may be on its way).
    pub fn verify_audit(&self) -> Result<usize> {
        let n = self.backend.verify_audit()?;
        if n > 0 || matches!(self.backend.lock_status(), Ok(LockStatus::Held { .. })) {
            return Ok(n);
        }
        match self.written_evidence()? {
            Some(evidence) => Err(StoreError::AuditMissing {
                path: self.dir.join(audit::AUDIT_FILE),
                evidence,
            }),
            None => Ok(n),
        }
    }

    /// What shows that the store has written in the state dir: documents
    /// with a serial above 0 and documents with backups (`None`: nothing).
    fn written_evidence(&self) -> Result<Option<String>> {
        let (mut stamped, mut backed_up) = (Vec::new(), 0);
        for rel in self.backend.files()? {
            let Ok(kind) = self.kind_for(&rel) else {
                continue;
            };
            if let Ok(doc) = self.read_bytes_checked(kind, &rel, true) {
                stamped.push((rel.clone(), doc.envelope.serial));
            }
            if !self.backend.backups(&rel).is_empty() {
                backed_up += 1;
            }
        }
        Ok(audit::written_evidence(stamped, backed_up))
    }

    fn kind_for(&self, rel: &str) -> Result<&Kind> {
        let bad = || StoreError::BadPath {
            path: rel.to_owned(),
        };
        if layout::check_document(rel).is_err() {
            return Err(bad());
        }
        self.catalog
            .kind_for(Path::new(rel))
            .ok_or_else(|| StoreError::UnknownKind {
                path: rel.to_owned(),
            })
    }
}
