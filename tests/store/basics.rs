//! The everyday contract: stamping, backups, audit, refusals, transactions.

use serde_json::json;
use statewright::store::{StoreError, StoreOptions, backup};

use crate::harness::*;

#[test]
fn writes_stamp_the_envelope_and_serials_grow() {
    let f = fixture();
    let store = f.open();
    let a = put(&store, "counter.json", counter(1));
    assert_eq!(a.serial, 1);
    let loaded = store.read("counter.json").unwrap();
    let env = &loaded.envelope;
    assert_eq!(env.serial, 1);
    assert_eq!(env.version, 1);
    assert!(env.checksum.as_ref().unwrap().starts_with("sha256:"));
    assert_eq!(env.checksum.as_ref().unwrap().len(), 71);
    assert_eq!(loaded.value["origin"]["command"], "test");
    assert!(loaded.value["origin"]["tool_version"].is_string());
    let mut v = loaded.value;
    v["count"] = json!(2);
    let g = store.lock(&lock()).unwrap();
    let b = store.write(&g, "counter.json", v, &ctx()).unwrap();
    assert_eq!((b.serial, b.lineage.as_str()), (2, a.lineage.as_str()));
    // Nothing left behind but the documents, .lock, .backup and audit.log.
    drop(g);
    let mut names: Vec<String> = std::fs::read_dir(&f.state)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    assert_eq!(names, [".backup", ".lock", "audit.log", "counter.json"]);
}

#[test]
fn backups_roll_and_are_listed_in_the_document_index() {
    let f = fixture();
    let store = f.open();
    for n in 0..6 {
        store
            .update(&lock(), "counter.json", &ctx(), |v| v["count"] = json!(n))
            .or_else(|_| Ok::<_, StoreError>(put(&store, "counter.json", counter(n))))
            .unwrap();
    }
    let index: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.state.join(".backup/index/counter.json")).unwrap())
            .unwrap();
    assert_eq!(index["file"], "counter.json");
    assert_eq!(index["serial"], 6, "{index:#}");
    let entries = index["backups"].as_array().unwrap();
    assert_eq!(entries.len(), 3, "{index:#}");
    let serials: Vec<u64> = entries
        .iter()
        .map(|e| e["serial"].as_u64().unwrap())
        .collect();
    assert_eq!(serials, [3, 4, 5]);
    for e in entries {
        assert!(e["checksum"].as_str().unwrap().starts_with("sha256:"));
        assert!(e["time"].is_string() && e["file"] == "counter.json");
    }
    assert_eq!(
        backup::list(&statewright::store::RealFs, &f.state, "counter.json").len(),
        3
    );
    // Three backups and the index folder.
    assert_eq!(
        std::fs::read_dir(f.state.join(".backup")).unwrap().count(),
        4
    );
    assert_eq!(store.verify_audit().unwrap(), 6);
}

#[test]
fn stale_serial_lineage_change_and_downgrade_are_refused_unless_forced() {
    let f = fixture();
    let store = f.open();
    put(&store, "counter.json", counter(1));
    let old = store.read("counter.json").unwrap().value;
    store
        .update(&lock(), "counter.json", &ctx(), |v| v["count"] = json!(2))
        .unwrap();
    let g = store.lock(&lock()).unwrap();
    let e = store
        .write(&g, "counter.json", old.clone(), &ctx())
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("based on serial 1 but the document is at serial 2"),
        "{e}"
    );
    let mut other = old.clone();
    other["lineage"] = json!("someone-else");
    other["serial"] = json!(2);
    let e = store.write(&g, "counter.json", other, &ctx()).unwrap_err();
    assert!(e.to_string().contains("lineage someone-else"), "{e}");
    let mut v2 = store.read("counter.json").unwrap().value;
    v2["schema_version"] = json!(2);
    store.write(&g, "counter.json", v2, &ctx()).unwrap();
    let mut v1 = store.read("counter.json").unwrap().value;
    v1["schema_version"] = json!(1);
    let e = store
        .write(&g, "counter.json", v1.clone(), &ctx())
        .unwrap_err();
    assert!(
        matches!(e, StoreError::Downgrade { from: 2, to: 1, .. }),
        "{e}"
    );
    let mut forced = ctx();
    forced.force = true;
    let out = store.write(&g, "counter.json", old, &forced).unwrap();
    assert_eq!(out.serial, 4, "serials still grow when forced");
}

