//! The PostgreSQL backend: a namespace of a database instead of a state
//! dir, behind the same [`Backend`] trait, so that every check of the
//! store (serials, lineage, schema, secrets, transitions, audit lines)
//! runs unchanged on it.
//!
//! One connection per store, opened by [`PgBackend::connect`]: reads,
//! the namespace's lock ([`lock`]) and commits all use it, so a commit is
//! only ever made by the session that holds the lock. A commit is one SQL
//! transaction: the replaced versions are kept in `statewright_versions`
//! (the newest `backups` per document), the documents upserted with their
//! metadata and exact bytes, and the audit lines chained to the
//! namespace's last line, all or nothing. There is no journal, no temp and
//! nothing to recover on open: an interrupted transaction is rolled back
//! by the server.
//!
//! The tables and their versioning are in [`schema`]; the statements of a
//! commit in `commit`; the lock in [`lock`]; the URL, the password lookup
//! and redaction in [`url`].

mod commit;
pub mod lock;
pub mod schema;
mod tls;
pub mod url;

use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};

use postgres::Client;
use postgres::error::SqlState;

use crate::store::audit::{self, AUDIT_FILE, AuditEntry, GENESIS};
use crate::store::backend::{Backend, Leftover, Previous, Staged};
use crate::store::backup::{self, BackupEntry};
use crate::store::error::{Result, StoreError};
use crate::store::layout::Listing;
use crate::store::lock::{
    self as file_lock, Broken, LOCK_FILE, LockGuard, LockOptions, LockStatus,
};
use commit::{
    AUDIT_INSERT, AuditRows, DocParams, KEEP_AND_PRUNE, UPSERT, append_lines, audit_tail, hash_of,
    write_batch,
};

pub use url::StateUrl;

/// What the backend and its lock share: the connection and the namespace.
pub struct Shared {
    client: Mutex<Client>,
    /// The namespace's URL.
    pub(crate) url: StateUrl,
    /// The namespace's advisory-lock key.
    pub(crate) key: i64,
    /// Whether this connection holds the namespace's advisory lock.
    pub(crate) held: AtomicBool,
    /// What this session learnt while holding the lock and nobody else
    /// can change (see [`Held`]); cleared when the lock is taken or
    /// released.
    pub(crate) cache: Mutex<Held>,
}

/// Facts about the namespace read under the lock, to spare round trips:
/// while this session holds the lock no other statewright commits to the
/// namespace, so they stay true until this session's own next commit
/// (which updates them) or the lock's release.
#[derive(Debug, Default)]
pub(crate) struct Held {
    /// The last audit line's sequence number and hash.
    tail: Option<(i64, String)>,
    /// A document and the highest serial recorded for it.
    recorded: Option<(String, u64)>,
    /// A document and its body as last read (a `set` reads the document,
    /// then its write reads it again to check what it replaces).
    body: Option<(String, Option<Vec<u8>>)>,
}

impl Held {
    /// After a commit of this session: the new audit tail is known, a
    /// serial read before it is not the recorded one any more.
    fn committed(&mut self, tail: (i64, String)) {
        self.tail = Some(tail);
        self.recorded = None;
        self.body = None;
    }
}

impl Shared {
    pub(crate) fn client(&self) -> MutexGuard<'_, Client> {
        self.client.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn cache(&self) -> MutexGuard<'_, Held> {
        self.cache.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub(crate) fn lock_path(&self) -> PathBuf {
        self.url.dir().join(LOCK_FILE)
    }

    /// A client error as the store's, with what was being done.
    pub(crate) fn db(&self, op: &'static str, e: postgres::Error) -> StoreError {
        db_error(&self.url, op, e)
    }
}

/// A connection refused in the TLS handshake, with what to change.
fn tls_error(url: &StateUrl, e: postgres::Error) -> StoreError {
    let remedy = match url.ssl_mode {
        url::SslMode::VerifyCa | url::SslMode::VerifyFull => {
            "the server's certificate is not trusted or does not name the host: give its CA with sslrootcert=PATH (or PGSSLROOTCERT), connect by the name in the certificate, or use sslmode=require to encrypt without checking; nothing was written"
        }
        _ => {
            "the server does not offer TLS: enable ssl on the server, or use sslmode=prefer or disable; nothing was written"
        }
    };
    let mut message = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        message = format!("{message}: {s}");
        source = s.source();
    }
    StoreError::Database {
        url: url.redacted(),
        op: "connect (TLS)",
        message,
        remedy,
    }
}

