//! Shared helpers: where the external corpus lives.

#[path = "../common/corpus.rs"]
mod shared_corpus;
pub use shared_corpus::corpus;

/// Reads a JSON file.
pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
