//! Drift between a template manifest and the shipped example
//! `packer-hybrid.json`.

use std::path::PathBuf;

use serde_json::{Value, json};
use statewright::diff::{DriftKind, drift};

use super::util::read_json;
use statewright::spec::document::Portable;

fn example() -> Value {
    read_json(&PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("examples/state/packer-hybrid.json"))
}

/// The manifest the example state was published from.
fn manifest_of(state: &Value) -> Value {
    let builders: serde_json::Map<String, Value> = state["builders"]
        .as_object()
        .expect("builders")
        .iter()
        .map(|(k, b)| {
            (
                k.clone(),
                json!({"variant_id": b["variant_id"], "cache_hash": b["cache_hash"]}),
            )
        })
        .collect();
    json!({ "builders": builders })
}

#[test]
fn example_state_matches_its_manifest() {
    let state = example();
    assert_eq!(drift(&manifest_of(&state), &state).expect("drift"), []);
}

#[test]
fn regenerated_template_is_reported() {
    let mut state = example();
    let mut manifest = manifest_of(&state);
    manifest["builders"]["qemu.ubuntu"]["cache_hash"] =
        json!("sha256:0000000000000000000000000000000000000000000000000000000000000000");
    manifest["builders"]["vsphere.ubuntu"] = manifest["builders"]["qemu.ubuntu"].clone();
    state["builders"]["amazon-ebs.ubuntu"]
        .as_object_mut()
        .expect("builder")
        .remove("cache_hash");
    let findings = drift(&manifest, &state).expect("drift");
    let kinds: Vec<DriftKind> = findings.iter().map(|f| f.kind).collect();
    assert_eq!(
        kinds,
        [
            DriftKind::MissingHash,
            DriftKind::StaleHash,
            DriftKind::MissingBuilder
        ]
    );
    insta::with_settings!({snapshot_path => "../../snapshots/diff", prepend_module_to_snapshot => false}, {
        insta::assert_json_snapshot!(
            "drift_example",
            Portable(&serde_json::to_value(&findings).unwrap())
        );
    });
}
