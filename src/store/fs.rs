//! The one interface through which the store touches the file system.
//!
//! Every read, create, write, fsync, rename, link, remove and listing the
//! store does goes through [`Fs`], so tests can substitute an
//! implementation that records unsynced data and simulates crashes.
//! [`RealFs`] is the real thing: files are created with `O_EXCL |
//! O_NOFOLLOW`, reads refuse symbolic links, and directories are synced by
//! opening them and calling `fsync`.

use std::fs::{File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{MetadataExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// What the store needs to know about a path (never following links).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Meta {
    /// A regular file.
    pub is_file: bool,
    /// A directory.
    pub is_dir: bool,
    /// A symbolic link.
    pub is_symlink: bool,
    /// Permission bits.
    pub mode: u32,
    /// Size in bytes.
    pub len: u64,
    /// For an entry that is none of the above: what it is ("a FIFO", "a
    /// socket", "a device").
    pub special: Option<&'static str>,
}

/// The error [`Fs::read`] gives for a path that is not a regular file (a
/// FIFO, socket, device or directory), found without blocking; its
/// payload says what the path is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("{0}, not a regular file")]
pub struct NotRegular(pub &'static str);

impl NotRegular {
    /// The [`NotRegular`] inside an I/O error, if it is one.
    pub fn of(e: &io::Error) -> Option<NotRegular> {
        e.get_ref()?.downcast_ref::<NotRegular>().copied()
    }
}

fn special_of(ft: std::fs::FileType) -> Option<&'static str> {
    use std::os::unix::fs::FileTypeExt;
    if ft.is_fifo() {
        Some("a FIFO")
    } else if ft.is_socket() {
        Some("a socket")
    } else if ft.is_block_device() || ft.is_char_device() {
        Some("a device")
    } else {
        None
    }
}

/// Reads a whole regular file: never blocks on a FIFO (opened with
/// `O_NONBLOCK`), refuses anything but a regular file after opening it
/// ([`NotRegular`]), and, unless `follow`, refuses a symbolic link
/// (`ELOOP`).
pub fn read_regular(path: &Path, follow: bool) -> io::Result<Vec<u8>> {
    let mut flags = libc::O_CLOEXEC | libc::O_NONBLOCK;
    if !follow {
        flags |= libc::O_NOFOLLOW;
    }
    let mut f = OpenOptions::new()
        .read(true)
        .custom_flags(flags)
        .open(path)?;
    let m = f.metadata()?;
    if !m.is_file() {
        let what = match m.is_dir() {
            true => "a directory",
            false => special_of(m.file_type()).unwrap_or("a special file"),
        };
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            NotRegular(what),
        ));
    }
    let mut out = Vec::with_capacity(m.len() as usize);
    f.read_to_end(&mut out)?;
    Ok(out)
}

/// An open file the store writes to.
pub trait FsFile: Send {
    /// Writes all of `buf` at the end of the file.
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()>;
    /// Flushes data and metadata to stable storage (`fsync`).
    fn sync(&mut self) -> io::Result<()>;
}

