//! Numbers round-trip exactly: random documents full of big integers, long
//! decimals and the spellings `1.0`, `1E2`, `-0` go from text through the
//! strict parser, a store write, a read, an export and an import into a
//! second state dir, and come back with the same value and text.

use std::path::Path;

use proptest::prelude::*;
use serde_json::Value;
use statewright::ops::{ImportRequest, export, import};
use statewright::spec::document::{self, Format, ParseLimits, SourceText};
use statewright::spec::number;

use crate::harness::*;

fn number_text() -> impl Strategy<Value = String> {
    prop_oneof![
        // Integers of any length (most beyond 64 bits), either sign.
        ("-?", "[1-9][0-9]{0,45}").prop_map(|(s, d)| format!("{s}{d}")),
        // Long decimals.
        ("-?", "[0-9]", "[0-9]{1,40}").prop_map(|(s, i, f)| format!("{s}{i}.{f}")),
        // Exponents within binary64's range.
        ("[1-9]", "[0-9]{0,25}", -300i32..300).prop_map(|(i, f, e)| format!("{i}.{f}0E{e}")),
        Just("1.0".to_owned()),
        Just("1E2".to_owned()),
        Just("-0".to_owned()),
        Just("0.1".to_owned()),
        Just("18446744073709551616".to_owned()),
        Just("-9223372036854775809".to_owned()),
    ]
}

fn parse(path: &Path, text: &str) -> Value {
    let source = SourceText {
        path: path.to_owned(),
        text: text.to_owned(),
        format: Format::Json,
    };
    document::parse(&source, ParseLimits::default()).unwrap()
}

fn numbers(v: &Value) -> Vec<serde_json::Number> {
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| match n {
            Value::Number(n) => n.clone(),
            other => panic!("not a number: {other}"),
        })
        .collect()
}

fn round_trip(texts: &[String]) {
    let f = fixture();
    let store = f.open();
    let text = format!(
        "{{\"schema_version\": 1, \"items\": [{}]}}",
        texts.join(", ")
    );
    let parsed = parse(Path::new("in.json"), &text);
    let read_in = numbers(&parsed);
    for (t, n) in texts.iter().zip(&read_in) {
        let want = number::Decimal::parse(t).unwrap().normalized();
        let got = number::Decimal::of(n).unwrap().normalized();
        assert_eq!(got, want, "parsed {t} as {n}");
    }
    put(&store, "sources.json", parsed);
    let stored = store.read("sources.json").unwrap().value;
    let on_disk = parse(
        &f.state.join("sources.json"),
        &std::fs::read_to_string(f.state.join("sources.json")).unwrap(),
    );
    // The same text, not only the same value, through write and read.
    assert_eq!(numbers(&stored), read_in);
    assert_eq!(numbers(&on_disk), read_in);

    let bundle = {
        let guard = store.lock(&lock()).unwrap();
        export(&store, &f.catalog, &guard).unwrap()
    };
    let g = fixture();
    let other = g.open();
    import(
        &other,
        &lock(),
        &ctx(),
        &ImportRequest {
            bundle: &bundle,
            source: Path::new("bundle.json"),
            dry_run: false,
            force: false,
        },
    )
    .unwrap();
    let imported = other.read("sources.json").unwrap().value;
    assert_eq!(numbers(&imported), read_in);
    assert!(number::values_equal(&imported, &stored));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]
    #[test]
    fn numbers_keep_their_value_and_text_through_store_export_and_import(
        texts in proptest::collection::vec(number_text(), 1..12)
    ) {
        round_trip(&texts);
    }
}

#[test]
fn an_unrelated_write_keeps_a_big_integer() {
    let f = fixture();
    let store = f.open();
    let doc = parse(
        Path::new("c.json"),
        r#"{"schema_version": 1, "count": 1, "note": "a", "pad": "b", "big": 18446744073709551617}"#,
    );
    put(&store, "counter.json", doc);
    store
        .update(&lock(), "counter.json", &ctx(), |v| {
            v["note"] = "changed".into()
        })
        .unwrap();
    let bytes = std::fs::read_to_string(f.state.join("counter.json")).unwrap();
    assert!(bytes.contains("\"big\": 18446744073709551617"), "{bytes}");
}
