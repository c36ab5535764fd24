//! `statewright init`: a new project from nothing, in which the everyday
//! commands run at once, and the refusal to overwrite.

use std::path::Path;

use crate::migrate::snapshot;
use crate::util::{flat, run_in, tempdir};

const WRITTEN: [&str; 4] = [
    "statewright.toml",
    "statewright.schema.json",
    "migrations/statewright.sum",
    "migrations/migration.schema.json",
];

#[test]
fn init_creates_a_project_in_which_every_command_runs() {
    let t = tempdir();
    let r = run_in(t.path(), &["init", "app"]);
    assert_eq!(r.code, 0, "{r:?}");
    let root = t.path().join("app");
    for f in WRITTEN {
        assert!(root.join(f).is_file(), "{f} missing");
    }
    for d in ["schemas", "migrations", "state"] {
        assert!(root.join(d).is_dir(), "{d}/ missing");
    }
    assert!(
        r.stdout.contains("created a statewright project in app:"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("statewright validate"), "{}", r.stdout);
    assert!(
        r.stdout.contains("statewright migrate new service-pins"),
        "{}",
        r.stdout
    );
    let toml = std::fs::read_to_string(root.join("statewright.toml")).unwrap();
    assert!(
        toml.starts_with("#:schema ./statewright.schema.json\n"),
        "{toml}"
    );
    assert!(toml.contains("state = \"state\""), "{toml}");
    let sum = std::fs::read_to_string(root.join("migrations/statewright.sum")).unwrap();
    assert!(sum.contains("\ntotal sha256:"), "{sum}");
    for args in [
        &["validate"][..],
        &["check"],
        &["migrate", "verify"],
        &["migrate", "status"],
        &["graph"],
        &["list"],
    ] {
        let r = run_in(&root, args);
        assert_eq!(r.code, 0, "{args:?} in a new project: {r:?}");
    }
}

#[test]
fn a_kind_added_as_the_comments_say_validates() {
    let t = tempdir();
    assert_eq!(run_in(t.path(), &["init", "--state", "var/state"]).code, 0);
    let root = t.path();
    let toml = std::fs::read_to_string(root.join("statewright.toml")).unwrap();
    let toml = toml
        .replace("# [kinds.service-pins]\n", "[kinds.service-pins]\n")
        .replace("# path = \"pins/*.json\"", "path = \"pins/*.json\"");
    std::fs::write(root.join("statewright.toml"), toml).unwrap();
    std::fs::create_dir_all(root.join("schemas/service-pins")).unwrap();
    std::fs::write(
        root.join("schemas/service-pins/v1.json"),
        r#"{"type": "object", "properties": {"schema_version": {"const": 1}, "image": {"type": "string"}}, "required": ["image"]}"#,
    )
    .unwrap();
    std::fs::create_dir_all(root.join("var/state/pins")).unwrap();
    std::fs::write(
        root.join("var/state/pins/api.json"),
        r#"{"schema_version": 1, "image": 5}"#,
    )
    .unwrap();
    let r = run_in(root, &["validate"]);
    assert_eq!(r.code, 1, "{r:?}");
    let out = flat(&format!("{}{}", r.stdout, r.stderr));
    assert!(
        out.contains("pins/api.json") && out.contains("SW010"),
        "{out}"
    );
}

#[test]
fn init_refuses_to_overwrite_and_writes_nothing() {
    let t = tempdir();
    let root = t.path();
    std::fs::write(root.join("statewright.toml"), "# mine\n").unwrap();
    std::fs::create_dir_all(root.join("migrations")).unwrap();
    std::fs::write(root.join("migrations/statewright.sum"), "mine\n").unwrap();
    let before = snapshot(root);
    let r = run_in(root, &["init"]);
    assert_eq!(r.code, 4, "{r:?}");
    let err = flat(&r.stderr);
    assert!(
        err.contains(
            "already has statewright.toml, migrations/statewright.sum; nothing was written"
        ),
        "{err}"
    );
    assert!(err.contains("run init in a new or empty folder"), "{err}");
    assert_eq!(
        snapshot(root),
        before,
        "init changed files it refused to write"
    );
    assert!(!root.join("state").exists());
}

#[test]
fn init_refuses_a_state_dir_outside_the_project() {
    let t = tempdir();
    let r = run_in(t.path(), &["init", "--state", "../elsewhere"]);
    assert_eq!(r.code, 2, "{r:?}");
    assert!(
        flat(&r.stderr).contains("--state `../elsewhere` must be a relative path"),
        "{}",
        r.stderr
    );
    assert!(std::fs::read_dir(t.path()).unwrap().next().is_none());
}

#[test]
fn init_reports_json() {
    let t = tempdir();
    let r = run_in(t.path(), &["init", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    let files: Vec<&str> = v["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.as_str().unwrap())
        .collect();
    assert_eq!(files, WRITTEN);
    assert!(
        v["next_steps"]
            .as_str()
            .unwrap()
            .contains("statewright check")
    );
    assert!(Path::new(v["root"].as_str().unwrap()) == Path::new("."));
}

/// A folder of a tool's state files nobody wrote schemas for: two configs,
/// per-run YAML states, a top-level JSON file whose `serial` member means
/// something else, and a file that is not a document.
fn unadopted_folder(root: &Path) -> std::path::PathBuf {
    let dir = root.join("var/lib/tool");
    let write = |rel: &str, text: &str| {
        let p = dir.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "config/dev.json",
        r#"{"env": "dev", "replicas": 1, "owner": "ops@example.com", "updated": "2026-11-01T10:00:00Z", "tags": ["a"]}"#,
    );
    write(
        "config/prod.json",
        r#"{"env": "prod", "replicas": 3, "owner": "ops@example.com", "updated": "2026-11-02T10:00:00Z", "tags": [], "note": null}"#,
    );
    for (run, status) in [
        ("r1", "done"),
        ("r2", "failed"),
        ("r3", "done"),
        ("r4", "done"),
    ] {
        write(
            &format!("runs/{run}/state.yaml"),
            &format!("# run {run}\nstatus: {status}\nsteps:\n  - name: build\n    seconds: 12.5\n"),
        );
    }
    write(
        "inventory.json",
        r#"{"serial": "SN-0042", "hosts": {"10.0.0.1": {"up": true}, "10.0.0.2": {"up": false}}}"#,
    );
    write("README.txt", "notes\n");
    dir
}

#[test]
fn init_adopt_infers_kinds_and_schemas_and_every_command_then_passes() {
    let t = tempdir();
    let root = t.path();
    let dir = unadopted_folder(root);
    let before: Vec<(std::path::PathBuf, Vec<u8>)> =
        ["config/dev.json", "runs/r1/state.yaml", "inventory.json"]
            .iter()
            .map(|r| (dir.join(r), std::fs::read(dir.join(r)).unwrap()))
            .collect();
    let r = run_in(
        root,
        &["init", "--adopt", "var/lib/tool", "--format", "json"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let report = r.json();
    let kinds: Vec<(String, String, usize)> = report["kinds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|k| {
            (
                k["name"].as_str().unwrap().to_owned(),
                k["path"].as_str().unwrap().to_owned(),
                k["documents"].as_array().unwrap().len(),
            )
        })
        .collect();
    assert_eq!(
        kinds,
        [
            ("config".to_owned(), "config/*.json".to_owned(), 2),
            ("inventory".to_owned(), "inventory.json".to_owned(), 1),
            ("state".to_owned(), "runs/*/state.yaml".to_owned(), 4),
        ]
    );
    assert_eq!(report["skipped"][0]["file"], "README.txt");
    let inv = &report["kinds"][1];
    assert_eq!(
        inv["moved_fields"][0],
        serde_json::json!(["serial", "/statewright_serial"])
    );

    // The inferred schemas: required members, enums, formats, maps.
    let read = |rel: &str| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(root.join(rel)).unwrap()).unwrap()
    };
    let config = read("schemas/config/v1.json");
    assert_eq!(
        config["required"],
        serde_json::json!(["env", "replicas", "owner", "updated", "tags"])
    );
    assert_eq!(config["properties"]["updated"]["format"], "date-time");
    assert_eq!(config["properties"]["replicas"]["type"], "integer");
    let state = read("schemas/state/v1.json");
    assert_eq!(
        state["properties"]["status"]["enum"],
        serde_json::json!(["done", "failed"])
    );
    assert_eq!(
        state["properties"]["steps"]["items"]["properties"]["seconds"]["type"],
        "number"
    );
    let inventory = read("schemas/inventory/v1.json");
    assert!(
        inventory["properties"]["hosts"]["additionalProperties"].is_object(),
        "{inventory}"
    );
    assert!(
        root.join("schemas/state/examples/v1")
            .read_dir()
            .unwrap()
            .count()
            == 3
    );

    // The documents are untouched, and the everyday commands pass on them.
    for (p, bytes) in &before {
        assert_eq!(&std::fs::read(p).unwrap(), bytes, "{} changed", p.display());
    }
    for args in [
        &["validate"][..],
        &["check"],
        &["migrate", "verify"],
        &["list"],
    ] {
        let r = run_in(root, args);
        assert_eq!(r.code, 0, "{args:?} after adopting: {r:?}");
    }
    // The first write stamps the envelope, keeping the document's own
    // `serial` member.
    let r = run_in(
        root,
        &["set", "inventory.json", "/hosts/10.0.0.2/up", "true"],
    );
    assert_eq!(r.code, 0, "{r:?}");
    let inv = read("var/lib/tool/inventory.json");
    assert_eq!(inv["serial"], "SN-0042");
    assert_eq!(inv["schema_version"], 1);
    assert_eq!(inv["statewright_serial"], 1);
    assert_eq!(inv["hosts"]["10.0.0.2"]["up"], true);
    assert_eq!(run_in(root, &["check"]).code, 0);
}

#[test]
fn init_adopt_refuses_to_overwrite_and_says_when_there_is_nothing_to_adopt() {
    let t = tempdir();
    let root = t.path();
    unadopted_folder(root);
    std::fs::create_dir_all(root.join("schemas/config")).unwrap();
    std::fs::write(root.join("schemas/config/v1.json"), "{}").unwrap();
    let r = run_in(root, &["init", "--adopt", "var/lib/tool"]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        flat(&r.stderr).contains("schemas/config/v1.json"),
        "{}",
        r.stderr
    );
    assert!(!root.join("statewright.toml").exists());

    std::fs::create_dir_all(root.join("empty")).unwrap();
    std::fs::write(root.join("empty/notes.txt"), "x").unwrap();
    let r = run_in(root, &["init", "--adopt", "empty"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert!(
        flat(&r.stderr).contains("holds no document to adopt (1 file(s) skipped)"),
        "{}",
        r.stderr
    );
}
