//! Compiled steps against the interpreter: the rendered code is checked in
//! (`tests/generated/`), kept current by an equality test, compiled here,
//! and must give the interpreter's output on every fixture and on
//! randomized documents, up and down.

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use statewright::migrate::{
    Compiled, CompiledStep, Direction, Hooks, Interpreter, MigrateError, PlannedStep, StepRunner,
};
use statewright::spec::migration::{self, MigrationSet, RenderOptions};
use statewright::spec::{Catalog, Project};

mod shipped {
    include!("generated/compiled_steps.rs");
}

mod demo {
    include!("generated/ops_demo_steps.rs");
}

/// Hooks the demo migrations call (compiled: by path; interpreted: registered).
pub mod migration_hooks {
    use serde_json::Value;

    /// Upper-cases `name` of an object.
    pub fn upper_name(v: &mut Value) -> Result<(), String> {
        match v.get_mut("name") {
            Some(Value::String(s)) => *s = s.to_uppercase(),
            Some(other) => return Err(format!("name is not a string: {other}")),
            None => {}
        }
        Ok(())
    }

    /// Lower-cases `name` of an object.
    pub fn lower_name(v: &mut Value) -> Result<(), String> {
        if let Some(Value::String(s)) = v.get_mut("name") {
            *s = s.to_lowercase();
        }
        Ok(())
    }
}

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn hooks() -> Hooks {
    let mut h = Hooks::new();
    h.register("upper_name", migration_hooks::upper_name)
        .register("lower_name", migration_hooks::lower_name);
    h
}

fn check_generated(set: &MigrationSet, file: &str, opts: &RenderOptions) {
    let path = root().join("tests/generated").join(file);
    let code = migration::render_steps(set, opts).unwrap();
    if std::env::var_os("STATEWRIGHT_BLESS").is_some() {
        std::fs::write(&path, &code).unwrap();
    }
    let current = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        current == code,
        "{} is stale; run `STATEWRIGHT_BLESS=1 cargo test --test migrate_compiled`",
        path.display()
    );
}

fn shipped_set() -> MigrationSet {
    migration::load_checked(&root().join("migrations")).unwrap()
}

fn demo_set() -> MigrationSet {
    migration::load_dir(&root().join("tests/data/migrations")).unwrap()
}

fn render_opts() -> RenderOptions {
    RenderOptions {
        runtime: "::statewright::migrate".into(),
        hooks: "crate::migration_hooks".into(),
    }
}

#[test]
fn generated_code_is_current() {
    check_generated(&shipped_set(), "compiled_steps.rs", &render_opts());
    check_generated(&demo_set(), "ops_demo_steps.rs", &render_opts());
    let bench = migration::load_dir(&root().join("tests/data/bench-migrations")).unwrap();
    check_generated(&bench, "bench_steps.rs", &render_opts());
}

/// Runs one step both ways and requires identical results (values, key
/// order, and errors).
fn same(set: &MigrationSet, steps: &[CompiledStep], doc: &Value) -> usize {
    let h = hooks();
    let interp = Interpreter { hooks: &h };
    let compiled = Compiled { steps };
    let mut checked = 0;
    for m in &set.migrations {
        for direction in [Direction::Up, Direction::Down] {
            let step = PlannedStep {
                migration: m,
                direction,
            };
            let a = run(&interp, &step, doc);
            let b = run(&compiled, &step, doc);
            assert_eq!(a, b, "{} {direction:?} on {doc}", m.relative);
            checked += 1;
        }
    }
    checked
}

fn run(r: &dyn StepRunner, step: &PlannedStep<'_>, doc: &Value) -> Result<String, String> {
    let mut v = doc.clone();
    r.run(step, &mut v)
        .map(|()| serde_json::to_string(&v).unwrap())
        .map_err(|e: MigrateError| e.to_string())
}

#[test]
fn compiled_equals_interpreted_on_every_fixture() {
    let set = shipped_set();
    let cat = Catalog::load(&Project::load(&root().join("statewright.toml")).unwrap()).unwrap();
    let mut checked = 0;
    for kind in cat.kinds.values() {
        for v in kind.versions.keys() {
            let dir = root().join(format!("schemas/{}/examples/v{v}", kind.name));
            for f in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let doc = statewright::spec::catalog::read_json(&f.path()).unwrap();
                checked += same(&set, shipped::STEPS, &doc);
            }
        }
    }
    assert!(checked >= 20, "{checked}");
}

