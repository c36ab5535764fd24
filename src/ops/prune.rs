//! `prune`: entries the project's rules (`[[kinds.<kind>.prune]]`) call
//! stale. Status-aware path rules flag an entry only when a path its
//! status requires is missing on disk (after upload the staging dir may be
//! gone, after completion every path may be); age rules flag entries whose
//! timestamp is older than a number of days. A dry run lists each entry
//! and why; applying removes them all in one store transaction.

use std::collections::BTreeMap;
use std::path::Path;

use serde::Serialize;
use serde_json::Value;
use statewright_spec::{Catalog, PruneRule};

use crate::ops::{OpsError, Result, document_files, parse_pointer};
use crate::store::{LockOptions, Store, WriteContext, WriteOutcome};

/// What to prune.
#[derive(Debug, Clone)]
pub struct PruneRequest<'a> {
    /// One document (relative to the state dir), or every document whose
    /// kind declares rules.
    pub file: Option<&'a str>,
    /// Only this rule.
    pub rule: Option<&'a str>,
    /// The time age rules measure from.
    pub now: jiff::Timestamp,
    /// Remove the stale entries (otherwise: a dry run, which still runs
    /// every check of the write).
    pub apply: bool,
}

/// One entry a rule calls stale.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Stale {
    /// The document.
    pub file: String,
    /// The rule.
    pub rule: String,
    /// The entry's pointer.
    pub pointer: String,
    /// The entry's key (member name or index).
    pub key: String,
    /// Why it is stale.
    pub reason: String,
}

/// What a prune found and did.
#[derive(Debug, Clone, Default)]
pub struct PruneReport {
    /// The documents looked at.
    pub documents: Vec<String>,
    /// The stale entries, per document in document order (an entry two
    /// rules flag is listed twice, removed once).
    pub stale: Vec<Stale>,
    /// Entries kept because a rule could not judge them (no timestamp, a
    /// timestamp that does not parse).
    pub notes: Vec<String>,
    /// The writes (made with `apply`, or that would be made).
    pub writes: Vec<WriteOutcome>,
    /// Whether the entries were removed.
    pub applied: bool,
}

/// Finds stale entries under the lock and, with `apply`, removes them in
/// one transaction through the store (validated, backed up, audited).
pub fn prune(
    store: &Store,
    catalog: &Catalog,
    lock: &LockOptions,
    ctx: &WriteContext,
    req: &PruneRequest<'_>,
) -> Result<PruneReport> {
    let targets = targets(store, catalog, req)?;
    let guard = store.lock(lock)?;
    let mut report = PruneReport::default();
    let mut tx = store.transaction(&guard);
    for (file, rules) in &targets {
        let mut doc = store.read_locked(&guard, file)?.value;
        report.documents.push(file.clone());
        let mut remove = Vec::new();
        for rule in rules {
            for s in stale_entries(store.dir(), file, &doc, rule, req.now, &mut report.notes) {
                if !remove.contains(&s.pointer) {
                    remove.push(s.pointer.clone());
                }
                report.stale.push(s);
            }
        }
        if remove.is_empty() {
            continue;
        }
        // Later array indices first, so earlier ones stay right.
        remove.sort_by_key(|p| std::cmp::Reverse(array_index(p)));
        for p in &remove {
            statewright_spec::pointer::remove(&mut doc, p);
        }
        tx.put(file, doc);
    }
    report.writes = if req.apply {
        tx.commit(ctx)?
    } else {
        tx.dry_run(ctx)?
    };
    report.applied = req.apply && !report.writes.is_empty();
    Ok(report)
}

fn array_index(pointer: &str) -> Option<usize> {
    pointer.rsplit('/').next().and_then(|t| t.parse().ok())
}

