//! The state directory's lock: the file `.lock`, never renamed or removed,
//! locked with the OS's advisory whole-file lock (`flock`), and holding a
//! JSON description of its holder (lock id, pid, process start time, host,
//! user, command, acquired_at) as its content.
//!
//! The kernel lock is the truth; the description explains it. A holder
//! that dies releases the kernel lock with its last descriptor, so the next
//! acquirer gets the lock and finds the dead holder's description still in
//! the file: it checks the holder really is gone (same host, and the pid
//! not alive or alive with another start time) and reports it in
//! [`LockGuard::reclaimed`]. A lock held from another host is never taken
//! automatically. [`break_lock`] clears a stale description; it cannot
//! take a kernel lock from a live process, and says so.
//!
//! There is no expiry time and no heartbeat. Lock files created with
//! `O_EXCL` need them, because nothing removes such a file when its holder
//! dies, and a slow holder that misses a renewal loses its lock while it
//! still writes. Here the kernel releases the lock at the holder's death,
//! and never while it lives, however long a migration takes. The
//! [`StoreEvent`]s (waiting, acquired, reclaimed, released) make the
//! lock's life visible instead.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::store::error::{Result, StoreError};
use crate::store::events::{self, EventSink, StoreEvent};
use crate::store::fs::{Fs, FsLock};

/// The lock file's name inside the state dir.
pub const LOCK_FILE: &str = ".lock";

/// Who holds (or held) the lock.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct HolderInfo {
    /// A unique id of this acquisition (used by `lock break`).
    pub lock_id: String,
    /// The holder's process id.
    pub pid: u32,
    /// The process start time in clock ticks since boot (`/proc/<pid>/stat`
    /// field 22), to tell a reused pid from the holder.
    pub start_time: Option<u64>,
    /// The holder's host name.
    pub host: String,
    /// The holder's user.
    pub user: String,
    /// The command that took the lock.
    pub command: String,
    /// When it was taken (RFC 3339).
    pub acquired_at: String,
}

impl std::fmt::Display for HolderInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "`{}` (pid {} on {}, user {}, since {}, lock id {})",
            self.command, self.pid, self.host, self.user, self.acquired_at, self.lock_id
        )
    }
}

impl HolderInfo {
    /// A description of the current process.
    pub fn current(command: &str) -> HolderInfo {
        let pid = std::process::id();
        HolderInfo {
            lock_id: uuid::Uuid::new_v4().to_string(),
            pid,
            start_time: process_start_time(pid),
            host: host_name(),
            user: user_name(),
            command: command.to_owned(),
            acquired_at: jiff::Timestamp::now().to_string(),
        }
    }

    /// Whether the holder is known to be dead: same host, and its pid not
    /// alive or alive with another start time. `None` for another host.
    pub fn is_dead(&self) -> Option<bool> {
        if self.host != host_name() {
            return None;
        }
        if !pid_alive(self.pid) {
            return Some(true);
        }
        match (self.start_time, process_start_time(self.pid)) {
            (Some(a), Some(b)) => Some(a != b),
            _ => Some(false),
        }
    }

    pub(crate) fn parse(bytes: &[u8]) -> Option<HolderInfo> {
        serde_json::from_slice(bytes).ok()
    }
}

/// How to take the lock.
#[derive(Debug, Clone)]
pub struct LockOptions {
    /// How long to wait for a held lock (zero: fail at once).
    pub timeout: Duration,
    /// The command recorded as the holder.
    pub command: String,
    /// Where the lock's events go (waiting, acquired, reclaimed,
    /// released); `None`: nowhere. [`Store::lock`](crate::store::Store::lock)
    /// fills in the store's own sink when this is `None`.
    pub events: Option<EventSink>,
}

impl Default for LockOptions {
    fn default() -> Self {
        LockOptions {
            timeout: Duration::ZERO,
            command: "statewright".into(),
            events: None,
        }
    }
}

/// The held lock; released when dropped.
pub struct LockGuard {
    pub(crate) path: PathBuf,
    pub(crate) file: Arc<dyn FsLock>,
    /// This holder's description, as written into the lock file.
    pub info: HolderInfo,
    /// The description of a previous holder that died holding the lock.
    pub reclaimed: Option<HolderInfo>,
    events: Option<EventSink>,
    taken: Instant,
}

impl std::fmt::Debug for LockGuard {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockGuard")
            .field("path", &self.path)
            .field("info", &self.info)
            .field("reclaimed", &self.reclaimed)
            .finish()
    }
}

