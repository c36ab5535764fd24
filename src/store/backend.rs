//! Where documents are kept. [`Backend`] is everything the store needs
//! from storage: bytes of documents and backups, the lock, an
//! all-or-nothing commit of staged versions (with backups and audit), and
//! the leftovers of interrupted writes. [`LocalBackend`] is the default:
//! a state dir on the local file system, all of it through [`Fs`]. The
//! PostgreSQL backend (`store::pg::PgBackend`, feature `postgres`)
//! implements the same trait for a namespace of a shared database, without
//! touching callers of [`crate::store::Store`].

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::store::atomic::{self, parent};
use crate::store::audit::{AUDIT_FILE, AuditEntry, AuditLog};
use crate::store::backup::{self, BACKUP_DIR, BackupEntry};
use crate::store::error::{Result, StoreError};
use crate::store::fs::{Fs, NotRegular};
use crate::store::journal::{self, JOURNAL, Journal, Rename};
use crate::store::layout::{self, Listing};
use crate::store::lock::{self, Broken, LOCK_FILE, LockGuard, LockOptions, LockStatus};

/// The version a commit replaces.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Previous {
    /// Its serial.
    pub serial: u64,
    /// Its checksum.
    pub checksum: String,
}

/// A new, verified version of one document, ready to commit.
#[derive(Debug, Clone)]
pub struct Staged {
    /// The document's path inside the state dir.
    pub rel: String,
    /// The bytes to write (shared with the store's cache of verified
    /// versions, so that remembering them costs no copy).
    pub bytes: Arc<Vec<u8>>,
    /// The document's kind (recorded beside the bytes by backends that
    /// keep metadata, such as PostgreSQL).
    pub kind: String,
    /// The document's lineage.
    pub lineage: String,
    /// The good version it replaces (backed up first), if any.
    pub previous: Option<Previous>,
    /// The audit line recording the change.
    pub audit: AuditEntry,
}

/// A temp file left by an interrupted write.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Leftover {
    /// The temp's path inside the state dir.
    pub temp: String,
    /// The document it was to replace.
    pub target: String,
    /// Whether it belongs to a transaction.
    pub tx: bool,
}