#[test]
fn secrets_schema_violations_and_missing_provenance_are_refused() {
    let f = fixture();
    let store = f.open();
    let g = store.lock(&lock()).unwrap();
    let mut v = counter(1);
    v["note"] = json!("deploy with AKIAIOSFODNN7EXAMPLE");
    let e = store.write(&g, "counter.json", v, &ctx()).unwrap_err();
    let msg = e.to_string();
    assert!(
        msg.contains("`/note`") && msg.contains("AWS access key id"),
        "{msg}"
    );
    let mut v = counter(1);
    v["token"] = json!("xoxb-1234-5678");
    store.write(&g, "counter.json", v, &ctx()).unwrap();
    let e = store
        .write(
            &g,
            "counter.json",
            json!({"schema_version": 1, "count": "x"}),
            &ctx(),
        )
        .unwrap_err();
    assert!(e.to_string().contains("at `/count`"), "{e}");
    let e = store
        .write(&g, "snapshot.json", json!({"schema_version": 1}), &ctx())
        .unwrap_err();
    assert!(
        e.to_string().contains("`/provenance`") && e.to_string().contains("requires provenance"),
        "{e}"
    );
    let snap = json!({"schema_version": 1, "provenance": {"suite": "smoke", "artifacts": []}});
    store.write(&g, "snapshot.json", snap, &ctx()).unwrap();
}

#[test]
fn adopted_files_keep_their_own_field_names() {
    let f = fixture();
    let store = f.open();
    let out = put(&store, "legacy.json", json!({"version": 1, "data": [1, 2]}));
    let raw: serde_json::Value =
        serde_json::from_slice(&std::fs::read(f.state.join("legacy.json")).unwrap()).unwrap();
    assert_eq!(raw["meta"]["sum"], json!(out.checksum));
    assert_eq!(raw["meta"]["serial"], json!(1));
    assert!(raw.get("checksum").is_none() && raw.get("schema_version").is_none());
    assert_eq!(store.read("legacy.json").unwrap().envelope.serial, 1);
}

