//! The readers of the files around the documents, through the public
//! functions that parse them now: the journal (`journal::find`), the audit
//! log (`audit::verify_audit`, `audit::audit_index`) and the lock holder
//! (`HolderInfo`). The first byte picks the file.
#![no_main]

use std::path::Path;
use std::sync::OnceLock;

use libfuzzer_sys::fuzz_target;
use statewright::store::{HolderInfo, RealFs, audit, journal};

/// One scratch folder for the whole run (in memory when `/dev/shm` exists):
/// a fresh temporary folder per input cost more than the readers.
fn scratch() -> &'static Path {
    static DIR: OnceLock<tempfile::TempDir> = OnceLock::new();
    DIR.get_or_init(|| {
        let shm = Path::new("/dev/shm");
        if shm.is_dir() {
            tempfile::tempdir_in(shm).unwrap()
        } else {
            tempfile::tempdir().unwrap()
        }
    })
    .path()
}

fuzz_target!(|data: &[u8]| {
    let Some((&pick, rest)) = data.split_first() else {
        return;
    };
    match pick % 3 {
        0 => {
            let _ = serde_json::from_slice::<HolderInfo>(rest);
        }
        1 => {
            let dir = scratch();
            let _ = std::fs::remove_file(dir.join("audit.log"));
            std::fs::write(dir.join(".journal"), rest).unwrap();
            let _ = journal::find(&RealFs, dir);
        }
        _ => {
            let dir = scratch();
            let _ = std::fs::remove_file(dir.join(".journal"));
            std::fs::write(dir.join("audit.log"), rest).unwrap();
            let _ = audit::verify_audit(&RealFs, dir);
            let _ = audit::audit_index(&RealFs, dir);
        }
    }
});
