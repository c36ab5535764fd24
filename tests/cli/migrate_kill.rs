//! `statewright migrate` SIGKILLed at random moments over a state dir of
//! hundreds of documents: after recovery every document reads back whole
//! (checksum, schema) and the set is all at the old version or all at the
//! new one, as one transaction must leave it.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use statewright::spec::{Catalog, Project};
use statewright::store::{LockOptions, Store, StoreOptions, WriteContext};

use crate::migrate::project;
use crate::util::copy_dir;

const DOCS: usize = 300;

fn catalog(project_dir: &Path) -> Catalog {
    let p = Project::load(&project_dir.join("statewright.toml")).unwrap();
    Catalog::load(&p).unwrap()
}

/// Stamps the seed documents through the store, so that every later read
/// checks their checksums.
fn stamp(catalog: &Catalog, state: &Path) {
    let (store, _) = Store::open(catalog, state, StoreOptions::default()).unwrap();
    let guard = store.lock(&LockOptions::default()).unwrap();
    let mut tx = store.transaction(&guard);
    tx.accept_unstamped(true);
    for rel in store.document_paths().unwrap() {
        let v = store.read_unstamped(Some(&guard), &rel).unwrap().value;
        tx.put(&rel, v);
    }
    tx.commit(&WriteContext::new("seed")).unwrap();
}

/// Opens (recovering) and reads every document strictly; the versions.
fn versions_after_recovery(catalog: &Catalog, state: &Path) -> Vec<u32> {
    let (store, _) = Store::open(catalog, state, StoreOptions::default())
        .unwrap_or_else(|e| panic!("open after kill: {e}"));
    let rels = store.document_paths().unwrap();
    assert_eq!(rels.len(), DOCS, "documents lost or added");
    rels.iter()
        .map(|rel| {
            let l = store
                .read(rel)
                .unwrap_or_else(|e| panic!("{rel} after kill: {e}"));
            let title = l.value.get("title").and_then(|t| t.as_str());
            let name = l.value.get("name").and_then(|t| t.as_str());
            match l.version {
                1 => assert!(name.is_some() && title.is_none(), "{rel}: half old"),
                3 => assert!(title.is_some() && name.is_none(), "{rel}: half new"),
                v => panic!("{rel}: unexpected version {v}"),
            }
            l.version
        })
        .collect()
}

fn spawn(project_dir: &Path, state: &Path) -> std::process::Child {
    Command::new(env!("CARGO_BIN_EXE_statewright"))
        .args(["migrate", "--state"])
        .arg(state)
        .current_dir(project_dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap()
}

#[test]
fn killed_mid_run_leaves_all_documents_old_or_all_new() {
    let t = project(DOCS);
    let dir = t.path();
    let catalog = catalog(dir);
    let seed = dir.join("state");
    stamp(&catalog, &seed);

    // How long an uninterrupted run takes: the window to kill in.
    let full = dir.join("full");
    copy_dir(&seed, &full);
    let start = Instant::now();
    assert!(spawn(dir, &full).wait().unwrap().success());
    let window = start.elapsed();
    assert!(
        versions_after_recovery(&catalog, &full)
            .iter()
            .all(|v| *v == 3)
    );

    let mut rng = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos() as u64
        | 1;
    println!("seed {rng}, full run {window:?}");
    let budget = Instant::now();
    let (mut runs, mut old, mut new) = (0, 0, 0);
    // At least eight kills whatever the load; more while the budget lasts.
    while runs < 8 || (runs < 60 && budget.elapsed() < Duration::from_secs(18)) {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        let state = dir.join(format!("run{runs}"));
        copy_dir(&seed, &state);
        let mut child = spawn(dir, &state);
        // Half the kills anywhere in the run, half in its last third, where
        // the documents are staged, journaled and renamed.
        let u = (rng % 1000) as f64 / 1000.0;
        let at = window.mul_f64(if runs % 2 == 0 {
            u * 1.1
        } else {
            0.7 + u * 0.35
        });
        std::thread::sleep(at);
        let _ = child.kill();
        let _ = child.wait();
        let versions = versions_after_recovery(&catalog, &state);
        let all = |v: u32| versions.iter().all(|x| *x == v);
        assert!(
            all(1) || all(3),
            "run {runs} killed after {at:?}: a mix of old and new documents"
        );
        if all(1) {
            old += 1
        } else {
            new += 1
        }
        std::fs::remove_dir_all(&state).unwrap();
        runs += 1;
    }
    println!("{runs} kills: {old} left all old, {new} all new");
    assert!(runs >= 8, "too few kills to mean anything: {runs}");
}