impl LockGuard {
    /// The lock file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        // Clear the description first so no reader sees a free lock with a
        // live-looking holder; then release.
        let _ = self.file.set_content(b"");
        let _ = self.file.unlock();
        events::emit(&self.events, || StoreEvent::LockReleased {
            lock: self.path.clone(),
            lock_id: self.info.lock_id.clone(),
            held_ms: self.taken.elapsed().as_millis() as u64,
        });
    }
}

/// Takes the lock of the state dir `dir`, waiting up to `opts.timeout`
/// for it. The wait blocks in the kernel (see [`FsLock::lock_within`]):
/// the next waiter runs as soon as the lock is free.
pub fn acquire(fs: &dyn Fs, dir: &Path, opts: &LockOptions) -> Result<LockGuard> {
    let path = dir.join(LOCK_FILE);
    let file: Arc<dyn FsLock> = Arc::from(open(fs, &path)?);
    acquire_on(path, file, opts)
}

/// Takes the lock `file` (named `path` in messages), waiting up to
/// `opts.timeout` for it: the one acquisition protocol of every backend
/// (a lock file, a database's advisory lock).
pub(crate) fn acquire_on(
    path: PathBuf,
    file: Arc<dyn FsLock>,
    opts: &LockOptions,
) -> Result<LockGuard> {
    let start = Instant::now();
    let mut got = file.try_lock().map_err(|e| io(&path, "lock", e))?;
    if !got && !opts.timeout.is_zero() {
        events::emit(&opts.events, || StoreEvent::LockWaiting {
            lock: path.clone(),
            holder: file.content().ok().and_then(|b| HolderInfo::parse(&b)),
            timeout_ms: opts.timeout.as_millis() as u64,
        });
        got = file
            .lock_within(opts.timeout)
            .map_err(|e| io(&path, "lock", e))?;
    }
    if !got {
        let holder = file.content().ok().and_then(|b| HolderInfo::parse(&b));
        return Err(StoreError::LockHeld {
            path,
            holder: Box::new(holder),
        });
    }
    let guard = take(path, file, opts)?;
    events::emit(&opts.events, || StoreEvent::LockAcquired {
        lock: guard.path.clone(),
        lock_id: guard.info.lock_id.clone(),
        waited_ms: start.elapsed().as_millis() as u64,
    });
    if let Some(previous) = &guard.reclaimed {
        events::emit(&opts.events, || StoreEvent::LockReclaimed {
            lock: guard.path.clone(),
            previous: previous.clone(),
        });
    }
    Ok(guard)
}

fn take(path: PathBuf, file: Arc<dyn FsLock>, opts: &LockOptions) -> Result<LockGuard> {
    let previous = file.content().ok().and_then(|b| HolderInfo::parse(&b));
    let info = HolderInfo::current(&opts.command);
    let text = serde_json::to_vec(&info).unwrap_or_default();
    let mut guard = LockGuard {
        path,
        file,
        info,
        // The kernel lock was free, so a recorded holder is gone.
        reclaimed: previous,
        // Set once the lock is recorded: a guard dropped before that
        // was never announced as acquired.
        events: None,
        taken: Instant::now(),
    };
    guard
        .file
        .set_content(&text)
        .map_err(|e| StoreError::write_io("write lock holder", guard.path.clone(), e))?;
    guard.events = opts.events.clone();
    Ok(guard)
}

fn open(fs: &dyn Fs, path: &Path) -> Result<Box<dyn FsLock>> {
    fs.open_lock(path)
        .map_err(|e| StoreError::write_io("open lock", path.to_owned(), e))
}

fn io(path: &Path, op: &'static str, source: std::io::Error) -> StoreError {
    StoreError::Io {
        op,
        path: path.to_owned(),
        source,
    }
}

/// The state of a state dir's lock.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LockStatus {
    /// Nobody holds it.
    Free,
    /// Nobody holds it, but a holder that died left its description.
    Stale(HolderInfo),
    /// Held. `dead` is `Some(true)` when the recorded holder is gone yet
    /// the kernel lock is still held (a descriptor inherited by a child),
    /// `None` when the holder is on another host.
    Held {
        /// The recorded holder, if readable.
        holder: Option<HolderInfo>,
        /// Whether the recorded holder is known dead.
        dead: Option<bool>,
    },
}

/// Reports who holds the lock of `dir`, without waiting. (It takes the
/// lock for an instant to tell a free lock from a held one.)
pub fn status(fs: &dyn Fs, dir: &Path) -> Result<LockStatus> {
    let path = dir.join(LOCK_FILE);
    // A state dir never locked has no lock file; looking creates none.
    if matches!(fs.meta(&path), Ok(None)) {
        return Ok(LockStatus::Free);
    }
    // Read-only: looking works on a read-only state dir.
    let file = fs
        .open_lock_to_look(&path)
        .map_err(|e| io(&path, "open lock", e))?;
    let holder = file.content().ok().and_then(|b| HolderInfo::parse(&b));
    if file.try_lock().map_err(|e| io(&path, "lock", e))? {
        let _ = file.unlock();
        return Ok(holder.map_or(LockStatus::Free, LockStatus::Stale));
    }
    let dead = holder.as_ref().and_then(HolderInfo::is_dead);
    Ok(LockStatus::Held { holder, dead })
}

