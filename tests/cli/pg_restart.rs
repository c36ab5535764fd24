//! A server crash (`pg_ctl restart -m immediate`) in the middle of a
//! `migrate` of many documents, on a cluster of its own (a restart cuts
//! every session of its server, so it cannot share the suite's): after it,
//! every document is entirely old or entirely new and all of one version,
//! no acknowledged write is lost, the lock is free and `check` is clean.

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use crate::backends::{code, ok};
use crate::util::{Run, flat, run_in};

/// How many documents the migration moves (`STATEWRIGHT_PG_MIGRATE_DOCS`,
/// default 400).
fn documents() -> usize {
    std::env::var("STATEWRIGHT_PG_MIGRATE_DOCS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(400)
}

/// A cluster of this test's own, stopped and removed when dropped.
struct Cluster {
    dir: std::path::PathBuf,
    url: String,
}

fn script() -> std::path::PathBuf {
    crate::util::repo().join("tests/pg/cluster.sh")
}

impl Cluster {
    fn start() -> Cluster {
        let dir =
            std::env::temp_dir().join(format!("statewright-pg-restart-{}", std::process::id()));
        let out = Command::new(script())
            .arg("start")
            .arg(&dir)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let url = String::from_utf8_lossy(&out.stdout).trim().to_owned();
        Cluster { dir, url }
    }

    fn restart(&self) {
        let st = Command::new(script())
            .arg("restart")
            .arg(&self.dir)
            .status()
            .unwrap();
        assert!(st.success());
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = Command::new(script()).arg("stop").arg(&self.dir).status();
    }
}

const SCHEMA: &str = r#"{"$schema": "https://json-schema.org/draft/2020-12/schema",
  "type": "object", "required": ["schema_version", "n"],
  "properties": {"schema_version": {"const": VERSION}, "n": {"type": "integer"}, "tag": {"type": "string"}}}"#;

fn project(root: &Path, url: &str, n: usize) {
    let write = |rel: &str, text: &str| {
        let p = root.join(rel);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, text).unwrap();
    };
    write(
        "statewright.toml",
        &format!(
            "[project]\nstate = \"{url}?namespace=items\"\n\n[kinds.item]\npath = \"items/*.json\"\n"
        ),
    );
    write("schemas/item/v1.json", &SCHEMA.replace("VERSION", "1"));
    write("schemas/item/v2.json", &SCHEMA.replace("VERSION", "2"));
    write(
        "migrations/item/0001_tag.yaml",
        "kind: item\nfrom: 1\nto: 2\ndescription: every item gains a tag\nops:\n  - add: { path: /tag, default: \"new\" }\n",
    );
    for i in 0..n {
        write(
            &format!("seed/items/{i:05}.json"),
            &format!("{{\"schema_version\": 1, \"n\": {i}}}\n"),
        );
    }
}

fn run(root: &Path, args: &[&str]) -> Run {
    run_in(root, args)
}

#[test]
fn a_server_crash_during_migrate_leaves_every_document_old_or_new() {
    let cluster = Cluster::start();
    let t = crate::util::tempdir();
    let root = t.path();
    let n = documents();
    project(root, &cluster.url, n);
    ok(&run(root, &["migrate", "hash"]));
    ok(&run(root, &["state", "push", "seed"]));
    let mut c = postgres::Client::connect(&cluster.url, postgres::NoTls).unwrap();
    let child = Command::new(env!("CARGO_BIN_EXE_statewright"))
        .arg("migrate")
        .current_dir(root)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Crash the server once the migration's transaction has written.
    let mut inside = false;
    for _ in 0..2000 {
        inside = c
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'statewright'
                   AND backend_xid IS NOT NULL)",
                &[],
            )
            .unwrap()
            .get(0);
        if inside {
            break;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    drop(c);
    cluster.restart();
    let out = child.wait_with_output().unwrap();
    let stderr = flat(&String::from_utf8_lossy(&out.stderr));
    let acknowledged = out.status.code() == Some(0);
    if !acknowledged {
        assert_eq!(out.status.code(), Some(2), "{stderr}");
        assert!(stderr.contains("failed"), "{stderr}");
    }
    let mut c = postgres::Client::connect(&cluster.url, postgres::NoTls).unwrap();
    let versions: Vec<(i32, i64)> = c
        .query(
            "SELECT version, count(*) FROM statewright_documents WHERE namespace = 'items' GROUP BY version",
            &[],
        )
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(versions.len(), 1, "all of one version: {versions:?}");
    assert_eq!(versions[0].1, n as i64);
    if acknowledged {
        assert_eq!(versions[0].0, 2, "an acknowledged migration is not lost");
    }
    eprintln!("crash inside the transaction: {inside}; migrate acknowledged: {acknowledged}");
    let r = run(root, &["lock", "status", "--format", "json"]);
    ok(&r);
    assert_ne!(r.json()["state"], "held");
    let r = run(root, &["check"]);
    ok(&r);
    ok(&run(root, &["audit", "verify"]));
    let r = run(root, &["migrate"]);
    ok(&r);
    let r = run(root, &["migrate", "status", "--format", "json"]);
    ok(&r);
    let r = run(root, &["get", "items/00007.json", "/tag"]);
    assert_eq!((r.code, r.stdout.as_str()), (0, "\"new\"\n"));
    code(&run(root, &["check"]), 0);
}
