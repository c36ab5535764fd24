//! `statewright validate` on the shipped example and on broken input: every
//! error path says file:line:col, the pointer, and the fix.

use crate::util::{example_project as project, flat, run, run_in, tempdir};
use statewright::spec::document::Portable;

#[test]
fn shipped_example_is_valid() {
    let out = run(&["validate"]);
    assert_eq!(out.code, 0, "{}{}", out.stdout, out.stderr);
    assert!(
        flat(&out.stdout).contains("10 documents checked: 10 valid, 0 invalid"),
        "{}",
        out.stdout
    );
    // processed.json is at mamfast v1: an informational finding, not a failure.
    assert!(
        flat(&out.stdout)
            .contains("[SW015] document is at v1; the latest `mamfast-processed` schema is v2"),
        "{}",
        out.stdout
    );
}

fn edit(dir: &std::path::Path, rel: &str, from: &str, to: &str) {
    let p = dir.join(rel);
    let s = std::fs::read_to_string(&p).unwrap();
    assert!(s.contains(from), "{from} not in {rel}");
    std::fs::write(&p, s.replacen(from, to, 1)).unwrap();
}

#[test]
fn schema_violation_names_place_pointer_schema_and_keyword() {
    let t = project();
    edit(
        t.path(),
        "state/config/dev.json",
        "\"env\": \"dev\"",
        "\"env\": 5",
    );
    let out = run_in(t.path(), &["validate", "state/config/dev.json"]);
    assert_eq!(out.code, 1);
    assert!(
        flat(&out.stdout).contains("[SW010] 5 is not of type \"string\""),
        "{}",
        out.stdout
    );
    assert!(
        flat(&out.stdout).contains("state/config/dev.json:"),
        "{}",
        out.stdout
    );
    assert!(
        flat(&out.stdout)
            .contains("at /env schema schemas/env-config/v1.json#/properties/env/type"),
        "{}",
        out.stdout
    );
    let json = run_in(
        t.path(),
        &["validate", "--format", "json", "state/config/dev.json"],
    )
    .json();
    let f = &json["documents"][0]["findings"][0];
    assert_eq!(f["code"], "SW010");
    assert_eq!(f["pointer"], "/env");
    assert_eq!(f["keyword"], "type");
    assert_eq!(f["schema_location"], "/properties/env/type");
    assert!(f["position"]["line"].as_u64().unwrap() > 1);
    assert_eq!(json["summary"]["invalid"], 1);
    let gh = run_in(
        t.path(),
        &["validate", "--format", "github", "state/config/dev.json"],
    );
    assert!(
        gh.stdout
            .starts_with("::error file=state/config/dev.json,line="),
        "{}",
        gh.stdout
    );
    assert!(
        gh.stdout
            .contains(",title=SW010::5 is not of type \"string\" (at /env)."),
        "{}",
        gh.stdout
    );
}

#[test]
fn yaml_document_errors_have_line_and_column() {
    let t = project();
    edit(
        t.path(),
        "state/.checklist/state.yaml",
        "schemaVersion: 1",
        "schemaVersion: 1\nschemaVersion: 1",
    );
    let out = run_in(
        t.path(),
        &[
            "validate",
            "--format",
            "json",
            "state/.checklist/state.yaml",
        ],
    )
    .json();
    let f = &out["documents"][0]["findings"][0];
    assert_eq!(f["code"], "SW001");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .to_lowercase()
            .contains("duplicate"),
        "{f}"
    );
    assert!(f["position"]["line"].as_u64().unwrap() >= 2, "{f}");
}

