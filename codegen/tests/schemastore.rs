//! Code generation over the SchemaStore corpus (82 real-world schemas,
//! `../shared/corpus/schemastore` or `$STATEWRIGHT_CORPUS/schemastore`):
//! no panic escapes, every outcome is reported, and the generated modules
//! are compiled together in a scratch crate. Prints a table: which schemas
//! give compiling types, which needed `serde_json::Value` fallbacks (where),
//! and which failed (why).

use std::collections::BTreeMap;

mod common;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;

use statewright_codegen::{Generator, Settings, names};
use statewright_spec::OfflineRegistry;

/// Schemas whose types must compile; raise it when codegen improves.
const COMPILING_FLOOR: usize = 82;

#[path = "../../tests/common/corpus.rs"]
mod shared_corpus;

fn corpus() -> PathBuf {
    shared_corpus::corpus().join("schemastore/schemas")
}

#[derive(Debug)]
enum Outcome {
    Generated {
        module: String,
        code: String,
        fallbacks: Vec<String>,
        crates: Vec<&'static str>,
    },
    Failed(String),
}

fn generate_all(dir: &Path) -> BTreeMap<String, Outcome> {
    let mut registry = OfflineRegistry::new();
    for host in [
        "https://www.schemastore.org/",
        "https://json.schemastore.org/",
        "http://json.schemastore.org/",
    ] {
        registry.map(host, dir);
    }
    let generator = Generator::new(
        registry,
        Settings {
            value_fallback: true,
            ..Settings::default()
        },
    );
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    files.sort();
    let mut out = BTreeMap::new();
    for path in files {
        let stem = path.file_stem().unwrap().to_string_lossy().into_owned();
        let schema = match statewright_spec::catalog::read_json(&path) {
            Ok(s) => s,
            Err(e) => {
                out.insert(stem, Outcome::Failed(format!("unreadable: {e}")));
                continue;
            }
        };
        let root = names::type_name(&stem, "Schema");
        let started = std::time::Instant::now();
        let outcome = match generator.generate(&path, &schema, &root) {
            Ok(g) => {
                let module = format!("m_{}", names::module_name(&stem));
                let code = prettyplease::unparse(&syn::parse_file(&g.code).unwrap());
                let fallbacks = g
                    .fallbacks
                    .iter()
                    .map(|f| {
                        let file = f.path.file_name().unwrap_or_default().to_string_lossy();
                        let how = match f.conditions_only {
                            true => "if/then/else left out",
                            false => "Value",
                        };
                        format!("{file}#{} [{how}] ({})", f.pointer, f.reason)
                    })
                    .collect();
                Outcome::Generated {
                    module,
                    code,
                    fallbacks,
                    crates: g.crates,
                }
            }
            Err(e) => Outcome::Failed(e.to_string()),
        };
        let took = started.elapsed();
        if took.as_secs() >= 5 {
            println!("slow: {stem} took {took:.1?}");
        }
        out.insert(stem, outcome);
    }
    out
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::write(path, text).unwrap();
    }
}