/// The lock file: locked with the OS's advisory whole-file lock, and
/// holding the holder's description as its content.
pub trait FsLock: Send + Sync {
    /// Takes the exclusive lock if free; `Ok(false)` when someone holds it.
    fn try_lock(&self) -> io::Result<bool>;
    /// Takes the exclusive lock, waiting up to `timeout` for it;
    /// `Ok(false)` when it is still held then. The default polls
    /// [`FsLock::try_lock`] (1 ms doubling to 50 ms); [`RealFs`] blocks in
    /// the kernel instead, so a waiter runs as soon as the lock is free.
    fn lock_within(&self, timeout: std::time::Duration) -> io::Result<bool> {
        let deadline = std::time::Instant::now() + timeout;
        let mut pause = std::time::Duration::from_millis(1);
        loop {
            if self.try_lock()? {
                return Ok(true);
            }
            let now = std::time::Instant::now();
            if now >= deadline {
                return Ok(false);
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(std::time::Duration::from_millis(50));
        }
    }
    /// Releases the lock.
    fn unlock(&self) -> io::Result<()>;
    /// Replaces the file's content (the holder description).
    fn set_content(&self, bytes: &[u8]) -> io::Result<()>;
    /// Reads the file's content.
    fn content(&self) -> io::Result<Vec<u8>>;
}

/// All file operations of the store.
pub trait Fs: Send + Sync + std::fmt::Debug {
    /// Creates a new file (`O_CREAT | O_EXCL | O_NOFOLLOW`) with `mode`.
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<Box<dyn FsFile>>;
    /// Opens a file for appending, creating it (mode 0644) if missing.
    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>>;
    /// Opens (creating) the lock file.
    fn open_lock(&self, path: &Path) -> io::Result<Box<dyn FsLock>>;
    /// Opens the lock file to look at it: read-only, never creating it,
    /// so that looking works on a read-only state dir. The default opens
    /// it as [`Fs::open_lock`] does.
    fn open_lock_to_look(&self, path: &Path) -> io::Result<Box<dyn FsLock>> {
        self.open_lock(path)
    }
    /// Reads a whole file, refusing symbolic links (`ELOOP`) and anything
    /// but a regular file ([`NotRegular`]) without blocking on it.
    fn read(&self, path: &Path) -> io::Result<Vec<u8>>;
    /// The bytes of a file from `offset` to its end (none when it is
    /// shorter), refusing symbolic links: to read the end of a log without
    /// reading all of it. The default reads the whole file.
    fn read_from(&self, path: &Path, offset: u64) -> io::Result<Vec<u8>> {
        let mut bytes = self.read(path)?;
        let at = usize::try_from(offset)
            .unwrap_or(usize::MAX)
            .min(bytes.len());
        bytes.drain(..at);
        Ok(bytes)
    }
    /// Facts about a path, `None` when it does not exist.
    fn meta(&self, path: &Path) -> io::Result<Option<Meta>>;
    /// Renames `from` over `to` (atomic replace).
    fn rename(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Makes `to` a second name of `from`.
    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()>;
    /// Removes a file.
    fn remove(&self, path: &Path) -> io::Result<()>;
    /// Flushes a directory's entries to stable storage.
    fn sync_dir(&self, dir: &Path) -> io::Result<()>;
    /// The names in a directory (empty when it does not exist).
    fn list(&self, dir: &Path) -> io::Result<Vec<String>>;
    /// Creates a directory (no error if it exists).
    fn create_dir(&self, dir: &Path) -> io::Result<()>;
    /// Where a symbolic link points (for messages).
    fn read_link(&self, path: &Path) -> io::Result<std::path::PathBuf> {
        Err(io::Error::new(
            io::ErrorKind::Unsupported,
            path.display().to_string(),
        ))
    }
}

/// The local file system.
#[derive(Debug, Default, Clone, Copy)]
pub struct RealFs;

struct RealFile(File);

impl FsFile for RealFile {
    fn write_all(&mut self, buf: &[u8]) -> io::Result<()> {
        fault::point("write", None);
        self.0.write_all(buf)
    }
    fn sync(&mut self) -> io::Result<()> {
        fault::point("fsync", None);
        self.0.sync_all()
    }
}

/// The fault hook of debug builds (tests, never a release): every file
/// operation of [`RealFs`] that changes the disk is a numbered point.
/// `STATEWRIGHT_FAULT_AT=N` aborts the process (as a crash or `kill -9`
/// would end it) just before the N-th; `STATEWRIGHT_FAULT_TRACE=FILE`
/// appends one line per point (number, operation, path) to FILE, so a test
/// learns how many points a command has and can crash it at each.
pub mod fault {
    use std::path::Path;
    #[cfg(debug_assertions)]
    use std::path::PathBuf;

