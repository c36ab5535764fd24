//! The layout of a state dir, owned here and nowhere else: which names are
//! the store's own (lock, journal, backups, `.corrupt/`, audit log), what
//! a temp file is called, which relative paths may name a document, and
//! the one walk that lists a state dir (with one depth limit), through
//! the [`Fs`] interface.
//!
//! Every path the store reads from its own files (the journal, the audit
//! log, the lock holder) is checked here before it is acted on: relative,
//! normalized (no empty, `.` or `..` part, no `\` or NUL), inside the
//! state dir, and of the store's own naming.

use std::path::{Path, PathBuf};

use crate::store::fs::{Fs, Meta};

pub use crate::store::atomic::temp_target;
pub use crate::store::audit::AUDIT_FILE;
pub use crate::store::backend::CORRUPT_DIR;
pub use crate::store::backup::BACKUP_DIR;
pub use crate::store::journal::JOURNAL;
pub use crate::store::lock::LOCK_FILE;

/// How deep the walk goes below the state dir: folders further down are
/// reported ([`Listing::too_deep`]), never read.
pub const MAX_DEPTH: usize = 32;

/// The lock holder's record of older versions, kept out of listings.
const OLD_LOCK_RECORD: &str = ".lock.json";

/// Whether `name`, at the top of the state dir, is one of the store's own
/// files or folders (never a document): the lock, the journal, the
/// backups, `.corrupt/`, the audit log and its rotated files.
pub fn is_reserved(name: &str) -> bool {
    [LOCK_FILE, OLD_LOCK_RECORD, JOURNAL, BACKUP_DIR, CORRUPT_DIR].contains(&name)
        || name == AUDIT_FILE
        || name
            .strip_prefix(AUDIT_FILE)
            .and_then(|n| n.strip_prefix('.'))
            .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
}

/// Whether `name` (at any depth) is never a document: a reserved name at
/// the top, or a temp file anywhere.
pub fn is_store_name(name: &str, top: bool) -> bool {
    (top && is_reserved(name)) || temp_target(name).is_some()
}

/// Checks that `rel` is a relative, normalized path with `/` separators:
/// not empty, not absolute, no empty, `.` or `..` part, no `\` or NUL.
/// The error says what is wrong.
pub fn check_relative(rel: &str) -> Result<(), String> {
    if rel.is_empty() {
        return Err("the path is empty".into());
    }
    if rel.starts_with('/') {
        return Err(format!("`{rel}` is an absolute path"));
    }
    if rel.contains('\\') || rel.contains('\0') {
        return Err(format!("`{rel}` contains `\\` or a NUL byte"));
    }
    match rel
        .split('/')
        .find(|p| p.is_empty() || *p == "." || *p == "..")
    {
        Some("..") => Err(format!("`{rel}` climbs out with `..`")),
        Some(_) => Err(format!("`{rel}` is not normalized (an empty or `.` part)")),
        None => Ok(()),
    }
}

/// Checks that `rel` may name a document: relative and normalized, not
/// one of the store's own names, no part a temp file name.
pub fn check_document(rel: &str) -> Result<(), String> {
    check_relative(rel)?;
    let mut parts = rel.split('/');
    if parts.next().is_some_and(is_reserved) {
        return Err(format!("`{rel}` is one of the store's own files"));
    }
    if rel.split('/').any(|p| temp_target(p).is_some()) {
        return Err(format!("`{rel}` is a temp file name, not a document"));
    }
    Ok(())
}

/// Checks that `temp` is the name of a transaction temp for `target` (a
/// document path): `<folder>/.<name>.tx-<12 hex>.tmp` next to
/// `<folder>/<name>`.
pub fn check_tx_temp(temp: &str, target: &str) -> Result<(), String> {
    check_relative(temp)?;
    let (folder, name) = temp.rsplit_once('/').unwrap_or(("", temp));
    let (t_folder, t_name) = target.rsplit_once('/').unwrap_or(("", target));
    match temp_target(name) {
        Some((of, true)) if of == t_name && folder == t_folder => Ok(()),
        Some((_, true)) => Err(format!(
            "`{temp}` is the temp of another file than `{target}`"
        )),
        _ => Err(format!(
            "`{temp}` is not a transaction temp name (`.<name>.tx-<12 hex digits>.tmp`)"
        )),
    }
}

/// Checks, on the file system, that no folder on the way from `dir` to
/// `rel` is a symbolic link or anything but a folder: the path stays
/// inside the state dir. The error says which part is wrong.
pub fn check_inside(fs: &dyn Fs, dir: &Path, rel: &str) -> Result<(), String> {
    let mut cur = dir.to_path_buf();
    let parts: Vec<&str> = rel.split('/').collect();
    for part in &parts[..parts.len().saturating_sub(1)] {
        cur.push(part);
        match fs.meta(&cur) {
            Ok(Some(m)) if m.is_dir => {}
            Ok(Some(m)) => return Err(format!("{} is {}", cur.display(), describe(&m))),
            Ok(None) => return Ok(()),
            Err(e) => return Err(format!("{}: {e}", cur.display())),
        }
    }
    Ok(())
}

