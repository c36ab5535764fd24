//! Inverses: each op declares or derives the op that undoes it. An op
//! without one makes its step lossy, and the loss is described.

use super::file::{
    ConvertOp, EachOp, FillOp, FromToOp, HookOp, Mapping, Op, PathOp, RemoveOp, RenameOp,
};
use crate::pointer;

/// An op that cannot be undone, and what a downgrade through it loses.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Lossy {
    /// The op's name.
    pub op: &'static str,
    /// The pointer it acts on; `*` stands for every entry of an `each`.
    pub pointer: String,
    /// What is lost.
    pub lost: String,
}

/// The ops that undo `ops` (inverses in reverse order, skipping ops that
/// have none) and every op that has no inverse. The step is reversible
/// when the second list is empty.
pub fn invert(ops: &[Op]) -> (Vec<Op>, Vec<Lossy>) {
    invert_at("", ops)
}

/// Whether running `ops` and then their inverse gives back every document
/// exactly (`set_default` keeps the filled value on the way down; a
/// `remove` with `if_empty` does not put the empty container back).
pub fn round_trips(ops: &[Op]) -> bool {
    ops.iter().all(|op| match op {
        Op::SetDefault(_) => false,
        Op::Remove(r) if r.if_empty => false,
        Op::Each(e) => round_trips(&e.ops),
        _ => true,
    })
}

fn invert_at(base: &str, ops: &[Op]) -> (Vec<Op>, Vec<Lossy>) {
    let mut out = Vec::new();
    let mut lossy = Vec::new();
    for op in ops.iter().rev() {
        if let Op::Each(e) = op {
            let (inner, mut l) = invert_at(&format!("{base}{}/*", e.path), &e.ops);
            out.push(Op::Each(EachOp {
                path: e.path.clone(),
                ops: inner,
            }));
            l.reverse();
            lossy.append(&mut l);
            continue;
        }
        match inverse(base, op) {
            Ok(mut inv) => out.append(&mut inv),
            Err(mut l) => lossy.append(&mut l),
        }
    }
    lossy.reverse();
    (out, lossy)
}

fn inverse(base: &str, op: &Op) -> Result<Vec<Op>, Vec<Lossy>> {
    let one = |op: Op| Ok(vec![op]);
    match op {
        // `add` creates missing parent objects, as `move` and `copy` do:
        // the way down takes away those left empty.
        Op::Add(o) => Ok(with_created(
            Op::Remove(RemoveOp {
                path: o.path.clone(),
                default: Some(o.default.clone()),
                if_empty: false,
            }),
            None,
            &o.path,
        )),
        Op::SetDefault(_) => Ok(Vec::new()),
        Op::Remove(o) => remove_inverse(base, o),
        Op::Rename(o) => one(Op::Rename(rename_back(o))),
        Op::Copy(o) => Ok(with_created(
            Op::Remove(RemoveOp {
                path: o.to.clone(),
                default: None,
                if_empty: false,
            }),
            Some(&o.from),
            &o.to,
        )),
        Op::Move(o) => Ok(with_created(
            Op::Move(FromToOp {
                from: o.to.clone(),
                to: o.from.clone(),
            }),
            Some(&o.from),
            &o.to,
        )),
        Op::Wrap(o) => one(Op::Head(PathOp {
            path: o.path.clone(),
        })),
        Op::Head(o) => one(Op::Wrap(PathOp {
            path: o.path.clone(),
        })),
        Op::Convert(o) => convert_inverse(base, o).map(|c| vec![Op::Convert(c)]),
        Op::Hook(o) => hook_inverse(base, o),
        Op::Each(_) => unreachable!("each is inverted by invert_at"),
    }
}

/// `undo` followed by the removal, when empty, of each parent object of
/// `to` that the forward op may have created: those below the deepest
/// parent `to` shares with `from` (all of them without a `from`), deepest
/// first.
fn with_created(undo: Op, from: Option<&str>, to: &str) -> Vec<Op> {
    let to = pointer::tokens(to);
    let from = from.map(pointer::tokens).unwrap_or_default();
    let from_parents = &from[..from.len().saturating_sub(1)];
    let shared = to[..to.len().saturating_sub(1)]
        .iter()
        .zip(from_parents)
        .take_while(|(a, b)| a == b)
        .count();
    let mut out = vec![undo];
    for depth in (shared + 1..to.len()).rev() {
        out.push(Op::Remove(RemoveOp {
            path: to[..depth]
                .iter()
                .map(|t| format!("/{}", pointer::escape_token(t)))
                .collect(),
            default: None,
            if_empty: true,
        }));
    }
    out
}

fn remove_inverse(base: &str, o: &RemoveOp) -> Result<Vec<Op>, Vec<Lossy>> {
    if o.if_empty {
        return Ok(Vec::new());
    }
    match &o.default {
        Some(d) => Ok(vec![Op::Add(FillOp {
            path: o.path.clone(),
            default: d.clone(),
            copy_from: None,
        })]),
        None => Err(vec![Lossy {
            op: "remove",
            pointer: format!("{base}{}", o.path),
            lost: "the removed value; a downgrade cannot restore it (give `default:` to restore a fixed value)".into(),
        }]),
    }
}