/// Storage for a state dir's documents.
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// A path naming `rel` in messages.
    fn path_of(&self, rel: &str) -> PathBuf;
    /// The bytes of a document; `None` when it does not exist.
    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>>;
    /// Takes the state dir's lock.
    fn lock(&self, opts: &LockOptions) -> Result<LockGuard>;
    /// Who holds the lock.
    fn lock_status(&self) -> Result<LockStatus>;
    /// Clears the lock record `lock_id` of a holder that is gone.
    fn break_lock(&self, lock_id: &str) -> Result<Broken>;
    /// Makes all `batch` versions visible, or none. Backs up the versions
    /// replaced and appends the audit lines.
    fn commit(&self, guard: &LockGuard, batch: Vec<Staged>) -> Result<()>;
    /// Keeps the current bytes of `rel` (a version that failed a check and
    /// is about to be replaced by a restored backup) where nothing reads
    /// them; where they went, or `None` when there is no file.
    fn keep_corrupt(&self, guard: &LockGuard, rel: &str) -> Result<Option<String>>;
    /// The backups of a document, newest first.
    fn backups(&self, rel: &str) -> Vec<BackupEntry>;
    /// The bytes of a backup.
    fn read_backup(&self, entry: &BackupEntry) -> Result<Vec<u8>>;
    /// The highest serial the audit log records for a document.
    fn audited_serial(&self, rel: &str) -> Option<u64>;
    /// Like [`Backend::audited_serial`], but cheap enough for every write:
    /// a backend may leave out lines it has rotated away. The default
    /// reads the whole log.
    fn recent_audited_serial(&self, rel: &str) -> Option<u64> {
        self.audited_serial(rel)
    }
    /// The highest serial the store has recorded for a document, from
    /// verified records only (see [`backup`]): its index (newest committed
    /// serial, listed backups) and, for a document without one, the audit
    /// lines whose chain verifies. Cheap enough for every write. A record
    /// that cannot be used is an error, never trusted.
    fn recorded_serial(&self, rel: &str) -> Result<u64> {
        let backups = self.backups(rel).first().map_or(0, |b| b.serial);
        Ok(backups.max(self.recent_audited_serial(rel).unwrap_or(0)))
    }
    /// Whether interrupted writes may have left something to recover (a
    /// journal, temps, a holder record, an incomplete audit line): only
    /// then does opening take the lock. Looks only; the default: always.
    fn pending(&self) -> Result<bool> {
        Ok(true)
    }
    /// Finishes or rolls back an interrupted transaction. Returns what it did.
    fn resolve_journal(&self, guard: &LockGuard) -> Result<Option<String>>;
    /// Temp files left by interrupted writes.
    fn leftovers(&self) -> Result<Vec<Leftover>>;
    /// Renames a verified leftover into place (backing up `previous`).
    fn finish(
        &self,
        guard: &LockGuard,
        l: &Leftover,
        previous: Option<Previous>,
        audit: AuditEntry,
    ) -> Result<()>;
    /// Removes a leftover.
    fn discard(&self, guard: &LockGuard, l: &Leftover) -> Result<()>;
    /// The paths (inside the state dir) of every file that is not the
    /// store's own: documents and anything else a user put there.
    fn files(&self) -> Result<Vec<String>> {
        Ok(self.listing(false)?.files)
    }
    /// What the state dir holds besides the store's own files (see
    /// [`layout::list`]): regular files, temps, entries that are not
    /// regular files, folders too deep to read. With `kept`, the store's
    /// files that hold state are listed too ([`layout::list_kept`]).
    fn listing(&self, kept: bool) -> Result<Listing>;
    /// Every file an export bundles, with its bytes, sorted by path: the
    /// documents and the store's records that hold state, under the names
    /// a state dir gives them (`audit.log`, `.backup/<name>`, ...). An entry
    /// that is not a regular file is refused.
    fn export_files(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let listing = self.listing(true)?;
        if let Some((rel, what)) = listing.special.first() {
            return Err(StoreError::NotRegular {
                path: self.path_of(rel),
                what,
            });
        }
        let mut out = Vec::with_capacity(listing.files.len());
        for rel in listing.files {
            let bytes = self.read(&rel)?.ok_or_else(|| StoreError::NotFound {
                path: self.path_of(&rel),
            })?;
            out.push((rel, bytes));
        }
        Ok(out)
    }
    /// Appends audit lines for changes already committed (recovery).
    fn append_audit(&self, guard: &LockGuard, entries: Vec<AuditEntry>) -> Result<()>;
    /// Repairs the audit log's tail after a crash; a warning when it did.
    fn repair_audit(&self) -> Result<Option<String>>;
    /// Checks the audit chain; the number of lines.
    fn verify_audit(&self) -> Result<usize>;
    /// Lists a verified backup that a write killed between linking it and
    /// recording it left out of its document's index (recovery, under
    /// the lock). A backend without backup files has nothing to list.
    fn list_backup(&self, _guard: &LockGuard, _entry: BackupEntry) -> Result<()> {
        Ok(())
    }
}

/// A state dir on the local file system.
#[derive(Debug)]
pub struct LocalBackend {
    dir: PathBuf,
    fs: Arc<dyn Fs>,
    keep: usize,
    audit: AuditLog,
}

/// The folder where a document that failed a check is kept, byte for
/// byte, when it is restored from a backup (`<file>.<time>`, `/` in the
/// document's path written `%2F`). Nothing reads it back; it is there to
/// inspect or to copy back by hand.
pub const CORRUPT_DIR: &str = ".corrupt";

/// Names in the state dir that are the store's own, never documents.
pub const RESERVED: [&str; 5] = [LOCK_FILE, JOURNAL, BACKUP_DIR, AUDIT_FILE, CORRUPT_DIR];

impl LocalBackend {
    /// The backend of `dir`, keeping `keep` backups per document and
    /// rotating the audit log past `audit_max` bytes.
    pub fn new(fs: Arc<dyn Fs>, dir: &Path, keep: usize, audit_max: u64) -> LocalBackend {
        LocalBackend {
            dir: dir.to_owned(),
            fs,
            keep,
            audit: AuditLog::new(dir, audit_max, 8),
        }
    }

    fn check_guard(&self, guard: &LockGuard) -> Result<()> {
        if guard.path != self.dir.join(LOCK_FILE) {
            return Err(StoreError::NotLocked {
                path: self.dir.join(LOCK_FILE),
            });
        }
        Ok(())
    }

    fn ensure_parent(&self, rel: &str) -> Result<()> {
        let mut cur = self.dir.clone();
        let parts: Vec<&str> = rel.split('/').collect();
        for part in &parts[..parts.len() - 1] {
            let next = cur.join(part);
            match self
                .fs
                .meta(&next)
                .map_err(|e| StoreError::write_io("stat", next.clone(), e))?
            {
                Some(m) if m.is_symlink => return Err(StoreError::Symlink { path: next }),
                Some(_) => {}
                None => {
                    self.fs
                        .create_dir(&next)
                        .map_err(|e| StoreError::write_io("create", next.clone(), e))?;
                    atomic::sync_dir(&*self.fs, &cur)?;
                }
            }
            cur = next;
        }
        Ok(())
    }

