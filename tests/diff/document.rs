//! Document diff round trips: applying the emitted patch to A yields B,
//! for random values (proptest) and for SchemaStore's sample documents.

use std::path::{Path, PathBuf};

use proptest::prelude::*;
use serde_json::{Map, Value, json};
use statewright::diff::{DocDiffOptions, diff_documents, render_patch};

use super::util::corpus;

fn assert_roundtrip(a: &Value, b: &Value) {
    let patch = diff_documents(a, b, &DocDiffOptions::new());
    let mut doc = a.clone();
    json_patch::patch(&mut doc, &patch.0)
        .unwrap_or_else(|e| panic!("patch does not apply: {e}\n{patch:?}"));
    assert_eq!(&doc, b, "patch {patch:?}");
    assert_eq!(render_patch(a, &patch).len(), patch.0.len());
    if a == b {
        assert!(patch.0.is_empty());
    }
}

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        (-5i64..5).prop_map(|n| json!(n)),
        "[a-c~/]{0,3}".prop_map(Value::String),
    ]
}

fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec(("[a-d/~]{1,2}", inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect::<Map<String, Value>>())),
        ]
    })
}

/// Edits of a value: insert, remove or replace at random places, so that
/// pairs share most of their structure as real revisions do.
fn mutate(v: &Value, seed: &[u8]) -> Value {
    let mut v = v.clone();
    let mut seed = seed.iter().copied().cycle();
    let mut next = move || seed.next().unwrap_or(0) as usize;
    for _ in 0..(next() % 4 + 1) {
        edit(&mut v, &mut next, 0);
    }
    v
}

fn edit(v: &mut Value, next: &mut impl FnMut() -> usize, depth: usize) {
    match v {
        Value::Array(a) if !a.is_empty() && !next().is_multiple_of(3) && depth < 5 => {
            let i = next() % a.len();
            match next() % 4 {
                0 => {
                    a.remove(i);
                }
                1 => a.insert(i, json!(next() % 7)),
                2 => a.insert(i, json!({"ins": [i]})),
                _ => edit(&mut a[i], next, depth + 1),
            }
        }
        Value::Object(m) if !m.is_empty() && !next().is_multiple_of(3) && depth < 5 => {
            let i = next() % m.len();
            let key = m.keys().nth(i).cloned().unwrap_or_default();
            match next() % 3 {
                0 => {
                    m.shift_remove(&key);
                }
                1 => {
                    m.insert(format!("{key}~/{}", next() % 3), json!([next() % 5]));
                }
                _ => edit(m.get_mut(&key).expect("key"), next, depth + 1),
            }
        }
        Value::Array(a) => a.push(json!(next() % 5)),
        other => *other = json!({"was": other.clone()}),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn patch_turns_a_into_b_for_unrelated_values(a in value(), b in value()) {
        assert_roundtrip(&a, &b);
    }

    #[test]
    fn patch_turns_a_into_b_for_edited_values(a in value(), seed in prop::collection::vec(any::<u8>(), 1..24)) {
        let b = mutate(&a, &seed);
        assert_roundtrip(&a, &b);
        assert_roundtrip(&b, &a);
    }
}

fn documents(dir: &Path) -> Vec<(PathBuf, Value)> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|d| d.filter_map(|e| e.ok().map(|e| e.path())).collect())
        .unwrap_or_default();
    files.sort();
    files
        .into_iter()
        .filter_map(|p| {
            statewright::spec::catalog::read_json(&p)
                .ok()
                .map(|v| (p, v))
        })
        .collect()
}

#[test]
fn schemastore_documents_roundtrip() {
    let root = corpus().join("schemastore/test");
    let mut folders: Vec<PathBuf> = std::fs::read_dir(&root)
        .expect("schemastore/test")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    folders.sort();
    let (mut pairs, mut docs) = (0, 0);
    for folder in folders {
        let found = documents(&folder);
        for (i, (_, a)) in found.iter().enumerate() {
            docs += 1;
            let seed: Vec<u8> = (0..16u8)
                .map(|k| k.wrapping_mul(37).wrapping_add(i as u8))
                .collect();
            assert_roundtrip(a, &mutate(a, &seed));
            if let Some((_, b)) = found.get(i + 1) {
                assert_roundtrip(a, b);
                pairs += 1;
            }
        }
    }
    assert!(docs > 400, "only {docs} SchemaStore documents parsed");
    assert!(pairs > 300, "only {pairs} same-folder pairs");
}
