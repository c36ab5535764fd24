//! `get`, `set` and `rm`: one value of one document, read through the
//! store, changed under the lock and written through the store's one write
//! path.

use json_patch::Patch;
use serde_json::{Number, Value};
use statewright_spec::number::{self, Decimal};

use crate::diff::{DocDiffOptions, diff_documents};
use crate::ops::{OpsError, Result, describe, parse_pointer};
use crate::store::{LockOptions, Store, WriteContext, WriteOutcome};

/// The value at `pointer` in document `rel`; `None` when nothing is there.
pub fn get(store: &Store, rel: &str, pointer: &str) -> Result<Option<Value>> {
    parse_pointer(pointer)?;
    let doc = store.read(rel)?;
    Ok(doc.value.pointer(pointer).cloned())
}

/// Reads `set`'s VALUE: as a string with `string`; otherwise as JSON,
/// read as strictly as documents are (duplicate keys, depth, numbers kept
/// exact), falling back to a string unless `json` asks for JSON or the
/// text is a number (`1e400` is refused, not stored as text).
pub fn parse_value(text: &str, string: bool, json: bool) -> Result<Value> {
    use statewright_spec::document::{self, Format, ParseError, ParseLimits, SourceText};
    if string {
        return Ok(Value::String(text.to_owned()));
    }
    let source = SourceText {
        path: "VALUE".into(),
        text: text.to_owned(),
        format: Format::Json,
    };
    match document::parse(&source, ParseLimits::default()) {
        Ok(v) => Ok(v),
        Err(e) if json || number::is_number_syntax(text.trim()) => {
            let at = e.position().unwrap_or(source.position_of(0));
            let message = match e {
                ParseError::Syntax { message, .. } => message,
                other => other.to_string(),
            };
            Err(OpsError::BadJson {
                line: at.line,
                column: at.column,
                message,
            })
        }
        Err(_) => Ok(Value::String(text.to_owned())),
    }
}

/// What `set` does at the pointer.
#[derive(Debug, Clone, PartialEq)]
pub enum Change {
    /// Put this value there.
    Value(Value),
    /// Add this number to the number there (a missing member counts as 0).
    Increment(Number),
    /// Add this item at the end of the array there (a missing member
    /// counts as an empty array).
    Append(Value),
}

/// A `set`.
#[derive(Debug, Clone)]
pub struct SetRequest<'a> {
    /// The document, relative to the state dir.
    pub rel: &'a str,
    /// Where.
    pub pointer: &'a str,
    /// What.
    pub change: Change,
    /// Create missing parent objects (`--parents`); otherwise a missing
    /// parent is an error naming it.
    pub parents: bool,
    /// Check everything, write nothing.
    pub dry_run: bool,
}

/// What a `set` or `rm` did (or, in a dry run, would do).
#[derive(Debug, Clone)]
pub struct Edit {
    /// The document, relative to the state dir.
    pub file: String,
    /// The pointer.
    pub pointer: String,
    /// The value there before (`None`: absent).
    pub before: Option<Value>,
    /// The value there after (`None`: removed).
    pub after: Option<Value>,
    /// The change as an RFC 6902 JSON Patch (the store's envelope stamp
    /// left out).
    pub patch: Patch,
    /// The write (serial, checksum); in a dry run, the write that would be
    /// made.
    pub outcome: WriteOutcome,
    /// Whether it was written (false in a dry run).
    pub written: bool,
}

/// Sets one value under the lock: read, change, validate, write (or, with
/// `dry_run`, run every check of the write and stop). `--increment` is an
/// atomic read-modify-write: no update of a concurrent writer is lost.
pub fn set(
    store: &Store,
    lock: &LockOptions,
    ctx: &WriteContext,
    req: &SetRequest<'_>,
) -> Result<Edit> {
    let tokens = parse_pointer(req.pointer)?;
    refuse_envelope(store, req.rel, req.pointer, false)?;
    let guard = store.lock(lock)?;
    let current = store.read_locked(&guard, req.rel)?.value;
    let before = current.pointer(req.pointer).cloned();
    let fail = |message: String| OpsError::CannotSet {
        file: req.rel.to_owned(),
        pointer: req.pointer.to_owned(),
        message,
    };
    let value = match &req.change {
        Change::Value(v) => v.clone(),
        Change::Increment(by) => increment(req, before.as_ref(), by)?,
        Change::Append(item) => appended(req, before.as_ref(), item)?,
    };
    let mut next = current.clone();
    put(&mut next, &tokens, value.clone(), req.parents).map_err(fail)?;
    let patch = diff_documents(&current, &next, &DocDiffOptions::new());
    let (outcome, written) = if req.dry_run {
        (store.dry_run_write(&guard, req.rel, next, ctx)?, false)
    } else {
        (store.write(&guard, req.rel, next, ctx)?, true)
    };
    Ok(Edit {
        file: req.rel.to_owned(),
        pointer: req.pointer.to_owned(),
        before,
        after: Some(value),
        patch,
        outcome,
        written,
    })
}

