//! The operator commands (`get`, `set`, `rm`, `list`, `export`, `prune`)
//! end to end on a temp copy of the example state: output text, exit
//! codes, bytes on disk, dry runs that change nothing, bad input, and 50
//! concurrent incrementing processes.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use statewright::check::hex;
use statewright::ops::Bundle;

use crate::util::{Run, flat, run_in, tempdir};
use statewright::spec::document::Portable;

/// A temp project: the repo's schemas and project file, a copy of
/// examples/state as `state/`.
struct Project {
    t: tempfile::TempDir,
}

impl Project {
    fn new() -> Project {
        let t = crate::util::example_project();
        Project { t }
    }

    fn root(&self) -> &Path {
        self.t.path()
    }

    fn state(&self) -> PathBuf {
        self.t.path().join("state")
    }

    fn run(&self, args: &[&str]) -> Run {
        run_in(self.root(), args)
    }

    fn bytes(&self, rel: &str) -> Vec<u8> {
        std::fs::read(self.state().join(rel)).unwrap()
    }

    fn doc(&self, rel: &str) -> Value {
        serde_json::from_slice(&self.bytes(rel)).unwrap()
    }

    fn audit(&self) -> Vec<Value> {
        std::fs::read_to_string(self.state().join("audit.log"))
            .unwrap_or_default()
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect()
    }
}

