//! Generated models keep every byte a schema allows: members the schema
//! admits without naming them, `null` next to absent, map order, schema
//! field order, `[]` and `{}` that were written, numbers as written, and no
//! schema `default` that was not in the document. A model is generated
//! from a schema with all of these, compiled in a scratch crate with a
//! program that does a typed load → modify → save, and the saved bytes are
//! compared with the input's.

use std::path::{Path, PathBuf};
use std::process::Command;

use statewright_codegen::{Generator, Settings};
use statewright_spec::OfflineRegistry;

const SCHEMA: &str = r#"{
  "$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object",
  "properties": {
    "name": {"type": "string"},
    "owner": {"type": ["string", "null"]},
    "replicas": {"type": "integer", "default": 1},
    "ratio": {"type": "number"},
    "tags": {"type": "array", "items": {"type": "string"}},
    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
    "services": {
      "type": "object",
      "additionalProperties": {
        "type": "object",
        "properties": {"port": {"type": "integer"}},
        "required": ["port"]
      }
    },
    "mode": {"anyOf": [{"type": "string"}, {"type": "object", "properties": {"kind": {"type": "string"}}}]}
  },
  "required": ["name"]
}"#;

/// Members in schema order, then the ones the schema does not name.
const DOCUMENT: &str = r#"{"name":"web","owner":null,"ratio":2,"tags":[],"labels":{},"services":{"zeta":{"port":80},"alpha":{"port":81,"note":"kept"}},"mode":"fast","$schema":"https://example.com/s.json","zz-extra":{"b":1,"a":[null]}}"#;

const PROGRAM: &str = r#"
use std::io::Read;
fn main() {
    let mut input = String::new();
    std::io::stdin().read_to_string(&mut input).unwrap();
    let mut doc: model::Thing = serde_json::from_str(&input).unwrap();
    doc.name = "api".into();
    print!("{}", serde_json::to_string(&doc).unwrap());
}
"#;

fn scratch() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("faithful")
}

/// Writes the scratch crate (the model as `src/model.rs`) and runs it on
/// `input`: its standard output.
fn run_model(code: &str, input: &str) -> String {
    let root = scratch();
    std::fs::create_dir_all(root.join("src")).unwrap();
    std::fs::write(
        root.join("Cargo.toml"),
        "[package]\nname = \"faithful\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
         [dependencies]\nserde = { version = \"1\", features = [\"derive\"] }\n\
         serde_json = { version = \"1\", features = [\"preserve_order\"] }\n\
         indexmap = { version = \"2\", features = [\"serde\"] }\n\n[workspace]\n",
    )
    .unwrap();
    if !root.join("Cargo.lock").exists() {
        let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
        std::fs::copy(lock, root.join("Cargo.lock")).unwrap();
    }
    std::fs::write(
        root.join("src/model.rs"),
        format!("#![allow(warnings, clippy::all)]\n{code}"),
    )
    .unwrap();
    std::fs::write(root.join("src/main.rs"), format!("mod model;\n{PROGRAM}")).unwrap();
    let mut child = Command::new(env!("CARGO"))
        .args(["run", "--offline", "--quiet", "-j", "1"])
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", scratch_target())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "the scratch crate failed:\n{}\n{code}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// The target dir every scratch crate of these tests shares.
fn scratch_target() -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join("scratch-target")
}

fn generate(schema: &str) -> String {
    let path = scratch().join("thing.json");
    std::fs::create_dir_all(scratch()).unwrap();
    std::fs::write(&path, schema).unwrap();
    let schema = serde_json::from_str(schema).unwrap();
    let settings = Settings {
        value_fallback: true,
        ..Settings::default()
    };
    let generated = Generator::new(OfflineRegistry::new(), settings)
        .generate(&path, &schema, "Thing")
        .unwrap();
    assert!(generated.fallbacks.is_empty(), "{:?}", generated.fallbacks);
    prettyplease::unparse(&syn::parse_file(&generated.code).unwrap())
}

#[test]
fn typed_load_modify_save_keeps_extra_members_nulls_and_order() {
    let code = generate(SCHEMA);
    let saved = run_model(&code, DOCUMENT);
    assert_eq!(
        saved,
        DOCUMENT.replace(r#""name":"web""#, r#""name":"api""#)
    );
}
