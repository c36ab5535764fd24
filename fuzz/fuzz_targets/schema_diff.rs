//! Schema diff on arbitrary schema pairs: two JSON documents separated by
//! a NUL byte, each read strictly, diffed both ways.
#![no_main]

use libfuzzer_sys::fuzz_target;
use statewright::diff::{SchemaDiffOptions, diff_schemas};

fuzz_target!(|data: &[u8]| {
    let Some((a, b)) = statewright_fuzz::read_pair(data) else {
        return;
    };
    let opts = SchemaDiffOptions::default();
    let _ = diff_schemas(&a, &b, &opts);
    let _ = diff_schemas(&b, &a, &opts);
});
