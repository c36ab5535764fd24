//! `type`, `enum` and `const`.

use super::super::context::Cx;
use super::super::node::{Node, enum_values, json_eq};
use super::super::types::TypeSet;
use crate::diff::DiffError;

/// The admitted types widened, narrowed or changed.
pub(super) fn type_keyword(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let kw = |n: &Node| {
        n.get("type")
            .map_or(TypeSet::ALL, TypeSet::from_type_keyword)
    };
    let (ka, kb) = (kw(a), kw(b));
    if ka == kb {
        return Ok(());
    }
    let (sa, sb) = (a.types(), b.types());
    let v = (sa.subset_of(sb), sb.subset_of(sa));
    let code = match v {
        (true, true) => "SD104",
        (true, false) => "SD101",
        (false, true) => "SD102",
        (false, false) => "SD103",
    };
    let msg = format!("type {} → {}", ka.describe(), kb.describe());
    cx.emit(code, a.ptr("type"), b.ptr("type"), v, msg);
    Ok(())
}

/// The allowed values (`enum`, or `const` as a one-value enum) changed.
pub(super) fn values(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let key = |n: &Node| {
        if n.get("const").is_some() {
            "const"
        } else {
            "enum"
        }
    };
    let ptrs = (a.ptr(key(a)), b.ptr(key(b)));
    match (enum_values(&a.map), enum_values(&b.map)) {
        (None, None) => {}
        (Some(x), None) => {
            let msg = format!("values no longer limited to {}", list(&x));
            cx.emit("SD112", ptrs.0, ptrs.1, (true, false), msg);
        }
        (None, Some(y)) => {
            let msg = format!("values now limited to {}", list(&y));
            cx.emit("SD111", ptrs.0, ptrs.1, (false, true), msg);
        }
        (Some(x), Some(y)) => {
            let added: Vec<_> = y
                .iter()
                .filter(|v| !x.iter().any(|w| json_eq(v, w)))
                .cloned()
                .collect();
            let removed: Vec<_> = x
                .iter()
                .filter(|v| !y.iter().any(|w| json_eq(v, w)))
                .cloned()
                .collect();
            let (code, msg) = match (added.is_empty(), removed.is_empty()) {
                (true, true) => return Ok(()),
                (false, true) => ("SD113", format!("values added: {}", list(&added))),
                (true, false) => ("SD114", format!("values removed: {}", list(&removed))),
                (false, false) => (
                    "SD115",
                    format!(
                        "values added: {}; removed: {}",
                        list(&added),
                        list(&removed)
                    ),
                ),
            };
            cx.emit(
                code,
                ptrs.0,
                ptrs.1,
                (removed.is_empty(), added.is_empty()),
                msg,
            );
        }
    }
    Ok(())
}

fn list(values: &[serde_json::Value]) -> String {
    let shown: Vec<String> = values
        .iter()
        .take(8)
        .map(|v| super::show(Some(v)))
        .collect();
    let more = if values.len() > 8 {
        format!(", … ({} in all)", values.len())
    } else {
        String::new()
    };
    format!("[{}{more}]", shown.join(", "))
}