/// A small deterministic generator (xorshift), so failures reproduce.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, xs: &[&'a str]) -> &'a str {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    fn chance(&mut self, n: u64) -> bool {
        self.next().is_multiple_of(n)
    }
    fn scalar(&mut self) -> Value {
        match self.next() % 8 {
            0 => Value::Null,
            1 => json!(self.chance(2)),
            2 => json!(self.next() % 100),
            3 => json!((self.next() % 100).to_string()),
            4 => json!(self.pick(&[
                "low", "high", "a", "alpha", "gold", "silver", "bronze", "true"
            ])),
            5 => json!([self.next() % 3, "x"]),
            6 => json!([]),
            _ => json!({"name": self.pick(&["Ann", "bo"]), "x": 1}),
        }
    }
    /// An object with some of `keys`, each a random scalar or `fields` value.
    fn object(
        &mut self,
        keys: &[&str],
        nested: &mut dyn FnMut(&mut Rng, &str) -> Option<Value>,
    ) -> Value {
        let mut m = Map::new();
        for k in keys {
            if self.chance(4) {
                continue;
            }
            let v = nested(self, k).unwrap_or_else(|| self.scalar());
            m.insert((*k).to_owned(), v);
        }
        Value::Object(m)
    }
}

fn random_doc(r: &mut Rng) -> Value {
    let top = [
        "schema_version",
        "version",
        "meta",
        "legacy",
        "deep",
        "single",
        "many",
        "level",
        "count",
        "flag",
        "items",
        "by_id",
        "scratch",
        "services",
        "defaults",
        "processed",
        "failed",
        "audit",
    ];
    r.object(&top, &mut |r, k| match k {
        "meta" => Some(
            // No `day` (nor `name` in items, nor a top-level `hoisted`):
            // an op onto a member that is there is refused, which
            // `tests/migrate_ops.rs` covers; here most documents pass.
            r.object(&["date", "created", "owner", "name"], &mut |_, _| None),
        ),
        "deep" => Some(json!({"a": {"b": r.scalar()}})),
        "items" => Some(Value::Array(
            (0..r.next() % 4)
                .map(|_| {
                    r.object(&["n", "kind", "tags"], &mut |r, k| {
                        (k == "tags").then(|| json!([r.scalar(), r.scalar()]))
                    })
                })
                .collect(),
        )),
        "by_id" | "processed" | "failed" | "services" => {
            let keys = [
                "x",
                "score",
                "image",
                "tag",
                "version",
                "replicas",
                "tier",
                "region",
                "failed_at",
                "checkpoints",
                "infohash",
            ];
            let mut m = Map::new();
            for i in 0..r.next() % 4 {
                m.insert(format!("e{i}"), r.object(&keys, &mut |_, _| None));
            }
            Some(Value::Object(m))
        }
        "defaults" => Some(json!({"channel": r.scalar()})),
        _ => None,
    })
}

#[test]
fn compiled_equals_interpreted_on_random_documents() {
    let (shipped_set, demo_set) = (shipped_set(), demo_set());
    let mut r = Rng(0x5eed_1234_abcd_ef01);
    let mut errors = 0;
    for _ in 0..2000 {
        let doc = random_doc(&mut r);
        same(&shipped_set, shipped::STEPS, &doc);
        same(&demo_set, demo::STEPS, &doc);
        let mut v = doc.clone();
        let step = PlannedStep {
            migration: &demo_set.migrations[0],
            direction: Direction::Up,
        };
        errors += usize::from(Interpreter { hooks: &hooks() }.run(&step, &mut v).is_err());
    }
    // Both the success and the failure paths were exercised.
    assert!(errors > 10 && errors < 1900, "{errors}");
}

#[test]
fn compiled_table_describes_the_files() {
    let set = shipped_set();
    assert_eq!(shipped::STEPS.len(), set.migrations.len());
    for (c, m) in shipped::STEPS.iter().zip(&set.migrations) {
        assert_eq!(
            (c.kind, c.id, c.from, c.to, c.file_hash),
            (
                m.file.kind.as_str(),
                m.id.as_str(),
                m.file.from,
                m.file.to,
                m.file_hash.as_str()
            )
        );
        assert_eq!(c.lossy, !m.lossy.is_empty());
    }
    assert!(demo::STEPS[1].lossy && !demo::STEPS[0].lossy);
    let _ = Path::new("");
}

