//! The checked-in JSON Schema of the migration format must match the Rust
//! types; `STATEWRIGHT_BLESS=1 cargo test` rewrites it.

use std::path::Path;

#[test]
fn migration_schema_is_current() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("migrations")
        .join(statewright::spec::migration::SCHEMA_FILE);
    let expected = statewright::spec::migration::json_schema();
    if std::env::var_os("STATEWRIGHT_BLESS").is_some() {
        std::fs::write(&path, &expected).unwrap();
        // Blessing is the on-purpose rewrite: the sum file too.
        statewright::migrate::rehash(path.parent().unwrap()).unwrap();
    }
    let actual = std::fs::read_to_string(&path).unwrap_or_default();
    assert!(
        actual == expected,
        "{} is stale; run `STATEWRIGHT_BLESS=1 cargo test --test migrate_schema` and commit it",
        path.display()
    );
}

#[test]
fn shipped_migration_files_validate_against_the_schema() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    let schema: serde_json::Value =
        serde_json::from_str(&statewright::spec::migration::json_schema()).unwrap();
    let validator = jsonschema::validator_for(&schema).unwrap();
    let set = statewright::spec::migration::load_dir(&root).unwrap();
    assert!(!set.migrations.is_empty());
    for m in &set.migrations {
        let value = serde_json::to_value(&m.file).unwrap();
        let errors: Vec<_> = validator
            .iter_errors(&value)
            .map(|e| e.to_string())
            .collect();
        assert!(errors.is_empty(), "{}: {errors:?}", m.relative);
    }
}