#[test]
fn transactions_commit_every_document_under_one_id() {
    let f = fixture();
    let store = f.open();
    let g = store.lock(&lock()).unwrap();
    let mut tx = store.transaction(&g);
    tx.put("sources.json", json!({"schema_version": 1, "items": ["a"]}));
    tx.put("index.json", json!({"schema_version": 1, "items": [0]}));
    tx.put("config/prod.json", json!({"schema_version": 1}));
    let out = tx.commit(&ctx()).unwrap();
    assert_eq!(out.len(), 3);
    assert!(!f.state.join(".journal").exists());
    let log = std::fs::read_to_string(f.state.join("audit.log")).unwrap();
    let txs: Vec<String> = log
        .lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()["tx"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(txs.len(), 3);
    assert!(txs.iter().all(|t| *t == txs[0]));
    // One invalid document: nothing is written.
    let mut tx = store.transaction(&g);
    tx.put(
        "sources.json",
        json!({"schema_version": 1, "items": ["b"], "serial": 1}),
    );
    tx.put(
        "index.json",
        json!({"schema_version": 1, "items": "not an array", "serial": 1}),
    );
    assert!(tx.commit(&ctx()).is_err());
    assert_eq!(
        store.read("sources.json").unwrap().value["items"],
        json!(["a"])
    );
}

#[test]
fn audit_log_detects_edits_removals_and_reorders_and_chains_across_rotation() {
    let f = fixture();
    let opts = StoreOptions {
        audit_max_bytes: 2500,
        ..StoreOptions::default()
    };
    let store = f.open_opts(opts);
    for n in 0..8 {
        put(&store, &format!("counter{n}.json"), counter(n));
    }
    assert!(f.state.join("audit.log.1").exists(), "rotated");
    assert_eq!(store.verify_audit().unwrap(), 8);
    let path = f.state.join("audit.log.1");
    let good = std::fs::read_to_string(&path).unwrap();
    let lines: Vec<&str> = good.lines().collect();
    assert!(lines.len() >= 3);
    let check = |text: String, want_line: usize, want: &str| {
        std::fs::write(&path, text).unwrap();
        let e = store.verify_audit().unwrap_err();
        let msg = e.to_string();
        assert!(
            msg.contains(&format!("audit.log.1:{want_line}:")) && msg.contains(want),
            "want {want}: {msg}"
        );
    };
    let edited = good.replacen(
        lines[1],
        &lines[1].replace("\"command\":\"test\"", "\"command\":\"evil\""),
        1,
    );
    assert_ne!(edited, good);
    check(edited, 2, "edited");
    let removed = [lines[0], lines[2]].join("\n") + "\n";
    check(removed, 2, "does not chain");
    let reordered = [lines[0], lines[2], lines[1]].join("\n") + "\n";
    check(reordered, 2, "does not chain");
    std::fs::write(&path, &good).unwrap();
    assert_eq!(store.verify_audit().unwrap(), 8);
}

#[test]
fn a_second_writer_is_told_who_holds_the_lock() {
    let f = fixture();
    let store = f.open();
    let g = store.lock(&lock()).unwrap();
    let other = f.open();
    let e = other
        .lock(&statewright::store::LockOptions::default())
        .unwrap_err();
    let msg = e.to_string();
    assert!(matches!(e, StoreError::LockHeld { .. }));
    assert!(
        msg.contains(&format!("pid {}", std::process::id())) && msg.contains("--lock-timeout"),
        "{msg}"
    );
    assert!(
        msg.contains(&format!("statewright lock break {}", g.info.lock_id)),
        "{msg}"
    );
    let held = other.lock_status().unwrap();
    assert!(
        matches!(
            held,
            statewright::store::LockStatus::Held {
                dead: Some(false),
                ..
            }
        ),
        "{held:?}"
    );
}

#[test]
fn readers_never_see_a_torn_document_while_a_writer_works() {
    let f = fixture();
    let store = f.open();
    put(&store, "counter.json", counter(0));
    let done = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|s| {
        s.spawn(|| {
            let writer = f.open();
            for n in 1..=40 {
                writer
                    .update(&lock(), "counter.json", &ctx(), |v| v["count"] = json!(n))
                    .unwrap();
            }
            done.store(true, std::sync::atomic::Ordering::SeqCst);
        });
        let mut reads = 0;
        while !done.load(std::sync::atomic::Ordering::SeqCst) {
            let l = store.read("counter.json").unwrap();
            assert_eq!(l.value["count"], json!(l.envelope.serial - 1));
            reads += 1;
        }
        assert!(reads > 0);
    });
}

/// A write reuses the verdict on the version it replaces only while the
/// file's bytes are exactly the ones verified: an in-place change of the
/// same size, with the modification time put back, is still caught.
#[test]
fn a_change_between_two_writes_is_detected() {
    let f = fixture();
    let store = f.open();
    let g = store.lock(&lock()).unwrap();
    store
        .write(&g, "counter.json", counter(12345), &ctx())
        .unwrap();
    let path = f.state.join("counter.json");
    let before = std::fs::metadata(&path).unwrap().modified().unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    let edited = text.replace("12345", "54321");
    assert_eq!(edited.len(), text.len());
    std::fs::write(&path, edited).unwrap();
    let file = std::fs::File::options().write(true).open(&path).unwrap();
    file.set_modified(before).unwrap();
    drop(file);
    let err = store
        .write(&g, "counter.json", counter(2), &ctx())
        .unwrap_err();
    match &err {
        StoreError::Corrupt { check, .. } => {
            assert_eq!(check.to_string(), "checksum", "{err}")
        }
        other => panic!("expected a checksum failure, got {other}"),
    }
    assert!(std::fs::read_to_string(&path).unwrap().contains("54321"));
}

/// Another store (as another process would) writes between two writes of
/// this one: the second write builds on that version, not the one this
/// store wrote last.
#[test]
fn a_write_by_another_store_between_two_writes_is_built_on() {
    let f = fixture();
    let (a, b) = (f.open(), f.open());
    let first = put(&a, "counter.json", counter(1));
    let second = put(&b, "counter.json", counter(2));
    assert_eq!(second.serial, 2);
    let g = a.lock(&lock()).unwrap();
    let mut stale = counter(3);
    stale["serial"] = json!(first.serial);
    let err = a.write(&g, "counter.json", stale, &ctx()).unwrap_err();
    assert!(matches!(err, StoreError::Conflict { .. }), "{err}");
    let third = a.write(&g, "counter.json", counter(3), &ctx()).unwrap();
    assert_eq!(third.serial, 3);
    let loaded = a.read("counter.json").unwrap();
    assert_eq!(loaded.value["count"], 3);
    let backups = backup::list(&statewright::store::RealFs, &f.state, "counter.json");
    assert_eq!(backups.first().map(|b| b.serial), Some(2));
}

