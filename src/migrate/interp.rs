//! The interpreter: runs parsed ops on a document, one small function per
//! op behind one dispatch `match`. The CLI uses it so any project migrates
//! without recompiling; compiled steps must give the same output.

use std::collections::BTreeMap;

use serde_json::Value;
use statewright_spec::migration::{
    ConvertOp, EachOp, FillOp, FromToOp, HookOp, Op, PathOp, RemoveOp, RenameOp,
};
use statewright_spec::pointer;

use super::cast::cast;
use super::prim::{self, OpFailure};

/// A hook: a named Rust function registered by the application.
pub type HookFn = fn(&mut Value) -> Result<(), String>;

/// The hooks an application registers, by name.
#[derive(Debug, Clone, Default)]
pub struct Hooks {
    map: BTreeMap<String, HookFn>,
}

impl Hooks {
    /// No hooks.
    pub fn new() -> Hooks {
        Hooks::default()
    }

    /// Registers `f` under `name` (replacing an earlier one).
    pub fn register(&mut self, name: impl Into<String>, f: HookFn) -> &mut Self {
        self.map.insert(name.into(), f);
        self
    }

    /// The hook registered under `name`.
    pub fn get(&self, name: &str) -> Option<HookFn> {
        self.map.get(name).copied()
    }
}

/// Runs `ops` in order on `v`.
pub fn run_ops(ops: &[Op], v: &mut Value, hooks: &Hooks) -> Result<(), OpFailure> {
    ops.iter().try_for_each(|op| run_op(op, v, hooks))
}

/// Runs one op: the single dispatch point.
pub fn run_op(op: &Op, v: &mut Value, hooks: &Hooks) -> Result<(), OpFailure> {
    match op {
        Op::Add(o) | Op::SetDefault(o) => fill(o, v, hooks),
        Op::Remove(o) => remove(o, v, hooks),
        Op::Rename(o) => rename(o, v, hooks),
        Op::Copy(o) => copy(o, v, hooks),
        Op::Move(o) => move_op(o, v, hooks),
        Op::Wrap(o) => wrap(o, v, hooks),
        Op::Head(o) => head(o, v, hooks),
        Op::Convert(o) => convert(o, v, hooks),
        Op::Hook(o) => hook(o, v, hooks),
        Op::Each(o) => each(o, v, hooks),
    }
}

fn toks(p: &str) -> Vec<String> {
    pointer::tokens(p)
}

fn refs(t: &[String]) -> Vec<&str> {
    t.iter().map(String::as_str).collect()
}

fn fill(o: &FillOp, v: &mut Value, _: &Hooks) -> Result<(), OpFailure> {
    let path = toks(&o.path);
    let path = refs(&path);
    if o.copy_from.is_none() {
        return prim::fill(v, &path, || o.default.clone());
    }
    if prim::get(v, &path).is_some() {
        return Ok(());
    }
    let source = o.copy_from.as_deref().map(toks).unwrap_or_default();
    let copied = o
        .copy_from
        .as_ref()
        .and_then(|_| prim::get(v, &refs(&source)).cloned());
    prim::put(v, &path, copied.unwrap_or_else(|| o.default.clone()))
}

fn remove(o: &RemoveOp, v: &mut Value, _: &Hooks) -> Result<(), OpFailure> {
    let path = toks(&o.path);
    match o.if_empty {
        true => prim::take_if_empty(v, &refs(&path)),
        false => {
            prim::take(v, &refs(&path));
        }
    }
    Ok(())
}

fn rename(o: &RenameOp, v: &mut Value, _: &Hooks) -> Result<(), OpFailure> {
    let t = toks(&o.path);
    let (old, parent) = t.split_last().expect("checked: rename has a field");
    prim::rename(v, &refs(parent), old, &o.to)
}

fn copy(o: &FromToOp, v: &mut Value, _: &Hooks) -> Result<(), OpFailure> {
    prim::copy_value(v, &refs(&toks(&o.from)), &refs(&toks(&o.to)))
}

fn move_op(o: &FromToOp, v: &mut Value, _: &Hooks) -> Result<(), OpFailure> {
    prim::move_value(v, &refs(&toks(&o.from)), &refs(&toks(&o.to)))
}

fn wrap(o: &PathOp, v: &mut Value, _: &Hooks) -> Result<(), OpFailure> {
    prim::wrap(v, &refs(&toks(&o.path)));
    Ok(())
}

fn head(o: &PathOp, v: &mut Value, _: &Hooks) -> Result<(), OpFailure> {
    prim::head(v, &refs(&toks(&o.path)));
    Ok(())
}

fn convert(o: &ConvertOp, v: &mut Value, _: &Hooks) -> Result<(), OpFailure> {
    let t = toks(&o.path);
    if let Some(c) = o.cast {
        return cast(v, &refs(&t), c.from, c.to);
    }
    let pairs: Vec<_> = o
        .map
        .iter()
        .map(|m| (m.from.clone(), m.to.clone()))
        .collect();
    prim::map_value(v, &refs(&t), &pairs, o.otherwise.as_ref());
    Ok(())
}

fn hook(o: &HookOp, v: &mut Value, hooks: &Hooks) -> Result<(), OpFailure> {
    let t = toks(&o.path);
    let t = refs(&t);
    let f = hooks.get(&o.name).ok_or_else(|| {
        OpFailure::at(
            &t,
            format!(
                "hook `{}` is not registered; register it with Hooks::register before migrating",
                o.name
            ),
        )
    })?;
    match prim::get_mut(v, &t) {
        Some(x) => f(x).map_err(|m| OpFailure::at(&t, format!("hook `{}` failed: {m}", o.name))),
        None => Ok(()),
    }
}

fn each(o: &EachOp, v: &mut Value, hooks: &Hooks) -> Result<(), OpFailure> {
    prim::each(v, &refs(&toks(&o.path)), |item| {
        run_ops(&o.ops, item, hooks)
    })
}
