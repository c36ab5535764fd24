//! Object keywords: `properties` against `additionalProperties` and
//! `patternProperties`, `propertyNames`, `required`, property counts and
//! the dependency keywords (draft-07 `dependencies` and 2020-12
//! `dependentRequired` / `dependentSchemas`).

use serde_json::{Map, Value};

use super::super::context::Cx;
use super::super::node::{Loc, Node};
use super::super::types::TypeSet;
use super::{Bound, count_keyword};
use crate::diff::DiffError;

fn object_of<'n>(n: &'n Node, key: &str) -> Option<&'n Map<String, Value>> {
    n.get(key).and_then(Value::as_object)
}

/// The schema a property name gets when `properties` does not list it:
/// the first matching `patternProperties` entry, else
/// `additionalProperties` (`true` when absent).
fn fallback(n: &Node, name: &str) -> (Value, Loc) {
    if let Some(pp) = object_of(n, "patternProperties") {
        for (pat, schema) in pp {
            if regex::Regex::new(pat).is_ok_and(|re| re.is_match(name)) {
                return (schema.clone(), n.loc_of("patternProperties").join(pat));
            }
        }
    }
    n.sub("additionalProperties")
}

/// Each property declared on either side, compared with what the other
/// side gives it.
pub(super) fn properties(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let empty = Map::new();
    let pa = object_of(a, "properties").unwrap_or(&empty);
    let pb = object_of(b, "properties").unwrap_or(&empty);
    let names: Vec<&String> = pa
        .keys()
        .chain(pb.keys().filter(|k| !pa.contains_key(*k)))
        .collect();
    for name in names {
        let (sa, sb) = (a.sub2("properties", name), b.sub2("properties", name));
        match (sa, sb) {
            (Some(x), Some(y)) => {
                cx.compare(x, y)?;
            }
            (Some(x), None) => {
                let y = fallback(b, name);
                let closed = y.0 == Value::Bool(false);
                let v = probe(cx, x.clone(), y.clone())?;
                let (code, how) = if closed {
                    ("SD203", "B rejects it as an unknown property")
                } else {
                    (
                        "SD204",
                        "B accepts it through additionalProperties/patternProperties",
                    )
                };
                let msg = format!("property `{name}` removed; {how}");
                cx.emit_for(
                    TypeSet::OBJECT,
                    a,
                    b,
                    code,
                    (x.1.shown(), y.1.shown()),
                    v,
                    msg,
                );
                cx.about(name);
            }
            (None, Some(y)) => {
                let x = fallback(a, name);
                let closed = x.0 == Value::Bool(false);
                let v = probe(cx, x.clone(), y.clone())?;
                let (code, how) = if closed {
                    ("SD201", "A rejected it as an unknown property")
                } else {
                    (
                        "SD202",
                        "A accepted it through additionalProperties/patternProperties",
                    )
                };
                let msg = format!("property `{name}` added; {how}");
                cx.emit_for(
                    TypeSet::OBJECT,
                    a,
                    b,
                    code,
                    (x.1.shown(), y.1.shown()),
                    v,
                    msg,
                );
                cx.about(name);
            }
            (None, None) => {}
        }
    }
    Ok(())
}

fn probe(cx: &mut Cx, x: (Value, Loc), y: (Value, Loc)) -> Result<(bool, bool), DiffError> {
    let nx = cx.node(&x.0, x.1)?;
    let ny = cx.node(&y.0, y.1)?;
    cx.probe(&nx, &ny)
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

/// `patternProperties`: entries compared by pattern text; an entry on one
/// side only is compared with the other side's `additionalProperties`.
pub(super) fn pattern_properties(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    const KEY: &str = "patternProperties";
    let empty = Map::new();
    let pa = object_of(a, KEY).unwrap_or(&empty);
    let pb = object_of(b, KEY).unwrap_or(&empty);
    let pats: Vec<&String> = pa
        .keys()
        .chain(pb.keys().filter(|k| !pa.contains_key(*k)))
        .collect();
    for pat in pats {
        match (a.sub2(KEY, pat), b.sub2(KEY, pat)) {
            (Some(x), Some(y)) => {
                cx.compare(x, y)?;
            }
            (Some(x), None) => {
                let y = b.sub("additionalProperties");
                let v = probe(cx, x.clone(), y.clone())?;
                let msg = format!(
                    "pattern `{pat}` removed; matching names fall back to additionalProperties"
                );
                cx.emit_for(
                    TypeSet::OBJECT,
                    a,
                    b,
                    "SD208",
                    (x.1.shown(), y.1.shown()),
                    v,
                    msg,
                );
            }
            (None, Some(y)) => {
                let x = a.sub("additionalProperties");
                let v = probe(cx, x.clone(), y.clone())?;
                let msg = format!(
                    "pattern `{pat}` added; matching names were governed by additionalProperties"
                );
                cx.emit_for(
                    TypeSet::OBJECT,
                    a,
                    b,
                    "SD207",
                    (x.1.shown(), y.1.shown()),
                    v,
                    msg,
                );
            }
            (None, None) => {}
        }
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

/// `minProperties` / `maxProperties`.
pub(super) fn property_count(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    count_keyword(
        cx,
        a,
        b,
        TypeSet::OBJECT,
        "minProperties",
        Bound::Lower,
        "SD215",
        "SD216",
    );
    count_keyword(
        cx,
        a,
        b,
        TypeSet::OBJECT,
        "maxProperties",
        Bound::Upper,
        "SD215",
        "SD216",
    );
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
