//! Operator commands as library functions: what `terraform state` and
//! mamfast's `state` subcommands give operators, for any catalog kind.
//!
//! | function | command |
//! |---|---|
//! | [`get()`] | `statewright get FILE POINTER` |
//! | [`set()`] | `statewright set FILE POINTER VALUE` / `--increment N` |
//! | [`append()`] | `statewright append FILE POINTER VALUE` |
//! | [`rm()`] | `statewright rm FILE POINTER` |
//! | [`list_documents`], [`list_entries`] | `statewright list` |
//! | [`export()`] | `statewright export` |
//! | [`read_bundle`], [`import()`] | `statewright import BUNDLE` |
//! | [`prune()`] | `statewright prune` |
//! | [`transfer()`] | `statewright state push DIR` / `state pull DIR` |
//!
//! Reads and writes go through the [`Store`](crate::store::Store): every
//! change is made under the state lock, validated against the schema,
//! backed up, audited and written atomically. Dry runs run the same checks
//! ([`Store::dry_run_write`](crate::store::Store::dry_run_write)) and write
//! nothing. Entries that are not there are not errors: [`get()`] returns
//! `None` and [`rm()`] [`RmOutcome::NotFound`].

mod edit;
mod error;
mod export;
mod import;
mod list;
mod prune;
mod transfer;

use std::path::{Component, Path};

use serde_json::Value;

use crate::store::Store;

pub use edit::{Change, Edit, RmOutcome, SetRequest, append, get, parse_value, rm, set};
pub use error::{OpsError, Result};
pub use export::{
    BUNDLE_FORMAT, Bundle, BundleFile, ManifestEntry, export, write_bundle, write_bundle_with,
};
pub use import::{
    Action, ImportReport, ImportRequest, Imported, Skipped, import, read_bundle, verify_bundle,
};
pub use list::{DocumentRow, Entry, Filter, list_documents, list_entries};
pub use prune::{PruneReport, PruneRequest, Stale, prune};
pub use transfer::{TransferRequest, transfer};

/// The document `file` names, relative to the state dir `dir`: `file` is
/// either relative to the state dir (`config/dev.json`) or a path to a
/// file inside it (`examples/state/config/dev.json`, `/abs/state/x.json`).
pub fn resolve(dir: &Path, file: &Path) -> Result<String> {
    let plain = file.is_relative()
        && file
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    if plain && (dir.join(file).exists() || !file.exists()) {
        return Ok(slashes(file));
    }
    let outside = || OpsError::OutsideStateDir {
        path: file.to_owned(),
        dir: dir.to_owned(),
    };
    let base = dir.canonicalize().map_err(|_| outside())?;
    // The file itself may not exist yet: canonicalize its folder.
    let abs = match file.canonicalize() {
        Ok(p) => p,
        Err(_) => {
            let parent = file.parent().filter(|p| !p.as_os_str().is_empty());
            let parent = parent.unwrap_or(Path::new(".")).canonicalize();
            match (parent, file.file_name()) {
                (Ok(p), Some(name)) => p.join(name),
                _ => return Err(outside()),
            }
        }
    };
    abs.strip_prefix(&base).map(slashes).map_err(|_| outside())
}

/// The document `file` names in a namespace of a database: a relative
/// path with only plain components (`config/dev.json`).
pub fn resolve_in_namespace(file: &Path) -> Result<String> {
    let plain = file.is_relative()
        && file
            .components()
            .all(|c| matches!(c, Component::Normal(_) | Component::CurDir));
    match plain {
        true => Ok(slashes(file)),
        false => Err(OpsError::Store(crate::store::StoreError::BadPath {
            path: file.display().to_string(),
        })),
    }
}

fn slashes(p: &Path) -> String {
    p.components()
        .filter_map(|c| match c {
            Component::Normal(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect::<Vec<_>>()
        .join("/")
}

/// Checks RFC 6901 syntax and returns the unescaped tokens.
pub fn parse_pointer(pointer: &str) -> Result<Vec<String>> {
    let bad = |message: String| OpsError::BadPointer {
        pointer: pointer.to_owned(),
        message,
    };
    if pointer.is_empty() {
        return Ok(Vec::new());
    }
    if !pointer.starts_with('/') {
        return Err(bad(format!(
            "it must start with `/` (did you mean `/{pointer}`?)"
        )));
    }
    let bytes = pointer.as_bytes();
    for (i, b) in bytes.iter().enumerate() {
        if *b == b'~' && !matches!(bytes.get(i + 1), Some(b'0' | b'1')) {
            return Err(bad(format!(
                "`~` at character {} must be followed by 0 or 1",
                i + 1
            )));
        }
    }
    Ok(statewright_spec::pointer::tokens(pointer))
}

/// What a value is, for messages: `an object`, `a string`.
pub fn describe(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// The documents of the store's state dir (relative paths, sorted) as
/// [`crate::store::layout`] lists them, leaving out the store's own files:
/// lock, journal, backups, audit log, temps. Entries that are not regular
/// files are listed too, so that reading them reports what they are.
pub fn document_files(store: &Store) -> Result<Vec<String>> {
    let listing = store.listing(false)?;
    let mut out = listing.files;
    out.extend(listing.special.into_iter().map(|(rel, _)| rel));
    out.sort();
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_are_checked() {
        assert_eq!(parse_pointer("/a~1b/0").unwrap(), vec!["a/b", "0"]);
        assert!(parse_pointer("").unwrap().is_empty());
        let e = parse_pointer("count").unwrap_err().to_string();
        assert!(e.contains("did you mean `/count`"), "{e}");
        let e = parse_pointer("/a~2").unwrap_err().to_string();
        assert!(e.contains("`~` at character 3"), "{e}");
    }

    #[test]
    fn files_resolve_inside_the_state_dir() {
        let t = tempfile::tempdir().unwrap();
        let state = t.path().join("state");
        std::fs::create_dir_all(state.join("config")).unwrap();
        std::fs::write(state.join("config/dev.json"), "{}").unwrap();
        assert_eq!(
            resolve(&state, Path::new("config/dev.json")).unwrap(),
            "config/dev.json"
        );
        assert_eq!(
            resolve(&state, &state.join("config/dev.json")).unwrap(),
            "config/dev.json"
        );
        assert!(matches!(
            resolve(&state, &t.path().join("other.json")),
            Err(OpsError::OutsideStateDir { .. })
        ));
    }
}
