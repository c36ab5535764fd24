//! `allOf`, `anyOf`, `oneOf` and `not`.
//!
//! These are decided by containment probes (is every value of this
//! branch accepted by that one?) rather than by position, so reordering
//! branches is not a change and `allOf` → `anyOf` can be shown
//! compatible.

use serde_json::Value;

use super::super::context::Cx;
use super::super::node::{Loc, Node, enum_values, json_eq};
use super::super::types::TypeSet;
use crate::diff::DiffError;

/// The members of a combinator keyword, as nodes with their pointers.
fn members(cx: &mut Cx, n: &Node, key: &str) -> Result<Vec<Node>, DiffError> {
    let at = n.loc_of(key);
    let items = n
        .get(key)
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    items
        .into_iter()
        .enumerate()
        .map(|(i, v)| cx.node(&v, at.index(i)))
        .collect()
}

/// One part of a node's values: an `anyOf`/`oneOf` branch on its own and
/// together with the keywords beside it, or the whole node.
struct Part {
    bare: Option<Node>,
    merged: Node,
    pointer: Option<String>,
}

/// What a node's values split into: one part per `anyOf` (or `oneOf`)
/// branch; or the node itself.
fn branches(cx: &mut Cx, n: &Node) -> Result<Vec<Part>, DiffError> {
    for key in ["anyOf", "oneOf"] {
        if let Some(Value::Array(items)) = n.get(key) {
            let base = n.without(&[key]);
            let at = n.loc_of(key);
            let mut out = Vec::new();
            for (i, v) in items.iter().enumerate() {
                let loc: Loc = at.index(i);
                out.push(Part {
                    bare: Some(cx.node(v, loc.clone())?),
                    pointer: loc.shown(),
                    merged: cx.merged(&base, (v.clone(), loc))?,
                });
            }
            return Ok(out);
        }
    }
    Ok(vec![Part {
        bare: None,
        merged: n.clone(),
        pointer: n.loc.shown(),
    }])
}

/// Every value of the part falls in some node of `dst` (given with the
/// keywords beside the branch, or, sufficient on its own, the bare
/// branch: the keywords beside are compared by the other rules). With
/// `reverse`, every value of some `dst` node falls in the part instead.
fn part_covered(cx: &mut Cx, part: &Part, dst: &[Node], reverse: bool) -> Result<bool, DiffError> {
    for src in part.bare.iter().chain(std::iter::once(&part.merged)) {
        for d in dst {
            let ok = if reverse {
                cx.probe(d, src)?.1
            } else {
                cx.probe(src, d)?.0
            };
            if ok {
                return Ok(true);
            }
        }
    }
    Ok(false)
}

