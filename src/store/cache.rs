//! The last verified version of each document, kept with its exact bytes.
//!
//! A write must know that the version it replaces passes every read
//! check. Every read check is a function of the file's bytes alone (for a
//! given store: same catalog, verifier and limits), so when the bytes on
//! disk now equal the bytes a version was verified from, that verdict
//! still holds. A write therefore still reads the current file (cheap)
//! and compares it byte for byte with the cached version; any change by
//! anyone, however it was made (another process, an editor, a restore),
//! changes the bytes and falls back to the full parse and verification.
//! Entries are filled by reads under the lock and by writes, and never
//! trusted on anything but equal bytes.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;

use crate::store::read::Loaded;

/// Most documents remembered; past it, the cache starts over.
const MAX_ENTRIES: usize = 64;
/// Most bytes remembered in all; past it, the cache starts over.
const MAX_BYTES: usize = 256 << 20;

struct Entry {
    bytes: Arc<Vec<u8>>,
    loaded: Arc<Loaded>,
}

/// A cache entry that a newer version replaced.
pub(crate) struct Replaced(Entry);

impl Replaced {
    /// The size of the replaced version's bytes.
    pub(crate) fn len(&self) -> usize {
        self.0.bytes.len()
    }
}

/// Verified versions by document path (inside the state dir).
#[derive(Default)]
pub(crate) struct Verified {
    entries: Mutex<HashMap<String, Entry>>,
}

impl std::fmt::Debug for Verified {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Verified").finish_non_exhaustive()
    }
}

impl Verified {
    /// The verified version of `rel` whose bytes are exactly `bytes`.
    pub(crate) fn get(&self, rel: &str, bytes: &[u8]) -> Option<Arc<Loaded>> {
        let entries = self.entries.lock().ok()?;
        let e = entries.get(rel)?;
        (e.bytes.as_slice() == bytes).then(|| e.loaded.clone())
    }

    /// Remembers that `bytes` of `rel` passed every read check as `loaded`.
    /// Returns the entry it replaced, for the caller to free.
    pub(crate) fn put(
        &self,
        rel: &str,
        bytes: Arc<Vec<u8>>,
        loaded: Arc<Loaded>,
    ) -> Option<Replaced> {
        let Ok(mut entries) = self.entries.lock() else {
            return None;
        };
        let total: usize = entries.values().map(|e| e.bytes.len()).sum();
        if !entries.contains_key(rel)
            && (entries.len() >= MAX_ENTRIES || total + bytes.len() > MAX_BYTES)
        {
            entries.clear();
        }
        entries
            .insert(rel.to_owned(), Entry { bytes, loaded })
            .map(Replaced)
    }
}

/// How deeply arrays and objects nest in `v` (a scalar: 0).
pub(crate) fn depth(v: &Value) -> usize {
    match v {
        Value::Array(a) => 1 + a.iter().map(depth).max().unwrap_or(0),
        Value::Object(m) => 1 + m.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}
