//! Hostile input around the documents, through the real binary: every
//! byte the store reads from its own files (journal, audit log, lock
//! holder) and every odd entry where a document belongs is untrusted. Each
//! case sets up a state dir written through the store, runs one command,
//! and asserts the exit code, the message, and that every file under the
//! state dir and a sentinel file outside it are byte-identical afterwards
//! (or, for a legitimate repair, exactly what is expected).

use std::collections::BTreeMap;
use std::os::unix::fs::{FileTypeExt, symlink};
use std::path::{Path, PathBuf};

use serde_json::Value;
use statewright::envelope::checksum;

use crate::state::{State, written};

/// The sentinel outside the state dir, in the project root.
const SENTINEL: &str = "outside.json";
const SENTINEL_BYTES: &[u8] = b"{\"outside\": true}\n";
/// A transaction temp name for `processed.json`.
const TX_TEMP: &str = ".processed.json.tx-0123456789ab.tmp";

/// What a file under the state dir is, with its bytes when it has some.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Entry {
    File(Vec<u8>),
    Link(PathBuf),
    Dir,
    Fifo,
    Socket,
}

/// Every entry under `dir` (never following links, never opening FIFOs).
fn snapshot(dir: &Path) -> BTreeMap<String, Entry> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in rd {
            let p = e.unwrap().path();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            let ft = std::fs::symlink_metadata(&p).unwrap().file_type();
            let entry = if ft.is_symlink() {
                Entry::Link(std::fs::read_link(&p).unwrap())
            } else if ft.is_dir() {
                stack.push(p.clone());
                Entry::Dir
            } else if ft.is_fifo() {
                Entry::Fifo
            } else if ft.is_socket() {
                Entry::Socket
            } else {
                Entry::File(std::fs::read(&p).unwrap_or_default())
            };
            out.insert(rel, entry);
        }
    }
    out
}

/// The state and the sentinel, together.
fn everything(s: &State) -> (BTreeMap<String, Entry>, Vec<u8>) {
    let sentinel = std::fs::read(s.root.path().join(SENTINEL)).unwrap_or_default();
    (snapshot(&s.dir), sentinel)
}

/// One hostile case.
struct Case {
    name: &'static str,
    setup: fn(&State),
    args: &'static [&'static str],
    code: i32,
    /// Said on stdout or stderr.
    says: &'static str,
}

fn mark(line: &str) -> String {
    checksum(&Value::String(line.to_owned()), "/none")
}

fn journal(s: &State, line: &str, committed: bool) {
    let mut text = format!("{line}\n");
    if committed {
        text.push_str(&format!("COMMIT {}\n", mark(line)));
    }
    std::fs::write(s.path(".journal"), text).unwrap();
}

fn rename_line(temp: &str, target: &str) -> String {
    format!(r#"{{"tx":"x","renames":[{{"temp":"{temp}","target":"{target}"}}],"audit":[]}}"#)
}

/// A transaction temp holding a copy of processed.json.
fn tx_temp(s: &State) {
    std::fs::copy(s.path("processed.json"), s.path(TX_TEMP)).unwrap();
}

fn fifo(path: &Path) {
    let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0);
}

fn sentinel_path(s: &State) -> String {
    s.root.path().join(SENTINEL).display().to_string()
}

const GET: &[&str] = &["get", "sources.json", "/sources/0/name"];
const LIST: &[&str] = &["list"];
const CHECK: &[&str] = &["--format", "json", "check"];

