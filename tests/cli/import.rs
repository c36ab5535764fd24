//! `statewright import` end to end: export a temp copy of the example
//! state, import it into an empty state dir and into changed ones; tampered,
//! truncated and foreign bundles; dry runs. Every refusal is checked for
//! its message, its exit code and for leaving the state dir's bytes as they
//! were.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use statewright::check::hex;
use statewright::spec::document::{self, Format, ParseLimits};

use crate::util::copy_dir;
use crate::util::{Run, flat, run_in};

/// A temp project: the repo's schemas and project file, a copy of
/// examples/state as `state/` in which `processed.json` has been written
/// once (so it carries a serial and a lineage), and its export as
/// `bundle.json`.
struct Project {
    t: tempfile::TempDir,
}

const P: &str = "processed.json";
const RETRY: &str = "/failed/B0BZ9L4P6F/retry_count";

impl Project {
    fn new() -> Project {
        let t = crate::util::example_project();
        let p = Project { t };
        ok(&p.run(&["set", P, RETRY, "--increment", "1"]));
        ok(&p.run(&["export", "--output", "bundle.json"]));
        p
    }

    fn root(&self) -> &Path {
        self.t.path()
    }

    fn dir(&self, name: &str) -> PathBuf {
        self.t.path().join(name)
    }

    fn run(&self, args: &[&str]) -> Run {
        run_in(self.root(), args)
    }

    /// A fresh empty state dir `name`.
    fn empty(&self, name: &str) -> PathBuf {
        let d = self.dir(name);
        std::fs::create_dir(&d).unwrap();
        d
    }

    /// A copy of the untouched examples/state as `name`.
    fn examples(&self, name: &str) -> PathBuf {
        let d = self.dir(name);
        copy_dir(&crate::util::repo().join("examples/state"), &d);
        d
    }

    fn bundle(&self) -> Value {
        serde_json::from_slice(&std::fs::read(self.dir("bundle.json")).unwrap()).unwrap()
    }