#[test]
fn strict_parsing_errors() {
    let t = project();
    let dev = t.path().join("state/config/dev.json");
    // Duplicate key.
    edit(
        t.path(),
        "state/config/dev.json",
        "\"env\": \"dev\"",
        "\"env\": \"dev\", \"env\": \"prod\"",
    );
    let out = run_in(t.path(), &["validate", "state/config/dev.json"]);
    assert_eq!(out.code, 1);
    assert!(
        flat(&out.stdout)
            .contains("[SW001] duplicate key `env`: each key may appear once in an object"),
        "{}",
        out.stdout
    );
    // Invalid UTF-8.
    let mut bytes = std::fs::read(&dev).unwrap();
    bytes.splice(5..5, [0xff, 0xfe]);
    std::fs::write(&dev, &bytes).unwrap();
    let out = run_in(
        t.path(),
        &["validate", "--format", "json", "state/config/dev.json"],
    )
    .json();
    assert_eq!(out["documents"][0]["findings"][0]["code"], "SW002");
    assert!(
        out["documents"][0]["findings"][0]["message"]
            .as_str()
            .unwrap()
            .contains("invalid UTF-8 (byte offset 5)")
    );
    // Too deep.
    std::fs::write(&dev, format!("{}1{}", "[".repeat(80), "]".repeat(80))).unwrap();
    let out = run_in(t.path(), &["validate", "state/config/dev.json"]);
    assert!(
        flat(&out.stdout).contains("nesting deeper than 64 levels"),
        "{}",
        out.stdout
    );
    let out = run_in(
        t.path(),
        &[
            "validate",
            "--max-depth",
            "100",
            "--format",
            "json",
            "state/config/dev.json",
        ],
    )
    .json();
    assert_ne!(out["documents"][0]["findings"][0]["code"], "SW001");
    // Truncated.
    std::fs::write(&dev, "{\n  \"schema_version\": 1,\n  \"env\": \"d").unwrap();
    let out = run_in(t.path(), &["validate", "state/config/dev.json"]);
    assert_eq!(out.code, 1);
    assert!(
        flat(&out.stdout).contains("[SW001] EOF while parsing a string"),
        "{}",
        out.stdout
    );
    assert!(
        flat(&out.stdout).contains("state/config/dev.json:3:"),
        "{}",
        out.stdout
    );
    // Empty.
    std::fs::write(&dev, "").unwrap();
    let out = run_in(t.path(), &["validate", "state/config/dev.json"]);
    assert!(
        flat(&out.stdout).contains("[SW003]") && flat(&out.stdout).contains("document is empty"),
        "{}",
        out.stdout
    );
}

#[test]
fn versions_newer_missing_and_provenance() {
    let t = project();
    edit(
        t.path(),
        "state/sources.json",
        "\"schema_version\": 1",
        "\"schema_version\": 7",
    );
    let out = run_in(t.path(), &["validate", "state/sources.json"]);
    assert_eq!(out.code, 1);
    assert!(
        flat(&out.stdout).contains("[SW013] document is at version 7 of kind `sources`, but the newest schema known is v1; refusing to read it"),
        "{}",
        out.stdout
    );
    assert!(
        flat(&out.stdout).contains("upgrade statewright or the catalog"),
        "{}",
        out.stdout
    );
    edit(
        t.path(),
        "state/sources.json",
        "\"schema_version\": 7",
        "\"schema_version\": \"x\"",
    );
    let out = run_in(t.path(), &["validate", "state/sources.json"]);
    assert!(
        flat(&out.stdout)
            .contains("[SW012] schema version at `/schema_version` is \"x\", not a version number"),
        "{}",
        out.stdout
    );
    let p = t.path().join("state/config/prod.json");
    let mut v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&p).unwrap()).unwrap();
    v.as_object_mut().unwrap().remove("provenance");
    std::fs::write(&p, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    let out = run_in(t.path(), &["validate", "state/config/prod.json"]);
    assert_eq!(out.code, 1);
    assert!(
        flat(&out.stdout).contains(
            "[SW016] kind `env-config` requires provenance at `/provenance`; none recorded"
        ),
        "{}",
        out.stdout
    );
}

#[test]
fn usage_and_environment_errors_exit_2() {
    let t = project();
    let out = run_in(t.path(), &["validate", "nowhere.json"]);
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr).contains("nowhere.json: no such file or folder"),
        "{}",
        out.stderr
    );
    std::fs::write(t.path().join("stray.json"), "{}").unwrap();
    let out = run_in(t.path(), &["validate", "stray.json"]);
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr).contains(
            "stray.json matches no kind in the catalog; pass --kind NAME or --schema FILE"
        ),
        "{}",
        out.stderr
    );
    let out = run_in(t.path(), &["validate", "--kind", "nope", "stray.json"]);
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr)
            .contains("unknown kind `nope`; the catalog has: agentspec-state, artifact-index"),
        "{}",
        out.stderr
    );
    let out = run_in(
        t.path(),
        &[
            "validate",
            "--format",
            "json",
            "--kind",
            "nope",
            "stray.json",
        ],
    );
    assert!(
        out.json()["error"]["message"]
            .as_str()
            .unwrap()
            .contains("unknown kind `nope`")
    );
    // An unresolvable $ref names the URL and the mapping that would serve it.
    std::fs::write(
        t.path().join("s.json"),
        r#"{"$ref": "https://nowhere.example/x.json"}"#,
    )
    .unwrap();
    let out = run_in(t.path(), &["validate", "--schema", "s.json", "stray.json"]);
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr).contains("is not available offline"),
        "{}",
        out.stderr
    );
    assert!(
        flat(&out.stderr).contains("--schema-dir PREFIX=DIR"),
        "{}",
        out.stderr
    );
    // A malformed mapping is a usage error from the argument parser.
    let out = run_in(
        t.path(),
        &[
            "validate",
            "--schema-dir",
            "nomapping",
            "--schema",
            "s.json",
            "stray.json",
        ],
    );
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr).contains("is not PREFIX=DIR"),
        "{}",
        out.stderr
    );
    // A broken project file names line and fix.
    std::fs::write(
        t.path().join("statewright.toml"),
        "[project]\nstate = \"state\"\n[kinds.a]\npaht = \"x\"\n",
    )
    .unwrap();
    let out = run_in(t.path(), &["validate"]);
    assert_eq!(out.code, 2);
    assert!(
        flat(&out.stderr).contains("statewright.toml:4:1: unknown field `paht`"),
        "{}",
        out.stderr
    );
    assert!(
        flat(&out.stderr).contains("known tables are [project], [kinds.<name>] and [diff]"),
        "{}",
        out.stderr
    );
}

