//! Store benchmark (`cargo bench --bench store`): durable save of 4 KiB
//! and 1 MiB documents against the raw floor measured in the same run
//! (create temp + write + fsync + rename + fsync dir of the same bytes),
//! uncontended lock acquire + release, and load + verify of 1 MiB.
//! Also the protocol floor: the raw floor plus the I/O the write protocol
//! itself requires (with backups a link and the document's index
//! replace, then the audit line's append + fsync), so that what the store adds on top of
//! its own durable records is visible apart from those records' cost.
//! Prints medians and ratios; asserts nothing.

#[allow(dead_code)]
#[path = "../tests/store/harness.rs"]
mod harness;

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use statewright::store::{LockOptions, Store, StoreOptions, WriteContext};

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn doc(bytes: usize) -> Value {
    let rows: Vec<Value> = (0..bytes * 10 / 860)
        .map(|i| json!({"id": i, "name": format!("row-{i:08}"), "value": i as f64 * 0.5}))
        .collect();
    json!({"schema_version": 1, "count": 0, "rows": rows})
}

/// Creates `tmp` (`O_EXCL`, no-follow), writes `bytes` and fsyncs it.
fn write_synced_temp(tmp: &Path, bytes: &[u8]) {
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .custom_flags(libc::O_NOFOLLOW)
        .open(tmp)
        .unwrap();
    f.write_all(bytes).unwrap();
    f.sync_all().unwrap();
}

fn raw_save(dir: &Path, bytes: &[u8]) -> Duration {
    let start = Instant::now();
    let tmp = dir.join(".raw.json.0123456789abcdef.tmp");
    write_synced_temp(&tmp, bytes);
    std::fs::rename(&tmp, dir.join("raw.json")).unwrap();
    File::open(dir).unwrap().sync_all().unwrap();
    start.elapsed()
}

