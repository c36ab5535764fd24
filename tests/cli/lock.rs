//! `statewright lock status` and `statewright lock break` against a real
//! holder process.

use std::io::Write;
use std::process::{Command, Stdio};

use crate::state::{examples, holder, sigkill};
use crate::util::{flat, run};

#[test]
fn a_free_lock_is_reported_free_and_nothing_is_created() {
    let s = examples();
    let r = run(&["lock", "status", "--state", s.arg()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(".lock: free"), "{}", r.stdout);
    assert!(!s.path(".lock").exists());
    let j = run(&["--format", "json", "lock", "status", "--state", s.arg()]).json();
    assert_eq!(j["state"], "free");
    assert!(j["holder"].is_null());
}

#[test]
fn a_live_holder_is_shown_and_cannot_be_broken() {
    let s = examples();
    let mut child = holder(&s.dir);
    let pid = child.id();
    let r = run(&["lock", "status", "--state", s.arg()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains(".lock: held"), "{}", r.stdout);
    assert!(
        r.stdout
            .contains(&format!("pid:         {pid} (alive on this host)")),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("command:     test holder"),
        "{}",
        r.stdout
    );
    let j = run(&["--format", "json", "lock", "status", "--state", s.arg()]).json();
    assert_eq!(j["state"], "held");
    assert_eq!(j["holder"]["pid"], pid);
    assert_eq!(j["holder"]["alive"], true);
    let id = j["holder"]["lock_id"].as_str().unwrap().to_owned();
    for key in ["host", "user", "command", "acquired_at"] {
        assert!(j["holder"][key].is_string(), "{key}: {j}");
    }
    let r = run(&["lock", "break", &id, "--yes", "--state", s.arg()]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        flat(&r.stderr).contains(&format!(
            "pid {pid} is alive on this host; stop it (kill {pid})"
        )),
        "{}",
        r.stderr
    );
    sigkill(&mut child);
}

#[test]
fn a_killed_holder_is_stale_and_breakable_with_yes() {
    let s = examples();
    let mut child = holder(&s.dir);
    let pid = child.id();
    sigkill(&mut child);
    let j = run(&["--format", "json", "lock", "status", "--state", s.arg()]).json();
    assert_eq!(j["state"], "stale");
    assert_eq!(j["holder"]["pid"], pid);
    assert_eq!(j["holder"]["alive"], false);
    let id = j["holder"]["lock_id"].as_str().unwrap().to_owned();
    let r = run(&["lock", "status", "--state", s.arg()]);
    assert!(
        r.stdout.contains("not running on this host"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!("statewright lock break {id}")),
        "{}",
        r.stdout
    );
    // Without a terminal and without --yes: refused, nothing changed.
    let before = std::fs::read(s.path(".lock")).unwrap();
    let r = run(&["lock", "break", &id, "--state", s.arg()]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        flat(&r.stderr).contains("without confirmation: stdin is not a terminal"),
        "{}",
        r.stderr
    );
    assert!(flat(&r.stderr).contains("pass --yes"), "{}", r.stderr);
    assert_eq!(std::fs::read(s.path(".lock")).unwrap(), before);
    // A wrong id is refused.
    let r = run(&["lock", "break", "nope", "--yes", "--state", s.arg()]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        flat(&r.stderr).contains("no holder with lock id nope"),
        "{}",
        r.stderr
    );
    let r = run(&["lock", "break", &id, "--yes", "--state", s.arg()]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(&format!("broke lock {id}")),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains(&format!("pid {pid}")), "{}", r.stdout);
    assert_eq!(std::fs::read(s.path(".lock")).unwrap(), b"");
    let r = run(&["lock", "status", "--state", s.arg()]);
    assert!(r.stdout.contains(".lock: free"), "{}", r.stdout);
}

#[test]
fn break_with_piped_stdin_never_prompts_and_refuses() {
    // stdin is a pipe here, not a terminal: the prompt is never shown.
    let s = examples();
    let mut child = Command::new(env!("CARGO_BIN_EXE_statewright"))
        .args(["lock", "break", "some-id", "--state", s.arg()])
        .current_dir(crate::util::repo())
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // The command may exit before reading: a broken pipe is fine.
    let _ = child.stdin.take().unwrap().write_all(b"y\n");
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("stdin is not a terminal"));
}
