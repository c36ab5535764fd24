//! `statewright init --adopt DIR`: a project for a folder of JSON, YAML
//! and TOML files that nobody wrote schemas for.
//!
//! The files are grouped into kinds by where they are (one kind per
//! folder and extension, sibling folders holding the same file merged
//! into `parent/*/name`, a file at the top its own kind), a v1 schema is
//! inferred per kind from its documents ([`super::infer`]), up to three
//! documents per kind are copied as `examples/` fixtures, and every
//! document is validated against its inferred schema before anything is
//! written. The documents themselves are never touched: a kind whose
//! documents have no version field is declared `unversioned = 1`, and a
//! member whose name the store's envelope would use is moved out of the
//! way with `[kinds.<name>.fields]`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::{Value, json};
use statewright_spec::document::{self, Format, ParseLimits};
use statewright_spec::{EnvelopeFields, glob};

use super::infer::Shape;
use super::{InitError, create_dirs, planned_files, refuse_existing, state_dir, write_durably};
use crate::store::fs::{Fs, RealFs};
use crate::store::layout;

/// At most this many documents of a kind become `examples/` fixtures.
const FIXTURES_PER_KIND: usize = 3;

/// Top-level members taken as a version field when every document of a
/// kind has the same version in one of them.
const VERSION_MEMBERS: [&str; 6] = [
    "schema_version",
    "schemaVersion",
    "version",
    "spec_version",
    "format_version",
    "formatVersion",
];

/// What `init --adopt` found and wrote.
#[derive(Debug, Clone, Serialize)]
pub struct AdoptReport {
    /// The project folder.
    pub root: PathBuf,
    /// The adopted state dir, relative to `root`.
    pub state: String,
    /// One entry per proposed kind.
    pub kinds: Vec<AdoptedKind>,
    /// Files of the state dir that are not adopted, with why.
    pub skipped: Vec<Skipped>,
    /// The files written, relative to `root`, in the order written.
    pub files: Vec<PathBuf>,
    /// The commands to run next.
    pub next_steps: String,
}

/// A kind proposed from the files.
#[derive(Debug, Clone, Serialize)]
pub struct AdoptedKind {
    /// Its name in the project file.
    pub name: String,
    /// Its path pattern inside the state dir.
    pub path: String,
    /// The documents it covers, relative to the state dir.
    pub documents: Vec<String>,
    /// The version its documents are at.
    pub version: u32,
    /// The member holding the version, when the documents have one; else
    /// the kind is `unversioned`.
    pub version_field: Option<String>,
    /// Envelope fields moved to another member because the documents use
    /// the default name for something else: (field, new pointer).
    pub moved_fields: Vec<(String, String)>,
    /// The schema written, relative to the project folder.
    pub schema: PathBuf,
    /// The fixtures written, relative to the project folder.
    pub fixtures: Vec<PathBuf>,
    /// How many documents pass the inferred schema (all of them, or
    /// nothing is written).
    pub valid: usize,
}

/// A file left out of the adoption.
#[derive(Debug, Clone, Serialize)]
pub struct Skipped {
    /// The file, relative to the state dir.
    pub file: String,
    /// Why.
    pub reason: String,
}

struct Doc {
    rel: String,
    value: Value,
}

/// Writes a project in `root` for the existing folder `state` (relative
/// to `root`): the project file with one kind per group of files, a v1
/// schema per kind inferred from its documents, fixtures, and the files
/// `init` writes. Refuses, writing nothing, when any file it would write
/// exists or when a document would not pass its own inferred schema.
pub fn adopt(root: &Path, state: &Path) -> Result<AdoptReport, InitError> {
    let state = state_dir(state)?;
    let dir = root.join(&state);
    let (docs, skipped) = read_documents(&dir)?;
    if docs.is_empty() {
        return Err(InitError::NothingToAdopt {
            dir,
            skipped: skipped.len(),
        });
    }
    let groups = propose(&docs);
    let mut kinds = Vec::new();
    let mut files: Vec<(PathBuf, String)> = Vec::new();
    for (name, path, members) in groups {
        let chosen: Vec<&Doc> = members.iter().map(|&i| &docs[i]).collect();
        let (kind, written) = plan_kind(&dir, name, path, &chosen)?;
        kinds.push(kind);
        files.extend(written);
    }
    let project = project_text(&state, &kinds);
    let mut planned = planned_files(&state);
    planned[0].1 = project;
    planned.extend(files);
    refuse_existing(root, &planned)?;
    let mut dirs: Vec<PathBuf> = planned
        .iter()
        .filter_map(|(rel, _)| rel.parent().map(Path::to_owned))
        .filter(|d| !d.as_os_str().is_empty())
        .collect();
    dirs.dedup();
    create_dirs(root, &dirs)?;
    for (rel, text) in &planned {
        write_durably(&root.join(rel), text.as_bytes())?;
    }
    Ok(AdoptReport {
        root: root.to_owned(),
        next_steps: include_str!("adopt-next-steps.md").replace("{state}", &state),
        state,
        kinds,
        skipped,
        files: planned.into_iter().map(|(rel, _)| rel).collect(),
    })
}