fn ok(r: &Run) {
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

fn code(r: &Run, want: i32) {
    assert_eq!(r.code, want, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

const P: &str = "processed.json";

#[test]
fn get_prints_json_raw_strings_and_reports_missing_members_with_exit_0() {
    let p = Project::new();
    let r = p.run(&["get", P, "/processed/B0CX7W3N1T/status", "--raw"]);
    ok(&r);
    assert_eq!(r.stdout, "STAGED\n");
    let r = p.run(&["get", P, "/processed/B0CX7W3N1T/status"]);
    assert_eq!(r.stdout, "\"STAGED\"\n");
    let r = p.run(&["get", P, "/failed/B0DG2H7J9K/retry_count"]);
    assert_eq!(r.stdout, "1\n");
    // A path to the file inside the state dir works as well.
    let r = p.run(&["get", "state/processed.json", "/version"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "1\n"));
    // Missing: said plainly on stderr, nothing on stdout, exit 0.
    let r = p.run(&["get", P, "/processed/B0NOTHERE"]);
    ok(&r);
    assert_eq!(r.stdout, "");
    assert_eq!(
        r.stderr,
        "/processed/B0NOTHERE not found in processed.json\n"
    );
    let r = p.run(&["--format", "json", "get", P, "/processed/B0NOTHERE"]);
    ok(&r);
    assert_eq!(r.json()["found"], json!(false));
    let r = p.run(&["--format", "json", "get", P, "/version"]);
    assert_eq!(
        r.json(),
        json!({"file": P, "pointer": "/version", "found": true, "value": 1})
    );
}

#[test]
fn bad_pointers_missing_files_and_unknown_kinds_are_usage_errors() {
    let p = Project::new();
    let r = p.run(&["get", P, "processed"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains(
            "`processed` is not a JSON pointer: it must start with `/` (did you mean `/processed`?)"
        ),
        "{}",
        r.stderr
    );
    let r = p.run(&["set", P, "/a~2b", "1"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("`~` at character 3 must be followed by 0 or 1"),
        "{}",
        r.stderr
    );
    let r = p.run(&["get", "config/staging.json", "/x"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("config/staging.json does not exist"),
        "{}",
        r.stderr
    );
    std::fs::write(p.state().join("notes.json"), "{}").unwrap();
    let r = p.run(&["get", "notes.json", "/x"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("no kind in the catalog matches `notes.json`"),
        "{}",
        r.stderr
    );
    let outside = p.root().join("statewright.toml");
    let r = p.run(&["get", outside.to_str().unwrap(), "/x"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("is not inside the state dir"),
        "{}",
        r.stderr
    );
    // Refused before the store is opened: not even a lock file appears.
    let _ = std::fs::remove_file(p.state().join(".lock"));
    let r = p.run(&["set", outside.to_str().unwrap(), "/x", "1"]);
    code(&r, 2);
    assert!(!p.state().join(".lock").exists());
    // --state points elsewhere.
    let r = p.run(&["get", "--state", "nowhere", P, "/version"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("state directory nowhere does not exist"),
        "{}",
        r.stderr
    );
}

#[test]
fn set_writes_through_the_store_stamped_backed_up_and_audited() {
    let p = Project::new();
    let before = p.bytes(P);
    let r = p.run(&["set", P, "/processed/B0CX7W3N1T/status", "METADATA_FETCHED"]);
    ok(&r);
    assert_eq!(
        r.stdout,
        "set /processed/B0CX7W3N1T/status in processed.json: STAGED → METADATA_FETCHED (serial 1)\n"
    );
    let doc = p.doc(P);
    assert_eq!(doc["processed"]["B0CX7W3N1T"]["status"], "METADATA_FETCHED");
    assert_eq!(doc["serial"], 1);
    assert_eq!(doc["origin"]["command"], "set");
    assert!(doc["checksum"].as_str().unwrap().starts_with("sha256:"));
    // Everything else kept.
    let mut old: Value = serde_json::from_slice(&before).unwrap();
    old["processed"]["B0CX7W3N1T"]["status"] = json!("METADATA_FETCHED");
    for k in ["serial", "lineage", "checksum", "generated_at", "origin"] {
        old[k] = doc[k].clone();
    }
    assert_eq!(doc, old);
    // The replaced version is in .backup/, byte for byte; one audit line.
    let backups: Vec<_> = std::fs::read_dir(p.state().join(".backup"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| {
            p.file_name()
                .unwrap()
                .to_str()
                .unwrap()
                .starts_with("processed.json.")
        })
        .collect();
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert_eq!(std::fs::read(&backups[0]).unwrap(), before);
    let audit = p.audit();
    assert_eq!(audit.len(), 1);
    assert_eq!(
        (audit[0]["command"].as_str(), audit[0]["file"].as_str()),
        (Some("set"), Some(P))
    );
    // The file is readable again, through the store.
    let r = p.run(&["get", P, "/processed/B0CX7W3N1T/status", "--raw"]);
    assert_eq!(r.stdout, "METADATA_FETCHED\n");
}

#[test]
fn set_reads_json_literals_else_strings_and_the_schema_refuses_bad_values() {
    let p = Project::new();
    let t = "/processed/B0CX7W3N1T/title";
    // A number where the schema wants a string: refused with the pointer, exit 4, nothing written.
    let before = p.bytes(P);
    let r = p.run(&["--format", "json", "set", P, t, "42"]);
    code(&r, 4);
    let e = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(e.contains("processed.json: not written, it does not match schema version 1: at `/processed/B0CX7W3N1T/title`: 42 is not of type \"string\""), "{e}");
    assert_eq!(
        r.json()["error"]["help"],
        "give a value the schema accepts at that pointer (or change the schema and add a migration)"
    );
    assert_eq!(p.bytes(P), before);
    // --string takes it as text.
    ok(&p.run(&["set", P, t, "42", "--string"]));
    assert_eq!(p.doc(P)["processed"]["B0CX7W3N1T"]["title"], "42");
    // Not JSON: a string.
    ok(&p.run(&["set", P, t, "A Quiet Harbour, Revised"]));
    assert_eq!(
        p.doc(P)["processed"]["B0CX7W3N1T"]["title"],
        "A Quiet Harbour, Revised"
    );
    ok(&p.run(&["set", P, "/processed/B0CX7W3N1T/author", "null"]));
    assert_eq!(p.doc(P)["processed"]["B0CX7W3N1T"]["author"], Value::Null);
    // --json: bad JSON is an error with line and column.
    let r = p.run(&["set", P, t, "--json", "{\"a\": "]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("VALUE is not valid JSON at line 1 column 6"),
        "{}",
        r.stderr
    );
    // A missing parent is named; --parents would create it.
    let r = p.run(&["set", P, "/processed/B0NEW/status", "STAGED"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("cannot set `/processed/B0NEW/status`: its parent `/processed/B0NEW` does not exist; pass --parents to create missing objects"),
        "{}",
        r.stderr
    );
    // With --parents the entry is created, and the schema refuses it (required members missing).
    let r = p.run(&[
        "--format",
        "json",
        "set",
        P,
        "/processed/B0NEW/status",
        "STAGED",
        "--parents",
    ]);
    code(&r, 4);
    let e = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(
        e.contains("at `/processed/B0NEW`: \"asin\" is a required property"),
        "{e}"
    );
    // Envelope fields are the store's.
    let r = p.run(&["set", P, "/serial", "7"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("`/serial` is the envelope's serial"),
        "{}",
        r.stderr
    );
}

#[test]
fn increment_adds_to_numbers_and_refuses_anything_else() {
    let p = Project::new();
    let c = "/failed/B0BZ9L4P6F/retry_count";
    let r = p.run(&["set", P, c, "--increment", "2"]);
    ok(&r);
    assert_eq!(
        r.stdout,
        format!("set {c} in processed.json: 3 → 5 (serial 1)\n")
    );
    ok(&p.run(&["set", P, c, "--increment", "-1"]));
    assert_eq!(p.doc(P)["failed"]["B0BZ9L4P6F"]["retry_count"], 4);
    let before = p.bytes(P);
    let r = p.run(&["set", P, "/failed/B0BZ9L4P6F/title", "--increment", "1"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains(
            "`/failed/B0BZ9L4P6F/title` holds \"The Lantern Keepers, Book 3\", not a number"
        ),
        "{}",
        r.stderr
    );
    let r = p.run(&["set", P, c, "--increment", "one"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("--increment needs a number, not `one`"),
        "{}",
        r.stderr
    );
    assert_eq!(p.bytes(P), before);
}

#[test]
fn dry_runs_print_the_patch_and_change_nothing() {
    let p = Project::new();
    let before = p.bytes(P);
    let r = p.run(&[
        "set",
        P,
        "/failed/B0BZ9L4P6F/retry_count",
        "--increment",
        "1",
        "--dry-run",
    ]);
    ok(&r);
    assert!(
        r.stdout.starts_with(
            "[\n  {\n    \"op\": \"replace\",\n    \"path\": \"/failed/B0BZ9L4P6F/retry_count\",\n    \"value\": 4\n  }\n]\n"
        ),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("dry run: processed.json not written (the write would pass every check and make serial 1)"), "{}", r.stdout);
    let r = p.run(&["rm", P, "/failed/B0DG2H7J9K", "--dry-run"]);
    ok(&r);
    assert!(
        r.stdout
            .contains("\"op\": \"remove\",\n    \"path\": \"/failed/B0DG2H7J9K\""),
        "{}",
        r.stdout
    );
    // A dry run that the schema would refuse is refused too.
    let r = p.run(&["set", P, "/processed/B0CX7W3N1T/title", "42", "--dry-run"]);
    code(&r, 4);
    let r = p.run(&["prune"]);
    ok(&r);
    assert_eq!(p.bytes(P), before);
    assert!(!p.state().join("audit.log").exists());
    assert!(!p.state().join(".backup").exists());
}

#[test]
fn rm_removes_through_the_write_path_and_missing_is_not_an_error() {
    let p = Project::new();
    let r = p.run(&["rm", P, "/failed/B0BZ9L4P6F"]);
    ok(&r);
    assert_eq!(
        r.stdout,
        "removed /failed/B0BZ9L4P6F from processed.json (serial 1)\n"
    );
    let doc = p.doc(P);
    assert!(doc["failed"].get("B0BZ9L4P6F").is_none());
    assert!(doc["failed"].get("B0DG2H7J9K").is_some());
    let r = p.run(&["rm", P, "/failed/B0BZ9L4P6F"]);
    ok(&r);
    assert_eq!(
        r.stdout,
        "/failed/B0BZ9L4P6F not found in processed.json; nothing removed\n"
    );
    // A required member: refused with the schema's error.
    let before = p.bytes(P);
    let r = p.run(&["--format", "json", "rm", P, "/processed/B0CX7W3N1T/title"]);
    code(&r, 4);
    let e = r.json()["error"]["message"].as_str().unwrap().to_owned();
    assert!(e.contains("not written, it does not match schema version 1: at `/processed/B0CX7W3N1T`: \"title\" is a required property"), "{e}");
    let r = p.run(&["rm", P, "/version"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("(change versions with `statewright migrate`)"),
        "{}",
        r.stderr
    );
    let r = p.run(&["rm", P, ""]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("refusing to remove the whole document"),
        "{}",
        r.stderr
    );
    assert_eq!(p.bytes(P), before);
}

#[test]
fn list_shows_documents_with_kind_version_serial_and_writer() {
    let p = Project::new();
    ok(&p.run(&[
        "set",
        P,
        "/failed/B0BZ9L4P6F/retry_count",
        "--increment",
        "1",
    ]));
    let r = p.run(&["list"]);
    ok(&r);
    let lines: Vec<String> = r.stdout.lines().map(flat).collect();
    assert_eq!(lines[0], "FILE KIND VERSION SERIAL WRITTEN BY AT");
    assert!(
        lines.contains(
            &"sources.json sources 1 0 hybridcore sources sync 2026-03-12T09:41:07Z".to_owned()
        ),
        "{}",
        r.stdout
    );
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("processed.json mamfast-processed 1 1 set 20")),
        "{}",
        r.stdout
    );
    assert_eq!(lines.last().unwrap(), "10 documents in state");
    let r = p.run(&["--format", "json", "list", "--kind", "env-config"]);
    ok(&r);
    let v = r.json();
    let short = p.run(&["list", "--kind", "env-config", "--json"]);
    assert_eq!(short.stdout, r.stdout, "--json is --format json");
    let files: Vec<&str> = v["documents"]
        .as_array()
        .unwrap()
        .iter()
        .map(|d| d["file"].as_str().unwrap())
        .collect();
    assert_eq!(files, ["config/dev.json", "config/prod.json"]);
    assert_eq!(
        v["documents"][0]["command"],
        "hybridcore config render --env dev"
    );
    let r = p.run(&["list", "--kind", "nope"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains(
            "no kind `nope` in the catalog; known kinds: agentspec-state, artifact-index"
        ),
        "{}",
        r.stderr
    );
    // A corrupt document is listed with its error; exit 1.
    std::fs::write(p.state().join("sources.json"), "{\"schema_version\": 1,").unwrap();
    let r = p.run(&["list"]);
    code(&r, 1);
    assert!(
        flat(&r.stdout).contains("sources.json sources - - - -"),
        "{}",
        r.stdout
    );
    assert!(
        flat(&r.stdout).contains("error: ")
            && r.stdout.contains("10 documents in state, 1 unreadable"),
        "{}",
        r.stdout
    );
}

#[test]
fn list_entries_filters_with_where() {
    let p = Project::new();
    let r = p.run(&["list", P, "/processed", "--where", "status=COMPLETE"]);
    ok(&r);
    let keys: Vec<&str> = r
        .stdout
        .lines()
        .filter_map(|l| l.split("  ").next())
        .collect();
    assert_eq!(
        keys,
        [
            "B08XJ4QK7L",
            "B0C1234XYZ",
            "2 entries matching at /processed in processed.json"
        ]
    );
    assert!(r.stdout.starts_with("B08XJ4QK7L  asin=B08XJ4QK7L author=\"Hal Brennan\" processed_at=2025-11-30T18:02:44+00:00 status=COMPLETE title=\"The Winter Orchard\"\n"), "{}", r.stdout);
    let r = p.run(&[
        "--format",
        "json",
        "list",
        P,
        "/failed",
        "--where",
        "retry_count=1",
        "--where",
        "/author=Tomasz Wierzbicki",
    ]);
    ok(&r);
    let v = r.json();
    assert_eq!(v["matched"], 1);
    assert_eq!(v["entries"][0]["key"], "B0DG2H7J9K");
    assert_eq!(v["entries"][0]["pointer"], "/failed/B0DG2H7J9K");
    let r = p.run(&["list", P, "/processed", "--where", "status"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("`status` is not FIELD=VALUE"),
        "{}",
        r.stderr
    );
    let r = p.run(&["list", P, "/version"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr)
            .contains("`/version` holds a number; list needs an object or an array there"),
        "{}",
        r.stderr
    );
}

#[test]
fn export_bundles_every_file_with_a_manifest_whose_hashes_match() {
    let p = Project::new();
    ok(&p.run(&[
        "set",
        P,
        "/failed/B0BZ9L4P6F/retry_count",
        "--increment",
        "1",
    ]));
    let out = p.root().join("bundle.json");
    let r = p.run(&["export", "--output", "bundle.json"]);
    ok(&r);
    assert!(r.stderr.starts_with("exported 13 files ("), "{}", r.stderr);
    let bundle = Bundle::from_slice(&std::fs::read(&out).unwrap()).unwrap();
    bundle.verify().unwrap();
    let paths: Vec<&str> = bundle.manifest.iter().map(|m| m.path.as_str()).collect();
    assert!(
        paths.contains(&"audit.log") && paths.contains(&".backup/index/processed.json"),
        "{paths:?}"
    );
    assert!(!paths.contains(&".lock"), "{paths:?}");
    for m in &bundle.manifest {
        let on_disk = std::fs::read(p.state().join(&m.path)).unwrap();
        assert_eq!(m.sha256, hex(&Sha256::digest(&on_disk)), "{}", m.path);
        assert_eq!(m.bytes, on_disk.len() as u64);
    }
    let role = |path: &str| {
        bundle
            .manifest
            .iter()
            .find(|m| m.path == path)
            .unwrap()
            .role
            .clone()
    };
    assert_eq!(
        [
            role("processed.json"),
            role("audit.log"),
            role(".backup/index/processed.json"),
            role(".checklist/state.yaml")
        ],
        ["document", "audit", "backup-manifest", "document"]
    );
    // An edited bundle fails verification.
    let mut bad = bundle.clone();
    bad.files[0].content.push(' ');
    assert!(
        bad.verify()
            .unwrap_err()
            .to_string()
            .contains("the manifest records")
    );
    // No overwrite without --force; never into the state dir.
    let before = std::fs::read(&out).unwrap();
    let r = p.run(&["export", "--output", "bundle.json"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("bundle.json exists; pass --force to overwrite it"),
        "{}",
        r.stderr
    );
    assert_eq!(std::fs::read(&out).unwrap(), before);
    ok(&p.run(&["export", "--output", "bundle.json", "--force"]));
    let r = p.run(&["export", "--output", "state/bundle.json"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("is inside the state dir"),
        "{}",
        r.stderr
    );
    assert!(!p.state().join("bundle.json").exists());
    // To stdout.
    let r = p.run(&["export"]);
    ok(&r);
    Bundle::from_slice(r.stdout.as_bytes())
        .unwrap()
        .verify()
        .unwrap();
}

#[test]
fn prune_is_status_aware_dry_by_default_and_applies_in_one_transaction() {
    let p = Project::new();
    // One staged entry whose staging dir exists; one recent failure.
    let staging = p.root().join("seed");
    std::fs::create_dir(&staging).unwrap();
    ok(&p.run(&[
        "set",
        P,
        "/processed/B0CX7W3N1T/staging_dir",
        staging.to_str().unwrap(),
    ]));
    let recent = jiff::Timestamp::now()
        .checked_sub(jiff::SignedDuration::from_hours(24))
        .unwrap();
    ok(&p.run(&[
        "set",
        P,
        "/failed/B0DG2H7J9K/failed_at",
        &recent.to_string(),
    ]));
    let before = p.bytes(P);
    let r = p.run(&["prune"]);
    ok(&r);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert_eq!(lines.len(), 5, "{}", r.stdout);
    assert!(lines[0].starts_with("processed.json /processed/B0D5QK8M2R [stale]: status TORRENT_CREATED requires /staging_dir, but /data/seed/"), "{}", r.stdout);
    assert!(lines[2].starts_with("processed.json /processed/B0F3R6T8WQ [stale]: status UPLOADED requires /torrent_path, but /data/torrents/"), "{}", r.stdout);
    assert!(lines[3].starts_with("processed.json /failed/B0BZ9L4P6F [failed-older-than-30d]: /failed_at 2026-03-04T02:15:40+00:00 is more than 30 days old ("), "{}", r.stdout);
    assert_eq!(
        lines[4],
        "dry run: 3 entries would be removed from 1 document; pass --apply to remove them"
    );
    // COMPLETE entries whose files are gone, a staged entry whose staging dir exists, a recent failure: kept.
    for kept in ["B0C1234XYZ", "B08XJ4QK7L", "B0CX7W3N1T", "B0DG2H7J9K"] {
        assert!(!r.stdout.contains(kept), "{kept}: {}", r.stdout);
    }
    assert_eq!(p.bytes(P), before);
    // One rule, applied.
    let r = p.run(&["prune", P, "--rule", "failed-older-than-30d", "--apply"]);
    ok(&r);
    assert!(
        r.stdout.ends_with("removed 1 entry from 1 document\n"),
        "{}",
        r.stdout
    );
    let doc = p.doc(P);
    assert_eq!(
        doc["failed"]
            .as_object()
            .unwrap()
            .keys()
            .collect::<Vec<_>>(),
        ["B0DG2H7J9K"]
    );
    assert!(doc["processed"].get("B0D5QK8M2R").is_some());
    // The rest, in one transaction: one audit line for one document.
    let r = p.run(&["--format", "json", "prune", "--apply"]);
    ok(&r);
    assert_eq!(
        (r.json()["entries"].as_u64(), r.json()["applied"].as_bool()),
        (Some(2), Some(true))
    );
    let doc = p.doc(P);
    let keys: Vec<&String> = doc["processed"].as_object().unwrap().keys().collect();
    assert_eq!(keys, ["B08XJ4QK7L", "B0C1234XYZ", "B0CX7W3N1T"]);
    let audit = p.audit();
    assert_eq!(audit.last().unwrap()["command"], "prune");
    assert_eq!(audit.iter().filter(|a| a["command"] == "prune").count(), 2);
    let r = p.run(&["prune"]);
    assert_eq!(r.stdout, "nothing to prune in 1 document\n");
}

#[test]
fn prune_names_unknown_rules_and_kinds_without_rules() {
    let p = Project::new();
    let r = p.run(&["prune", "--rule", "old"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr)
            .contains("no prune rule `old`; declared rules: stale, failed-older-than-30d"),
        "{}",
        r.stderr
    );
    let r = p.run(&["prune", "sources.json"]);
    code(&r, 2);
    assert!(flat(&r.stderr).contains("sources.json: no prune rules; declare them in statewright.toml as [[kinds.sources.prune]]"), "{}", r.stderr);
}

/// 50 processes increment one counter at once, waiting for the lock:
/// every increment lands.
#[test]
fn concurrent_increments_lose_no_update() {
    let t = tempdir();
    let root = t.path();
    std::fs::write(
        root.join("statewright.toml"),
        "[project]\nschemas = \"schemas\"\nstate = \"state\"\n\n[kinds.counter]\npath = \"counter.json\"\n",
    )
    .unwrap();
    std::fs::create_dir_all(root.join("schemas/counter")).unwrap();
    std::fs::write(
        root.join("schemas/counter/v1.json"),
        r#"{"type": "object", "required": ["count"], "properties": {"count": {"type": "integer"}}}"#,
    )
    .unwrap();
    std::fs::create_dir_all(root.join("state")).unwrap();
    std::fs::write(
        root.join("state/counter.json"),
        r#"{"schema_version": 1, "count": 0}"#,
    )
    .unwrap();
    const N: usize = 50;
    let children: Vec<_> = (0..N)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_statewright"))
                .args([
                    "--lock-timeout",
                    "120",
                    "set",
                    "counter.json",
                    "/count",
                    "--increment",
                    "1",
                ])
                .current_dir(root)
                .env("NO_COLOR", "1")
                .env_remove("STATEWRIGHT_PROJECT")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for c in children {
        let out = c.wait_with_output().unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
    }
    let doc: Value =
        serde_json::from_slice(&std::fs::read(root.join("state/counter.json")).unwrap()).unwrap();
    assert_eq!(doc["count"], json!(N));
    assert_eq!(doc["serial"], json!(N));
    let log = std::fs::read_to_string(root.join("state/audit.log")).unwrap();
    assert_eq!(log.lines().count(), N);
}

#[test]
fn a_held_lock_is_exit_3_and_changes_nothing() {
    use std::os::fd::AsRawFd;
    let p = Project::new();
    let before = p.bytes(P);
    let lock = std::fs::OpenOptions::new()
        .create(true)
        .truncate(false)
        .write(true)
        .open(p.state().join(".lock"))
        .unwrap();
    // SAFETY: flock on a file descriptor this test owns.
    assert_eq!(unsafe { libc::flock(lock.as_raw_fd(), libc::LOCK_EX) }, 0);
    for args in [
        &[
            "set",
            P,
            "/failed/B0BZ9L4P6F/retry_count",
            "--increment",
            "1",
        ][..],
        &["rm", P, "/failed/B0BZ9L4P6F"],
        &["prune", "--apply"],
        &["export"],
    ] {
        let r = p.run(args);
        code(&r, 3);
        assert!(flat(&r.stderr).contains("is held by"), "{}", r.stderr);
    }
    // Reads do not need the lock.
    ok(&p.run(&["get", P, "/version"]));
    drop(lock);
    assert_eq!(p.bytes(P), before);
}

#[test]
fn a_document_with_a_serial_but_no_checksum_is_still_corrupt() {
    let p = Project::new();
    let s = std::fs::read_to_string(p.state().join(P)).unwrap();
    std::fs::write(
        p.state().join(P),
        s.replacen("\"version\": 1", "\"serial\": 4,\n  \"version\": 1", 1),
    )
    .unwrap();
    let r = p.run(&["get", P, "/version"]);
    code(&r, 1);
    assert!(
        flat(&r.stderr).contains("checksum check failed at `/checksum`: no checksum"),
        "{}",
        r.stderr
    );
}

/// `--format json` is a contract: the shapes of `list` (documents and
/// entries), `get` and a dry-run `set`.
#[test]
fn json_output_contract() {
    let p = Project::new();
    let snap = |name: &str, args: &[&str]| {
        let r = p.run(args);
        ok(&r);
        insta::with_settings!({snapshot_path => "../../snapshots/cli", prepend_module_to_snapshot => false}, {
            insta::assert_json_snapshot!(name, Portable(&r.json()));
        });
    };
    snap(
        "ops_list_documents_json",
        &["--format", "json", "list", "--kind", "packer-manifest"],
    );
    snap(
        "ops_list_entries_json",
        &["--format", "json", "list", P, "/failed", "--limit", "1"],
    );
    snap(
        "ops_get_json",
        &["--format", "json", "get", P, "/processed/B0CX7W3N1T"],
    );
    snap(
        "ops_set_dry_run_json",
        &[
            "--format",
            "json",
            "set",
            P,
            "/processed/B0CX7W3N1T/status",
            "METADATA_FETCHED",
            "--dry-run",
        ],
    );
}

/// The same operations as library calls; the age rule measured from a
/// given time.
#[test]
fn library_calls_prune_by_age_from_a_given_time() {
    use statewright::ops::{self, PruneRequest};
    use statewright::spec::{Catalog, Project as SwProject};
    use statewright::store::{LockOptions, Store, StoreOptions, WriteContext};
    let p = Project::new();
    let project = SwProject::load(&p.root().join("statewright.toml")).unwrap();
    let catalog = Catalog::load(&project).unwrap();
    let (store, _) = Store::open(&catalog, &p.state(), StoreOptions::default()).unwrap();
    let at = |s: &str| s.parse::<jiff::Timestamp>().unwrap();
    let req = |now| PruneRequest {
        file: Some(P),
        rule: Some("failed-older-than-30d"),
        now,
        apply: false,
    };
    let ctx = WriteContext::new("prune");
    let lock = LockOptions::default();
    // Failed 2026-03-04T02:15:40 and 2026-03-06: exactly 30 days is not more than 30.
    let r = ops::prune(
        &store,
        &catalog,
        &lock,
        &ctx,
        &req(at("2026-04-03T02:15:40Z")),
    )
    .unwrap();
    assert!(r.stale.is_empty(), "{:?}", r.stale);
    let r = ops::prune(
        &store,
        &catalog,
        &lock,
        &ctx,
        &req(at("2026-04-01T00:00:00Z")),
    )
    .unwrap();
    assert!(r.stale.is_empty());
    let r = ops::prune(
        &store,
        &catalog,
        &lock,
        &ctx,
        &req(at("2026-04-03T02:15:41Z")),
    )
    .unwrap();
    let keys: Vec<&str> = r.stale.iter().map(|s| s.key.as_str()).collect();
    assert_eq!(keys, ["B0BZ9L4P6F"]);
    assert_eq!(
        r.stale[0].reason,
        "/failed_at 2026-03-04T02:15:40+00:00 is more than 30 days old (30 days)"
    );
    assert!(!r.applied);
    assert_eq!(
        ops::get(&store, P, "/failed/B0BZ9L4P6F/retry_count").unwrap(),
        Some(json!(3))
    );
}

#[test]
fn help_shows_the_argument_order_and_examples_that_work() {
    let p = Project::new();
    let r = p.run(&["set", "--help"]);
    ok(&r);
    assert!(
        r.stdout.contains(
            "Usage: statewright set [OPTIONS] <FILE> <POINTER> <VALUE | --increment <N>>"
        ),
        "{}",
        r.stdout
    );
    // Every `statewright get` example in `get --help` finds its value in
    // the shipped example state.
    let help = p.run(&["get", "--help"]).stdout;
    let examples: Vec<Vec<&str>> = help
        .lines()
        .filter_map(|l| l.trim().strip_prefix("statewright get "))
        .map(|l| l.split_whitespace().collect())
        .collect();
    assert!(!examples.is_empty(), "{help}");
    for args in examples {
        let r = p.run(&[&["get"], &args[..]].concat());
        ok(&r);
        assert!(
            !r.stdout.is_empty() && r.stderr.is_empty(),
            "{args:?}: {r:?}"
        );
    }
}

/// A project whose schemas have their own `$id` host and share a
/// definition file by a relative `$ref`: `validate`, `check` and every
/// command that reads or writes through the store resolve it alike.
#[test]
fn schemas_refer_to_each_other_by_their_own_id_in_every_command() {
    use crate::util::{run_in, tempdir};
    let t = tempdir();
    let d = t.path();
    let write = |rel: &str, text: &str| {
        let p = d.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "statewright.toml",
        "[project]\nschemas = \"schemas\"\nmigrations = \"migrations\"\nstate = \"state\"\n\n[kinds.pins]\npath = \"pins.json\"\n",
    );
    write(
        "schemas/common.json",
        r#"{"$id": "https://example.com/schemas/common.json", "$defs": {"replicas": {"type": "integer", "minimum": 1}}}"#,
    );
    write(
        "schemas/pins/v1.json",
        r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
            "$id": "https://example.com/schemas/pins/v1.json",
            "type": "object",
            "properties": {"schema_version": {"const": 1}, "replicas": {"$ref": "../common.json#/$defs/replicas"}},
            "required": ["schema_version", "replicas"]}"#,
    );
    write("state/pins.json", r#"{"schema_version": 1, "replicas": 2}"#);
    for args in [
        &["validate"][..],
        &["check"],
        &["get", "pins.json", "/replicas"],
        &["set", "pins.json", "/replicas", "3"],
    ] {
        let r = run_in(d, args);
        assert_eq!(r.code, 0, "{args:?}: {r:?}");
    }
    let r = run_in(d, &["set", "pins.json", "/replicas", "0"]);
    assert_eq!(r.code, 4, "{r:?}");
    assert!(
        flat(&r.stderr).contains("0 is less than the minimum of 1"),
        "{}",
        r.stderr
    );
    // A schema that cannot compile is the schema's fault: exit 2 with the
    // schema's fix, never the corrupt-document remedy.
    write(
        "schemas/common.json",
        r#"{"$id": "https://example.com/schemas/common.json", "$defs": {}}"#,
    );
    for args in [
        &["get", "pins.json", "/replicas"][..],
        &["set", "pins.json", "/replicas", "4"],
    ] {
        let r = run_in(d, args);
        assert_eq!(r.code, 2, "{args:?}: {r:?}");
        let err = flat(&r.stderr);
        assert!(
            err.contains("pins.json: cannot be checked: schema")
                && err.contains("does not compile")
                && err.contains("correct the schema"),
            "{err}"
        );
        assert!(!err.contains("backup"), "{err}");
    }
}

/// `--recover` restores a corrupt document from its newest good backup,
/// says so on stderr (which serials are lost, where the failed version's
/// bytes are kept) and records it in the audit log.
#[test]
fn a_recovery_is_said_and_keeps_the_failed_version() {
    let p = Project::new();
    let f = "config/dev.json";
    ok(&p.run(&["set", f, "/vars/disk_size_gb", "60"]));
    ok(&p.run(&["set", f, "/vars/disk_size_gb", "70"]));
    let text = String::from_utf8(p.bytes(f)).unwrap();
    let edited = text.replace("\"disk_size_gb\": 70", "\"disk_size_gb\": 71");
    assert_ne!(text, edited);
    std::fs::write(p.state().join(f), &edited).unwrap();
    let r = p.run(&["--recover", "set", f, "/vars/swap_mb", "4096"]);
    ok(&r);
    let err = flat(&r.stderr);
    for needle in [
        "warning: restored",
        "config/dev.json from backup config%2Fdev.json.1.",
        "(serial 1), written as serial 3, after: checksum check failed at line",
        "(`/checksum`)",
        "the changes of serial 2 are not in it; the failed version is kept in .corrupt/config%2Fdev.json.",
    ] {
        assert!(err.contains(needle), "missing `{needle}` in: {err}");
    }
    assert!(!err.contains("restore it by hand"), "{err}");
    let kept: Vec<_> = std::fs::read_dir(p.state().join(".corrupt"))
        .unwrap()
        .flatten()
        .collect();
    assert_eq!(kept.len(), 1);
    assert_eq!(std::fs::read_to_string(kept[0].path()).unwrap(), edited);
    assert_eq!(p.doc(f)["vars"]["disk_size_gb"], 60);
    assert_eq!(p.doc(f)["vars"]["swap_mb"], 4096);
    let audit = p.audit();
    let restore = &audit[audit.len() - 2];
    assert_eq!(restore["command"], "recover");
    let outcome = restore["outcome"].as_str().unwrap();
    assert!(
        outcome.starts_with("restored from config%2Fdev.json.1.")
            && outcome.contains("after: checksum check failed")
            && outcome.contains("; the failed version is kept in .corrupt/"),
        "{outcome}"
    );
    // The kept copy is the store's own: not a document, not a finding.
    let r = p.run(&["check", "--fail-on", "warning"]);
    assert!(!r.stdout.contains(".corrupt"), "{}", r.stdout);
    let r = p.run(&["--format", "json", "list"]);
    assert!(!r.stdout.contains(".corrupt"), "{}", r.stdout);
}

/// An error that stops an operator command is a GitHub annotation on the
/// file (and line, when known), with the remedy, and says the place once.
#[test]
fn github_errors_name_the_file_and_line() {
    let p = Project::new();
    std::fs::write(
        p.state().join("sources.json"),
        "{\"schema_version\": 1, \"sour",
    )
    .unwrap();
    let r = p.run(&["--format", "github", "get", "sources.json", "/x"]);
    code(&r, 1);
    let line = r.stdout.lines().next().unwrap_or_default();
    assert!(
        line.starts_with("::error file=state/sources.json,line=1,col=")
            && line.contains(",title=statewright::")
            && line.contains("parse check failed: ")
            && line.contains("statewright check --repair"),
        "{line}"
    );
    assert_eq!(
        flat(&r.stderr).matches("sources.json").count(),
        1,
        "the place is said once: {}",
        r.stderr
    );
}
