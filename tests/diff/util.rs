//! Shared helpers: where the external corpus lives.

use std::path::PathBuf;

/// The shared corpus folder: `$STATEWRIGHT_CORPUS`, else `shared/corpus`
/// beside or above the repository.
pub fn corpus() -> PathBuf {
    if let Ok(p) = std::env::var("STATEWRIGHT_CORPUS") {
        return PathBuf::from(p);
    }
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    for dir in root.ancestors() {
        let c = dir.join("shared/corpus");
        if c.is_dir() {
            return c;
        }
    }
    panic!(
        "shared/corpus not found above {}; set STATEWRIGHT_CORPUS",
        root.display()
    );
}

/// Reads a JSON file.
pub fn read_json(path: &std::path::Path) -> serde_json::Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}