/// Every JSON, YAML and TOML file of the folder that parses to an object.
fn read_documents(dir: &Path) -> Result<(Vec<Doc>, Vec<Skipped>), InitError> {
    let meta = std::fs::metadata(dir).map_err(|source| InitError::Io {
        path: dir.to_owned(),
        source,
    })?;
    if !meta.is_dir() {
        return Err(InitError::Io {
            path: dir.to_owned(),
            source: std::io::Error::other("not a folder"),
        });
    }
    let listing =
        layout::list(&RealFs, dir).map_err(|(path, source)| InitError::Io { path, source })?;
    let mut docs = Vec::new();
    let mut skipped: Vec<Skipped> = listing
        .special
        .iter()
        .map(|(file, what)| Skipped {
            file: file.clone(),
            reason: format!("{what}, not a regular file"),
        })
        .collect();
    for rel in listing.files {
        match read_one(dir, &rel) {
            Ok(value) => docs.push(Doc { rel, value }),
            Err(reason) => skipped.push(Skipped { file: rel, reason }),
        }
    }
    Ok((docs, skipped))
}

fn read_one(dir: &Path, rel: &str) -> Result<Value, String> {
    let path = dir.join(rel);
    let format = Format::from_path(&path).ok_or("not a .json, .yaml, .yml or .toml file")?;
    let bytes = RealFs.read(&path).map_err(|e| e.to_string())?;
    let value = document::decode(&path, bytes, format)
        .and_then(|source| document::parse(&source, ParseLimits::default()))
        .map_err(|e| e.to_string())?;
    if !value.is_object() {
        return Err("its top level is not an object (a kind's documents are objects)".into());
    }
    Ok(value)
}

/// Groups the documents into kinds: (name, path pattern, document indexes).
fn propose(docs: &[Doc]) -> Vec<(String, String, Vec<usize>)> {
    // (folder, extension) -> documents
    let mut by_dir: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
    for (i, d) in docs.iter().enumerate() {
        let (folder, file) = d.rel.rsplit_once('/').unwrap_or(("", &d.rel));
        let ext = file.rsplit_once('.').map_or("", |(_, e)| e);
        by_dir
            .entry((folder.to_owned(), ext.to_owned()))
            .or_default()
            .push(i);
    }
    let mut groups: Vec<(String, Vec<usize>)> = Vec::new();
    // Sibling folders under one parent folder (`runs/a`, `runs/b`) with
    // the same extension merge into one kind; top-level folders stay apart.
    let mut siblings: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for (folder, ext) in by_dir.keys() {
        if let Some((parent, _)) = folder.rsplit_once('/') {
            siblings
                .entry((parent.to_owned(), ext.clone()))
                .or_default()
                .push(folder.clone());
        }
    }
    let mut taken: Vec<(String, String)> = Vec::new();
    for ((parent, ext), folders) in &siblings {
        if folders.len() < 2 {
            continue;
        }
        let members: Vec<usize> = folders
            .iter()
            .flat_map(|f| by_dir[&(f.clone(), ext.clone())].clone())
            .collect();
        let names: Vec<&str> = members.iter().map(|&i| file_name(&docs[i].rel)).collect();
        let pattern = if names.iter().all(|n| *n == names[0]) {
            format!("{parent}/*/{}", names[0])
        } else {
            format!("{parent}/*/*.{ext}")
        };
        groups.push((pattern, members));
        taken.extend(folders.iter().map(|f| (f.clone(), ext.clone())));
    }
    for ((folder, ext), members) in &by_dir {
        if taken.contains(&(folder.clone(), ext.clone())) {
            continue;
        }
        if folder.is_empty() {
            for &i in members {
                groups.push((docs[i].rel.clone(), vec![i]));
            }
        } else {
            groups.push((format!("{folder}/*.{ext}"), members.clone()));
        }
    }
    exact_where_patterns_overlap(docs, &mut groups);
    name_groups(docs, groups)
}

