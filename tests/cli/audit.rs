//! `statewright audit verify` on a real audit log, intact and tampered.

use crate::state::written;
use crate::util::{flat, run};

fn lines(path: &std::path::Path) -> Vec<String> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect()
}

fn save(path: &std::path::Path, lines: &[String]) {
    std::fs::write(path, lines.join("\n") + "\n").unwrap();
}

#[test]
fn an_intact_chain_is_verified_with_its_line_count() {
    let s = written(&["sources.json", "index.json"]);
    let r = run(&["audit", "verify", "--state", s.arg()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(": 4 lines verified, chain intact"),
        "{}",
        r.stdout
    );
    let j = run(&["--format", "json", "audit", "verify", "--state", s.arg()]).json();
    assert_eq!(
        (j["ok"].clone(), j["verified"].clone()),
        (true.into(), 4.into())
    );
}

#[test]
fn an_edited_line_is_named() {
    let s = written(&["sources.json", "index.json"]);
    let log = s.path("audit.log");
    let mut l = lines(&log);
    l[2] = l[2].replace("\"command\":\"fixture\"", "\"command\":\"edited\"");
    save(&log, &l);
    let r = run(&["audit", "verify", "--state", s.arg()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        flat(&r.stderr).contains(
            "audit.log:3: audit chain broken: the line was edited (its hash does not match)"
        ),
        "{}",
        r.stderr
    );
    let j = run(&["--format", "json", "audit", "verify", "--state", s.arg()]).json();
    assert_eq!(j["ok"], false);
    assert_eq!(j["line"], 3);
}

#[test]
fn removed_and_reordered_lines_are_named() {
    let s = written(&["sources.json", "index.json"]);
    let log = s.path("audit.log");
    let orig = lines(&log);
    let mut removed = orig.clone();
    removed.remove(1);
    save(&log, &removed);
    let r = run(&["audit", "verify", "--state", s.arg()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        flat(&r.stderr)
            .contains("audit.log:2: audit chain broken: does not chain to the line before it"),
        "{}",
        r.stderr
    );
    let mut swapped = orig.clone();
    swapped.swap(2, 3);
    save(&log, &swapped);
    let r = run(&["audit", "verify", "--state", s.arg()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        flat(&r.stderr).contains("audit.log:3: audit chain broken"),
        "{}",
        r.stderr
    );
}

#[test]
fn lines_cut_off_the_head_are_named() {
    let s = written(&["sources.json", "index.json"]);
    let log = s.path("audit.log");
    let mut l = lines(&log);
    l.remove(0);
    save(&log, &l);
    let r = run(&["audit", "verify", "--state", s.arg()]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        flat(&r.stderr).contains(
            "audit.log:1: audit chain broken: the log does not start here: this line neither chains to the start of the log (the genesis hash) nor follows a rotation, so the lines before it were removed"
        ),
        "{}",
        r.stderr
    );
    let j = run(&["--format", "json", "audit", "verify", "--state", s.arg()]).json();
    assert_eq!(
        (j["ok"].clone(), j["line"].clone()),
        (false.into(), 1.into())
    );
}

#[test]
fn a_missing_or_emptied_log_is_named_once_documents_were_written() {
    // A state dir never written through the store needs no log.
    let fresh = crate::state::examples();
    let r = run(&["audit", "verify", "--state", fresh.arg()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(": 0 lines verified, chain intact"),
        "{r:?}"
    );

    let s = written(&["sources.json"]);
    let want = "audit.log: the audit log is missing or empty, but the store has written in this state dir (sources.json is at serial 2, 1 document has backups in .backup/)";
    for emptied in [false, true] {
        match emptied {
            false => std::fs::remove_file(s.path("audit.log")).unwrap(),
            true => std::fs::write(s.path("audit.log"), b"").unwrap(),
        }
        let r = run(&["audit", "verify", "--state", s.arg()]);
        assert_eq!(r.code, 1, "{r:?}");
        let e = flat(&r.stderr);
        assert!(e.contains(want), "{e}");
        assert!(
            e.contains("restore audit.log (and its rotated files)"),
            "{e}"
        );
        let j = run(&["--format", "json", "audit", "verify", "--state", s.arg()]).json();
        assert_eq!(j["ok"], false);
        assert!(j["file"].as_str().unwrap().ends_with("audit.log"), "{j}");
        assert!(j["message"].as_str().unwrap().ends_with(want), "{j}");

        let r = s.run(&["--format", "json", "check"]);
        assert_eq!(r.code, 1, "{r:?}");
        let j = r.json();
        let f: Vec<&serde_json::Value> = j["findings"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|f| f["code"] == "SW047")
            .collect();
        assert_eq!(f.len(), 1, "{j}");
        assert_eq!(f[0]["severity"], "error");
        assert!(
            f[0]["message"]
                .as_str()
                .unwrap()
                .ends_with(&want["audit.log: ".len()..]),
            "{}",
            f[0]["message"]
        );
    }
}

#[test]
fn a_deleted_log_stays_detectable_after_later_writes_until_acknowledged() {
    let s = written(&["sources.json", "index.json"]);
    std::fs::remove_file(s.path("audit.log")).unwrap();
    // One write starts a new log at the genesis; both documents are
    // written again or not at all: neither hides the loss.
    let r = s.run(&["set", "sources.json", "/sources/0/branch", "\"next\""]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(&["audit", "verify", "--state", s.arg()]);
    assert_eq!(r.code, 0, "the new log itself chains: {r:?}");
    let r = s.run(&["--format", "json", "check"]);
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    let lost: Vec<(String, String)> = j["documents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["findings"].as_array().unwrap().clone())
        .filter(|f| f["code"] == "SW063")
        .map(|f| {
            let file = f["file"].as_str().unwrap();
            let name = file.rsplit('/').next().unwrap().to_owned();
            (name, f["message"].as_str().unwrap().to_owned())
        })
        .collect();
    assert_eq!(lost.len(), 2, "{j}");
    assert!(
        lost.iter().any(|(f, m)| f == "index.json"
            && m.contains("has no line for this file: it was deleted or restarted")),
        "{lost:?}"
    );
    assert!(
        lost.iter()
            .any(|(f, m)| f == "sources.json" && m.contains("lines were lost")),
        "{lost:?}"
    );
    // The repair writes an anchor line per document; the loss stays in
    // the log, and the check is clean again.
    let r = s.run(&["check", "--repair"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        flat(&r.stdout).contains("wrote an anchor line for index.json"),
        "{r:?}"
    );
    let log = std::fs::read_to_string(s.path("audit.log")).unwrap();
    assert_eq!(log.matches("\"anchor\":true").count(), 2, "{log}");
    assert!(log.contains("acknowledged by check --repair"), "{log}");
    let r = s.run(&["check"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run(&["audit", "verify", "--state", s.arg()]);
    assert_eq!(r.code, 0, "{r:?}");
}
