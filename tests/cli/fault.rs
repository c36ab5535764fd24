//! Deterministic kill points in real processes: the debug build's fault
//! hook (`STATEWRIGHT_FAULT_AT=N`, see `store::fs::fault`) aborts the
//! binary just before its N-th file operation that changes the disk. A
//! clean run traced with `STATEWRIGHT_FAULT_TRACE` says how many points a
//! command has; the command is then crashed at every one of them in turn.
//! Each must be reached (the process dies by SIGABRT), and after the next
//! command's recovery every document is entirely old or entirely new, and
//! `check` finds nothing wrong.

use std::os::unix::process::ExitStatusExt;
use std::path::Path;
use std::process::Command;

use serde_json::Value;

use crate::migrate::project;
use crate::util::{copy_dir, run_in, tempdir};

/// Runs the binary in `cwd` with extra environment; (exit code, signal).
fn run_env(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (Option<i32>, Option<i32>) {
    let mut c = Command::new(env!("CARGO_BIN_EXE_statewright"));
    c.args(args).current_dir(cwd).env("NO_COLOR", "1");
    for (k, v) in env {
        c.env(k, v);
    }
    let out = c.output().expect("run statewright");
    (out.status.code(), out.status.signal())
}

/// The `schema_version` and `title`/`name` of each record.
fn records(dir: &Path) -> Vec<(u64, String)> {
    let mut out = Vec::new();
    let mut names: Vec<_> = std::fs::read_dir(dir.join("state/recs"))
        .unwrap()
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    names.sort();
    for p in names {
        let v: Value = serde_json::from_slice(&std::fs::read(&p).unwrap())
            .unwrap_or_else(|e| panic!("{}: not whole JSON after recovery: {e}", p.display()));
        let label = v["title"].as_str().or(v["name"].as_str()).unwrap_or("");
        out.push((v["schema_version"].as_u64().unwrap(), label.to_owned()));
    }
    out
}

/// The codes of `check`'s errors and warnings (notes left out).
fn problems(dir: &Path) -> Vec<String> {
    let r = run_in(dir, &["--format", "json", "check"]);
    let j = r.json();
    let mut out = Vec::new();
    for f in j["documents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["findings"].as_array().unwrap().clone())
        .chain(j["findings"].as_array().unwrap().clone())
    {
        if f["severity"] != "info" {
            out.push(format!("{} {}", f["code"], f["message"]));
        }
    }
    out
}

/// Crashes `args` at every fault point of a clean run on copies of
/// `template`; `check_after` judges the recovered copy. Returns the
/// number of points.
fn crash_everywhere(template: &Path, args: &[&str], check_after: &dyn Fn(&Path, usize)) -> usize {
    let scratch = tempdir();
    let trace = scratch.path().join("trace.txt");
    let clean = scratch.path().join("clean");
    copy_dir(template, &clean);
    let (code, _) = run_env(
        &clean,
        args,
        &[("STATEWRIGHT_FAULT_TRACE", trace.to_str().unwrap())],
    );
    assert_eq!(code, Some(0), "the clean run of {args:?} succeeds");
    let points = std::fs::read_to_string(&trace).unwrap().lines().count();
    assert!(points > 5, "{args:?} has only {points} fault points");
    let mut missed = Vec::new();
    for k in 1..=points {
        let dir = scratch.path().join(format!("k{k}"));
        copy_dir(template, &dir);
        let (code, signal) = run_env(&dir, args, &[("STATEWRIGHT_FAULT_AT", &k.to_string())]);
        if signal != Some(libc::SIGABRT) {
            missed.push(format!("point {k}: exit {code:?}, signal {signal:?}"));
            continue;
        }
        // The next command that takes the lock recovers.
        let r = run_in(&dir, &["check", "--repair"]);
        assert!(r.code == 0, "point {k}: repair: {r:?}");
        let left = problems(&dir);
        assert!(left.is_empty(), "point {k}: after recovery: {left:?}");
        check_after(&dir, k);
        std::fs::remove_dir_all(&dir).unwrap();
    }
    assert!(missed.is_empty(), "fault points not reached: {missed:?}");
    points
}

#[test]
fn a_migrate_killed_at_every_file_operation_is_all_old_or_all_new() {
    let t = project(3);
    let points = crash_everywhere(t.path(), &["migrate"], &|dir, k| {
        let recs = records(dir);
        let versions: Vec<u64> = recs.iter().map(|r| r.0).collect();
        assert!(
            versions.iter().all(|v| *v == versions[0]),
            "point {k}: a mix of versions {versions:?}"
        );
        assert!(
            versions[0] == 1 || versions[0] == 3,
            "point {k}: {versions:?}"
        );
    });
    println!("migrate of 3 documents: {points} fault points, each crashed and recovered");
}

#[test]
fn a_set_killed_at_every_file_operation_is_old_or_new() {
    let t = project(2);
    // A first write stamps the documents, so the set below is an update
    // with a backup to rotate and an audit line to chain.
    let r = run_in(t.path(), &["set", "recs/r0000.json", "/note", "\"first\""]);
    assert_eq!(r.code, 0, "{r:?}");
    let args = ["set", "recs/r0000.json", "/note", "\"second\""];
    let points = crash_everywhere(t.path(), &args, &|dir, k| {
        let v: Value =
            serde_json::from_slice(&std::fs::read(dir.join("state/recs/r0000.json")).unwrap())
                .unwrap();
        assert!(
            v["note"] == "first" || v["note"] == "second",
            "point {k}: {v}"
        );
    });
    println!("set: {points} fault points, each crashed and recovered");
}