    fn mode_of(&self, target: &Path) -> Result<u32> {
        match self
            .fs
            .meta(target)
            .map_err(|e| StoreError::write_io("stat", target.to_owned(), e))?
        {
            None => Ok(0o644),
            Some(m) if m.is_symlink => Err(StoreError::Symlink {
                path: target.to_owned(),
            }),
            Some(m) if !m.is_file => Err(StoreError::Encode {
                path: target.to_owned(),
                message: "not a regular file".into(),
            }),
            Some(m) => Ok(m.mode),
        }
    }

    /// Links the version `previous` of `rel` into the backup folder (see
    /// [`backup::link`]); the entry to record after the commit.
    fn link_backup(&self, rel: &str, previous: &Option<Previous>) -> Result<Option<BackupEntry>> {
        let Some(p) = previous else { return Ok(None) };
        let path = self.dir.join(rel);
        let src = backup::Source {
            rel,
            path: &path,
            serial: p.serial,
            checksum: &p.checksum,
        };
        backup::link(&*self.fs, &self.dir, &src, self.keep)
    }

    /// Records a committed version in the document's index (see
    /// [`backup::record`]). The version is committed already, so a failure
    /// here fails nothing: the index keeps its previous content, and the
    /// backup just linked is left unlisted (reported by `check`).
    fn record(&self, rel: &str, serial: u64, linked: Option<BackupEntry>) {
        let _ = backup::record(&*self.fs, &self.dir, rel, serial, linked, self.keep);
    }

    fn commit_one(&self, s: Staged) -> Result<()> {
        let target = self.dir.join(&s.rel);
        self.ensure_parent(&s.rel)?;
        let mode = self.mode_of(&target)?;
        backup::convert_manifest(&*self.fs, &self.dir)?;
        let temp = atomic::write_temp(&*self.fs, &target, &s.bytes, mode, false)?;
        let linked = match self.link_backup(&s.rel, &s.previous) {
            Ok(l) => l,
            Err(e) => {
                let _ = self.fs.remove(&temp);
                return Err(e);
            }
        };
        atomic::replace(&*self.fs, &temp, &target)?;
        self.record(&s.rel, s.audit.serial, linked);
        self.audit.append(&*self.fs, vec![s.audit])
    }

    fn commit_many(&self, batch: Vec<Staged>) -> Result<()> {
        let mut renames = Vec::new();
        let cleanup = |renames: &[Rename]| {
            for r in renames {
                let _ = self.fs.remove(&self.dir.join(&r.temp));
            }
        };
        for s in &batch {
            let target = self.dir.join(&s.rel);
            let made = self.ensure_parent(&s.rel).and_then(|()| {
                let mode = self.mode_of(&target)?;
                atomic::write_temp(&*self.fs, &target, &s.bytes, mode, true)
            });
            match made {
                Ok(temp) => renames.push(Rename {
                    temp: relative(&self.dir, &temp),
                    target: s.rel.clone(),
                }),
                Err(e) => {
                    cleanup(&renames);
                    return Err(e);
                }
            }
        }
        if let Err(e) = backup::convert_manifest(&*self.fs, &self.dir) {
            cleanup(&renames);
            return Err(e);
        }
        let previous: Vec<(String, Option<Previous>)> = batch
            .iter()
            .map(|s| (s.rel.clone(), s.previous.clone()))
            .collect();
        let tx = batch
            .first()
            .map(|s| s.audit.tx.clone())
            .unwrap_or_default();
        let j = Journal {
            tx,
            renames,
            audit: batch.into_iter().map(|s| s.audit).collect(),
        };
        self.run_journal(j, &previous)
    }

    fn run_journal(&self, j: Journal, previous: &[(String, Option<Previous>)]) -> Result<()> {
        let fs = &*self.fs;
        let (mut f, mark) = match journal::begin(fs, &self.dir, &j) {
            Ok(x) => x,
            Err(e) => {
                let _ = journal::roll_back(fs, &self.dir, Some(&j));
                return Err(e);
            }
        };
        if let Err(e) = journal::commit(&self.dir, &mut f, &mark) {
            drop(f);
            let _ = journal::roll_back(fs, &self.dir, Some(&j));
            return Err(e);
        }
        drop(f);
        self.roll_forward(&j, previous, false)
    }

