//! Authoring migrations for a new kind: a move into a new object, a lossy
//! removal; each defect a schema author met has its regression test here.

use std::path::Path;

use serde_json::{Value, json};

use crate::migrate::write;
use crate::util::{flat, run_in, tempdir};

const PROJECT: &str = r#"[project]
schemas = "schemas"
migrations = "migrations"
state = "state"

[kinds.dev]
description = "devices by name"
path = "devices/*.json"
"#;

/// `site` moves into a new `location` object.
const M1: &str = "kind: dev\nfrom: 1\nto: 2\ndescription: the site moves into location\nops:\n  - each:\n      path: /devices\n      ops:\n        - move: { from: /site, to: /location/site }\n";
/// `notes` go (no default: the step has no inverse).
const M2: &str = "kind: dev\nfrom: 2\nto: 3\ndescription: notes go\nops:\n  - each:\n      path: /devices\n      ops:\n        - remove: { path: /notes }\n";

fn schema(version: u32, item: Value) -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "schema_version": { "const": version },
            "devices": { "type": "object", "additionalProperties": item },
        },
        "required": ["schema_version", "devices"],
    })
}

fn item(props: Value, required: &[&str]) -> Value {
    json!({ "type": "object", "properties": props, "required": required, "additionalProperties": false })
}

/// The devices of the v1 document.
fn devices_v1() -> Value {
    json!({ "a": { "site": "north" }, "b": { "site": "south", "notes": "spare" } })
}

/// A project with kind `dev` at v1..v3 and one v1 document,
/// `state/devices/d1.json` (not yet stamped by the store).
pub fn devices_project() -> tempfile::TempDir {
    let t = tempdir();
    let d = t.path();
    write(&d.join("statewright.toml"), PROJECT);
    let s = d.join("schemas/dev");
    let string = json!({ "type": "string" });
    let location = item(json!({ "site": string }), &["site"]);
    let v1 = item(json!({ "site": string, "notes": string }), &["site"]);
    let v2 = item(
        json!({ "location": location, "notes": string }),
        &["location"],
    );
    let v3 = item(json!({ "location": location }), &["location"]);
    for (n, i) in [(1, v1), (2, v2), (3, v3)] {
        let text = serde_json::to_string_pretty(&schema(n, i)).unwrap();
        write(&s.join(format!("v{n}.json")), &text);
    }
    write(&d.join("migrations/dev/0001_location.yaml"), M1);
    write(&d.join("migrations/dev/0002_drop_notes.yaml"), M2);
    let doc = json!({ "schema_version": 1, "devices": devices_v1() });
    write(
        &d.join("state/devices/d1.json"),
        &serde_json::to_string_pretty(&doc).unwrap(),
    );
    let r = run_in(d, &["migrate", "hash"]);
    assert_eq!(r.code, 0, "{r:?}");
    t
}

fn doc(d: &Path) -> Value {
    serde_json::from_slice(&std::fs::read(d.join("state/devices/d1.json")).unwrap()).unwrap()
}

