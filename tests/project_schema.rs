//! The checked-in JSON Schema of `statewright.toml` must match the Rust
//! types that read it; `STATEWRIGHT_BLESS=1 cargo test --test
//! project_schema` rewrites it.

use std::path::Path;

use statewright::spec::project::{self, PROJECT_FILE};

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn project_schema_is_current() {
    let path = repo().join(project::SCHEMA_FILE);
    let expected = project::json_schema();
    if std::env::var_os("STATEWRIGHT_BLESS").is_some() {
        std::fs::write(&path, &expected).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is stale; run `STATEWRIGHT_BLESS=1 cargo test --test project_schema` and commit it",
        path.display()
    );
}

fn validator() -> jsonschema::Validator {
    let schema: serde_json::Value = serde_json::from_str(&project::json_schema()).unwrap();
    jsonschema::validator_for(&schema).unwrap()
}

fn errors(toml_text: &str) -> Vec<String> {
    let value: serde_json::Value = toml::from_str(toml_text).unwrap();
    validator()
        .iter_errors(&value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

#[test]
fn the_shipped_project_file_names_and_passes_its_schema() {
    let text = std::fs::read_to_string(repo().join(PROJECT_FILE)).unwrap();
    assert_eq!(
        text.lines().next(),
        Some("#:schema ./statewright.schema.json"),
        "taplo reads the schema from the first line"
    );
    assert_eq!(errors(&text), Vec::<String>::new());
}

#[test]
fn the_schema_rejects_what_the_reader_rejects() {
    let typo = "[kinds.a]\npaht = \"x.json\"\n";
    assert!(!errors(typo).is_empty(), "unknown key accepted");
    let bad_name = "[kinds.Bad]\npath = \"x.json\"\n";
    assert!(!errors(bad_name).is_empty(), "bad kind name accepted");
    let bad_format = "[kinds.a]\npath = \"x\"\nformat = \"xml\"\n";
    assert!(!errors(bad_format).is_empty(), "unknown format accepted");
    let ok = "[project]\nstate = \"s\"\nbackups = 5\n[kinds.a]\npath = \"x/*.yaml\"\n[kinds.a.fields]\nversion = \"/v\"\n";
    assert_eq!(errors(ok), Vec::<String>::new());
}
