//! PostgreSQL backend benchmark (`cargo bench --bench pg`): a `set
//! --increment` through the store on a namespace (lock, read and verify,
//! validate, one commit transaction, unlock) and a `Store::write` under a
//! held lock, against the floor of one `UPDATE … RETURNING` (autocommit:
//! one round trip including its commit) and of `BEGIN; UPDATE …
//! RETURNING; COMMIT` on a connection to the same server, and the same
//! `set` on a state dir, all in the same run; and the throughput of 100
//! concurrent appends against 100 concurrent `set --increment`s (threads,
//! each with a connection of its own); and one transaction rewriting N
//! documents (the write side of `migrate`, `SW_BENCH_PG_DOCS`, default
//! 2,000) on a namespace against a state dir. The server is
//! `STATEWRIGHT_PG_URL` or a throwaway cluster (tests/common/pg.rs).
//! Prints medians and ratios; asserts nothing.

#[allow(dead_code)]
#[path = "../tests/store/harness.rs"]
mod harness;
#[allow(dead_code)]
#[path = "../tests/common/pg.rs"]
mod pg;

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;
use statewright::ops::{self, Change, SetRequest};
use statewright::spec::{Catalog, Project};
use statewright::store::{LockOptions, Store, StoreOptions, WriteContext};

const P: &str = "processed.json";
const RETRY: &str = "/failed/B0BZ9L4P6F/retry_count";

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn time(n: usize, mut f: impl FnMut()) -> Duration {
    for _ in 0..n / 10 {
        f();
    }
    median(
        (0..n)
            .map(|_| {
                let t = Instant::now();
                f();
                t.elapsed()
            })
            .collect(),
    )
}

/// Makes `change` at `pointer` of `rel` through `ops::set`, waiting up to
/// `wait` for the lock.
fn edit(store: &Store, rel: &str, pointer: &str, change: Change, wait: Duration) {
    let req = SetRequest {
        rel,
        pointer,
        change,
        parents: false,
        dry_run: false,
    };
    let lock = LockOptions {
        timeout: wait,
        ..LockOptions::default()
    };
    ops::set(store, &lock, &WriteContext::new("bench"), &req).unwrap();
}

fn increment(store: &Store) {
    edit(store, P, RETRY, Change::Increment(1.into()), Duration::ZERO);
}

/// Wall time of `n` threads, each with a store (a connection) of its
/// own on `url`, each making one change with `change` at once.
fn concurrently(catalog: &Catalog, url: &str, n: usize, change: fn(&Store)) -> Duration {
    let stores: Vec<Store> = (0..n)
        .map(|_| {
            Store::open_url(catalog, url, StoreOptions::default())
                .unwrap()
                .0
        })
        .collect();
    let start = Instant::now();
    std::thread::scope(|scope| {
        for store in &stores {
            scope.spawn(move || change(store));
        }
    });
    start.elapsed()
}

fn append(store: &Store) {
    let item = serde_json::json!({
        "template_id": "linux/rocky",
        "checked_at": "2026-03-14T08:00:00Z",
        "result": "in_sync",
        "vars_hash": "sha256:8041fc76c46e48875e58dfe5991d3f4604c0501a3c7ba2e6930a9d7405a0414a"
    });
    let path = "/template_checks";
    edit(store, "config/dev.json", path, Change::Append(item), WAIT);
}

fn increment_waiting(store: &Store) {
    edit(store, P, RETRY, Change::Increment(1.into()), WAIT);
}

/// One transaction rewriting the `n` documents `counter-<i>.json` of
/// `store` (each read, verified, restamped, its version kept: the write
/// side of `migrate`), after writing them once.
fn rewrite_all(store: &Store, n: usize) -> Duration {
    let g = store.lock(&LockOptions::default()).unwrap();
    let doc =
        |i: usize| serde_json::json!({"schema_version": 1, "count": i, "pad": "x".repeat(2000)});
    for chunk in (0..n).collect::<Vec<_>>().chunks(1000) {
        let mut tx = store.transaction(&g);
        for &i in chunk {
            tx.put(&format!("counter-{i}.json"), doc(i));
        }
        tx.commit(&WriteContext::new("bench")).unwrap();
    }
    let start = Instant::now();
    let mut tx = store.transaction(&g);
    for i in 0..n {
        let rel = format!("counter-{i}.json");
        let mut v = store.read_locked(&g, &rel).unwrap().value;
        v["count"] = (i + 1).into();
        tx.put(&rel, v);
    }
    tx.commit(&WriteContext::new("bench")).unwrap();
    start.elapsed()
}