fn rename_back(o: &RenameOp) -> RenameOp {
    let mut toks = pointer::tokens(&o.path);
    let old = toks.pop().unwrap_or_default();
    let parent: String = toks
        .iter()
        .map(|t| format!("/{}", pointer::escape_token(t)))
        .collect();
    RenameOp {
        path: pointer::join(&parent, &o.to),
        to: old,
    }
}

fn convert_inverse(base: &str, o: &ConvertOp) -> Result<ConvertOp, Vec<Lossy>> {
    if let Some(c) = o.cast {
        let cast = super::file::Cast {
            from: c.to,
            to: c.from,
        };
        return Ok(ConvertOp {
            path: o.path.clone(),
            map: Vec::new(),
            reverse: None,
            otherwise: None,
            cast: Some(cast),
        });
    }
    let reverse = match &o.reverse {
        Some(r) => r.clone(),
        None if injective(&o.map) && o.otherwise.is_none() => o.map.iter().map(swap).collect(),
        None => {
            return Err(vec![Lossy {
                op: "convert",
                pointer: format!("{base}{}", o.path),
                lost: "the original values: the mapping is not one-to-one (or has `otherwise`) and no `reverse` is given".into(),
            }]);
        }
    };
    Ok(ConvertOp {
        path: o.path.clone(),
        map: reverse,
        reverse: Some(o.map.clone()),
        otherwise: None,
        cast: None,
    })
}

fn injective(map: &[Mapping]) -> bool {
    map.iter()
        .enumerate()
        .all(|(i, m)| map[..i].iter().all(|n| n.to != m.to))
}

fn swap(m: &Mapping) -> Mapping {
    Mapping {
        from: m.to.clone(),
        to: m.from.clone(),
    }
}

fn hook_inverse(base: &str, o: &HookOp) -> Result<Vec<Op>, Vec<Lossy>> {
    match &o.inverse {
        Some(inv) => Ok(vec![Op::Hook(HookOp {
            name: inv.clone(),
            path: o.path.clone(),
            inverse: Some(o.name.clone()),
        })]),
        None => Err(vec![Lossy {
            op: "hook",
            pointer: format!("{base}{}", o.path),
            lost: format!(
                "whatever hook `{}` changed: it declares no `inverse` hook",
                o.name
            ),
        }]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn fill(path: &str) -> FillOp {
        FillOp {
            path: path.into(),
            default: json!(0),
            copy_from: None,
        }
    }

    #[test]
    fn inverses_reverse_order_and_rename_back() {
        let ops = vec![
            Op::Add(fill("/a")),
            Op::Rename(RenameOp {
                path: "/x/old".into(),
                to: "new".into(),
            }),
        ];
        let (inv, lossy) = invert(&ops);
        assert!(lossy.is_empty());
        assert_eq!(inv[0].name(), "rename");
        assert_eq!(inv[0].target(), "/x/new");
        assert_eq!(inv[1].name(), "remove");
    }

    #[test]
    fn a_move_into_a_new_object_is_undone_with_the_object() {
        let ops = vec![Op::Move(FromToOp {
            from: "/site".into(),
            to: "/location/site".into(),
        })];
        let (inv, lossy) = invert(&ops);
        assert!(lossy.is_empty());
        assert_eq!(inv.len(), 2);
        assert_eq!(inv[0].target(), "/location/site");
        match &inv[1] {
            Op::Remove(r) => assert!(r.if_empty && r.path == "/location"),
            other => panic!("expected remove, got {other:?}"),
        }
        let within = vec![Op::Move(FromToOp {
            from: "/a/x".into(),
            to: "/a/y".into(),
        })];
        assert_eq!(invert(&within).0.len(), 1);
    }

    #[test]
    fn an_add_into_a_new_object_is_undone_with_the_objects() {
        let (inv, lossy) = invert(&[Op::Add(fill("/a/b/c"))]);
        assert!(lossy.is_empty());
        let shown: Vec<_> = inv
            .iter()
            .map(|op| match op {
                Op::Remove(r) => (r.path.as_str(), r.if_empty),
                other => panic!("expected remove, got {other:?}"),
            })
            .collect();
        assert_eq!(shown, [("/a/b/c", false), ("/a/b", true), ("/a", true)]);
        assert_eq!(invert(&[Op::Add(fill("/top"))]).0.len(), 1);
    }

    #[test]
    fn lossy_ops_are_named_with_their_pointer() {
        let ops = vec![Op::Each(super::super::file::EachOp {
            path: "/items".into(),
            ops: vec![Op::Remove(RemoveOp {
                path: "/gone".into(),
                default: None,
                if_empty: false,
            })],
        })];
        let (_, lossy) = invert(&ops);
        assert_eq!(lossy[0].pointer, "/items/*/gone");
    }
}
