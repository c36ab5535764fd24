//! Generates the typed models of this repository's own catalog
//! (`statewright.toml`) into `$OUT_DIR/statewright_models.rs`, which
//! `src/models.rs` includes.

#[cfg(not(feature = "shipped-models"))]
fn main() {}

#[cfg(feature = "shipped-models")]
fn main() {
    let out_dir =
        std::path::PathBuf::from(std::env::var_os("OUT_DIR").expect("cargo sets OUT_DIR"));
    let result = statewright_codegen::Builder::new()
        .project("statewright.toml")
        .missing_project_ok(true)
        .value_fallback(true)
        .document_trait("crate::models::Document")
        .compiled_steps("crate::migrate")
        .out_file(out_dir.join("statewright_models.rs"))
        .generate();
    match result {
        Ok(report) => {
            report.emit_rerun_if_changed();
            for (schema, fallback) in report.fallbacks() {
                let how = match fallback.conditions_only {
                    true => "typed without its if/then/else",
                    false => "typed as serde_json::Value",
                };
                println!(
                    "cargo:warning={}: {how} at {}#{} ({})",
                    schema.module,
                    fallback.path.display(),
                    fallback.pointer,
                    fallback.reason
                );
            }
        }
        Err(e) => {
            println!("cargo:rerun-if-changed=statewright.toml");
            eprintln!("error: {e}");
            std::process::exit(1);
        }
    }
}
