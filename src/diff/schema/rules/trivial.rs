//! Boolean schemas and their equivalents: `true`/`{}` accepts everything,
//! `false`/`{"not": {}}` accepts nothing.

use super::super::context::Cx;
use super::super::node::{Node, is_assertion};
use crate::diff::DiffError;

/// One side accepts everything or nothing.
pub(super) fn trivial(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    let (pa, pb) = (a.loc.shown(), b.loc.shown());
    if (a.is_true() && b.is_true()) || (a.is_false() && b.is_false()) {
        return Ok(());
    }
    if a.is_false() {
        cx.emit(
            "SD001",
            pa,
            pb,
            (true, false),
            "accepted nothing; now accepts some values".into(),
        );
    } else if b.is_false() {
        cx.emit("SD002", pa, pb, (false, true), "now accepts nothing".into());
    } else if b.is_true() {
        let msg = format!(
            "constraints removed ({}); now accepts any value",
            keywords(a)
        );
        cx.emit("SD003", pa, pb, (true, false), msg);
    } else {
        let msg = format!("accepted any value; now constrained ({})", keywords(b));
        cx.emit("SD004", pa, pb, (false, true), msg);
    }
    Ok(())
}

fn keywords(n: &Node) -> String {
    let mut k: Vec<&str> = n
        .map
        .keys()
        .map(String::as_str)
        .filter(|k| is_assertion(k))
        .collect();
    if !n.all_of.is_empty() {
        k.push("allOf");
    }
    k.join(", ")
}