/// Compiles each module as its own crate of a scratch workspace (so
/// errors are attributed by crate, unchanged crates stay fresh between runs
/// and cargo checks them in parallel). Returns module → first error, for
/// the modules that do not compile.
fn compile(modules: &[(String, String, Vec<&'static str>)]) -> BTreeMap<String, String> {
    let tmp = Path::new(env!("CARGO_TARGET_TMPDIR"));
    let root = tmp.join("schemastore-codegen");
    // One target dir for every scratch crate of the codegen tests, so
    // serde and friends are built once.
    let target = tmp.join("scratch-target");
    let mut members = String::new();
    for (module, code, crates) in modules {
        writeln!(members, "  \"{module}\",").unwrap();
        let mut manifest = format!(
            "[package]\nname = \"{module}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n\
             [dependencies]\nserde = {{ version = \"1\", features = [\"derive\"] }}\nserde_json = {{ version = \"1\", features = [\"preserve_order\"] }}\n"
        );
        for c in crates {
            let line = match *c {
                "chrono" => "chrono = { version = \"0.4\", features = [\"serde\"] }",
                "uuid" => "uuid = { version = \"1\", features = [\"serde\"] }",
                "indexmap" => "indexmap = { version = \"2\", features = [\"serde\"] }",
                _ => "regress = \"*\"",
            };
            writeln!(manifest, "{line}").unwrap();
        }
        std::fs::create_dir_all(root.join(module).join("src")).unwrap();
        write_if_changed(&root.join(module).join("Cargo.toml"), &manifest);
        write_if_changed(
            &root.join(module).join("src/lib.rs"),
            &format!("#![allow(warnings, clippy::all)]\n{code}"),
        );
    }
    write_if_changed(
        &root.join("Cargo.toml"),
        &format!("[workspace]\nresolver = \"3\"\nmembers = [\n{members}]\n"),
    );
    if !root.join("Cargo.lock").exists() {
        let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
        std::fs::copy(lock, root.join("Cargo.lock")).unwrap();
    }
    let output = Command::new(env!("CARGO"))
        .args([
            "check",
            "--offline",
            "--workspace",
            "--keep-going",
            "--message-format=short",
            "--quiet",
        ])
        .current_dir(&root)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    let failing = common::failing_crates(&stderr);
    assert_eq!(
        output.status.success(),
        failing.is_empty(),
        "cargo check output not understood:\n{stderr}"
    );
    failing
}

#[test]
fn schemastore_codegen_outcomes() {
    let dir = corpus();
    assert!(
        dir.is_dir(),
        "SchemaStore corpus not found at {}; set STATEWRIGHT_CORPUS",
        dir.display()
    );
    let outcomes = generate_all(&dir);
    let modules: Vec<(String, String, Vec<&'static str>)> = outcomes
        .values()
        .filter_map(|o| match o {
            Outcome::Generated {
                module,
                code,
                crates,
                ..
            } => Some((module.clone(), code.clone(), crates.clone())),
            Outcome::Failed(_) => None,
        })
        .collect();
    let started = std::time::Instant::now();
    let compile_errors = compile(&modules);
    println!(
        "cargo check of the generated crates: {:.1?}",
        started.elapsed()
    );

    let (mut clean, mut with_fallback, mut failed) = (0, 0, 0);
    let mut table = String::new();
    for (name, outcome) in &outcomes {
        match outcome {
            Outcome::Failed(reason) => {
                failed += 1;
                writeln!(table, "FAILED    {name}: {reason}").unwrap();
            }
            Outcome::Generated { module, .. } if compile_errors.contains_key(module) => {
                failed += 1;
                writeln!(table, "NOCOMPILE {name}: {}", compile_errors[module]).unwrap();
            }
            Outcome::Generated { fallbacks, .. } if fallbacks.is_empty() => {
                clean += 1;
                writeln!(table, "OK        {name}").unwrap();
            }
            Outcome::Generated { fallbacks, .. } => {
                with_fallback += 1;
                writeln!(
                    table,
                    "FALLBACK  {name}: {} node(s) as Value or without if/then/else",
                    fallbacks.len()
                )
                .unwrap();
                for f in fallbacks {
                    writeln!(table, "            {f}").unwrap();
                }
            }
        }
    }
    let compiling = clean + with_fallback;
    println!("{table}");
    println!(
        "SchemaStore codegen: {} schemas; {compiling} compile ({clean} exact, {with_fallback} with Value fallbacks); {failed} failed",
        outcomes.len()
    );
    assert_eq!(outcomes.len(), 82, "the corpus has 82 schemas");
    assert!(
        compiling >= COMPILING_FLOOR,
        "{compiling} schemas compile, fewer than the floor {COMPILING_FLOOR}"
    );
}
