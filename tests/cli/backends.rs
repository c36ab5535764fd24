//! One behavioural suite for every backend: each case below runs against
//! a state dir and against a PostgreSQL namespace (`both!` makes a
//! `files` and a `postgres` test of it), asserting the same output, exit
//! codes and history. The server is `STATEWRIGHT_PG_URL` or a throwaway
//! cluster (tests/common/pg.rs).

use std::path::Path;

use serde_json::Value;
use statewright::spec::{Catalog, Project};
use statewright::store::{LockGuard, LockOptions, Store, StoreOptions};

use crate::pg;
use crate::util::{Run, copy_dir, flat, run_in};

/// Where the project keeps its state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Files,
    Postgres,
}

/// A temp project (schemas, migrations, the project file) whose state, a
/// state dir or a fresh namespace, was filled by `state push` from a copy
/// of examples/state (`seed/`): the same history on both backends.
pub struct Fixture {
    pub t: tempfile::TempDir,
    pub backend: Backend,
    pub ns: String,
}

pub const P: &str = "processed.json";
pub const RETRY: &str = "/failed/B0BZ9L4P6F/retry_count";

pub fn ok(r: &Run) {
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

/// Asserts that stdout ends with `tail`.
pub fn ends(r: &Run, tail: &str) {
    assert!(
        r.stdout.ends_with(tail),
        "want the end {tail:?} in:\n{}",
        r.stdout
    );
}

pub fn code(r: &Run, want: i32) {
    assert_eq!(r.code, want, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

impl Fixture {
    pub fn new(backend: Backend) -> Fixture {
        let f = Fixture::empty(backend, &pg::fresh_namespace("suite"));
        copy_dir(
            &crate::util::repo().join("examples/state"),
            &f.root().join("seed"),
        );
        let r = f.run(&["state", "push", "seed"]);
        ok(&r);
        assert!(r.stdout.contains("pushed 10 documents"), "{}", r.stdout);
        f
    }

    /// A project whose state is empty: an empty state dir, or the
    /// namespace `ns`.
    pub fn empty(backend: Backend, ns: &str) -> Fixture {
        let t = crate::util::example_project();
        copy_dir(
            &crate::util::repo().join("migrations"),
            &t.path().join("migrations"),
        );
        std::fs::remove_dir_all(t.path().join("state")).unwrap();
        std::fs::create_dir(t.path().join("state")).unwrap();
        let f = Fixture {
            t,
            backend,
            ns: ns.to_owned(),
        };
        if backend == Backend::Postgres {
            f.set_state(&pg::namespace_url(ns));
        }
        f
    }

    pub fn root(&self) -> &Path {
        self.t.path()
    }

    /// Points `[project] state` at `state`.
    pub fn set_state(&self, state: &str) {
        let file = self.root().join("statewright.toml");
        let toml: Vec<String> = std::fs::read_to_string(&file)
            .unwrap()
            .lines()
            .map(|l| match l.starts_with("state = ") {
                true => format!("state = \"{state}\""),
                false => l.to_owned(),
            })
            .collect();
        std::fs::write(&file, toml.join("\n") + "\n").unwrap();
    }

    pub fn run(&self, args: &[&str]) -> Run {
        run_in(self.root(), args)
    }

    /// The name commands give the state (`state`, or the namespace's URL
    /// path).
    pub fn shown(&self) -> String {
        match self.backend {
            Backend::Files => "state".into(),
            Backend::Postgres => self.open().0.dir().display().to_string(),
        }
    }

    /// A document's bytes as the backend keeps them.
    pub fn bytes(&self, rel: &str) -> Option<Vec<u8>> {
        match self.backend {
            Backend::Files => std::fs::read(self.root().join("state").join(rel)).ok(),
            Backend::Postgres => pg::client()
                .query_opt(
                    "SELECT body FROM statewright_documents WHERE namespace = $1 AND path = $2",
                    &[&self.ns, &rel],
                )
                .unwrap()
                .map(|r| r.get::<_, String>(0).into_bytes()),
        }
    }

    pub fn doc(&self, rel: &str) -> Value {
        serde_json::from_slice(&self.bytes(rel).expect("document")).unwrap()
    }

    /// Opens the project's store in this process.
    pub fn open(&self) -> (Store, Catalog) {
        let project = Project::load(&self.root().join("statewright.toml")).unwrap();
        let catalog = Catalog::load(&project).unwrap();
        let opts = StoreOptions::from_project(&project);
        let store = match &project.state_url {
            Some(url) => Store::open_url(&catalog, url, opts).unwrap().0,
            None => Store::open(&catalog, &project.state_dir, opts).unwrap().0,
        };
        (store, catalog)
    }

    /// Replaces `from` with `to` in a document's bytes, behind the
    /// store's back.
    pub fn tamper_doc(&self, rel: &str, from: &str, to: &str) {
        let text = String::from_utf8(self.bytes(rel).unwrap()).unwrap();
        assert!(text.contains(from), "{from} not in {rel}");
        let text = text.replacen(from, to, 1);
        match self.backend {
            Backend::Files => std::fs::write(self.root().join("state").join(rel), text).unwrap(),
            Backend::Postgres => {
                pg::client()
                    .execute(
                        "UPDATE statewright_documents SET body = $3 WHERE namespace = $1 AND path = $2",
                        &[&self.ns, &rel, &text],
                    )
                    .unwrap();
            }
        }
    }

    /// Edits the first audit line's command, as a hand edit would.
    pub fn tamper_audit(&self) {
        match self.backend {
            Backend::Files => {
                let path = self.root().join("state/audit.log");
                let text = std::fs::read_to_string(&path).unwrap();
                std::fs::write(&path, text.replacen("\"state push\"", "\"state pish\"", 1))
                    .unwrap();
            }
            Backend::Postgres => {
                let n = pg::client()
                    .execute(
                        "UPDATE statewright_audit SET line = replace(line, '\"state push\"', '\"state pish\"')
                         WHERE namespace = $1 AND seq = 1",
                        &[&self.ns],
                    )
                    .unwrap();
                assert_eq!(n, 1);
            }
        }
    }
}

/// Makes a `files` and a `postgres` test of each case.
macro_rules! both {
    ($($case:ident),* $(,)?) => {
        $(
            mod $case {
                #[test]
                fn files() {
                    super::$case(super::Fixture::new(super::Backend::Files));
                }
                #[test]
                fn postgres() {
                    super::$case(super::Fixture::new(super::Backend::Postgres));
                }
            }
        )*
    };
}

both!(
    get_set_rm_and_list,
    a_value_the_schema_refuses_is_not_written,
    append_adds_validated_items,
    export_then_import_and_pull_give_back_every_byte,
    migrate_upgrades_in_one_transaction,
    lock_status_names_the_holder_and_break_refuses_a_live_one,
    audit_verify_finds_an_edited_line,
    check_finds_a_changed_document_and_repair_restores_it,
    prune_applies_in_one_commit,
    lock_timeout_waits_for_the_holder,
    concurrent_increments_lose_no_update,
    validate_checks_every_document_against_its_schema,
    drift_compares_the_template_state_with_its_manifest,
    a_write_changes_only_the_lines_whose_values_change,
);

/// The store's edits keep the document's text on both backends: after a
/// hand edit of its layout (a blank line, odd spacing), a `set` changes
/// the value's line and the envelope lines the write stamps, nothing else.
fn a_write_changes_only_the_lines_whose_values_change(f: Fixture) {
    ok(&f.run(&["set", P, RETRY, "--increment", "1"]));
    f.tamper_doc(P, "{\n  \"failed\": {", "{\n\n  \"failed\":   {");
    let before = String::from_utf8(f.bytes(P).unwrap()).unwrap();
    let r = f.run(&["set", P, RETRY, "--increment", "1"]);
    ok(&r);
    assert!(!r.stderr.contains("rewritten"), "{}", r.stderr);
    let after = String::from_utf8(f.bytes(P).unwrap()).unwrap();
    assert!(after.starts_with("{\n\n  \"failed\":   {\n"), "{after}");
    assert_eq!(before.lines().count(), after.lines().count());
    let changed: Vec<&str> = before
        .lines()
        .zip(after.lines())
        .filter(|(b, a)| b != a)
        .map(|(b, _)| b.trim_start().split(':').next().unwrap_or(""))
        .collect();
    assert_eq!(
        changed,
        [
            "\"retry_count\"",
            "\"serial\"",
            "\"generated_at\"",
            "\"command_id\"",
            "\"checksum\""
        ],
        "{after}"
    );
    assert_eq!(f.doc(P)["failed"]["B0BZ9L4P6F"]["retry_count"], 5);
}

fn get_set_rm_and_list(f: Fixture) {
    let r = f.run(&["get", P, RETRY]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "3\n"));
    let r = f.run(&["set", P, RETRY, "--increment", "1"]);
    ok(&r);
    assert_eq!(
        r.stdout,
        "set /failed/B0BZ9L4P6F/retry_count in processed.json: 3 → 4 (serial 1)\n"
    );
    assert_eq!(f.doc(P)["failed"]["B0BZ9L4P6F"]["retry_count"], 4);
    let r = f.run(&["rm", P, "/failed/B0DG2H7J9K"]);
    ok(&r);
    assert!(
        r.stdout
            .starts_with("removed /failed/B0DG2H7J9K from processed.json"),
        "{}",
        r.stdout
    );
    assert!(f.doc(P)["failed"].get("B0DG2H7J9K").is_none());
    let r = f.run(&["list", "--json"]);
    ok(&r);
    let rows = r.json();
    let docs = rows["documents"].as_array().expect("documents");
    assert_eq!(docs.len(), 10);
    let processed = docs.iter().find(|d| d["file"] == P).unwrap();
    assert_eq!(processed["serial"], 2);
    let r = f.run(&["list"]);
    assert!(
        r.stdout
            .ends_with(&format!("10 documents in {}\n", f.shown())),
        "{}",
        r.stdout
    );
}

fn a_value_the_schema_refuses_is_not_written(f: Fixture) {
    let before = f.bytes(P);
    let r = f.run(&["set", P, RETRY, "--string", "three"]);
    code(&r, 4);
    assert!(
        flat(&r.stderr).contains("not written, it does not match schema version 1"),
        "{}",
        r.stderr
    );
    assert_eq!(f.bytes(P), before, "nothing written");
}

pub const CHECK: &str = r#"{"template_id": "linux/rocky", "checked_at": "2026-03-14T08:00:00Z", "result": "in_sync", "vars_hash": "sha256:8041fc76c46e48875e58dfe5991d3f4604c0501a3c7ba2e6930a9d7405a0414a"}"#;

fn append_adds_validated_items(f: Fixture) {
    let dev = "config/dev.json";
    let n = f.doc(dev)["template_checks"].as_array().unwrap().len();
    let r = f.run(&["append", dev, "/template_checks", CHECK]);
    ok(&r);
    assert_eq!(
        r.stdout,
        format!(
            "appended to /template_checks in {dev}: now {} items (serial 1)\n",
            n + 1
        )
    );
    let checks = f.doc(dev)["template_checks"].clone();
    assert_eq!(checks[n]["template_id"], "linux/rocky");
    let before = f.bytes(dev);
    let r = f.run(&["append", dev, "/template_checks", r#"{"bogus": 1}"#]);
    code(&r, 4);
    assert!(
        flat(&r.stderr).contains("does not match schema version 1"),
        "{}",
        r.stderr
    );
    let r = f.run(&["append", dev, "/env", "x"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("it holds a string, not an array"),
        "{}",
        r.stderr
    );
    assert_eq!(f.bytes(dev), before, "nothing written");
    let r = f.run(&["audit", "verify", "--format", "json"]);
    ok(&r);
    assert_eq!(r.json()["verified"], 11, "10 pushed, 1 appended");
}

fn export_then_import_and_pull_give_back_every_byte(f: Fixture) {
    let before_set = f.bytes(P).unwrap();
    ok(&f.run(&["set", P, RETRY, "--increment", "1"]));
    ok(&f.run(&["export", "--output", "bundle.json"]));
    // The bundle holds the documents, the audit log and the replaced
    // version, named as in a state dir, on both backends.
    let bundle: Value =
        serde_json::from_slice(&std::fs::read(f.root().join("bundle.json")).unwrap()).unwrap();
    let with_role = |role: &str| -> Vec<(String, String)> {
        let manifest = bundle["manifest"].as_array().unwrap();
        let files = bundle["files"].as_array().unwrap();
        manifest
            .iter()
            .zip(files)
            .filter(|(m, _)| m["role"] == role)
            .map(|(m, file)| {
                (
                    m["path"].as_str().unwrap().to_owned(),
                    file["content"].as_str().unwrap().to_owned(),
                )
            })
            .collect()
    };
    assert_eq!(with_role("document").len(), 10);
    let audit = with_role("audit");
    assert_eq!(audit.len(), 1, "{audit:?}");
    assert_eq!(audit[0].0, "audit.log");
    assert_eq!(audit[0].1.lines().count(), 11, "10 pushed, 1 set");
    let backups = with_role("backup");
    assert_eq!(backups.len(), 1, "{backups:?}");
    assert!(
        backups[0].0.starts_with(".backup/processed.json."),
        "{backups:?}"
    );
    assert_eq!(
        backups[0].1.as_bytes(),
        before_set,
        "the version the set replaced"
    );
    let r = f.run(&["import", "bundle.json"]);
    ok(&r);
    assert!(
        r.stdout.contains("(0 created, 0 replaced, 10 unchanged)"),
        "{}",
        r.stdout
    );
    let r = f.run(&["state", "pull", "out"]);
    ok(&r);
    assert!(r.stdout.contains("pulled 10 documents"), "{}", r.stdout);
    for rel in ["processed.json", "config/dev.json", ".checklist/state.yaml"] {
        let pulled = std::fs::read(f.root().join("out").join(rel)).unwrap();
        assert_eq!(Some(pulled), f.bytes(rel), "{rel}");
    }
    // Pushing an older copy over the newer state is refused.
    ok(&f.run(&["set", P, RETRY, "--increment", "1"]));
    let before = f.bytes(P);
    let r = f.run(&["state", "push", "out"]);
    code(&r, 4);
    assert!(
        flat(&r.stderr).contains("processed.json: not imported"),
        "{}",
        r.stderr
    );
    assert_eq!(f.bytes(P), before);
    // Pulling over a newer copy in the state dir is refused the same way.
    ok(&f.run(&["state", "pull", "newer"]));
    for _ in 0..2 {
        ok(&f.run(&["set", "--state", "newer", P, RETRY, "--increment", "1"]));
    }
    let pulled = std::fs::read(f.root().join("newer").join(P)).unwrap();
    ok(&f.run(&[
        "set",
        P,
        "/failed/B0DG2H7J9K/retry_count",
        "--increment",
        "1",
    ]));
    let r = f.run(&["state", "pull", "newer"]);
    code(&r, 4);
    assert!(
        flat(&r.stderr).contains("processed.json: not imported"),
        "{}",
        r.stderr
    );
    assert_eq!(
        std::fs::read(f.root().join("newer").join(P)).unwrap(),
        pulled
    );
}

fn migrate_upgrades_in_one_transaction(f: Fixture) {
    let r = f.run(&["migrate", "--dry-run"]);
    ok(&r);
    assert!(
        r.stdout.contains(
            "dry run: 1 document would be migrated, 9 already at the target; nothing written"
        ),
        "{}",
        r.stdout
    );
    let r = f.run(&["migrate"]);
    ok(&r);
    assert!(
        r.stdout
            .starts_with("migrated processed.json: mamfast-processed v1 → v2"),
        "{}",
        r.stdout
    );
    let kept = match f.backend {
        Backend::Files => "state/.backup",
        Backend::Postgres => "statewright_versions",
    };
    assert!(
        r.stdout.ends_with(&format!(
            "(9 already at the target); previous versions in {kept}\n"
        )),
        "{}",
        r.stdout
    );
    assert_eq!(f.doc(P)["version"], 2);
    let r = f.run(&["migrate", "status"]);
    ok(&r);
    ends(
        &r,
        &format!(
            "10 documents in {}: 10 current, 0 behind, 0 newer\n",
            f.shown()
        ),
    );
}

fn lock_status_names_the_holder_and_break_refuses_a_live_one(f: Fixture) {
    let r = f.run(&["lock", "status"]);
    ok(&r);
    assert!(r.stdout.trim_end().ends_with(": free"), "{}", r.stdout);
    let (store, _) = f.open();
    let guard: LockGuard = store
        .lock(&LockOptions {
            command: "suite holder".into(),
            ..LockOptions::default()
        })
        .unwrap();
    let r = f.run(&["lock", "status", "--format", "json"]);
    ok(&r);
    let v = r.json();
    assert_eq!(v["state"], "held");
    assert_eq!(v["holder"]["lock_id"], guard.info.lock_id.as_str());
    assert_eq!(v["holder"]["command"], "suite holder");
    assert_eq!(v["holder"]["pid"], std::process::id());
    let r = f.run(&["set", P, RETRY, "--increment", "1"]);
    code(&r, 3);
    assert!(
        flat(&r.stderr).contains(&guard.info.lock_id),
        "{}",
        r.stderr
    );
    let r = f.run(&["lock", "break", &guard.info.lock_id, "--yes"]);
    code(&r, 4);
    assert!(
        flat(&r.stderr).contains("cannot break lock"),
        "{}",
        r.stderr
    );
    drop(guard);
    let r = f.run(&["lock", "status"]);
    assert!(r.stdout.trim_end().ends_with(": free"), "{}", r.stdout);
    ok(&f.run(&["set", P, RETRY, "--increment", "1", "--lock-timeout", "5"]));
}

fn audit_verify_finds_an_edited_line(f: Fixture) {
    ok(&f.run(&["set", P, RETRY, "--increment", "1"]));
    let r = f.run(&["audit", "verify"]);
    ok(&r);
    assert_eq!(
        r.stdout,
        format!(
            "audit log in {}: 11 lines verified, chain intact\n",
            f.shown()
        )
    );
    f.tamper_audit();
    let r = f.run(&["audit", "verify"]);
    code(&r, 1);
    assert!(
        flat(&r.stderr).contains(":1: audit chain broken: the line was edited"),
        "{}",
        r.stderr
    );
}

fn check_finds_a_changed_document_and_repair_restores_it(f: Fixture) {
    let r = f.run(&["check"]);
    ok(&r);
    let done = format!(
        "checked 10 documents in {}: 0 errors, 0 warnings, 2 notes\n",
        f.shown()
    );
    ends(&r, &done);
    ok(&f.run(&["set", P, RETRY, "--increment", "1"]));
    f.tamper_doc(P, "\"retry_count\": 4", "\"retry_count\": 40");
    let r = f.run(&["check", "--format", "json"]);
    code(&r, 1);
    let v = r.json();
    let processed = v["documents"]
        .as_array()
        .unwrap()
        .iter()
        .find(|d| d["file"].as_str().unwrap().ends_with(P))
        .unwrap()
        .clone();
    assert!(
        processed["findings"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["code"] == "SW030"),
        "{processed}"
    );
    let r = f.run(&["check", "--repair"]);
    ok(&r);
    assert!(r.stdout.contains("repaired: restored processed.json from backup processed.json.0.unstamped (serial 0), written as serial 2"), "{}", r.stdout);
    assert_eq!(f.doc(P)["failed"]["B0BZ9L4P6F"]["retry_count"], 3);
    ok(&f.run(&["audit", "verify"]));
}

fn validate_checks_every_document_against_its_schema(f: Fixture) {
    let r = f.run(&["--format", "json", "validate"]);
    ok(&r);
    let v = r.json();
    let docs = v["documents"].as_array().expect("documents");
    assert_eq!(docs.len(), 10, "{v}");
    assert!(docs.iter().all(|d| d["kind"].is_string()), "{v}");
    // A value the schema refuses, put there behind the store's back.
    f.tamper_doc(P, "\"retry_count\": 3", "\"retry_count\": \"three\"");
    let r = f.run(&["validate"]);
    code(&r, 1);
    let said = flat(&format!("{}{}", r.stdout, r.stderr));
    assert!(
        said.contains("processed.json:") && said.contains("\"three\" is not of type \"integer\""),
        "{said}"
    );
    assert!(
        said.contains("10 documents checked: 9 valid, 1 invalid"),
        "{said}"
    );
}

fn drift_compares_the_template_state_with_its_manifest(f: Fixture) {
    copy_dir(
        &crate::util::repo().join("examples/templates"),
        &f.root().join("templates"),
    );
    let r = f.run(&["diff", "--drift"]);
    ok(&r);
    assert!(
        r.stdout.ends_with(
            "packer-hybrid.json vs templates/linux/ubuntu-server.manifest.json: 2 builders declared, no drift\n"
        ),
        "{}",
        r.stdout
    );
    let m = f.root().join("templates/linux/ubuntu-server.manifest.json");
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&m).unwrap()).unwrap();
    let first = v["builders"]
        .as_object()
        .unwrap()
        .keys()
        .next()
        .unwrap()
        .clone();
    v["builders"][&first]["cache_hash"] = Value::String(format!("sha256:{}", "1".repeat(64)));
    std::fs::write(&m, serde_json::to_vec(&v).unwrap()).unwrap();
    let r = f.run(&["diff", "--drift"]);
    code(&r, 1);
    assert!(r.stdout.contains("drift[stale_hash]"), "{}", r.stdout);
}

fn prune_applies_in_one_commit(f: Fixture) {
    let r = f.run(&["prune"]);
    ok(&r);
    ends(
        &r,
        "dry run: 5 entries would be removed from 1 document; pass --apply to remove them\n",
    );
    let r = f.run(&["prune", "--apply"]);
    ok(&r);
    ends(&r, "removed 5 entries from 1 document\n");
    assert_eq!(f.doc(P)["failed"].as_object().unwrap().len(), 0);
    let r = f.run(&["prune"]);
    assert_eq!(r.stdout, "nothing to prune in 1 document\n");
    let r = f.run(&["audit", "verify", "--format", "json"]);
    assert_eq!(r.json()["verified"], 11);
}

fn lock_timeout_waits_for_the_holder(f: Fixture) {
    let (store, _) = f.open();
    let guard = store.lock(&LockOptions::default()).unwrap();
    let r = f.run(&[
        "set",
        P,
        RETRY,
        "--increment",
        "1",
        "--lock-timeout",
        "300ms",
    ]);
    code(&r, 3);
    assert!(
        flat(&r.stderr).contains(&guard.info.lock_id),
        "{}",
        r.stderr
    );
    let child = std::process::Command::new(env!("CARGO_BIN_EXE_statewright"))
        .args(["set", P, RETRY, "--increment", "1", "--lock-timeout", "30s"])
        .current_dir(f.root())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let release = std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_millis(500));
        drop(guard);
    });
    let out = child.wait_with_output().unwrap();
    release.join().unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(f.doc(P)["failed"]["B0BZ9L4P6F"]["retry_count"], 4);
}

