//! Migrating the shipped catalog: verify, the mamfast step, dry-run,
//! status, history, and every refusal with its message.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use statewright::migrate::{
    Hooks, MigrateError, MigrateOptions, Migrator, StatusState, Target, WriteBatch, verify,
};
use statewright::spec::migration::{self, MigrationSet};
use statewright::spec::{Catalog, Project};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn catalog() -> Catalog {
    Catalog::load(&Project::load(&root().join("statewright.toml")).unwrap()).unwrap()
}

fn migrations() -> MigrationSet {
    migration::load_checked(&root().join("migrations")).unwrap()
}

fn fixture(kind: &str, v: u32, name: &str) -> Value {
    let p = root().join(format!("schemas/{kind}/examples/v{v}/{name}"));
    statewright::spec::catalog::read_json(&p).unwrap()
}

fn opts() -> MigrateOptions {
    MigrateOptions {
        applied_at: Some("2026-04-01T00:00:00Z".into()),
        ..Default::default()
    }
}

#[test]
fn shipped_catalog_verifies_clean() {
    let report = verify(&catalog(), &migrations(), &Hooks::new());
    assert!(report.is_clean(), "{:#?}", report.findings);
    assert!(report.upgrades_checked >= 1);
    assert!(report.round_trips_checked >= 1);
}

#[test]
fn mamfast_v1_becomes_the_v2_fixture_with_history() {
    let (cat, set) = (catalog(), migrations());
    let m = Migrator::new(&cat, &set);
    let docs = vec![(
        PathBuf::from("processed.json"),
        fixture("mamfast-processed", 1, "basic.json"),
    )];
    let out = m.prepare(&docs, &opts()).unwrap();
    let mut got = out[0].value.clone();
    let history = got
        .as_object_mut()
        .unwrap()
        .shift_remove("history")
        .unwrap();
    assert_eq!(got, fixture("mamfast-processed", 2, "basic.json"));
    let file = set
        .by_id("mamfast-processed", "0001_checkpoints_and_failure_details")
        .unwrap();
    assert_eq!(
        history,
        json!([{
            "migration": "0001_checkpoints_and_failure_details", "from": 1, "to": 2,
            "file_hash": file.file_hash, "applied_at": "2026-04-01T00:00:00Z"
        }])
    );
}

#[test]
fn mamfast_keeps_existing_fields() {
    let (cat, set) = (catalog(), migrations());
    let m = Migrator::new(&cat, &set);
    let doc = json!({"version": 1, "processed": {"a": {"checkpoints": {"staged": "t"}, "infohash": "ab"}},
                     "failed": {"b": {"failed_at": "t2", "first_failed_at": "t0"}}});
    let out = m
        .prepare(&[(PathBuf::from("processed.json"), doc)], &opts())
        .unwrap();
    let v = &out[0].value;
    assert_eq!(
        v["processed"]["a"],
        json!({"checkpoints": {"staged": "t"}, "infohash": "ab"})
    );
    assert_eq!(
        v["failed"]["b"],
        json!({"failed_at": "t2", "first_failed_at": "t0", "error_type": null})
    );
}

#[test]
fn dry_run_prints_the_patch_and_writes_nothing() {
    let (cat, set) = (catalog(), migrations());
    let m = Migrator::new(&cat, &set);
    let docs = vec![(
        PathBuf::from("processed.json"),
        fixture("mamfast-processed", 1, "basic.json"),
    )];
    let plans = m.dry_run(&docs, &opts()).unwrap();
    assert_eq!((plans[0].from, plans[0].to), (1, 2));
    assert_eq!(
        plans[0].steps[0].migration,
        "0001_checkpoints_and_failure_details"
    );
    let patch = serde_json::to_value(&plans[0].patch).unwrap();
    let ops: Vec<_> = patch
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap().to_owned())
        .collect();
    assert!(
        ops.contains(&"/processed/B0C1234XYZ/checkpoints".to_owned()),
        "{ops:?}"
    );
    assert!(ops.contains(&"/version".to_owned()), "{ops:?}");
    let mut patched = docs[0].1.clone();
    json_patch::patch(&mut patched, &plans[0].patch).unwrap();
    assert_eq!(patched["version"], 2);
}

