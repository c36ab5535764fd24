//! Array keywords: tuples and items in both spellings (draft-07 `items`
//! array + `additionalItems`, 2020-12 `prefixItems` + `items`), item
//! counts, `uniqueItems` and `contains`.

use serde_json::Value;

use super::super::context::Cx;
use super::super::node::{Loc, Node};
use super::super::types::TypeSet;
use super::{Bound, count_keyword};
use crate::diff::DiffError;

/// A node's tuple positions and the schema for items past them.
fn tuple(n: &Node) -> (Vec<(Value, Loc)>, (Value, Loc)) {
    let positions = |key: &str| -> Vec<(Value, Loc)> {
        let at = n.loc_of(key);
        n.get(key)
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .enumerate()
                    .map(|(i, v)| (v.clone(), at.index(i)))
                    .collect()
            })
            .unwrap_or_default()
    };
    if n.get("prefixItems").is_some_and(Value::is_array) {
        (positions("prefixItems"), n.sub("items"))
    } else if n.get("items").is_some_and(Value::is_array) {
        (positions("items"), n.sub("additionalItems"))
    } else {
        (Vec::new(), n.sub("items"))
    }
}

fn has_items(n: &Node) -> bool {
    ["items", "prefixItems", "additionalItems"]
        .iter()
        .any(|k| n.get(k).is_some())
}

/// Each tuple position, then the items past the tuples.
pub(super) fn items(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    if !has_items(a) && !has_items(b) {
        return Ok(());
    }
    let ((ta, ra), (tb, rb)) = (tuple(a), tuple(b));
    for i in 0..ta.len().max(tb.len()) {
        let x = ta.get(i).cloned().unwrap_or_else(|| ra.clone());
        let y = tb.get(i).cloned().unwrap_or_else(|| rb.clone());
        position(cx, a, b, x, y, Some(i))?;
    }
    position(cx, a, b, ra, rb, None)
}

fn position(
    cx: &mut Cx,
    a: &Node,
    b: &Node,
    x: (Value, Loc),
    y: (Value, Loc),
    at: Option<usize>,
) -> Result<(), DiffError> {
    let ptrs = (x.1.shown(), y.1.shown());
    let nx = cx.node(&x.0, x.1)?;
    let ny = cx.node(&y.0, y.1)?;
    let (codes, what) = match at {
        Some(i) => (("SD511", "SD512"), format!("item {i}")),
        None => (("SD513", "SD514"), "items past the tuple".to_owned()),
    };
    match (nx.is_false(), ny.is_false()) {
        (true, true) => {}
        (true, false) => {
            let msg = format!("{what} was rejected; now accepted");
            cx.emit_for(TypeSet::ARRAY, a, b, codes.0, ptrs, (true, false), msg);
        }
        (false, true) => {
            let msg = format!("{what} was accepted; now rejected");
            cx.emit_for(TypeSet::ARRAY, a, b, codes.1, ptrs, (false, true), msg);
        }
        (false, false) => {
            cx.compare_nodes(&nx, &ny)?;
        }
    }
    Ok(())
}

/// `minItems`, `maxItems`, `minContains`, `maxContains`.
pub(super) fn item_count(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    for (key, side) in [
        ("minItems", Bound::Lower),
        ("maxItems", Bound::Upper),
        ("minContains", Bound::Lower),
        ("maxContains", Bound::Upper),
    ] {
        count_keyword(cx, a, b, TypeSet::ARRAY, key, side, "SD501", "SD502");
    }
    Ok(())
}

/// `uniqueItems`.
pub(super) fn unique_items(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let on = |n: &Node| n.get("uniqueItems") == Some(&Value::Bool(true));
    let ptrs = (a.ptr("uniqueItems"), b.ptr("uniqueItems"));
    match (on(a), on(b)) {
        (false, true) => cx.emit_for(
            TypeSet::ARRAY,
            a,
            b,
            "SD503",
            ptrs,
            (false, true),
            "items must now be unique".into(),
        ),
        (true, false) => cx.emit_for(
            TypeSet::ARRAY,
            a,
            b,
            "SD504",
            ptrs,
            (true, false),
            "items need no longer be unique".into(),
        ),
        _ => {}
    }
    Ok(())
}