/// What a write leaves on disk reads back as exactly the value it wrote
/// (the cached verdict of the next write depends on it).
#[test]
fn a_written_version_reads_back_as_written() {
    let f = fixture();
    let store = f.open();
    let value = json!({
        "schema_version": 1, "count": 7,
        "note": "x\"\n\u{1}é\u{1f600}", "pad": "",
        "rows": [1.5, -0.0, 1e300, 18446744073709551615u64, -9223372036854775808i64, null, {}]
    });
    let g = store.lock(&lock()).unwrap();
    store.write(&g, "counter.json", value, &ctx()).unwrap();
    store
        .update_locked(&g, "counter.json", &ctx(), |v| v["count"] = json!(8))
        .unwrap();
    let expected = store.read("counter.json").unwrap().value;
    let fresh = f.open().read("counter.json").unwrap().value;
    assert_eq!(expected, fresh);
    assert_eq!(fresh["rows"][3], json!(18446744073709551615u64));
}

/// Large documents are checksummed on a second thread while they are
/// checked and encoded: the bytes on disk must be exactly what the
/// one-thread way writes, and the refusals must be the same.
#[test]
fn large_documents_are_written_and_refused_exactly_like_small_ones() {
    let f = fixture();
    let store = f.open();
    let mut big = counter(7);
    big["rows"] = json!(
        (0..3000)
            .map(|i| json!({"id": i, "name": format!("row-{i}"), "w": i as f64 * 0.5}))
            .collect::<Vec<_>>()
    );
    let out = put(&store, "counter.json", big.clone());
    let bytes = std::fs::read(f.state.join("counter.json")).unwrap();
    let disk: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let mut expected = serde_json::to_vec_pretty(&disk).unwrap();
    expected.push(b'\n');
    assert_eq!(bytes, expected, "the pretty encoding of the stamped value");
    assert_eq!(disk["checksum"], json!(out.checksum));
    assert_eq!(
        statewright::envelope::checksum(&disk, "/checksum"),
        out.checksum,
        "the checksum covers the document as written"
    );
    assert_eq!(disk["rows"], big["rows"]);
    let loaded = store.read("counter.json").unwrap();
    assert_eq!(
        loaded.envelope.checksum.as_deref(),
        Some(out.checksum.as_str())
    );

    // A secret deep in a large document, and a schema violation, are
    // refused with their pointers; the file keeps its bytes.
    let g = store.lock(&lock()).unwrap();
    let mut v = loaded.value.clone();
    v["rows"][2500]["name"] = json!("AKIAIOSFODNN7EXAMPLE");
    let e = store.write(&g, "counter.json", v, &ctx()).unwrap_err();
    assert!(e.to_string().contains("`/rows/2500/name`"), "{e}");
    let mut v = loaded.value.clone();
    v["count"] = json!("many");
    let e = store.write(&g, "counter.json", v, &ctx()).unwrap_err();
    assert!(e.to_string().contains("at `/count`"), "{e}");
    assert_eq!(std::fs::read(f.state.join("counter.json")).unwrap(), bytes);
}

