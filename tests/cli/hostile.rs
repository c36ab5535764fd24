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
    .into_iter()
    .chain(records())
    .chain(documents())
    .collect()
}

/// Sets the `backup` of `.backup/index/sources.json`'s first entry.
fn index_backup(s: &State, backup: &str) {
    let p = s.path(".backup/index/sources.json");
    let mut v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap();
    v["backups"][0]["backup"] = Value::String(backup.to_owned());
    std::fs::write(&p, serde_json::to_vec(&v).unwrap()).unwrap();
}

/// The store's own records: backup index, manifest, audit log, lock,
/// migrations and their sum file.
fn records() -> Vec<Case> {
    vec![
        Case {
            name: "backup index entry naming an absolute path outside (check)",
            setup: |s| index_backup(s, &sentinel_path(s)),
            args: CHECK,
            code: 1,
            says: "SW038",
        },
        Case {
            name: "backup index entry climbing out with .. (check)",
            setup: |s| index_backup(s, "../../outside.json"),
            args: CHECK,
            code: 1,
            says: "SW038",
        },
        Case {
            name: "legacy manifest naming an absolute path outside (check)",
            setup: |s| {
                let line = format!(
                    r#"{{"version":1,"entries":[{{"file":"sources.json","backup":"{}","serial":1,"checksum":"","time":"x"}}]}}"#,
                    sentinel_path(s)
                );
                std::fs::write(s.path(".backup/manifest.json"), line).unwrap();
            },
            args: CHECK,
            code: 1,
            says: "SW038",
        },
        Case {
            name: "audit line with an edited serial (check: chain broken, no false rollback)",
            setup: |s| {
                let p = s.path("audit.log");
                let text = std::fs::read_to_string(&p).unwrap();
                std::fs::write(&p, text.replacen("\"serial\":1,", "\"serial\":7,", 1)).unwrap();
            },
            args: CHECK,
            code: 1,
            says: "SW039",
        },
        Case {
            name: "audit log deleted (check)",
            setup: |s| std::fs::remove_file(s.path("audit.log")).unwrap(),
            args: CHECK,
            code: 1,
            says: "SW047",
        },
        Case {
            name: "lock file holding garbage (lock status)",
            setup: |s| std::fs::write(s.path(".lock"), b"garbage\0\xff").unwrap(),
            args: &["lock", "status"],
            code: 0,
            says: "free",
        },
        Case {
            name: "path traversal out of the state dir (get)",
            setup: |_| {},
            args: &["get", "../../outside.json", "/outside"],
            code: 2,
            says: "is not inside the state dir",
        },
        Case {
            name: "a released migration edited after its sum was written (migrate --dry-run)",
            setup: |s| {
                let p = s
                    .root
                    .path()
                    .join("migrations/deploy-pins/0001_structured_images.yaml");
                let mut text = std::fs::read_to_string(&p).unwrap();
                text.push_str("# edited\n");
                std::fs::write(&p, text).unwrap();
            },
            args: &["migrate", "--dry-run"],
            code: 4,
            says: "was edited since the sum file was written",
        },
        Case {
            name: "an AWS secret access key (set refuses, nothing written)",
            setup: |_| {},
            args: &[
                "set",
                "config/dev.json",
                "/vars/aws_secret_access_key",
                "\"wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY\"",
            ],
            code: 4,
            says: "looks like an AWS secret access key",
        },
        Case {
            name: "a number beyond f64 as a value (set)",
            setup: |_| {},
            args: &["set", "sources.json", "/sources/0/branch", "1e400"],
            code: 2,
            says: "number out of range",
        },
    ]
}

fn put(s: &State, rel: &str, bytes: &[u8]) {
    std::fs::write(s.path(rel), bytes).unwrap();
}

