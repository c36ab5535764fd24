//! `statewright migrate` end to end: runs, dry runs, status, verify, hash,
//! and every refusal (message, exit code, and not one byte changed).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};

use crate::util::{Run, flat, repo, run_in, tempdir};

const PROJECT: &str = r#"[project]
schemas = "schemas"
migrations = "migrations"
state = "state"

[kinds.rec]
description = "test records"
path = "recs/*.json"
"#;

const M1: &str = "kind: rec\nfrom: 1\nto: 2\ndescription: name becomes title; tags added\nops:\n  - rename: { path: /name, to: title }\n  - add: { path: /tags, default: [] }\n";
const M2: &str =
    "kind: rec\nfrom: 2\nto: 3\ndescription: the note goes\nops:\n  - remove: { path: /note }\n";

fn schema(version: u32, props: Value, required: &[&str]) -> Value {
    let mut p = props;
    p["schema_version"] = json!({ "const": version });
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": p,
        "required": required,
    })
}

/// Writes `text` to `path`, creating its folder.
pub fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn write_json(path: &Path, v: &Value) {
    write(path, &serde_json::to_string_pretty(v).unwrap());
}

/// A project with kind `rec` at v1..v3 (0001 renames and adds, 0002
/// removes `/note` without a default: lossy down), its sum file, and
/// `docs` record documents at v1 in `state/recs/`.
pub fn project(docs: usize) -> tempfile::TempDir {
    let t = tempdir();
    let d = t.path();
    write(&d.join("statewright.toml"), PROJECT);
    let s = d.join("schemas/rec");
    let str_ = json!({ "type": "string" });
    write_json(
        &s.join("v1.json"),
        &schema(1, json!({ "name": str_, "note": str_ }), &["name"]),
    );
    write_json(
        &s.join("v2.json"),
        &schema(
            2,
            json!({ "title": str_, "note": str_, "tags": { "type": "array" } }),
            &["title", "tags"],
        ),
    );
    write_json(
        &s.join("v3.json"),
        &schema(
            3,
            json!({ "title": str_, "tags": { "type": "array" } }),
            &["title", "tags"],
        ),
    );
    write(&d.join("migrations/rec/0001_title_and_tags.yaml"), M1);
    write(&d.join("migrations/rec/0002_drop_note.yaml"), M2);
    for i in 0..docs {
        write_json(
            &d.join(format!("state/recs/r{i:04}.json")),
            &json!({ "schema_version": 1, "name": format!("record {i}"), "note": "n" }),
        );
    }
    std::fs::create_dir_all(d.join("state")).unwrap();
    let r = run_in(d, &["migrate", "hash"]);
    assert_eq!(r.code, 0, "{r:?}");
    t
}

/// Every file under `dir` with its bytes.
pub fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.insert(p.clone(), std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

/// Creates the state dir's `.lock` (empty: free), as the first command
/// that takes the lock does.
fn touch_lock(dir: &Path) {
    let lock = dir.join("state/.lock");
    if dir.join("state").is_dir() && !lock.exists() {
        std::fs::write(lock, b"").unwrap();
    }
}

fn read_json(p: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(p).unwrap()).unwrap()
}

/// Runs `args` and asserts it is refused with `code`, every `needles` in
/// the flattened stderr, and no byte under the project changed.
fn refused(dir: &Path, args: &[&str], code: i32, needles: &[&str]) -> Run {
    // Taking the lock creates `.lock` once (reading does not); do that
    // before the snapshot.
    run_in(dir, &["migrate", "status"]);
    touch_lock(dir);
    let before = snapshot(dir);
    let r = run_in(dir, args);
    let err = flat(&r.stderr);
    assert_eq!(r.code, code, "{r:?}");
    for n in needles {
        assert!(err.contains(n), "missing `{n}` in: {err}");
    }
    assert!(snapshot(dir) == before, "files changed by a refused run");
    r
}