fn db_error(url: &StateUrl, op: &'static str, e: postgres::Error) -> StoreError {
    let code = e.code().cloned();
    let remedy = match code {
        Some(c)
            if c == SqlState::INVALID_PASSWORD
                || c == SqlState::INVALID_AUTHORIZATION_SPECIFICATION =>
        {
            "set PGPASSWORD or add the server to ~/.pgpass (a password is never read from the project file); nothing was written"
        }
        Some(c) if c == SqlState::INVALID_CATALOG_NAME => {
            "create the database (createdb) or fix the database in [project] state; nothing was written"
        }
        Some(c) if c == SqlState::ADMIN_SHUTDOWN || c == SqlState::CRASH_SHUTDOWN => {
            "the server ended the session; an open transaction was rolled back and the lock released; run the command again"
        }
        Some(_) => "the transaction was rolled back; nothing was written",
        None if e.is_closed() => {
            "the connection was lost; an open transaction was rolled back by the server and the lock released; run the command again"
        }
        None => {
            "check that the server runs and that the host and port in [project] state are right; nothing was written"
        }
    };
    let message = match e.as_db_error() {
        Some(d) => format!("{}: {}", d.severity(), d.message()),
        None => e.to_string(),
    };
    StoreError::Database {
        url: url.redacted(),
        op,
        message,
        remedy,
    }
}

/// A namespace of a PostgreSQL database.
pub struct PgBackend {
    shared: Arc<Shared>,
    keep: usize,
}

impl std::fmt::Debug for PgBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PgBackend")
            .field("url", &self.shared.url)
            .finish_non_exhaustive()
    }
}

impl PgBackend {
    /// Connects to the server of `url`, creates or upgrades the tables
    /// (refusing newer ones) and registers the namespace; `keep` replaced
    /// versions are kept per document.
    pub fn connect(url: &StateUrl, keep: usize) -> Result<PgBackend> {
        let mut config = postgres::Config::new();
        config
            .host(&url.host)
            .port(url.port)
            .user(&url.user)
            .dbname(&url.database)
            .application_name("statewright")
            .connect_timeout(url.connect_timeout);
        if let Some(p) = url.password() {
            config.password(p);
        }
        let mut client = tls::connect(&mut config, url)?.map_err(|e| {
            if tls::is_tls_failure(&e) {
                tls_error(url, e)
            } else {
                db_error(url, "connect", e)
            }
        })?;
        let redacted = url.redacted();
        schema::ensure(&mut client, &redacted, |e| {
            db_error(url, "set up tables", e)
        })?;
        let key = schema::namespace_key(&mut client, &url.namespace)
            .map_err(|e| db_error(url, "register the namespace", e))?;
        Ok(PgBackend {
            shared: Arc::new(Shared {
                client: Mutex::new(client),
                url: url.clone(),
                key,
                held: AtomicBool::new(false),
                cache: Mutex::new(Held::default()),
            }),
            keep,
        })
    }

    /// The namespace's URL.
    pub fn url(&self) -> &StateUrl {
        &self.shared.url
    }

    /// The namespace's advisory-lock key (unique in its database).
    pub fn lock_key(&self) -> i64 {
        self.shared.key
    }

    fn ns(&self) -> &str {
        &self.shared.url.namespace
    }