/// Documents that are not what they claim: each read fails with a
/// located error, or is read as what it is.
fn documents() -> Vec<Case> {
    const GET_N: &[&str] = &["get", "index.json", "/n"];
    const GET_YAML: &[&str] = &["get", ".checklist/state.yaml", "/a0"];
    vec![
        Case {
            name: "a number beyond f64 in a document (get)",
            setup: |s| put(s, "index.json", b"{\"n\": 1e400}"),
            args: GET_N,
            code: 1,
            says: "number out of range",
        },
        Case {
            name: "100,000 nested arrays (get, no stack overflow)",
            setup: |s| {
                let text = format!("{}{}", "[".repeat(100_000), "]".repeat(100_000));
                put(s, "index.json", text.as_bytes());
            },
            args: GET_N,
            code: 1,
            says: "nesting deeper than 64 levels",
        },
        Case {
            name: "a lone surrogate escape (get)",
            setup: |s| put(s, "index.json", b"{\"n\": \"\\ud800\"}"),
            args: GET_N,
            code: 1,
            says: "lone surrogate `\\ud800`",
        },
        Case {
            name: "a NUL byte after the document (get)",
            setup: |s| put(s, "index.json", b"{\"n\": 1}\0"),
            args: GET_N,
            code: 1,
            says: "a NUL byte (\\0) is there",
        },
        Case {
            name: "a duplicate key (get)",
            setup: |s| put(s, "index.json", b"{\"n\": 1, \"n\": 2}"),
            args: GET_N,
            code: 1,
            says: "duplicate key `n`",
        },
        Case {
            name: "invalid UTF-8 (get)",
            setup: |s| put(s, "index.json", b"{\"n\": \"\xff\"}"),
            args: GET_N,
            code: 1,
            says: "invalid UTF-8",
        },
        Case {
            name: "a byte order mark before a good document (get reads it)",
            setup: |s| {
                let mut bytes = b"\xef\xbb\xbf".to_vec();
                bytes.extend(std::fs::read(s.path("sources.json")).unwrap());
                put(s, "sources.json", &bytes);
            },
            args: GET,
            code: 0,
            says: "packer-plugin-hybrid",
        },
        Case {
            name: "an unknown YAML tag (get)",
            setup: |s| put(s, ".checklist/state.yaml", b"a0: !mytag 1\n"),
            args: GET_YAML,
            code: 1,
            says: "mytag`: documents hold plain JSON values",
        },
        Case {
            name: "a YAML alias bomb (get, no Debug text)",
            setup: |s| {
                let mut text = String::from("a0: &a0 [x,x,x,x,x,x,x,x,x,x]\n");
                for i in 1..12 {
                    let refs = vec![format!("*a{}", i - 1); 10].join(",");
                    text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
                }
                put(s, ".checklist/state.yaml", text.as_bytes());
            },
            args: GET_YAML,
            code: 1,
            says: "more than 250000 values (250001 so far): over the YAML reader's limit",
        },
        Case {
            name: "a document edited to a newer schema version (get)",
            setup: |s| {
                let p = s.path("sources.json");
                let text = std::fs::read_to_string(&p).unwrap();
                std::fs::write(
                    &p,
                    text.replacen("\"schema_version\": 1", "\"schema_version\": 99", 1),
                )
                .unwrap();
            },
            args: GET,
            code: 4,
            says: "newer than the newest known (1)",
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
        if !said.contains(case.says) && !crate::util::flat(&said).contains(case.says) {
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

/// Runs `script` with `sh -c` in the project root of `s`, in a new mount
/// namespace (`unshare -m`), with `$SW` the binary; stdout and stderr
/// together.
fn in_mount_namespace(s: &State, script: &str) -> (i32, String) {
    let out = std::process::Command::new("unshare")
        .args(["-m", "sh", "-c", script])
        .current_dir(s.root.path())
        .env("SW", env!("CARGO_BIN_EXE_statewright"))
        .env("NO_COLOR", "1")
        .output()
        .expect("run unshare");
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code().unwrap_or(-1), crate::util::flat(&said))
}

/// Mount namespaces are how these cases make a real read-only or full
/// file system; a machine without them says so instead of passing.
fn mount_namespaces() -> bool {
    let ok = std::process::Command::new("unshare")
        .args(["-m", "true"])
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok || std::env::var_os("STATEWRIGHT_NO_MOUNT_NS").is_some(),
        "these cases need mount namespaces (`unshare -m`, as root); set STATEWRIGHT_NO_MOUNT_NS=1 to run the rest without them"
    );
    ok
}

#[test]
fn a_read_only_file_system_reads_and_refuses_writes_with_the_fix() {
    if !mount_namespaces() {
        return;
    }
    let s = written(&["sources.json", "processed.json"]);
    let before = everything(&s);
    let ro =
        "mount --bind examples/state examples/state && mount -o remount,ro,bind examples/state";
    let (code, said) =
        in_mount_namespace(&s, &format!("{ro} && $SW get sources.json /sources/0/name"));
    assert_eq!((code, said.as_str()), (0, "\"packer-plugin-hybrid\""));
    let (code, said) = in_mount_namespace(&s, &format!("{ro} && $SW lock status"));
    assert_eq!(code, 0, "{said}");
    assert!(said.contains(".lock: free"), "{said}");
    let (code, said) = in_mount_namespace(
        &s,
        &format!("{ro} && $SW set sources.json /sources/0/branch '\"next\"'"),
    );
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("Read-only file system")
            && said.contains("remount it read-write; nothing was changed"),
        "{said}"
    );
    assert!(before == everything(&s), "files changed");
}

#[test]
fn a_full_file_system_refuses_the_write_and_keeps_every_byte() {
    if !mount_namespaces() {
        return;
    }
    let s = written(&["sources.json", "processed.json"]);
    // The state copied onto a 1 MiB tmpfs, filled up; the bytes are
    // compared inside the namespace, before and after.
    let script = r#"set -e
mkdir full && mount -t tmpfs -o size=1m tmpfs full && cp -a examples/state/. full/
dd if=/dev/zero of=full/.filler bs=4k 2>/dev/null || true
sums() { (cd full && find . -type f ! -name .filler | sort | xargs md5sum); }
sums > before.txt
set +e
$SW set --state full sources.json /sources/0/branch '"next"'; echo "exit=$?"
$SW get --state full sources.json /sources/0/branch
sums > after.txt
cmp -s before.txt after.txt && echo BYTES-SAME || echo BYTES-CHANGED"#;
    let (code, said) = in_mount_namespace(&s, script);
    assert_eq!(code, 0, "{said}");
    assert!(said.contains("exit=2"), "{said}");
    assert!(
        said.contains("no space left writing") && said.contains("free space and retry"),
        "{said}"
    );
    assert!(
        said.contains("\"main\""),
        "the old value is read back: {said}"
    );
    assert!(said.contains("BYTES-SAME"), "{said}");
}

#[test]
fn permission_denied_says_who_may_write_or_read_and_changes_nothing() {
    let s = written(&["sources.json", "processed.json"]);
    // Root may write anywhere: the binary runs as `nobody` then.
    let root = unsafe { libc::geteuid() } == 0;
    let mut path = s.root.path().to_owned();
    while root && path.parent().is_some() {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&path).unwrap().permissions().mode();
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(mode | 0o755)).unwrap();
        path = path.parent().unwrap().to_owned();
        if path == Path::new("/tmp") || path == Path::new("/") {
            break;
        }
    }
    let bin = env!("CARGO_BIN_EXE_statewright");
    let as_other = |args: &[&str]| {
        let mut c = match root {
            true => {
                let mut c = std::process::Command::new("setpriv");
                c.args(["--reuid=65534", "--regid=65534", "--clear-groups", bin]);
                c
            }
            false => std::process::Command::new(bin),
        };
        let out = c
            .args(args)
            .current_dir(s.root.path())
            .env("NO_COLOR", "1")
            .output()
            .unwrap();
        let said = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        (out.status.code().unwrap_or(-1), crate::util::flat(&said))
    };
    use std::os::unix::fs::PermissionsExt;
    let set_mode =
        |p: &Path, m: u32| std::fs::set_permissions(p, std::fs::Permissions::from_mode(m)).unwrap();
    if !root {
        set_mode(&s.dir, 0o555);
    }
    let before = everything(&s);
    let (code, said) = as_other(&["get", "sources.json", "/sources/0/branch"]);
    assert_eq!((code, said.as_str()), (0, "\"main\""));
    let (code, said) = as_other(&["set", "sources.json", "/sources/0/branch", "\"next\""]);
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("you lack permission to write there"),
        "{said}"
    );
    set_mode(&s.path("sources.json"), if root { 0o600 } else { 0o000 });
    let (code, said) = as_other(&["get", "sources.json", "/sources/0/branch"]);
    assert_eq!(code, 2, "{said}");
    assert!(
        said.contains("you lack permission to read it") && said.contains("chmod u+r"),
        "{said}"
    );
    set_mode(&s.path("sources.json"), 0o644);
    set_mode(&s.dir, 0o755);
    assert!(before == everything(&s), "files changed");
}
