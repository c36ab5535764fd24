//! Document diff round trip: for two JSON documents (separated by a NUL
//! byte), applying diff(A, B) to A gives B: equal by exact value with the
//! default comparison, and byte for byte when numbers compare lexically.
#![no_main]

use libfuzzer_sys::fuzz_target;
use statewright::diff::{DocDiffOptions, NumberComparison, diff_documents, render_patch};
use statewright::spec::number::values_equal;

fuzz_target!(|data: &[u8]| {
    let Some((a, b)) = statewright_fuzz::read_pair(data) else {
        return;
    };
    let patch = diff_documents(&a, &b, &DocDiffOptions::new());
    let mut doc = a.clone();
    json_patch::patch(&mut doc, &patch.0).expect("the diff's patch applies");
    assert!(values_equal(&doc, &b), "patch(A, diff(A, B)) != B");
    let _ = render_patch(&a, &patch);
    let lexical = DocDiffOptions::new().with_numbers(NumberComparison::Lexical);
    let patch = diff_documents(&a, &b, &lexical);
    let mut doc = a.clone();
    json_patch::patch(&mut doc, &patch.0).expect("the lexical patch applies");
    assert_eq!(doc, b, "lexical patch(A, diff(A, B)) != B");
});
