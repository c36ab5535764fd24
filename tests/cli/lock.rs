//! `statewright lock status` and `statewright lock break` against a real
//! holder process.

use std::io::Write;
use std::os::unix::process::CommandExt;
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

/// The JSON events `--verbose --format json` printed on stderr.
fn events(stderr: &str) -> Vec<serde_json::Value> {
    stderr
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .filter(|v: &serde_json::Value| v.get("event").is_some())
        .collect()
}

#[test]
fn verbose_prints_the_lock_and_write_events() {
    let s = examples();
    let r = s.run(&[
        "--verbose",
        "--format",
        "json",
        "set",
        "processed.json",
        "/failed/B0BZ9L4P6F/retry_count",
        "--increment",
        "1",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let ev = events(&r.stderr);
    let names: Vec<&str> = ev.iter().map(|e| e["event"].as_str().unwrap()).collect();
    // The lock is taken once: opening takes it only when interrupted
    // writes left something to recover.
    assert_eq!(
        names,
        ["lock_acquired", "committed", "lock_released"],
        "{}",
        r.stderr
    );
    assert!(ev[0]["lock"].as_str().unwrap().ends_with(".lock"));
    assert_eq!(ev[0]["lock_id"], ev[2]["lock_id"]);
    assert!(ev[0]["waited_ms"].is_u64() && ev[2]["held_ms"].is_u64());
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(s.path("processed.json")).unwrap()).unwrap();
    assert!(ev[1]["file"].as_str().unwrap().ends_with("processed.json"));
    assert_eq!(ev[1]["serial"], doc["serial"]);
    assert_eq!(ev[1]["checksum"], doc["checksum"]);
    assert_eq!(ev[1]["version"], 1);
    assert!(ev[1]["backed_up"].is_u64(), "{}", ev[1]);
    // Without --verbose, stderr stays quiet.
    let r = s.run(&["rm", "processed.json", "/failed/NOPE"]);
    assert_eq!(r.stderr, "");
    // Human lines.
    let r = s.run(&["-v", "rm", "processed.json", "/failed/B0BZ9L4P6F"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stderr.contains("statewright: lock ") && r.stderr.contains(" acquired (lock id "),
        "{}",
        r.stderr
    );
    assert!(
        r.stderr.contains("statewright: wrote ") && r.stderr.contains("kept in .backup/"),
        "{}",
        r.stderr
    );
}

#[test]
fn verbose_says_whom_it_waits_for_and_whom_it_reclaims_from() {
    let s = examples();
    let mut child = holder(&s.dir);
    let pid = child.id();
    let r = s.run(&[
        "-v",
        "--lock-timeout",
        "300ms",
        "rm",
        "processed.json",
        "/failed/B0BZ9L4P6F",
    ]);
    assert_eq!(r.code, 3, "{r:?}");
    let waiting = flat(&r.stderr);
    assert!(
        waiting.contains(&format!("is held by `test holder` (pid {pid} on ")),
        "{waiting}"
    );
    assert!(waiting.contains("waiting up to 300 ms"), "{waiting}");
    sigkill(&mut child);
    let r = s.run(&["-v", "--format", "json", "lock", "status"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        events(&r.stderr).is_empty(),
        "status takes no lock: {}",
        r.stderr
    );
    let r = s.run(&[
        "-v",
        "--format",
        "json",
        "rm",
        "processed.json",
        "/failed/B0BZ9L4P6F",
    ]);
    assert_eq!(r.code, 0, "{r:?}");
    let ev = events(&r.stderr);
    let reclaimed = ev
        .iter()
        .find(|e| e["event"] == "lock_reclaimed")
        .unwrap_or_else(|| panic!("{}", r.stderr));
    assert_eq!(reclaimed["previous"]["pid"], pid);
    assert_eq!(reclaimed["previous"]["command"], "test holder");
}

/// A lock held by a process that wrote no holder record (here `flock(1)`,
/// as any other tool could): the refusal and `check` say how to find the
/// process, and offer no `lock break` there is no id for.
#[test]
fn a_lock_held_without_a_record_says_how_to_find_the_process() {
    use std::io::{BufRead, BufReader};
    let s = examples();
    let lock = s.path(".lock");
    // Its own process group, so that the shell's `sleep`, which inherits
    // the locked descriptor, goes with it.
    let mut child = Command::new("flock")
        .arg(&lock)
        .args(["-c", "echo locked; sleep 60"])
        .stdout(Stdio::piped())
        .process_group(0)
        .spawn()
        .expect("flock(1) runs");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    assert_eq!(lines.next().unwrap().unwrap(), "locked");
    let r = s.run(&["--format", "json", "set", "config/dev.json", "/vars/x", "1"]);
    assert_eq!(r.code, 3, "{r:?}");
    let j = r.json();
    let err = format!("{} {}", j["error"]["message"], j["error"]["help"]);
    assert!(
        err.contains("is held by a process that left no holder record")
            && err.contains(&format!(
                "find the process with `fuser -v {}`",
                lock.display()
            )),
        "{err}"
    );
    assert!(!err.contains("lock break"), "{err}");
    let r = s.run(&["--format", "json", "check"]);
    let j = r.json();
    let f = j["findings"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["code"] == "SW034")
        .unwrap_or_else(|| panic!("no SW034 in {j}"))
        .clone();
    assert!(
        f["remedy"].as_str().unwrap().starts_with(&format!(
            "find the process that keeps it with `fuser -v {}`",
            lock.display()
        )),
        "{f}"
    );
    // SAFETY: signalling the process group of our own child.
    unsafe { libc::kill(-(child.id() as libc::pid_t), libc::SIGKILL) };
    let _ = child.wait();
}
