//! `--format json` is a contract: one snapshot per command (and per mode
//! of the commands that have several), taken on a copy of the example
//! project, so that any change to a machine-readable shape shows in review.
//! Values that differ from run to run (the temp folder, times, lock ids,
//! transaction ids, durations, the tool's version, the checksums of
//! documents stamped with a write time, and the sizes and hashes of files
//! holding them) are replaced by a
//! placeholder; everything else is compared as printed.

use std::path::Path;

use regex::Regex;
use serde_json::Value;
use statewright::spec::document::Portable;

use crate::backends::CHECK;
use crate::util::{copy_dir, example_project, repo, run_in};

/// The example project with its migrations: what every snapshot runs on.
fn project() -> tempfile::TempDir {
    let t = example_project();
    copy_dir(&repo().join("migrations"), &t.path().join("migrations"));
    t
}

/// `v` with the values that change from run to run replaced.
fn stable(v: &Value, root: &Path) -> Value {
    let root = root.display().to_string();
    let rules: [(Regex, &str); 6] = [
        // A backup's name ends in its checksum's first 12 hex digits.
        (
            Regex::new(r"(\.backup/\S+\.\d+)\.[0-9a-f]{12}$").unwrap(),
            "$1.[SUM]",
        ),
        (
            Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)").unwrap(),
            "[TIME]",
        ),
        (
            Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap(),
            "[UUID]",
        ),
        (Regex::new(r"\btx-[0-9a-z-]+").unwrap(), "[TX]"),
        (Regex::new(r"\bpid \d+").unwrap(), "pid [PID]"),
        (
            Regex::new(&format!(
                r"\b{}\b",
                regex::escape(env!("CARGO_PKG_VERSION"))
            ))
            .unwrap(),
            "[VERSION]",
        ),
    ];
    match v {
        Value::String(s) => {
            let mut s = s.replace(&root, "[PROJECT]");
            for (re, with) in &rules {
                s = re.replace_all(&s, *with).into_owned();
            }
            Value::String(s)
        }
        Value::Array(items) => {
            Value::Array(items.iter().map(|i| stable(i, Path::new(&root))).collect())
        }
        Value::Object(map) => Value::Object(
            map.iter()
                .map(|(k, v)| {
                    let v = match k.as_str() {
                        // A written document's checksum covers its write time.
                        "elapsed_ms" | "duration_ms" | "ms" | "pid" | "since" | "host" | "user"
                        | "checksum" | "sha256" | "bytes" => Value::from("[VOLATILE]"),
                        _ => stable(v, Path::new(&root)),
                    };
                    (k.clone(), v)
                })
                .collect(),
        ),
        other => other.clone(),
    }
}

/// Runs `args` with `--format json` in `dir`, expects exit `code`, and
/// compares stdout with the snapshot `name`.
fn snap(dir: &Path, name: &str, code: i32, args: &[&str]) {
    let mut all = vec!["--format", "json"];
    all.extend_from_slice(args);
    let r = run_in(dir, &all);
    assert_eq!(
        r.code, code,
        "{args:?}\nstdout:\n{}\nstderr:\n{}",
        r.stdout, r.stderr
    );
    let value = stable(&r.json(), dir);
    insta::with_settings!({snapshot_path => "../../snapshots/cli", prepend_module_to_snapshot => false, omit_expression => true}, {
        insta::assert_json_snapshot!(name, Portable(&value));
    });
}

#[test]
fn reading_commands_print_their_json_shapes() {
    let t = project();
    let d = t.path();
    snap(d, "json_check", 0, &["check"]);
    snap(d, "json_migrate_status", 1, &["migrate", "status"]);
    snap(d, "json_migrate_dry_run", 0, &["migrate", "--dry-run"]);
    snap(
        d,
        "json_diff_documents",
        1,
        &[
            "diff",
            "--documents",
            "state/config/dev.json",
            "state/config/prod.json",
        ],
    );
    snap(d, "json_lock_status", 0, &["lock", "status"]);
    snap(d, "json_audit_verify", 0, &["audit", "verify"]);
    snap(d, "json_graph", 0, &["graph"]);
    snap(d, "json_prune_dry_run", 0, &["prune", "processed.json"]);
    snap(
        d,
        "json_rm_dry_run",
        0,
        &["rm", "--dry-run", "processed.json", "/processed/B0CX7W3N1T"],
    );
}

#[test]
fn writing_commands_print_their_json_shapes() {
    let t = project();
    let d = t.path();
    snap(
        d,
        "json_set",
        0,
        &[
            "set",
            "processed.json",
            "/failed/B0BZ9L4P6F/retry_count",
            "4",
        ],
    );
    snap(
        d,
        "json_append",
        0,
        &["append", "config/dev.json", "/template_checks", CHECK],
    );
    snap(
        d,
        "json_rm",
        0,
        &["rm", "processed.json", "/processed/B0CX7W3N1T"],
    );
    snap(d, "json_migrate", 0, &["migrate"]);
    snap(d, "json_export", 0, &["export", "--output", "bundle.json"]);
    snap(
        d,
        "json_import_dry_run",
        0,
        &["import", "--dry-run", "bundle.json"],
    );
    snap(d, "json_state_pull", 0, &["state", "pull", "pulled"]);
    let fresh = crate::util::tempdir();
    snap(fresh.path(), "json_init", 0, &["init", "app"]);
}
