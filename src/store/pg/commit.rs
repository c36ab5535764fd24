//! The statements of a commit: a document's write (the version replaced
//! kept, old versions dropped, the document upserted, in one
//! data-modifying `WITH`), the audit lines sealed and chained after the
//! namespace's last line, and both in one statement for a one-document
//! commit.

use postgres::types::ToSql;

use crate::store::audit::{self, AuditEntry, GENESIS};
use crate::store::backend::Staged;

/// The part of a document's write statement before its upsert: the
/// version replaced kept, versions past the retention count dropped.
/// Data-modifying `WITH` parts all see the tables as they were before the
/// statement.
pub(super) const KEEP_AND_PRUNE: &str = "kept AS (
       INSERT INTO statewright_versions (namespace, path, serial, checksum, body, time)
       SELECT namespace, path, $9, $10, body, $11 FROM statewright_documents
       WHERE namespace = $1 AND path = $2 AND $12
       ON CONFLICT DO NOTHING RETURNING 1),
     pruned AS (
       DELETE FROM statewright_versions WHERE namespace = $1 AND path = $2 AND serial NOT IN
         (SELECT serial FROM statewright_versions WHERE namespace = $1 AND path = $2
          ORDER BY serial DESC LIMIT $13) RETURNING 1)";

/// The upsert that ends a document's write statement.
pub(super) const UPSERT: &str = "INSERT INTO statewright_documents (namespace, path, kind, version, serial, lineage, checksum, body)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
     ON CONFLICT (namespace, path) DO UPDATE SET kind = EXCLUDED.kind,
       version = EXCLUDED.version, serial = EXCLUDED.serial, lineage = EXCLUDED.lineage,
       checksum = EXCLUDED.checksum, body = EXCLUDED.body, written_at = now()";

/// The audit part of a one-statement commit: `$14`… are [`AuditRows`].
pub(super) const AUDIT_INSERT: &str = "audit AS (
       INSERT INTO statewright_audit (namespace, seq, tx, file, serial, line)
       SELECT $1, * FROM unnest($14::bigint[], $15::text[], $16::text[], $17::bigint[], $18::text[])
       RETURNING 1)";

/// The parameters `$1`…`$13` of a document's write.
pub(super) struct DocParams {
    ns: String,
    rel: String,
    kind: String,
    version: i32,
    serial: i64,
    lineage: String,
    checksum: String,
    body: String,
    prev_serial: i64,
    prev_checksum: String,
    time: String,
    keeps: bool,
    old: i64,
}

impl DocParams {
    pub(super) fn of(ns: &str, s: &Staged, keep: usize) -> DocParams {
        let (keeps, prev_serial, prev_checksum) = match &s.previous {
            Some(p) if keep > 0 => (true, p.serial as i64, p.checksum.clone()),
            _ => (false, 0, String::new()),
        };
        DocParams {
            ns: ns.to_owned(),
            rel: s.rel.clone(),
            kind: s.kind.clone(),
            version: s.audit.to_version.unwrap_or(0) as i32,
            serial: s.audit.serial as i64,
            lineage: s.lineage.clone(),
            checksum: s.audit.after.clone().unwrap_or_default(),
            body: String::from_utf8_lossy(&s.bytes).into_owned(),
            prev_serial,
            prev_checksum,
            time: jiff::Timestamp::now().to_string(),
            keeps,
            // The row kept now counts towards `keep`.
            old: keep.saturating_sub(usize::from(keeps)) as i64,
        }
    }

    pub(super) fn params(&self) -> Vec<&(dyn ToSql + Sync)> {
        vec![
            &self.ns,
            &self.rel,
            &self.kind,
            &self.version,
            &self.serial,
            &self.lineage,
            &self.checksum,
            &self.body,
            &self.prev_serial,
            &self.prev_checksum,
            &self.time,
            &self.keeps,
            &self.old,
        ]
    }
}

/// Audit lines sealed and chained after a tail, as insert parameters.
pub(super) struct AuditRows {
    seqs: Vec<i64>,
    txs: Vec<String>,
    files: Vec<String>,
    serials: Vec<i64>,
    lines: Vec<String>,
    /// The tail after them.
    pub(super) tail: (i64, String),
}

impl AuditRows {
    pub(super) fn seal(tail: (i64, String), mut entries: Vec<AuditEntry>) -> AuditRows {
        let (seq, prev) = tail;
        let (_, last) = audit::seal_all(&mut entries, &prev);
        AuditRows {
            seqs: (1..=entries.len() as i64).map(|i| seq + i).collect(),
            txs: entries.iter().map(|e| e.tx.clone()).collect(),
            files: entries.iter().map(|e| e.file.clone()).collect(),
            serials: entries.iter().map(|e| e.serial as i64).collect(),
            lines: entries
                .iter()
                .map(|e| serde_json::to_string(e).unwrap_or_default())
                .collect(),
            tail: (seq + entries.len() as i64, last),
        }
    }

    pub(super) fn params(&self) -> [&(dyn ToSql + Sync); 5] {
        [
            &self.seqs,
            &self.txs,
            &self.files,
            &self.serials,
            &self.lines,
        ]
    }
}

/// Writes `batch` in the open transaction `tx`, one statement per
/// document.
pub(super) fn write_batch(
    tx: &mut postgres::Transaction<'_>,
    ns: &str,
    batch: &[Staged],
    keep: usize,
) -> std::result::Result<(), postgres::Error> {
    let sql = format!("WITH {KEEP_AND_PRUNE} {UPSERT}");
    for s in batch {
        tx.execute(sql.as_str(), &DocParams::of(ns, s, keep).params())?;
    }
    Ok(())
}

/// The namespace's last audit line: its sequence number and hash (0 and
/// the genesis hash when it has none).
pub(super) fn audit_tail(
    client: &mut impl postgres::GenericClient,
    ns: &str,
) -> std::result::Result<(i64, String), postgres::Error> {
    let last = client.query_opt(
        "SELECT seq, line FROM statewright_audit WHERE namespace = $1 ORDER BY seq DESC LIMIT 1",
        &[&ns],
    )?;
    Ok(match last {
        Some(r) => (r.get(0), hash_of(&r.get::<_, String>(1))),
        None => (0, GENESIS.to_owned()),
    })
}

pub(super) fn hash_of(line: &str) -> String {
    serde_json::from_str::<AuditEntry>(line)
        .map(|e| e.hash)
        .unwrap_or_default()
}

/// Appends `entries`, sealed and chained after `tail` (the namespace's
/// last line), in the open transaction `tx`, with one statement. The new
/// tail.
pub(super) fn append_lines(
    tx: &mut postgres::Transaction<'_>,
    ns: &str,
    tail: (i64, String),
    entries: Vec<AuditEntry>,
) -> std::result::Result<(i64, String), postgres::Error> {
    if entries.is_empty() {
        return Ok(tail);
    }
    let rows = AuditRows::seal(tail, entries);
    let mut params: Vec<&(dyn ToSql + Sync)> = vec![&ns];
    params.extend(rows.params());
    tx.execute(
        "INSERT INTO statewright_audit (namespace, seq, tx, file, serial, line)
         SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::text[])",
        &params,
    )?;
    Ok(rows.tail)
}
