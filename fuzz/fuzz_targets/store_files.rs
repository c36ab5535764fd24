//! The readers of the files around the documents, through the public
//! functions that parse them now: the journal (`journal::find`), the audit
//! log (`audit::verify_audit`, `audit::audit_index`) and the lock holder
//! (`HolderInfo`). The first byte picks the file.
#![no_main]

use libfuzzer_sys::fuzz_target;
use statewright::store::{HolderInfo, RealFs, audit, journal};

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    match pick % 3 {
        0 => {
            let _ = serde_json::from_slice::<HolderInfo>(rest);
        }
        1 => {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join(".journal"), rest).unwrap();
            let _ = journal::find(&RealFs, dir.path());
        }
        _ => {
            let dir = tempfile::tempdir().unwrap();
            std::fs::write(dir.path().join("audit.log"), rest).unwrap();
            let _ = audit::verify_audit(&RealFs, dir.path());
            let _ = audit::audit_index(&RealFs, dir.path());
        }
    }
});