/// Every array `holder` accepts already has an item matching `owner`'s
/// `contains`: `holder` requires a first item (`minItems` ≥ 1) and its
/// schema for that item (`prefixItems[0]`, a draft-7 `items[0]`, or
/// `items` for every item) lies inside `contains`, which asks for at most
/// one match.
fn contains_already_met(cx: &mut Cx, holder: &Node, owner: &Node) -> Result<bool, DiffError> {
    let needs_one = owner
        .get("minContains")
        .is_none_or(|m| m.as_f64().is_some_and(|m| m <= 1.0));
    let has_first = holder
        .get("minItems")
        .and_then(Value::as_f64)
        .is_some_and(|m| m >= 1.0);
    if !needs_one || !has_first {
        return Ok(false);
    }
    let tuple = |key: &str| match holder.get(key) {
        Some(Value::Array(p)) if !p.is_empty() => Some((p[0].clone(), holder.loc_of(key).index(0))),
        _ => None,
    };
    let first = match tuple("prefixItems").or_else(|| tuple("items")) {
        Some(f) => f,
        None if holder.get("prefixItems").is_none()
            && holder.get("items").is_some_and(|i| !i.is_array()) =>
        {
            holder.sub("items")
        }
        None => return Ok(false),
    };
    let first = cx.node(&first.0, first.1)?;
    let (c, at) = owner.sub("contains");
    let contains = cx.node(&c, at)?;
    Ok(cx.probe(&first, &contains)?.0)
}

/// `contains` under `maxContains`: a side whose matches are capped needs
/// the other side's `contains` to match no more items than its own (a
/// wider `contains` there raises the count past the cap).
fn capped_contains(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let (ca, cb) = (a.sub("contains"), b.sub("contains"));
    let (na, nb) = (cx.node(&ca.0, ca.1)?, cx.node(&cb.0, cb.1)?);
    let (a_in_b, b_in_a) = cx.probe(&na, &nb)?;
    let ptrs = (a.ptr("contains"), b.ptr("contains"));
    if b.get("maxContains").is_some() && !b_in_a {
        let msg = "B's `contains` may match items A's did not, and B caps them with `maxContains`";
        cx.emit_for(
            TypeSet::ARRAY,
            a,
            b,
            "SD525",
            ptrs.clone(),
            (false, true),
            msg.into(),
        );
    }
    if a.get("maxContains").is_some() && !a_in_b {
        let msg =
            "A's `contains` may match items B's does not, and A capped them with `maxContains`";
        cx.emit_for(
            TypeSet::ARRAY,
            a,
            b,
            "SD525",
            ptrs,
            (true, false),
            msg.into(),
        );
    }
    Ok(())
}

/// `contains`: added, removed, or its schema compared.
pub(super) fn contains(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let ptrs = (a.ptr("contains"), b.ptr("contains"));
    match (a.get("contains").is_some(), b.get("contains").is_some()) {
        (false, false) => {}
        (false, true) => {
            if !contains_already_met(cx, a, b)? {
                cx.emit_for(
                    TypeSet::ARRAY,
                    a,
                    b,
                    "SD523",
                    ptrs,
                    (false, true),
                    "an item matching `contains` is now required".into(),
                );
            }
        }
        (true, false) => {
            if !contains_already_met(cx, b, a)? {
                cx.emit_for(
                    TypeSet::ARRAY,
                    a,
                    b,
                    "SD524",
                    ptrs,
                    (true, false),
                    "an item matching `contains` is no longer required".into(),
                );
            }
        }
        (true, true) => {
            cx.compare(a.sub("contains"), b.sub("contains"))?;
            capped_contains(cx, a, b)?;
        }
    }
    Ok(())
}