#[test]
fn migrate_hands_one_batch_to_the_writer() {
    let (cat, set) = (catalog(), migrations());
    let m = Migrator::new(&cat, &set);
    let v2 = fixture("mamfast-processed", 2, "basic.json");
    let docs = vec![(
        PathBuf::from("processed.json"),
        fixture("mamfast-processed", 1, "basic.json"),
    )];
    let mut batches: Vec<WriteBatch> = Vec::new();
    let mut writer = |b: &WriteBatch| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        batches.push(b.clone());
        Ok(())
    };
    let summary = m.migrate(&docs, &opts(), &mut writer).unwrap();
    assert_eq!(summary.migrated.len(), 1);
    assert_eq!(batches.len(), 1);
    assert!(!batches[0].backup_first);
    // Already current: nothing to write.
    let summary = m
        .migrate(
            &[(PathBuf::from("processed.json"), v2)],
            &opts(),
            &mut |_: &WriteBatch| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
                panic!("no write expected")
            },
        )
        .unwrap();
    assert_eq!(summary.unchanged.len(), 1);
}

#[test]
fn status_lists_versions() {
    let (cat, set) = (catalog(), migrations());
    let m = Migrator::new(&cat, &set);
    let docs = vec![
        (PathBuf::from("processed.json"), json!({"version": 1})),
        (PathBuf::from("processed.json"), json!({"version": 2})),
        (PathBuf::from("processed.json"), json!({"version": 9})),
        (PathBuf::from("nothing.txt"), json!({})),
    ];
    let s: Vec<_> = m.status(&docs).into_iter().map(|s| s.state).collect();
    assert_eq!(
        s,
        [
            StatusState::Behind,
            StatusState::Current,
            StatusState::Newer,
            StatusState::NoKind
        ]
    );
}

#[test]
fn refuses_a_document_newer_than_the_catalog() {
    let (cat, set) = (catalog(), migrations());
    let m = Migrator::new(&cat, &set);
    let e = m
        .prepare(
            &[(PathBuf::from("processed.json"), json!({"version": 3}))],
            &opts(),
        )
        .unwrap_err();
    assert!(e.is_refusal());
    let msg = e.to_string();
    assert!(
        msg.starts_with("processed.json: document is at version 3"),
        "{msg}"
    );
    assert!(msg.contains("newest schema this tool knows (v2)"), "{msg}");
    assert!(msg.contains("upgrade statewright"), "{msg}");
    assert!(
        msg.contains("copy back the version in the state dir's `.backup/`"),
        "{msg}"
    );
}

#[test]
fn refuses_a_history_naming_an_edited_migration() {
    let (cat, set) = (catalog(), migrations());
    let m = Migrator::new(&cat, &set);
    let mut doc = fixture("mamfast-processed", 2, "basic.json");
    doc["history"] = json!([{"migration": "0001_checkpoints_and_failure_details", "from": 1, "to": 2,
        "file_hash": format!("sha256:{}", "0".repeat(64)), "applied_at": "2026-01-01T00:00:00Z"}]);
    let e = m
        .prepare(
            &[(PathBuf::from("processed.json"), doc)],
            &MigrateOptions {
                to: Target::Version(1),
                ..opts()
            },
        )
        .unwrap_err();
    let msg = e.to_string();
    assert!(e.is_refusal());
    assert!(msg.contains("provenance mismatch"), "{msg}");
    assert!(
        msg.contains("0001_checkpoints_and_failure_details"),
        "{msg}"
    );
    assert!(
        msg.contains("restore migrations/mamfast-processed/0001_checkpoints_and_failure_details"),
        "{msg}"
    );
}

/// A scratch project: the shipped schemas and migrations copied to a temp dir.
fn scratch() -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    copy_tree(&root().join("schemas"), &dir.path().join("schemas"));
    copy_tree(&root().join("migrations"), &dir.path().join("migrations"));
    std::fs::copy(
        root().join("statewright.toml"),
        dir.path().join("statewright.toml"),
    )
    .unwrap();
    dir
}

fn copy_tree(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap() {
        let p = e.unwrap().path();
        let t = to.join(p.file_name().unwrap());
        if p.is_dir() {
            copy_tree(&p, &t);
        } else {
            std::fs::copy(&p, &t).unwrap();
        }
    }
}