    fn db(&self, op: &'static str) -> impl Fn(postgres::Error) -> StoreError + '_ {
        move |e| self.shared.db(op, e)
    }

    fn check_guard(&self, guard: &LockGuard) -> Result<()> {
        if guard.path != self.shared.lock_path() || !self.shared.held.load(Ordering::SeqCst) {
            return Err(StoreError::NotLocked {
                path: self.shared.lock_path(),
            });
        }
        Ok(())
    }

    /// Runs `f` in one transaction on the session holding the lock
    /// `guard`: committed when it succeeds, rolled back otherwise.
    /// `f` is given the namespace's audit tail (read under the lock, or
    /// remembered from this session's last commit) and returns the new
    /// one, remembered when the transaction commits.
    fn transact(
        &self,
        guard: &LockGuard,
        op: &'static str,
        f: impl FnOnce(
            &mut postgres::Transaction<'_>,
            &str,
            (i64, String),
        ) -> std::result::Result<(i64, String), postgres::Error>,
    ) -> Result<()> {
        self.check_guard(guard)?;
        let known = self.shared.cache().tail.take();
        let mut client = self.shared.client();
        let run = |client: &mut Client| -> std::result::Result<(i64, String), postgres::Error> {
            let mut tx = client.transaction()?;
            let tail = match known {
                Some(t) => t,
                None => audit_tail(&mut tx, self.ns())?,
            };
            let tail = f(&mut tx, self.ns(), tail)?;
            tx.commit()?;
            Ok(tail)
        };
        let tail = run(&mut client).map_err(self.db(op))?;
        self.shared.cache().committed(tail);
        Ok(())
    }

    /// Commits one document with one statement (its own transaction):
    /// the version replaced kept, old versions dropped, the document
    /// upserted and its audit line chained after the tail this session
    /// read under the lock. Without a known tail, as a transaction.
    fn commit_one(&self, guard: &LockGuard, s: Staged) -> Result<()> {
        self.check_guard(guard)?;
        let Some(tail) = self.shared.cache().tail.take() else {
            return self.transact(guard, "commit", |tx, ns, tail| {
                write_batch(tx, ns, std::slice::from_ref(&s), self.keep)?;
                append_lines(tx, ns, tail, vec![s.audit.clone()])
            });
        };
        let doc = DocParams::of(self.ns(), &s, self.keep);
        let rows = AuditRows::seal(tail, vec![s.audit]);
        let mut params = doc.params();
        params.extend(rows.params());
        let sql = format!("WITH {KEEP_AND_PRUNE}, {AUDIT_INSERT} {UPSERT}");
        self.shared
            .client()
            .execute(sql.as_str(), &params)
            .map_err(self.db("commit"))?;
        self.shared.cache().committed(rows.tail);
        Ok(())
    }

    /// A read under the lock: with the document, in the same round trip,
    /// what the write that usually follows needs (the serial recorded for
    /// it, the audit tail), remembered while the lock is held.
    fn read_held(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        if let Some((cached, body)) = &self.shared.cache().body
            && cached == rel
        {
            return Ok(body.clone());
        }
        let row = self
            .shared
            .client()
            .query_one(
                "SELECT (SELECT body FROM statewright_documents WHERE namespace = $1 AND path = $2),
                   greatest(
                     (SELECT serial FROM statewright_documents WHERE namespace = $1 AND path = $2),
                     (SELECT max(serial) FROM statewright_versions WHERE namespace = $1 AND path = $2)),
                   (SELECT seq FROM statewright_audit WHERE namespace = $1 ORDER BY seq DESC LIMIT 1),
                   (SELECT line FROM statewright_audit WHERE namespace = $1 ORDER BY seq DESC LIMIT 1)",
                &[&self.ns(), &rel],
            )
            .map_err(self.db("read"))?;
        let recorded = row.get::<_, Option<i64>>(1).unwrap_or(0) as u64;
        let tail = match (
            row.get::<_, Option<i64>>(2),
            row.get::<_, Option<String>>(3),
        ) {
            (Some(seq), Some(line)) => (seq, hash_of(&line)),
            _ => (0, GENESIS.to_owned()),
        };
        let body = row.get::<_, Option<String>>(0).map(String::into_bytes);
        let mut cache = self.shared.cache();
        cache.recorded = Some((rel.to_owned(), recorded));
        cache.tail = Some(tail);
        cache.body = Some((rel.to_owned(), body.clone()));
        Ok(body)
    }

    fn max_serial(&self, sql: &str, rel: &str) -> Result<Option<u64>> {
        let row = self
            .shared
            .client()
            .query_one(sql, &[&self.ns(), &rel])
            .map_err(self.db("read"))?;
        Ok(row.get::<_, Option<i64>>(0).map(|s| s as u64))
    }

    fn audit_lines(&self) -> Result<Vec<(i64, String)>> {
        let rows = self
            .shared
            .client()
            .query(
                "SELECT seq, line FROM statewright_audit WHERE namespace = $1 ORDER BY seq",
                &[&self.ns()],
            )
            .map_err(self.db("read the audit log"))?;
        Ok(rows.iter().map(|r| (r.get(0), r.get(1))).collect())
    }
}

impl Backend for PgBackend {
    fn path_of(&self, rel: &str) -> PathBuf {
        self.shared.url.dir().join(rel)
    }