fn cases() -> Vec<Case> {
    vec![
        Case {
            name: "uncommitted journal naming an absolute temp outside (list)",
            setup: |s| journal(s, &rename_line(&sentinel_path(s), "processed.json"), false),
            args: LIST,
            code: 0,
            says: "is an absolute path",
        },
        Case {
            name: "uncommitted journal naming an absolute temp outside (check)",
            setup: |s| journal(s, &rename_line(&sentinel_path(s), "processed.json"), false),
            args: CHECK,
            code: 1,
            says: "SW060",
        },
        Case {
            name: "uncommitted journal whose temp is a document (get)",
            setup: |s| journal(s, &rename_line("processed.json", "processed.json"), false),
            args: GET,
            code: 0,
            says: "not a transaction temp name",
        },
        Case {
            name: "uncommitted journal whose temp is a document (check)",
            setup: |s| journal(s, &rename_line("processed.json", "processed.json"), false),
            args: CHECK,
            code: 1,
            says: "not a transaction temp name",
        },
        Case {
            name: "committed journal with a target outside via ..",
            setup: |s| {
                tx_temp(s);
                journal(s, &rename_line(TX_TEMP, "../outside.json"), true);
            },
            args: GET,
            code: 0,
            says: "climbs out with `..`",
        },
        Case {
            name: "committed journal with an absolute target",
            setup: |s| {
                tx_temp(s);
                let line = rename_line(TX_TEMP, &sentinel_path(s));
                journal(s, &line, true);
            },
            args: LIST,
            code: 0,
            says: "is an absolute path",
        },
        Case {
            name: "committed journal targeting the backup manifest",
            setup: |s| {
                tx_temp(s);
                journal(s, &rename_line(TX_TEMP, ".backup/manifest.json"), true);
            },
            args: CHECK,
            code: 1,
            says: "one of the store's own files",
        },
        Case {
            name: "committed journal targeting the audit log",
            setup: |s| {
                tx_temp(s);
                journal(s, &rename_line(TX_TEMP, "audit.log"), true);
            },
            args: GET,
            code: 0,
            says: "one of the store's own files",
        },
        Case {
            name: "committed journal renaming the temp of another document",
            setup: |s| {
                tx_temp(s);
                journal(s, &rename_line(TX_TEMP, "sources.json"), true);
            },
            args: LIST,
            code: 0,
            says: "the temp of another file",
        },
        Case {
            name: "committed journal with a non-transaction temp name",
            setup: |s| {
                let temp = ".processed.json.0123456789abcdef.tmp";
                std::fs::copy(s.path("processed.json"), s.path(temp)).unwrap();
                journal(s, &rename_line(temp, "processed.json"), true);
            },
            args: CHECK,
            code: 1,
            says: "not a transaction temp name",
        },
        Case {
            name: "journal whose commit mark does not match (edited)",
            setup: |s| {
                tx_temp(s);
                let line = rename_line(TX_TEMP, "processed.json");
                let text = format!("{line}\nCOMMIT {}\n", mark("something else"));
                std::fs::write(s.path(".journal"), text).unwrap();
            },
            args: GET,
            code: 0,
            says: "commit mark does not match",
        },
        Case {
            name: "journal with an unknown field",
            setup: |s| journal(s, r#"{"tx":"x","renames":[],"audit":[],"rm":"/"}"#, false),
            args: CHECK,
            code: 1,
            says: "unknown field `rm`",
        },
        Case {
            name: "journal with a duplicate key",
            setup: |s| journal(s, r#"{"tx":"x","tx":"y","renames":[],"audit":[]}"#, false),
            args: LIST,
            code: 0,
            says: "duplicate field `tx`",
        },
        Case {
            name: "journal starting with a BOM",
            setup: |s| {
                journal(
                    s,
                    "\u{feff}{\"tx\":\"x\",\"renames\":[],\"audit\":[]}",
                    false,
                )
            },
            args: CHECK,
            code: 1,
            says: "not a journal line",
        },
        Case {
            name: "journal that is not UTF-8",
            setup: |s| std::fs::write(s.path(".journal"), b"{\"tx\":\"\xff\"}\n").unwrap(),
            args: CHECK,
            code: 1,
            says: "not UTF-8",
        },
        Case {
            name: "journal with three lines",
            setup: |s| {
                let line = rename_line(TX_TEMP, "processed.json");
                let text = format!("{line}\nCOMMIT {}\nrm -rf /\n", mark(&line));
                std::fs::write(s.path(".journal"), text).unwrap();
            },
            args: CHECK,
            code: 1,
            says: "at most two lines",
        },
        Case {
            name: "journal renaming one target twice",
            setup: |s| {
                let r = format!(r#"{{"temp":"{TX_TEMP}","target":"processed.json"}}"#);
                journal(
                    s,
                    &format!(r#"{{"tx":"x","renames":[{r},{r}],"audit":[]}}"#),
                    false,
                );
            },
            args: CHECK,
            code: 1,
            says: "renamed twice",
        },
        Case {
            name: "journal that is a symbolic link to a file outside",
            setup: |s| symlink(s.root.path().join(SENTINEL), s.path(".journal")).unwrap(),
            args: CHECK,
            code: 1,
            says: "symbolic link",
        },
        Case {
            name: "journal that is a FIFO (no hang)",
            setup: |s| fifo(&s.path(".journal")),
            args: LIST,
            code: 0,
            says: "a FIFO",
        },
        Case {
            name: "committed journal through a symlinked folder",
            setup: |s| {
                let out = s.root.path().join("elsewhere");
                std::fs::create_dir(&out).unwrap();
                std::fs::write(out.join(".a.json.tx-0123456789ab.tmp"), b"{}").unwrap();
                symlink(&out, s.path("evil")).unwrap();
                let line = rename_line("evil/.a.json.tx-0123456789ab.tmp", "evil/a.json");
                journal(s, &line, true);
            },
            args: GET,
            code: 0,
            says: "is a symbolic link",
        },
        Case {
            name: "a FIFO in place of a document (get, no hang)",
            setup: |s| replace_with_fifo(s, "processed.json"),
            args: &["get", "processed.json", ""],
            code: 1,
            says: "is a FIFO, not a regular file",
        },
        Case {
            name: "a FIFO in place of a document (list, no hang)",
            setup: |s| replace_with_fifo(s, "processed.json"),
            args: LIST,
            code: LIST_WITH_ERRORS,
            says: "a FIFO",
        },
        Case {
            name: "a FIFO in place of a document (check)",
            setup: |s| replace_with_fifo(s, "processed.json"),
            args: CHECK,
            code: 1,
            says: "SW061",
        },
        Case {
            name: "a FIFO in place of a document (validate)",
            setup: |s| replace_with_fifo(s, "processed.json"),
            args: &["validate", "examples/state"],
            code: 1,
            says: "SW061",
        },
        Case {
            name: "a FIFO in place of a document (export)",
            setup: |s| replace_with_fifo(s, "processed.json"),
            args: &["export", "--output", "bundle.json"],
            code: 1,
            says: "is a FIFO, not a regular file",
        },
        Case {
            name: "a symbolic link in place of a document (check)",
            setup: |s| {
                std::fs::remove_file(s.path("processed.json")).unwrap();
                symlink(s.root.path().join(SENTINEL), s.path("processed.json")).unwrap();
            },
            args: CHECK,
            code: 1,
            says: "is a symbolic link where a `mamfast-processed` document belongs",
        },
        Case {
            name: "a socket in place of a document (check)",
            setup: |s| {
                std::fs::remove_file(s.path("processed.json")).unwrap();
                let l = std::os::unix::net::UnixListener::bind(s.path("processed.json")).unwrap();
                drop(l);
            },
            args: CHECK,
            code: 1,
            says: "is a socket",
        },
        Case {
            name: "a folder in place of a recorded document (check)",
            setup: |s| {
                std::fs::remove_file(s.path("processed.json")).unwrap();
                std::fs::create_dir(s.path("processed.json")).unwrap();
            },
            args: CHECK,
            code: 1,
            says: "SW062",
        },
        Case {
            name: "a recorded document deleted (check)",
            setup: |s| std::fs::remove_file(s.path("processed.json")).unwrap(),
            args: CHECK,
            code: 1,
            says: "processed.json has backups or audit lines, but it is gone",
        },
        Case {
            name: "a symlinked state dir",
            setup: |s| symlink(&s.dir, s.root.path().join("linked")).unwrap(),
            args: &["audit", "verify", "--state", "linked"],
            code: 2,
            says: "is a symbolic link, not a folder",
        },
    ]
}

/// The exit code of `list` when a document cannot be read.
const LIST_WITH_ERRORS: i32 = 1;

fn replace_with_fifo(s: &State, rel: &str) {
    std::fs::remove_file(s.path(rel)).unwrap();
    fifo(&s.path(rel));
}

#[test]
fn hostile_inputs_are_refused_and_nothing_changes() {
    let mut failures = Vec::new();
    let cases = cases();
    for case in &cases {
        let s = written(&["sources.json", "processed.json"]);
        std::fs::write(s.root.path().join(SENTINEL), SENTINEL_BYTES).unwrap();
        (case.setup)(&s);
        let before = everything(&s);
        let r = s.run(case.args);
        let after = everything(&s);
        let said = format!("{}{}", r.stdout, r.stderr);
        if r.code != case.code {
            failures.push(format!(
                "{}: exit {} not {}: {said}",
                case.name, r.code, case.code
            ));
        }
        if !said.contains(case.says) {
            failures.push(format!(
                "{}: does not say {:?}: {said}",
                case.name, case.says
            ));
        }
        if before != after {
            failures.push(format!("{}: files changed", case.name));
        }
    }
    println!("{} hostile cases", cases.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
