//! Keywords that do not affect validation: annotations and unknown
//! keywords. Reported so a reader sees them, compatible both ways.

use super::super::context::Cx;
use super::super::node::{Node, is_assertion};
use super::show;
use crate::diff::DiffError;

/// Containers of subschemas reached through `$ref`, not compared here.
const CONTAINERS: &[&str] = &["definitions", "$defs"];

const KNOWN: &[&str] = &[
    "title",
    "description",
    "examples",
    "$comment",
    "$id",
    "id",
    "$schema",
    "$anchor",
    "$dynamicAnchor",
    "$recursiveAnchor",
    "$vocabulary",
    "contentSchema",
];

/// Validating keywords no rule compares yet: any change to them is
/// reported as breaking both ways rather than passed over.
const UNCOMPARED: &[&str] = &[
    "unevaluatedProperties",
    "unevaluatedItems",
    "$dynamicRef",
    "$recursiveRef",
];

/// A keyword that validates but is not compared changed.
pub(super) fn uncompared(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    for key in UNCOMPARED {
        let (x, y) = (a.get(key), b.get(key));
        if x != y {
            let msg = format!("`{key}` {} → {} (not compared)", show(x), show(y));
            cx.emit("SD905", a.ptr(key), b.ptr(key), (false, false), msg);
        }
    }
    Ok(())
}

/// Every non-validating keyword whose value changed.
pub(super) fn annotations(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let keys: Vec<&String> = a
        .map
        .keys()
        .chain(b.map.keys().filter(|k| !a.map.contains_key(*k)))
        .collect();
    for key in keys {
        if is_assertion(key) || CONTAINERS.contains(&key.as_str()) {
            continue;
        }
        let (x, y) = (a.get(key), b.get(key));
        if x == y {
            continue;
        }
        let code = match key.as_str() {
            "default" => "SD902",
            "deprecated" | "readOnly" | "writeOnly" => "SD903",
            k if KNOWN.contains(&k) => "SD901",
            _ => "SD904",
        };
        let msg = format!("`{key}` {} → {}", show(x), show(y));
        cx.emit(code, a.ptr(key), b.ptr(key), (true, true), msg);
    }
    Ok(())
}
