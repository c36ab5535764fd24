//! `list`: the documents of a state dir with kind, version, serial and
//! last writer; or the entries of one map or array, filtered.

use std::str::FromStr;

use serde::Serialize;
use serde_json::Value;
use statewright_spec::Catalog;

use crate::ops::{OpsError, Result, describe, document_files, parse_pointer};
use crate::store::Store;

/// One document of a state dir.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DocumentRow {
    /// Its path inside the state dir.
    pub file: String,
    /// Its kind.
    pub kind: String,
    /// Its schema version (`None` when it could not be read).
    pub version: Option<u32>,
    /// Its serial (0: never written by statewright).
    pub serial: Option<u64>,
    /// The command that last wrote it (`origin.command`).
    pub command: Option<String>,
    /// The module that last wrote it (`origin.module`).
    pub module: Option<String>,
    /// When it was last written (`generated_at`).
    pub generated_at: Option<String>,
    /// Why it could not be read, when it could not.
    pub error: Option<String>,
}

/// The documents of the store's state dir that a kind matches (only those
/// of `kind` when given), each read and verified through the store. A
/// document that fails a check is listed with its error, not skipped.
pub fn list_documents(
    store: &Store,
    catalog: &Catalog,
    kind: Option<&str>,
) -> Result<Vec<DocumentRow>> {
    if let Some(k) = kind
        && catalog.kind(k).is_none()
    {
        return Err(OpsError::UnknownKind {
            name: k.to_owned(),
            known: catalog.kinds.keys().cloned().collect(),
        });
    }
    let mut rows = Vec::new();
    for file in document_files(store)? {
        let Some(k) = catalog.kind_for(std::path::Path::new(&file)) else {
            continue;
        };
        if kind.is_some_and(|want| want != k.name) {
            continue;
        }
        let mut row = DocumentRow {
            file: file.clone(),
            kind: k.name.clone(),
            version: None,
            serial: None,
            command: None,
            module: None,
            generated_at: None,
            error: None,
        };
        match store.read(&file) {
            Ok(doc) => {
                let origin = doc.envelope.origin.as_ref();
                let text = |key: &str| {
                    origin
                        .and_then(|o| o.get(key))
                        .and_then(Value::as_str)
                        .map(str::to_owned)
                };
                row.version = Some(doc.version);
                row.serial = Some(doc.envelope.serial);
                row.command = text("command");
                row.module = text("module");
                row.generated_at = doc.envelope.generated_at.clone();
            }
            Err(e) => row.error = Some(e.to_string()),
        }
        rows.push(row);
    }
    Ok(rows)
}

/// A `--where FIELD=VALUE` filter: the entry's member at FIELD (a name or
/// a pointer inside the entry) equals VALUE (as a string, or as the JSON
/// literal VALUE for numbers, booleans and null).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filter {
    /// Pointer inside an entry.
    pub pointer: String,
    /// The value wanted.
    pub value: String,
}

impl FromStr for Filter {
    type Err = OpsError;

    fn from_str(s: &str) -> Result<Filter> {
        let bad = || OpsError::BadFilter {
            filter: s.to_owned(),
        };
        let (field, value) = s.split_once('=').ok_or_else(bad)?;
        if field.is_empty() {
            return Err(bad());
        }
        let pointer = if field.starts_with('/') {
            field.to_owned()
        } else {
            statewright_spec::pointer::join("", field)
        };
        parse_pointer(&pointer)?;
        Ok(Filter {
            pointer,
            value: value.to_owned(),
        })
    }
}

impl Filter {
    /// Whether `entry` passes.
    pub fn matches(&self, entry: &Value) -> bool {
        match entry.pointer(&self.pointer) {
            None => false,
            Some(Value::String(s)) => *s == self.value,
            Some(v) => serde_json::from_str::<Value>(&self.value).is_ok_and(|want| want == *v),
        }
    }
}

/// One entry of a map (its key) or array (its index).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The member name or index.
    pub key: String,
    /// The entry's pointer in the document.
    pub pointer: String,
    /// The entry.
    pub value: Value,
}

/// The entries of the object or array at `pointer` in `rel` that pass
/// every filter, in document order.
pub fn list_entries(
    store: &Store,
    rel: &str,
    pointer: &str,
    filters: &[Filter],
) -> Result<Vec<Entry>> {
    parse_pointer(pointer)?;
    let doc = store.read(rel)?;
    let entry = |key: String, value: &Value| Entry {
        pointer: statewright_spec::pointer::join(pointer, &key),
        key,
        value: value.clone(),
    };
    let all: Vec<Entry> = match doc.value.pointer(pointer) {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| entry(k.clone(), v)).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| entry(i.to_string(), v))
            .collect(),
        other => {
            return Err(OpsError::NotAList {
                file: rel.to_owned(),
                pointer: pointer.to_owned(),
                found: other.map_or("nothing", describe),
            });
        }
    };
    Ok(all
        .into_iter()
        .filter(|e| filters.iter().all(|f| f.matches(&e.value)))
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_compare_strings_and_literals() {
        let f: Filter = "status=FAILED".parse().unwrap();
        assert_eq!(f.pointer, "/status");
        assert!(f.matches(&json!({"status": "FAILED"})));
        assert!(!f.matches(&json!({"status": "COMPLETE"})));
        assert!(!f.matches(&json!({})));
        let n: Filter = "/retry_count=3".parse().unwrap();
        assert!(n.matches(&json!({"retry_count": 3})));
        let null: Filter = "author=null".parse().unwrap();
        assert!(null.matches(&json!({"author": null})));
        assert!("nofield".parse::<Filter>().is_err());
        assert!("=x".parse::<Filter>().is_err());
    }
}
