//! Breadth on the SchemaStore catalog (`schemastore-full` of the shared
//! corpus): every schema is generated (no abort, no timeout), the modules
//! are compiled as crates of one scratch workspace, and one program
//! deserializes every positive test document into its schema's root type,
//! serializes it back and compares the two as values (numbers exactly; no
//! normalization of either side). Prints one row per schema and the
//! totals.
//!
//! `fast_subset` (a handful of schemas, among them the ones that used to
//! lose content) runs with `cargo test`; `whole_catalog` is ignored and
//! run by `bench/codegen-catalog.sh` (`STATEWRIGHT_CATALOG_SAMPLE=N` takes
//! every schema whose index is a multiple of `611 / N`;
//! `STATEWRIGHT_CATALOG_ONLY=a,b` takes the schemas named).

use std::collections::BTreeMap;

mod common;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use statewright_codegen::{Generator, Settings, names};
use statewright_spec::{OfflineRegistry, ParseLimits, document};

fn corpus() -> Option<PathBuf> {
    let base = std::env::var_os("STATEWRIGHT_CORPUS")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/work/shared/corpus"));
    let dir = base.join("schemastore-full");
    dir.join("schemas").is_dir().then_some(dir)
}

/// What one schema gave.
#[derive(Debug, Default)]
struct Row {
    generated: Option<Result<(), String>>,
    took: Duration,
    nodes: usize,
    value_nodes: usize,
    compiled: Option<Result<(), String>>,
    docs: usize,
    deserialized: usize,
    exact: usize,
    first_problem: Option<String>,
}

fn generator(store: &Path) -> Generator {
    let mut registry = OfflineRegistry::new();
    for host in [
        "https://www.schemastore.org/",
        "https://json.schemastore.org/",
        "http://json.schemastore.org/",
    ] {
        registry.map(host, store.join("schemas"));
    }
    let settings = Settings {
        value_fallback: true,
        ..Settings::default()
    };
    Generator::new(registry, settings)
}

/// The positive test documents of `stem`, as JSON text.
fn documents(store: &Path, stem: &str) -> Vec<(String, String)> {
    let Ok(entries) = std::fs::read_dir(store.join("test").join(stem)) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut paths: Vec<PathBuf> = entries.map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        let Some(format) = document::Format::from_path(&path) else {
            continue;
        };
        let Ok(bytes) = std::fs::read(&path) else {
            continue;
        };
        let parsed = document::decode(&path, bytes, format)
            .and_then(|s| document::parse(&s, ParseLimits::default()));
        if let Ok(value) = parsed {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            out.push((name, serde_json::to_string(&value).unwrap()));
        }
    }
    out
}

