//! What only the PostgreSQL backend has: many namespaces in one database
//! that never block each other, sessions that die (a client killed with
//! SIGKILL mid-transaction, the lock holder's session terminated by the
//! server), and the bad input of a server (a wrong password, an
//! unreachable host, tables of a newer statewright, odd namespaces). The
//! behaviour both backends share is in `backends.rs`.

use std::process::{Command, Stdio};
use std::time::Duration;

use statewright::store::{LockOptions, LockStatus, StoreError, WriteContext};

use crate::backends::{Backend, Fixture, P, RETRY, code, increment_all, ok, writers};
use crate::pg;
use crate::util::flat;

fn namespaces_of(prefix: &str) -> i64 {
    pg::client()
        .query_one(
            "SELECT count(*) FROM statewright_namespaces WHERE name LIKE $1",
            &[&format!("{prefix}%")],
        )
        .map(|r| r.get(0))
        .unwrap_or(0)
}

#[test]
fn writers_on_several_namespaces_lose_nothing_and_never_block_each_other() {
    let spaces = std::env::var("STATEWRIGHT_PG_NAMESPACES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(4usize)
        .max(2);
    let fixtures: Vec<Fixture> = (0..spaces)
        .map(|_| Fixture::new(Backend::Postgres))
        .collect();
    // A holder of the first namespace's lock does not slow the others.
    let (store, _) = fixtures[0].open();
    let guard = store.lock(&LockOptions::default()).unwrap();
    let r = fixtures[1].run(&["set", P, RETRY, "--increment", "1", "--lock-timeout", "0"]);
    ok(&r);
    drop(guard);
    let per = writers().div_ceil(fixtures.len());
    let handles: Vec<_> = fixtures
        .iter()
        .map(|f| {
            let root = f.root().to_owned();
            std::thread::spawn(move || increment_all(&root, per, P, RETRY))
        })
        .collect();
    for h in handles {
        let codes = h.join().unwrap();
        assert!(codes.iter().all(|&c| c == 0), "{codes:?}");
    }
    for (i, f) in fixtures.iter().enumerate() {
        let extra = u64::from(i == 1);
        assert_eq!(
            f.doc(P)["failed"]["B0BZ9L4P6F"]["retry_count"],
            3 + per as u64 + extra,
            "namespace {}",
            f.ns
        );
    }
    let keys: Vec<i64> = pg::client()
        .query(
            "SELECT lock_key FROM statewright_namespaces WHERE name = ANY($1)",
            &[&fixtures.iter().map(|f| f.ns.clone()).collect::<Vec<_>>()],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    let mut unique = keys.clone();
    unique.sort();
    unique.dedup();
    assert_eq!((keys.len(), unique.len()), (spaces, spaces));
}

/// A stress run: writers killed wherever they are (connecting, waiting
/// for the lock, inside their transaction or done).
#[test]
fn clients_killed_at_random_lose_no_acknowledged_write() {
    let f = Fixture::new(Backend::Postgres);
    let n = writers();
    let mut children: Vec<_> = (0..n)
        .map(|_| {
            Command::new(env!("CARGO_BIN_EXE_statewright"))
                .args(["set", P, RETRY, "--increment", "1", "--lock-timeout", "60"])
                .current_dir(f.root())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    std::thread::sleep(Duration::from_millis(150));
    // Every other writer is killed wherever it is: connecting, waiting
    // for the lock, inside its transaction or done.
    for c in children.iter_mut().step_by(2) {
        // SAFETY: sends SIGKILL to our own child.
        unsafe { libc::kill(c.id() as i32, libc::SIGKILL) };
    }
    let mut acknowledged = 0u64;
    for mut c in children {
        if c.wait().unwrap().code() == Some(0) {
            acknowledged += 1;
        }
    }
    let value = f.doc(P)["failed"]["B0BZ9L4P6F"]["retry_count"]
        .as_u64()
        .unwrap();
    let serial = f.doc(P)["serial"].as_u64().unwrap();
    assert!(
        value - 3 >= acknowledged && value - 3 <= n as u64,
        "{value} {acknowledged}"
    );
    assert_eq!(value - 3, serial, "every committed increment is one serial");
    let r = f.run(&["audit", "verify", "--format", "json"]);
    ok(&r);
    assert_eq!(
        r.json()["verified"],
        10 + serial,
        "one audit line per commit"
    );
    let r = f.run(&["lock", "status", "--format", "json"]);
    assert_ne!(r.json()["state"], "held", "{}", r.stdout);
    ok(&f.run(&["set", P, RETRY, "--increment", "1", "--lock-timeout", "5"]));
}

#[test]
fn a_terminated_lock_session_frees_the_lock_and_its_writes_fail() {
    let f = Fixture::new(Backend::Postgres);
    let (store, _) = f.open();
    let guard = store
        .lock(&LockOptions {
            command: "stuck job".into(),
            ..LockOptions::default()
        })
        .unwrap();
    let holder: i32 = pg::client()
        .query_one(
            "SELECT session_pid FROM statewright_locks WHERE namespace = $1",
            &[&f.ns],
        )
        .unwrap()
        .get(0);
    pg::client()
        .execute("SELECT pg_terminate_backend($1)", &[&holder])
        .unwrap();
    let r = f.run(&["lock", "status"]);
    ok(&r);
    assert!(
        flat(&r.stdout)
            .contains("free; the holder's server session ended and PostgreSQL released the lock"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("stuck job"), "{}", r.stdout);
    // The stuck job cannot write any more.
    let before = f.bytes(P);
    let mut value = f.doc(P);
    value["failed"]["B0BZ9L4P6F"]["retry_count"] = 99.into();
    let e = store
        .write(&guard, P, value, &WriteContext::new("stuck job"))
        .unwrap_err();
    assert!(matches!(e, StoreError::Database { .. }), "{e}");
    assert_eq!(f.bytes(P), before);
    drop(guard);
    // The next writer takes the lock at once and clears the record.
    ok(&f.run(&["set", P, RETRY, "--increment", "1", "--lock-timeout", "0"]));
    let (store, _) = f.open();
    assert_eq!(store.lock_status().unwrap(), LockStatus::Free);
}

#[test]
fn a_stale_record_is_broken_with_lock_break() {
    let f = Fixture::new(Backend::Postgres);
    let (store, _) = f.open();
    let guard = store.lock(&LockOptions::default()).unwrap();
    let id = guard.info.lock_id.clone();
    pg::client()
        .execute(
            "SELECT pg_terminate_backend(session_pid) FROM statewright_locks WHERE namespace = $1",
            &[&f.ns],
        )
        .unwrap();
    std::mem::forget(guard);
    let r = f.run(&["lock", "break", &id, "--yes"]);
    ok(&r);
    assert!(
        r.stdout
            .starts_with(&format!("broke lock {id}: cleared the record")),
        "{}",
        r.stdout
    );
    let r = f.run(&["lock", "status"]);
    assert!(r.stdout.trim_end().ends_with(": free"), "{}", r.stdout);
}

#[test]
fn a_wrong_password_is_refused_without_showing_it_and_nothing_is_written() {
    let role = format!("sw_{}", uuid::Uuid::new_v4().simple());
    pg::client()
        .batch_execute(&format!("CREATE ROLE {role} LOGIN PASSWORD 'right-one'"))
        .unwrap();
    let ns = pg::fresh_namespace("pw");
    let f = Fixture::empty(Backend::Postgres, &ns);
    let url = pg::namespace_url(&ns).replacen("postgres@", &format!("{role}@"), 1);
    f.set_state(&url);
    let out = Command::new(env!("CARGO_BIN_EXE_statewright"))
        .args(["set", P, RETRY, "1"])
        .current_dir(f.root())
        .env("PGPASSWORD", "wrong-one")
        .output()
        .unwrap();
    let stderr = flat(&String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("connect failed"), "{stderr}");
    assert!(
        stderr.contains("password authentication failed"),
        "{stderr}"
    );
    assert!(
        stderr.contains("set PGPASSWORD or add the server to ~/.pgpass"),
        "{stderr}"
    );
    assert!(
        !stderr.contains("wrong-one") && !stderr.contains("right-one"),
        "{stderr}"
    );
    assert_eq!(namespaces_of(&ns), 0, "nothing written");
    // The right password from PGPASSWORD, then from a password file (the
    // role granted what docs/POSTGRES.md says it needs).
    pg::client()
        .batch_execute(&format!(
            "GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {role}"
        ))
        .unwrap();
    let as_role = |env: &[(&str, &str)]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_statewright"));
        c.args(["list"])
            .current_dir(f.root())
            .env_remove("PGPASSWORD");
        for (k, v) in env {
            c.env(k, v);
        }
        c.output().unwrap()
    };
    let out = as_role(&[("PGPASSWORD", "right-one")]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let pgpass = f.root().join("pgpass");
    std::fs::write(&pgpass, format!("127.0.0.1:*:postgres:{role}:right-one\n")).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o600)).unwrap();
    let out = as_role(&[("PGPASSFILE", pgpass.to_str().unwrap())]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(namespaces_of(&ns), 1);
    // A password in the project file is refused before connecting.
    f.set_state(&url.replacen(&format!("{role}@"), &format!("{role}:right-one@"), 1));
    let r = f.run(&["list"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("the URL carries a password"),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains("right-one"), "{}", r.stderr);
}

#[test]
fn an_unreachable_host_is_named_with_exit_2() {
    let f = Fixture::empty(Backend::Files, "unused");
    f.set_state("postgres://postgres@127.0.0.1:1/postgres?namespace=x&connect_timeout=2");
    let r = f.run(&["get", P, RETRY]);
    code(&r, 2);
    let e = flat(&r.stderr);
    assert!(
        e.contains("postgres://postgres@127.0.0.1:1/postgres?namespace=x: connect failed"),
        "{e}"
    );
    assert!(e.contains("check that the server runs"), "{e}");
}

#[test]
fn tables_of_a_newer_statewright_are_refused_with_exit_4() {
    let db = pg::fresh_database();
    let ns = pg::fresh_namespace("newer");
    let f = Fixture::empty(Backend::Postgres, &ns);
    f.set_state(&format!("{db}?namespace={ns}"));
    copy_seed_and_push(&f);
    let mut c = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    c.execute("UPDATE statewright_schema SET version = 99", &[])
        .unwrap();
    let body = |c: &mut postgres::Client| -> String {
        c.query_one(
            "SELECT body FROM statewright_documents WHERE namespace = $1 AND path = $2",
            &[&ns, &P],
        )
        .unwrap()
        .get(0)
    };
    let before = body(&mut c);
    let r = f.run(&["set", P, RETRY, "--increment", "1"]);
    code(&r, 4);
    let e = flat(&r.stderr);
    assert!(
        e.contains("tables are at schema version 99, newer than this statewright knows (2)"),
        "{e}"
    );
    assert!(e.contains("upgrade statewright"), "{e}");
    assert_eq!(body(&mut c), before, "nothing written");
}

#[test]
fn tables_of_an_older_statewright_are_upgraded_in_place() {
    let db = pg::fresh_database();
    let ns = pg::fresh_namespace("older");
    let f = Fixture::empty(Backend::Postgres, &ns);
    f.set_state(&format!("{db}?namespace={ns}"));
    copy_seed_and_push(&f);
    let mut c = postgres::Client::connect(&db, postgres::NoTls).unwrap();
    let state = |c: &mut postgres::Client| -> (i32, String) {
        let v: i32 = c
            .query_one("SELECT version FROM statewright_schema", &[])
            .unwrap()
            .get(0);
        let p: i8 = c
            .query_one(
                "SELECT relpersistence FROM pg_class WHERE relname = 'statewright_locks'",
                &[],
            )
            .unwrap()
            .get(0);
        (v, (p as u8 as char).to_string())
    };
    assert_eq!(
        state(&mut c),
        (2, "u".to_owned()),
        "new tables: the holders' table is unlogged"
    );
    // The tables as version 1 left them.
    c.batch_execute(
        "ALTER TABLE statewright_locks SET LOGGED; UPDATE statewright_schema SET version = 1",
    )
    .unwrap();
    ok(&f.run(&["set", P, RETRY, "--increment", "1"]));
    assert_eq!(state(&mut c), (2, "u".to_owned()), "upgraded in place");
    let r = f.run(&["get", P, RETRY]);
    ok(&r);
    assert_eq!(r.stdout.trim(), "4");
}

fn copy_seed_and_push(f: &Fixture) {
    crate::util::copy_dir(
        &crate::util::repo().join("examples/state"),
        &f.root().join("seed"),
    );
    ok(&f.run(&["state", "push", "seed"]));
}

#[test]
fn namespaces_with_quotes_and_unicode_are_kept_apart_and_control_characters_refused() {
    let odd = [
        format!(
            "it's \"quoted\"; DROP TABLE x -- {}",
            uuid::Uuid::new_v4().simple()
        ),
        format!("équipe/名前 {}", uuid::Uuid::new_v4().simple()),
    ];
    let fixtures: Vec<Fixture> = odd
        .iter()
        .map(|ns| {
            let f = Fixture::empty(Backend::Postgres, ns);
            copy_seed_and_push(&f);
            f
        })
        .collect();
    ok(&fixtures[0].run(&["set", P, RETRY, "10"]));
    assert_eq!(
        fixtures[0].doc(P)["failed"]["B0BZ9L4P6F"]["retry_count"],
        10
    );
    assert_eq!(fixtures[1].doc(P)["failed"]["B0BZ9L4P6F"]["retry_count"], 3);
    let r = fixtures[1].run(&["list"]);
    ok(&r);
    let ns = format!("bad\n{}", uuid::Uuid::new_v4().simple());
    let f = Fixture::empty(Backend::Postgres, &ns);
    let r = f.run(&["list"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("the namespace holds the control character U+000A"),
        "{}",
        r.stderr
    );
    assert_eq!(namespaces_of("bad\n"), 0, "nothing written");
}

/// Waits until `sql` (one boolean) holds, up to 20 s.
fn wait_for(sql: &str, params: &[&(dyn postgres::types::ToSql + Sync)]) {
    let mut c = pg::client();
    for _ in 0..400 {
        if c.query_one(sql, params).unwrap().get::<_, bool>(0) {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("timed out waiting for: {sql}");
}

/// A client killed inside a transaction of several documents (a `state
/// push` replacing two): the server rolls all of it back. (A one-document
/// commit is a single statement: it is applied whole or not at all,
/// which `clients_killed_at_random_lose_no_acknowledged_write` checks.)
#[test]
fn a_client_killed_inside_its_transaction_leaves_the_old_versions_and_a_free_lock() {
    let f = Fixture::new(Backend::Postgres);
    ok(&f.run(&["state", "pull", "out"]));
    ok(&f.run(&["set", "--state", "out", P, RETRY, "--increment", "1"]));
    let dev = "config/dev.json";
    ok(&f.run(&["set", "--state", "out", dev, "/env", "dev"]));
    let r = f.run(&[
        "append",
        "--state",
        "out",
        dev,
        "/template_checks",
        crate::backends::CHECK,
    ]);
    ok(&r);
    let before = (f.bytes(P), f.bytes(dev));
    // Hold the audit row the push's commit inserts next: the push blocks
    // there, provably inside its transaction (both documents already
    // replaced in it).
    let mut c = pg::client();
    let mut blocker = c.transaction().unwrap();
    blocker
        .execute(
            "INSERT INTO statewright_audit (namespace, seq, tx, file, serial, line)
             VALUES ($1, 11, 'blocker', 'x', 0, 'x')",
            &[&f.ns],
        )
        .unwrap();
    let mut child = Command::new(env!("CARGO_BIN_EXE_statewright"))
        .args(["state", "push", "out"])
        .current_dir(f.root())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    wait_for(
        "SELECT EXISTS (SELECT 1 FROM pg_stat_activity WHERE application_name = 'statewright'
           AND wait_event_type = 'Lock' AND backend_xid IS NOT NULL)",
        &[],
    );
    // SAFETY: sends SIGKILL to our own child.
    unsafe { libc::kill(child.id() as i32, libc::SIGKILL) };
    assert_eq!(child.wait().unwrap().code(), None, "killed");
    blocker.rollback().unwrap();
    wait_for(
        "SELECT NOT EXISTS (SELECT 1 FROM pg_locks l, statewright_namespaces n
           WHERE n.name = $1 AND l.locktype = 'advisory' AND l.objsubid = 1
             AND l.classid::bigint = (n.lock_key >> 32) & 4294967295
             AND l.objid::bigint = n.lock_key & 4294967295)",
        &[&f.ns],
    );
    assert_eq!(
        (f.bytes(P), f.bytes(dev)),
        before,
        "the killed transaction was rolled back"
    );
    let r = f.run(&["audit", "verify", "--format", "json"]);
    ok(&r);
    assert_eq!(r.json()["verified"], 10);
    let r = f.run(&["lock", "status", "--format", "json"]);
    assert_eq!(r.json()["state"], "stale", "{}", r.stdout);
    let r = f.run(&["state", "push", "out", "--lock-timeout", "0"]);
    ok(&r);
    assert!(
        r.stdout.contains("replaced  processed.json"),
        "{}",
        r.stdout
    );
    assert_eq!(f.doc(P)["failed"]["B0BZ9L4P6F"]["retry_count"], 4);
}

#[test]
fn commands_that_read_documents_read_the_namespace() {
    // An empty namespace: nothing to validate, nothing to compare, and
    // file-only options are refused with the fix.
    let f = Fixture::empty(Backend::Postgres, &pg::fresh_namespace("files"));
    let r = f.run(&["validate"]);
    code(&r, 0);
    let r = f.run(&["validate", "--kind", "mamfast-processed"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("--schema and --kind apply to files"),
        "{}",
        r.stderr
    );
    let r = f.run(&["diff", "--drift"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("no `packer-hybrid` document to compare"),
        "{}",
        r.stderr
    );
}

#[test]
fn kept_versions_are_the_newest_backups_count() {
    let f = Fixture::new(Backend::Postgres);
    for _ in 0..6 {
        ok(&f.run(&["set", P, RETRY, "--increment", "1"]));
    }
    let serials: Vec<i64> = pg::client()
        .query(
            "SELECT serial FROM statewright_versions WHERE namespace = $1 AND path = $2 ORDER BY serial",
            &[&f.ns, &P],
        )
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(serials, [3, 4, 5], "backups = 3 in the project file");
    let body: String = pg::client()
        .query_one(
            "SELECT body FROM statewright_versions WHERE namespace = $1 AND path = $2 AND serial = 5",
            &[&f.ns, &P],
        )
        .unwrap()
        .get(0);
    let kept: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(kept["failed"]["B0BZ9L4P6F"]["retry_count"], 8);
    assert_eq!(kept["serial"], 5);
}

/// The sessions of `statewright` connections, and how many use TLS.
fn statewright_sessions() -> (i64, i64) {
    let row = pg::client()
        .query_one(
            "SELECT count(*), count(*) FILTER (WHERE s.ssl) FROM pg_stat_activity a
             JOIN pg_stat_ssl s USING (pid) WHERE a.application_name = 'statewright'",
            &[],
        )
        .unwrap();
    (row.get(0), row.get(1))
}

#[test]
fn tls_is_used_and_checked_as_sslmode_says() {
    let Some(ca) = pg::ca_cert() else {
        println!(
            "skipped: the test server offers no TLS known here (set STATEWRIGHT_PG_CA to its CA certificate)"
        );
        return;
    };
    let f = Fixture::new(Backend::Postgres);
    let url = pg::namespace_url(&f.ns);
    let ca = ca.to_str().unwrap().to_owned();

    // verify-full with the server's CA: encrypted and checked.
    f.set_state(&format!("{url}&sslmode=verify-full&sslrootcert={ca}"));
    ok(&f.run(&["set", P, RETRY, "--increment", "1"]));
    assert_eq!(f.doc(P)["failed"]["B0BZ9L4P6F"]["retry_count"], 4);
    let (store, _) = f.open();
    let (sessions, encrypted) = statewright_sessions();
    assert!(
        sessions >= 1 && encrypted == sessions,
        "{sessions} sessions, {encrypted} with TLS"
    );
    drop(store);

    // verify-full without the CA: the certificate is not trusted.
    f.set_state(&format!("{url}&sslmode=verify-full"));
    let r = f.run(&["set", P, RETRY, "--increment", "1"]);
    code(&r, 2);
    let e = flat(&r.stderr);
    assert!(e.contains("connect (TLS) failed"), "{e}");
    assert!(e.contains("sslmode=verify-full"), "{e}");
    assert!(e.contains("give its CA with sslrootcert=PATH"), "{e}");
    assert_eq!(
        f.doc(P)["failed"]["B0BZ9L4P6F"]["retry_count"],
        4,
        "nothing written"
    );

    // A role the server only admits over TLS: refused with sslmode=disable,
    // admitted with require.
    pg::client()
        .batch_execute(
            "DO $$ BEGIN CREATE ROLE tlsonly LOGIN PASSWORD 'tls-pw';
             EXCEPTION WHEN duplicate_object THEN NULL; END $$;
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO tlsonly",
        )
        .unwrap();
    let as_tlsonly = |mode: &str| {
        f.set_state(&format!(
            "{}&sslmode={mode}",
            url.replacen("postgres@", "tlsonly@", 1)
        ));
        let out = Command::new(env!("CARGO_BIN_EXE_statewright"))
            .args(["get", P, RETRY])
            .current_dir(f.root())
            .env("PGPASSWORD", "tls-pw")
            .output()
            .unwrap();
        (
            out.status.code(),
            flat(&String::from_utf8_lossy(&out.stderr)),
            String::from_utf8_lossy(&out.stdout).trim().to_owned(),
        )
    };
    let (code_disabled, e, _) = as_tlsonly("disable");
    assert_eq!(code_disabled, Some(2), "{e}");
    assert!(e.contains("no encryption"), "{e}");
    let (code_required, e, out) = as_tlsonly("require");
    assert_eq!(code_required, Some(0), "{e}");
    assert_eq!(out, "4");

    // A mode libpq does not know.
    f.set_state(&format!("{url}&sslmode=bogus"));
    let r = f.run(&["list"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains(
            "sslmode `bogus` is not one of disable, allow, prefer, require, verify-ca, verify-full"
        ),
        "{}",
        r.stderr
    );
}
