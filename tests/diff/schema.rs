//! Schema diff on real schemas: the shipped catalog (with `$ref`s into
//! `envelope.json` through the offline registry), a pair that exercises
//! most rules (snapshotted: the JSON output is a contract), and every
//! SchemaStore schema as a robustness run.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use statewright::diff::{DiffError, RULES, SchemaDiffOptions, Severity, diff_schemas};
use statewright::spec::OfflineRegistry;

use super::util::{corpus, read_json};
use statewright::spec::document::Portable;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn snapshot(name: &str, value: &impl serde::Serialize) {
    insta::with_settings!({snapshot_path => "../../snapshots/diff", prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!(name, Portable(&serde_json::to_value(value).unwrap()));
    });
}

fn catalog_registry() -> OfflineRegistry {
    let mut r = OfflineRegistry::new();
    r.map("https://statewright.dev/schemas/", repo().join("schemas"));
    r
}

#[test]
fn catalog_upgrade_mamfast_v1_to_v2() {
    let dir = repo().join("schemas/mamfast-processed");
    let (a, b) = (
        read_json(&dir.join("v1.json")),
        read_json(&dir.join("v2.json")),
    );
    let opts = SchemaDiffOptions::new().with_registry(catalog_registry());
    let d = diff_schemas(&a, &b, &opts).expect("diff");
    snapshot("mamfast_v1_v2", &d);
    let back = diff_schemas(&b, &a, &opts).expect("reverse diff");
    assert_eq!(
        (back.backward, back.forward),
        (d.forward, d.backward),
        "reversing swaps the verdicts"
    );
}

#[test]
fn many_rules_one_pair() {
    let a = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z]+$", "maxLength": 10},
            "count": {"type": "integer", "minimum": 0},
            "ratio": {"type": "number", "exclusiveMaximum": 1},
            "kind": {"enum": ["a", "b"]},
            "when": {"type": "string", "format": "date-time"},
            "tags": {"type": "array", "items": {"type": "string"}, "uniqueItems": true},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}], "items": false},
            "owner": {"$ref": "#/$defs/person"},
            "legacy": {"type": "string"},
            "mode": {"oneOf": [{"type": "string"}, {"type": "integer"}]},
            "not_empty": {"not": {"type": "string", "maxLength": 0}}
        },
        "required": ["id", "legacy"],
        "additionalProperties": false,
        "$defs": {"person": {"type": "object", "properties": {"name": {"type": "string"}}, "required": ["name"]}}
    });
    let b = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "description": "v2",
        "properties": {
            "id": {"type": "string", "pattern": "^[a-z0-9]+$", "maxLength": 20},
            "count": {"type": ["integer", "null"], "minimum": 1},
            "ratio": {"type": "number", "maximum": 1},
            "kind": {"enum": ["a", "b", "c"]},
            "when": {"type": "string", "format": "date"},
            "tags": {"type": "array", "items": {"type": "string", "minLength": 1}, "maxItems": 5},
            "pair": {"type": "array", "prefixItems": [{"type": "string"}, {"type": "integer"}, {"type": "boolean"}], "items": false},
            "owner": {"$ref": "#/$defs/person"},
            "mode": {"oneOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]},
            "not_empty": {"not": {"type": "string", "maxLength": 1}},
            "region": {"type": "string", "default": "eu"}
        },
        "patternProperties": {"^x-": {}},
        "required": ["id", "region"],
        "additionalProperties": false,
        "$defs": {"person": {"type": "object", "properties": {"name": {"type": "string"}, "email": {"type": "string", "format": "email"}}, "required": ["name", "email"]}}
    });
    let d = diff_schemas(&a, &b, &SchemaDiffOptions::new()).expect("diff");
    assert!(!d.backward && !d.forward);
    let codes: Vec<&str> = d.changes.iter().map(|c| c.rule).collect();
    for code in [
        "SD403", "SD402", "SD101", "SD301", "SD113", "SD404", "SD504", "SD511", "SD203", "SD212",
        "SD211", "SD207",
    ] {
        assert!(codes.contains(&code), "{code} missing from {codes:?}");
    }
    assert!(
        d.changes
            .iter()
            .all(|c| RULES.iter().any(|r| r.code == c.rule))
    );
    snapshot("many_rules", &d);
}

