//! State machines (`x-statewright-transitions`) enforced on every write
//! through the store: write, update and transactions; recovery excluded.

use serde_json::{Value, json};
use statewright::spec::{Catalog, Project};
use statewright::store::{Store, StoreError, StoreOptions};

use crate::harness::{ctx, lock};

struct Jobs {
    _root: tempfile::TempDir,
    store: Store,
    state: std::path::PathBuf,
}

fn jobs() -> Jobs {
    let root = tempfile::tempdir().unwrap();
    let p = root.path();
    std::fs::write(
        p.join("statewright.toml"),
        "[project]\nschemas = \"schemas\"\nstate = \"state\"\n\n[kinds.jobs]\npath = \"jobs*.json\"\n",
    )
    .unwrap();
    let schema = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "type": "object",
        "properties": {
            "schema_version": {"type": "integer"},
            "jobs": {"type": "object", "additionalProperties": {"$ref": "#/$defs/job"}}
        },
        "$defs": {"job": {"type": "object", "properties": {"status": {
            "enum": ["NEW", "RUNNING", "DONE", "FAILED"],
            "x-statewright-transitions": {
                "NEW": ["RUNNING"], "RUNNING": ["DONE", "FAILED"], "FAILED": ["NEW"], "DONE": []
            }
        }}}}
    });
    std::fs::create_dir_all(p.join("schemas/jobs")).unwrap();
    std::fs::write(
        p.join("schemas/jobs/v1.json"),
        serde_json::to_vec_pretty(&schema).unwrap(),
    )
    .unwrap();
    let project = Project::load(&p.join("statewright.toml")).unwrap();
    let catalog = Catalog::load(&project).unwrap();
    let state = p.join("state");
    std::fs::create_dir_all(&state).unwrap();
    let store = Store::open(&catalog, &state, StoreOptions::default())
        .unwrap()
        .0;
    Jobs {
        _root: root,
        store,
        state,
    }
}

fn doc(statuses: &[(&str, &str)]) -> Value {
    let jobs: serde_json::Map<String, Value> = statuses
        .iter()
        .map(|(k, s)| ((*k).to_owned(), json!({"status": s})))
        .collect();
    json!({"schema_version": 1, "jobs": jobs})
}

fn create(j: &Jobs, rel: &str, job: &str, status: &str) {
    let g = j.store.lock(&lock()).unwrap();
    j.store
        .write(&g, rel, doc(&[(job, status)]), &ctx())
        .unwrap();
}

fn set(j: &Jobs, rel: &str, job: &str, status: &str) -> Result<(), StoreError> {
    j.store
        .update(&lock(), rel, &ctx(), |v| {
            v["jobs"][job] = json!({"status": status})
        })
        .map(|_| ())
}

#[test]
fn allowed_same_state_and_new_entries_are_written() {
    let j = jobs();
    let g = j.store.lock(&lock()).unwrap();
    j.store
        .write(&g, "jobs.json", doc(&[("a", "DONE")]), &ctx())
        .unwrap();
    drop(g);
    set(&j, "jobs.json", "a", "DONE").unwrap();
    set(&j, "jobs.json", "b", "FAILED").unwrap();
    set(&j, "jobs.json", "b", "NEW").unwrap();
    set(&j, "jobs.json", "b", "RUNNING").unwrap();
    let v = j.store.read("jobs.json").unwrap().value;
    assert_eq!(v["jobs"]["b"]["status"], "RUNNING");
}

#[test]
fn an_illegal_update_is_refused_naming_the_allowed_states() {
    let j = jobs();
    create(&j, "jobs.json", "a", "NEW");
    let before = std::fs::read(j.state.join("jobs.json")).unwrap();
    let e = set(&j, "jobs.json", "a", "DONE").unwrap_err();
    assert!(matches!(e, StoreError::Transition { .. }), "{e:?}");
    let msg = e.to_string();
    assert!(
        msg.contains("jobs.json: not written, illegal transition at /jobs/a/status: NEW → DONE; allowed from NEW: RUNNING"),
        "{msg}"
    );
    assert_eq!(std::fs::read(j.state.join("jobs.json")).unwrap(), before);
    set(&j, "jobs.json", "a", "RUNNING").unwrap();
    set(&j, "jobs.json", "a", "DONE").unwrap();
    let e = set(&j, "jobs.json", "a", "RUNNING").unwrap_err();
    assert!(
        e.to_string()
            .contains("DONE → RUNNING; allowed from DONE: (none: final state)"),
        "{e}"
    );
}

#[test]
fn a_plain_write_is_checked_against_the_current_version() {
    let j = jobs();
    let g = j.store.lock(&lock()).unwrap();
    j.store
        .write(&g, "jobs.json", doc(&[("a", "NEW"), ("b", "NEW")]), &ctx())
        .unwrap();
    let e = j
        .store
        .write(
            &g,
            "jobs.json",
            doc(&[("a", "FAILED"), ("b", "DONE")]),
            &ctx(),
        )
        .unwrap_err();
    match e {
        StoreError::Transition { violations, .. } => {
            assert_eq!(violations.len(), 2);
            assert_eq!(violations[0].pointer, "/jobs/a/status");
            assert_eq!(violations[1].allowed, vec!["RUNNING".to_owned()]);
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_transaction_with_one_illegal_change_writes_nothing() {
    let j = jobs();
    create(&j, "jobs1.json", "a", "NEW");
    create(&j, "jobs2.json", "a", "NEW");
    let before: Vec<Vec<u8>> = ["jobs1.json", "jobs2.json"]
        .iter()
        .map(|f| std::fs::read(j.state.join(f)).unwrap())
        .collect();
    let g = j.store.lock(&lock()).unwrap();
    let mut tx = j.store.transaction(&g);
    tx.put("jobs1.json", doc(&[("a", "RUNNING")]));
    tx.put("jobs2.json", doc(&[("a", "DONE")]));
    let e = tx.commit(&ctx()).unwrap_err();
    assert!(e.to_string().contains("jobs2.json"), "{e}");
    for (f, b) in ["jobs1.json", "jobs2.json"].iter().zip(before) {
        assert_eq!(std::fs::read(j.state.join(f)).unwrap(), b);
    }
}

#[test]
fn recovery_may_restore_an_earlier_state() {
    let j = jobs();
    create(&j, "jobs.json", "a", "NEW");
    set(&j, "jobs.json", "a", "RUNNING").unwrap();
    // Corrupt the current version: the backup (status NEW) is restored
    // even though RUNNING → NEW is not an allowed edge.
    std::fs::write(j.state.join("jobs.json"), b"{\"trunc").unwrap();
    let g = j.store.lock(&lock()).unwrap();
    let loaded = j.store.recover(&g, "jobs.json").unwrap();
    assert!(loaded.restored.is_some());
    assert_eq!(loaded.value["jobs"]["a"]["status"], "NEW");
}