fn write_if_changed(path: &Path, text: &str) {
    if std::fs::read_to_string(path).ok().as_deref() != Some(text) {
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
}

const DEPS: &str = "serde = { version = \"1\", features = [\"derive\"] }\n\
    serde_json = { version = \"1\", features = [\"preserve_order\"] }\n\
    indexmap = { version = \"2\", features = [\"serde\"] }\n";

fn manifest(name: &str, crates: &[&str], extra: &str) -> String {
    let mut m = format!(
        "[package]\nname = \"{name}\"\nversion = \"0.0.0\"\nedition = \"2024\"\npublish = false\n\n[dependencies]\n{DEPS}"
    );
    for c in crates {
        match *c {
            "chrono" => m.push_str("chrono = { version = \"0.4\", features = [\"serde\"] }\n"),
            "uuid" => m.push_str("uuid = { version = \"1\", features = [\"serde\"] }\n"),
            "regress" => m.push_str("regress = \"*\"\n"),
            _ => {}
        }
    }
    m.push_str(extra);
    m
}

/// Runs cargo in the scratch workspace `root` (one job); the crates that
/// failed, with their first error.
fn cargo(root: &Path, args: &[&str]) -> BTreeMap<String, String> {
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scratch-target");
    let output = Command::new(env!("CARGO"))
        .args(args)
        .args([
            "--offline",
            "--keep-going",
            "--message-format=short",
            "-j",
            "1",
        ])
        .current_dir(root)
        .env("CARGO_TARGET_DIR", &target)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    common::failing_crates(&stderr)
}

const RUNNER: &str = r#"
fn check<T: serde::de::DeserializeOwned + serde::Serialize>(module: &str, dir: &std::path::Path) {
    let mut paths: Vec<_> = std::fs::read_dir(dir).unwrap().map(|e| e.unwrap().path()).collect();
    paths.sort();
    for path in paths {
        let text = std::fs::read_to_string(&path).unwrap();
        let doc: serde_json::Value = serde_json::from_str(&text).unwrap();
        let name = path.file_name().unwrap().to_string_lossy();
        let outcome = std::panic::catch_unwind(|| match serde_json::from_str::<T>(&text) {
            Err(e) => format!("DESER {e}"),
            Ok(t) => match serde_json::to_value(&t) {
                Err(e) => format!("SER {e}"),
                Ok(back) if back == doc => "EXACT".to_owned(),
                Ok(back) => format!("DIFF {}", first_difference(&doc, &back, String::new()).unwrap_or_default()),
            },
        })
        .unwrap_or_else(|_| "PANIC".to_owned());
        println!("{module}\t{name}\t{outcome}");
    }
}

fn first_difference(a: &serde_json::Value, b: &serde_json::Value, at: String) -> Option<String> {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            x.keys().chain(y.keys()).find_map(|k| match (x.get(k), y.get(k)) {
                (Some(p), Some(q)) => first_difference(p, q, format!("{at}/{k}")),
                (Some(_), None) => Some(format!("{at}/{k} lost")),
                _ => Some(format!("{at}/{k} gained")),
            })
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => x
            .iter()
            .zip(y)
            .enumerate()
            .find_map(|(i, (p, q))| first_difference(p, q, format!("{at}/{i}"))),
        _ => (a != b).then(|| format!("{at} changed")),
    }
}
"#;

