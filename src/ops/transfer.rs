//! `state push` / `state pull`: moving every document of one store into
//! another (a state dir into a database namespace and back), as
//! `terraform init -migrate-state` does. It is an [`export`] of the source
//! under its lock followed by an [`import`] into the destination: the
//! bundle's manifest and every document's envelope checksum are verified,
//! the destination's newer copies, other lineages and higher schema
//! versions are refused unless `force`, and all documents are written in
//! one transaction. After the write, every copy kept byte for byte is read
//! back from the destination and compared with the source's sha256.

use std::path::Path;

use sha2::{Digest, Sha256};

use crate::check::hex;
use crate::ops::{Action, ImportReport, ImportRequest, OpsError, Result, export, import};
use crate::store::{LockOptions, Store, WriteContext};

/// What to move, and how.
#[derive(Debug, Clone, Copy)]
pub struct TransferRequest {
    /// Check everything and report what would be written; write nothing.
    pub dry_run: bool,
    /// Replace documents that are newer, of another lineage or at a
    /// higher schema version in the destination.
    pub force: bool,
}

/// Moves every document of `from` into `to` (see the module docs). The
/// source's lock is held for the export; the destination's for the
/// import.
pub fn transfer(
    from: &Store,
    to: &Store,
    lock: &LockOptions,
    ctx: &WriteContext,
    req: TransferRequest,
) -> Result<ImportReport> {
    let bundle = {
        let guard = from.lock(lock)?;
        export(from, from.catalog(), &guard)?
    };
    let source: &Path = from.dir();
    let report = import(
        to,
        lock,
        ctx,
        &ImportRequest {
            bundle: &bundle,
            source,
            dry_run: req.dry_run,
            force: req.force,
        },
    )?;
    if req.dry_run {
        return Ok(report);
    }
    for d in &report.documents {
        if d.action == Action::Unchanged || d.serial_after != d.bundle_serial {
            continue;
        }
        let want = bundle
            .manifest
            .iter()
            .find(|m| m.path == d.file)
            .map(|m| m.sha256.as_str());
        let got = hex(&Sha256::digest(to.read_raw(&d.file)?));
        if want != Some(got.as_str()) {
            return Err(OpsError::BadBundle {
                message: format!(
                    "{} read back from {} has sha256 {got}, not the source's {}",
                    d.file,
                    to.dir().display(),
                    want.unwrap_or("(none)")
                ),
            });
        }
    }
    Ok(report)
}