#[test]
fn external_ref_without_registry_is_an_error() {
    let a = json!({"$id": "https://statewright.dev/schemas/x/v1.json", "$ref": "../envelope.json#/$defs/origin"});
    let b = json!({"type": "object"});
    match diff_schemas(&a, &b, &SchemaDiffOptions::new()) {
        Err(DiffError::UnresolvableRef {
            side, reference, ..
        }) => {
            assert_eq!(side, "A");
            assert!(reference.contains("envelope.json"));
        }
        other => panic!("expected UnresolvableRef, got {other:?}"),
    }
    let local = json!({"$ref": "#/definitions/missing"});
    assert!(matches!(
        diff_schemas(&local, &b, &SchemaDiffOptions::new()),
        Err(DiffError::UnresolvableRef { .. })
    ));
}

#[test]
fn reference_into_the_registry_is_followed() {
    let a = json!({"$id": "https://statewright.dev/schemas/x/v1.json", "properties": {"o": {"$ref": "../envelope.json#/$defs/origin"}}});
    let b = json!({"$id": "https://statewright.dev/schemas/x/v2.json", "properties": {"o": {"type": "object"}}});
    let d = diff_schemas(
        &a,
        &b,
        &SchemaDiffOptions::new().with_registry(catalog_registry()),
    )
    .expect("diff");
    assert!(d.backward && !d.forward, "{d:#?}");
    assert!(
        d.changes.iter().any(|c| c.pointer_a.as_deref().is_some_and(
            |p| p.starts_with("https://statewright.dev/schemas/envelope.json#/$defs/origin")
        )),
        "{d:#?}"
    );
}

#[test]
fn recursive_schemas_terminate() {
    let a = json!({"$defs": {"n": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/n"}}}}}, "$ref": "#/$defs/n"});
    let b = json!({"$defs": {"n": {"type": "object", "properties": {"kids": {"type": "array", "items": {"$ref": "#/$defs/n"}}, "v": {"type": "string"}}}}, "$ref": "#/$defs/n"});
    let d = diff_schemas(&a, &b, &SchemaDiffOptions::new()).expect("diff");
    assert_eq!(d.compatibility(), "forward", "{d:#?}");
    assert_eq!(d.worst(), Some(Severity::Breaking));
}

fn schemastore_registry(dir: &Path) -> OfflineRegistry {
    let mut r = OfflineRegistry::new();
    for host in [
        "https://json.schemastore.org/",
        "http://json.schemastore.org/",
        "https://www.schemastore.org/",
    ] {
        r.map(host, dir);
    }
    r
}

#[test]
fn schemastore_schemas_diff_without_errors() {
    let dir = corpus().join("schemastore/schemas");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("schemastore/schemas")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let schemas: Vec<(PathBuf, Value)> = files
        .into_iter()
        .filter_map(|p| {
            statewright::spec::catalog::read_json(&p)
                .ok()
                .map(|v| (p, v))
        })
        .collect();
    assert!(schemas.len() > 70, "only {} schemas read", schemas.len());
    let opts = |a: &Path, b: &Path| {
        SchemaDiffOptions::new()
            .with_registry(schemastore_registry(&dir))
            .with_bases(
                format!("file://{}", a.display()),
                format!("file://{}", b.display()),
            )
    };
    let mut unresolved = Vec::new();
    for (i, (path, schema)) in schemas.iter().enumerate() {
        let mut edited = schema.clone();
        if let Some(m) = edited.as_object_mut() {
            m.insert("$comment".into(), json!("edited"));
        }
        match diff_schemas(schema, &edited, &opts(path, path)) {
            Ok(d) => assert!(d.backward && d.forward, "{}: {d:#?}", path.display()),
            // Only references the corpus cannot serve may fail.
            Err(DiffError::UnresolvableRef { reference, .. }) => unresolved.push(reference),
            Err(e) => panic!("{}: {e}", path.display()),
        }
        let (next_path, next) = &schemas[(i + 1) % schemas.len()];
        if let Err(e) = diff_schemas(schema, next, &opts(path, next_path)) {
            assert!(
                matches!(e, DiffError::UnresolvableRef { .. }),
                "{} vs {}: {e}",
                path.display(),
                next_path.display()
            );
        }
    }
    assert!(
        unresolved.len() <= 3,
        "too many unresolvable references: {unresolved:?}"
    );
}
