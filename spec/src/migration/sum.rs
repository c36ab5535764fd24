//! The integrity sum file `migrations/statewright.sum` (after Atlas's
//! `atlas.sum`): one `sha256` per migration file, chained so that editing,
//! removing, adding or reordering a file is detected and named.
//!
//! Format: a comment line, `total sha256:<hex>` (the chain's last link),
//! then one `<kind>/<file> sha256:<hex>` line per file in file order.

use std::path::{Path, PathBuf};

use sha2::{Digest, Sha256};

use super::error::{MigrationFileError, SumChange};
use super::parse::{MigrationSet, load_dir};

/// The sum file's name inside the migrations dir.
pub const SUM_FILE: &str = "statewright.sum";

const HEADER: &str = "# statewright.sum: sha256 of each migration file, chained. Do not edit by hand: run `statewright migrate hash`.";

/// `sha256:<hex>` of some bytes.
pub fn file_hash(bytes: &[u8]) -> String {
    format!("sha256:{}", hex(&Sha256::digest(bytes)))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// The content of a sum file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SumFile {
    /// The chained hash over every line.
    pub total: String,
    /// `(relative path, file hash)` per migration file, in order.
    pub entries: Vec<(String, String)>,
}

impl SumFile {
    /// The sum of a set of migration files.
    pub fn compute(set: &MigrationSet) -> SumFile {
        let entries: Vec<_> = set
            .migrations
            .iter()
            .map(|m| (m.relative.clone(), m.file_hash.clone()))
            .collect();
        SumFile {
            total: chain(&entries),
            entries,
        }
    }

    /// The file's text.
    pub fn render(&self) -> String {
        let mut out = format!("{HEADER}\ntotal {}\n", self.total);
        for (path, hash) in &self.entries {
            out.push_str(&format!("{path} {hash}\n"));
        }
        out
    }

    /// Parses a sum file's text.
    pub fn parse(path: &Path, text: &str) -> Result<SumFile, MigrationFileError> {
        let mut total = None;
        let mut entries = Vec::new();
        for (n, line) in text.lines().enumerate() {
            if line.starts_with('#') || line.trim().is_empty() {
                continue;
            }
            match line.split_once(' ') {
                Some(("total", t)) if total.is_none() => total = Some(t.to_owned()),
                Some((p, h)) if h.starts_with("sha256:") => {
                    entries.push((p.to_owned(), h.to_owned()))
                }
                _ => return Err(tampered(path, format!("line {}", n + 1))),
            }
        }
        let total = total.ok_or_else(|| tampered(path, "total".into()))?;
        Ok(SumFile { total, entries })
    }

    /// Compares the recorded sum (`self`) with the files on disk (`actual`),
    /// naming the first file that was added, edited, removed or reordered.
    pub fn check(&self, sum_path: &Path, actual: &SumFile) -> Result<(), MigrationFileError> {
        if chain(&self.entries) != self.total {
            return Err(tampered(sum_path, "total".into()));
        }
        let recorded = |p: &str| self.entries.iter().find(|(q, _)| q == p);
        for (path, hash) in &actual.entries {
            match recorded(path) {
                None => return Err(mismatch(sum_path, path, SumChange::Added)),
                Some((_, h)) if h != hash => {
                    return Err(mismatch(sum_path, path, SumChange::Edited));
                }
                Some(_) => {}
            }
        }
        for (path, _) in &self.entries {
            if !actual.entries.iter().any(|(q, _)| q == path) {
                return Err(mismatch(sum_path, path, SumChange::Removed));
            }
        }
        match self
            .entries
            .iter()
            .zip(&actual.entries)
            .find(|(a, b)| a.0 != b.0)
        {
            Some((a, _)) => Err(mismatch(sum_path, &a.0, SumChange::Reordered)),
            None => Ok(()),
        }
    }
}

fn chain(entries: &[(String, String)]) -> String {
    let mut link = Sha256::digest(b"statewright.sum").to_vec();
    for (path, hash) in entries {
        let mut h = Sha256::new();
        h.update(&link);
        h.update(format!("\n{path} {hash}"));
        link = h.finalize().to_vec();
    }
    format!("sha256:{}", hex(&link))
}

fn mismatch(sum: &Path, file: &str, change: SumChange) -> MigrationFileError {
    let help = match change {
        SumChange::Edited => format!(
            "a released migration must not change: restore {file} from version control and add a new migration for the change; if it was never released, run `statewright migrate hash`"
        ),
        SumChange::Removed => format!(
            "restore {file} (documents may record it in their history); if the removal is intended, run `statewright migrate hash`"
        ),
        _ => "if the change is intended, run `statewright migrate hash` to rewrite the sum file"
            .into(),
    };
    MigrationFileError::Sum {
        sum: sum.to_owned(),
        file: file.to_owned(),
        change,
        help,
    }
}