/// What an entry is, in words ("a symbolic link", "a FIFO", ...).
pub fn describe(m: &Meta) -> &'static str {
    if m.is_symlink {
        "a symbolic link"
    } else if m.is_dir {
        "a directory"
    } else if m.is_file {
        "a regular file"
    } else {
        m.special.unwrap_or("not a regular file")
    }
}

/// A temp file found by the walk.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Temp {
    /// The temp, relative to the state dir.
    pub temp: String,
    /// The file it was to replace, relative to the state dir.
    pub target: String,
    /// Whether it belongs to a transaction.
    pub tx: bool,
}

/// Everything in a state dir that is not the store's own, as one walk
/// finds it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listing {
    /// Regular files (documents and anything else a user put there),
    /// relative, sorted.
    pub files: Vec<String>,
    /// Temp files of interrupted writes, sorted.
    pub temps: Vec<Temp>,
    /// Entries that are neither regular files nor folders (symbolic links,
    /// FIFOs, sockets, devices), with what they are: never opened.
    pub special: Vec<(String, &'static str)>,
    /// Folders deeper than [`MAX_DEPTH`], not read.
    pub too_deep: Vec<String>,
}

/// Lists the state dir `dir`: one walk, one depth limit, one definition
/// of a temp file. A folder that cannot be listed is an error naming it.
pub fn list(fs: &dyn Fs, dir: &Path) -> Result<Listing, (PathBuf, std::io::Error)> {
    list_with(fs, dir, false)
}

/// Like [`list`], but the store's own files that hold state (backups, the
/// manifest, `.corrupt/`, the audit log) are listed too: everything but
/// the lock, the journal and temps. What an export bundles.
pub fn list_kept(fs: &dyn Fs, dir: &Path) -> Result<Listing, (PathBuf, std::io::Error)> {
    list_with(fs, dir, true)
}

fn list_with(fs: &dyn Fs, dir: &Path, kept: bool) -> Result<Listing, (PathBuf, std::io::Error)> {
    let mut out = Listing::default();
    walk(fs, dir, "", 0, kept, &mut out)?;
    out.files.sort();
    out.temps.sort_by(|a, b| a.temp.cmp(&b.temp));
    out.special.sort();
    out.too_deep.sort();
    Ok(out)
}

fn walk(
    fs: &dyn Fs,
    dir: &Path,
    prefix: &str,
    depth: usize,
    kept: bool,
    out: &mut Listing,
) -> Result<(), (PathBuf, std::io::Error)> {
    let names = fs.list(dir).map_err(|e| (dir.to_owned(), e))?;
    for name in names {
        let rel = format!("{prefix}{name}");
        if let Some((target, tx)) = temp_target(&name) {
            out.temps.push(Temp {
                temp: rel,
                target: format!("{prefix}{target}"),
                tx,
            });
            continue;
        }
        let transient = [LOCK_FILE, OLD_LOCK_RECORD, JOURNAL].contains(&name.as_str());
        if depth == 0 && is_reserved(&name) && (!kept || transient) {
            continue;
        }
        let path = dir.join(&name);
        match fs.meta(&path) {
            Ok(Some(m)) if m.is_dir && depth + 1 >= MAX_DEPTH => out.too_deep.push(rel),
            Ok(Some(m)) if m.is_dir => walk(fs, &path, &format!("{rel}/"), depth + 1, kept, out)?,
            Ok(Some(m)) if m.is_file => out.files.push(rel),
            Ok(Some(m)) => out.special.push((rel, describe(&m))),
            Ok(None) => {}
            Err(e) => return Err((path, e)),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_are_checked() {
        assert!(check_relative("config/dev.json").is_ok());
        for bad in ["", "/etc/passwd", "a/../b", "../x", "a//b", "./a", "a\\b"] {
            assert!(check_relative(bad).is_err(), "{bad}");
        }
        assert!(check_document(".journal").is_err());
        assert!(check_document("audit.log.3").is_err());
        assert!(check_document(".backup/x.json").is_err());
        assert!(check_document("a/.x.json.0123456789abcdef.tmp").is_err());
        assert!(check_document("a/audit.log").is_ok());
        assert!(check_tx_temp("a/.x.json.tx-0123456789ab.tmp", "a/x.json").is_ok());
        assert!(check_tx_temp("b/.x.json.tx-0123456789ab.tmp", "a/x.json").is_err());
        assert!(check_tx_temp(".x.json.0123456789abcdef.tmp", "x.json").is_err());
        assert!(check_tx_temp("x.json", "x.json").is_err());
        assert!(check_tx_temp("/tmp/.x.json.tx-0123456789ab.tmp", "x.json").is_err());
    }
}