/// What [`break_lock`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The description that was cleared.
    pub holder: HolderInfo,
}

/// Breaks the lock `lock_id` of `dir`: clears the description of a holder
/// that is gone. Refuses (with what to do) when the id does not match or
/// the kernel lock is still held by a live process.
pub fn break_lock(fs: &dyn Fs, dir: &Path, lock_id: &str) -> Result<Broken> {
    let path = dir.join(LOCK_FILE);
    let refuse = |message: String| StoreError::LockBreak {
        path: path.clone(),
        message,
    };
    let file = open(fs, &path)?;
    let holder = file.content().ok().and_then(|b| HolderInfo::parse(&b));
    let Some(holder) = holder.filter(|h| h.lock_id == lock_id) else {
        return Err(refuse(format!(
            "no holder with lock id {lock_id}; run `statewright lock status` for the current id"
        )));
    };
    if file.try_lock().map_err(|e| io(&path, "lock", e))? {
        let cleared = file.set_content(b"");
        let _ = file.unlock();
        cleared.map_err(|e| StoreError::write_io("clear lock holder", path.clone(), e))?;
        return Ok(Broken { holder });
    }
    let message = match holder.is_dead() {
        None => format!(
            "it is held from host {}; break it there, or stop pid {} on that host",
            holder.host, holder.pid
        ),
        Some(false) => format!(
            "pid {} is alive on this host; stop it (kill {}) and the kernel releases its lock",
            holder.pid, holder.pid
        ),
        Some(true) => format!(
            "pid {} is gone but a process that inherited its descriptor still holds the lock; find it with `fuser {}` and stop it",
            holder.pid,
            path.display()
        ),
    };
    Err(refuse(message))
}

fn pid_alive(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    // SAFETY: kill with signal 0 only checks for existence and permission.
    let r = unsafe { libc::kill(pid, 0) };
    r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// A process's start time from `/proc/<pid>/stat` (field 22), if readable.
pub fn process_start_time(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name (field 2) may contain spaces; fields after it are
    // plain. Field 22 is the 20th after the closing parenthesis.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(19)?.parse().ok()
}

/// This machine's host name.
pub fn host_name() -> String {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid for its length; gethostname NUL-terminates
    // when the name fits.
    let r = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if r != 0 {
        return "unknown".into();
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    String::from_utf8_lossy(&buf[..end]).into_owned()
}

fn user_name() -> String {
    std::env::var("USER").unwrap_or_else(|_| {
        // SAFETY: getuid cannot fail.
        format!("uid {}", unsafe { libc::getuid() })
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::fs::RealFs;

    #[test]
    fn second_holder_is_told_who_and_how() {
        let dir = tempfile::tempdir().unwrap();
        let g = acquire(&RealFs, dir.path(), &LockOptions::default()).unwrap();
        let e = acquire(&RealFs, dir.path(), &LockOptions::default()).unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&g.info.lock_id) && msg.contains("--lock-timeout"),
            "{msg}"
        );
        assert!(matches!(
            status(&RealFs, dir.path()).unwrap(),
            LockStatus::Held {
                dead: Some(false),
                ..
            }
        ));
        let e = break_lock(&RealFs, dir.path(), &g.info.lock_id).unwrap_err();
        assert!(e.to_string().contains("is alive"), "{e}");
        drop(g);
        assert_eq!(status(&RealFs, dir.path()).unwrap(), LockStatus::Free);
    }

    #[test]
    fn stale_description_is_reported_and_breakable() {
        let dir = tempfile::tempdir().unwrap();
        let mut dead = HolderInfo::current("old");
        dead.pid = u32::MAX / 2;
        std::fs::write(
            dir.path().join(LOCK_FILE),
            serde_json::to_vec(&dead).unwrap(),
        )
        .unwrap();
        assert_eq!(dead.is_dead(), Some(true));
        assert_eq!(
            status(&RealFs, dir.path()).unwrap(),
            LockStatus::Stale(dead.clone())
        );
        let b = break_lock(&RealFs, dir.path(), &dead.lock_id).unwrap();
        assert_eq!(b.holder, dead);
        let g = acquire(&RealFs, dir.path(), &LockOptions::default()).unwrap();
        assert_eq!(g.reclaimed, None);
    }

    #[test]
    fn start_time_is_read() {
        assert!(process_start_time(std::process::id()).is_some());
    }
}
