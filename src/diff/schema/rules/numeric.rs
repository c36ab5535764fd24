//! Numeric bounds (`minimum`, `maximum`, both `exclusive*` forms: the
//! draft-04 boolean and the later number) and `multipleOf`.

use serde_json::Value;

use super::super::context::Cx;
use super::super::node::Node;
use super::super::types::TypeSet;
use super::{Bound, show};
use crate::diff::DiffError;

/// An effective bound: its value and whether it is exclusive.
type Limit = Option<(f64, bool)>;

fn limit(n: &Node, side: Bound) -> (Limit, &'static str) {
    let (inc, exc) = match side {
        Bound::Lower => ("minimum", "exclusiveMinimum"),
        Bound::Upper => ("maximum", "exclusiveMaximum"),
    };
    let inclusive = n.get(inc).and_then(Value::as_f64);
    let old_style = n.get(exc) == Some(&Value::Bool(true));
    let a = inclusive.map(|v| (v, old_style));
    let b = n.get(exc).and_then(Value::as_f64).map(|v| (v, true));
    match (a, b) {
        (Some(x), Some(y)) => {
            if tighter(y, x, side) {
                (Some(y), exc)
            } else {
                (Some(x), inc)
            }
        }
        (Some(x), None) => (Some(x), if old_style { exc } else { inc }),
        (None, Some(y)) => (Some(y), exc),
        (None, None) => (None, inc),
    }
}

/// `x` admits no value `y` rejects.
fn tighter(x: (f64, bool), y: (f64, bool), side: Bound) -> bool {
    let beyond = match side {
        Bound::Lower => x.0 > y.0,
        Bound::Upper => x.0 < y.0,
    };
    beyond || (x.0 == y.0 && (x.1 || !y.1))
}

fn show_limit(l: Limit, side: Bound) -> String {
    match (l, side) {
        (None, _) => "none".into(),
        (Some((v, true)), Bound::Lower) => format!("> {v}"),
        (Some((v, false)), Bound::Lower) => format!(">= {v}"),
        (Some((v, true)), Bound::Upper) => format!("< {v}"),
        (Some((v, false)), Bound::Upper) => format!("<= {v}"),
    }
}

/// The lower and upper bounds moved.
pub(super) fn bounds(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    for side in [Bound::Lower, Bound::Upper] {
        let ((la, ka), (lb, kb)) = (limit(a, side), limit(b, side));
        let v = match (la, lb) {
            (_, None) => (true, la.is_none()),
            (None, Some(_)) => (false, true),
            (Some(x), Some(y)) => (tighter(x, y, side), tighter(y, x, side)),
        };
        if v == (true, true) {
            continue;
        }
        let code = if v.0 { "SD302" } else { "SD301" };
        let msg = format!("range {} → {}", show_limit(la, side), show_limit(lb, side));
        cx.emit_for(TypeSet::NUMBER, a, b, code, (a.ptr(ka), b.ptr(kb)), v, msg);
    }
    Ok(())
}

/// `multipleOf`: B's must divide A's for old values to stay valid.
pub(super) fn multiple_of(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let (x, y) = (
        a.get("multipleOf").and_then(Value::as_f64),
        b.get("multipleOf").and_then(Value::as_f64),
    );
    if x == y {
        return Ok(());
    }
    let divides = |big: f64, small: f64| {
        let r = big / small;
        small != 0.0 && (r - r.round()).abs() < 1e-9
    };
    let v = match (x, y) {
        (_, None) => (true, x.is_none()),
        (None, Some(_)) => (false, true),
        (Some(x), Some(y)) => (divides(x, y), divides(y, x)),
    };
    let msg = format!(
        "`multipleOf` {} → {}",
        show(a.get("multipleOf")),
        show(b.get("multipleOf"))
    );
    let ptrs = (a.ptr("multipleOf"), b.ptr("multipleOf"));
    cx.emit_for(TypeSet::NUMBER, a, b, "SD303", ptrs, v, msg);
    Ok(())
}
