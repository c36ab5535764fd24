//! The atomic durable write of one file: a temp file `.<name>.<random>.tmp`
//! in the same folder (`O_EXCL | O_NOFOLLOW`, the existing file's mode),
//! written, fsynced, renamed over the target, and the folder fsynced.
//!
//! An fsync error abandons the write (the temp is removed, the target is
//! untouched) and is never retried: after a failed fsync the kernel may
//! have dropped the dirty pages, so a retry could report success for data
//! that is gone.

use std::path::{Path, PathBuf};

use crate::store::error::{Result, StoreError};
use crate::store::fs::Fs;

/// How many fresh temp names are tried when one already exists.
const NAME_ATTEMPTS: usize = 4;

/// The file name of a temp for `target`: `.<name>.<random>.tmp`, where
/// `<random>` is 16 hex digits, or `tx-` and 12 hex digits for the temps of
/// a transaction.
pub fn temp_path(target: &Path, tx: bool) -> PathBuf {
    let name = file_name(target);
    let random = uuid::Uuid::new_v4().simple().to_string();
    let random = if tx {
        format!("tx-{}", &random[..12])
    } else {
        random[..16].to_owned()
    };
    target.with_file_name(format!(".{name}.{random}.tmp"))
}

/// If `name` is a temp file name: the name of the file it would replace,
/// and whether it belongs to a transaction.
pub fn temp_target(name: &str) -> Option<(&str, bool)> {
    let inner = name.strip_prefix('.')?.strip_suffix(".tmp")?;
    let (target, random) = inner.rsplit_once('.')?;
    let hex = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_hexdigit());
    let tx = match random.strip_prefix("tx-") {
        Some(r) if hex(r, 12) => true,
        None if hex(random, 16) => false,
        _ => return None,
    };
    (!target.is_empty()).then_some((target, tx))
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

/// The folder a file lives in (`.` for a bare file name).
pub fn parent(p: &Path) -> &Path {
    match p.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    }
}

/// Writes `bytes` to a new temp file next to `target` and fsyncs it.
/// Returns the temp's path. On any error the temp is removed.
pub fn write_temp(
    fs: &dyn Fs,
    target: &Path,
    bytes: &[u8],
    mode: u32,
    tx: bool,
) -> Result<PathBuf> {
    let mut attempt = 0;
    let (temp, mut file) = loop {
        let temp = temp_path(target, tx);
        match fs.create_new(&temp, mode) {
            Ok(f) => break (temp, f),
            Err(e)
                if e.kind() == std::io::ErrorKind::AlreadyExists && attempt + 1 < NAME_ATTEMPTS =>
            {
                attempt += 1;
            }
            Err(e) => return Err(StoreError::write_io("create temp", temp, e)),
        }
    };
    if let Err(e) = file.write_all(bytes) {
        drop(file);
        let _ = fs.remove(&temp);
        return Err(StoreError::write_io("write", temp, e));
    }
    if let Err(source) = file.sync() {
        drop(file);
        let _ = fs.remove(&temp);
        return Err(StoreError::Sync { path: temp, source });
    }
    Ok(temp)
}

/// Renames `temp` over `target` and fsyncs the folder.
pub fn replace(fs: &dyn Fs, temp: &Path, target: &Path) -> Result<()> {
    if let Err(e) = fs.rename(temp, target) {
        let _ = fs.remove(temp);
        return Err(StoreError::write_io("rename", target.to_owned(), e));
    }
    sync_dir(fs, parent(target))
}

/// Fsyncs a folder; an error is a [`StoreError::Sync`].
pub fn sync_dir(fs: &dyn Fs, dir: &Path) -> Result<()> {
    fs.sync_dir(dir).map_err(|source| StoreError::Sync {
        path: dir.to_owned(),
        source,
    })
}

/// The whole protocol for one file: temp, fsync, rename, fsync folder.
pub fn write_file(fs: &dyn Fs, target: &Path, bytes: &[u8], mode: u32) -> Result<()> {
    let temp = write_temp(fs, target, bytes, mode, false)?;
    replace(fs, &temp, target)
}

/// Places a new file durably, never replacing one: temp, fsync, hard
/// link to `target` (which fails when it exists), temp removed, folder
/// fsynced. A crash leaves no `target` or the whole of it (and at most a
/// temp file of the store's naming). `Ok(false)`: `target` exists, nothing
/// was written.
pub fn create_file(fs: &dyn Fs, target: &Path, bytes: &[u8], mode: u32) -> Result<bool> {
    let temp = write_temp(fs, target, bytes, mode, false)?;
    let linked = fs.hard_link(&temp, target);
    let _ = fs.remove(&temp);
    match linked {
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(false),
        Err(e) => Err(StoreError::write_io("link", target.to_owned(), e)),
        Ok(()) => sync_dir(fs, parent(target)).map(|()| true),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn temp_names_round_trip() {
        let t = temp_path(Path::new("/s/config/prod.json"), false);
        let name = t.file_name().unwrap().to_str().unwrap();
        assert!(
            name.starts_with(".prod.json.") && name.ends_with(".tmp"),
            "{name}"
        );
        assert_eq!(temp_target(name), Some(("prod.json", false)));
        let t = temp_path(Path::new("/s/a.json"), true);
        assert_eq!(
            temp_target(t.file_name().unwrap().to_str().unwrap()),
            Some(("a.json", true))
        );
        assert_eq!(temp_target(".prod.json.tmp"), None);
        assert_eq!(temp_target("prod.json"), None);
    }
}