/// Every value of `src` is accepted by some node of `dst`.
fn covered(cx: &mut Cx, src: &Node, dst: &[Node]) -> Result<bool, DiffError> {
    for d in dst {
        if cx.probe(src, d)?.0 {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Residual `allOf` members (those not merged into their parent): each
/// member of B must follow from A, each member of A from B.
pub(super) fn all_of(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    if a.all_of.is_empty() && b.all_of.is_empty() {
        return Ok(());
    }
    let build = |cx: &mut Cx, list: &[(Value, Loc)]| -> Result<Vec<Node>, DiffError> {
        list.iter().map(|(v, l)| cx.node(v, l.clone())).collect()
    };
    let (ma, mb) = (build(cx, &a.all_of)?, build(cx, &b.all_of)?);
    for m in &mb {
        let implied = covered(cx, a, std::slice::from_ref(m))? || {
            let mut any = false;
            for x in &ma {
                if cx.probe(x, m)?.0 {
                    any = true;
                    break;
                }
            }
            any
        };
        if !implied {
            let msg = "allOf member is not implied by A".to_owned();
            cx.emit("SD601", a.ptr("allOf"), m.loc.shown(), (false, true), msg);
        }
    }
    for m in &ma {
        let mut implied = cx.probe(m, b)?.1;
        for y in &mb {
            if implied {
                break;
            }
            implied = cx.probe(m, y)?.1;
        }
        if !implied {
            let msg = "allOf member is not implied by B".to_owned();
            cx.emit("SD602", m.loc.shown(), b.ptr("allOf"), (true, false), msg);
        }
    }
    Ok(())
}

/// `anyOf`: every part of A must fall in some branch of B (backward), and
/// every part of B in some branch of A (forward).
pub(super) fn any_of(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let (ha, hb) = (a.get("anyOf").is_some(), b.get("anyOf").is_some());
    if hb {
        let dst = members(cx, b, "anyOf")?;
        for part in branches(cx, a)? {
            if !part_covered(cx, &part, &dst, false)? {
                let msg = "values accepted by A here match no `anyOf` branch of B".to_owned();
                cx.emit("SD603", part.pointer, b.ptr("anyOf"), (false, true), msg);
            }
        }
    }
    if ha {
        let dst = members(cx, a, "anyOf")?;
        for part in branches(cx, b)? {
            if !part_covered(cx, &part, &dst, true)? {
                let msg = "B accepts values here that no `anyOf` branch of A accepted".to_owned();
                cx.emit("SD604", a.ptr("anyOf"), part.pointer, (true, false), msg);
            }
        }
    }
    Ok(())
}

/// The branches cannot overlap: each admits types no other admits.
fn disjoint(branches: &[Node]) -> bool {
    branches
        .iter()
        .enumerate()
        .all(|(i, x)| branches[i + 1..].iter().all(|y| pair_disjoint(x, y)))
}

/// No value matches both branches: their types do not meet, their finite
/// value sets share nothing, or both are objects that require a property
/// with finite values that share nothing (a discriminator, the usual way
/// `oneOf` branches partition a set of records).
fn pair_disjoint(x: &Node, y: &Node) -> bool {
    if !x.types().meets(y.types()) {
        return true;
    }
    let both = x.types().intersect(y.types());
    // With `format` not asserted, each set is the widest it can be, so
    // disjoint sets stay disjoint when it is.
    if let (Some(p), Some(q)) = (x.finite(false), y.finite(false)) {
        return !p.iter().any(|v| q.iter().any(|w| json_eq(v, w)));
    }
    both.subset_of(TypeSet::OBJECT) && discriminated(x, y)
}

/// A property both objects require whose own `const`/`enum` values (in
/// each branch's `properties`) share nothing.
fn discriminated(x: &Node, y: &Node) -> bool {
    let required = |n: &Node| -> Vec<String> {
        n.get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect()
    };
    let values = |n: &Node, name: &str| {
        n.get("properties")
            .and_then(|p| p.get(name))
            .and_then(Value::as_object)
            .and_then(enum_values)
    };
    let theirs = required(y);
    required(x)
        .iter()
        .filter(|name| theirs.contains(name))
        .any(|name| match (values(x, name), values(y, name)) {
            (Some(p), Some(q)) => !p.iter().any(|v| q.iter().any(|w| json_eq(v, w))),
            _ => false,
        })
}

/// Both lists hold the same schemas, in any order.
fn equivalent(cx: &mut Cx, xs: &[Node], ys: &[Node]) -> Result<bool, DiffError> {
    if xs.len() != ys.len() {
        return Ok(false);
    }
    let mut used = vec![false; ys.len()];
    for x in xs {
        let mut found = false;
        for (j, y) in ys.iter().enumerate() {
            if !used[j] && cx.probe(x, y)? == (true, true) {
                used[j] = true;
                found = true;
                break;
            }
        }
        if !found {
            return Ok(false);
        }
    }
    Ok(true)
}

/// `src` stays inside `dst`'s `oneOf`: its branches are disjoint and cover
/// `src`, or `src` has the same `oneOf` branches.
fn one_of_holds(cx: &mut Cx, src: &Node, dst: &Node) -> Result<bool, DiffError> {
    let targets = members(cx, dst, "oneOf")?;
    if src.get("oneOf").is_some() {
        let own = members(cx, src, "oneOf")?;
        if equivalent(cx, &own, &targets)? {
            return Ok(true);
        }
    }
    if !disjoint(&targets) {
        return Ok(false);
    }
    let mut whole = true;
    for part in branches(cx, src)? {
        if !part_covered(cx, &part, &targets, false)? {
            whole = false;
            break;
        }
    }
    if whole || src.get("anyOf").is_some() || src.get("oneOf").is_some() {
        return Ok(whole);
    }
    // The branches may split `src`'s values between them: each of its
    // finitely many values, or each value of a property it requires, then
    // falls in one branch.
    let Some(pieces) = partition(cx, src)? else {
        return Ok(false);
    };
    for piece in &pieces {
        if !covered(cx, piece, &targets)? {
            return Ok(false);
        }
    }
    Ok(true)
}

/// A piece of `n`'s values, at `n`'s place (tagged: it is not `n`).
fn piece(cx: &mut Cx, mut schema: Value, n: &Node) -> Result<Node, DiffError> {
    if let Value::Object(m) = &mut schema {
        // A piece is no resource of its own.
        for key in ["$schema", "$id", "id", "$anchor", "$dynamicAnchor"] {
            m.shift_remove(key);
        }
    }
    let mut p = cx.node(&schema, n.loc.clone())?;
    p.tag = cx.tag();
    Ok(p)
}

/// Most values a partition is tried over.
const PARTITION_MAX: usize = 64;

/// `n`'s values split into pieces: one `const` per value when it admits
/// finitely many, or one copy of `n` per value of a property it requires
/// whose `const`/`enum` lists finitely many.
fn partition(cx: &mut Cx, n: &Node) -> Result<Option<Vec<Node>>, DiffError> {
    let one = |v: &Value| serde_json::json!({ "const": v });
    if let Some(values) = n.finite(false).filter(|v| v.len() <= PARTITION_MAX) {
        return values
            .iter()
            .map(|v| piece(cx, one(v), n))
            .collect::<Result<Vec<_>, _>>()
            .map(Some);
    }
    if !n.types().subset_of(TypeSet::OBJECT) {
        return Ok(None);
    }
    let required = n.get("required").and_then(Value::as_array).cloned();
    for name in required.iter().flatten().filter_map(Value::as_str) {
        let values = n
            .get("properties")
            .and_then(|p| p.get(name))
            .and_then(Value::as_object)
            .and_then(enum_values)
            .filter(|v| v.len() <= PARTITION_MAX);
        let Some(values) = values else { continue };
        let mut pieces = Vec::new();
        for v in &values {
            let mut map = n.map.clone();
            if let Some(Value::Object(props)) = map.get_mut("properties")
                && let Some(Value::Object(p)) = props.get_mut(name)
            {
                p.shift_remove("enum");
                p.insert("const".into(), v.clone());
            }
            pieces.push(piece(cx, Value::Object(map), n)?);
        }
        return Ok(Some(pieces));
    }
    Ok(None)
}

/// `oneOf`: exactly one branch must match, so a new or overlapping branch
/// can reject old values. Shown compatible only when branches are
/// disjoint by type or the same as before.
pub(super) fn one_of(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let ptrs = (a.ptr("oneOf"), b.ptr("oneOf"));
    if b.get("oneOf").is_some() && !one_of_holds(cx, a, b)? {
        let msg = "B's `oneOf` may reject values A accepted (branches changed and may overlap)"
            .to_owned();
        cx.emit("SD605", ptrs.0.clone(), ptrs.1.clone(), (false, true), msg);
    }
    if a.get("oneOf").is_some() && !one_of_holds(cx, b, a)? {
        let msg =
            "A's `oneOf` may reject values B accepts (branches changed and may overlap)".to_owned();
        cx.emit("SD606", ptrs.0, ptrs.1, (true, false), msg);
    }
    Ok(())
}

/// `not`: `A ⊆ B` exactly when `B.not ⊆ A.not`, so the inner schemas are
/// compared with the directions swapped.
pub(super) fn not(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let ptrs = (a.ptr("not"), b.ptr("not"));
    match (a.get("not").is_some(), b.get("not").is_some()) {
        (false, false) => {}
        (true, false) => {
            let gone = excludes_nothing(cx, b, a)?;
            cx.emit(
                "SD608",
                ptrs.0,
                ptrs.1,
                (true, gone),
                "`not` removed".into(),
            );
        }
        (false, true) => {
            let kept = excludes_nothing(cx, a, b)?;
            cx.emit("SD607", ptrs.0, ptrs.1, (kept, true), "`not` added".into());
        }
        (true, true) => {
            cx.compare_flipped(b.sub("not"), a.sub("not"))?;
        }
    }
    Ok(())
}

/// `with_not`'s `not` excludes nothing `other` admits: their types are
/// disjoint, or `other` admits finitely many values, none matching the
/// `not` schema.
fn excludes_nothing(cx: &mut Cx, other: &Node, with_not: &Node) -> Result<bool, DiffError> {
    let (v, l) = with_not.sub("not");
    let n = cx.node(&v, l)?;
    if !other.types().meets(n.types()) {
        return Ok(true);
    }
    let fo = cx.formats[usize::from(other.loc.doc.side == "B")];
    let fnot = cx.formats[usize::from(n.loc.doc.side == "B")];
    Ok(n.is_flat()
        && other
            .without(&["not"])
            .finite(fo)
            .is_some_and(|vals| vals.iter().all(|x| n.accepts(x, fnot) == Some(false))))
}