#[test]
fn a_move_into_a_new_object_downgrades_back_to_the_original() {
    let t = devices_project();
    let d = t.path();
    let r = run_in(d, &["migrate", "--to", "2"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        doc(d)["devices"]["a"],
        json!({ "location": { "site": "north" } })
    );
    let r = run_in(d, &["migrate", "--to", "1"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(doc(d)["devices"], devices_v1(), "no `location: {{}}` left");
    assert_eq!(doc(d)["schema_version"], 1);
}

/// The devices project whose step 1 also adds `/labels/tier`, with v2
/// (and, with `labels_in_v1`, v1) allowing a `labels` object of
/// that schema; the sum file rewritten.
fn with_added_labels(d: &Path, labels: Value, labels_in_v1: bool) {
    let m1 = M1.replace(
        "to: /location/site }\n",
        "to: /location/site }\n        - add: { path: /labels/tier, default: standard }\n",
    );
    write(&d.join("migrations/dev/0001_location.yaml"), &m1);
    let string = json!({ "type": "string" });
    let location = item(json!({ "site": string }), &["site"]);
    let mut v1 = json!({ "site": string, "notes": string });
    if labels_in_v1 {
        v1["labels"] = labels.clone();
    }
    let v2 = json!({ "location": location, "labels": labels, "notes": string });
    for (n, i) in [(1, item(v1, &["site"])), (2, item(v2, &["location"]))] {
        let text = serde_json::to_string_pretty(&schema(n, i)).unwrap();
        write(&d.join(format!("schemas/dev/v{n}.json")), &text);
    }
    let r = run_in(d, &["migrate", "hash"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn an_add_into_a_new_object_downgrades_back_to_the_original() {
    let t = devices_project();
    let d = t.path();
    let labels = item(json!({ "tier": { "type": "string" } }), &["tier"]);
    with_added_labels(d, labels, false);
    let r = run_in(d, &["migrate", "--to", "2"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(
        doc(d)["devices"]["a"],
        json!({ "location": { "site": "north" }, "labels": { "tier": "standard" } })
    );
    let r = run_in(d, &["migrate", "--to", "1"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(doc(d)["devices"], devices_v1(), "no `labels: {{}}` left");
}

#[test]
fn verify_reports_an_empty_object_an_add_cannot_tell_from_one_it_created() {
    let t = devices_project();
    let d = t.path();
    // v1 and v2 both allow an optional `labels` object; the step adds a
    // member to it. `labels: {}` in v1 comes back without `labels`.
    let labels = json!({ "type": "object", "properties": { "tier": { "type": "string" } } });
    with_added_labels(d, labels, true);
    let r = run_in(d, &["migrate", "verify", "--count", "200", "--seed", "3"]);
    assert_eq!(r.code, 1, "{r:?}");
    let out = flat(&r.stdout);
    assert!(out.contains("MV007"), "{out}");
    assert!(out.contains("labels"), "{out}");
}

#[test]
fn a_downgrade_through_a_removal_says_nothing_is_lost_when_nothing_is() {
    let t = devices_project();
    let d = t.path();
    assert_eq!(run_in(d, &["migrate"]).code, 0);
    // At v3 no device can hold `notes`: the downgrade loses nothing.
    let r = run_in(d, &["migrate", "--to", "2", "--dry-run"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains("lost: 0002_drop_notes: nothing lost"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("loses"), "{}", r.stdout);
    let r = run_in(d, &["migrate", "--to", "2"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("nothing lost"), "{}", r.stdout);
}

#[test]
fn the_state_dir_and_a_folder_inside_it_are_accepted_as_paths() {
    let t = devices_project();
    let d = t.path();
    for arg in ["state", "state/", "state/devices", "devices"] {
        let r = run_in(d, &["migrate", "--dry-run", arg]);
        assert_eq!(r.code, 0, "{arg}: {r:?}");
        assert!(
            r.stdout
                .contains("would migrate devices/d1.json: dev v1 → v3"),
            "{arg}: {}",
            r.stdout
        );
    }
    let r = run_in(d, &["migrate", "--dry-run", "elsewhere/nothing"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(!flat(&r.stderr).contains("``"), "{}", r.stderr);
}

#[test]
fn a_stamped_document_edited_to_a_newer_version_is_refused_as_newer() {
    let t = devices_project();
    let d = t.path();
    assert_eq!(run_in(d, &["migrate"]).code, 0);
    let path = d.join("state/devices/d1.json");
    let text = std::fs::read_to_string(&path).unwrap();
    std::fs::write(
        &path,
        text.replace("\"schema_version\": 3", "\"schema_version\": 9"),
    )
    .unwrap();
    for args in [
        &["migrate"][..],
        &["get", "devices/d1.json", "/devices"],
        &["set", "devices/d1.json", "/devices/a/location/site", "west"],
    ] {
        let r = run_in(d, args);
        let err = flat(&r.stderr);
        assert_eq!(r.code, 4, "{args:?}: {r:?}");
        assert!(
            err.contains("has schema version 9, newer than the newest known (3)"),
            "{args:?}: {err}"
        );
        assert!(
            err.contains("checksum does not match") && err.contains("trust the checksum"),
            "{args:?}: {err}"
        );
    }
    let r = run_in(d, &["migrate", "status"]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(!r.stdout.contains("no version"), "{}", r.stdout);
    assert!(r.stdout.contains("newer"), "{}", r.stdout);
}

#[test]
fn help_lines_and_backup_names_are_written_once_and_whole() {
    let t = devices_project();
    let d = t.path();
    assert_eq!(run_in(d, &["migrate"]).code, 0);
    let backups: Vec<String> = std::fs::read_dir(d.join("state/.backup"))
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("devices"))
        .collect();
    assert_eq!(backups, ["devices%2Fd1.json.0.unstamped"], "{backups:?}");
    // A history that names a changed migration: the help names the file.
    std::fs::write(
        d.join("migrations/dev/0001_location.yaml"),
        M1.replace("moves into", "goes into"),
    )
    .unwrap();
    assert_eq!(run_in(d, &["migrate", "hash"]).code, 0);
    let r = run_in(d, &["migrate", "--to", "1"]);
    let err = flat(&r.stderr);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        !err.contains("fix: fix") && !err.contains("help: fix:"),
        "{err}"
    );
    assert!(
        err.contains("help: restore migrations/dev/0001_location.yaml as released"),
        "{err}"
    );
}

#[test]
fn diff_coverage_counts_a_move_as_creating_its_new_object() {
    let t = devices_project();
    let r = run_in(t.path(), &["diff", "--kind", "dev", "1", "2"]);
    assert!(
        r.stdout
            .contains("migration migrations/dev/0001_location.yaml accounts for all"),
        "{r:?}"
    );
    assert!(!r.stdout.contains("not covered"), "{r:?}");
}

#[test]
fn drafts_go_up_from_the_oldest_version_and_verify_refuses_them_unedited() {
    let t = devices_project();
    let d = t.path();
    std::fs::remove_dir_all(d.join("migrations/dev")).unwrap();
    assert_eq!(run_in(d, &["migrate", "hash"]).code, 0);
    let first = run_in(d, &["migrate", "new", "dev"]);
    assert_eq!(first.code, 0, "{first:?}");
    assert!(
        first
            .stdout
            .starts_with("drafted migrations/dev/0001_to_v2.yaml (dev v1 → v2)"),
        "{}",
        first.stdout
    );
    let second = run_in(d, &["migrate", "new", "dev"]);
    assert!(
        second
            .stdout
            .starts_with("drafted migrations/dev/0002_to_v3.yaml (dev v2 → v3)"),
        "{second:?}"
    );
    let draft = std::fs::read_to_string(d.join("migrations/dev/0001_to_v2.yaml")).unwrap();
    assert!(
        draft.starts_with("# yaml-language-server: $schema=../migration.schema.json\n"),
        "{draft}"
    );
    assert!(
        draft.contains("#   - move: { from: \"/site\", to: \"/location/site\" }"),
        "{draft}"
    );
    assert!(draft.contains("# LOSSY"), "{draft}");
    assert_eq!(run_in(d, &["migrate", "hash"]).code, 0);
    let r = run_in(d, &["migrate", "verify"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(r.stdout.contains("MV005"), "{}", r.stdout);
    assert!(
        r.stdout.contains("`dev/0001_to_v2.yaml` (dev v1 → v2)"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("migrations verified"), "{}", r.stdout);
}

#[test]
fn verify_runs_generated_round_trips_and_shows_the_broken_op() {
    let t = devices_project();
    let d = t.path();
    let r = run_in(d, &["migrate", "verify"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("warning MV010"), "{}", r.stdout);
    assert!(r.stdout.contains("no fixtures for dev v1"), "{}", r.stdout);
    assert!(r.stdout.contains("migrations verified"), "{}", r.stdout);
    // A reverse mapping that does not undo the map: caught before any
    // document is touched, with a minimal document and the op.
    let broken = "kind: dev\nfrom: 1\nto: 2\ndescription: d\nops:\n  - each:\n      path: /devices\n      ops:\n        - move: { from: /site, to: /location/site }\n        - convert:\n            path: /notes\n            map: [{ from: a, to: b }]\n            reverse: [{ from: b, to: c }]\n";
    write(&d.join("migrations/dev/0001_location.yaml"), broken);
    assert_eq!(run_in(d, &["migrate", "hash"]).code, 0);
    let before = std::fs::read(d.join("state/devices/d1.json")).unwrap();
    let r = run_in(d, &["migrate", "verify", "--count", "200", "--seed", "3"]);
    assert_eq!(r.code, 1, "{r:?}");
    let out = flat(&r.stdout);
    assert!(out.contains("MV007"), "{out}");
    assert!(
        out.contains("the op that breaks it: `convert /devices/*/notes`"),
        "{out}"
    );
    assert!(
        out.contains("fix: make the inverse undo the op exactly"),
        "{out}"
    );
    assert_eq!(
        std::fs::read(d.join("state/devices/d1.json")).unwrap(),
        before
    );
}