fn tampered(sum: &Path, what: String) -> MigrationFileError {
    MigrationFileError::Sum {
        sum: sum.to_owned(),
        file: what,
        change: SumChange::Tampered,
        help: "the sum file was edited by hand: restore it from version control, or run `statewright migrate hash`".into(),
    }
}

/// The sum file's path for a migrations dir.
pub fn sum_path(migrations_dir: &Path) -> PathBuf {
    migrations_dir.join(SUM_FILE)
}

/// Checks a loaded set against the sum file on disk.
pub fn check_sum(set: &MigrationSet) -> Result<(), MigrationFileError> {
    let path = sum_path(&set.dir);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && set.migrations.is_empty() => {
            return Ok(());
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            return Err(MigrationFileError::SumMissing {
                sum: path,
                help:
                    "run `statewright migrate hash` to write it, and commit it with the migrations"
                        .into(),
            });
        }
        Err(source) => return Err(MigrationFileError::Io { path, source }),
    };
    SumFile::parse(&path, &text)?.check(&path, &SumFile::compute(set))
}

/// Loads the migrations dir and checks it against its sum file: what
/// `migrate` runs before anything else.
pub fn load_checked(dir: &Path) -> Result<MigrationSet, MigrationFileError> {
    let set = load_dir(dir)?;
    check_sum(&set)?;
    Ok(set)
}

/// Rewrites the sum file from the files on disk (`statewright migrate
/// hash`), handing its path and bytes to `write`: the store's durable
/// write (`statewright::migrate::rehash`), so that a crash leaves the old
/// sum file or the new one, never a part.
pub fn rehash_with(
    dir: &Path,
    write: &mut dyn FnMut(&Path, &[u8]) -> std::io::Result<()>,
) -> Result<SumFile, MigrationFileError> {
    let sum = SumFile::compute(&load_dir(dir)?);
    let path = sum_path(dir);
    write(&path, sum.render().as_bytes())
        .map_err(|source| MigrationFileError::Io { path, source })?;
    Ok(sum)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(entries: &[(&str, &str)]) -> SumFile {
        let entries: Vec<_> = entries
            .iter()
            .map(|(a, b)| (a.to_string(), b.to_string()))
            .collect();
        SumFile {
            total: chain(&entries),
            entries,
        }
    }

    fn change(recorded: &SumFile, actual: &SumFile) -> (String, SumChange) {
        match recorded.check(Path::new("s"), actual).unwrap_err() {
            MigrationFileError::Sum { file, change, .. } => (file, change),
            e => panic!("{e}"),
        }
    }

    #[test]
    fn detects_each_change() {
        let rec = sum(&[("k/0001_a.yaml", "sha256:1"), ("k/0002_b.yaml", "sha256:2")]);
        assert!(rec.check(Path::new("s"), &rec).is_ok());
        let edited = sum(&[("k/0001_a.yaml", "sha256:1"), ("k/0002_b.yaml", "sha256:X")]);
        assert_eq!(
            change(&rec, &edited),
            ("k/0002_b.yaml".into(), SumChange::Edited)
        );
        let removed = sum(&[("k/0002_b.yaml", "sha256:2")]);
        assert_eq!(
            change(&rec, &removed),
            ("k/0001_a.yaml".into(), SumChange::Removed)
        );
        let added = sum(&[
            ("k/0001_a.yaml", "sha256:1"),
            ("k/0002_b.yaml", "sha256:2"),
            ("k/0003_c.yaml", "sha256:3"),
        ]);
        assert_eq!(
            change(&rec, &added),
            ("k/0003_c.yaml".into(), SumChange::Added)
        );
        let reordered = sum(&[("k/0002_b.yaml", "sha256:2"), ("k/0001_a.yaml", "sha256:1")]);
        assert_eq!(change(&reordered, &rec).1, SumChange::Reordered);
        let mut tampered = rec.clone();
        tampered.entries[0].1 = "sha256:9".into();
        assert_eq!(change(&tampered, &rec).1, SumChange::Tampered);
    }

    #[test]
    fn render_parse_round_trip() {
        let s = sum(&[("k/0001_a.yaml", "sha256:1")]);
        assert_eq!(SumFile::parse(Path::new("s"), &s.render()).unwrap(), s);
    }
}