    fn read(&self, rel: &str) -> Result<Option<Vec<u8>>> {
        if self.shared.held.load(Ordering::SeqCst) {
            return self.read_held(rel);
        }
        let row = self
            .shared
            .client()
            .query_opt(
                "SELECT body FROM statewright_documents WHERE namespace = $1 AND path = $2",
                &[&self.ns(), &rel],
            )
            .map_err(self.db("read"))?;
        Ok(row.map(|r| r.get::<_, String>(0).into_bytes()))
    }

    fn lock(&self, opts: &LockOptions) -> Result<LockGuard> {
        let file = Arc::new(lock::PgLock(self.shared.clone()));
        file_lock::acquire_on(self.shared.lock_path(), file, opts).map_err(|e| match e {
            StoreError::Io { source, .. } => StoreError::Database {
                url: self.shared.url.redacted(),
                op: "lock",
                message: source.to_string(),
                remedy: "check that the server runs; nothing was written",
            },
            other => other,
        })
    }

    fn lock_status(&self) -> Result<LockStatus> {
        lock::status(&self.shared)
    }

    fn break_lock(&self, lock_id: &str) -> Result<Broken> {
        lock::break_lock(&self.shared, lock_id)
    }

    fn commit(&self, guard: &LockGuard, mut batch: Vec<Staged>) -> Result<()> {
        if batch.is_empty() {
            return self.check_guard(guard);
        }
        if batch.len() == 1 {
            return self.commit_one(guard, batch.remove(0));
        }
        self.transact(guard, "commit", |tx, ns, tail| {
            write_batch(tx, ns, &batch, self.keep)?;
            append_lines(
                tx,
                ns,
                tail,
                batch.iter().map(|s| s.audit.clone()).collect(),
            )
        })
    }

    fn keep_corrupt(&self, guard: &LockGuard, rel: &str) -> Result<Option<String>> {
        self.check_guard(guard)?;
        let time = jiff::Timestamp::now().strftime("%Y%m%dT%H%M%S%.fZ");
        let name = format!("{}.{time}", backup::flat(rel));
        let n = self
            .shared
            .client()
            .execute(
                "INSERT INTO statewright_corrupt (namespace, name, path, body)
                 SELECT namespace, $3, path, body FROM statewright_documents
                 WHERE namespace = $1 AND path = $2",
                &[&self.ns(), &rel, &name],
            )
            .map_err(self.db("keep a failed version"))?;
        Ok((n > 0).then(|| format!("statewright_corrupt/{name}")))
    }

    fn backups(&self, rel: &str) -> Vec<BackupEntry> {
        let rows = self.shared.client().query(
            "SELECT serial, checksum, time FROM statewright_versions
             WHERE namespace = $1 AND path = $2 ORDER BY serial DESC",
            &[&self.ns(), &rel],
        );
        rows.unwrap_or_default()
            .iter()
            .map(|r| {
                let serial = r.get::<_, i64>(0) as u64;
                let checksum: String = r.get(1);
                BackupEntry {
                    file: rel.to_owned(),
                    backup: backup::backup_name(rel, serial, &checksum),
                    serial,
                    checksum,
                    time: r.get(2),
                }
            })
            .collect()
    }

    fn read_backup(&self, entry: &BackupEntry) -> Result<Vec<u8>> {
        let row = self
            .shared
            .client()
            .query_opt(
                "SELECT body FROM statewright_versions
                 WHERE namespace = $1 AND path = $2 AND serial = $3 AND checksum = $4",
                &[
                    &self.ns(),
                    &entry.file,
                    &(entry.serial as i64),
                    &entry.checksum,
                ],
            )
            .map_err(self.db("read a kept version"))?;
        row.map(|r| r.get::<_, String>(0).into_bytes())
            .ok_or_else(|| StoreError::NotFound {
                path: self.path_of(&entry.backup),
            })
    }