/// Appends `item` to the array at `req.pointer` of document `req.rel`
/// under the lock: read, append, validate (the schema checks the item as
/// it checks the whole document), write, audit. On a database backend the
/// read and the commit run on the session holding the namespace's lock,
/// so concurrent appends are never lost.
pub fn append(
    store: &Store,
    lock: &LockOptions,
    ctx: &WriteContext,
    req: &SetRequest<'_>,
) -> Result<Edit> {
    debug_assert!(matches!(req.change, Change::Append(_)));
    set(store, lock, ctx, req)
}

fn appended(req: &SetRequest<'_>, current: Option<&Value>, item: &Value) -> Result<Value> {
    match current {
        None => Ok(Value::Array(vec![item.clone()])),
        Some(Value::Array(items)) => {
            let mut items = items.clone();
            items.push(item.clone());
            Ok(Value::Array(items))
        }
        Some(other) => Err(OpsError::CannotSet {
            file: req.rel.to_owned(),
            pointer: req.pointer.to_owned(),
            message: format!(
                "it holds {}, not an array; append adds to arrays only (use `set` to replace it)",
                crate::ops::describe(other)
            ),
        }),
    }
}

fn increment(req: &SetRequest<'_>, current: Option<&Value>, by: &Number) -> Result<Value> {
    let zero = Value::from(0);
    let n = match current.unwrap_or(&zero) {
        Value::Number(n) => n,
        other => {
            return Err(OpsError::NotANumber {
                file: req.rel.to_owned(),
                pointer: req.pointer.to_owned(),
                found: other.to_string(),
            });
        }
    };
    let overflow = || OpsError::Overflow {
        file: req.rel.to_owned(),
        pointer: req.pointer.to_owned(),
        by: by.to_string(),
    };
    if let Some(sum) = n
        .as_i64()
        .zip(by.as_i64())
        .and_then(|(a, b)| a.checked_add(b))
    {
        return Ok(Value::from(sum));
    }
    // Exact decimal arithmetic: big integers and decimals gain exactly
    // `by`, never a rounding of it.
    let sum = Decimal::of(n)
        .zip(Decimal::of(by))
        .and_then(|(a, b)| a.checked_add(&b))
        .and_then(|sum| sum.to_json().parse::<Number>().ok())
        .filter(number::in_range)
        .ok_or_else(overflow)?;
    Ok(Value::Number(sum))
}

/// Puts `value` at `tokens`. Missing parents are created as objects only
/// when `parents`; array indices must exist, except `-` or the length,
/// which append.
fn put(
    root: &mut Value,
    tokens: &[String],
    value: Value,
    parents: bool,
) -> std::result::Result<(), String> {
    let Some((last, path)) = tokens.split_last() else {
        *root = value;
        return Ok(());
    };
    let mut cur = root;
    let mut at = String::new();
    for t in path {
        at = statewright_spec::pointer::join(&at, t);
        cur = match cur {
            Value::Object(m) => {
                if !m.contains_key(t) && !parents {
                    return Err(format!(
                        "its parent `{at}` does not exist; pass --parents to create missing objects"
                    ));
                }
                m.entry(t.clone())
                    .or_insert_with(|| Value::Object(Default::default()))
            }
            Value::Array(a) => {
                let len = a.len();
                index(t)
                    .and_then(|i| a.get_mut(i))
                    .ok_or_else(|| out_of_range(&at, t, len))?
            }
            other => return Err(not_container(&at, other)),
        };
    }
    match cur {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            Ok(())
        }
        Value::Array(a) => {
            let len = a.len();
            match index(last) {
                Some(i) if i < len => a[i] = value,
                _ if last == "-" || index(last) == Some(len) => a.push(value),
                _ => {
                    let at = statewright_spec::pointer::join(&at, last);
                    return Err(out_of_range(&at, last, len));
                }
            }
            Ok(())
        }
        other => Err(not_container(&at, other)),
    }
}

