//! The JSON-Schema-Test-Suite (draft 2020-12 and draft 7, required tests)
//! through statewright's validate path: the library's `Validator` case by
//! case, and the CLI group by group. Remotes are served by the offline
//! registry from the suite's `remotes/` folder; nothing touches the network.

use std::path::PathBuf;

use serde_json::Value;
use statewright::spec::OfflineRegistry;
use statewright::validate::{ValidateOptions, Validator};

use crate::util::{corpus, run_in, tempdir};

/// Cases that cannot pass, by "file / group / test", with the reason.
/// Target: none.
const XFAIL: &[(&str, &str)] = &[];

fn suite() -> PathBuf {
    corpus().join("json-schema-test-suite")
}

fn files(draft: &str) -> Vec<PathBuf> {
    let mut v: Vec<_> = std::fs::read_dir(suite().join("tests").join(draft))
        .expect("suite dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "json"))
        .collect();
    v.sort();
    v
}

fn registry() -> OfflineRegistry {
    let mut r = OfflineRegistry::new();
    r.map("http://localhost:1234/", suite().join("remotes"));
    r
}

fn draft_of(name: &str) -> jsonschema::Draft {
    match name {
        "draft7" => jsonschema::Draft::Draft7,
        _ => jsonschema::Draft::Draft202012,
    }
}

struct Tally {
    passed: usize,
    failed: Vec<String>,
    xfailed: usize,
}

fn library(draft: &str) -> Tally {
    let validator = Validator::new(
        None,
        registry(),
        ValidateOptions {
            draft: Some(draft_of(draft)),
            ..Default::default()
        },
    );
    let mut t = Tally {
        passed: 0,
        failed: Vec::new(),
        xfailed: 0,
    };
    for file in files(draft) {
        let groups: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let fname = file.file_name().unwrap().to_string_lossy().into_owned();
        for g in &groups {
            let gdesc = g["description"].as_str().unwrap_or_default();
            let compiled = validator.compile(&file, &g["schema"]);
            for case in g["tests"].as_array().unwrap() {
                let id = format!(
                    "{fname} / {gdesc} / {}",
                    case["description"].as_str().unwrap_or_default()
                );
                let expected = case["valid"].as_bool().unwrap();
                let got = match &compiled {
                    Ok(v) => Ok(v.is_valid(&case["data"])),
                    Err(e) => Err(e.to_string()),
                };
                let xfail = XFAIL.iter().any(|(x, _)| *x == id);
                match got {
                    Ok(g) if g == expected && !xfail => t.passed += 1,
                    _ if xfail => t.xfailed += 1,
                    Ok(_) => t.failed.push(format!("{id}: expected valid={expected}")),
                    Err(e) => t.failed.push(format!("{id}: schema did not compile: {e}")),
                }
            }
        }
    }
    t
}

fn report(label: &str, t: &Tally) {
    println!(
        "{label}: {} passed, {} failed, {} expected failures",
        t.passed,
        t.failed.len(),
        t.xfailed
    );
    for f in &t.failed {
        println!("  FAIL {f}");
    }
    for (id, why) in XFAIL {
        println!("  XFAIL {id}: {why}");
    }
}

#[test]
fn library_draft2020_12() {
    let t = library("draft2020-12");
    report("JSON-Schema-Test-Suite draft2020-12 (library)", &t);
    assert!(t.passed > 1000, "suite not found or empty");
    assert!(t.failed.is_empty(), "{} cases failed", t.failed.len());
}

#[test]
fn library_draft7() {
    let t = library("draft7");
    report("JSON-Schema-Test-Suite draft7 (library)", &t);
    assert!(t.passed > 700, "suite not found or empty");
    assert!(t.failed.is_empty(), "{} cases failed", t.failed.len());
}

/// Runs the CLI once per group: the group's schema and each test's data as
/// files, `--format json`, and compares each document's verdict.
fn cli(draft: &str) -> Tally {
    let tmp = tempdir();
    let remotes = format!(
        "http://localhost:1234/={}",
        suite().join("remotes").display()
    );
    let draft_arg = if draft == "draft7" { "7" } else { "2020-12" };
    let mut t = Tally {
        passed: 0,
        failed: Vec::new(),
        xfailed: 0,
    };
    for file in files(draft) {
        let groups: Vec<Value> =
            serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
        let fname = file.file_name().unwrap().to_string_lossy().into_owned();
        for (gi, g) in groups.iter().enumerate() {
            let dir = tmp
                .path()
                .join(format!("{}-{gi}", fname.trim_end_matches(".json")));
            std::fs::create_dir_all(&dir).unwrap();
            let schema = dir.join("schema.json");
            std::fs::write(&schema, serde_json::to_vec(&g["schema"]).unwrap()).unwrap();
            let cases = g["tests"].as_array().unwrap();
            let mut args: Vec<String> = vec![
                "validate".into(),
                "--format".into(),
                "json".into(),
                "--draft".into(),
                draft_arg.into(),
                "--schema-dir".into(),
                remotes.clone(),
                "--schema".into(),
                schema.display().to_string(),
            ];
            for (ci, case) in cases.iter().enumerate() {
                let p = dir.join(format!("d{ci}.json"));
                std::fs::write(&p, serde_json::to_vec(&case["data"]).unwrap()).unwrap();
                args.push(p.display().to_string());
            }
            let argv: Vec<&str> = args.iter().map(String::as_str).collect();
            let out = run_in(tmp.path(), &argv);
            let gdesc = g["description"].as_str().unwrap_or_default();
            if out.code == 2 {
                t.failed
                    .push(format!("{fname} / {gdesc}: exit 2: {}", out.stderr.trim()));
                continue;
            }
            let json = out.json();
            let docs = json["documents"].as_array().unwrap();
            for (ci, case) in cases.iter().enumerate() {
                let id = format!(
                    "{fname} / {gdesc} / {}",
                    case["description"].as_str().unwrap_or_default()
                );
                let valid = docs[ci]["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .all(|f| f["severity"] != "error");
                let expected = case["valid"].as_bool().unwrap();
                let xfail = XFAIL.iter().any(|(x, _)| *x == id);
                if xfail {
                    t.xfailed += 1;
                } else if valid == expected {
                    t.passed += 1;
                } else {
                    t.failed.push(format!("{id}: expected valid={expected}"));
                }
            }
            // The exit code agrees with the verdicts.
            let any_invalid = docs.iter().any(|d| {
                d["findings"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|f| f["severity"] == "error")
            });
            assert_eq!(
                out.code,
                i32::from(any_invalid),
                "{fname} / {gdesc}: exit code"
            );
        }
    }
    t
}

#[test]
fn cli_draft2020_12() {
    let t = cli("draft2020-12");
    report("JSON-Schema-Test-Suite draft2020-12 (CLI)", &t);
    assert!(t.passed > 1000);
    assert!(t.failed.is_empty(), "{} cases failed", t.failed.len());
}

#[test]
fn cli_draft7() {
    let t = cli("draft7");
    report("JSON-Schema-Test-Suite draft7 (CLI)", &t);
    assert!(t.passed > 700);
    assert!(t.failed.is_empty(), "{} cases failed", t.failed.len());
}