/// How many concurrent writer processes (`STATEWRIGHT_PG_WRITERS`,
/// default 20).
pub fn writers() -> usize {
    std::env::var("STATEWRIGHT_PG_WRITERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20)
}

/// Starts `n` `set --increment 1` processes on `rel` in `root`, each
/// waiting up to a minute for the lock; their exit codes.
pub fn increment_all(root: &Path, n: usize, rel: &str, pointer: &str) -> Vec<i32> {
    let children: Vec<_> = (0..n)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_statewright"))
                .args([
                    "set",
                    rel,
                    pointer,
                    "--increment",
                    "1",
                    "--lock-timeout",
                    "60",
                ])
                .current_dir(root)
                .stdout(std::process::Stdio::null())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("spawn")
        })
        .collect();
    children
        .into_iter()
        .map(|c| {
            let out = c.wait_with_output().unwrap();
            if !out.status.success() {
                eprintln!("{}", String::from_utf8_lossy(&out.stderr));
            }
            out.status.code().unwrap_or(-1)
        })
        .collect()
}

fn concurrent_increments_lose_no_update(f: Fixture) {
    let n = writers();
    let codes = increment_all(f.root(), n, P, RETRY);
    assert!(codes.iter().all(|&c| c == 0), "{codes:?}");
    let doc = f.doc(P);
    assert_eq!(doc["failed"]["B0BZ9L4P6F"]["retry_count"], 3 + n as u64);
    assert_eq!(doc["serial"], n as u64);
    let r = f.run(&["audit", "verify", "--format", "json"]);
    ok(&r);
    assert_eq!(r.json()["verified"], 10 + n as u64);
}
