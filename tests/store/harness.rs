//! Shared test harness: a small catalog built in a temp dir, stores over
//! the real or the simulated file system, and helpers.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use serde_json::{Value, json};
use statewright::spec::{Catalog, Project};
use statewright::store::{
    Fs, LockOptions, SchemaVerifier, Store, StoreOptions, Verifier, WriteContext,
};

pub struct Fixture {
    pub root: tempfile::TempDir,
    pub catalog: Catalog,
    pub state: PathBuf,
}

const PROJECT: &str = r#"
[project]
schemas = "schemas"
state = "state"

[kinds.counter]
path = "counter*.json"

[kinds.sources]
path = "sources.json"

[kinds.index]
path = "index.json"

[kinds.config]
path = "config/*.json"

[kinds.legacy]
path = "legacy.json"
[kinds.legacy.fields]
version = "/version"
checksum = "/meta/sum"
serial = "/meta/serial"

[kinds.snapshot]
path = "snapshot.json"
provenance = true
"#;

fn envelope_schema() -> Value {
    json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://statewright.dev/schemas/envelope.json",
        "type": "object",
        "properties": {
            "schema_version": {"type": "integer", "minimum": 1},
            "serial": {"type": "integer", "minimum": 0},
            "lineage": {"type": "string"},
            "checksum": {"type": "string", "pattern": "^sha256:[0-9a-f]{64}$"},
            "generated_at": {"type": "string"},
            "origin": {"type": "object"}
        }
    })
}

fn kind_schema(kind: &str, version: u32, body: Value) -> Value {
    let mut s = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("https://statewright.dev/schemas/{kind}/v{version}.json"),
        "allOf": [{"$ref": "../envelope.json"}],
        "type": "object",
    });
    for (k, v) in body.as_object().unwrap() {
        s[k] = v.clone();
    }
    s
}

pub fn fixture() -> Fixture {
    let root = tempfile::tempdir().unwrap();
    let p = root.path();
    std::fs::write(p.join("statewright.toml"), PROJECT).unwrap();
    let schemas = p.join("schemas");
    let put = |rel: &str, v: &Value| {
        let f = schemas.join(rel);
        std::fs::create_dir_all(f.parent().unwrap()).unwrap();
        std::fs::write(f, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    };
    put("envelope.json", &envelope_schema());
    let counter = json!({
        "required": ["count"],
        "properties": {
            "count": {"type": "integer"},
            "token": {"type": "string", "x-statewright-secret": true},
            "note": {"type": "string"},
            "pad": {"type": "string"}
        }
    });
    put(
        "counter/v1.json",
        &kind_schema("counter", 1, counter.clone()),
    );
    put("counter/v2.json", &kind_schema("counter", 2, counter));
    let items = json!({"required": ["items"], "properties": {"items": {"type": "array"}}});
    put("sources/v1.json", &kind_schema("sources", 1, items.clone()));
    put("index/v1.json", &kind_schema("index", 1, items));
    put("config/v1.json", &kind_schema("config", 1, json!({})));
    put("snapshot/v1.json", &kind_schema("snapshot", 1, json!({})));
    put(
        "legacy/v1.json",
        &json!({"type": "object", "required": ["version"]}),
    );
    let project = Project::load(&p.join("statewright.toml")).unwrap();
    let catalog = Catalog::load(&project).unwrap();
    let state = p.join("state");
    std::fs::create_dir_all(&state).unwrap();
    Fixture {
        root,
        catalog,
        state,
    }
}

impl Fixture {
    pub fn open(&self) -> Store {
        self.open_opts(StoreOptions::default())
    }

    pub fn open_opts(&self, opts: StoreOptions) -> Store {
        Store::open(&self.catalog, &self.state, opts).unwrap().0
    }

    pub fn verifier(&self) -> Arc<dyn Verifier> {
        Arc::new(SchemaVerifier::new(&self.catalog))
    }

    pub fn open_on(
        &self,
        fs: Arc<dyn Fs>,
        dir: &Path,
        opts: StoreOptions,
        v: &Arc<dyn Verifier>,
    ) -> statewright::store::Result<(Store, statewright::store::OpenReport)> {
        Store::open_with(&self.catalog, dir, opts, fs, v.clone())
    }
}

pub fn ctx() -> WriteContext {
    WriteContext::new("test")
}

pub fn lock() -> LockOptions {
    LockOptions {
        timeout: std::time::Duration::from_secs(30),
        command: "test".into(),
        ..LockOptions::default()
    }
}

pub fn counter(n: i64) -> Value {
    json!({"schema_version": 1, "count": n})
}

/// Writes `value` to `rel` under a fresh lock.
pub fn put(store: &Store, rel: &str, value: Value) -> statewright::store::WriteOutcome {
    let g = store.lock(&lock()).unwrap();
    store.write(&g, rel, value, &ctx()).unwrap()
}

/// A small deterministic random generator (xorshift).
pub struct Rng(pub u64);

impl Rng {
    pub fn next(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        x
    }

    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}
