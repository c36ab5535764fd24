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
