//! Bundle import: the bundle reader and its verification (manifest hashes,
//! paths, every document read strictly).
#![no_main]

use libfuzzer_sys::fuzz_target;
use statewright::ops::{Bundle, verify_bundle};

fuzz_target!(|data: &[u8]| {
    if let Ok(bundle) = Bundle::from_slice(data) {
        let _ = verify_bundle(&bundle, "fuzz.bundle.json".as_ref());
    }
});