    /// Writes `bundle` as `name` and returns the name.
    fn write_bundle(&self, name: &'static str, bundle: &Value) -> &'static str {
        std::fs::write(self.dir(name), serde_json::to_vec_pretty(bundle).unwrap()).unwrap();
        name
    }
}

/// Every file under `dir` (but the lock, which any locking command
/// creates) with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, Vec<u8>> {
    fn walk(root: &Path, dir: &Path, out: &mut BTreeMap<PathBuf, Vec<u8>>) {
        for e in std::fs::read_dir(dir).unwrap().flatten() {
            let p = e.path();
            if p.is_dir() {
                walk(root, &p, out);
            } else if e.file_name() != ".lock" {
                let rel = p.strip_prefix(root).unwrap().to_owned();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    let mut out = BTreeMap::new();
    walk(dir, dir, &mut out);
    out
}

fn ok(r: &Run) {
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

fn code(r: &Run, want: i32) {
    assert_eq!(r.code, want, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

/// Whether stderr says `text` (compared without whitespace: miette wraps
/// long words such as digests at any character).
fn says(r: &Run, text: &str) {
    let squeeze = |s: &str| s.split_whitespace().collect::<String>();
    assert!(
        squeeze(&flat(&r.stderr)).contains(&squeeze(text)),
        "want {text:?} in:\n{}",
        r.stderr
    );
}

/// A document's value, from its bytes (JSON or YAML by extension).
fn parse(path: &str, bytes: Vec<u8>) -> Value {
    let format = Format::from_path(Path::new(path)).unwrap();
    let source = document::decode(Path::new(path), bytes, format).unwrap();
    document::parse(&source, ParseLimits::default()).unwrap()
}

fn read(dir: &Path, rel: &str) -> Value {
    parse(rel, std::fs::read(dir.join(rel)).unwrap())
}

/// The document without the fields every write stamps.
fn content(mut v: Value) -> Value {
    let m = v.as_object_mut().unwrap();
    for f in ["serial", "checksum", "generated_at", "origin", "lineage"] {
        m.remove(f);
    }
    v
}

/// The bundle's documents: path, index in `files`, content.
fn documents(bundle: &Value) -> Vec<(String, usize, String)> {
    let manifest = bundle["manifest"].as_array().unwrap();
    manifest
        .iter()
        .enumerate()
        .filter(|(_, m)| m["role"] == "document")
        .map(|(i, m)| {
            let path = m["path"].as_str().unwrap().to_owned();
            let text = bundle["files"][i]["content"].as_str().unwrap().to_owned();
            (path, i, text)
        })
        .collect()
}

/// Replaces file `i`'s content and records its new size and sha256, as an
/// export would have.
fn rewrite(bundle: &mut Value, i: usize, text: &str) {
    bundle["files"][i]["content"] = json!(text);
    bundle["manifest"][i]["bytes"] = json!(text.len());
    bundle["manifest"][i]["sha256"] = json!(hex(&Sha256::digest(text.as_bytes())));
}

#[test]
fn import_restores_every_document_of_an_export_into_an_empty_state_dir() {
    let p = Project::new();
    let restored = p.empty("restored");
    let r = p.run(&["import", "bundle.json", "--state", "restored"]);
    ok(&r);
    assert!(
        r.stdout
            .contains("created   processed.json                      serial - -> 1\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "imported 10 documents from bundle.json into restored (10 created, 0 replaced, 0 unchanged)\n"
        ),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("not imported: 3 files of the exported state dir's own history"),
        "{}",
        r.stdout
    );
    // Every document comes back byte for byte as it was exported: its
    // serial was above every serial the empty state dir knew, so the
    // store kept the exported bytes instead of stamping them again.
    let state = p.dir("state");
    let docs = documents(&p.bundle());
    assert_eq!(docs.len(), 10);
    for (rel, _, text) in &docs {
        let original = std::fs::read(state.join(rel)).unwrap();
        assert_eq!(text.as_bytes(), original.as_slice(), "{rel}");
        assert_eq!(
            std::fs::read(restored.join(rel)).unwrap(),
            original,
            "{rel}"
        );
    }
    let (orig, back) = (read(&state, P), read(&restored, P));
    assert_eq!(back["lineage"], orig["lineage"]);
    assert_eq!(back["serial"], orig["serial"]);
    assert_eq!(back["failed"]["B0BZ9L4P6F"]["retry_count"], json!(4));
    // One transaction: ten audit lines with one tx id, each saying the
    // exported bytes were kept.
    let audit = std::fs::read_to_string(restored.join("audit.log")).unwrap();
    let lines: Vec<Value> = audit
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(lines.len(), 10);
    assert!(lines.iter().all(|l| l["tx"] == lines[0]["tx"]), "{audit}");
    assert!(
        lines
            .iter()
            .all(|l| l["outcome"] == "imported: the exported bytes kept"),
        "{audit}"
    );
    // `check` finds the restored state dir exactly as clean as the
    // exported one: the hashes index.json records of the packer manifests
    // still match.
    ok(&p.run(&["check", "state"]));
    let r = p.run(&["check", "restored", "--format", "json"]);
    let mut findings: Vec<(String, String, String)> = Vec::new();
    for d in r.json()["documents"].as_array().unwrap() {
        for f in d["findings"].as_array().unwrap() {
            let s = |k: &str| f[k].as_str().unwrap_or_default().to_owned();
            findings.push((
                d["file"].as_str().unwrap().to_owned(),
                s("code"),
                s("pointer"),
            ));
        }
    }
    let want = |f: &str, c: &str, p: &str| (f.to_owned(), c.to_owned(), p.to_owned());
    assert_eq!(
        findings,
        [want("restored/processed.json", "SW015", "/version")],
        "{}",
        r.stdout
    );
    // Importing the same bundle again finds every copy unchanged and
    // writes nothing.
    let before = snapshot(&restored);
    let r = p.run(&["import", "bundle.json", "--state", "restored"]);
    ok(&r);
    assert!(
        r.stdout.contains("(0 created, 0 replaced, 10 unchanged)"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("unchanged processed.json"),
        "{}",
        r.stdout
    );
    assert_eq!(snapshot(&restored), before);
}

#[test]
fn import_dry_run_prints_the_plan_and_writes_nothing() {
    let p = Project::new();
    let restored = p.empty("restored");
    let r = p.run(&["import", "bundle.json", "--state", "restored", "--dry-run"]);
    ok(&r);
    assert!(
        r.stdout
            .contains("created   config/dev.json                     serial - -> 0\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(
            "dry run: 10 documents from bundle.json into restored (10 created, 0 replaced, 0 unchanged); nothing written\n"
        ),
        "{}",
        r.stdout
    );
    assert!(snapshot(&restored).is_empty());
    // A replacement: the bundle's copy is a later serial of the same
    // lineage than the state dir's, so it keeps its serial.
    ok(&p.run(&["import", "bundle.json", "--state", "restored"]));
    ok(&p.run(&["set", P, RETRY, "--increment", "1"]));
    ok(&p.run(&["export", "--output", "newer.json"]));
    let before = snapshot(&restored);
    let r = p.run(&[
        "import",
        "newer.json",
        "--state",
        "restored",
        "--dry-run",
        "--format",
        "json",
    ]);
    ok(&r);
    let v = r.json();
    assert_eq!(
        (v["dry_run"].clone(), v["written"].clone()),
        (json!(true), json!(false))
    );
    let doc = v["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["file"] == P)
        .unwrap();
    assert_eq!(
        doc,
        &json!({"file": P, "kind": "mamfast-processed", "action": "replaced",
            "serial_before": 1, "serial_after": 2, "bundle_serial": 2, "version": 1})
    );
    let unchanged = v["documents"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["action"] == "unchanged")
        .count();
    assert_eq!(unchanged, 9);
    assert_eq!(v["skipped"].as_array().unwrap().len(), 4, "{v}");
    assert_eq!(snapshot(&restored), before);
}

#[test]
fn import_refuses_a_tampered_or_truncated_bundle_and_writes_nothing() {
    let p = Project::new();
    let state = p.dir("state");
    let restored = p.empty("restored");
    let before = (snapshot(&state), snapshot(&restored));
    // One byte of one document changed after export.
    let mut bundle = p.bundle();
    let (_, i, text) = documents(&bundle)
        .into_iter()
        .find(|(path, ..)| path == "config/dev.json")
        .unwrap();
    let edited = text.replacen("dev", "deX", 1);
    assert_ne!(edited, text);
    bundle["files"][i]["content"] = json!(edited);
    let name = p.write_bundle("tampered.json", &bundle);
    for dir in ["state", "restored"] {
        let r = p.run(&["import", name, "--state", dir]);
        code(&r, 2);
        says(
            &r,
            &format!(
                "tampered.json: config/dev.json at `/files/{i}/content` does not match the manifest: its content has sha256"
            ),
        );
        says(&r, "the bundle was changed after export, export it again");
    }
    // Cut in half.
    let bytes = std::fs::read(p.dir("bundle.json")).unwrap();
    std::fs::write(p.dir("truncated.json"), &bytes[..bytes.len() / 2]).unwrap();
    let r = p.run(&["import", "truncated.json", "--state", "restored"]);
    code(&r, 2);
    says(&r, "truncated.json: not a statewright bundle (line");
    says(
        &r,
        "the file is truncated or was not written by `statewright export`",
    );
    // A manifest entry without its file.
    let mut short = p.bundle();
    short["files"].as_array_mut().unwrap().pop();
    let name = p.write_bundle("short.json", &short);
    let r = p.run(&["import", name, "--state", "restored"]);
    code(&r, 2);
    says(&r, "the manifest lists 13 files, the bundle holds 12");
    // A document whose own checksum does not match, with a manifest that
    // does (the bundle of a state dir that was already corrupt).
    let mut corrupt = p.bundle();
    let (_, i, text) = documents(&corrupt)
        .into_iter()
        .find(|(path, ..)| path == P)
        .unwrap();
    let edited = text.replacen("\"retry_count\": 4", "\"retry_count\": 5", 1);
    assert_ne!(edited, text);
    rewrite(&mut corrupt, i, &edited);
    let name = p.write_bundle("corrupt.json", &corrupt);
    let r = p.run(&["import", name, "--state", "restored"]);
    code(&r, 2);
    says(
        &r,
        "corrupt.json: the bundle's copy of processed.json is not a valid document: checksum at `/checksum` records sha256:",
    );
    assert_eq!((snapshot(&state), snapshot(&restored)), before);
}

#[test]
fn import_refuses_a_newer_or_foreign_copy_unless_forced() {
    let p = Project::new();
    let state = p.dir("state");
    let bundled = read(&state, P);
    // The state dir moved on after the export: its copy is newer.
    ok(&p.run(&["set", P, RETRY, "--increment", "5"]));
    let before = snapshot(&state);
    let r = p.run(&["import", "bundle.json"]);
    code(&r, 4);
    says(
        &r,
        "processed.json: not imported, the state dir's copy is at serial 2, newer than the bundle's serial 1; nothing was written; pass --force to replace it with the bundle's copy",
    );
    assert_eq!(snapshot(&state), before);
    let r = p.run(&["import", "bundle.json", "--force"]);
    ok(&r);
    assert!(
        r.stdout
            .contains("replaced  processed.json                      serial 2 -> 3\n"),
        "{}",
        r.stdout
    );
    let now = read(&state, P);
    assert_eq!(content(now.clone()), content(bundled.clone()));
    assert_eq!(
        (now["serial"].clone(), now["lineage"].clone()),
        (json!(3), bundled["lineage"].clone())
    );
    // Another history of the same document: its lineage differs.
    let other = p.examples("other");
    ok(&p.run(&["set", P, RETRY, "--increment", "1", "--state", "other"]));
    let theirs = read(&other, P);
    let before = snapshot(&other);
    let r = p.run(&[
        "import",
        "bundle.json",
        "--state",
        "other",
        "--format",
        "json",
    ]);
    code(&r, 4);
    let message = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert_eq!(
        message,
        format!(
            "processed.json: not imported, the state dir's copy has lineage {}, the bundle's {} (another document's history); nothing was written; pass --force to replace it with the bundle's copy",
            theirs["lineage"].as_str().unwrap(),
            bundled["lineage"].as_str().unwrap()
        )
    );
    assert_eq!(snapshot(&other), before);
    ok(&p.run(&["import", "bundle.json", "--state", "other", "--force"]));
    let now = read(&other, P);
    assert_eq!(content(now.clone()), content(bundled.clone()));
    assert_eq!(now["lineage"], bundled["lineage"]);
    assert_eq!(now["serial"], json!(2));
    // The other documents were equal and are untouched.
    for rel in ["sources.json", "config/dev.json"] {
        assert_eq!(
            std::fs::read(other.join(rel)).unwrap(),
            before[Path::new(rel)]
        );
    }
}

#[test]
fn import_refuses_unknown_kinds_newer_versions_and_newer_bundle_formats() {
    let p = Project::new();
    let restored = p.empty("restored");
    let docs = documents(&p.bundle());
    let index = |want: &str| docs.iter().find(|(path, ..)| path == want).unwrap().1;
    // A document no kind of this catalog matches.
    let mut b = p.bundle();
    let i = index("sources.json");
    b["manifest"][i]["path"] = json!("vendor/thing.json");
    b["files"][i]["path"] = json!("vendor/thing.json");
    let name = p.write_bundle("unknown.json", &b);
    let r = p.run(&["import", name, "--state", "restored"]);
    code(&r, 2);
    says(
        &r,
        "unknown.json: no kind in the catalog matches document vendor/thing.json; add a [kinds.<name>] table",
    );
    // A schema version this catalog does not have yet.
    let mut b = p.bundle();
    let (_, i, text) = docs
        .iter()
        .find(|(path, ..)| path == "config/dev.json")
        .unwrap();
    let edited = text.replacen("\"schema_version\": 1", "\"schema_version\": 7", 1);
    assert_ne!(&edited, text);
    rewrite(&mut b, *i, &edited);
    let name = p.write_bundle("newer-version.json", &b);
    let r = p.run(&["import", name, "--state", "restored"]);
    code(&r, 4);
    says(
        &r,
        "newer-version.json: config/dev.json has schema version 7 of kind `env-config`, newer than the catalog knows (1); upgrade statewright or the catalog (schemas/env-config/v7.json) before importing",
    );
    // A document the schema refuses, late in the bundle: the store refuses
    // the transaction and none of the documents before it is written.
    let mut b = p.bundle();
    let (_, i, text) = docs
        .iter()
        .find(|(path, ..)| path == "sources.json")
        .unwrap();
    let mut v: Value = serde_json::from_str(text).unwrap();
    v["sources"] = json!("none");
    rewrite(&mut b, *i, &serde_json::to_string_pretty(&v).unwrap());
    let name = p.write_bundle("invalid.json", &b);
    let r = p.run(&["import", name, "--state", "restored"]);
    code(&r, 4);
    says(
        &r,
        "sources.json: not written, it does not match schema version 1",
    );
    assert!(snapshot(&restored).is_empty());
    // A newer bundle format, and something else.
    let mut b = p.bundle();
    b["format"] = json!("statewright-export/2");
    let name = p.write_bundle("format-2.json", &b);
    let r = p.run(&["import", name, "--state", "restored"]);
    code(&r, 4);
    says(
        &r,
        "format-2.json: bundle format \"statewright-export/2\", newer than this statewright reads (\"statewright-export/1\"); upgrade statewright to import it",
    );
    b["format"] = json!("tarball");
    let name = p.write_bundle("foreign.json", &b);
    let r = p.run(&["import", name, "--state", "restored"]);
    code(&r, 2);
    says(
        &r,
        "foreign.json: bundle format \"tarball\", expected \"statewright-export/1\"",
    );
    assert!(snapshot(&restored).is_empty());
}

#[test]
fn import_refuses_a_downgrade_or_a_corrupt_copy_unless_forced() {
    let p = Project::new();
    copy_dir(
        &crate::util::repo().join("migrations"),
        &p.dir("migrations"),
    );
    let state = p.dir("state");
    let bundled = read(&state, P);
    // The state dir's copy was migrated to v2 after the export.
    ok(&p.run(&["migrate", "state/processed.json"]));
    // And another document got truncated.
    let dev = state.join("config/dev.json");
    let bytes = std::fs::read(&dev).unwrap();
    std::fs::write(&dev, &bytes[..bytes.len() / 2]).unwrap();
    let before = snapshot(&state);
    let r = p.run(&["import", "bundle.json"]);
    code(&r, 4);
    says(
        &r,
        "config/dev.json: not imported, the state dir's copy is corrupt (",
    );
    says(&r, "pass --force to replace it with the bundle's copy");
    assert_eq!(snapshot(&state), before);
    std::fs::write(&dev, &bytes).unwrap();
    let r = p.run(&["import", "bundle.json"]);
    code(&r, 4);
    says(
        &r,
        "processed.json: not imported, the state dir's copy is at schema version 2, the bundle's at 1 (a downgrade); nothing was written",
    );
    std::fs::write(&dev, &bytes[..bytes.len() / 2]).unwrap();
    let r = p.run(&["import", "bundle.json", "--force"]);
    ok(&r);
    assert!(
        r.stdout
            .contains("replaced  config/dev.json                     serial - -> 0\n"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout
            .contains("replaced  processed.json                      serial 2 -> 3\n"),
        "{}",
        r.stdout
    );
    assert_eq!(content(read(&state, P)), content(bundled));
    assert_eq!(read(&state, P)["version"], json!(1));
    assert_eq!(
        content(read(&state, "config/dev.json")),
        content(parse("config/dev.json", bytes))
    );
}

#[test]
fn import_with_the_lock_held_exits_3_and_writes_nothing() {
    let p = Project::new();
    let restored = p.empty("restored");
    let mut child = crate::state::holder(&restored);
    let r = p.run(&["import", "bundle.json", "--state", "restored"]);
    crate::state::sigkill(&mut child);
    code(&r, 3);
    says(&r, "state lock restored/.lock is held by `test holder`");
    assert!(snapshot(&restored).is_empty());
}