    #[cfg(debug_assertions)]
    fn config() -> &'static (Option<usize>, Option<PathBuf>) {
        static CONFIG: std::sync::OnceLock<(Option<usize>, Option<PathBuf>)> =
            std::sync::OnceLock::new();
        CONFIG.get_or_init(|| {
            let at = std::env::var("STATEWRIGHT_FAULT_AT")
                .ok()
                .and_then(|v| v.parse().ok());
            let trace = std::env::var_os("STATEWRIGHT_FAULT_TRACE").map(PathBuf::from);
            (at, trace)
        })
    }

    /// One point: counted, traced, and the process aborted when it is the
    /// one asked for.
    #[cfg(debug_assertions)]
    pub fn point(op: &str, path: Option<&Path>) {
        use std::io::Write;
        use std::sync::atomic::{AtomicUsize, Ordering};
        static COUNT: AtomicUsize = AtomicUsize::new(0);
        let (at, trace) = config();
        if at.is_none() && trace.is_none() {
            return;
        }
        let n = COUNT.fetch_add(1, Ordering::SeqCst) + 1;
        if let Some(t) = trace {
            let shown = path.map(|p| p.display().to_string()).unwrap_or_default();
            if let Ok(mut f) = std::fs::OpenOptions::new()
                .create(true)
                .append(true)
                .open(t)
            {
                let _ = writeln!(f, "{n} {op} {shown}");
            }
        }
        if *at == Some(n) {
            std::process::abort();
        }
    }

    /// Release builds have no fault points.
    #[cfg(not(debug_assertions))]
    #[inline(always)]
    pub fn point(_op: &str, _path: Option<&Path>) {}
}

struct RealLock(File);

impl FsLock for RealLock {
    fn try_lock(&self) -> io::Result<bool> {
        match self.0.try_lock() {
            Ok(()) => Ok(true),
            Err(std::fs::TryLockError::WouldBlock) => Ok(false),
            Err(std::fs::TryLockError::Error(e)) => Err(e),
        }
    }
    fn lock_within(&self, timeout: std::time::Duration) -> io::Result<bool> {
        if self.try_lock()? {
            return Ok(true);
        }
        if timeout.is_zero() {
            return Ok(false);
        }
        wait_for_lock(&self.0, timeout)
    }
    fn unlock(&self) -> io::Result<()> {
        self.0.unlock()
    }
    fn set_content(&self, bytes: &[u8]) -> io::Result<()> {
        fault::point("write lock holder", None);
        let mut f = &self.0;
        f.seek(SeekFrom::Start(0))?;
        f.write_all(bytes)?;
        self.0.set_len(bytes.len() as u64)
    }
    fn content(&self) -> io::Result<Vec<u8>> {
        let mut f = &self.0;
        f.seek(SeekFrom::Start(0))?;
        let mut out = Vec::new();
        f.read_to_end(&mut out)?;
        Ok(out)
    }
}

/// Takes the lock of `file` with a blocking `flock` on a helper thread,
/// waiting at most `timeout` for it. The helper locks a duplicate of the
/// descriptor (the same open file, so the lock is `file`'s). When the wait
/// times out first, the helper releases the lock as soon as it gets it:
/// a handoff under a mutex decides which side owns the outcome.
fn wait_for_lock(file: &File, timeout: std::time::Duration) -> io::Result<bool> {
    use std::sync::{Arc, Mutex, mpsc};
    let dup = file.try_clone()?;
    // `Some(gave_up)` once decided: the waiter gave up, or took the lock.
    let decided = Arc::new(Mutex::new(None::<bool>));
    let (tx, rx) = mpsc::channel();
    let helper_decided = Arc::clone(&decided);
    let spawned = std::thread::Builder::new()
        .name("statewright-lock-wait".into())
        .spawn(move || {
            let got = dup.lock();
            let mut d = helper_decided.lock().unwrap_or_else(|e| e.into_inner());
            if *d == Some(true) {
                if got.is_ok() {
                    let _ = dup.unlock();
                }
                return;
            }
            *d = Some(false);
            let _ = tx.send(got);
        });
    if spawned.is_err() {
        // No thread: block on this one (without the timeout).
        return file.lock().map(|()| true);
    }
    match rx.recv_timeout(timeout) {
        Ok(got) => got.map(|()| true),
        Err(_) => {
            let mut d = decided.lock().unwrap_or_else(|e| e.into_inner());
            if d.is_none() {
                *d = Some(true);
                return Ok(false);
            }
            drop(d);
            // The helper got there first: its result is on its way.
            rx.recv()
                .map_err(|_| io::Error::other("lock wait ended without a result"))?
                .map(|()| true)
        }
    }
}

impl Fs for RealFs {
    fn create_new(&self, path: &Path, mode: u32) -> io::Result<Box<dyn FsFile>> {
        fault::point("create", Some(path));
        let f = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(mode)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)?;
        // The umask may have narrowed the mode; set it exactly.
        f.set_permissions(std::fs::Permissions::from_mode(mode))?;
        Ok(Box::new(RealFile(f)))
    }

