//! String keywords: lengths, `pattern`, `format`, `contentEncoding` and
//! `contentMediaType`.

use super::super::context::Cx;
use super::super::node::Node;
use super::super::types::TypeSet;
use super::{Bound, count_keyword, show};
use crate::diff::DiffError;

/// `minLength` / `maxLength`.
pub(super) fn length(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    count_keyword(
        cx,
        a,
        b,
        TypeSet::STRING,
        "minLength",
        Bound::Lower,
        "SD401",
        "SD402",
    );
    count_keyword(
        cx,
        a,
        b,
        TypeSet::STRING,
        "maxLength",
        Bound::Upper,
        "SD401",
        "SD402",
    );
    Ok(())
}

/// `pattern`: added, removed or replaced (a replacement is breaking both
/// ways unless the two are the same text).
pub(super) fn pattern(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    exact(cx, a, b, "pattern", "SD403");
    Ok(())
}

/// `format`: compared as text where validation asserts it; where it is
/// an annotation (the same setting `validate` uses), a change is
/// informational.
pub(super) fn format(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    const KEY: &str = "format";
    let (x, y) = (a.get(KEY), b.get(KEY));
    if x == y {
        return Ok(());
    }
    let [fa, fb] = cx.formats;
    let (ex, ey) = (x.filter(|_| fa), y.filter(|_| fb));
    if ex.is_none() && ey.is_none() {
        let msg = format!(
            "`format` {} → {} (an annotation here: not asserted)",
            show(x),
            show(y)
        );
        cx.emit("SD404", a.ptr(KEY), b.ptr(KEY), (true, true), msg);
        return Ok(());
    }
    exact(cx, a, b, KEY, "SD404");
    Ok(())
}

/// `contentEncoding` and `contentMediaType`.
pub(super) fn content(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    exact(cx, a, b, "contentEncoding", "SD405");
    exact(cx, a, b, "contentMediaType", "SD405");
    Ok(())
}

/// A string constraint compared as text: gone is wider, new is narrower,
/// different is unknown and so breaking both ways.
fn exact(cx: &mut Cx, a: &Node, b: &Node, key: &str, code: &'static str) {
    let (x, y) = (a.get(key), b.get(key));
    if x == y {
        return;
    }
    let v = match (x, y) {
        (_, None) => (true, false),
        (None, Some(_)) => (false, true),
        _ => (false, false),
    };
    let msg = format!("`{key}` {} → {}", show(x), show(y));
    cx.emit_for(
        TypeSet::STRING,
        a,
        b,
        code,
        (a.ptr(key), b.ptr(key)),
        v,
        msg,
    );
}