/// The steps the build compiled into `statewright::models::compiled` (via
/// the codegen Builder) are the checked-in ones: same files, same hashes,
/// and the interpreter's output on every fixture.
#[test]
fn build_compiled_steps_match_the_files_and_the_interpreter() {
    let built = statewright::models::compiled::STEPS;
    let set = shipped_set();
    let ids: Vec<_> = built.iter().map(|s| (s.kind, s.id, s.file_hash)).collect();
    let files: Vec<_> = set
        .migrations
        .iter()
        .map(|m| (m.file.kind.as_str(), m.id.as_str(), m.file_hash.as_str()))
        .collect();
    assert_eq!(ids, files);
    let cat = Catalog::load(&Project::load(&root().join("statewright.toml")).unwrap()).unwrap();
    let mut checked = 0;
    for kind in cat.kinds.values() {
        for v in kind.versions.keys() {
            let dir = root().join(format!("schemas/{}/examples/v{v}", kind.name));
            for f in std::fs::read_dir(&dir).into_iter().flatten().flatten() {
                let doc = statewright::spec::catalog::read_json(&f.path()).unwrap();
                checked += same(&set, built, &doc);
            }
        }
    }
    assert!(checked >= 20, "{checked}");
}

/// A typed load of the v1 example `processed.json` as the latest (v2)
/// model: upgraded by the compiled steps, no migration file read.
#[test]
fn typed_load_upgrades_the_v1_example_to_the_latest_model() {
    use statewright::models::{self, mamfast_processed};
    let doc: mamfast_processed::Latest =
        models::load(root().join("examples/state/processed.json")).unwrap();
    assert_eq!(doc.version, 2);
    let failed = &doc.failed["B0BZ9L4P6F"];
    assert_eq!(
        failed.first_failed_at.as_deref(),
        Some("2026-03-04T02:15:40+00:00")
    );
    assert_eq!(failed.error_type, None);
    let processed = &doc.processed["B08XJ4QK7L"];
    assert!(processed.checkpoints.is_empty());
    assert_eq!(processed.infohash, None);
    // An optional array is an `Option`: a history that was absent stays
    // absent on save, one that was written (even `[]`) is written back.
    let history = doc.history.as_deref().unwrap_or_default();
    assert_eq!(history.len(), 1);
    let h = serde_json::to_value(&history[0]).unwrap();
    assert_eq!(h["migration"], "0001_checkpoints_and_failure_details");
    assert_eq!(
        h["file_hash"],
        shipped_set()
            .migrations
            .iter()
            .find(|m| m.file.kind == "mamfast-processed")
            .unwrap()
            .file_hash
    );
}

/// A typed load refuses a document newer than the type, and one of an
/// older version that fits neither chain nor type is reported, not
/// panicked on.
#[test]
fn typed_load_refuses_newer_documents() {
    use statewright::models::{self, LoadError, mamfast_processed};
    let e = models::from_value::<mamfast_processed::v1::MamfastProcessed>(
        json!({"version": 2, "processed": {}, "failed": {}}),
    )
    .unwrap_err();
    assert!(
        matches!(e, LoadError::Migrate(MigrateError::NewerThanKnown { .. })),
        "{e}"
    );
    let e = models::from_value::<mamfast_processed::Latest>(json!({"version": 1, "processed": 3}))
        .unwrap_err();
    assert!(
        e.to_string()
            .contains("0001_checkpoints_and_failure_details")
            || matches!(e, LoadError::Deserialize { .. }),
        "{e}"
    );
}

/// `load_with` takes the compiled catalog of any build (an application
/// passes its own generated `compiled::CATALOG`); a kind the catalog does
/// not have is refused naming the way to load it.
#[test]
fn typed_load_with_a_given_compiled_catalog() {
    use statewright::migrate::CompiledCatalog;
    use statewright::models::{self, compiled, mamfast_processed};
    let path = root().join("examples/state/processed.json");
    let with: mamfast_processed::Latest = models::load_with(&path, &compiled::CATALOG).unwrap();
    let plain: mamfast_processed::Latest = models::load(&path).unwrap();
    assert_eq!(with.processed.len(), plain.processed.len());
    assert_eq!(with.version, 2);
    let empty = CompiledCatalog {
        kinds: &[],
        steps: &[],
    };
    let e = models::load_with::<mamfast_processed::Latest>(&path, &empty)
        .unwrap_err()
        .to_string();
    assert!(
        e.starts_with("kind `mamfast-processed` is not in the compiled catalog it was loaded with")
            && e.contains("load_with(path, &models::compiled::CATALOG)"),
        "{e}"
    );
}
