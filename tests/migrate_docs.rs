//! docs/MIGRATIONS.md cannot drift from the format: every op of the Rust
//! enum (as the format's JSON Schema lists it) has a section, and every
//! example migration parses and runs, up to the shown `after` and, for a
//! reversible step, down to the shown `before`.

use std::path::Path;

use serde_json::Value;
use statewright::migrate::{Hooks, run_ops};
use statewright::spec::migration::{json_schema, parse_str};

fn doc() -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/MIGRATIONS.md"))
        .expect("docs/MIGRATIONS.md")
}

/// The fenced blocks of `text` as (info string, body).
fn blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut open: Option<(String, String)> = None;
    for line in text.lines() {
        match (&mut open, line.strip_prefix("```")) {
            (None, Some(info)) => open = Some((info.trim().to_owned(), String::new())),
            (Some(_), Some("")) => out.push(open.take().expect("open")),
            (Some((_, body)), _) => {
                body.push_str(line);
                body.push('\n');
            }
            (None, None) => {}
        }
    }
    out
}

/// The op names the format's JSON Schema lists (one per `Op` variant).
fn op_names() -> Vec<String> {
    let schema: Value = serde_json::from_str(&json_schema()).unwrap();
    let mut names: Vec<String> = schema["$defs"]["Op"]["oneOf"]
        .as_array()
        .expect("Op is a oneOf")
        .iter()
        .filter_map(|v| v["required"][0].as_str().map(str::to_owned))
        .collect();
    names.sort();
    names
}

#[test]
fn every_op_has_a_section_with_an_example() {
    let text = doc();
    let names = op_names();
    assert_eq!(names.len(), 11, "{names:?}");
    for name in &names {
        let head = format!("\n### `{name}`\n");
        let at = text
            .find(&head)
            .unwrap_or_else(|| panic!("docs/MIGRATIONS.md has no section `### `{name}``"));
        let section = &text[at + head.len()..];
        let section = &section[..section.find("\n## ").unwrap_or(section.len())];
        let section = &section[..section.find("\n### ").unwrap_or(section.len())];
        assert!(section.contains("Inverse"), "`{name}`: no inverse said");
        let ex = blocks(section);
        let m = ex
            .iter()
            .find(|(info, _)| info == "yaml migration")
            .unwrap_or_else(|| panic!("`{name}`: no example migration"));
        assert!(
            m.1.contains(&format!("- {name}:")),
            "`{name}`: the example does not use it"
        );
    }
}

#[test]
fn every_example_parses_and_runs_as_shown() {
    let ex = blocks(&doc());
    let mut ran = 0;
    for (i, (info, body)) in ex.iter().enumerate() {
        if info != "yaml migration" {
            continue;
        }
        let m = parse_str("0001_example.yaml", body).unwrap_or_else(|e| panic!("{e}\n{body}"));
        let (Some((b, before)), Some((a, after))) = (ex.get(i + 1), ex.get(i + 2)) else {
            continue;
        };
        if b != "json before" || a != "json after" {
            continue;
        }
        let before: Value = serde_json::from_str(before).unwrap();
        let after: Value = serde_json::from_str(after).unwrap();
        let mut v = before.clone();
        run_ops(&m.file.ops, &mut v, &Hooks::new()).unwrap();
        assert_eq!(v, after, "up:\n{body}");
        if m.round_trips() {
            run_ops(&m.down, &mut v, &Hooks::new()).unwrap();
            assert_eq!(v, before, "down:\n{body}");
        }
        ran += 1;
    }
    assert!(ran >= 9, "only {ran} examples ran");
}

#[test]
fn the_readme_links_the_reference_and_the_schema() {
    let readme =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("README.md")).unwrap();
    assert!(readme.contains("docs/MIGRATIONS.md"));
    assert!(readme.contains("migrations/migration.schema.json"));
}
