//! Object keywords: `properties` against `additionalProperties` and
//! `patternProperties`, `propertyNames`, `required`, property counts and
//! the dependency keywords (draft-07 `dependencies` and 2020-12
//! `dependentRequired` / `dependentSchemas`).

use serde_json::{Map, Value};

use super::super::context::Cx;
use super::super::node::{Loc, Node};
use super::super::overlap;
use super::super::types::TypeSet;
use super::{Bound, count_keyword};
use crate::diff::DiffError;

fn object_of<'n>(n: &'n Node, key: &str) -> Option<&'n Map<String, Value>> {
    n.get(key).and_then(Value::as_object)
}

/// The `patternProperties` entries whose pattern matches `name`, or
/// `None` when a pattern is not one the regex engine reads.
fn matching(n: &Node, name: &str) -> Option<Vec<(Value, Loc)>> {
    let mut out = Vec::new();
    if let Some(pp) = object_of(n, "patternProperties") {
        for (pat, schema) in pp {
            if regex::Regex::new(pat).ok()?.is_match(name) {
                out.push((schema.clone(), n.loc_of("patternProperties").join(pat)));
            }
        }
    }
    Some(out)
}

/// The schema a property's value meets: its `properties` entry (else
/// `additionalProperties` when no pattern matches) together with every
/// matching `patternProperties` entry. The location is the first
/// schema's. `None` when a pattern cannot be read.
fn effective(cx: &mut Cx, n: &Node, name: &str) -> Result<Option<(Node, Loc)>, DiffError> {
    let Some(pats) = matching(n, name) else {
        return Ok(None);
    };
    let first = match n.sub2("properties", name) {
        Some(p) => p,
        None if pats.is_empty() => n.sub("additionalProperties"),
        None => pats[0].clone(),
    };
    let loc = first.1.clone();
    let mut node = cx.node(&first.0, first.1)?;
    for p in pats {
        if p.1.ptr != loc.ptr {
            node = cx.merged(&node, p)?;
        }
    }
    Ok(Some((node, loc)))
}

/// The name fails a `propertyNames` schema that has no `$ref`: no valid
/// document carries it.
fn excluded(n: &Node, name: &str) -> bool {
    n.get("propertyNames")
        .filter(|s| !super::super::node::has_ref(s))
        .and_then(|s| jsonschema::validator_for(s).ok())
        .is_some_and(|v| !v.is_valid(&Value::String(name.to_owned())))
}

/// Each property declared on either side, compared with what the other
/// side gives it (its `properties` entry, matching patterns, or
/// `additionalProperties`).
pub(super) fn properties(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let empty = Map::new();
    let pa = object_of(a, "properties").unwrap_or(&empty);
    let pb = object_of(b, "properties").unwrap_or(&empty);
    let names: Vec<String> = pa
        .keys()
        .chain(pb.keys().filter(|k| !pa.contains_key(*k)))
        .cloned()
        .collect();
    for name in &names {
        property(cx, a, b, name)?;
    }
    Ok(())
}

