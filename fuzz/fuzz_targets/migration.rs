//! Migration files (YAML, and JSON when the first byte is odd), through the
//! strict reader, the typed file, its checks and its inverse.
#![no_main]

use libfuzzer_sys::fuzz_target;
use statewright::spec::migration::parse_migration;

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    let name = if pick % 2 == 1 {
        "0001_fuzz.json"
    } else {
        "0001_fuzz.yaml"
    };
    if let Ok(m) = parse_migration(name.as_ref(), rest.to_vec()) {
        let _ = m.round_trips();
    }
});