/// `rewrite_all` of `n` documents on a namespace and on a state dir.
fn transactions(n: usize) -> (Duration, Duration) {
    let f = harness::fixture();
    let opts = || StoreOptions {
        backups: 3,
        ..StoreOptions::default()
    };
    let url = pg::namespace_url(&pg::fresh_namespace("bench-tx"));
    let (db, _) = Store::open_url(&f.catalog, &url, opts()).unwrap();
    let (files, _) = Store::open(&f.catalog, &f.state, opts()).unwrap();
    (rewrite_all(&db, n), rewrite_all(&files, n))
}

/// How long a concurrent writer waits for the lock.
const WAIT: Duration = Duration::from_secs(120);

fn seeded(store: &Store, value: &Value) {
    let guard = store.lock(&LockOptions::default()).unwrap();
    store
        .write(&guard, P, value.clone(), &WriteContext::new("bench"))
        .unwrap();
}

fn main() {
    let repo = Path::new(env!("CARGO_MANIFEST_DIR"));
    let project = Project::load(&repo.join("statewright.toml")).unwrap();
    let catalog = Catalog::load(&project).unwrap();
    let value: Value =
        serde_json::from_slice(&std::fs::read(repo.join("examples/state").join(P)).unwrap())
            .unwrap();
    let bytes = std::fs::read(repo.join("examples/state").join(P))
        .unwrap()
        .len();
    let n: usize = match std::env::var_os("SW_BENCH_SMOKE") {
        Some(_) => 3,
        None => 300,
    };

    let url = pg::namespace_url(&pg::fresh_namespace("bench"));
    let (db, _) = Store::open_url(&catalog, &url, StoreOptions::default()).unwrap();
    seeded(&db, &value);
    let dir = tempfile::tempdir().unwrap();
    let (files, _) = Store::open(&catalog, dir.path(), StoreOptions::default()).unwrap();
    seeded(&files, &value);

    let mut floor = pg::client();
    floor
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS bench_floor (id int PRIMARY KEY, v bigint NOT NULL);
             INSERT INTO bench_floor VALUES (1, 0) ON CONFLICT DO NOTHING",
        )
        .unwrap();
    let update = "UPDATE bench_floor SET v = v + 1 WHERE id = 1 RETURNING v";
    let one_trip = time(n, || {
        floor.query_one(update, &[]).unwrap();
    });
    let in_tx = time(n, || {
        let mut tx = floor.transaction().unwrap();
        tx.query_one(update, &[]).unwrap();
        tx.commit().unwrap();
    });
    let set_db = time(n, || increment(&db));
    let guard = db.lock(&LockOptions::default()).unwrap();
    let write_db = time(n, || {
        let mut v = db.read_locked(&guard, P).unwrap().value;
        v["failed"]["B0BZ9L4P6F"]["retry_count"] = 7.into();
        db.write(&guard, P, v, &WriteContext::new("bench")).unwrap();
    });
    drop(guard);
    let set_files = time(n, || increment(&files));

    let writers = n.min(100);
    let dev: Value = serde_json::from_slice(
        &std::fs::read(repo.join("examples/state/config/dev.json")).unwrap(),
    )
    .unwrap();
    let guard = db.lock(&LockOptions::default()).unwrap();
    db.write(&guard, "config/dev.json", dev, &WriteContext::new("bench"))
        .unwrap();
    drop(guard);
    let appends = concurrently(&catalog, &url, writers, append);
    let increments = concurrently(&catalog, &url, writers, increment_waiting);

    let docs: usize = match std::env::var("SW_BENCH_PG_DOCS") {
        Ok(v) => v.parse().unwrap(),
        Err(_) if n < 10 => 10,
        Err(_) => 2000,
    };
    let (tx_db, tx_files) = transactions(docs);

    println!("PostgreSQL backend, {P} ({bytes} bytes), median of {n}:");
    let row = |name: &str, d: Duration| {
        println!(
            "{name:<44} {:>8.3} ms | x{:>5.2} of UPDATE…RETURNING | x{:>5.2} of BEGIN/UPDATE/COMMIT",
            ms(d),
            ms(d) / ms(one_trip),
            ms(d) / ms(in_tx)
        )
    };
    row("floor: UPDATE … RETURNING (autocommit)", one_trip);
    row("floor: BEGIN; UPDATE … RETURNING; COMMIT", in_tx);
    row("set --increment through the store (db)", set_db);
    row("Store::write under a held lock (db)", write_db);
    row("set --increment through the store (files)", set_files);
    println!(
        "one transaction rewriting {docs} documents (~2 KiB, backups 3): db {:.0} ms | files {:.0} ms | ratio {:.2}",
        ms(tx_db),
        ms(tx_files),
        ms(tx_db) / ms(tx_files)
    );
    let rate = |d: Duration| writers as f64 / d.as_secs_f64();
    println!(
        "{writers} concurrent appends: {:.0}/s | {writers} concurrent set --increment: {:.0}/s | ratio {:.2}",
        rate(appends),
        rate(increments),
        rate(appends) / rate(increments)
    );
}
