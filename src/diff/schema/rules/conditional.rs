//! `if` / `then` / `else`.

use super::super::context::Cx;
use super::super::node::{Node, json_eq};
use crate::diff::DiffError;

/// One branch, compared together with the keywords beside the
/// conditional (a `then` that only adds a `pattern` to a property the
/// base already types as a string). The plain comparison is reported when
/// it reaches the same verdict, for its more precise changes.
fn branch(cx: &mut Cx, a: &Node, b: &Node, key: &str) -> Result<(), DiffError> {
    const COND: &[&str] = &["if", "then", "else"];
    let na = cx.merged(&a.without(COND), a.sub(key))?;
    let nb = cx.merged(&b.without(COND), b.sub(key))?;
    let in_context = cx.probe(&na, &nb)?;
    let (x, y) = (a.sub(key), b.sub(key));
    let (px, py) = (cx.node(&x.0, x.1)?, cx.node(&y.0, y.1)?);
    if cx.probe(&px, &py)? == in_context {
        cx.compare_nodes(&px, &py)?;
    } else {
        cx.compare_nodes(&na, &nb)?;
    }
    Ok(())
}

/// Same `if`: `then` and `else` compared as schemas. Different `if`:
/// breaking both ways (which branch applies is not compared).
pub(super) fn if_then_else(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let active =
        |n: &Node| n.get("if").is_some() && (n.get("then").is_some() || n.get("else").is_some());
    match (a.get("if"), b.get("if")) {
        (Some(x), Some(y)) if json_eq(x, y) => {
            for key in ["then", "else"] {
                if a.get(key).is_some() || b.get(key).is_some() {
                    branch(cx, a, b, key)?;
                }
            }
        }
        (Some(_), Some(_)) => {
            cx.emit(
                "SD611",
                a.ptr("if"),
                b.ptr("if"),
                (false, false),
                "`if` condition changed".into(),
            );
        }
        _ if active(a) && !active(b) => {
            cx.emit(
                "SD613",
                a.ptr("if"),
                b.ptr("if"),
                (true, false),
                "conditional removed".into(),
            );
        }
        _ if !active(a) && active(b) => {
            cx.emit(
                "SD612",
                a.ptr("if"),
                b.ptr("if"),
                (false, true),
                "conditional added".into(),
            );
        }
        _ => {}
    }
    Ok(())
}
