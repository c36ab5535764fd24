//! Schemas on which typify recurses without end or takes minutes: the
//! generator still returns, within its time, with the node it could not
//! type as `serde_json::Value` and a located fallback.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use statewright_codegen::{Generator, Settings};
use statewright_spec::OfflineRegistry;

/// A schema that refers to itself through `allOf` inside `anyOf`: typify
/// merges the `allOf` by resolving the reference, again and again, until
/// the stack overflows.
const SELF_MERGING: &str = r##"{
  "$schema": "http://json-schema.org/draft-07/schema#",
  "definitions": {
    "rule": {
      "type": "object",
      "properties": {
        "name": {"type": "string"},
        "rules": {"type": "array", "items": {"$ref": "#/definitions/rule"}}
      },
      "anyOf": [
        {"type": "object", "properties": {"match": {"type": "string"}}},
        {"allOf": [{"$ref": "#/definitions/rule"}, {"required": ["name"]}]}
      ]
    }
  },
  "type": "object",
  "properties": {"rules": {"type": "array", "items": {"$ref": "#/definitions/rule"}}}
}"##;

fn write(name: &str, text: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("never-abort");
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, text).unwrap();
    path
}

fn settings() -> Settings {
    Settings {
        value_fallback: true,
        ..Settings::default()
    }
}

#[test]
fn a_self_merging_schema_returns_in_time() {
    let path = write("self-merging.json", SELF_MERGING);
    let schema = serde_json::from_str(SELF_MERGING).unwrap();
    let started = Instant::now();
    let generated = Generator::new(OfflineRegistry::new(), settings())
        .generate(&path, &schema, "Rules")
        .unwrap();
    let took = started.elapsed();
    println!("{took:?} {:#?}", generated.fallbacks);
    assert!(took < Duration::from_secs(6), "{took:?}");
    syn::parse_file(&generated.code).unwrap();
}

/// The full SchemaStore catalog's schemas that aborted or stalled
/// typify, when the corpus is there.
#[test]
fn corpus_schemas_that_aborted_or_stalled_return_in_time() {
    let base = std::env::var_os("STATEWRIGHT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/corpus"))
        .join("schemastore-full/schemas");
    if !base.is_dir() {
        eprintln!("skipped: {} not found", base.display());
        return;
    }
    let mut registry = OfflineRegistry::new();
    for host in [
        "https://www.schemastore.org/",
        "https://json.schemastore.org/",
        "http://json.schemastore.org/",
    ] {
        registry.map(host, &base);
    }
    let generator = Generator::new(registry, settings());
    for name in [
        "cloudify",
        "lsdlschema",
        "renovate-42",
        "renovate-global-schema-42",
        "vega",
    ] {
        let path = base.join(format!("{name}.json"));
        if !path.exists() {
            continue;
        }
        let schema = statewright_spec::catalog::read_json(&path).unwrap();
        let started = Instant::now();
        let generated = generator.generate(&path, &schema, "Root").unwrap();
        let took = started.elapsed();
        println!(
            "{name}: {took:?}, {} fallback(s)",
            generated.fallbacks.len()
        );
        for f in &generated.fallbacks {
            assert!(!f.reason.is_empty(), "{f:?}");
        }
        assert!(took < Duration::from_secs(8), "{name}: {took:?}");
    }
}