fn file_name(rel: &str) -> &str {
    rel.rsplit_once('/').map_or(rel, |(_, f)| f)
}

/// A pattern that also matches another group's document is replaced by
/// its documents' exact paths.
fn exact_where_patterns_overlap(docs: &[Doc], groups: &mut Vec<(String, Vec<usize>)>) {
    let mut out = Vec::new();
    for (i, (pattern, members)) in groups.iter().enumerate() {
        let overlaps = groups.iter().enumerate().any(|(j, (_, others))| {
            j != i && others.iter().any(|&d| glob::matches(pattern, &docs[d].rel))
        });
        if overlaps {
            out.extend(members.iter().map(|&d| (docs[d].rel.clone(), vec![d])));
        } else {
            out.push((pattern.clone(), members.clone()));
        }
    }
    *groups = out;
}

/// Names each group after its folder (or its file, for one file), in the
/// project file's alphabet, unique.
fn name_groups(
    docs: &[Doc],
    groups: Vec<(String, Vec<usize>)>,
) -> Vec<(String, String, Vec<usize>)> {
    let mut used: Vec<String> = Vec::new();
    let mut out = Vec::new();
    for (pattern, members) in groups {
        let base = if pattern.contains('*') {
            pattern
                .split('/')
                .rev()
                .find(|s| !s.contains('*'))
                .map(|s| s.rsplit_once('.').map_or(s, |(stem, _)| stem))
                .unwrap_or("documents")
                .to_owned()
        } else {
            let f = file_name(&docs[members[0]].rel);
            f.rsplit_once('.').map_or(f, |(stem, _)| stem).to_owned()
        };
        let base = kind_name(&base);
        let mut name = base.clone();
        let mut n = 2;
        while used.contains(&name) {
            name = format!("{base}-{n}");
            n += 1;
        }
        used.push(name.clone());
        out.push((name, pattern, members));
    }
    out.sort();
    out
}

/// `s` in lower-case letters, digits and `-`.
fn kind_name(s: &str) -> String {
    let mut out = String::new();
    for c in s.chars() {
        if c.is_ascii_alphanumeric() {
            out.push(c.to_ascii_lowercase());
        } else if !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_matches('-').to_owned();
    if out.is_empty() {
        "documents".into()
    } else {
        out
    }
}

/// The schema, fixtures and report of one kind. The documents are
/// checked against the schema here.
fn plan_kind(
    dir: &Path,
    name: String,
    path: String,
    docs: &[&Doc],
) -> Result<(AdoptedKind, Vec<(PathBuf, String)>), InitError> {
    let values: Vec<&Value> = docs.iter().map(|d| &d.value).collect();
    let (version, version_field) = version_of(&values);
    let moved_fields = moved_fields(&values, version_field.as_deref());
    let mut schema = Shape::of(values.iter().copied()).root_schema();
    if let Some(map) = schema.as_object_mut() {
        let described = json!({
            "$schema": "https://json-schema.org/draft/2020-12/schema",
            "title": format!("{name} (v{version})"),
            "description": format!(
                "Inferred by `statewright init --adopt` from {} document(s) matching `{path}`; review it.",
                docs.len()
            ),
        });
        let mut out = described.as_object().cloned().unwrap_or_default();
        out.extend(std::mem::take(map));
        schema = Value::Object(out);
    }
    check_documents(dir, &schema, docs)?;
    let schema_rel = PathBuf::from("schemas")
        .join(&name)
        .join(format!("v{version}.json"));
    let mut files = vec![(schema_rel.clone(), pretty(&schema))];
    let mut fixtures = Vec::new();
    for d in docs.iter().take(FIXTURES_PER_KIND) {
        let stem = kind_name(&d.rel);
        let rel = PathBuf::from("schemas")
            .join(&name)
            .join("examples")
            .join(format!("v{version}"))
            .join(format!("{stem}.json"));
        files.push((rel.clone(), pretty(&d.value)));
        fixtures.push(rel);
    }
    let kind = AdoptedKind {
        name,
        path,
        documents: docs.iter().map(|d| d.rel.clone()).collect(),
        version,
        version_field,
        moved_fields,
        schema: schema_rel,
        fixtures,
        valid: docs.len(),
    };
    Ok((kind, files))
}

fn pretty(v: &Value) -> String {
    let mut s = serde_json::to_string_pretty(v).unwrap_or_default();
    s.push('\n');
    s
}

/// The version every document has in one of [`VERSION_MEMBERS`] (the same
/// one in all), or 1 and none.
fn version_of(values: &[&Value]) -> (u32, Option<String>) {
    for member in VERSION_MEMBERS {
        let pointer = format!("/{member}");
        let found: Vec<Option<u32>> = values
            .iter()
            .map(|v| statewright_spec::catalog::version_of(v, &pointer).ok())
            .collect();
        if let Some(Some(first)) = found.first()
            && *first >= 1
            && found.iter().all(|v| *v == Some(*first))
        {
            return (*first, Some(pointer));
        }
    }
    (1, None)
}

/// Envelope fields whose default member the documents already use (for
/// something else): each moved to `/statewright_<name>`.
fn moved_fields(values: &[&Value], version_field: Option<&str>) -> Vec<(String, String)> {
    let defaults = EnvelopeFields::default();
    defaults
        .all()
        .into_iter()
        .filter(|(field, pointer)| {
            !(*field == "version" && version_field.is_some())
                && values.iter().any(|v| v.pointer(pointer).is_some())
        })
        .map(|(field, _)| ((*field).to_owned(), format!("/statewright_{field}")))
        .collect()
}

/// Every document must pass the schema inferred from it (formats checked).
fn check_documents(dir: &Path, schema: &Value, docs: &[&Doc]) -> Result<(), InitError> {
    let validator = jsonschema::options()
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| InitError::Inference {
            file: dir.to_owned(),
            message: format!("the inferred schema does not compile: {e}"),
        })?;
    for d in docs {
        if let Some(e) = validator.iter_errors(&d.value).next() {
            return Err(InitError::Inference {
                file: dir.join(&d.rel),
                message: format!("fails its inferred schema at `{}`: {e}", e.instance_path()),
            });
        }
    }
    Ok(())
}

