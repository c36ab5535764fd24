//! The shipped catalog (`statewright.toml` at the repository root): its
//! generated code is snapshot-tested, and it needs no fallback.

use std::path::{Path, PathBuf};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn builder() -> statewright_codegen::Builder {
    statewright_codegen::Builder::new()
        .project(repo().join("statewright.toml"))
        .value_fallback(true)
        .document_trait("crate::models::Document")
}

#[test]
fn shipped_catalog_snapshot() {
    let (code, report) = builder()
        .generate_string(Path::new("statewright_models.rs"))
        .unwrap();
    assert!(!report.schemas.is_empty());
    insta::with_settings!({snapshot_path => "../../snapshots/codegen", prepend_module_to_snapshot => false}, {
        insta::assert_snapshot!("statewright_models", code);
    });
}

#[test]
fn shipped_catalog_needs_no_fallback_and_no_crate_but_indexmap() {
    let (_, report) = builder()
        .generate_string(Path::new("statewright_models.rs"))
        .unwrap();
    for s in &report.schemas {
        assert!(s.fallbacks.is_empty(), "{}: {:?}", s.module, s.fallbacks);
        // `indexmap` only: the generated maps keep the document's order.
        assert!(
            s.crates.iter().all(|c| *c == "indexmap"),
            "{}: {:?}",
            s.module,
            s.crates
        );
    }
}

#[test]
fn output_is_deterministic() {
    let out = Path::new("statewright_models.rs");
    let (a, _) = builder().generate_string(out).unwrap();
    let (b, _) = builder().generate_string(out).unwrap();
    assert_eq!(a, b);
}

#[test]
fn missing_project_gives_an_empty_module_when_allowed() {
    let b = statewright_codegen::Builder::new().project(repo().join("no-such/statewright.toml"));
    let err = b.clone().generate_string(Path::new("x.rs")).unwrap_err();
    assert!(
        matches!(err, statewright_codegen::CodegenError::Project { .. }),
        "{err}"
    );
    let (code, report) = b
        .missing_project_ok(true)
        .generate_string(Path::new("x.rs"))
        .unwrap();
    assert!(report.schemas.is_empty());
    assert!(!code.contains("pub mod"), "{code}");
    assert_eq!(report.rerun_if_changed_lines().len(), 1);
}
