//! A namespace's lock on PostgreSQL: a session-level advisory lock keyed
//! by the namespace's unique 64-bit key, taken on the connection that
//! commits, plus a row in `statewright_locks` naming the real holder (lock
//! id, host, pid, user, command, since, and its server session). It plugs
//! into the store's one acquisition protocol ([`crate::store::lock`])
//! through `FsLock` (a wait for it waits in the server): the advisory lock is the truth, the row explains
//! it. When a holder's session ends (its process killed, the session
//! terminated) PostgreSQL releases the advisory lock; the row left behind
//! is reported as stale and cleared by the next holder or `lock break`.

use std::io;

use postgres::error::SqlState;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use crate::store::error::{Result, StoreError};
use crate::store::lock::{Broken, HolderInfo, LockStatus};
use crate::store::pg::Shared;

/// The lock of one namespace, on the backend's connection.
pub struct PgLock(pub(crate) Arc<Shared>);

fn io_err(e: postgres::Error) -> io::Error {
    io::Error::other(e.to_string())
}

impl crate::store::fs::FsLock for PgLock {
    fn try_lock(&self) -> io::Result<bool> {
        let s = &self.0;
        // Advisory locks nest within a session; a second holder in this
        // process must wait as it would for a lock file.
        if s.held.load(Ordering::SeqCst) {
            return Ok(false);
        }
        let got: bool = s
            .client()
            .query_one("SELECT pg_try_advisory_lock($1)", &[&s.key])
            .map_err(io_err)?
            .get(0);
        *s.cache() = Default::default();
        s.held.store(got, Ordering::SeqCst);
        Ok(got)
    }

    /// Waits in the server (`pg_advisory_lock` under a `lock_timeout`):
    /// the next waiter gets the lock as soon as it is free, as a lock file
    /// waits in the kernel.
    fn lock_within(&self, timeout: std::time::Duration) -> io::Result<bool> {
        let s = &self.0;
        if s.held.load(Ordering::SeqCst) {
            return Ok(false);
        }
        let ms = timeout.as_millis().clamp(1, i32::MAX as u128);
        let mut c = s.client();
        c.batch_execute(&format!("SET lock_timeout = {ms}"))
            .map_err(io_err)?;
        let got = c.execute("SELECT pg_advisory_lock($1)", &[&s.key]);
        c.batch_execute("RESET lock_timeout").map_err(io_err)?;
        drop(c);
        let got = match got {
            Ok(_) => true,
            Err(e) if e.code() == Some(&SqlState::LOCK_NOT_AVAILABLE) => false,
            Err(e) => return Err(io_err(e)),
        };
        *s.cache() = Default::default();
        s.held.store(got, Ordering::SeqCst);
        Ok(got)
    }

    fn unlock(&self) -> io::Result<()> {
        let s = &self.0;
        *s.cache() = Default::default();
        if s.held.swap(false, Ordering::SeqCst) {
            s.client()
                .execute("SELECT pg_advisory_unlock($1)", &[&s.key])
                .map_err(io_err)?;
        }
        Ok(())
    }

    fn set_content(&self, bytes: &[u8]) -> io::Result<()> {
        let s = &self.0;
        let mut c = s.client();
        if bytes.is_empty() {
            c.execute(
                "DELETE FROM statewright_locks WHERE namespace = $1 AND session_pid = pg_backend_pid()",
                &[&s.url.namespace],
            )
            .map_err(io_err)?;
            return Ok(());
        }
        let text = String::from_utf8_lossy(bytes).into_owned();
        let lock_id = HolderInfo::parse(bytes)
            .map(|h| h.lock_id)
            .unwrap_or_default();
        c.execute(
            "INSERT INTO statewright_locks (namespace, lock_id, session_pid, holder)
             VALUES ($1, $2, pg_backend_pid(), $3)
             ON CONFLICT (namespace) DO UPDATE SET lock_id = EXCLUDED.lock_id,
               session_pid = EXCLUDED.session_pid, holder = EXCLUDED.holder, since = now()",
            &[&s.url.namespace, &lock_id, &text],
        )
        .map_err(io_err)?;
        Ok(())
    }

    fn content(&self) -> io::Result<Vec<u8>> {
        Ok(holder_row(&self.0)
            .map_err(io_err)?
            .map(|(text, _)| text.into_bytes())
            .unwrap_or_default())
    }
}

/// The holder row of the namespace: its JSON and its server session.
fn holder_row(s: &Shared) -> std::result::Result<Option<(String, i32)>, postgres::Error> {
    Ok(s.client()
        .query_opt(
            "SELECT holder, session_pid FROM statewright_locks WHERE namespace = $1",
            &[&s.url.namespace],
        )?
        .map(|r| (r.get(0), r.get(1))))
}

/// The server session holding the namespace's advisory lock, if any.
fn session_holding(s: &Shared) -> std::result::Result<Option<i32>, postgres::Error> {
    let key = s.key as u64;
    let (hi, lo) = ((key >> 32) as i64, (key & 0xffff_ffff) as i64);
    Ok(s.client()
        .query_opt(
            "SELECT pid FROM pg_locks WHERE locktype = 'advisory' AND granted
               AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
               AND classid::bigint = $1 AND objid::bigint = $2 AND objsubid = 1",
            &[&hi, &lo],
        )?
        .map(|r| r.get(0)))
}

/// Who holds the namespace's lock. A holder row without an advisory lock
/// behind it is [`LockStatus::Stale`]: its session ended and PostgreSQL
/// released the lock.
pub fn status(s: &Shared) -> Result<LockStatus> {
    let db = |e| s.db("read the lock", e);
    let row = holder_row(s).map_err(db)?;
    let holder = row
        .as_ref()
        .and_then(|(t, _)| HolderInfo::parse(t.as_bytes()));
    match session_holding(s).map_err(db)? {
        None => Ok(holder.map_or(LockStatus::Free, LockStatus::Stale)),
        Some(_) => {
            let dead = holder.as_ref().and_then(HolderInfo::is_dead);
            Ok(LockStatus::Held { holder, dead })
        }
    }
}

/// Clears the holder row `lock_id` when its session no longer holds the
/// lock; refuses, naming the session to end, while it does.
pub fn break_lock(s: &Shared, lock_id: &str) -> Result<Broken> {
    let db = |e| s.db("break the lock", e);
    let refuse = |message: String| StoreError::LockBreak {
        path: s.lock_path(),
        message,
    };
    let holder = holder_row(s)
        .map_err(db)?
        .and_then(|(t, _)| HolderInfo::parse(t.as_bytes()))
        .filter(|h| h.lock_id == lock_id)
        .ok_or_else(|| {
            refuse(format!(
                "no holder with lock id {lock_id}; run `statewright lock status` for the current id"
            ))
        })?;
    if let Some(pid) = session_holding(s).map_err(db)? {
        return Err(refuse(format!(
            "server session {pid} holds it for {holder}; stop that command, or end its session (SELECT pg_terminate_backend({pid})) and PostgreSQL releases the lock"
        )));
    }
    s.client()
        .execute(
            "DELETE FROM statewright_locks WHERE namespace = $1 AND lock_id = $2",
            &[&s.url.namespace, &lock_id],
        )
        .map_err(db)?;
    Ok(Broken { holder })
}