    /// Finishes a committed transaction: links the backups of the versions
    /// it replaces (only now, after the commit mark, so that a rolled-back
    /// transaction leaves none), renames, records the indexes, appends the
    /// audit lines (unless `recovering` finds them there already) and ends
    /// the journal. `previous` names the replaced versions (empty when a
    /// journal left by a crash is rolled forward: their backups are not
    /// taken then).
    fn roll_forward(
        &self,
        j: &Journal,
        previous: &[(String, Option<Previous>)],
        recovering: bool,
    ) -> Result<()> {
        let mut linked = std::collections::HashMap::new();
        for (rel, p) in previous {
            let pending = j.renames.iter().any(|r| {
                &r.target == rel
                    && self
                        .fs
                        .meta(&self.dir.join(&r.temp))
                        .ok()
                        .flatten()
                        .is_some()
            });
            if pending && let Some(b) = self.link_backup(rel, p)? {
                linked.insert(rel.clone(), b);
            }
        }
        journal::apply(&*self.fs, &self.dir, j)?;
        for a in &j.audit {
            self.record(&a.file, a.serial, linked.remove(&a.file));
        }
        if !recovering || !self.audit.contains_tx(&*self.fs, &j.tx) {
            self.audit.append(&*self.fs, j.audit.clone())?;
        }
        journal::end(&*self.fs, &self.dir)
    }
}

/// `p` relative to `dir`, with `/` separators.
fn relative(dir: &Path, p: &Path) -> String {
    p.strip_prefix(dir)
        .unwrap_or(p)
        .to_string_lossy()
        .replace('\\', "/")
}

fn read_opt(fs: &dyn Fs, path: &Path) -> Result<Option<Vec<u8>>> {
    match fs.read(path) {
        Ok(b) => Ok(Some(b)),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) if NotRegular::of(&e).is_some() => Err(StoreError::NotRegular {
            path: path.to_owned(),
            what: NotRegular::of(&e).map_or("", |n| n.0),
        }),
        Err(e) if e.raw_os_error() == Some(libc::ELOOP) => Err(StoreError::Symlink {
            path: path.to_owned(),
        }),
        Err(source) if matches!(source.raw_os_error(), Some(libc::EACCES | libc::EPERM)) => {
            Err(StoreError::Unreadable {
                path: path.to_owned(),
                source,
            })
        }
        Err(source) => Err(StoreError::Io {
            op: "read",
            path: path.to_owned(),
            source,
        }),
    }
}

impl Backend for LocalBackend {
    fn path_of(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        read_opt(&*self.fs, &self.dir.join(rel))
    }

    fn lock(&self, opts: &LockOptions) -> Result<LockGuard> {
        lock::acquire(&*self.fs, &self.dir, opts)
    }

    fn lock_status(&self) -> Result<LockStatus> {
        lock::status(&*self.fs, &self.dir)
    }

    fn break_lock(&self, lock_id: &str) -> Result<Broken> {
        lock::break_lock(&*self.fs, &self.dir, lock_id)
    }

    fn commit(&self, guard: &LockGuard, mut batch: Vec<Staged>) -> Result<()> {
        self.check_guard(guard)?;
        match batch.len() {
            0 => Ok(()),
            1 => self.commit_one(batch.remove(0)),
            _ => self.commit_many(batch),
        }
    }

    fn keep_corrupt(&self, guard: &LockGuard, rel: &str) -> Result<Option<String>> {
        self.check_guard(guard)?;
        let path = self.dir.join(rel);
        if self.fs.meta(&path).ok().flatten().is_none() {
            return Ok(None);
        }
        let dir = self.dir.join(CORRUPT_DIR);
        self.fs
            .create_dir(&dir)
            .map_err(|e| StoreError::write_io("create", dir.clone(), e))?;
        let time = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S%.fZ");
        let name = format!("{}.{time}", backup::flat(rel));
        // A second name for the same bytes: the restore's rename then
        // leaves them here instead of freeing them.
        self.fs
            .hard_link(&path, &dir.join(&name))
            .map_err(|e| StoreError::write_io("link", dir.join(&name), e))?;
        atomic::sync_dir(&*self.fs, &dir)?;
        Ok(Some(format!("{CORRUPT_DIR}/{name}")))
    }

    fn backups(&self, rel: &str) -> Vec<BackupEntry> {
        backup::list(&*self.fs, &self.dir, rel)
    }

