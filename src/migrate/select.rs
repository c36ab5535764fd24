//! Which documents a `migrate` run takes: the PATHS given (a document, a
//! folder inside the state dir, or the state dir itself), or every
//! document; with a fixed target and no PATHS, the documents whose kind
//! has that version.

use std::path::{Path, PathBuf};

use statewright_spec::Catalog;

use crate::ops::{OpsError, resolve};

/// The documents `paths` name, relative to the state dir `dir`, among
/// `documents` (every document of the state dir, as the store lists
/// them). A path that names the state dir or a folder inside it stands
/// for every document under it; any other path names one document (which
/// need not be listed: reading it reports what is wrong with it). Without
/// `paths`, every document.
///
/// ```
/// use std::path::{Path, PathBuf};
/// use statewright::migrate::select_documents;
///
/// let listed = vec!["recs/a.json".to_owned(), "recs/b.json".to_owned(), "top.json".to_owned()];
/// let dir = Path::new("/nonexistent/state");
/// let chosen = select_documents(dir, &[PathBuf::from("recs")], &listed).unwrap();
/// assert_eq!(chosen, ["recs/a.json", "recs/b.json"]);
/// ```
pub fn select_documents(
    dir: &Path,
    paths: &[PathBuf],
    documents: &[String],
) -> Result<Vec<String>, OpsError> {
    if paths.is_empty() {
        return Ok(documents.to_vec());
    }
    let mut out: Vec<String> = Vec::new();
    for p in paths {
        let rel = resolve(dir, p)?;
        let prefix = format!("{rel}/");
        let under: Vec<&String> = documents
            .iter()
            .filter(|d| rel.is_empty() || d.starts_with(&prefix))
            .collect();
        match under.is_empty() && !rel.is_empty() {
            true => out.push(rel),
            false => out.extend(under.into_iter().cloned()),
        }
    }
    let mut seen = std::collections::BTreeSet::new();
    out.retain(|r| seen.insert(r.clone()));
    Ok(out)
}

/// The documents among `documents` whose kind has schema version `n`
/// (what `migrate --to N` takes without PATHS).
pub fn with_version(catalog: &Catalog, documents: Vec<String>, n: u32) -> Vec<String> {
    documents
        .into_iter()
        .filter(|rel| {
            catalog
                .kind_for(Path::new(rel))
                .is_some_and(|k| k.version(n).is_some())
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_state_dir_itself_takes_every_document() {
        let t = tempfile::tempdir().unwrap();
        let dir = t.path().join("state");
        std::fs::create_dir_all(dir.join("recs")).unwrap();
        let listed = vec!["recs/a.json".to_owned(), "top.json".to_owned()];
        let all = select_documents(&dir, std::slice::from_ref(&dir), &listed).unwrap();
        assert_eq!(all, listed);
        let one = select_documents(&dir, &[PathBuf::from("top.json")], &listed).unwrap();
        assert_eq!(one, ["top.json"]);
    }
}

/// Why the documents of a migration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The PATHS do not name documents of the state dir.
    #[error(transparent)]
    Select(#[from] OpsError),
    /// A document is newer than every schema the catalog knows.
    #[error(transparent)]
    Migrate(#[from] crate::migrate::MigrateError),
    /// The store refused a read (corrupt, unreadable, not a document).
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// The documents a `migrate` run takes (see [`select_documents`] and
/// [`with_version`]; `only` is `--to N` without PATHS), each read and
/// verified through `store` under the lock `guard` (adopted documents
/// without a checksum are accepted), relative to the state dir, in order.
/// `on_read(done, total)` is called after each document read (for
/// progress).
pub fn read_documents(
    store: &crate::store::Store,
    guard: &crate::store::LockGuard,
    paths: &[PathBuf],
    only: Option<u32>,
    on_read: &mut dyn FnMut(usize, usize),
) -> Result<Vec<(PathBuf, serde_json::Value)>, ReadError> {
    let listed = store.document_paths()?;
    let rels = select_documents(store.dir(), paths, &listed)?;
    let rels = match (paths.is_empty(), only) {
        (true, Some(n)) => with_version(store.catalog(), rels, n),
        _ => rels,
    };
    let total = rels.len();
    let mut docs = Vec::with_capacity(total);
    for rel in rels {
        docs.push((PathBuf::from(&rel), read_one(store, guard, &rel)?));
        on_read(docs.len(), total);
    }
    Ok(docs)
}

/// One document under the lock; a document newer than the catalog is the
/// migration's refusal (exit 4), not a corrupt read.
fn read_one(
    store: &crate::store::Store,
    guard: &crate::store::LockGuard,
    rel: &str,
) -> Result<serde_json::Value, ReadError> {
    use crate::store::StoreError;
    match store.read_unstamped(Some(guard), rel) {
        Ok(l) => Ok(l.value),
        Err(StoreError::NewerVersion {
            found,
            known,
            checksum_mismatch: false,
            ..
        }) => {
            let kind = store
                .catalog()
                .kind_for(Path::new(rel))
                .map_or_else(String::new, |k| k.name.clone());
            Err(crate::migrate::MigrateError::NewerThanKnown {
                kind,
                version: found,
                latest: known,
            }
            .in_document(rel)
            .into())
        }
        Err(e) => Err(e.into()),
    }
}

/// A document's row of `migrate status`, and why it could not be read.
#[derive(Debug, Clone, serde::Serialize)]
pub struct StatusRow {
    /// Its version against its kind's latest.
    #[serde(flatten)]
    pub status: crate::migrate::DocumentStatus,
    /// The store's refusal, when the document could not be read.
    pub error: Option<String>,
}

/// `migrate status`: each document of the store's state, read without
/// the lock, against its kind's latest schema version.
pub fn state_status(
    store: &crate::store::Store,
    migrations_dir: &Path,
) -> Result<Vec<StatusRow>, crate::store::StoreError> {
    use crate::migrate::{DocumentStatus, Migrator, StatusState};
    use crate::store::StoreError;
    let empty = crate::migrate::MigrationSet {
        dir: migrations_dir.to_owned(),
        migrations: Vec::new(),
    };
    let catalog = store.catalog();
    let migrator = Migrator::new(catalog, &empty);
    let rows = store.document_paths()?.into_iter().map(|rel| {
        let kind = catalog.kind_for(Path::new(&rel));
        let row = |version, state| DocumentStatus {
            path: PathBuf::from(&rel),
            kind: kind.map(|k| k.name.clone()),
            version,
            latest: kind.map(|k| k.latest().version),
            state,
        };
        match store.read_unstamped(None, &rel) {
            Ok(l) => {
                let mut s = migrator.status(&[(PathBuf::from(&rel), l.value)]);
                StatusRow {
                    status: s.remove(0),
                    error: None,
                }
            }
            Err(StoreError::NewerVersion { found, .. }) => StatusRow {
                status: row(Some(found), StatusState::Newer),
                error: None,
            },
            Err(e) => StatusRow {
                status: row(None, StatusState::NoVersion),
                error: Some(e.to_string()),
            },
        }
    });
    Ok(rows.collect())
}
