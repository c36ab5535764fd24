//! The tables statewright keeps in a PostgreSQL database, created and
//! upgraded by the tool itself. `statewright_schema` holds the version of
//! the tables; a database whose tables are newer than this build knows is
//! refused before anything is read or written ([`StoreError::DatabaseNewer`]),
//! as a document from a newer catalog is.
//!
//! | table | what |
//! |---|---|
//! | `statewright_schema` | one row: the tables' version |
//! | `statewright_namespaces` | each namespace and its advisory-lock key (unique) |
//! | `statewright_documents` | the current version of each document: path, kind, version, serial, lineage, checksum, the exact bytes as text |
//! | `statewright_versions` | replaced versions (the backups), newest `backups` per document |
//! | `statewright_audit` | the hash-chained audit lines, in order |
//! | `statewright_locks` | the holder of each namespace's lock (UNLOGGED: a holder lives only as long as its session) |
//! | `statewright_corrupt` | versions that failed a check and were replaced by a restored backup |
//!
//! Creating or upgrading the tables takes a transaction-scoped advisory
//! lock of its own, once per database and version; registering a
//! namespace is one insert. Neither blocks the other namespaces' commands.

use postgres::Client;
use postgres::error::SqlState;
use sha2::{Digest, Sha256};

use crate::store::error::{Result, StoreError};

/// The version of the tables this build creates and reads.
pub const SCHEMA_VERSION: i32 = 2;

/// The statements that bring the tables from version `i` to `i + 1`.
const STEPS: &[&str] = &[
    r#"
CREATE TABLE IF NOT EXISTS statewright_namespaces (
    name text PRIMARY KEY,
    lock_key bigint NOT NULL UNIQUE,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS statewright_documents (
    namespace text NOT NULL REFERENCES statewright_namespaces (name),
    path text NOT NULL,
    kind text NOT NULL,
    version integer NOT NULL,
    serial bigint NOT NULL,
    lineage text NOT NULL,
    checksum text NOT NULL,
    body text NOT NULL,
    written_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (namespace, path)
);
CREATE TABLE IF NOT EXISTS statewright_versions (
    namespace text NOT NULL REFERENCES statewright_namespaces (name),
    path text NOT NULL,
    serial bigint NOT NULL,
    checksum text NOT NULL,
    body text NOT NULL,
    time text NOT NULL,
    PRIMARY KEY (namespace, path, serial, checksum)
);
CREATE TABLE IF NOT EXISTS statewright_audit (
    namespace text NOT NULL REFERENCES statewright_namespaces (name),
    seq bigint NOT NULL,
    tx text NOT NULL,
    file text NOT NULL,
    serial bigint NOT NULL,
    line text NOT NULL,
    PRIMARY KEY (namespace, seq)
);
CREATE INDEX IF NOT EXISTS statewright_audit_file ON statewright_audit (namespace, file, serial);
CREATE TABLE IF NOT EXISTS statewright_locks (
    namespace text PRIMARY KEY REFERENCES statewright_namespaces (name),
    lock_id text NOT NULL,
    session_pid integer NOT NULL,
    holder text NOT NULL,
    since timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE IF NOT EXISTS statewright_corrupt (
    namespace text NOT NULL REFERENCES statewright_namespaces (name),
    name text NOT NULL,
    path text NOT NULL,
    body text NOT NULL,
    PRIMARY KEY (namespace, name)
);
"#,
    // 2: the lock holders' table is UNLOGGED. A holder row explains a lock
    // that lives only as long as its server session, so it needs no
    // durability: writing it no longer waits for a WAL flush, and a server
    // crash, which ends every session, empties it.
    r#"
ALTER TABLE statewright_locks SET UNLOGGED;
"#,
];

/// The advisory-lock key pair that serialises creating and upgrading the
/// tables (transaction-scoped: released at commit). The two-key form is a
/// key space of its own, apart from the namespaces' 64-bit keys.
const SETUP_KEY: (i32, i32) = (0x5357, 1); // "SW"

/// A 64-bit key for the advisory lock of `namespace`: the first 8 bytes
/// of its SHA-256. [`namespace_key`] makes it unique among the
/// namespaces of one database.
pub fn hash64(namespace: &str) -> i64 {
    let digest = Sha256::digest(namespace.as_bytes());
    let mut first = [0u8; 8];
    first.copy_from_slice(&digest[..8]);
    i64::from_be_bytes(first)
}

/// The tables' version in the database (0: none yet).
fn found_version(client: &mut Client) -> std::result::Result<i32, postgres::Error> {
    match client.query_one("SELECT version FROM statewright_schema WHERE id = 1", &[]) {
        Ok(row) => Ok(row.get(0)),
        Err(e) if e.code() == Some(&SqlState::UNDEFINED_TABLE) => Ok(0),
        Err(e) => Err(e),
    }
}

/// Creates or upgrades the tables to [`SCHEMA_VERSION`]; refuses tables
/// that are newer. `db` maps a client error to the store's.
pub fn ensure(
    client: &mut Client,
    url: &str,
    db: impl Fn(postgres::Error) -> StoreError,
) -> Result<()> {
    let newer = |found| StoreError::DatabaseNewer {
        url: url.to_owned(),
        found,
        known: SCHEMA_VERSION,
    };
    let found = found_version(client).map_err(&db)?;
    if found > SCHEMA_VERSION {
        return Err(newer(found));
    }
    if found == SCHEMA_VERSION {
        return Ok(());
    }
    let mut tx = client.transaction().map_err(&db)?;
    tx.execute(
        "SELECT pg_advisory_xact_lock($1, $2)",
        &[&SETUP_KEY.0, &SETUP_KEY.1],
    )
    .map_err(&db)?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS statewright_schema (
            id integer PRIMARY KEY CHECK (id = 1),
            version integer NOT NULL
        )",
    )
    .map_err(&db)?;
    let found: i32 = tx
        .query_opt("SELECT version FROM statewright_schema WHERE id = 1", &[])
        .map_err(&db)?
        .map_or(0, |r| r.get(0));
    if found > SCHEMA_VERSION {
        return Err(newer(found));
    }
    for step in &STEPS[found as usize..] {
        tx.batch_execute(step).map_err(&db)?;
    }
    tx.execute(
        "INSERT INTO statewright_schema (id, version) VALUES (1, $1)
         ON CONFLICT (id) DO UPDATE SET version = EXCLUDED.version",
        &[&SCHEMA_VERSION],
    )
    .map_err(&db)?;
    tx.commit().map_err(&db)
}

/// The advisory-lock key of `namespace`, registering the namespace on
/// first use. Keys are unique among a database's namespaces: a new
/// namespace whose hash is taken gets the next free key.
pub fn namespace_key(
    client: &mut Client,
    namespace: &str,
) -> std::result::Result<i64, postgres::Error> {
    let mut key = hash64(namespace);
    loop {
        if let Some(row) = client.query_opt(
            "SELECT lock_key FROM statewright_namespaces WHERE name = $1",
            &[&namespace],
        )? {
            return Ok(row.get(0));
        }
        let inserted = client.execute(
            "INSERT INTO statewright_namespaces (name, lock_key) VALUES ($1, $2)
             ON CONFLICT DO NOTHING",
            &[&namespace, &key],
        )?;
        if inserted == 1 {
            return Ok(key);
        }
        // Either another client registered the name just now (the next
        // look finds it) or another namespace has this key.
        key = key.wrapping_add(1);
    }
}
