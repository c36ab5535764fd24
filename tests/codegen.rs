//! The generated models against the shipped example state: every document
//! in `examples/state/` deserializes into the type of its kind and version
//! and serializes back to the same value.

use std::path::{Path, PathBuf};

use serde_json::Value;
use statewright::models::{self, Document};
use statewright::spec::catalog::version_of;
use statewright::spec::{Catalog, ParseLimits, Project, document};

/// Deserializes `doc` as `T` and serializes it back.
fn roundtrip<T: Document>(doc: &Value) -> Result<Value, String> {
    let typed: T = serde_json::from_value(doc.clone()).map_err(|e| e.to_string())?;
    serde_json::to_value(&typed).map_err(|e| e.to_string())
}

type Roundtrip = fn(&Value) -> Result<Value, String>;

/// Every generated root type, as (kind, version, round trip).
fn models() -> Vec<(&'static str, u32, Roundtrip)> {
    fn entry<T: Document>() -> (&'static str, u32, Roundtrip) {
        (T::KIND, T::VERSION, roundtrip::<T>)
    }
    vec![
        entry::<models::agentspec_state::v1::AgentspecState>(),
        entry::<models::artifact_index::v1::ArtifactIndex>(),
        entry::<models::checklist_state::v1::ChecklistState>(),
        entry::<models::deploy_pins::v1::DeployPins>(),
        entry::<models::deploy_pins::v2::DeployPins>(),
        entry::<models::deploy_pins::v3::DeployPins>(),
        entry::<models::env_config::v1::EnvConfig>(),
        entry::<models::mamfast_processed::v1::MamfastProcessed>(),
        entry::<models::mamfast_processed::v2::MamfastProcessed>(),
        entry::<models::packer_hybrid::v1::PackerHybrid>(),
        entry::<models::packer_manifest::v1::PackerManifest>(),
        entry::<models::sources::v1::Sources>(),
    ]
}

/// Drops object members whose value is `null`, `[]` or `{}` (typify skips
/// `None` options and empty optional collections when serializing) and
/// writes every number as a float (`number`
/// becomes `f64`, so `8081` comes back as `8081.0`; JSON does not tell
/// them apart), recursively.
fn normal(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !is_empty(v))
                .map(|(k, v)| (k.clone(), normal(v)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(normal).collect()),
        Value::Number(n) => n.as_f64().map_or(v.clone(), Value::from),
        other => other.clone(),
    }
}

/// The JSON pointer of the first place `a` and `b` differ.
fn first_difference(a: &Value, b: &Value, at: String) -> Option<String> {
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys: std::collections::BTreeSet<_> = x.keys().chain(y.keys()).collect();
            keys.into_iter().find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => first_difference(p, q, format!("{at}/{k}")),
                _ => Some(format!("{at}/{k}")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, format!("{at}/{i}"))),
        _ => (a != b).then_some(at),
    }
}

fn is_empty(v: &Value) -> bool {
    match v {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(m) => m.is_empty(),
        _ => false,
    }
}

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files(&path, out);
        } else {
            out.push(path);
        }
    }
}

fn catalog() -> Catalog {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = Project::load(&root.join("statewright.toml")).unwrap();
    Catalog::load(&project).unwrap()
}

#[test]
fn every_catalog_version_has_a_model() {
    let catalog = catalog();
    let known = models();
    for kind in catalog.kinds.values() {
        for v in kind.versions.keys() {
            assert!(
                known.iter().any(|(k, kv, _)| *k == kind.name && kv == v),
                "no model listed in tests/codegen.rs for {} v{v}",
                kind.name
            );
        }
    }
}

#[test]
fn example_state_roundtrips_through_the_generated_types() {
    let catalog = catalog();
    let state = &catalog.project.state_dir;
    let mut paths = Vec::new();
    files(state, &mut paths);
    paths.sort();
    let known = models();
    let mut checked = Vec::new();
    for path in &paths {
        let rel = path.strip_prefix(state).unwrap();
        let Some(kind) = catalog.kind_for(rel) else {
            panic!("{} matches no kind of the catalog", rel.display());
        };
        let bytes = std::fs::read(path).unwrap();
        let source = document::decode(path, bytes, kind.spec.format()).unwrap();
        let doc = document::parse(&source, ParseLimits::default()).unwrap();
        let version = version_of(&doc, &kind.spec.fields.version).unwrap();
        let (_, _, roundtrip) = known
            .iter()
            .find(|(k, v, _)| *k == kind.name && *v == version)
            .unwrap_or_else(|| panic!("no model for {} v{version}", kind.name));
        let back = roundtrip(&doc).unwrap_or_else(|e| panic!("{}: {e}", rel.display()));
        let (back, doc) = (normal(&back), normal(&doc));
        if let Some(at) = first_difference(&back, &doc, String::new()) {
            panic!(
                "{} does not round-trip: at `{at}` got {:?}, expected {:?}",
                rel.display(),
                back.pointer(&at),
                doc.pointer(&at)
            );
        }
        checked.push(format!("{} as {} v{version}", rel.display(), kind.name));
    }
    assert!(
        checked
            .iter()
            .any(|c| c.ends_with(".yaml as checklist-state v1")),
        "{checked:#?}"
    );
    assert!(checked.len() >= 10, "{checked:#?}");
}

#[test]
fn latest_aliases_and_document_constants() {
    use models::mamfast_processed::Latest;
    assert_eq!(Latest::VERSION, 2);
    assert_eq!(Latest::KIND, "mamfast-processed");
    let schema: Value = serde_json::from_str(<Latest as Document>::SCHEMA).unwrap();
    assert!(schema.is_object());
}