    fn audited_serial(&self, rel: &str) -> Option<u64> {
        self.max_serial(
            "SELECT max(serial) FROM statewright_audit WHERE namespace = $1 AND file = $2",
            rel,
        )
        .ok()
        .flatten()
    }

    fn recorded_serial(&self, rel: &str) -> Result<u64> {
        if self.shared.held.load(Ordering::SeqCst) {
            let mut cache = self.shared.cache();
            if let Some((_, serial)) = cache.recorded.take().filter(|(r, _)| r == rel) {
                return Ok(serial);
            }
        }
        let sql = "SELECT greatest(
              (SELECT serial FROM statewright_documents WHERE namespace = $1 AND path = $2),
              (SELECT max(serial) FROM statewright_versions WHERE namespace = $1 AND path = $2))";
        Ok(self.max_serial(sql, rel)?.unwrap_or(0))
    }

    fn pending(&self) -> Result<bool> {
        // The server rolls back what an interrupted client left.
        Ok(false)
    }

    fn resolve_journal(&self, _guard: &LockGuard) -> Result<Option<String>> {
        Ok(None)
    }

    fn leftovers(&self) -> Result<Vec<Leftover>> {
        Ok(Vec::new())
    }

    fn finish(
        &self,
        guard: &LockGuard,
        _l: &Leftover,
        _p: Option<Previous>,
        audit: AuditEntry,
    ) -> Result<()> {
        self.append_audit(guard, vec![audit])
    }

    fn discard(&self, guard: &LockGuard, _l: &Leftover) -> Result<()> {
        self.check_guard(guard)
    }

    fn listing(&self, _kept: bool) -> Result<Listing> {
        let rows = self
            .shared
            .client()
            .query(
                "SELECT path FROM statewright_documents WHERE namespace = $1 ORDER BY path",
                &[&self.ns()],
            )
            .map_err(self.db("list"))?;
        Ok(Listing {
            files: rows.iter().map(|r| r.get(0)).collect(),
            ..Listing::default()
        })
    }

    /// The documents, every kept version as the backup a state dir would
    /// hold (`.backup/<name>`), and the audit lines as `audit.log`.
    fn export_files(&self) -> Result<Vec<(String, Vec<u8>)>> {
        let mut c = self.shared.client();
        let ns = self.ns();
        let docs = c
            .query(
                "SELECT path, body FROM statewright_documents WHERE namespace = $1",
                &[&ns],
            )
            .map_err(self.db("export"))?;
        let versions = c
            .query(
                "SELECT path, serial, checksum, body FROM statewright_versions WHERE namespace = $1",
                &[&ns],
            )
            .map_err(self.db("export"))?;
        drop(c);
        let mut out: Vec<(String, Vec<u8>)> = docs
            .iter()
            .map(|r| (r.get(0), r.get::<_, String>(1).into_bytes()))
            .collect();
        for r in &versions {
            let (rel, serial, checksum): (String, i64, String) = (r.get(0), r.get(1), r.get(2));
            let name = backup::backup_name(&rel, serial as u64, &checksum);
            out.push((
                format!("{}/{name}", backup::BACKUP_DIR),
                r.get::<_, String>(3).into_bytes(),
            ));
        }
        let lines = self.audit_lines()?;
        if !lines.is_empty() {
            let mut log = String::new();
            for (_, line) in lines {
                log.push_str(&line);
                log.push('\n');
            }
            out.push((AUDIT_FILE.to_owned(), log.into_bytes()));
        }
        out.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(out)
    }

    fn append_audit(&self, guard: &LockGuard, entries: Vec<AuditEntry>) -> Result<()> {
        self.transact(guard, "append audit lines", |tx, ns, tail| {
            append_lines(tx, ns, tail, entries)
        })
    }

    fn repair_audit(&self) -> Result<Option<String>> {
        Ok(None)
    }

    fn verify_audit(&self) -> Result<usize> {
        let mut prev: Option<String> = None;
        let lines = self.audit_lines()?;
        for (i, (_, line)) in lines.iter().enumerate() {
            let e = audit::check_line(prev.as_deref(), line).map_err(|message| {
                StoreError::AuditBroken {
                    path: self.path_of(AUDIT_FILE),
                    line: i + 1,
                    message,
                }
            })?;
            prev = Some(e.hash);
        }
        Ok(lines.len())
    }
}
