//! Format-preserving edits (`splice`) on a document's previous text, which
//! comes from disk and is untrusted: the first byte picks the format, the
//! rest is the previous text, then a NUL, then the new value as JSON (when
//! it is not JSON, the previous value with one member added stands in).
//! The splicer must never panic or hang; whatever it returns is parsed
//! back as the store does, which must not panic either.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::Value;
use statewright::spec::document::{self, Format, ParseLimits, SourceText};
use statewright::spec::splice::splice;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let format = match pick % 3 {
        0 => Format::Json,
        1 => Format::Yaml,
        _ => Format::Toml,
    };
    let (old_text, new_json) = match rest.iter().position(|&b| b == 0) {
        Some(i) => (&rest[..i], &rest[i + 1..]),
        None => (rest, &[][..]),
    };
    let Ok(old_text) = std::str::from_utf8(old_text) else {
        return;
    };
    let source = SourceText {
        path: "fuzz".into(),
        text: old_text.to_owned(),
        format,
    };
    let Ok(old) = document::parse(&source, ParseLimits::default()) else {
        return;
    };
    let new = match serde_json::from_slice::<Value>(new_json) {
        Ok(v) => v,
        Err(_) => {
            let mut v = old.clone();
            if let Some(map) = v.as_object_mut() {
                map.insert("added".into(), Value::from(new_json.len()));
            }
            v
        }
    };
    if let Ok(text) = splice(format, old_text, &old, &new) {
        let back = SourceText {
            path: "fuzz".into(),
            text,
            format,
        };
        let _ = document::parse(&back, ParseLimits::default());
    }
});