#[test]
fn toml_and_yaml_inputs_with_a_schema() {
    let t = tempdir();
    std::fs::write(
        t.path().join("s.json"),
        r#"{"type":"object","properties":{"n":{"type":"integer"}},"required":["n"]}"#,
    )
    .unwrap();
    std::fs::write(t.path().join("a.toml"), "n = 1\n").unwrap();
    std::fs::write(t.path().join("b.yaml"), "n: one\n").unwrap();
    let out = run_in(
        t.path(),
        &["validate", "--schema", "s.json", "a.toml", "b.yaml"],
    );
    assert_eq!(out.code, 1, "{}{}", out.stdout, out.stderr);
    assert!(
        flat(&out.stdout).contains("[SW010] \"one\" is not of type \"integer\""),
        "{}",
        out.stdout
    );
    assert!(flat(&out.stdout).contains("b.yaml:1:4"), "{}", out.stdout);
    assert!(
        flat(&out.stdout).contains("2 documents checked: 1 valid, 1 invalid"),
        "{}",
        out.stdout
    );
}

/// `--format json` is a contract: its exact shape is snapshot-tested.
#[test]
fn json_output_contract() {
    let t = project();
    edit(
        t.path(),
        "state/config/dev.json",
        "\"env\": \"dev\"",
        "\"env\": 5",
    );
    edit(
        t.path(),
        "state/sources.json",
        "\"schema_version\": 1",
        "\"schema_version\": 9",
    );
    let out = run_in(
        t.path(),
        &[
            "validate",
            "--format",
            "json",
            "state/config/dev.json",
            "state/sources.json",
            "state/processed.json",
        ],
    );
    assert_eq!(out.code, 1);
    insta::with_settings!({snapshot_path => "../../snapshots/cli", prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!("validate_json_contract", Portable(&out.json()));
    });
}

/// A member the schema does not allow is pointed at, in JSON and YAML,
/// with a remedy that says to remove or rename it; a duplicate YAML key
/// is said as a duplicate JSON key is.
#[test]
fn an_unexpected_member_is_pointed_at_and_a_duplicate_yaml_key_is_named() {
    let t = tempdir();
    let d = t.path();
    let write = |name: &str, text: &str| std::fs::write(d.join(name), text).unwrap();
    write(
        "s.json",
        r#"{"type": "object", "additionalProperties": false, "properties": {"a": {"type": "integer"}}}"#,
    );
    write("e.json", "{\"a\": 1,\n \"extra\": 2}\n");
    write("e.yaml", "a: 1\nextra: 2\n");
    write("dup.yaml", "a: 1\na: 2\n");
    for (file, line, col) in [("e.json", 2, 11), ("e.yaml", 2, 8)] {
        let r = run_in(
            d,
            &["--format", "json", "validate", "--schema", "s.json", file],
        );
        assert_eq!(r.code, 1, "{r:?}");
        let f = &r.json()["documents"][0]["findings"][0];
        assert_eq!(f["pointer"], "/extra", "{f}");
        let at = &f["position"];
        assert_eq!(
            (at["line"].clone(), at["column"].clone()),
            (line.into(), col.into()),
            "{f}"
        );
        assert!(
            f["remedy"]
                .as_str()
                .unwrap()
                .starts_with("remove `extra` (and any other member named)"),
            "{f}"
        );
    }
    let r = run_in(d, &["validate", "--schema", "s.json", "dup.yaml"]);
    assert_eq!(r.code, 1, "{r:?}");
    let out = flat(&r.stdout);
    assert!(
        out.contains(
            "duplicate key `a`: each key may appear once in a mapping; remove or rename one"
        ),
        "{out}"
    );
    assert!(!out.contains("DuplicateKeyPolicy"), "{out}");
}