fn index(token: &str) -> Option<usize> {
    // RFC 6901: no leading zeros, digits only.
    let ok = !token.is_empty()
        && token.bytes().all(|b| b.is_ascii_digit())
        && (token == "0" || !token.starts_with('0'));
    ok.then(|| token.parse().ok()).flatten()
}

fn out_of_range(at: &str, token: &str, len: usize) -> String {
    format!("`{at}`: `{token}` is not an index of the array there ({len} items; use `-` to append)")
}

fn not_container(at: &str, v: &Value) -> String {
    let at = if at.is_empty() { "the document" } else { at };
    format!("`{at}` is {}, not an object or array", describe(v))
}

/// Refuses a pointer at (or inside) an envelope field the store stamps:
/// serial, lineage, checksum, generated_at, origin; for removals also the
/// schema version (the store would put it straight back).
fn refuse_envelope(store: &Store, rel: &str, pointer: &str, removing: bool) -> Result<()> {
    let Some(kind) = store.catalog().kind_for(std::path::Path::new(rel)) else {
        return Ok(());
    };
    let f = &kind.spec.fields;
    let mut stamped = vec![
        ("serial", &f.serial),
        ("lineage", &f.lineage),
        ("checksum", &f.checksum),
        ("generated_at", &f.generated_at),
        ("origin", &f.origin),
    ];
    if removing {
        stamped.push(("version", &f.version));
    }
    let under = |field: &str| pointer == field || pointer.starts_with(&format!("{field}/"));
    match stamped.into_iter().find(|(_, p)| under(p)) {
        Some((field, _)) => Err(OpsError::EnvelopeField {
            file: rel.to_owned(),
            pointer: pointer.to_owned(),
            field,
            verb: if removing { "removed" } else { "set" },
        }),
        None => Ok(()),
    }
}

/// What `rm` found.
#[derive(Debug, Clone)]
pub enum RmOutcome {
    /// Nothing at the pointer; nothing written.
    NotFound,
    /// Removed (or, in a dry run, would be).
    Removed(Box<Edit>),
}

/// Removes the value at `pointer` from `rel` under the lock, through the
/// write path: a removal the schema forbids (a required member) is refused
/// with the schema's message. With `dry_run`, checks and writes nothing.
pub fn rm(
    store: &Store,
    lock: &LockOptions,
    ctx: &WriteContext,
    rel: &str,
    pointer: &str,
    dry_run: bool,
) -> Result<RmOutcome> {
    let tokens = parse_pointer(pointer)?;
    if tokens.is_empty() {
        return Err(OpsError::RootRemoval {
            file: rel.to_owned(),
        });
    }
    refuse_envelope(store, rel, pointer, true)?;
    let guard = store.lock(lock)?;
    let current = store.read_locked(&guard, rel)?.value;
    let mut next = current.clone();
    let Some(before) = statewright_spec::pointer::remove(&mut next, pointer) else {
        return Ok(RmOutcome::NotFound);
    };
    let patch = diff_documents(&current, &next, &DocDiffOptions::new());
    let (outcome, written) = if dry_run {
        (store.dry_run_write(&guard, rel, next, ctx)?, false)
    } else {
        (store.write(&guard, rel, next, ctx)?, true)
    };
    Ok(RmOutcome::Removed(Box::new(Edit {
        file: rel.to_owned(),
        pointer: pointer.to_owned(),
        before: Some(before),
        after: None,
        patch,
        outcome,
        written,
    })))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn put_needs_parents_unless_asked() {
        let mut v = json!({"a": {"list": [1, 2]}});
        let t = |p: &str| statewright_spec::pointer::tokens(p);
        let e = put(&mut v, &t("/b/c"), json!(1), false).unwrap_err();
        assert!(e.contains("parent `/b` does not exist"), "{e}");
        put(&mut v, &t("/b/c"), json!(1), true).unwrap();
        put(&mut v, &t("/a/list/-"), json!(3), false).unwrap();
        put(&mut v, &t("/a/list/0"), json!(0), false).unwrap();
        let e = put(&mut v, &t("/a/list/9"), json!(0), false).unwrap_err();
        assert!(e.contains("3 items"), "{e}");
        let e = put(&mut v, &t("/b/c/d"), json!(0), true).unwrap_err();
        assert!(e.contains("`/b/c` is a number"), "{e}");
        assert_eq!(v, json!({"a": {"list": [0, 2, 3]}, "b": {"c": 1}}));
    }
}