    fn list_backup(&self, guard: &LockGuard, entry: BackupEntry) -> Result<()> {
        self.check_guard(guard)?;
        let (rel, serial) = (entry.file.clone(), entry.serial);
        backup::record(&*self.fs, &self.dir, &rel, serial, Some(entry), self.keep)
    }

    fn read_backup(&self, entry: &BackupEntry) -> Result<Vec<u8>> {
        let path = backup::dir(&self.dir).join(&entry.backup);
        read_opt(&*self.fs, &path)?.ok_or(StoreError::NotFound { path })
    }

    fn audited_serial(&self, rel: &str) -> Option<u64> {
        self.audit.last_serial(&*self.fs, rel)
    }

    fn recent_audited_serial(&self, rel: &str) -> Option<u64> {
        self.audit.verified_serial(&*self.fs, rel)
    }

    fn recorded_serial(&self, rel: &str) -> Result<u64> {
        let idx = backup::read_index(&*self.fs, &self.dir, rel)?;
        let indexed = idx.as_ref().map_or(0, backup::DocIndex::highest);
        if idx.as_ref().is_some_and(|i| i.serial.is_some()) {
            return Ok(indexed);
        }
        Ok(indexed.max(self.audit.verified_serial(&*self.fs, rel).unwrap_or(0)))
    }

    fn pending(&self) -> Result<bool> {
        let fs = &*self.fs;
        // Anything but an empty regular file needs a look under the lock
        // (a FIFO or a link where the journal belongs is reported there).
        let non_empty = |name: &str| {
            fs.meta(&self.dir.join(name))
                .ok()
                .flatten()
                .is_some_and(|m| m.len > 0 || !m.is_file)
        };
        if non_empty(JOURNAL) || non_empty(LOCK_FILE) || self.audit.tail_incomplete(fs) {
            return Ok(true);
        }
        Ok(!self.leftovers()?.is_empty())
    }

    fn resolve_journal(&self, guard: &LockGuard) -> Result<Option<String>> {
        self.check_guard(guard)?;
        let Some(found) = journal::find(&*self.fs, &self.dir)? else {
            return Ok(None);
        };
        match (found.journal, found.committed) {
            (Some(j), true) => {
                self.roll_forward(&j, &[], true)?;
                Ok(Some(format!(
                    "rolled forward committed transaction {} ({} documents)",
                    j.tx,
                    j.renames.len()
                )))
            }
            (j, _) => {
                journal::roll_back(&*self.fs, &self.dir, j.as_ref())?;
                let tx = j
                    .map(|j| j.tx)
                    .unwrap_or_else(|| "with an unreadable journal".into());
                Ok(Some(format!("rolled back uncommitted transaction {tx}")))
            }
        }
    }

    fn leftovers(&self) -> Result<Vec<Leftover>> {
        Ok(self
            .listing(false)?
            .temps
            .into_iter()
            .map(|t| Leftover {
                temp: t.temp,
                target: t.target,
                tx: t.tx,
            })
            .collect())
    }

    fn listing(&self, kept: bool) -> Result<Listing> {
        let list = if kept {
            layout::list_kept
        } else {
            layout::list
        };
        list(&*self.fs, &self.dir).map_err(|(path, source)| StoreError::Io {
            op: "list",
            path,
            source,
        })
    }

    fn append_audit(&self, guard: &LockGuard, entries: Vec<AuditEntry>) -> Result<()> {
        self.check_guard(guard)?;
        self.audit.append(&*self.fs, entries)
    }

    fn finish(
        &self,
        guard: &LockGuard,
        l: &Leftover,
        previous: Option<Previous>,
        audit: AuditEntry,
    ) -> Result<()> {
        self.check_guard(guard)?;
        let target = self.dir.join(&l.target);
        let linked = self.link_backup(&l.target, &previous)?;
        atomic::replace(&*self.fs, &self.dir.join(&l.temp), &target)?;
        self.record(&l.target, audit.serial, linked);
        self.audit.append(&*self.fs, vec![audit])
    }

    fn discard(&self, guard: &LockGuard, l: &Leftover) -> Result<()> {
        self.check_guard(guard)?;
        let path = self.dir.join(&l.temp);
        self.fs
            .remove(&path)
            .map_err(|e| StoreError::write_io("remove", path.clone(), e))?;
        atomic::sync_dir(&*self.fs, parent(&path))
    }

    fn repair_audit(&self) -> Result<Option<String>> {
        self.audit.repair_tail(&*self.fs)
    }

    fn verify_audit(&self) -> Result<usize> {
        self.audit.verify(&*self.fs)
    }
}