#[test]
fn migrates_every_document_in_one_run_and_records_history() {
    let t = project(3);
    let d = t.path();
    let r = run_in(d, &["migrate"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("migrated 3 documents in one transaction"),
        "{}",
        r.stdout
    );
    let doc = read_json(&d.join("state/recs/r0001.json"));
    assert_eq!(doc["schema_version"], 3);
    assert_eq!(doc["title"], "record 1");
    assert_eq!(doc["tags"], json!([]));
    assert!(doc.get("note").is_none() && doc.get("name").is_none());
    let history = doc["history"].as_array().unwrap();
    let ids: Vec<_> = history
        .iter()
        .map(|h| h["migration"].as_str().unwrap())
        .collect();
    assert_eq!(ids, ["0001_title_and_tags", "0002_drop_note"]);
    assert!(
        history[0]["file_hash"]
            .as_str()
            .unwrap()
            .starts_with("sha256:")
    );
    assert!(history[0]["applied_at"].as_str().is_some());
    assert!(doc["checksum"].as_str().unwrap().starts_with("sha256:"));
    // One transaction: one audit line per document, all with the same tx.
    let audit = std::fs::read_to_string(d.join("state/audit.log")).unwrap();
    let txs: std::collections::BTreeSet<_> = audit
        .lines()
        .map(|l| {
            serde_json::from_str::<Value>(l).unwrap()["tx"]
                .clone()
                .to_string()
        })
        .collect();
    assert_eq!((audit.lines().count(), txs.len()), (3, 1));
    // Nothing left to do.
    let again = run_in(d, &["migrate"]);
    assert!(
        again.stdout.contains("nothing to migrate: 3 documents"),
        "{again:?}"
    );
}

#[test]
fn dry_run_prints_the_plan_and_patch_and_writes_nothing() {
    let t = project(1);
    let d = t.path();
    run_in(d, &["migrate", "status"]);
    touch_lock(d);
    let before = snapshot(d);
    let r = run_in(d, &["migrate", "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("would migrate recs/r0000.json: rec v1 → v3"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("add /title: \"record 0\""),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("remove /note"), "{}", r.stdout);
    let j = run_in(d, &["migrate", "--dry-run", "--format", "json"]).json();
    let patch = &j["documents"][0]["patch"];
    assert!(
        patch
            .as_array()
            .unwrap()
            .contains(&json!({"op": "add", "path": "/tags", "value": []})),
        "{patch}"
    );
    assert_eq!(j["summary"]["would_migrate"], 1);
    assert!(snapshot(d) == before, "a dry run changed files");
}

#[test]
fn status_reports_each_document_against_the_latest() {
    let t = project(2);
    let d = t.path();
    let r = run_in(d, &["migrate", "status", "--format", "json"]);
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    assert_eq!(j["documents"][0]["state"], "behind");
    assert_eq!(j["documents"][0]["version"], 1);
    assert_eq!(j["documents"][0]["latest"], 3);
    assert_eq!(j["summary"]["behind"], 2);
    assert_eq!(run_in(d, &["migrate"]).code, 0);
    let r = run_in(d, &["migrate", "status"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("2 current, 0 behind, 0 newer"),
        "{}",
        r.stdout
    );
}

#[test]
fn migrates_the_example_mamfast_state_from_v1_to_v2() {
    let t = tempdir();
    let state = t.path().join("state");
    let copy = std::process::Command::new("cp")
        .args(["-r"])
        .arg(repo().join("examples/state"))
        .arg(&state)
        .status()
        .unwrap();
    assert!(copy.success());
    let r = run_in(
        &repo(),
        &[
            "migrate",
            "--state",
            state.to_str().unwrap(),
            "processed.json",
        ],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let doc = read_json(&state.join("processed.json"));
    assert_eq!(doc["version"], 2);
    let failed = &doc["failed"]["B0BZ9L4P6F"];
    assert_eq!(failed["first_failed_at"], failed["failed_at"]);
    assert_eq!(failed["error_type"], Value::Null);
    assert_eq!(doc["processed"]["B08XJ4QK7L"]["checkpoints"], json!({}));
    assert_eq!(
        doc["history"][0]["migration"],
        "0001_checkpoints_and_failure_details"
    );
}

#[test]
fn verify_passes_on_the_shipped_migrations_and_hash_rewrites_the_sum() {
    let r = run_in(&repo(), &["migrate", "verify", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.json()["upgrades_checked"].as_u64().unwrap() > 0);
    let t = project(0);
    let d = t.path();
    let sum = d.join("migrations/statewright.sum");
    let good = std::fs::read(&sum).unwrap();
    std::fs::write(&sum, b"# broken\n").unwrap();
    let r = run_in(d, &["migrate", "verify"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("MV001"), "{}", r.stdout);
    let r = run_in(d, &["migrate", "hash"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("2 migration files"), "{}", r.stdout);
    assert_eq!(std::fs::read(&sum).unwrap(), good);
}

#[test]
fn verify_reports_a_step_from_a_version_with_no_schema() {
    let t = project(0);
    let d = t.path();
    std::fs::remove_file(d.join("schemas/rec/v1.json")).unwrap();
    let r = run_in(d, &["migrate", "verify"]);
    assert_eq!(r.code, 1, "{r:?}");
    let out = flat(&r.stdout);
    assert!(
        out.contains("MV003")
            && out.contains("`rec/0001_title_and_tags.yaml` steps from rec v1, which the catalog has no schema for; add schemas/rec/v1.json or remove the file"),
        "{out}"
    );
}

#[test]
fn refuses_a_document_newer_than_the_newest_schema() {
    let t = project(2);
    let d = t.path();
    write_json(
        &d.join("state/recs/r0001.json"),
        &json!({ "schema_version": 7, "title": "from the future", "tags": [] }),
    );
    refused(
        d,
        &["migrate"],
        4,
        &[
            "recs/r0001.json",
            "version 7 of kind `rec`, newer than the newest schema this tool knows (v3)",
            "upgrade statewright",
            "copy back the version in the state dir's `.backup/`",
        ],
    );
}

#[test]
fn refuses_a_tampered_migration_file() {
    let t = project(2);
    let d = t.path();
    let m = d.join("migrations/rec/0001_title_and_tags.yaml");
    write(&m, &M1.replace("default: []", "default: [x]"));
    refused(
        d,
        &["migrate"],
        4,
        &[
            "migration `rec/0001_title_and_tags.yaml` was edited",
            "statewright migrate hash",
        ],
    );
}

#[test]
fn refuses_a_document_whose_history_names_a_changed_migration() {
    let t = project(1);
    let d = t.path();
    write_json(
        &d.join("state/recs/r0000.json"),
        &json!({
            "schema_version": 2, "title": "t", "tags": [],
            "history": [{
                "migration": "0001_title_and_tags", "from": 1, "to": 2,
                "file_hash": format!("sha256:{}", "0".repeat(64)),
                "applied_at": "2026-01-01T00:00:00Z"
            }]
        }),
    );
    refused(
        d,
        &["migrate"],
        4,
        &[
            "recs/r0000.json",
            "provenance mismatch",
            "migration `0001_title_and_tags`",
            "restore migrations/rec/0001_title_and_tags",
        ],
    );
}

#[test]
fn refuses_a_chain_with_a_gap() {
    let t = project(2);
    let d = t.path();
    write_json(
        &d.join("schemas/rec/v4.json"),
        &schema(4, json!({ "title": { "type": "string" } }), &["title"]),
    );
    refused(
        d,
        &["migrate"],
        2,
        &[
            "kind `rec` has no migration from v3 to v4: the chain has a gap",
            "add migrations/rec/<NNNN>_<name>.yaml with `from: 3` and `to: 4`",
            "statewright migrate hash",
        ],
    );
}

#[test]
fn refuses_a_lossy_downgrade_unless_allowed_and_then_backs_up_first() {
    let t = project(1);
    let d = t.path();
    let doc = d.join("state/recs/r0000.json");
    assert_eq!(run_in(d, &["migrate"]).code, 0);
    // A `note` written at v3 (which allows it): upgrading again through
    // `0002` removes it, so the downgrade would lose it.
    let r = run_in(d, &["set", "recs/r0000.json", "/note", "written at v3"]);
    assert_eq!(r.code, 0, "{r:?}");
    let at_v3 = std::fs::read(&doc).unwrap();
    refused(
        d,
        &["migrate", "--to", "2"],
        4,
        &[
            "downgrading `rec` from v3 to v2 is lossy",
            r#"0002_drop_note: downgrade at /note loses the value "written at v3""#,
            "pass --allow-lossy",
        ],
    );
    let r = run_in(d, &["migrate", "--to", "2", "--allow-lossy"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(
            r#"lost: 0002_drop_note: downgrade at /note loses the value "written at v3""#
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("backed up first"), "{}", r.stdout);
    assert_eq!(read_json(&doc)["schema_version"], 2);
    let backups: Vec<_> = std::fs::read_dir(d.join("state/.backup"))
        .unwrap()
        .flatten()
        .filter(|e| e.file_name().to_string_lossy().starts_with("recs"))
        .map(|e| std::fs::read(e.path()).unwrap())
        .collect();
    assert!(backups.contains(&at_v3), "no backup holds the v3 bytes");
}

#[test]
fn a_downgrade_that_drops_a_changed_value_is_refused_and_one_that_does_not_runs() {
    let t = project(2);
    let d = t.path();
    assert_eq!(run_in(d, &["migrate", "--to", "2"]).code, 0);
    let r = run_in(
        d,
        &["set", "recs/r0001.json", "/tags", r#"["blue","green"]"#],
    );
    assert_eq!(r.code, 0, "{r:?}");
    // `0001` adds `/tags` with the default `[]`: its inverse removes it,
    // which loses nothing for r0000 and the tags of r0001.
    refused(
        d,
        &["migrate", "--to", "1"],
        4,
        &[
            "recs/r0001.json: downgrading `rec` from v2 to v1 is lossy",
            "0001_title_and_tags: downgrade at",
            r#"loses the value ["blue","green"], which upgrading again through `0001_title_and_tags` does not give back"#,
            "pass --allow-lossy",
        ],
    );
    let j = run_in(
        d,
        &[
            "migrate",
            "--to",
            "1",
            "--dry-run",
            "--allow-lossy",
            "--format",
            "json",
        ],
    )
    .json();
    let lost = |i: usize| j["documents"][i]["steps"][0]["lost"].clone();
    assert_eq!(lost(0), json!([]), "{j}");
    assert_eq!(lost(1)[0]["pointer"], "/tags", "{j}");
    assert_eq!(lost(1)[0]["op"], "downgrade", "{j}");
    assert_eq!(
        run_in(d, &["migrate", "recs/r0000.json", "--to", "1"]).code,
        0,
        "an unchanged default is not a loss"
    );
    assert_eq!(
        read_json(&d.join("state/recs/r0000.json"))["name"],
        "record 0"
    );
    let r = run_in(d, &["migrate", "--to", "1", "--allow-lossy"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("backed up first"), "{}", r.stdout);
    assert!(
        read_json(&d.join("state/recs/r0001.json"))
            .get("tags")
            .is_none()
    );
}

#[test]
fn a_dry_run_runs_the_checks_of_the_write_and_refuses_what_the_run_would() {
    let t = project(1);
    let d = t.path();
    // v3 now wants at least one tag, but 0001 adds `tags: []`.
    let v3 = d.join("schemas/rec/v3.json");
    let mut s = read_json(&v3);
    s["properties"]["tags"]["minItems"] = json!(1);
    write_json(&v3, &s);
    for args in [&["migrate", "--dry-run"][..], &["migrate"]] {
        let r = refused(
            d,
            args,
            4,
            &["recs/r0000.json", "/tags", "[] has less than 1 item"],
        );
        assert_eq!(r.stdout, "", "{args:?}");
    }
    let r = run_in(d, &["migrate", "--dry-run", "--format", "json"]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        r.json()["error"]["message"]
            .as_str()
            .unwrap()
            .starts_with("the migrated documents would be refused"),
        "{}",
        r.stdout
    );
}

#[test]
fn usage_errors_exit_2() {
    let t = project(1);
    let r = run_in(t.path(), &["migrate", "--to", "zero"]);
    assert_eq!(r.code, 2, "{r:?}");
    let r = run_in(t.path(), &["migrate", "recs/nope.json"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn a_held_lock_exits_3_and_changes_nothing() {
    use statewright::spec::{Catalog, Project};
    use statewright::store::{LockOptions, Store, StoreOptions};
    let t = project(2);
    let d = t.path();
    let catalog = Catalog::load(&Project::load(&d.join("statewright.toml")).unwrap()).unwrap();
    let (store, _) = Store::open(&catalog, &d.join("state"), StoreOptions::default()).unwrap();
    let _guard = store.lock(&LockOptions::default()).unwrap();
    let before = snapshot(d);
    let r = run_in(d, &["migrate", "--lock-timeout", "100ms"]);
    assert_eq!(r.code, 3, "{r:?}");
    assert!(flat(&r.stderr).contains("lock"), "{}", r.stderr);
    assert!(
        snapshot(d) == before,
        "files changed while the lock was held"
    );
}

#[test]
fn json_output_of_a_run_and_of_a_refusal() {
    let t = project(1);
    let d = t.path();
    let j = run_in(d, &["migrate", "--format", "json"]).json();
    assert_eq!(j["summary"]["migrated"], 1);
    let doc = &j["documents"][0];
    assert_eq!(
        (doc["from"].clone(), doc["to"].clone()),
        (json!(1), json!(3))
    );
    assert_eq!(doc["steps"][1]["migration"], "0002_drop_note");
    assert!(doc["checksum"].as_str().unwrap().starts_with("sha256:"));
    // A note written at v3 would be lost by the downgrade.
    let r = run_in(d, &["set", "recs/r0000.json", "/note", "kept"]);
    assert_eq!(r.code, 0, "{r:?}");
    let r = run_in(d, &["migrate", "--to", "2", "--format", "json"]);
    assert_eq!(r.code, 4, "{r:?}");
    let e = r.json();
    assert!(
        e["error"]["message"].as_str().unwrap().contains("is lossy"),
        "{e}"
    );
    assert!(
        e["error"]["help"]
            .as_str()
            .unwrap()
            .contains("--allow-lossy"),
        "{e}"
    );
}

#[test]
fn a_stamped_document_whose_checksum_fails_is_not_migrated() {
    let t = project(2);
    let d = t.path();
    assert_eq!(run_in(d, &["migrate", "--to", "2"]).code, 0);
    let doc = d.join("state/recs/r0001.json");
    let text = std::fs::read_to_string(&doc).unwrap();
    std::fs::write(&doc, text.replace("record 1", "record X")).unwrap();
    refused(
        d,
        &["migrate"],
        1,
        &[
            "recs/r0001.json",
            "checksum check failed",
            "statewright check --repair",
        ],
    );
}

#[test]
fn an_explicit_target_without_paths_takes_the_kinds_that_have_it() {
    let t = tempdir();
    let state = t.path().join("state");
    let copy = std::process::Command::new("cp")
        .args(["-r"])
        .arg(repo().join("examples/state"))
        .arg(&state)
        .status()
        .unwrap();
    assert!(copy.success());
    let r = run_in(
        &repo(),
        &["migrate", "--state", state.to_str().unwrap(), "--to", "2"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout
            .contains("migrated processed.json: mamfast-processed v1 → v2"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("migrated 1 document in one transaction (0 already"),
        "{}",
        r.stdout
    );
}

#[test]
fn an_op_that_fails_names_the_migration_file_the_pointer_and_the_fix() {
    let t = project(1);
    let d = t.path();
    let int = json!({ "type": "integer" });
    write_json(
        &d.join("schemas/rec/v4.json"),
        &schema(
            4,
            json!({ "title": int, "tags": { "type": "array" } }),
            &["title", "tags"],
        ),
    );
    write(
        &d.join("migrations/rec/0003_numbered.yaml"),
        "kind: rec\nfrom: 3\nto: 4\ndescription: titles become numbers\nops:\n  - convert: { path: /title, cast: { from: string, to: integer } }\n",
    );
    assert_eq!(run_in(d, &["migrate", "hash"]).code, 0);
    touch_lock(d); // `.lock` is created once, by the first lock taken
    let before = snapshot(&d.join("state"));
    let r = run_in(d, &["migrate"]);
    assert_eq!(r.code, 2, "{r:?}");
    let err = flat(&r.stderr);
    assert!(
        err.contains("recs/r0000.json")
            && err.contains("migration `0003_numbered` (migrations/rec/0003_numbered.yaml, v3 → v4) failed at /title: cannot convert \"record 0\" to Integer"),
        "{err}"
    );
    assert!(
        err.contains("correct that value in the document, or the op in the migration file"),
        "{err}"
    );
    assert!(snapshot(&d.join("state")) == before, "nothing is written");
}
