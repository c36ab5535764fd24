//! The shared harness: run the real binary, read the real corpus.

use std::path::{Path, PathBuf};
use std::process::Command;

/// What a run of the binary produced.
#[derive(Debug)]
pub struct Run {
    pub code: i32,
    pub stdout: String,
    pub stderr: String,
}

impl Run {
    /// stdout parsed as JSON (for `--format json`).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_str(&self.stdout).unwrap_or_else(|e| {
            panic!(
                "stdout is not JSON ({e}):\n{}\nstderr:\n{}",
                self.stdout, self.stderr
            )
        })
    }
}

/// The repository root.
pub fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

#[path = "../common/corpus.rs"]
mod shared_corpus;
pub use shared_corpus::corpus;

/// Runs `statewright ARGS` in `cwd` with colors off.
pub fn run_in(cwd: &Path, args: &[&str]) -> Run {
    let out = Command::new(env!("CARGO_BIN_EXE_statewright"))
        .args(args)
        .current_dir(cwd)
        .env("NO_COLOR", "1")
        .env_remove("STATEWRIGHT_PROJECT")
        .output()
        .expect("run statewright");
    Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// Runs `statewright ARGS` at the repository root.
pub fn run(args: &[&str]) -> Run {
    run_in(&repo(), args)
}

/// A fresh temporary folder.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::tempdir().expect("tempdir")
}

/// Text with miette's wrapping undone: box-drawing gutters removed and
/// whitespace runs folded, so assertions can match whole sentences.
pub fn flat(s: &str) -> String {
    s.replace(['│', '╭', '╰', '─', '·'], " ")
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
}

/// Copies the folder `from` to `to`, recursively.
pub fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            copy_dir(&p, &to.join(e.file_name()));
        } else {
            std::fs::copy(&p, to.join(e.file_name())).unwrap();
        }
    }
}

/// A temp project: the repo's schemas and project file, and a copy of
/// examples/state as `state/`.
pub fn example_project() -> tempfile::TempDir {
    let t = tempdir();
    let repo = repo();
    copy_dir(&repo.join("schemas"), &t.path().join("schemas"));
    copy_dir(&repo.join("examples/state"), &t.path().join("state"));
    let toml = std::fs::read_to_string(repo.join("statewright.toml"))
        .unwrap()
        .replace("examples/state", "state");
    std::fs::write(t.path().join("statewright.toml"), toml).unwrap();
    t
}
