//! `statewright diff` and `statewright migrate new`, end to end: schema
//! diffs of files and catalog versions with migration coverage, document
//! diffs (human and JSON Patch), drift, exit codes and bad input.

use std::path::Path;

use serde_json::{Value, json};

use crate::util::copy_dir;
use crate::util::{flat, repo, run, run_in, tempdir};
use statewright::spec::document::Portable;

fn write(path: &Path, text: &str) {
    std::fs::create_dir_all(path.parent().expect("parent")).expect("mkdir");
    std::fs::write(path, text).expect("write");
}

fn write_json(path: &Path, v: &Value) {
    write(path, &serde_json::to_string_pretty(v).expect("json"));
}

fn read_json(path: &Path) -> Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("read")).expect("json")
}

/// A copy of the repository's project (project file, schemas, migrations).
fn project_copy() -> tempfile::TempDir {
    let t = tempdir();
    std::fs::copy(
        repo().join("statewright.toml"),
        t.path().join("statewright.toml"),
    )
    .expect("copy");
    for dir in ["schemas", "migrations"] {
        copy_dir(&repo().join(dir), &t.path().join(dir));
    }
    t
}

/// deploy-pins v4: v3 plus a required `owner` on each service (no
/// default) and without `notes` if v3 has it.
fn add_deploy_pins_v4(root: &Path) {
    let mut v = read_json(&root.join("schemas/deploy-pins/v3.json"));
    v["$id"] = json!("https://statewright.dev/schemas/deploy-pins/v4.json");
    v["properties"]["schema_version"]["const"] = json!(4);
    let service = &mut v["$defs"]["service"];
    service["properties"]["owner"] = json!({"type": "string", "minLength": 1});
    service["required"]
        .as_array_mut()
        .expect("required")
        .push(json!("owner"));
    write_json(&root.join("schemas/deploy-pins/v4.json"), &v);
}

