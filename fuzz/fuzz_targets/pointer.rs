//! JSON pointers: the validating reader, tokens and escaping round trip,
//! and set/remove on a document.
#![no_main]

use libfuzzer_sys::fuzz_target;
use serde_json::json;
use statewright::spec::pointer;

fuzz_target!(|data: &[u8]| {
    let Ok(p) = std::str::from_utf8(data) else {
        return;
    };
    let parsed = statewright::ops::parse_pointer(p);
    let tokens = pointer::tokens(p);
    if parsed.is_ok() {
        let rebuilt = tokens
            .iter()
            .fold(String::new(), |acc, t| pointer::join(&acc, t));
        assert_eq!(rebuilt, p, "tokens and join do not round trip");
    }
    let mut doc = json!({"a": {"b": [1, 2, {"c~/": 3}]}, "": [[]]});
    let _ = pointer::set(&mut doc, p, json!(0));
    let _ = pointer::remove(&mut doc, p);
    let _ = doc.pointer(p);
});
