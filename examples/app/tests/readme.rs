//! The README's "From Rust" snippets are this crate's build.rs and
//! src/main.rs, word for word; and the program they make runs.

use std::path::Path;
use std::process::Command;

fn app() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_readme_shows_this_crate_word_for_word() {
    let readme = std::fs::read_to_string(app().join("../../README.md")).unwrap();
    for file in ["build.rs", "src/main.rs", "Cargo.toml"] {
        let text = std::fs::read_to_string(app().join(file)).unwrap();
        assert!(
            readme.contains(&text),
            "README.md no longer shows examples/app/{file} as it is; copy it into the README's \"From Rust\" section"
        );
    }
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let p = e.path();
        match p.is_dir() {
            true => copy_dir(&p, &to.join(e.file_name())),
            false => {
                std::fs::copy(&p, to.join(e.file_name())).unwrap();
            }
        }
    }
}

#[test]
fn the_program_upgrades_and_writes_through_the_store() {
    let t = tempfile::tempdir().unwrap();
    for part in ["schemas", "migrations", "state"] {
        copy_dir(&app().join(part), &t.path().join(part));
    }
    std::fs::copy(
        app().join("statewright.toml"),
        t.path().join("statewright.toml"),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_statewright-example-app"))
        .arg(t.path().join("statewright.toml"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains("1 services\npins.json written as serial 1"),
        "{stdout}"
    );
    let doc: serde_json::Value =
        serde_json::from_slice(&std::fs::read(t.path().join("state/pins.json")).unwrap()).unwrap();
    assert_eq!(doc["schema_version"], 2);
    assert_eq!(doc["replicas"], 3);
    assert_eq!(doc["services"]["api"], "registry.example/api:1.4.2");
    assert_eq!(doc["origin"]["command"], "example-app");
}