/// The documents in scope, each with the rules that apply.
fn targets<'c>(
    store: &Store,
    catalog: &'c Catalog,
    req: &PruneRequest<'_>,
) -> Result<BTreeMap<String, Vec<&'c PruneRule>>> {
    let files = match req.file {
        Some(f) => vec![f.to_owned()],
        None => document_files(store)?,
    };
    let mut out = BTreeMap::new();
    let mut known = Vec::new();
    for file in files {
        let Some(kind) = catalog.kind_for(Path::new(&file)) else {
            if req.file.is_some() {
                return Err(crate::store::StoreError::UnknownKind { path: file }.into());
            }
            continue;
        };
        if kind.spec.prune.is_empty() {
            if req.file.is_some() {
                return Err(OpsError::NoPruneRules {
                    file: Some(file),
                    kind: kind.name.clone(),
                });
            }
            continue;
        }
        for r in &kind.spec.prune {
            parse_pointer(&r.each)?;
            if !known.contains(&r.name) {
                known.push(r.name.clone());
            }
        }
        let rules: Vec<&PruneRule> = kind
            .spec
            .prune
            .iter()
            .filter(|r| req.rule.is_none_or(|want| want == r.name))
            .collect();
        if !rules.is_empty() {
            out.insert(file, rules);
        }
    }
    if let Some(rule) = req.rule
        && !known.iter().any(|k| k == rule)
    {
        return Err(OpsError::UnknownRule {
            rule: rule.to_owned(),
            file: req.file.map(str::to_owned),
            known,
        });
    }
    if known.is_empty() {
        return Err(OpsError::NoPruneRules {
            file: None,
            kind: "<kind>".into(),
        });
    }
    Ok(out)
}

fn stale_entries(
    dir: &Path,
    file: &str,
    doc: &Value,
    rule: &PruneRule,
    now: jiff::Timestamp,
    notes: &mut Vec<String>,
) -> Vec<Stale> {
    let entries: Vec<(String, &Value)> = match doc.pointer(&rule.each) {
        Some(Value::Object(m)) => m.iter().map(|(k, v)| (k.clone(), v)).collect(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (i.to_string(), v))
            .collect(),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for (key, entry) in entries {
        let pointer = statewright_spec::pointer::join(&rule.each, &key);
        let mut reasons = missing_paths(dir, entry, rule);
        if let Some(age) = &rule.older_than {
            match too_old(entry, &age.field, age.days, now) {
                Ok(Some(r)) => reasons.push(r),
                Ok(None) => {}
                Err(why) => notes.push(format!("{file}: kept {pointer} ({}): {why}", rule.name)),
            }
        }
        out.extend(reasons.into_iter().map(|reason| Stale {
            file: file.to_owned(),
            rule: rule.name.clone(),
            pointer: pointer.clone(),
            key: key.clone(),
            reason,
        }));
    }
    out
}

/// The paths an entry's status requires that do not exist. An entry
/// without a status, or whose status lists no paths, requires none; a
/// required member that is absent or null (a legacy entry) is not judged.
fn missing_paths(dir: &Path, entry: &Value, rule: &PruneRule) -> Vec<String> {
    let status = rule
        .status
        .as_ref()
        .and_then(|p| entry.pointer(p))
        .and_then(Value::as_str);
    let Some(required) = status.and_then(|s| rule.paths.get(s)) else {
        return Vec::new();
    };
    let status = status.unwrap_or_default();
    required
        .iter()
        .filter_map(|p| {
            let path = entry.pointer(p)?.as_str()?;
            let exists = dir.join(path).exists();
            (!exists).then(|| format!("status {status} requires {p}, but {path} does not exist"))
        })
        .collect()
}

fn too_old(
    entry: &Value,
    field: &str,
    days: u64,
    now: jiff::Timestamp,
) -> std::result::Result<Option<String>, String> {
    let Some(raw) = entry.pointer(field) else {
        return Err(format!("no {field}"));
    };
    let text = raw
        .as_str()
        .ok_or_else(|| format!("{field} is not a string"))?;
    let when: jiff::Timestamp = text
        .parse()
        .map_err(|e| format!("{field} `{text}` is not an RFC 3339 time: {e}"))?;
    let secs = now.duration_since(when).as_secs();
    let stale = secs > (days as i64).saturating_mul(86_400);
    let age = secs / 86_400;
    Ok(stale.then(|| format!("{field} {text} is more than {days} days old ({age} days)")))
}
