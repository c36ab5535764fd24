//! `statewright check` store-level findings and `check --repair`: each
//! fixture is a real corruption of a state dir written through the store
//! (so it has envelopes, backups and an audit log), checked through the
//! binary.

use std::collections::BTreeMap;
use std::os::unix::process::CommandExt;
use std::path::Path;

use serde_json::{Value, json};
use statewright::envelope::checksum;
use statewright::store::{LockOptions, WriteContext};

use crate::state::{State, examples, holder, open, sigkill, written};
use crate::util::{Run, flat, run};

fn check(s: &State, extra: &[&str]) -> Run {
    let mut args = vec!["--format", "json", "check"];
    args.extend_from_slice(extra);
    s.run(&args)
}

/// Every finding of a JSON check report.
fn findings(j: &Value) -> Vec<Value> {
    let mut out: Vec<Value> = j["documents"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|d| d["findings"].as_array().unwrap().clone())
        .collect();
    out.extend(j["findings"].as_array().unwrap().clone());
    out
}

fn codes(j: &Value) -> Vec<String> {
    findings(j)
        .iter()
        .map(|f| f["code"].as_str().unwrap().to_owned())
        // Notes about the fixtures: documents behind the latest version,
        // kinds with no document.
        .filter(|c| c != "SW015" && c != "SW021")
        .collect()
}

/// The one finding with `code`.
fn only(j: &Value, code: &str) -> Value {
    let all = findings(j);
    let hits: Vec<&Value> = all.iter().filter(|f| f["code"] == code).collect();
    assert_eq!(hits.len(), 1, "{code} in {all:#?}");
    hits[0].clone()
}

fn ends_with(f: &Value, tail: &str) -> bool {
    f["file"].as_str().unwrap().ends_with(tail)
}

/// Every file under `dir` with its bytes.
fn snapshot(dir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_owned()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                let rel = p.strip_prefix(dir).unwrap().display().to_string();
                out.insert(rel, std::fs::read(&p).unwrap());
            }
        }
    }
    out
}

fn edit(path: &Path, from: &str, to: &str) {
    let text = std::fs::read_to_string(path).unwrap();
    assert!(text.contains(from), "{from} not in {}", path.display());
    std::fs::write(path, text.replacen(from, to, 1)).unwrap();
}