/// Generates, compiles and round-trips the schemas `stems`; one row each.
fn measure(store: &Path, stems: &[String], scratch: &str) -> BTreeMap<String, Row> {
    let generator = generator(store);
    let root = Path::new(env!("CARGO_TARGET_TMPDIR")).join(scratch);
    let mut rows: BTreeMap<String, Row> = BTreeMap::new();
    let mut crates = Vec::new();
    for stem in stems {
        let row = rows.entry(stem.clone()).or_default();
        let path = store.join("schemas").join(format!("{stem}.json"));
        let started = Instant::now();
        let schema = match statewright_spec::catalog::read_json(&path) {
            Ok(s) => s,
            Err(e) => {
                row.generated = Some(Err(format!("unreadable: {e}")));
                continue;
            }
        };
        let result = generator.generate(&path, &schema, &names::type_name(stem, "Schema"));
        row.took = started.elapsed();
        let generated = match result {
            Ok(g) => g,
            Err(e) => {
                row.generated = Some(Err(e.to_string()));
                continue;
            }
        };
        row.generated = Some(Ok(()));
        row.nodes = generated.nodes;
        row.value_nodes = generated.fallbacks.iter().map(|f| f.nodes).sum();
        let module = format!("m_{}", names::module_name(stem));
        let code = prettyplease::unparse(&syn::parse_file(&generated.code).unwrap());
        write_if_changed(
            &root.join(&module).join("src/lib.rs"),
            &format!(
                // A name no schema defines: the root type under a fixed name.
                "#![allow(warnings, clippy::all)]\n{code}\npub type StatewrightCatalogRoot = {};\n",
                generated.root_type
            ),
        );
        write_if_changed(
            &root.join(&module).join("Cargo.toml"),
            &manifest(&module, &generated.crates, ""),
        );
        let docs = documents(store, stem);
        row.docs = docs.len();
        let _ = std::fs::remove_dir_all(root.join("docs").join(&module));
        for (name, text) in &docs {
            write_if_changed(&root.join("docs").join(&module).join(name), text);
        }
        crates.push((stem.clone(), module));
    }
    let members: String = crates
        .iter()
        .map(|(_, m)| format!("  \"{m}\",\n"))
        .collect();
    write_if_changed(
        &root.join("Cargo.toml"),
        &format!("[workspace]\nresolver = \"3\"\nmembers = [\n{members}  \"runner\",\n]\n"),
    );
    if !root.join("Cargo.lock").exists() {
        let lock = Path::new(env!("CARGO_MANIFEST_DIR")).join("../Cargo.lock");
        std::fs::copy(lock, root.join("Cargo.lock")).unwrap();
    }
    // The runner first depends on nothing, so a module that does not
    // compile is attributed to itself.
    write_runner(&root, &[]);
    let failing = cargo(&root, &["build", "--workspace", "--lib"]);
    let good: Vec<&(String, String)> = crates
        .iter()
        .filter(|(_, m)| !failing.contains_key(m))
        .collect();
    for (stem, module) in &crates {
        rows.get_mut(stem).unwrap().compiled = Some(match failing.get(module) {
            Some(e) => Err(e.clone()),
            None => Ok(()),
        });
    }
    write_runner(
        &root,
        &good.iter().map(|(_, m)| m.as_str()).collect::<Vec<_>>(),
    );
    let runner_failed = cargo(&root, &["build", "-p", "runner"]);
    assert!(runner_failed.is_empty(), "{runner_failed:?}");
    let target = Path::new(env!("CARGO_TARGET_TMPDIR")).join("scratch-target");
    let out = Command::new(target.join("debug/runner"))
        .arg(root.join("docs"))
        .output()
        .unwrap();
    // A runner that died would leave every later document unmeasured.
    assert!(
        out.status.success(),
        "the runner failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let by_module: BTreeMap<&str, &str> = crates
        .iter()
        .map(|(s, m)| (m.as_str(), s.as_str()))
        .collect();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let mut parts = line.splitn(3, '\t');
        let (Some(module), Some(doc), Some(outcome)) = (parts.next(), parts.next(), parts.next())
        else {
            continue;
        };
        let row = rows.get_mut(by_module[module]).unwrap();
        if !outcome.starts_with("DESER") && outcome != "PANIC" {
            row.deserialized += 1;
        }
        if outcome == "EXACT" {
            row.exact += 1;
        } else if row.first_problem.is_none() {
            row.first_problem = Some(format!(
                "{doc}: {}",
                outcome.chars().take(160).collect::<String>()
            ));
        }
    }
    rows
}

fn write_runner(root: &Path, modules: &[&str]) {
    let deps: String = modules
        .iter()
        .map(|m| format!("{m} = {{ path = \"../{m}\" }}\n"))
        .collect();
    write_if_changed(
        &root.join("runner/Cargo.toml"),
        &manifest("runner", &[], &deps),
    );
    let mut main = String::from(RUNNER);
    // Generated models of large schemas nest deeply, and debug builds give
    // every local its own stack slot: deserializing runs on a thread with
    // room enough (an application gets the same from its own main thread
    // in release builds).
    main.push_str(
        "fn main() {\n    std::thread::Builder::new().stack_size(1 << 30).spawn(run).unwrap().join().unwrap();\n}\n\nfn run() {\n    let docs = std::path::PathBuf::from(std::env::args().nth(1).unwrap());\n",
    );
    for m in modules {
        writeln!(
            main,
            "    if docs.join(\"{m}\").is_dir() {{ check::<{m}::StatewrightCatalogRoot>(\"{m}\", &docs.join(\"{m}\")); }}"
        )
        .unwrap();
    }
    main.push_str("}\n");
    write_if_changed(&root.join("runner/src/main.rs"), &main);
}