#[test]
fn refuses_tampered_migrations_naming_the_file_and_fix() {
    let dir = scratch();
    let mig = dir.path().join("migrations");
    let file = mig.join("mamfast-processed/0001_checkpoints_and_failure_details.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(&file, text.replace("default: {}", "default: {x: 1}")).unwrap();
    let e = MigrateError::from(migration::load_checked(&mig).unwrap_err()).to_string();
    assert!(
        e.contains(
            "migration `mamfast-processed/0001_checkpoints_and_failure_details.yaml` was edited"
        ),
        "{e}"
    );
    assert!(e.contains("restore mamfast-processed/0001_checkpoints_and_failure_details.yaml from version control"), "{e}");
    assert!(e.contains("statewright migrate hash"), "{e}");
    std::fs::remove_file(&file).unwrap();
    let e = migration::load_checked(&mig).unwrap_err().to_string();
    assert!(e.contains("was removed"), "{e}");
    std::fs::write(&file, text).unwrap();
    std::fs::write(
        mig.join("mamfast-processed/0002_more.yaml"),
        "kind: mamfast-processed\nfrom: 2\nto: 3\ndescription: x\nops: []\n",
    )
    .unwrap();
    let e = migration::load_checked(&mig).unwrap_err().to_string();
    assert!(e.contains("0002_more.yaml` was added"), "{e}");
    statewright::migrate::rehash(&mig).unwrap();
    migration::load_checked(&mig).unwrap();
}

#[test]
fn refuses_a_gap_in_the_chain() {
    let dir = scratch();
    let mig = dir.path().join("migrations");
    std::fs::remove_file(mig.join("mamfast-processed/0001_checkpoints_and_failure_details.yaml"))
        .unwrap();
    statewright::migrate::rehash(&mig).unwrap();
    let set = migration::load_checked(&mig).unwrap();
    let cat = Catalog::load(&Project::load(&dir.path().join("statewright.toml")).unwrap()).unwrap();
    let e = statewright::migrate::plan(&cat, &set, "mamfast-processed", 1, 2)
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("no migration from v1 to v2: the chain has a gap"),
        "{e}"
    );
    assert!(
        e.contains("add migrations/mamfast-processed/<NNNN>_<name>.yaml with `from: 1`"),
        "{e}"
    );
    let report = verify(&cat, &set, &Hooks::new());
    assert!(
        report.findings.iter().any(|f| f.code == "MV002"),
        "{:?}",
        report.findings
    );
}

#[test]
fn deploy_pins_chain_goes_up_and_back_down() {
    let (cat, set) = (catalog(), migrations());
    let m = Migrator::new(&cat, &set);
    let path = PathBuf::from("deploy/pins.json");
    let up = m
        .prepare(
            &[(path.clone(), fixture("deploy-pins", 1, "basic.json"))],
            &opts(),
        )
        .unwrap();
    assert_eq!(up[0].steps.len(), 2);
    let mut v3 = up[0].value.clone();
    assert_eq!(v3["history"].as_array().unwrap().len(), 2);
    v3.as_object_mut().unwrap().shift_remove("history");
    assert_eq!(v3, fixture("deploy-pins", 3, "basic.json"));
    let down = MigrateOptions {
        to: Target::Version(1),
        ..opts()
    };
    let back = m.prepare(&[(path, v3)], &down).unwrap();
    let mut v1 = back[0].value.clone();
    v1.as_object_mut().unwrap().shift_remove("history");
    assert_eq!(v1, fixture("deploy-pins", 1, "basic.json"));
    let report = verify(&cat, &set, &Hooks::new());
    assert_eq!(
        (report.upgrades_checked, report.round_trips_checked),
        (4, 3)
    );
}

#[test]
fn a_downgrade_through_a_step_without_an_inverse_that_loses_nothing_runs() {
    let dir = scratch();
    let mig = dir.path().join("migrations");
    let file = mig.join("deploy-pins/0002_tiers_regions_channel.yaml");
    let text = std::fs::read_to_string(&file).unwrap();
    std::fs::write(
        &file,
        text.replace("{ path: /defaults, default: {} }", "{ path: /defaults }"),
    )
    .unwrap();
    statewright::migrate::rehash(&mig).unwrap();
    let set = migration::load_checked(&mig).unwrap();
    let cat = Catalog::load(&Project::load(&dir.path().join("statewright.toml")).unwrap()).unwrap();
    let m = Migrator::new(&cat, &set);
    let docs = vec![(
        PathBuf::from("deploy/pins.json"),
        fixture("deploy-pins", 3, "basic.json"),
    )];
    let down = MigrateOptions {
        to: Target::Version(2),
        ..opts()
    };
    // The `remove` has no inverse now, but this document loses nothing
    // through it: `defaults` held only the channel, which the move gives
    // back. So the downgrade runs without the flag, says nothing is lost,
    // and still backs up first (a step without an inverse).
    let mut batches = Vec::new();
    let mut writer = |b: &WriteBatch| -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
        batches.push(b.backup_first);
        Ok(())
    };
    let summary = m.migrate(&docs, &down, &mut writer).unwrap();
    assert!(summary.backup_first);
    assert_eq!(batches, [true]);
    assert!(summary.migrated[0].steps[0].lost.is_empty());
    assert!(summary.migrated[0].steps[0].lossy_step);
    assert_eq!(
        summary.migrated[0].value["defaults"],
        json!({"channel": "stable"})
    );
}
