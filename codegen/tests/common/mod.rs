//! What the tests that compile generated code in scratch crates share.

use std::collections::BTreeMap;

/// The crates of a `cargo --message-format=short --keep-going` run that
/// failed, with their first error line, from its standard error.
pub fn failing_crates(stderr: &str) -> BTreeMap<String, String> {
    let mut failing: BTreeMap<String, String> = BTreeMap::new();
    for line in stderr.lines() {
        if let Some((module, _)) = line.split_once("/src/lib.rs:")
            && line.contains(": error")
        {
            failing
                .entry(module.trim().to_owned())
                .or_insert_with(|| line.to_owned());
        } else if let Some(rest) = line.strip_prefix("error: could not compile `")
            && let Some((module, _)) = rest.split_once('`')
        {
            failing
                .entry(module.to_owned())
                .or_insert_with(|| line.to_owned());
        }
    }
    failing
}