/// An exported version is kept byte for byte when its serial is above
/// every serial the document had; otherwise it is stamped anew.
#[test]
fn exported_versions_are_kept_byte_for_byte_only_when_their_serial_is_new() {
    let source = fixture();
    let store = source.open();
    put(&store, "counter.json", counter(1));
    put(&store, "counter.json", counter(2));
    let exported = std::fs::read(source.state.join("counter.json")).unwrap();
    put(&store, "counter.json", counter(3));
    let newer = std::fs::read(source.state.join("counter.json")).unwrap();

    let f = fixture();
    let store = f.open();
    let g = store.lock(&lock()).unwrap();
    let mut tx = store.transaction(&g);
    tx.put_exported("counter.json", exported.clone());
    let out = tx.commit(&ctx()).unwrap();
    assert_eq!(out[0].serial, 2);
    assert_eq!(
        std::fs::read(f.state.join("counter.json")).unwrap(),
        exported
    );
    // A later serial of the same lineage replaces it, again as it is.
    let mut tx = store.transaction(&g);
    tx.put_exported("counter.json", newer.clone());
    assert_eq!(tx.commit(&ctx()).unwrap()[0].serial, 3);
    assert_eq!(std::fs::read(f.state.join("counter.json")).unwrap(), newer);
    let audit = std::fs::read_to_string(f.state.join("audit.log")).unwrap();
    assert_eq!(
        audit
            .matches("\"outcome\":\"imported: the exported bytes kept\"")
            .count(),
        2,
        "{audit}"
    );
    // The older export again, forced: serial 2 is not above 3, so the
    // value is stamped with the next serial instead.
    let mut force = ctx();
    force.force = true;
    let mut tx = store.transaction(&g);
    tx.put_exported("counter.json", exported.clone());
    let out = tx.commit(&force).unwrap();
    assert_eq!(out[0].serial, 4);
    let now = store.read("counter.json").unwrap();
    assert_eq!((now.envelope.serial, &now.value["count"]), (4, &json!(2)));
    // A copy the schema refuses is refused as any write is, and nothing
    // changes.
    let before = std::fs::read(f.state.join("counter.json")).unwrap();
    let bad = String::from_utf8(newer)
        .unwrap()
        .replace("\"count\": 3", "\"count\": \"three\"");
    let mut tx = store.transaction(&g);
    tx.put_exported("counter.json", bad.into_bytes());
    let e = tx.commit(&force).unwrap_err();
    assert!(matches!(e, StoreError::Invalid { .. }), "{e:?}");
    assert!(e.to_string().contains("at `/count`"), "{e}");
    assert_eq!(std::fs::read(f.state.join("counter.json")).unwrap(), before);
}

#[test]
fn events_tell_the_lock_and_every_committed_version_and_nothing_on_failure() {
    use statewright::store::{EventSink, StoreEvent};
    use std::sync::{Arc, Mutex};
    let f = fixture();
    let seen: Arc<Mutex<Vec<StoreEvent>>> = Arc::default();
    let sink = {
        let seen = Arc::clone(&seen);
        EventSink::new(move |e| seen.lock().unwrap().push(e.clone()))
    };
    let store = f.open_opts(StoreOptions {
        events: Some(sink),
        ..StoreOptions::default()
    });
    let take = || std::mem::take(&mut *seen.lock().unwrap());
    take(); // opening recovers under the lock
    let g = store.lock(&lock()).unwrap();
    let first = store.write(&g, "counter.json", counter(1), &ctx()).unwrap();
    let mut tx = store.transaction(&g);
    tx.put("sources.json", json!({"schema_version": 1, "items": ["a"]}));
    tx.put("counter.json", counter(2));
    let out = tx.commit(&ctx()).unwrap();
    // A refused write announces nothing.
    let mut tx = store.transaction(&g);
    tx.put("index.json", json!({"schema_version": 1, "items": "no"}));
    assert!(tx.commit(&ctx()).is_err());
    let lock_id = g.info.lock_id.clone();
    drop(g);
    let events = take();
    let kinds: Vec<String> = events
        .iter()
        .map(|e| {
            serde_json::to_value(e).unwrap()["event"]
                .as_str()
                .unwrap()
                .to_owned()
        })
        .collect();
    assert_eq!(
        kinds,
        [
            "lock_acquired",
            "committed",
            "committed",
            "committed",
            "lock_released"
        ],
        "{events:#?}"
    );
    assert!(matches!(&events[0], StoreEvent::LockAcquired { lock_id: id, .. } if *id == lock_id));
    let StoreEvent::Committed {
        file,
        serial,
        backed_up,
        checksum,
        ..
    } = &events[3]
    else {
        panic!("{:?}", events[3]);
    };
    assert!(file.ends_with("counter.json"));
    assert_eq!(*serial, out[1].serial);
    assert_eq!(*checksum, out[1].checksum);
    assert_eq!(*backed_up, Some(first.serial));
    assert!(matches!(
        &events[1],
        StoreEvent::Committed {
            backed_up: None,
            ..
        }
    ));
    assert!(matches!(&events[4], StoreEvent::LockReleased { lock_id: id, .. } if *id == lock_id));
}
