//! The one resolver of the shared external corpus, included by every test
//! binary and bench that reads it (`#[path = ".../tests/common/corpus.rs"]`).
//!
//! `$STATEWRIGHT_CORPUS` when set, else `../shared/corpus` beside the
//! workspace root. A missing corpus is a failure with the fix, never a skip.

use std::path::PathBuf;

/// The shared corpus folder (read only: tests never edit it).
pub fn corpus() -> PathBuf {
    let dir = match std::env::var_os("STATEWRIGHT_CORPUS") {
        Some(p) => PathBuf::from(p),
        None => workspace_root().join("../shared/corpus"),
    };
    assert!(
        dir.is_dir(),
        "the shared corpus is not at {}; check out ../shared beside the repository or set STATEWRIGHT_CORPUS",
        dir.display()
    );
    dir
}

/// The workspace root: the folder holding the workspace `Cargo.toml`
/// (the manifest dir of a member crate is one level below it).
fn workspace_root() -> PathBuf {
    let manifest = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    manifest
        .ancestors()
        .find(|d| d.join("Cargo.lock").is_file())
        .map(PathBuf::from)
        .unwrap_or(manifest)
}
