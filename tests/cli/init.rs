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
