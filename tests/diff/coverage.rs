//! Schema diff against the migration: the shipped catalog's migrations
//! account for every backward-incompatible change of their step.

use std::path::PathBuf;

use statewright::diff::{Coverage, SchemaDiffOptions, coverage, diff_schemas, uncovered};
use statewright::spec::OfflineRegistry;
use statewright::spec::migration::load_dir;

use super::util::read_json;

fn repo() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn step(kind: &str, from: u32, version_pointer: &str) -> Vec<Coverage> {
    let schema = |v: u32| read_json(&repo().join(format!("schemas/{kind}/v{v}.json")));
    let (a, b) = (schema(from), schema(from + 1));
    let mut r = OfflineRegistry::new();
    r.map("https://statewright.dev/schemas/", repo().join("schemas"));
    let d = diff_schemas(&a, &b, &SchemaDiffOptions::new().with_registry(r)).expect("diff");
    let set = load_dir(&repo().join("migrations")).expect("migrations");
    let m = set.step_from(kind, from).expect("migration");
    coverage(&a, &b, &d, &m.file, version_pointer)
}

fn assert_covered(items: &[Coverage]) {
    let missing: Vec<&Coverage> = uncovered(items).collect();
    assert!(missing.is_empty(), "not covered: {missing:#?}");
}

#[test]
fn mamfast_processed_1_2_is_covered() {
    let c = step("mamfast-processed", 1, "/version");
    assert_covered(&c);
    let paths: Vec<(&str, &str)> = c
        .iter()
        .map(|c| {
            (
                c.document_path.as_deref().unwrap_or("?"),
                c.covered_by.as_deref().unwrap_or("-"),
            )
        })
        .collect();
    assert!(
        paths.contains(&("/failed/*/first_failed_at", "add /failed/*/first_failed_at")),
        "{paths:?}"
    );
}

#[test]
fn deploy_pins_steps_are_covered() {
    for from in [1, 2] {
        let c = step("deploy-pins", from, "/schema_version");
        assert!(!c.is_empty(), "step {from} has incompatible changes");
        assert_covered(&c);
    }
}
