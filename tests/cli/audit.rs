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