/// The table, and the totals line.
fn table(rows: &BTreeMap<String, Row>) -> (String, Totals) {
    let mut t = Totals::default();
    let mut out =
        String::from("schema\tgen\tms\tcompiles\tdocs\tdeser\texact\ttyped%\tfirst problem\n");
    for (stem, r) in rows {
        t.schemas += 1;
        let generated = matches!(r.generated, Some(Ok(())));
        let compiled = matches!(r.compiled, Some(Ok(())));
        t.generated += generated as usize;
        t.compiled += compiled as usize;
        t.docs += r.docs;
        t.deserialized += r.deserialized;
        t.exact += r.exact;
        t.nodes += r.nodes;
        t.value_nodes += r.value_nodes.min(r.nodes);
        let typed = match r.nodes {
            0 => 100.0,
            n => 100.0 * (n - r.value_nodes.min(n)) as f64 / n as f64,
        };
        let problem = match (&r.generated, &r.compiled) {
            (Some(Err(e)), _) | (_, Some(Err(e))) => e.chars().take(160).collect(),
            _ => r.first_problem.clone().unwrap_or_default(),
        };
        writeln!(
            out,
            "{stem}\t{}\t{}\t{}\t{}\t{}\t{}\t{typed:.0}\t{problem}",
            if generated { "ok" } else { "FAIL" },
            r.took.as_millis(),
            if compiled { "ok" } else { "FAIL" },
            r.docs,
            r.deserialized,
            r.exact
        )
        .unwrap();
    }
    (out, t)
}

#[derive(Debug, Default)]
struct Totals {
    schemas: usize,
    generated: usize,
    compiled: usize,
    docs: usize,
    deserialized: usize,
    exact: usize,
    nodes: usize,
    value_nodes: usize,
}

impl std::fmt::Display for Totals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let pct = |a: usize, b: usize| {
            if b == 0 {
                100.0
            } else {
                100.0 * a as f64 / b as f64
            }
        };
        write!(
            f,
            "{} schemas: generated {} ({:.1}%), compile {} ({:.1}%); {} positive documents: deserialize {} ({:.1}%), round trip exact {} ({:.1}%); nodes typed {:.1}%",
            self.schemas,
            self.generated,
            pct(self.generated, self.schemas),
            self.compiled,
            pct(self.compiled, self.schemas),
            self.docs,
            self.deserialized,
            pct(self.deserialized, self.docs),
            self.exact,
            pct(self.exact, self.docs),
            pct(self.nodes - self.value_nodes, self.nodes),
        )
    }
}

/// Schemas whose documents used to come back changed or not at all
/// (`anyOf` with scalars, flattened options, `$schema`, defaults) and a
/// plain one.
const FAST: &[&str] = &[
    "appveyor",
    "codecov",
    "tsbuild",
    "bun-lock",
    "dependabot",
    "enonic-xp-part-8.0.0-B5",
];

#[test]
fn fast_subset() {
    let Some(store) = corpus() else {
        eprintln!("skipped: the schemastore-full corpus is not there");
        return;
    };
    let stems: Vec<String> = FAST
        .iter()
        .filter(|s| store.join("schemas").join(format!("{s}.json")).exists())
        .map(|s| (*s).to_owned())
        .collect();
    let rows = measure(&store, &stems, "catalog-fast");
    let (text, totals) = table(&rows);
    println!("{text}\n{totals}");
    assert_eq!(totals.generated, totals.schemas, "{text}");
    assert_eq!(totals.compiled, totals.schemas, "{text}");
    assert_eq!(totals.deserialized, totals.docs, "{text}");
    assert!(totals.exact * 100 >= totals.docs * 95, "{totals}\n{text}");
}

#[test]
#[ignore = "minutes of CPU: run by bench/codegen-catalog.sh"]
fn whole_catalog() {
    let store = corpus().expect("the schemastore-full corpus (set STATEWRIGHT_CORPUS)");
    let mut stems: Vec<String> = std::fs::read_dir(store.join("schemas"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    stems.sort();
    if let Ok(only) = std::env::var("STATEWRIGHT_CATALOG_ONLY") {
        let only: Vec<&str> = only.split(',').collect();
        stems.retain(|s| only.contains(&s.as_str()));
    }
    if let Some(n) = std::env::var("STATEWRIGHT_CATALOG_SAMPLE")
        .ok()
        .and_then(|n| n.parse::<usize>().ok())
    {
        let step = (stems.len() / n.max(1)).max(1);
        stems = stems.into_iter().step_by(step).take(n).collect();
    }
    let rows = measure(&store, &stems, "catalog-whole");
    let (text, totals) = table(&rows);
    println!("{text}\n{totals}");
}
