//! The offline schema registry: `$ref` targets resolve from local folders,
//! never from the network.
//!
//! A registry maps URL prefixes to folders (`http://localhost:1234/` →
//! `remotes/`); `file://` URLs are read directly. Anything else is an error
//! that names the URL and the `--schema-dir PREFIX=DIR` mapping that would
//! serve it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::catalog::read_json;

/// The URL prefix of the shipped catalog's schema `$id`s; a project's
/// registry serves it from the project's schemas dir.
pub const SCHEMA_PREFIX: &str = "https://statewright.dev/schemas/";

/// URL-prefix → folder mappings, with a cache of the documents read.
#[derive(Debug, Default, Clone)]
pub struct OfflineRegistry {
    mappings: Vec<(String, PathBuf)>,
    cache: Arc<Mutex<HashMap<String, Value>>>,
    /// Folders whose schemas are preloaded by `$id` on the first miss.
    on_miss: Arc<Mutex<Vec<PathBuf>>>,
}

/// A `$ref` target that could not be served offline.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RegistryError {
    /// No mapping covers the URL.
    #[error(
        "`{uri}` is not available offline; map its prefix to a folder with --schema-dir PREFIX=DIR (or [project] schema_dirs)"
    )]
    Unmapped {
        /// The URL asked for.
        uri: String,
    },
    /// The mapped file could not be read or parsed.
    #[error("`{uri}` maps to {}: {message}", path.display())]
    Unreadable {
        /// The URL asked for.
        uri: String,
        /// The file it maps to.
        path: PathBuf,
        /// What went wrong.
        message: String,
    },
}

impl OfflineRegistry {
    /// An empty registry (only `file://` URLs resolve).
    pub fn new() -> Self {
        Self::default()
    }

    /// The registry of a project: [`SCHEMA_PREFIX`] served from its
    /// schemas dir, its `schema_dirs` mappings, and every schema under the
    /// schemas dir by its `$id` (read on the first URL nothing else
    /// serves), so schemas of the project can refer to each other by id
    /// whatever their host.
    pub fn for_project(project: &crate::Project) -> Self {
        let mut r = Self::new();
        r.map(SCHEMA_PREFIX, project.schemas_dir.clone());
        for (prefix, dir) in &project.schema_dirs {
            r.map(prefix.clone(), dir.clone());
        }
        r.preload_dir_on_miss(&project.schemas_dir);
        r
    }

    /// Like [`OfflineRegistry::preload_dir`], but only when a URL is asked
    /// for that neither the cache nor a mapping serves.
    pub fn preload_dir_on_miss(&self, dir: &Path) {
        if let Ok(mut d) = self.on_miss.lock()
            && !d.iter().any(|known| known == dir)
        {
            d.push(dir.to_owned());
        }
    }

    /// Serves URLs starting with `prefix` from `dir`.
    pub fn map(&mut self, prefix: impl Into<String>, dir: impl Into<PathBuf>) -> &mut Self {
        self.mappings.push((prefix.into(), dir.into()));
        // Longest prefix first, so a specific mapping beats a general one.
        self.mappings
            .sort_by_key(|(p, _)| std::cmp::Reverse(p.len()));
        self
    }

    /// Makes `value` available under `uri` without reading any file.
    pub fn preload(&self, uri: impl Into<String>, value: Value) {
        if let Ok(mut c) = self.cache.lock() {
            c.insert(uri.into(), value);
        }
    }

    /// Preloads every `*.json` schema under `dir` that declares an `$id`
    /// (or draft-04 `id`), so schemas can refer to each other by id.
    /// Unreadable or unparsable files are skipped here; they are reported
    /// when a schema actually refers to them.
    pub fn preload_dir(&self, dir: &Path) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                self.preload_dir(&path);
            } else if path.extension().is_some_and(|e| e == "json")
                && let Ok(value) = read_json(&path)
            {
                let id = value
                    .get("$id")
                    .or_else(|| value.get("id"))
                    .and_then(Value::as_str)
                    .map(|id| id.split('#').next().unwrap_or(id).to_owned());
                if let Some(id) = id {
                    self.preload(id, value);
                }
            }
        }
    }

    /// The mappings, longest prefix first.
    pub fn mappings(&self) -> &[(String, PathBuf)] {
        &self.mappings
    }

    /// The local file a URL maps to, if any.
    pub fn path_for(&self, uri: &str) -> Option<PathBuf> {
        let uri = uri.split('#').next().unwrap_or(uri);
        if let Some(p) = uri.strip_prefix("file://") {
            return Some(PathBuf::from(percent_decode(p)));
        }
        self.mappings.iter().find_map(|(prefix, dir)| {
            let rest = uri.strip_prefix(prefix.as_str())?;
            Some(dir.join(percent_decode(rest.trim_start_matches('/'))))
        })
    }

    /// Preloads the folders waiting for a miss; whether there were any.
    fn preload_pending(&self) -> bool {
        let dirs = self
            .on_miss
            .lock()
            .map(|mut d| std::mem::take(&mut *d))
            .unwrap_or_default();
        for dir in &dirs {
            self.preload_dir(dir);
        }
        !dirs.is_empty()
    }

    /// Loads the document a URL names.
    pub fn load(&self, uri: &str) -> Result<Value, RegistryError> {
        let key = uri.split('#').next().unwrap_or(uri).to_owned();
        if let Some(v) = self.cache.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(v);
        }
        let path = self.path_for(&key).map(|path| {
            if path.is_file() {
                path
            } else {
                with_json_extension(&path)
            }
        });
        let path = match path {
            Some(path) if path.is_file() => path,
            _ if self.preload_pending() => return self.load(uri),
            Some(path) => path,
            None => return Err(RegistryError::Unmapped { uri: key.clone() }),
        };
        let value = read_json(&path).map_err(|e| RegistryError::Unreadable {
            uri: key.clone(),
            path: path.clone(),
            message: e.to_string(),
        })?;
        if let Ok(mut c) = self.cache.lock() {
            c.insert(key, value.clone());
        }
        Ok(value)
    }
}

fn with_json_extension(path: &Path) -> PathBuf {
    if path.extension().is_none() {
        path.with_extension("json")
    } else {
        path.to_owned()
    }
}

fn percent_decode(s: &str) -> String {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%'
            && i + 2 < b.len()
            && b[i + 1].is_ascii_hexdigit()
            && b[i + 2].is_ascii_hexdigit()
            && let Ok(n) = u8::from_str_radix(&s[i + 1..i + 3], 16)
        {
            out.push(n);
            i += 3;
            continue;
        }
        out.push(b[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

impl jsonschema::Retrieve for OfflineRegistry {
    fn retrieve(
        &self,
        uri: &jsonschema::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        Ok(self.load(uri.as_str())?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn longest_prefix_wins_and_unmapped_is_explained() {
        let mut r = OfflineRegistry::new();
        r.map("https://a.example/", "/one")
            .map("https://a.example/deep/", "/two");
        assert_eq!(
            r.path_for("https://a.example/deep/x.json#/defs"),
            Some(PathBuf::from("/two/x.json"))
        );
        assert_eq!(
            r.path_for("https://a.example/y.json"),
            Some(PathBuf::from("/one/y.json"))
        );
        assert_eq!(
            r.path_for("file:///tmp/a%20b.json"),
            Some(PathBuf::from("/tmp/a b.json"))
        );
        let e = r
            .load("https://elsewhere.example/s.json")
            .unwrap_err()
            .to_string();
        assert!(e.contains("--schema-dir PREFIX=DIR"), "{e}");
    }
}
