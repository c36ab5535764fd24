//! The generated models against the shipped example state: every document
//! in `examples/state/` deserializes into the type of its kind and version
//! and serializes back to the same value, and a typed save loses nothing
//! silently, keeps the document's order and writes nothing unchanged.

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
        // Compared as they are: no member, null, [] or {} dropped, numbers
        // exact. (The model writes members in the schema's order; a typed
        // save puts them back in the document's, see below.)
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

fn dev_config() -> (PathBuf, Value) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/state/config/dev.json");
    let doc = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    (path, doc)
}

#[test]
fn a_typed_save_changes_only_what_the_model_changed() {
    use models::{SaveOptions, Typed};
    let (path, doc) = dev_config();
    let mut typed: Typed<models::env_config::Latest> = models::load_typed(&path).unwrap();
    assert!(typed.exact(), "{:?}", typed.lost());
    // Unchanged: nothing to write.
    assert_eq!(typed.to_value(SaveOptions::default()).unwrap(), None);
    typed.model_mut().vars_hash = "sha256:changed".to_owned();
    let saved = typed.to_value(SaveOptions::default()).unwrap().unwrap();
    let mut expected = doc.clone();
    expected["vars_hash"] = "sha256:changed".into();
    // Byte for byte: the map `vars` keeps its order, `40` stays `40`.
    assert_eq!(
        serde_json::to_string_pretty(&saved).unwrap(),
        serde_json::to_string_pretty(&expected).unwrap()
    );
}

/// A model that keeps `name` only: what a model that cannot represent its
/// document looks like.
#[derive(serde::Serialize, serde::Deserialize)]
struct NameOnly {
    name: String,
    schema_version: u32,
}

impl Document for NameOnly {
    const KIND: &'static str = "env-config";
    const VERSION: u32 = 1;
    const SCHEMA: &'static str = "{}";
}

#[test]
fn a_typed_save_that_would_lose_members_is_refused_with_their_pointers() {
    use models::{SaveError, SaveOptions, Typed};
    let doc =
        serde_json::json!({"schema_version": 1, "name": "a", "owner": null, "vars": {"b": 2.50}});
    let mut typed: Typed<NameOnly> =
        Typed::from_value_with(doc, &models::compiled::CATALOG).unwrap();
    assert!(!typed.exact());
    assert_eq!(typed.lost(), ["/owner", "/vars"]);
    typed.model_mut().name = "b".to_owned();
    let err = typed.to_value(SaveOptions::default()).unwrap_err();
    assert!(matches!(&err, SaveError::Lossy { pointers, .. } if pointers.len() == 2));
    let msg = err.to_string();
    assert!(msg.contains("/owner, /vars"), "{msg}");
    assert!(msg.contains("dangerously_discard_unrepresented"), "{msg}");
    let saved = typed
        .to_value(SaveOptions::default().dangerously_discard_unrepresented(true))
        .unwrap()
        .unwrap();
    assert_eq!(saved, serde_json::json!({"schema_version": 1, "name": "b"}));
}

#[test]
fn a_typed_read_modify_write_of_an_old_document_upgrades_it_and_keeps_nulls_and_order() {
    use models::{SaveOptions, Typed};
    // A v1 `processed.json` whose entries are in no sorted order, with a
    // null the schema allows.
    let v1 = serde_json::json!({
        "version": 1,
        "processed": {
            "B0Z": {"asin": "B0Z", "author": null, "title": "Zeta", "status": "COMPLETE",
                    "processed_at": "2026-01-02T00:00:00+00:00"},
            "B0A": {"asin": "B0A", "author": "Ann", "title": "Alpha", "status": "STAGED",
                    "processed_at": "2026-01-01T00:00:00+00:00"}
        },
        "failed": {}
    });
    let mut typed: Typed<models::mamfast_processed::Latest> =
        Typed::from_value_with(v1.clone(), &models::compiled::CATALOG).unwrap();
    assert!(typed.exact(), "{:?}", typed.lost());
    typed.model_mut().processed.get_mut("B0A").unwrap().title = "Alpha, revised".to_owned();
    let saved = typed.to_value(SaveOptions::default()).unwrap().unwrap();
    // What the compiled steps make of the v1 document, with the one change.
    let mut expected = v1;
    models::upgrade_value::<models::mamfast_processed::Latest>(&mut expected).unwrap();
    expected["processed"]["B0A"]["title"] = "Alpha, revised".into();
    // Each upgrade stamps its own time in the history entry it appends.
    let step = |v: &Value| {
        let h = &v["history"][0];
        (h["migration"].clone(), h["from"].clone(), h["to"].clone())
    };
    assert_eq!(step(&saved), step(&expected));
    assert_eq!(saved["history"].as_array().map(Vec::len), Some(1));
    expected["history"][0]["applied_at"] = saved["history"][0]["applied_at"].clone();
    assert_eq!(
        serde_json::to_string_pretty(&saved).unwrap(),
        serde_json::to_string_pretty(&expected).unwrap()
    );
    assert_eq!(saved["version"], 2, "upgraded to the latest version");
    let keys: Vec<&String> = saved["processed"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["B0Z", "B0A"], "map order kept");
    assert!(saved["processed"]["B0Z"]["author"].is_null(), "null kept");
    assert!(
        saved["processed"]["B0Z"]["infohash"].is_null(),
        "the step's null default"
    );
}