/// The raw floor plus the protocol's own records, in the store's order:
/// temp + write + fsync, (backup link of the current version + index
/// temp + rename), rename over, fsync dir, audit line append + fsync.
fn protocol_save(dir: &Path, bytes: &[u8], audit_line: &[u8], backup: Option<u64>) -> Duration {
    let start = Instant::now();
    let tmp = dir.join(".proto.json.0123456789abcdef.tmp");
    let target = dir.join("proto.json");
    write_synced_temp(&tmp, bytes);
    if let Some(n) = backup {
        let backups = dir.join(".proto-backup");
        let _ = std::fs::remove_file(backups.join(format!("proto.json.{}", n.wrapping_sub(3))));
        if target.exists() {
            std::fs::hard_link(&target, backups.join(format!("proto.json.{n}"))).unwrap();
        }
        let index = backups.join("proto.json.new");
        // About the size of the document's index with three backups.
        std::fs::write(&index, [b' '; 800]).unwrap();
        std::fs::rename(&index, backups.join("proto.json")).unwrap();
    }
    std::fs::rename(&tmp, &target).unwrap();
    File::open(dir).unwrap().sync_all().unwrap();
    let mut log = OpenOptions::new()
        .append(true)
        .create(true)
        .open(dir.join("proto-audit.log"))
        .unwrap();
    log.write_all(audit_line).unwrap();
    log.sync_all().unwrap();
    start.elapsed()
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn save_case(f: &harness::Fixture, label: &str, size: usize, runs: usize, backups: usize) {
    let opts = StoreOptions {
        backups,
        ..StoreOptions::default()
    };
    let (store, _) = Store::open(&f.catalog, &f.state, opts).unwrap();
    let rel = format!("counter-{label}-{backups}.json");
    let value = doc(size);
    let g = store.lock(&LockOptions::default()).unwrap();
    let ctx = WriteContext::new("bench");
    store.write(&g, &rel, value.clone(), &ctx).unwrap();
    let bytes = std::fs::read(f.state.join(&rel)).unwrap();
    let audit =
        std::fs::read_to_string(f.state.join(statewright::store::audit::AUDIT_FILE)).unwrap();
    let audit_line = format!("{}\n", audit.lines().last().unwrap());
    // Each case starts its protocol floor's backups afresh (their names
    // count from 0 again).
    let _ = std::fs::remove_dir_all(f.state.join(".proto-backup"));
    std::fs::create_dir_all(f.state.join(".proto-backup")).unwrap();
    let (mut floor, mut protocol, mut saves) = (Vec::new(), Vec::new(), Vec::new());
    for n in 0..runs {
        floor.push(raw_save(&f.state, &bytes));
        let backup = (backups > 0).then_some(n as u64);
        protocol.push(protocol_save(
            &f.state,
            &bytes,
            audit_line.as_bytes(),
            backup,
        ));
        let v = value.clone();
        let start = Instant::now();
        store.write(&g, &rel, v, &ctx).unwrap();
        saves.push(start.elapsed());
    }
    let (fl, pr, sv) = (median(floor), median(protocol), median(saves));
    println!(
        "save {label:>5} ({} bytes, backups={backups}): store {:8.3} ms | floor {:8.3} ms | ratio {:.2}x \
         | protocol floor {:8.3} ms ({:.2}x floor) | store / protocol floor {:.2}x",
        bytes.len(),
        ms(sv),
        ms(fl),
        sv.as_secs_f64() / fl.as_secs_f64(),
        ms(pr),
        pr.as_secs_f64() / fl.as_secs_f64(),
        sv.as_secs_f64() / pr.as_secs_f64()
    );
}

/// Whether to run once over a tiny input (`SW_BENCH_SMOKE=1`).
fn smoke() -> bool {
    std::env::var_os("SW_BENCH_SMOKE").is_some_and(|v| v != "0")
}

fn main() {
    let f = harness::fixture();
    let (small, large, locks_n, loads_n) = if smoke() {
        (2, 2, 5, 2)
    } else {
        (60, 20, 500, 20)
    };
    println!("state dir: {} (figures are medians)", f.state.display());
    for backups in [3, 0] {
        save_case(&f, "4KiB", 4 << 10, small, backups);
        save_case(&f, "1MiB", 1 << 20, large, backups);
    }
    let (store, _) = Store::open(&f.catalog, &f.state, StoreOptions::default()).unwrap();
    let locks: Vec<Duration> = (0..locks_n)
        .map(|_| {
            let start = Instant::now();
            drop(store.lock(&LockOptions::default()).unwrap());
            start.elapsed()
        })
        .collect();
    println!(
        "lock acquire + release (uncontended): {:.3} ms (target < 1 ms)",
        ms(median(locks))
    );
    let loads: Vec<Duration> = (0..loads_n)
        .map(|_| {
            let start = Instant::now();
            store.read("counter-1MiB-0.json").unwrap();
            start.elapsed()
        })
        .collect();
    println!(
        "load + verify 1 MiB: {:.3} ms (target < 10 ms)",
        ms(median(loads))
    );
    breakdown(&f);
}

/// Where the time of a 1 MiB load goes.
fn breakdown(f: &harness::Fixture) {
    use statewright::spec::document;
    use statewright::store::Verifier;
    let path = f.state.join("counter-1MiB-0.json");
    let bytes = std::fs::read(&path).unwrap();
    let time = |name: &str, run: &mut dyn FnMut()| {
        let runs: Vec<Duration> = (0..15)
            .map(|_| {
                let start = Instant::now();
                run();
                start.elapsed()
            })
            .collect();
        println!("  {name}: {:.3} ms", ms(median(runs)));
    };
    let fmt = statewright::spec::Format::Json;
    let src = document::decode(&path, bytes.clone(), fmt).unwrap();
    let value = document::parse(&src, Default::default()).unwrap();
    time("read file", &mut || drop(std::fs::read(&path).unwrap()));
    time("strict parse", &mut || {
        drop(document::parse(&src, Default::default()).unwrap())
    });
    time("serde_json parse", &mut || {
        drop(serde_json::from_slice::<Value>(&bytes).unwrap())
    });
    time("checksum", &mut || {
        drop(statewright::envelope::checksum(&value, "/checksum"))
    });
    let v = statewright::store::SchemaVerifier::new(&f.catalog);
    let kind = f.catalog.kind("counter").unwrap();
    time("schema", &mut || v.verify(kind, 1, &value).unwrap());
    time("encode", &mut || {
        drop(serde_json::to_vec_pretty(&value).unwrap())
    });
    let schema = &kind.latest().schema;
    time("secrets", &mut || {
        assert!(statewright::store::secrets::scan(&value, schema, &[]).is_none())
    });
    // A write's edits to the previous text: the envelope stamped anew.
    let mut next = value.clone();
    next["serial"] = Value::from(next["serial"].as_u64().unwrap_or(0) + 1);
    next["checksum"] = Value::from(format!("sha256:{}", "0".repeat(64)));
    let splice = || statewright::spec::splice::splice(fmt, &src.text, &value, &next).unwrap();
    time("splice", &mut || drop(splice()));
    time("splice + read back", &mut || {
        let edited = document::decode(&path, splice().into_bytes(), fmt).unwrap();
        assert!(document::parse(&edited, Default::default()).unwrap() == next)
    });
}
