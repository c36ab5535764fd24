//! One write path: nothing in the library or the binary writes a file
//! except through the store's `Fs` (`src/store/fs.rs`, whose real
//! implementation is the only caller of the file-writing `std::fs`
//! functions) or its database backend. This test reads the sources and
//! fails on any other call that writes, renames, links or removes a file,
//! naming the file and line. Test modules (from `#[cfg(test)]` on) are
//! left out; creating folders is allowed.

use std::path::{Path, PathBuf};

/// Calls that change files.
const WRITERS: &[&str] = &[
    "fs::write(",
    "fs::rename(",
    "fs::remove_file(",
    "fs::remove_dir_all(",
    "fs::hard_link(",
    "fs::copy(",
    "File::create(",
    "OpenOptions::new()",
    ".set_len(",
];

/// The one implementation allowed to call them.
const ALLOWED: &[&str] = &["src/store/fs.rs"];

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            sources(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

#[test]
fn only_the_store_writes_files() {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let mut files = Vec::new();
    sources(&root.join("src"), &mut files);
    files.sort();
    assert!(
        files.len() > 50,
        "sources not found under {}",
        root.display()
    );
    let mut found = Vec::new();
    for f in &files {
        let rel = f
            .strip_prefix(&root)
            .unwrap()
            .to_string_lossy()
            .replace('\\', "/");
        if ALLOWED.contains(&rel.as_str()) {
            continue;
        }
        let text = std::fs::read_to_string(f).unwrap();
        for (i, line) in text.lines().enumerate() {
            if line.trim_start().starts_with("#[cfg(test)]") {
                break;
            }
            if line.trim_start().starts_with("//") {
                continue;
            }
            if let Some(w) = WRITERS.iter().find(|w| line.contains(*w)) {
                found.push(format!("{rel}:{}: `{w}`: {}", i + 1, line.trim()));
            }
        }
    }
    assert!(
        found.is_empty(),
        "files written outside the store (use store::atomic::write_file/create_file on an Fs):\n{}",
        found.join("\n")
    );
}