/// The project file: `init`'s header and one table per kind.
fn project_text(state: &str, kinds: &[AdoptedKind]) -> String {
    let base = super::project_file_text(state);
    let head = base
        .split("\n# One table per document kind.")
        .next()
        .unwrap_or(&base);
    let mut out = format!(
        "{head}\n# Kinds proposed by `statewright init --adopt` from the files in {state}/:\n# review their names, path patterns and schemas (schemas/<kind>/).\n"
    );
    for k in kinds {
        out.push_str(&format!("\n[kinds.{}]\n", k.name));
        out.push_str(&format!(
            "description = \"{} document(s), schema inferred from them\"\n",
            k.documents.len()
        ));
        out.push_str(&format!("path = {}\n", toml_string(&k.path)));
        if k.version_field.is_none() {
            out.push_str("unversioned = 1             # no version field yet: read as v1; the next write stamps one\n");
        }
        let mut fields: Vec<(String, String)> = k.moved_fields.clone();
        if let Some(v) = &k.version_field {
            fields.insert(0, ("version".into(), v.clone()));
        }
        if !fields.is_empty() {
            out.push_str(&format!("[kinds.{}.fields]\n", k.name));
            for (field, pointer) in fields {
                out.push_str(&format!("{field} = {}\n", toml_string(&pointer)));
            }
        }
    }
    out
}

fn toml_string(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn docs(rels: &[&str]) -> Vec<Doc> {
        rels.iter()
            .map(|r| Doc {
                rel: (*r).to_owned(),
                value: json!({}),
            })
            .collect()
    }

    fn kinds(rels: &[&str]) -> Vec<(String, String)> {
        propose(&docs(rels))
            .into_iter()
            .map(|(n, p, _)| (n, p))
            .collect()
    }

    #[test]
    fn kinds_follow_the_folders() {
        let got = kinds(&[
            "config/dev.json",
            "config/prod.json",
            "processed.json",
            "runs/a/state.yaml",
            "runs/b/state.yaml",
            "pins/web.json",
        ]);
        let want = [
            ("state", "runs/*/state.yaml"),
            ("config", "config/*.json"),
            ("pins", "pins/*.json"),
            ("processed", "processed.json"),
        ];
        for (n, p) in want {
            assert!(got.contains(&(n.into(), p.into())), "{n} {p}: {got:?}");
        }
        assert_eq!(got.len(), 4);
    }

    #[test]
    fn kind_names_are_lower_case_words() {
        assert_eq!(kind_name("My State_File"), "my-state-file");
        assert_eq!(kind_name("__"), "documents");
    }
}