fn property(cx: &mut Cx, a: &Node, b: &Node, name: &str) -> Result<(), DiffError> {
    let (sa, sb) = (a.sub2("properties", name), b.sub2("properties", name));
    let (ea, eb) = (effective(cx, a, name)?, effective(cx, b, name)?);
    let gone = (excluded(a, name), excluded(b, name));
    let verdict = |cx: &mut Cx| -> Result<(bool, bool), DiffError> {
        let v = match (&ea, &eb) {
            (Some(x), Some(y)) => cx.probe(&x.0, &y.0)?,
            _ => (false, false),
        };
        Ok((v.0 || gone.0, v.1 || gone.1))
    };
    let ptr = |e: &Option<(Node, Loc)>| e.as_ref().and_then(|x| x.1.shown());
    match (&sa, &sb) {
        (Some(x), Some(y)) => {
            let schemas = |n: &Node| {
                matching(n, name).map(|v| v.into_iter().map(|x| x.0).collect::<Vec<_>>())
            };
            let same_patterns = schemas(a) == schemas(b);
            if same_patterns {
                cx.compare(x.clone(), y.clone())?;
            } else {
                let v = verdict(cx)?;
                let msg = format!(
                    "property `{name}` also matches `patternProperties` entries that changed"
                );
                cx.emit_for(TypeSet::OBJECT, a, b, "SD209", (ptr(&ea), ptr(&eb)), v, msg);
                cx.about(name);
            }
        }
        (Some(_), None) | (None, Some(_)) => {
            let removed = sa.is_some();
            let v = verdict(cx)?;
            let other = if removed { &eb } else { &ea };
            let closed = other.as_ref().is_some_and(|o| o.0.is_false());
            let by_names = if removed { gone.1 } else { gone.0 };
            let (code, how) = match (removed, closed || by_names) {
                (true, true) => ("SD203", "B rejects it"),
                (true, false) => (
                    "SD204",
                    "B accepts it through additionalProperties/patternProperties",
                ),
                (false, true) => ("SD201", "A rejected it"),
                (false, false) => (
                    "SD202",
                    "A accepted it through additionalProperties/patternProperties",
                ),
            };
            let why = if by_names {
                format!("{how} through propertyNames")
            } else if closed {
                format!("{how} as an unknown property")
            } else {
                how.to_owned()
            };
            let verb = if removed { "removed" } else { "added" };
            let msg = format!("property `{name}` {verb}; {why}");
            cx.emit_for(TypeSet::OBJECT, a, b, code, (ptr(&ea), ptr(&eb)), v, msg);
            cx.about(name);
        }
        (None, None) => {}
    }
    Ok(())
}

/// `additionalProperties`: opened, closed or its schema changed.
pub(super) fn additional_properties(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    const KEY: &str = "additionalProperties";
    if a.get(KEY).is_none() && b.get(KEY).is_none() {
        return Ok(());
    }
    let (x, y) = (a.sub(KEY), b.sub(KEY));
    let nx = cx.node(&x.0, x.1)?;
    let ny = cx.node(&y.0, y.1)?;
    let ptrs = (a.ptr(KEY), b.ptr(KEY));
    match (nx.is_false(), ny.is_false()) {
        (true, true) => {}
        (true, false) => {
            let msg = "properties not declared were rejected; now some are accepted".to_owned();
            cx.emit_for(TypeSet::OBJECT, a, b, "SD205", ptrs, (true, false), msg);
        }
        (false, true) => {
            let msg = "properties not declared were accepted; now rejected".to_owned();
            cx.emit_for(TypeSet::OBJECT, a, b, "SD206", ptrs, (false, true), msg);
        }
        (false, false) => {
            cx.compare_nodes(&nx, &ny)?;
        }
    }
    Ok(())
}

/// The schema names in one signature get on one side: every matching
/// pattern together, or `additionalProperties` when none of them is the
/// side's.
fn region(cx: &mut Cx, n: &Node, pats: &[&String]) -> Result<Node, DiffError> {
    let own: Vec<(Value, Loc)> = pats
        .iter()
        .filter_map(|p| n.sub2("patternProperties", p))
        .collect();
    let Some(first) = own.first() else {
        let (v, l) = n.sub("additionalProperties");
        return cx.node(&v, l);
    };
    let mut node = cx.node(&first.0, first.1.clone())?;
    for p in own.into_iter().skip(1) {
        node = cx.merged(&node, p)?;
    }
    Ok(node)
}

