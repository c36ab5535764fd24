//! Strict document parsing (JSON, YAML, TOML; the first byte picks the
//! format). Whatever parses must be written back as JSON that reads back
//! with the same text for every value (exact numbers); the YAML and TOML
//! encoders the store uses run on it too (the store checks their read-back
//! itself, so here they only must not panic).
#![no_main]

use libfuzzer_sys::fuzz_target;
use statewright::spec::document::{self, Format, ParseLimits, Portable, SourceText};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let format = match pick % 3 {
        0 => Format::Json,
        1 => Format::Yaml,
        _ => Format::Toml,
    };
    let Ok(source) = document::decode("fuzz".as_ref(), rest.to_vec(), format) else {
        return;
    };
    let Ok(value) = document::parse(&source, ParseLimits::default()) else {
        return;
    };
    let json = SourceText {
        path: "fuzz.json".into(),
        text: serde_json::to_string(&value).unwrap(),
        format: Format::Json,
    };
    let back = document::parse(&json, ParseLimits::default())
        .expect("JSON written from a parsed document reads back");
    assert_eq!(back, value, "the JSON round trip changed a value's text");
    if let Ok(yaml) = serde_saphyr::to_string(&Portable(&value)) {
        let _ = document::parse(
            &SourceText {
                path: "fuzz.yaml".into(),
                text: yaml,
                format: Format::Yaml,
            },
            ParseLimits::default(),
        );
    }
    let _ = toml::to_string(&Portable(&value));
});
