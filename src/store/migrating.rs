//! The store as the migrator's writer: every document a `migrate` run
//! changes is written in one transaction under the lock the run holds
//! (journal, backups of the replaced versions, audit lines), and the state
//! dir's documents are listed for a run over all of them.

use std::path::Path;

use crate::migrate::{StateWriter, WriteBatch};
use crate::store::Store;
use crate::store::error::{Result, StoreError};
use crate::store::lock::LockGuard;
use crate::store::write::{Transaction, WriteContext, WriteOutcome};

/// Writes a migration batch through the store: one transaction per batch,
/// adopted (unstamped) documents accepted as the versions replaced.
pub struct StoreWriter<'a> {
    store: &'a Store,
    guard: &'a LockGuard,
    ctx: WriteContext,
    /// What each write did, once the batch is committed.
    pub outcomes: Vec<WriteOutcome>,
}

impl std::fmt::Debug for StoreWriter<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreWriter")
            .field("store", &self.store)
            .field("outcomes", &self.outcomes)
            .finish_non_exhaustive()
    }
}

impl<'a> StoreWriter<'a> {
    /// A writer for a run holding `guard`, writing as `ctx`.
    pub fn new(store: &'a Store, guard: &'a LockGuard, ctx: WriteContext) -> Self {
        StoreWriter {
            store,
            guard,
            ctx,
            outcomes: Vec::new(),
        }
    }

    /// The batch's documents in one transaction, adopted (unstamped)
    /// documents accepted as the versions replaced.
    fn staged(&self, batch: &WriteBatch) -> Transaction<'a> {
        let mut tx = self.store.transaction(self.guard);
        tx.accept_unstamped(true);
        for (path, value) in &batch.documents {
            tx.put(&rel_string(path), value.clone());
        }
        tx
    }

    /// Lets the batch lower documents' versions (a downgrade the run asked
    /// for with an explicit target): the store's downgrade check is
    /// overridden for this writer's transaction.
    pub fn allow_downgrade(mut self, yes: bool) -> Self {
        self.ctx.force |= yes;
        self
    }
}

impl StateWriter for StoreWriter<'_> {
    fn write_all(
        &mut self,
        batch: &WriteBatch,
    ) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
        if batch.backup_first && self.store.opts.backups == 0 {
            return Err(Box::new(StoreError::Encode {
                path: self.store.dir.clone(),
                message: "a lossy downgrade needs a backup of each document first, but the \
                          project keeps none (backups = 0); set backups = 1 or more in \
                          statewright.toml"
                    .into(),
            }));
        }
        self.outcomes = self.staged(batch).commit(&self.ctx)?;
        Ok(())
    }

    fn check_all(
        &mut self,
        batch: &WriteBatch,
    ) -> std::result::Result<(), Box<dyn std::error::Error + Send + Sync>> {
        self.outcomes = self.staged(batch).dry_run(&self.ctx)?;
        Ok(())
    }
}

fn rel_string(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

impl Store {
    /// Every document in the state dir whose path a kind matches, relative
    /// to the state dir with `/` separators, sorted. The store's own files
    /// (lock, journal, backups, audit log) and temp files are skipped.
    pub fn document_paths(&self) -> Result<Vec<String>> {
        let listing = self.listing(false)?;
        let mut out: Vec<String> = listing
            .files
            .into_iter()
            .chain(listing.special.into_iter().map(|(rel, _)| rel))
            .filter(|rel| self.catalog.kind_for(Path::new(rel)).is_some())
            .collect();
        out.sort();
        Ok(out)
    }
}