/// `patternProperties`: entries on both sides compared by pattern text;
/// an entry on one side only is compared, for every set of patterns a
/// name can match together (found with automata), with what the other
/// side gives such names. Patterns the automata cannot read make the
/// change undecided (not compatible either way).
pub(super) fn pattern_properties(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    const KEY: &str = "patternProperties";
    let empty = Map::new();
    let pa = object_of(a, KEY).unwrap_or(&empty);
    let pb = object_of(b, KEY).unwrap_or(&empty);
    let pats: Vec<&String> = pa
        .keys()
        .chain(pb.keys().filter(|k| !pa.contains_key(*k)))
        .collect();
    for pat in &pats {
        if let (Some(x), Some(y)) = (a.sub2(KEY, pat), b.sub2(KEY, pat)) {
            cx.compare(x, y)?;
        }
    }
    let one_sided: Vec<usize> = (0..pats.len())
        .filter(|&i| pa.contains_key(pats[i]) != pb.contains_key(pats[i]))
        .collect();
    if one_sided.is_empty() {
        return Ok(());
    }
    let texts: Vec<&str> = pats.iter().map(|p| p.as_str()).collect();
    let sigs = (texts.len() <= 12)
        .then(|| overlap::signatures(&texts))
        .flatten();
    for i in one_sided {
        let pat = pats[i];
        let v = match &sigs {
            None => (false, false),
            Some(sigs) => {
                let mut v = (true, true);
                for sig in sigs.iter().filter(|s| s.contains(&i)) {
                    let set: Vec<&String> = sig.iter().map(|&j| pats[j]).collect();
                    let x = region(cx, a, &set)?;
                    let y = region(cx, b, &set)?;
                    let w = cx.probe(&x, &y)?;
                    v = (v.0 && w.0, v.1 && w.1);
                }
                v
            }
        };
        let removed = pa.contains_key(pat);
        let (code, msg) = if removed {
            (
                "SD208",
                format!(
                    "pattern `{pat}` removed; matching names fall back to other patterns or additionalProperties"
                ),
            )
        } else {
            (
                "SD207",
                format!(
                    "pattern `{pat}` added; matching names were governed by other patterns or additionalProperties"
                ),
            )
        };
        let ptrs = if removed {
            (
                a.sub2(KEY, pat).and_then(|x| x.1.shown()),
                b.ptr("additionalProperties"),
            )
        } else {
            (
                a.ptr("additionalProperties"),
                b.sub2(KEY, pat).and_then(|x| x.1.shown()),
            )
        };
        cx.emit_for(TypeSet::OBJECT, a, b, code, ptrs, v, msg);
    }
    Ok(())
}

/// `propertyNames`: compared as a schema.
pub(super) fn property_names(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    if a.get("propertyNames").is_some() || b.get("propertyNames").is_some() {
        cx.compare(a.sub("propertyNames"), b.sub("propertyNames"))?;
    }
    Ok(())
}

