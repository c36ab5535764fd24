//! build.rs of an application with its own statewright.toml: typed models
//! and compiled migration steps into $OUT_DIR/models.rs.

fn main() {
    let out = std::path::PathBuf::from(std::env::var_os("OUT_DIR").unwrap());
    let report = statewright_codegen::Builder::new()
        .project("statewright.toml")
        .document_trait("::statewright::models::Document")
        .compiled_steps("::statewright::migrate") // the `compiled` module
        .value_fallback(true)
        .out_file(out.join("models.rs"))
        .generate()
        .unwrap_or_else(|e| panic!("{e}")); // the readable message, not Debug
    report.emit_rerun_if_changed();
}
