//! The project file (`statewright.toml`).
#![no_main]

use libfuzzer_sys::fuzz_target;
use statewright::spec::Project;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        let _ = Project::parse(
            text,
            "statewright.toml".as_ref(),
            "/nonexistent-root".as_ref(),
        );
    }
});