/// Rewrites a JSON document with `f` applied and its checksum recomputed,
/// as a tool writing past the store would.
fn restamp(path: &Path, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_slice(&std::fs::read(path).unwrap()).unwrap();
    f(&mut v);
    v["checksum"] = json!(checksum(&v, "/checksum"));
    std::fs::write(path, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
}

fn backup_of(s: &State, prefix: &str) -> std::path::PathBuf {
    let mut names: Vec<_> = std::fs::read_dir(s.path(".backup"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.file_name().unwrap().to_str().unwrap().starts_with(prefix))
        .collect();
    names.sort();
    names.pop().expect("a backup")
}

#[test]
fn the_example_state_is_clean() {
    let r = run(&["check", "examples/state"]);
    assert_eq!(r.code, 0, "{r:?}");
    let s = written(&["sources.json", "index.json", "processed.json"]);
    let r = check(&s, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(codes(&r.json()), Vec::<String>::new());
}

#[test]
fn checksum_mismatch_is_found_and_repaired_from_the_backup() {
    let s = written(&["sources.json"]);
    let good = std::fs::read(s.path("sources.json")).unwrap();
    edit(
        &s.path("sources.json"),
        "\"branch\": \"main\"",
        "\"branch\": \"evil\"",
    );
    let before = snapshot(&s.dir);
    let r = check(&s, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(snapshot(&s.dir), before, "check wrote something");
    let f = only(&r.json(), "SW030");
    assert_eq!(f["pointer"], "/checksum");
    assert_eq!(f["severity"], "error");
    assert!(ends_with(&f, "sources.json"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("but the content hashes to sha256:")
    );
    assert!(
        f["remedy"]
            .as_str()
            .unwrap()
            .contains("`statewright check --repair`")
    );
    let h = flat(&s.run(&["check"]).stdout);
    assert!(h.contains("[SW030]") && h.contains("at /checksum"), "{h}");

    let r = check(&s, &["--repair"]);
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    let action = j["repairs"]["actions"][0].as_str().unwrap();
    assert!(
        action.starts_with("restored sources.json from backup sources.json."),
        "{action}"
    );
    assert!(action.contains("checksum check failed"), "{action}");
    let now: Value =
        serde_json::from_slice(&std::fs::read(s.path("sources.json")).unwrap()).unwrap();
    let was: Value = serde_json::from_slice(&good).unwrap();
    assert_eq!(now["sources"], was["sources"]);
    assert!(now["serial"].as_u64() > was["serial"].as_u64());
    assert_eq!(codes(&j), Vec::<String>::new());
}

#[test]
fn a_truncated_document_without_a_good_backup_is_never_deleted() {
    let s = examples();
    std::fs::write(s.path("sources.json"), b"{\"schema_version\": 1, \"sour").unwrap();
    let r = check(&s, &["--repair"]);
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    let u = j["repairs"]["unrepaired"][0].as_str().unwrap();
    assert!(u.starts_with("sources.json: left as it is:"), "{u}");
    assert!(u.contains("no good backup"), "{u}");
    assert!(
        u.ends_with("fix it by hand where its finding says, or put back a copy you trust"),
        "{u}"
    );
    assert!(
        !u.contains("--repair"),
        "a repair that failed sends nobody back to it: {u}"
    );
    assert_eq!(
        std::fs::read(s.path("sources.json")).unwrap(),
        b"{\"schema_version\": 1, \"sour"
    );
    assert_eq!(only(&j, "SW001")["code"], "SW001");
}

#[test]
fn a_leftover_temp_is_found_and_removed() {
    let s = written(&["sources.json"]);
    let temp = s.path(".sources.json.0123456789abcdef.tmp");
    std::fs::write(&temp, b"{\"half\": ").unwrap();
    let r = check(&s, &[]);
    assert_eq!(r.code, 0, "warnings do not fail: {r:?}");
    let f = only(&r.json(), "SW031");
    assert_eq!(
        (f["severity"].clone(), f["pointer"].clone()),
        (json!("warning"), json!(""))
    );
    assert!(ends_with(&f, ".sources.json.0123456789abcdef.tmp"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("interrupted write to `sources.json`")
    );
    assert!(f["remedy"].as_str().unwrap().contains("check --repair"));
    assert_eq!(check(&s, &["--fail-on", "warning"]).code, 1);
    let doc = std::fs::read(s.path("sources.json")).unwrap();
    let r = check(&s, &["--repair"]);
    assert_eq!(r.code, 0, "{r:?}");
    let w = r.json()["repairs"]["warnings"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(w.contains("removed incomplete temp"), "{w}");
    assert!(!temp.exists());
    assert_eq!(std::fs::read(s.path("sources.json")).unwrap(), doc);
}

#[test]
fn a_leftover_journal_is_found_and_rolled_back() {
    let s = written(&["sources.json"]);
    std::fs::write(s.path(".journal"), b"{\"tx\": \"cut").unwrap();
    let r = check(&s, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = only(&r.json(), "SW032");
    assert!(ends_with(&f, ".journal"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("not committed: repair rolls it back")
    );
    let r = s.run(&["check", "--repair"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with(
            "repaired: rolled back uncommitted transaction with an unreadable journal\n"
        ),
        "{}",
        r.stdout
    );
    assert!(!s.path(".journal").exists());
    let r = check(&s, &["--repair"]);
    assert_eq!(r.json()["repairs"]["actions"], json!([]));
}

#[test]
fn a_stale_lock_names_the_break_command_and_repair_clears_it() {
    let s = written(&["sources.json"]);
    let mut child = holder(&s.dir);
    let pid = child.id();
    sigkill(&mut child);
    let r = check(&s, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let f = only(&r.json(), "SW033");
    assert!(ends_with(&f, ".lock"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains(&format!("pid {pid}"))
    );
    let id = serde_json::from_slice::<Value>(&std::fs::read(s.path(".lock")).unwrap()).unwrap()
        ["lock_id"]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        f["remedy"].as_str().unwrap().contains(&format!(
            "`statewright lock break {id}` only clears the record"
        )) && f["remedy"]
            .as_str()
            .unwrap()
            .starts_with("run `statewright check --repair`"),
        "{f}"
    );
    let r = check(&s, &["--repair"]);
    let a = r.json()["repairs"]["actions"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        a.starts_with("cleared the lock record of `test holder`"),
        "{a}"
    );
    assert_eq!(std::fs::read(s.path(".lock")).unwrap(), b"");
}

#[test]
fn a_lock_held_without_a_holder_record_is_orphaned() {
    let s = written(&["sources.json"]);
    std::fs::write(s.path(".lock"), b"").unwrap();
    // flock(1) holds the lock for its child; both live in their own
    // process group, killed together at the end.
    let mut flock = std::process::Command::new("flock")
        .arg(s.path(".lock"))
        .args(["sleep", "600"])
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .process_group(0)
        .spawn()
        .expect("flock(1)");
    // Wait until flock holds it.
    let store = open_ro(&s);
    for _ in 0..500 {
        if matches!(
            store.lock_status().unwrap(),
            statewright::store::LockStatus::Held { .. }
        ) {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let r = check(&s, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = only(&r.json(), "SW034");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("left no holder record")
    );
    assert!(f["remedy"].as_str().unwrap().contains("fuser"));
    let r = check(&s, &["--repair"]);
    // SAFETY: signalling the process group of our own child.
    unsafe { libc::kill(-(flock.id() as libc::pid_t), libc::SIGKILL) };
    let _ = flock.wait();
    assert_eq!(r.code, 3, "the lock is held: {r:?}");
}

fn open_ro(s: &State) -> statewright::store::Store {
    statewright::store::Store::open_read_only(&crate::state::catalog(), &s.dir, Default::default())
        .unwrap()
}

#[test]
fn backup_missing_changed_unlisted_and_manifest_unreadable() {
    let s = written(&["sources.json", "index.json"]);
    let src = backup_of(&s, "sources.json.");
    let idx = backup_of(&s, "index.json.");
    // Each document's backups are listed in its own index.
    let pos = |rel: &str, name: &Path| {
        let index: Value = serde_json::from_slice(
            &std::fs::read(s.path(&format!(".backup/index/{rel}"))).unwrap(),
        )
        .unwrap();
        index["backups"]
            .as_array()
            .unwrap()
            .iter()
            .position(|b| b["backup"] == name.file_name().unwrap().to_str().unwrap())
            .unwrap()
    };
    let (src_i, idx_i) = (pos("sources.json", &src), pos("index.json", &idx));
    std::fs::remove_file(&src).unwrap();
    let mut v: Value = serde_json::from_slice(&std::fs::read(&idx).unwrap()).unwrap();
    v["artifacts"] = json!([]);
    std::fs::write(&idx, serde_json::to_vec_pretty(&v).unwrap()).unwrap();
    std::fs::write(s.path(".backup/index.json.99.aaaaaaaaaaaa"), b"{}").unwrap();
    let r = check(&s, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let j = r.json();
    let f = only(&j, "SW035");
    assert_eq!(f["pointer"], format!("/backups/{src_i}/backup"));
    assert!(ends_with(&f, ".backup/index/sources.json"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("is listed but its file is missing")
    );
    let f = only(&j, "SW036");
    assert_eq!(f["pointer"], format!("/backups/{idx_i}/checksum"));
    assert!(f["remedy"].as_str().unwrap().contains("never restored"));
    let f = only(&j, "SW037");
    assert!(ends_with(&f, ".backup/index.json.99.aaaaaaaaaaaa"));
    assert_eq!(f["severity"], "warning");

    std::fs::write(s.path(".backup/index/sources.json"), b"{\"backups\": [").unwrap();
    let j = check(&s, &[]).json();
    let f = only(&j, "SW038");
    assert!(ends_with(&f, ".backup/index/sources.json"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("the backup index cannot be read: EOF"),
        "{f}"
    );
    assert!(
        f["remedy"]
            .as_str()
            .unwrap()
            .contains("fix or remove the index file named")
    );
}

#[test]
fn an_edited_audit_line_is_found_with_its_line() {
    let s = written(&["sources.json", "index.json"]);
    edit(
        &s.path("audit.log"),
        "\"command\":\"fixture\"",
        "\"command\":\"other\"",
    );
    let r = check(&s, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = only(&r.json(), "SW039");
    assert_eq!(f["position"]["line"], 1);
    assert!(ends_with(&f, "audit.log"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("line 1: the line was edited")
    );
    let h = flat(&s.run(&["check"]).stdout);
    assert!(h.contains("[SW039]") && h.contains("audit.log:1:1"), "{h}");
}

fn with_history(s: &State, hash: &str) {
    let store = open(&s.dir);
    let g = store.lock(&LockOptions::default()).unwrap();
    store
        .update_locked(&g, "processed.json", &WriteContext::new("fixture"), |v| {
            v["history"] = json!([{
                "migration": "0001_checkpoints_and_failure_details",
                "from": 1, "to": 2, "file_hash": hash,
                "applied_at": "2026-03-01T00:00:00Z"
            }]);
        })
        .unwrap();
}

#[test]
fn history_naming_a_changed_or_missing_migration_file() {
    let s = written(&["processed.json"]);
    let file = s
        .root
        .path()
        .join("migrations/mamfast-processed/0001_checkpoints_and_failure_details.yaml");
    let hash = statewright::spec::migration::file_hash(&std::fs::read(&file).unwrap());
    with_history(&s, &hash);
    assert_eq!(codes(&check(&s, &[]).json()), Vec::<String>::new());
    let mut text = std::fs::read_to_string(&file).unwrap();
    text.push_str("# edited after release\n");
    std::fs::write(&file, text).unwrap();
    let r = check(&s, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = only(&r.json(), "SW043");
    assert_eq!(f["pointer"], "/history/0/file_hash");
    assert!(ends_with(&f, "processed.json"));
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains(&format!("with {hash}, but the file's hash is now sha256:"))
    );
    assert!(f["remedy"].as_str().unwrap().contains(
        "restore migrations/mamfast-processed/0001_checkpoints_and_failure_details.yaml as released"
    ));
    std::fs::remove_file(&file).unwrap();
    let f = only(&check(&s, &[]).json(), "SW044");
    assert_eq!(f["pointer"], "/history/0/migration");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .contains("no such migration file exists now")
    );
}

#[test]
fn missing_provenance_is_reported() {
    let s = examples();
    restamp(&s.path("config/dev.json"), |v| {
        v.as_object_mut().unwrap().remove("provenance");
    });
    let r = check(&s, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = only(&r.json(), "SW016");
    assert_eq!(f["pointer"], "/provenance");
    assert!(ends_with(&f, "config/dev.json"));
}

#[test]
fn a_transition_the_schema_forbids_is_found_against_the_newest_backup() {
    let s = written(&["processed.json"]);
    // A tool writing past the store moves COMPLETE back to DISCOVERED and
    // stamps a correct checksum.
    restamp(&s.path("processed.json"), |v| {
        v["processed"]["B08XJ4QK7L"]["status"] = json!("DISCOVERED");
    });
    let r = check(&s, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = only(&r.json(), "SW045");
    assert_eq!(f["pointer"], "/processed/B08XJ4QK7L/status");
    let m = f["message"].as_str().unwrap();
    assert!(
        m.contains("COMPLETE → DISCOVERED; allowed from COMPLETE: (none: final state)"),
        "{m}"
    );
    assert!(
        m.contains("compared with the newest backup processed.json."),
        "{m}"
    );
    assert!(f["position"]["line"].as_u64().unwrap() > 1);
}

#[test]
fn a_complete_newer_temp_is_finished_by_repair() {
    let s = written(&["sources.json"]);
    let temp = s.path(".sources.json.fedcba9876543210.tmp");
    std::fs::copy(s.path("sources.json"), &temp).unwrap();
    restamp(&temp, |v| {
        v["serial"] = json!(v["serial"].as_u64().unwrap() + 1);
        v["sources"][0]["branch"] = json!("next");
    });
    let want = std::fs::read(&temp).unwrap();
    let f = only(&check(&s, &[]).json(), "SW031");
    assert!(ends_with(&f, ".sources.json.fedcba9876543210.tmp"));
    let r = check(&s, &["--repair"]);
    assert_eq!(r.code, 0, "{r:?}");
    let a = r.json()["repairs"]["actions"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(
        a.starts_with("finished interrupted write of sources.json (serial"),
        "{a}"
    );
    assert!(!temp.exists());
    assert_eq!(std::fs::read(s.path("sources.json")).unwrap(), want);
}

/// Rewrites `audit.log` without the lines `drop(index, count)` picks.
fn drop_audit_lines(s: &State, drop: impl Fn(usize, usize) -> bool) {
    let text = std::fs::read_to_string(s.path("audit.log")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    let kept: String = lines
        .iter()
        .enumerate()
        .filter(|(i, _)| !drop(*i, lines.len()))
        .map(|(_, l)| format!("{l}\n"))
        .collect();
    std::fs::write(s.path("audit.log"), kept).unwrap();
}

#[test]
fn a_committed_version_without_its_audit_line_is_found_and_repair_writes_it() {
    let s = written(&["sources.json", "index.json"]);
    let serial = |rel: &str| -> u64 {
        let v: Value = serde_json::from_slice(&std::fs::read(s.path(rel)).unwrap()).unwrap();
        v["serial"].as_u64().unwrap()
    };
    // The log's last line (index.json's newest version) is gone: the
    // chain cannot tell, the document can.
    drop_audit_lines(&s, |i, n| i + 1 == n);
    assert_eq!(s.run(&["audit", "verify"]).code, 0);
    let before = snapshot(&s.dir);
    let r = check(&s, &[]);
    assert_eq!(r.code, 0, "a warning does not fail by default: {r:?}");
    assert_eq!(snapshot(&s.dir), before, "check wrote something");
    let f = only(&r.json(), "SW040");
    assert!(ends_with(&f, "index.json"));
    assert_eq!(f["pointer"], "/serial");
    assert_eq!(f["severity"], "warning");
    let message = f["message"].as_str().unwrap();
    let n = serial("index.json");
    assert!(
        message.starts_with(&format!("serial {n} (written ")),
        "{message}"
    );
    assert!(
        message.contains(&format!(
            "its last line for this file records serial {}",
            n - 1
        )),
        "{message}"
    );
    assert!(
        f["remedy"]
            .as_str()
            .unwrap()
            .contains("`statewright check --repair`")
    );
    assert_eq!(check(&s, &["--fail-on", "warning"]).code, 1);
    let h = flat(&s.run(&["check"]).stdout);
    assert!(h.contains("[SW040]") && h.contains("at /serial"), "{h}");
    // While a live process holds the lock, a writer may be between its
    // rename and its line: no finding then.
    let mut child = holder(&s.dir);
    let r = check(&s, &["--fail-on", "warning"]);
    sigkill(&mut child);
    assert!(!codes(&r.json()).contains(&"SW040".to_owned()), "{r:?}");

    let r = check(&s, &["--repair"]);
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    let actions = j["repairs"]["actions"].as_array().unwrap();
    let wrote =
        format!("wrote the missing audit line of index.json (serial {n}) from its envelope");
    assert!(actions.contains(&json!(wrote)), "{actions:?}");
    assert_eq!(codes(&j), Vec::<String>::new());
    assert_eq!(serial("index.json"), n, "the document is not rewritten");
    let log = std::fs::read_to_string(s.path("audit.log")).unwrap();
    let last: Value = serde_json::from_str(log.lines().last().unwrap()).unwrap();
    assert_eq!(last["file"], "index.json");
    assert_eq!(last["serial"], n);
    assert!(
        last["outcome"]
            .as_str()
            .unwrap()
            .ends_with("written on repair")
    );
    assert_eq!(s.run(&["audit", "verify"]).code, 0);
}

#[test]
fn a_version_older_than_the_kept_log_is_not_reported() {
    // Every line in a file of its own (each append rotates); the two
    // oldest files, sources.json's lines, dropped as rotation drops them.
    let opts = statewright::store::StoreOptions {
        audit_max_bytes: 1,
        ..Default::default()
    };
    let s = crate::state::written_with(&["sources.json", "index.json"], opts);
    for n in [3, 2] {
        std::fs::remove_file(s.path(&format!("audit.log.{n}"))).unwrap();
    }
    let r = s.run(&["audit", "verify"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.contains(": 2 lines verified, chain intact"),
        "{r:?}"
    );
    let r = check(&s, &["--fail-on", "warning"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(codes(&r.json()), Vec::<String>::new());
}

/// Checks `s` (which must fail, writing nothing) and returns its one
/// finding `code`, an error about `file` at `pointer`.
fn one_error(s: &State, code: &str, file: &str, pointer: &str) -> Value {
    let before = snapshot(&s.dir);
    let r = check(s, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(snapshot(&s.dir), before, "check wrote something");
    let f = only(&r.json(), code);
    assert!(ends_with(&f, file), "{f}");
    assert_eq!(
        (f["pointer"].clone(), f["severity"].clone()),
        (json!(pointer), json!("error"))
    );
    f
}

#[test]
fn a_document_stripped_of_its_checksum_is_corrupt_and_restored() {
    let s = written(&["sources.json"]);
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(s.path("sources.json")).unwrap()).unwrap();
    let lineage = v["lineage"].as_str().unwrap().to_owned();
    v.as_object_mut().unwrap().remove("checksum");
    v["sources"][0]["branch"] = json!("evil");
    std::fs::write(
        s.path("sources.json"),
        serde_json::to_vec_pretty(&v).unwrap(),
    )
    .unwrap();
    let f = one_error(&s, "SW030", "sources.json", "/checksum");
    assert_eq!(
        f["message"],
        format!(
            "the envelope has no checksum, but it records serial 2 and lineage {lineage}: the store stamps a checksum on every document it writes, so it was removed"
        )
    );
    // The store refuses it alike.
    assert_eq!(s.run(&["get", "sources.json", "/sources/0/branch"]).code, 1);

    let r = check(&s, &["--repair"]);
    assert_eq!(r.code, 0, "{r:?}");
    let j = r.json();
    let action = j["repairs"]["actions"][0].as_str().unwrap();
    assert!(
        action.starts_with("restored sources.json from backup sources.json.1."),
        "{action}"
    );
    assert!(action.contains("written as serial 3"), "{action}");
    assert!(action.contains("no checksum"), "{action}");
    let now: Value =
        serde_json::from_slice(&std::fs::read(s.path("sources.json")).unwrap()).unwrap();
    assert_eq!(now["sources"][0]["branch"], "main");
    assert_eq!(now["serial"], 3);
    assert_eq!(codes(&j), Vec::<String>::new());
}

#[test]
fn an_unstamped_document_given_a_serial_is_corrupt() {
    let s = examples();
    let mut v: Value =
        serde_json::from_slice(&std::fs::read(s.path("sources.json")).unwrap()).unwrap();
    v["serial"] = json!(4);
    let bytes = serde_json::to_vec_pretty(&v).unwrap();
    std::fs::write(s.path("sources.json"), &bytes).unwrap();
    let r = check(&s, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = only(&r.json(), "SW030");
    assert_eq!(
        f["message"],
        "the envelope has no checksum, but it records serial 4: the store stamps a checksum on every document it writes, so it was removed"
    );
    // No backup to restore from: left byte for byte as it was.
    let r = check(&s, &["--repair"]);
    assert_eq!(r.code, 1, "{r:?}");
    let u = r.json()["repairs"]["unrepaired"][0]
        .as_str()
        .unwrap()
        .to_owned();
    assert!(u.starts_with("sources.json: left as it is:"), "{u}");
    assert_eq!(std::fs::read(s.path("sources.json")).unwrap(), bytes);
}

#[test]
fn a_rolled_back_document_is_reported_and_writes_over_it_are_refused() {
    let s = written(&["sources.json"]);
    // Rolled back by one version: the newest backup (serial 1) copied
    // over the document (serial 2), as `cp` would.
    std::fs::copy(backup_of(&s, "sources.json.1."), s.path("sources.json")).unwrap();
    let before = snapshot(&s.dir);
    let f = one_error(&s, "SW046", "sources.json", "/serial");
    assert_eq!(
        f["message"],
        "serial 1 is lower than serial 2, the highest the store has recorded for this file (audit log: 2, backup index: 2): it was rolled back or replaced by an older copy outside statewright, and the store refuses to write over it"
    );
    assert!(
        f["remedy"]
            .as_str()
            .unwrap()
            .contains("`check --repair` leaves it as it is")
    );

    let r = s.run(&["set", "sources.json", "/sources/0/branch", "dev"]);
    assert_eq!(r.code, 4, "{r:?}");
    let e = flat(&r.stderr);
    assert!(
        e.contains("sources.json: it is at serial 1, but the store has recorded serial 2 for it")
            && e.contains("nothing was written")
            && e.contains("copy the version you want back from .backup/")
            && e.contains("or pass force to write over it with a serial above 2"),
        "{e}"
    );
    assert_eq!(snapshot(&s.dir), before, "a refused write wrote something");

    // Repair reports it and leaves it as it is.
    let r = check(&s, &["--repair"]);
    assert_eq!(r.code, 1, "{r:?}");
    assert_eq!(only(&r.json(), "SW046")["code"], "SW046");
    assert_eq!(
        std::fs::read(s.path("sources.json")).unwrap(),
        before["sources.json"]
    );

    // Forced, the write gets a serial above every recorded one.
    let store = open(&s.dir);
    let g = store.lock(&LockOptions::default()).unwrap();
    let mut force = WriteContext::new("test");
    force.force = true;
    let v: Value = serde_json::from_slice(&before["sources.json"]).unwrap();
    assert_eq!(
        store.write(&g, "sources.json", v, &force).unwrap().serial,
        3
    );
    drop(g);
    let r = check(&s, &["--fail-on", "warning"]);
    assert_eq!(r.code, 0, "{r:?}");
}

#[test]
fn a_live_writers_files_are_not_reported_while_it_holds_the_lock() {
    let s = written(&["sources.json"]);
    let mut child = holder(&s.dir);
    // What a writer at work has made: a temp, a journal, a backup linked
    // before the manifest is rewritten.
    std::fs::write(s.path(".sources.json.0123456789abcdef.tmp"), b"{\"half\": ").unwrap();
    std::fs::write(s.path(".journal"), b"{}").unwrap();
    std::fs::copy(
        s.path("sources.json"),
        s.path(".backup/sources.json.2.0123456789ab"),
    )
    .unwrap();
    let before = snapshot(&s.dir);
    let r = check(&s, &["--fail-on", "warning"]);
    let repaired = check(&s, &["--repair"]);
    let after = snapshot(&s.dir);
    let dead = {
        sigkill(&mut child);
        check(&s, &[])
    };
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(codes(&r.json()), vec!["SW048".to_owned()]);
    let f = only(&r.json(), "SW048");
    assert!(ends_with(&f, ".lock"));
    assert_eq!(f["severity"], "info");
    let m = f["message"].as_str().unwrap();
    assert!(
        m.starts_with("a write is in progress: the lock is held by `test holder` (pid ")
            && m.ends_with(
                "; its files (1 temp file, 1 journal, 1 backup not yet in the manifest) are not reported while it works"
            ),
        "{m}"
    );
    // Repair waits for the lock (here: fails at once) and touches nothing.
    assert_eq!(repaired.code, 3, "{repaired:?}");
    assert_eq!(after, before, "repair changed a live writer's files");
    // With the holder gone they are leftovers again.
    let mut got = codes(&dead.json());
    got.sort();
    assert_eq!(got, ["SW031", "SW032", "SW033", "SW037"], "{dead:?}");
}

/// A credential put into a document by hand (past the store, which
/// refuses to write one) is an error, reported by pointer without the
/// value: neither the human report nor the JSON carries it.
#[test]
fn a_credential_added_by_hand_is_found_and_not_shown() {
    let s = examples();
    let key = "AKIAIOSFODNN7EXAMPLE";
    restamp(&s.path("config/prod.json"), |v| {
        v["vars"]["upload_key"] = json!(key);
    });
    let r = check(&s, &[]);
    assert_eq!(r.code, 1, "{r:?}");
    let f = only(&r.json(), "SW049");
    assert!(ends_with(&f, "config/prod.json"), "{f}");
    assert_eq!(f["pointer"], "/vars/upload_key");
    assert_eq!(
        f["message"],
        "the value looks like an AWS access key id (not shown; the pointer says where)"
    );
    assert!(!r.stdout.contains(key), "{}", r.stdout);
    let human = s.run(&["check"]);
    assert_eq!(human.code, 1, "{human:?}");
    assert!(flat(&human.stdout).contains("[SW049]"), "{}", human.stdout);
    assert!(
        !human.stdout.contains(key) && !human.stderr.contains(key),
        "{human:?}"
    );
}

/// A kind whose path pattern matches nothing is a note naming the
/// pattern in the project file: the usual sign of a typo.
#[test]
fn a_kind_with_no_document_is_a_note_naming_its_pattern() {
    let s = examples();
    let r = check(&s, &[]);
    assert_eq!(r.code, 0, "{r:?}");
    let f = only(&r.json(), "SW021");
    assert!(ends_with(&f, "statewright.toml"), "{f}");
    assert_eq!(f["pointer"], "/kinds/deploy-pins/path");
    assert_eq!(f["severity"], "info");
    assert!(
        f["message"]
            .as_str()
            .unwrap()
            .starts_with("kind `deploy-pins` (path `deploy/pins.json`) matches no document in"),
        "{f}"
    );
}