    fn open_append(&self, path: &Path) -> io::Result<Box<dyn FsFile>> {
        fault::point("open for append", Some(path));
        let f = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)?;
        Ok(Box::new(RealFile(f)))
    }

    fn open_lock(&self, path: &Path) -> io::Result<Box<dyn FsLock>> {
        let f = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o644)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)?;
        Ok(Box::new(RealLock(f)))
    }

    fn open_lock_to_look(&self, path: &Path) -> io::Result<Box<dyn FsLock>> {
        let f = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)?;
        Ok(Box::new(RealLock(f)))
    }

    fn read(&self, path: &Path) -> io::Result<Vec<u8>> {
        read_regular(path, false)
    }

    fn read_from(&self, path: &Path, offset: u64) -> io::Result<Vec<u8>> {
        let mut f = OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NOFOLLOW | libc::O_CLOEXEC)
            .open(path)?;
        f.seek(SeekFrom::Start(offset))?;
        let mut out = Vec::new();
        f.read_to_end(&mut out)?;
        Ok(out)
    }

    fn meta(&self, path: &Path) -> io::Result<Option<Meta>> {
        match std::fs::symlink_metadata(path) {
            Ok(m) => Ok(Some(Meta {
                is_file: m.is_file(),
                is_dir: m.is_dir(),
                is_symlink: m.file_type().is_symlink(),
                mode: m.mode() & 0o7777,
                len: m.len(),
                special: special_of(m.file_type()),
            })),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    fn rename(&self, from: &Path, to: &Path) -> io::Result<()> {
        fault::point("rename", Some(to));
        std::fs::rename(from, to)
    }

    fn hard_link(&self, from: &Path, to: &Path) -> io::Result<()> {
        fault::point("link", Some(to));
        std::fs::hard_link(from, to)
    }

    fn remove(&self, path: &Path) -> io::Result<()> {
        fault::point("remove", Some(path));
        std::fs::remove_file(path)
    }

    fn sync_dir(&self, dir: &Path) -> io::Result<()> {
        fault::point("fsync folder", Some(dir));
        File::open(dir)?.sync_all()
    }

    fn list(&self, dir: &Path) -> io::Result<Vec<String>> {
        let rd = match std::fs::read_dir(dir) {
            Ok(rd) => rd,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        let mut out = Vec::new();
        for entry in rd {
            out.push(entry?.file_name().to_string_lossy().into_owned());
        }
        out.sort();
        Ok(out)
    }

    fn read_link(&self, path: &Path) -> io::Result<std::path::PathBuf> {
        std::fs::read_link(path)
    }

    fn create_dir(&self, dir: &Path) -> io::Result<()> {
        fault::point("create folder", Some(dir));
        match std::fs::create_dir(dir) {
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
            other => other,
        }
    }
}