fn names(n: &Node, key: &str) -> Vec<String> {
    n.get(key)
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

/// `required`: each name added or removed.
pub(super) fn required(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let (ra, rb) = (names(a, "required"), names(b, "required"));
    let ptrs = (a.ptr("required"), b.ptr("required"));
    for name in rb.iter().filter(|n| !ra.contains(n)) {
        let default = b
            .get("properties")
            .and_then(|p| p.get(name))
            .and_then(|p| p.get("default"));
        let (code, msg) = match default {
            Some(d) => ("SD212", format!("`{name}` is now required (default {d})")),
            None => ("SD211", format!("`{name}` is now required")),
        };
        cx.emit_for(
            TypeSet::OBJECT,
            a,
            b,
            code,
            ptrs.clone(),
            (false, true),
            msg,
        );
        cx.about(name);
    }
    for name in ra.iter().filter(|n| !rb.contains(n)) {
        let msg = format!("`{name}` is no longer required");
        cx.emit_for(
            TypeSet::OBJECT,
            a,
            b,
            "SD213",
            ptrs.clone(),
            (true, false),
            msg,
        );
        cx.about(name);
    }
    Ok(())
}

/// How many properties a closed object (`additionalProperties: false`,
/// no `patternProperties`) can have at most.
fn closed_size(n: &Node) -> Option<usize> {
    let closed = n.get("additionalProperties") == Some(&Value::Bool(false))
        && object_of(n, "patternProperties").is_none_or(Map::is_empty);
    closed.then(|| object_of(n, "properties").map_or(0, Map::len))
}

/// `minProperties` / `maxProperties`. A `maxProperties` at or above the
/// number of properties a closed object can have on both sides changes
/// nothing.
pub(super) fn property_count(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let inert = |n: &Node| {
        let max = n.get("maxProperties").and_then(Value::as_u64);
        max.is_none_or(|m| closed_size(n).is_some_and(|s| s as u64 <= m))
    };
    let same_shape = closed_size(a).is_some() && closed_size(a) == closed_size(b);
    for (key, side) in [
        ("minProperties", Bound::Lower),
        ("maxProperties", Bound::Upper),
    ] {
        let no_effect = key == "maxProperties" && same_shape && inert(a) && inert(b);
        if !no_effect {
            count_keyword(cx, a, b, TypeSet::OBJECT, key, side, "SD215", "SD216");
        } else if a.get(key) != b.get(key) {
            let msg = format!(
                "`maxProperties` {} → {} (no effect: the object is closed with fewer properties)",
                super::show(a.get(key)),
                super::show(b.get(key))
            );
            let ptrs = (a.ptr(key), b.ptr(key));
            cx.emit_for(TypeSet::OBJECT, a, b, "SD216", ptrs, (true, true), msg);
        }
    }
    Ok(())
}

/// Dependencies as `(trigger, value, location)`, from `dependencies` and
/// the 2020-12 keyword `key`, keeping entries whose value `keep` accepts.
fn dependencies(n: &Node, key: &str, keep: fn(&Value) -> bool) -> Vec<(String, Value, Loc)> {
    let mut out = Vec::new();
    for k in ["dependencies", key] {
        if let Some(m) = object_of(n, k) {
            for (name, v) in m.iter().filter(|(_, v)| keep(v)) {
                out.push((name.clone(), v.clone(), n.loc_of(k).join(name)));
            }
        }
    }
    out
}

/// `dependentRequired` (and array-valued `dependencies`).
pub(super) fn dependent_required(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let da = dependencies(a, "dependentRequired", Value::is_array);
    let db = dependencies(b, "dependentRequired", Value::is_array);
    let list = |v: &Value| -> Vec<String> {
        v.as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    };
    let find = |d: &[(String, Value, Loc)], k: &str| {
        d.iter()
            .find(|e| e.0 == k)
            .map(|e| (list(&e.1), e.2.shown()))
    };
    for (trigger, v, loc) in &db {
        let (old, pa) = find(&da, trigger).unwrap_or_default();
        for name in list(v).iter().filter(|n| !old.contains(n)) {
            let msg = format!("`{name}` is now required when `{trigger}` is present");
            cx.emit_for(
                TypeSet::OBJECT,
                a,
                b,
                "SD217",
                (pa.clone(), loc.shown()),
                (false, true),
                msg,
            );
        }
    }
    for (trigger, v, loc) in &da {
        let (new, pb) = find(&db, trigger).unwrap_or_default();
        for name in list(v).iter().filter(|n| !new.contains(n)) {
            let msg = format!("`{name}` is no longer required when `{trigger}` is present");
            cx.emit_for(
                TypeSet::OBJECT,
                a,
                b,
                "SD218",
                (loc.shown(), pb.clone()),
                (true, false),
                msg,
            );
        }
    }
    Ok(())
}

/// `dependentSchemas` (and schema-valued `dependencies`): compared as
/// schemas, a missing one being `true`.
pub(super) fn dependent_schemas(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let is_schema = |v: &Value| v.is_object() || v.is_boolean();
    let da = dependencies(a, "dependentSchemas", is_schema);
    let db = dependencies(b, "dependentSchemas", is_schema);
    for (trigger, v, loc) in &da {
        let other = db
            .iter()
            .find(|e| &e.0 == trigger)
            .map(|e| (e.1.clone(), e.2.clone()))
            .unwrap_or_else(|| {
                (
                    Value::Bool(true),
                    b.loc_of("dependentSchemas").join(trigger).absent(),
                )
            });
        cx.compare((v.clone(), loc.clone()), other)?;
    }
    for (trigger, v, loc) in db.iter().filter(|e| !da.iter().any(|d| d.0 == e.0)) {
        let none = (
            Value::Bool(true),
            a.loc_of("dependentSchemas").join(trigger).absent(),
        );
        cx.compare(none, (v.clone(), loc.clone()))?;
    }
    Ok(())
}