#[test]
fn schema_files_list_rules_pointers_and_verdicts() {
    let out = run(&[
        "diff",
        "schemas/mamfast-processed/v1.json",
        "schemas/mamfast-processed/v2.json",
    ]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let text = &out.stdout;
    assert!(
        text.contains("\nbreaking SD211 `checkpoints` is now required"),
        "{text}"
    );
    assert!(
        text.contains("B /$defs/processed_entry/required  schemas/mamfast-processed/v2.json:"),
        "{text}"
    );
    assert!(
        text.contains(
            "readers: breaks (old documents under B)  writers: ok (new documents under A)"
        ),
        "{text}"
    );
    assert!(
        text.contains(
            "13 changes: 4 breaking, 0 warnings, 9 info; compatibility: none; checked: backward\n"
        ),
        "{text}"
    );
    assert!(
        text.contains("migration migrations/mamfast-processed/0001_checkpoints_and_failure_details.yaml accounts for all 4 backward-incompatible changes"),
        "{text}"
    );
}

#[test]
fn kind_versions_json_contract() {
    let out = run(&[
        "diff",
        "--kind",
        "deploy-pins",
        "2",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let v = out.json();
    assert_eq!(v["migrations"][0]["uncovered"], 0);
    assert_eq!(
        v["migrations"][0]["file"],
        "migrations/deploy-pins/0002_tiers_regions_channel.yaml"
    );
    insta::with_settings!({snapshot_path => "../../snapshots/cli", prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!("diff_kind_deploy_pins_2_3", Portable(&v));
    });
    let both = run(&[
        "diff",
        "--kind",
        "deploy-pins",
        "1",
        "3",
        "--format",
        "json",
    ])
    .json();
    let files: Vec<&Value> = both["migrations"]
        .as_array()
        .expect("steps")
        .iter()
        .map(|m| &m["file"])
        .collect();
    assert_eq!(
        files,
        [
            &json!("migrations/deploy-pins/0001_structured_images.yaml"),
            &json!("migrations/deploy-pins/0002_tiers_regions_channel.yaml")
        ]
    );
    let first = run(&[
        "diff",
        "--kind",
        "deploy-pins",
        "1",
        "2",
        "--fail-on",
        "uncovered",
    ]);
    assert_eq!(first.code, 0, "{}", first.stdout);
}

#[test]
fn github_format_annotates_schema_lines() {
    let out = run(&[
        "diff",
        "--kind",
        "mamfast-processed",
        "1",
        "2",
        "--format",
        "github",
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout.lines().any(|l| l
            .starts_with("::error file=schemas/mamfast-processed/v2.json,line=")
            && l.contains("title=SD211::`checkpoints` is now required")),
        "{}",
        out.stdout
    );
}

#[test]
fn uncovered_change_is_reported_against_the_migration() {
    let t = project_copy();
    add_deploy_pins_v4(t.path());
    let m = t.path().join("migrations/deploy-pins/0003_owners.yaml");
    write(
        &m,
        "kind: deploy-pins\nfrom: 3\nto: 4\ndescription: owners\nops:\n  - add: { path: /unrelated, default: 1 }\n",
    );
    let out = run_in(t.path(), &["diff", "--kind", "deploy-pins", "3", "4"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let text = flat(&out.stdout);
    assert!(
        text.contains("not covered by migration migrations/deploy-pins/0003_owners.yaml: SD211 /services/*/owner: `owner` is now required needs `add`"),
        "{text}"
    );
    assert!(text.contains("1 change not covered; add the ops to migrations/deploy-pins/0003_owners.yaml, then run `statewright migrate hash`"), "{text}");
    let json = run_in(
        t.path(),
        &[
            "diff",
            "--kind",
            "deploy-pins",
            "3",
            "4",
            "--format",
            "json",
        ],
    )
    .json();
    assert_eq!(json["migrations"][0]["uncovered"], 1);
    assert_eq!(
        json["migrations"][0]["changes"][0]["document_path"],
        "/services/*/owner"
    );
    assert_eq!(json["migrations"][0]["changes"][0]["needs"], "fill");
    let strict = run_in(
        t.path(),
        &[
            "diff",
            "--kind",
            "deploy-pins",
            "3",
            "4",
            "--fail-on",
            "uncovered",
        ],
    );
    assert_eq!(strict.code, 1);

    // Covering it clears the section, and `--fail-on uncovered` passes.
    write(
        &m,
        "kind: deploy-pins\nfrom: 3\nto: 4\ndescription: owners\nops:\n  - each:\n      path: /services\n      ops:\n        - add: { path: /owner, default: unknown }\n",
    );
    let out = run_in(
        t.path(),
        &[
            "diff",
            "--kind",
            "deploy-pins",
            "3",
            "4",
            "--fail-on",
            "uncovered",
        ],
    );
    assert_eq!(out.code, 0, "{}", out.stdout);
    assert!(
        out.stdout
            .contains("accounts for all 1 backward-incompatible change"),
        "{}",
        out.stdout
    );
}

#[test]
fn missing_migration_leaves_every_change_uncovered() {
    let t = project_copy();
    add_deploy_pins_v4(t.path());
    let out = run_in(t.path(), &["diff", "--kind", "deploy-pins", "3", "4"]);
    assert_eq!(out.code, 1);
    let text = flat(&out.stdout);
    assert!(
        text.contains("not covered by migration (none: no migration from v3 to v4):"),
        "{text}"
    );
    assert!(
        text.contains("draft one with `statewright migrate new deploy-pins`"),
        "{text}"
    );
}

#[test]
fn schema_keyword_selects_schema_mode_without_a_project() {
    let t = tempdir();
    let s = "https://json-schema.org/draft/2020-12/schema";
    write_json(
        &t.path().join("old.json"),
        &json!({"$schema": s, "type": "object", "properties": {"port": {"type": "string"}}}),
    );
    write_json(
        &t.path().join("new.json"),
        &json!({"$schema": s, "type": "object", "properties": {"port": {"type": "integer"}}}),
    );
    let out = run_in(t.path(), &["diff", "old.json", "new.json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("breaking SD103 type string → integer"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout
            .contains("A /properties/port/type  old.json:6:15"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("migration"), "{}", out.stdout);
}

#[test]
fn data_document_with_a_schema_member_is_diffed_as_a_document() {
    // A data document names its schema file in `$schema`: still a document.
    let t = tempdir();
    write_json(
        &t.path().join("a.json"),
        &json!({"$schema": "./schema.json", "port": 1}),
    );
    write_json(
        &t.path().join("b.json"),
        &json!({"$schema": "./schema.json", "port": 2}),
    );
    let out = run_in(t.path(), &["diff", "a.json", "b.json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("/port"), "{}", out.stdout);
    assert!(
        out.stderr.contains("note: comparing as documents"),
        "{}",
        out.stderr
    );
    // The JSON output is the patch.
    let out = run_in(t.path(), &["diff", "a.json", "b.json", "--format", "json"]);
    let patch = out.json();
    assert_eq!(patch[0]["path"], "/port", "{patch}");
    // --schemas forces the other mode, and says nothing about guessing.
    let out = run_in(t.path(), &["diff", "--schemas", "a.json", "b.json"]);
    assert!(out.stdout.starts_with("schema diff"), "{}", out.stdout);
    assert!(!out.stderr.contains("note:"), "{}", out.stderr);
    // --documents on two schemas gives a patch.
    let s = "https://json-schema.org/draft/2020-12/schema";
    write_json(
        &t.path().join("s1.json"),
        &json!({"$schema": s, "type": "string"}),
    );
    write_json(
        &t.path().join("s2.json"),
        &json!({"$schema": s, "type": "integer"}),
    );
    let out = run_in(t.path(), &["diff", "--documents", "s1.json", "s2.json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("/type"), "{}", out.stdout);
}

fn fail_on_codes(a: &Value, b: &Value) -> [i32; 4] {
    let t = tempdir();
    let (pa, pb) = (t.path().join("a.json"), t.path().join("b.json"));
    write_json(&pa, a);
    write_json(&pb, b);
    let args = |level: &str| {
        let out = run_in(
            t.path(),
            &["diff", "--schemas", "a.json", "b.json", "--fail-on", level],
        );
        assert_ne!(out.code, 2, "{}", out.stderr);
        out.code
    };
    [
        args("breaking"),
        args("warning"),
        args("any"),
        args("uncovered"),
    ]
}

#[test]
fn fail_on_levels() {
    let info = fail_on_codes(
        &json!({"type": "string", "description": "x"}),
        &json!({"type": "string", "description": "y"}),
    );
    assert_eq!(info, [0, 0, 1, 0]);
    let obj = json!({"type": "object", "properties": {"n": {"type": "integer", "default": 1}}});
    let mut req = obj.clone();
    req["required"] = json!(["n"]);
    assert_eq!(fail_on_codes(&obj, &req), [0, 1, 1, 0]);
    assert_eq!(
        fail_on_codes(&json!({"maxLength": 10}), &json!({"maxLength": 5})),
        [1, 1, 1, 0]
    );
    assert_eq!(fail_on_codes(&obj, &obj), [0, 0, 0, 0]);
}

fn edited_packer_hybrid(dir: &Path) -> (std::path::PathBuf, std::path::PathBuf) {
    let a = repo().join("examples/state/packer-hybrid.json");
    let mut v = read_json(&a);
    v["generated_at"] = json!("2026-04-01T00:00:00Z");
    v["origin"]["command_id"] = json!("01JQ0000000000000000000000");
    v["builders"]["qemu.ubuntu"]["cache_hash"] =
        json!("sha256:0000000000000000000000000000000000000000000000000000000000000000");
    v["builders"]["amazon-ebs.ubuntu"]
        .as_object_mut()
        .expect("builder")
        .remove("artifact_id");
    v["builders"]["vsphere.ubuntu"] = json!({"variant_id": "v"});
    let b = dir.join("packer-hybrid.json");
    write_json(&b, &v);
    (a, b)
}

#[test]
fn document_diff_human() {
    let t = tempdir();
    let (a, b) = edited_packer_hybrid(t.path());
    let out = run(&["diff", a.to_str().unwrap(), b.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}", out.stderr);
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines[0], "--- examples/state/packer-hybrid.json");
    assert!(lines[1].starts_with("+++ ") && lines[1].ends_with("packer-hybrid.json"));
    assert!(
        lines.contains(
            &"- /builders/amazon-ebs.ubuntu/artifact_id  (examples/state/packer-hybrid.json:34)"
        ),
        "{}",
        out.stdout
    );
    assert!(
        lines.iter().any(|l| l
            .starts_with("~ /generated_at: \"2026-03-13T09:18:05Z\" → \"2026-04-01T00:00:00Z\"")),
        "{}",
        out.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("+ /builders/vsphere.ubuntu: {\"variant_id\":\"v\"}"))
    );
    assert_eq!(
        *lines.last().unwrap(),
        "5 differences: 1 added, 1 removed, 3 changed"
    );
    // Colors on request: added lines green, removed red.
    let colored = run(&[
        "diff",
        "--color",
        "always",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert!(
        colored
            .stdout
            .contains("\x1b[31m- /builders/amazon-ebs.ubuntu/artifact_id\x1b[0m")
    );
    assert!(
        colored
            .stdout
            .contains("\x1b[32m+ /builders/vsphere.ubuntu")
    );
    // Identical documents.
    let same = run(&["diff", a.to_str().unwrap(), a.to_str().unwrap()]);
    assert_eq!(same.code, 0);
    assert!(same.stdout.ends_with("no differences\n"), "{}", same.stdout);
}

#[test]
fn document_diff_json_patch_reproduces_b() {
    let t = tempdir();
    let (a, b) = edited_packer_hybrid(t.path());
    let out = run(&[
        "diff",
        "--format",
        "json",
        a.to_str().unwrap(),
        b.to_str().unwrap(),
    ]);
    assert_eq!(out.code, 1);
    let patch: json_patch::Patch = serde_json::from_value(out.json()).expect("an RFC 6902 patch");
    assert_eq!(patch.0.len(), 5);
    let mut doc = read_json(&a);
    json_patch::patch(&mut doc, &patch.0).expect("patch applies");
    assert_eq!(doc, read_json(&b));
    assert_eq!(
        out.json()[0],
        json!({"op": "replace", "path": "/generated_at", "value": "2026-04-01T00:00:00Z"})
    );
}

#[test]
fn ignore_meta_and_ignore_pointers() {
    let t = tempdir();
    let (a, b) = edited_packer_hybrid(t.path());
    let (a, b) = (a.to_str().unwrap(), b.to_str().unwrap());
    let out = run(&["diff", "--ignore-meta", "--format", "json", a, b]);
    let ops: Vec<Value> = out
        .json()
        .as_array()
        .expect("a patch")
        .iter()
        .map(|o| o["path"].clone())
        .collect();
    assert_eq!(
        ops,
        [
            "/builders/amazon-ebs.ubuntu/artifact_id",
            "/builders/qemu.ubuntu/cache_hash",
            "/builders/vsphere.ubuntu"
        ]
    );
    let out = run(&[
        "diff",
        "--ignore-meta",
        "--ignore",
        "/builders/*/artifact_id",
        "--ignore",
        "/builders/vsphere.ubuntu",
        a,
        b,
    ]);
    assert_eq!(out.code, 1);
    assert!(
        out.stdout
            .ends_with("1 difference: 0 added, 0 removed, 1 changed\n"),
        "{}",
        out.stdout
    );
    let bad = run(&["diff", "--ignore", "generated_at", a, b]);
    assert_eq!(bad.code, 2);
    assert!(
        flat(&bad.stderr).contains("--ignore `generated_at` is not a JSON pointer"),
        "{}",
        bad.stderr
    );
}

#[test]
fn ignore_meta_uses_the_kinds_envelope_pointers() {
    let t = tempdir();
    write(
        &t.path().join("statewright.toml"),
        "[project]\nstate = \"state\"\n[kinds.notes]\npath = \"notes.json\"\n[kinds.notes.fields]\ngenerated_at = \"/meta/written\"\n",
    );
    write_json(
        &t.path().join("schemas/notes/v1.json"),
        &json!({"type": "object"}),
    );
    let a = json!({"schema_version": 1, "meta": {"written": "2026-01-01T00:00:00Z"}, "generated_at": "x", "n": 1});
    let mut b = a.clone();
    b["meta"]["written"] = json!("2026-02-01T00:00:00Z");
    b["generated_at"] = json!("y");
    write_json(&t.path().join("state/notes.json"), &a);
    write_json(&t.path().join("new.json"), &b);
    // A is in the state dir: its kind's pointers apply.
    let out = run_in(
        t.path(),
        &[
            "diff",
            "--ignore-meta",
            "--format",
            "json",
            "state/notes.json",
            "new.json",
        ],
    );
    assert_eq!(
        out.json(),
        json!([{"op": "replace", "path": "/generated_at", "value": "y"}])
    );
    // --kind names it for files outside the state dir.
    let out = run_in(
        t.path(),
        &[
            "diff",
            "--kind",
            "notes",
            "--ignore-meta",
            "--format",
            "json",
            "new.json",
            "state/notes.json",
        ],
    );
    assert_eq!(
        out.json(),
        json!([{"op": "replace", "path": "/generated_at", "value": "x"}])
    );
}

#[test]
fn drift_on_the_example_state() {
    let out = run(&["diff", "--drift", "examples/state"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout,
        "examples/state/packer-hybrid.json vs examples/templates/linux/ubuntu-server.manifest.json: 2 builders declared, no drift\n"
    );
    // The project's state dir is the default.
    assert_eq!(run(&["diff", "--drift"]).code, 0);
}

#[test]
fn drift_kinds_and_manifests_come_from_the_project_file() {
    let s = crate::state::examples();
    let toml = s.root.path().join("statewright.toml");
    // The rule names another folder: the manifest is found there.
    let text = std::fs::read_to_string(&toml).unwrap();
    let moved = text.replace(
        r#"manifest = "{stem}.manifest.json""#,
        r#"manifest = "tpl/{stem}.manifest.json""#,
    );
    assert_ne!(moved, text);
    std::fs::write(&toml, &moved).unwrap();
    let out = s.run(&["diff", "--drift"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stderr.contains("examples/tpl/templates/linux/"),
        "the rule's folder is where it looks: {}",
        out.stderr
    );
    // Without a rule, the command says how to declare one.
    let none: String = moved
        .lines()
        .filter(|l| !l.starts_with("drift = "))
        .collect::<Vec<_>>()
        .join("\n");
    std::fs::write(&toml, none).unwrap();
    let out = s.run(&["diff", "--drift"]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    let e = crate::util::flat(&out.stderr);
    assert!(e.contains("no kind declares `[kinds.<name>.drift]`"), "{e}");
    assert!(e.contains("or pass --kind K --manifest FILE"), "{e}");
}

#[test]
fn drift_reports_stale_and_missing_hashes() {
    let t = tempdir();
    copy_dir(&repo().join("examples/state"), &t.path().join("state"));
    let manifest = t.path().join("templates/linux/ubuntu-server.manifest.json");
    let mut m = read_json(&repo().join("examples/templates/linux/ubuntu-server.manifest.json"));
    m["builders"]["qemu.ubuntu"]["cache_hash"] =
        json!("sha256:1111111111111111111111111111111111111111111111111111111111111111");
    m["builders"]["vsphere.ubuntu"] = m["builders"]["qemu.ubuntu"].clone();
    write_json(&manifest, &m);
    let state = t.path().join("state");
    let out = run(&["diff", "--drift", state.to_str().unwrap()]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(out.stdout.contains("drift[stale_hash] "), "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "packer-hybrid.json:38:21: builder `qemu.ubuntu`: recorded cache_hash is stale"
        ),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("drift[missing_builder]"),
        "{}",
        out.stdout
    );
    assert!(
        out.stdout.contains("3 builders declared, 2 drift findings"),
        "{}",
        out.stdout
    );
    let json = run(&[
        "diff",
        "--drift",
        state.to_str().unwrap(),
        "--format",
        "json",
    ])
    .json();
    assert_eq!(json["summary"], json!({"documents": 1, "findings": 2}));
    let kinds: Vec<&Value> = json["drift"][0]["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["kind"])
        .collect();
    assert_eq!(kinds, [&json!("stale_hash"), &json!("missing_builder")]);

    // A broken manifest names the file, line and pointer.
    m["builders"]["qemu.ubuntu"]["cache_hash"] = json!("md5:abc");
    write_json(&manifest, &m);
    let out = run(&["diff", "--drift", state.to_str().unwrap()]);
    assert_eq!(out.code, 2);
    assert!(flat(&out.stderr).contains("ubuntu-server.manifest.json:9:21: template manifest is invalid at /builders/qemu.ubuntu/cache_hash"), "{}", out.stderr);
}

#[test]
fn bad_input_exits_2_and_says_where() {
    let t = tempdir();
    write(&t.path().join("bad.json"), "{\n  \"a\": 1,,\n}\n");
    write(&t.path().join("ok.json"), "{}\n");
    let out = run_in(t.path(), &["diff", "bad.json", "ok.json"]);
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr).contains("bad.json:2:10:"),
        "{}",
        out.stderr
    );
    write(&t.path().join("dup.yaml"), "a: 1\na: 2\n");
    let out = run_in(t.path(), &["diff", "ok.json", "dup.yaml"]);
    assert_eq!(out.code, 2);
    assert!(flat(&out.stderr).contains("dup.yaml:2:1"), "{}", out.stderr);
    let out = run_in(t.path(), &["diff", "missing.json", "ok.json"]);
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr).contains("missing.json: cannot read"),
        "{}",
        out.stderr
    );
    let out = run(&["diff", "--kind", "nope", "1", "2"]);
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr).contains("unknown kind `nope` help: known kinds: agentspec-state"),
        "{}",
        out.stderr
    );
    let out = run(&["diff", "--kind", "deploy-pins", "1", "7"]);
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr)
            .contains("kind `deploy-pins` has no schema version 7 help: its versions are: 1, 2, 3"),
        "{}",
        out.stderr
    );
    let out = run(&["diff", "only.json"]);
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr).contains("diff needs two inputs, got 1"),
        "{}",
        out.stderr
    );
    let out = run(&[
        "diff",
        "--kind",
        "deploy-pins",
        "1",
        "2",
        "--format",
        "json",
    ]);
    assert_eq!(out.code, 1);
    let err = run(&["diff", "--kind", "nope", "1", "2", "--format", "json"]).json();
    assert_eq!(err["error"]["message"], "unknown kind `nope`");
}

#[test]
fn migrate_new_drafts_a_parsable_file_and_never_overwrites() {
    let t = project_copy();
    add_deploy_pins_v4(t.path());
    let out = run_in(
        t.path(),
        &["migrate", "new", "deploy-pins", "--name", "owners"],
    );
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert_eq!(
        out.stdout,
        "drafted migrations/deploy-pins/0003_owners.yaml (deploy-pins v3 → v4): 1 op, 0 lossy ops, 0 rename suggestions, 0 move suggestions, 1 TODO\n\
         review it (description, defaults, lossy ops, suggested renames and moves), then run `statewright migrate hash`\n"
    );
    let path = t.path().join("migrations/deploy-pins/0003_owners.yaml");
    let text = std::fs::read_to_string(&path).expect("draft");
    let m =
        statewright::spec::migration::parse::read_migration(&t.path().join("migrations"), &path)
            .unwrap_or_else(|e| panic!("{e}\n{text}"));
    assert_eq!((m.file.from, m.file.to), (3, 4));
    assert!(
        text.contains("  - each:\n      path: \"/services\"\n      ops:\n"),
        "{text}"
    );
    assert!(
        text.contains("        - add: { path: \"/owner\", default: null }"),
        "{text}"
    );
    // The draft accounts for the change it was drafted from.
    let diff = run_in(
        t.path(),
        &[
            "diff",
            "--kind",
            "deploy-pins",
            "3",
            "4",
            "--fail-on",
            "uncovered",
        ],
    );
    assert_eq!(diff.code, 0, "{}", diff.stdout);

    // Again: v4 has its migration now; the file is left alone.
    let before = std::fs::read(&path).expect("read");
    let again = run_in(
        t.path(),
        &["migrate", "new", "deploy-pins", "--name", "owners"],
    );
    assert_eq!(again.code, 4);
    assert!(
        flat(&again.stderr).contains("v4 of `deploy-pins` already has its migration migrations/deploy-pins/0003_owners.yaml; not overwritten"),
        "{}",
        again.stderr
    );
    assert_eq!(std::fs::read(&path).expect("read"), before);
}

#[test]
fn migrate_new_suggests_renames_and_rejects_bad_input() {
    let t = project_copy();
    let mut v = read_json(&t.path().join("schemas/deploy-pins/v3.json"));
    v["properties"]["schema_version"]["const"] = json!(4);
    let props = v["$defs"]["service"]["properties"]
        .as_object_mut()
        .expect("props");
    let tier = props.remove("tier").expect("tier");
    props.insert("support_tier".into(), tier);
    let req = v["$defs"]["service"]["required"]
        .as_array_mut()
        .expect("required");
    for r in req.iter_mut() {
        if r == "tier" {
            *r = json!("support_tier");
        }
    }
    write_json(&t.path().join("schemas/deploy-pins/v4.json"), &v);
    let out = run_in(
        t.path(),
        &["migrate", "new", "deploy-pins", "--name", "Bad-Name"],
    );
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr).contains("--name `Bad-Name` is not a migration name"),
        "{}",
        out.stderr
    );
    let out = run_in(
        t.path(),
        &["migrate", "new", "deploy-pins", "--format", "json"],
    );
    assert_eq!(out.code, 0, "{}", out.stderr);
    assert_eq!(out.json()["file"], "migrations/deploy-pins/0003_to_v4.yaml");
    assert_eq!(out.json()["rename_suggestions"], 1);
    let text = std::fs::read_to_string(t.path().join("migrations/deploy-pins/0003_to_v4.yaml"))
        .expect("draft");
    assert!(
        text.contains("#   - rename: { path: \"/tier\", to: \"support_tier\" }"),
        "{text}"
    );
    assert!(text.contains("- remove: { path: \"/tier\" }"), "{text}");

    let out = run_in(t.path(), &["migrate", "new", "sources"]);
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr).contains("`sources` has only v1"),
        "{}",
        out.stderr
    );
    let out = run_in(t.path(), &["migrate", "new", "nope"]);
    assert_eq!(out.code, 2);
}

/// The line of a human schema diff that starts with `head`, and the three
/// lines after it (pointers and verdicts).
fn change_block<'a>(text: &'a str, head: &str) -> Vec<&'a str> {
    let lines: Vec<&str> = text.lines().collect();
    let at = lines
        .iter()
        .position(|l| l.starts_with(head))
        .unwrap_or_else(|| panic!("no line starting with {head:?} in\n{text}"));
    lines[at..(at + 4).min(lines.len())].to_vec()
}

#[test]
fn version_bump_of_catalog_versions_is_informational() {
    // deploy-pins 1 → 2 also changes the image's type: still breaking, but
    // the version const is not.
    let out = run(&["diff", "--kind", "deploy-pins", "1", "2"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    let block = change_block(
        &out.stdout,
        "info     SD121 version bump 1 → 2 at /schema_version, expected",
    );
    assert_eq!(
        block[3],
        "         not breaking: `statewright migrate` writes the new version into each document"
    );
    assert!(!out.stdout.contains("SD115"), "{}", out.stdout);
    assert!(
        out.stdout.contains(
            "19 changes: 3 breaking, 0 warnings, 16 info; compatibility: none; checked: backward\n"
        ),
        "{}",
        out.stdout
    );
    // The kind's own version pointer (mamfast-processed: /version), in the
    // two-file form and as JSON.
    let v = run(&[
        "diff",
        "schemas/mamfast-processed/v1.json",
        "schemas/mamfast-processed/v2.json",
        "--format",
        "json",
    ])
    .json();
    let bump = &v["changes"][0];
    assert_eq!(bump["rule"], "SD121", "{v:#}");
    assert_eq!(bump["severity"], "info");
    assert_eq!(bump["pointer_b"], "/properties/version/const");
    assert_eq!(bump["title"], "version bump");
    assert_eq!(bump["message"], "version bump 1 → 2 at /version, expected");
    // Not a change any migration has to cover.
    let steps = &v["migrations"][0]["changes"];
    assert!(
        steps
            .as_array()
            .expect("changes")
            .iter()
            .all(|c| c["rule"] != "SD121"),
        "{v:#}"
    );
}

/// A catalog with one kind `widget` and its versions 1 and 2 (`v2` made
/// from `v1` by `edit`), no migrations.
fn widget_catalog(edit: impl FnOnce(&mut Value)) -> tempfile::TempDir {
    let t = tempdir();
    write(
        &t.path().join("statewright.toml"),
        "[project]\nschemas = \"schemas\"\nmigrations = \"migrations\"\nstate = \"state\"\n\n\
         [kinds.widget]\ndescription = \"a widget\"\npath = \"widget.json\"\n",
    );
    std::fs::create_dir_all(t.path().join("migrations")).expect("mkdir");
    std::fs::create_dir_all(t.path().join("state")).expect("mkdir");
    let mut v1 = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://example.test/widget/v1.json",
        "type": "object",
        "properties": {
            "schema_version": {"type": "integer", "const": 1},
            "name": {"type": "string"}
        },
        "additionalProperties": {"type": "string"},
        "required": ["schema_version", "name"]
    });
    write_json(&t.path().join("schemas/widget/v1.json"), &v1);
    v1["$id"] = json!("https://example.test/widget/v2.json");
    v1["properties"]["schema_version"]["const"] = json!(2);
    edit(&mut v1);
    write_json(&t.path().join("schemas/widget/v2.json"), &v1);
    t
}

#[test]
fn version_bump_alone_passes_the_default_fail_on() {
    // v2: the version const and a new optional property, nothing else.
    let t = widget_catalog(|v| {
        v["properties"]["color"] = json!({"type": "string"});
    });
    for args in [
        &["diff", "--kind", "widget", "1", "2"][..],
        &["diff", "schemas/widget/v1.json", "schemas/widget/v2.json"][..],
    ] {
        let out = run_in(t.path(), args);
        assert_eq!(out.code, 0, "{args:?}: {}{}", out.stdout, out.stderr);
        let block = change_block(
            &out.stdout,
            "info     SD121 version bump 1 → 2 at /schema_version, expected",
        );
        assert!(block[1].contains("A /properties/schema_version/const  schemas/widget/v1.json:"));
        assert!(
            out.stdout
                .contains("3 changes: 0 breaking, 0 warnings, 3 info; compatibility: both"),
            "{}",
            out.stdout
        );
        assert!(
            out.stdout.contains(
                "no migration from v1 to v2, and none needed: no backward-incompatible change"
            ),
            "{}",
            out.stdout
        );
        assert!(!out.stdout.contains("not covered"), "{}", out.stdout);
    }
    // Informational: `--fail-on any` still fails on it.
    let any = run_in(
        t.path(),
        &["diff", "--kind", "widget", "1", "2", "--fail-on", "any"],
    );
    assert_eq!(any.code, 1);
    let gh = run_in(
        t.path(),
        &["diff", "--kind", "widget", "1", "2", "--format", "github"],
    );
    assert_eq!(gh.code, 0);
    assert!(
        gh.stdout.lines().any(
            |l| l.starts_with("::notice file=schemas/widget/v2.json,line=")
                && l.contains("title=SD121::version bump 1 → 2 at /schema_version, expected")
        ),
        "{}",
        gh.stdout
    );
}

#[test]
fn other_changes_at_the_version_field_stay_breaking() {
    // The version becomes a string: the type change is breaking.
    let t = widget_catalog(|v| {
        v["properties"]["schema_version"] = json!({"type": "string", "const": "2"});
    });
    let out = run_in(t.path(), &["diff", "--kind", "widget", "1", "2"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout.contains("breaking SD103 type integer → string"),
        "{}",
        out.stdout
    );
    // A const that is not the new version number is replaced values.
    let t = widget_catalog(|v| {
        v["properties"]["schema_version"]["const"] = json!(7);
    });
    let out = run_in(t.path(), &["diff", "--kind", "widget", "1", "2"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("breaking SD115 values added: [7]; removed: [1]"),
        "{}",
        out.stdout
    );
    // The version field removed.
    let t = widget_catalog(|v| {
        v["properties"]
            .as_object_mut()
            .expect("properties")
            .remove("schema_version");
    });
    let out = run_in(t.path(), &["diff", "--kind", "widget", "1", "2"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("breaking SD204 property `schema_version` removed"),
        "{}",
        out.stdout
    );
    assert!(!out.stdout.contains("SD121"), "{}", out.stdout);
    // Outside a catalog the same two schemas are a plain values change.
    let plain = widget_catalog(|_| {});
    let bare = tempdir();
    for v in ["v1.json", "v2.json"] {
        std::fs::copy(
            plain.path().join("schemas/widget").join(v),
            bare.path().join(v),
        )
        .expect("copy");
    }
    let out = run_in(bare.path(), &["diff", "v1.json", "v2.json"]);
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        out.stdout
            .contains("breaking SD115 values added: [2]; removed: [1]"),
        "{}",
        out.stdout
    );
}

#[test]
fn drift_reads_through_the_store_and_refuses_a_corrupt_document() {
    let t = tempdir();
    let state = t.path().join("state");
    copy_dir(&repo().join("examples/state"), &state);
    let dir = state.to_str().expect("utf-8");
    // Stamp the document through the store (its content unchanged).
    let set = run(&[
        "set",
        "--state",
        dir,
        "packer-hybrid.json",
        "/template_id",
        "linux/ubuntu-server",
    ]);
    assert_eq!(set.code, 0, "{}", set.stderr);
    let manifest = repo().join("examples/templates/linux/ubuntu-server.manifest.json");
    let manifest = manifest.to_str().expect("utf-8");
    let ok = run(&["diff", "--drift", dir, "--manifest", manifest]);
    assert_eq!(ok.code, 0, "{}{}", ok.stdout, ok.stderr);
    assert!(
        ok.stdout.ends_with("2 builders declared, no drift\n"),
        "{}",
        ok.stdout
    );

    // One byte changed inside a value: still JSON, still schema-valid.
    let file = state.join("packer-hybrid.json");
    let mut bytes = std::fs::read(&file).expect("read");
    let text = String::from_utf8(bytes.clone()).expect("utf-8");
    let at = text.find("ubuntu-22.04").expect("variant id") + "ubuntu-2".len();
    assert_eq!(bytes[at], b'2');
    bytes[at] = b'3';
    std::fs::write(&file, &bytes).expect("write");
    let before = std::fs::read(&file).expect("read");

    let out = run(&["diff", "--drift", dir, "--manifest", manifest]);
    assert_eq!(out.code, 2, "{}{}", out.stdout, out.stderr);
    assert_eq!(out.stdout, "", "no drift results for a corrupt document");
    let err = flat(&out.stderr);
    assert!(
        err.contains(
            "packer-hybrid.json:46:15: checksum check failed at `/checksum`: recorded sha256:"
        ),
        "{}",
        out.stderr
    );
    assert!(
        err.contains("but the content hashes to sha256:"),
        "{}",
        out.stderr
    );
    assert!(
        err.contains("`diff --drift` only reads and never restores a backup: run `statewright check --repair`"),
        "{}",
        out.stderr
    );
    // Reading changed nothing on disk.
    assert_eq!(std::fs::read(&file).expect("read"), before);
    let json = run(&[
        "diff",
        "--drift",
        dir,
        "--format",
        "json",
        "--manifest",
        manifest,
    ]);
    assert_eq!(json.code, 2, "{}", json.stdout);
}
