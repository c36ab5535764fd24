//! Value primitives shared by the interpreter and compiled steps: walking,
//! taking and putting values at pre-split pointer tokens. Both paths call
//! these, so they cannot drift apart.

use serde_json::{Map, Value};

/// Why an op could not be applied to a document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpFailure {
    /// The op's pointer, relative to the value it ran on.
    pub pointer: String,
    /// What went wrong.
    pub message: String,
}

impl OpFailure {
    /// A failure at the pointer made of `tokens`.
    pub fn at(tokens: &[&str], message: impl Into<String>) -> OpFailure {
        OpFailure {
            pointer: tokens.iter().map(|t| format!("/{t}")).collect(),
            message: message.into(),
        }
    }
}

/// Objects up to this many members are searched by comparing keys, which
/// for the short keys of state documents is cheaper than hashing the key.
const SCAN_LIMIT: usize = 8;

/// The member `k` of `m`.
fn member<'a>(m: &'a Map<String, Value>, k: &str) -> Option<&'a Value> {
    match m.len() <= SCAN_LIMIT {
        true => m.iter().find_map(|(key, x)| (key == k).then_some(x)),
        false => m.get(k),
    }
}

/// The member `k` of `m`, mutably.
fn member_mut<'a>(m: &'a mut Map<String, Value>, k: &str) -> Option<&'a mut Value> {
    match m.len() <= SCAN_LIMIT {
        true => m.iter_mut().find_map(|(key, x)| (key == k).then_some(x)),
        false => m.get_mut(k),
    }
}

/// Whether `m` has a member `k`.
fn has_member(m: &Map<String, Value>, k: &str) -> bool {
    member(m, k).is_some()
}

/// The value at `tokens`.
pub fn get<'a>(v: &'a Value, tokens: &[&str]) -> Option<&'a Value> {
    tokens.iter().try_fold(v, |cur, t| match cur {
        Value::Object(m) => member(m, t),
        Value::Array(a) => a.get(t.parse::<usize>().ok()?),
        _ => None,
    })
}

/// The value at `tokens`, mutably.
pub fn get_mut<'a>(v: &'a mut Value, tokens: &[&str]) -> Option<&'a mut Value> {
    tokens.iter().try_fold(v, |cur, t| match cur {
        Value::Object(m) => member_mut(m, t),
        Value::Array(a) => a.get_mut(t.parse::<usize>().ok()?),
        _ => None,
    })
}

/// Removes and returns the value at `tokens` (keeping the order of the rest).
pub fn take(v: &mut Value, tokens: &[&str]) -> Option<Value> {
    take_entry(v, tokens).map(|(_, x)| x)
}

/// Removes the value at `tokens` when it is an empty object or array (a
/// container an upgrade created, taken away by the downgrade).
pub fn take_if_empty(v: &mut Value, tokens: &[&str]) {
    let empty = match get(v, tokens) {
        Some(Value::Object(m)) => m.is_empty(),
        Some(Value::Array(a)) => a.is_empty(),
        _ => false,
    };
    if empty {
        take(v, tokens);
    }
}

/// Like [`take`], with the removed key (objects only), whose buffer a
/// following insertion can reuse.
fn take_entry(v: &mut Value, tokens: &[&str]) -> Option<(Option<String>, Value)> {
    let (last, parents) = tokens.split_last()?;
    match get_mut(v, parents)? {
        Value::Object(m) => m.shift_remove_entry(*last).map(|(k, x)| (Some(k), x)),
        Value::Array(a) => {
            let i = last.parse::<usize>().ok().filter(|i| *i < a.len())?;
            Some((None, a.remove(i)))
        }
        _ => None,
    }
}

/// `t` as an owned key, in `spare`'s buffer when there is one.
fn key(spare: &mut Option<String>, t: &str) -> String {
    match spare.take() {
        Some(mut s) => {
            s.clear();
            s.push_str(t);
            s
        }
        None => t.to_owned(),
    }
}

/// Sets `x` to the string `s`, reusing its buffer when it is a string.
pub fn set_str(x: &mut Value, s: &str) {
    match x {
        Value::String(old) => {
            old.clear();
            old.push_str(s);
        }
        other => *other = Value::String(s.to_owned()),
    }
}

/// Puts `value` at `tokens`, creating missing parent objects.
pub fn put(v: &mut Value, tokens: &[&str], value: Value) -> Result<(), OpFailure> {
    put_with(v, tokens, value, None)
}

/// [`put`], allocating keys in `spare` first (a key just removed).
fn put_with(
    v: &mut Value,
    tokens: &[&str],
    value: Value,
    mut spare: Option<String>,
) -> Result<(), OpFailure> {
    let Some((last, parents)) = tokens.split_last() else {
        *v = value;
        return Ok(());
    };
    match parent_mut(v, tokens, parents, &mut spare)? {
        Value::Object(m) => {
            m.insert(key(&mut spare, last), value);
            Ok(())
        }
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => {
                a[i] = value;
                Ok(())
            }
            _ => Err(OpFailure::at(tokens, "no such array item")),
        },
        other => Err(not_container(parents, other)),
    }
}

/// Puts the value `make` builds at `tokens` when nothing is there yet
/// (`add`, `set_default`): one walk, and `make` runs only when needed.
pub fn fill(v: &mut Value, tokens: &[&str], make: impl FnOnce() -> Value) -> Result<(), OpFailure> {
    let Some((last, parents)) = tokens.split_last() else {
        return Ok(());
    };
    let parent = match get_mut(v, parents) {
        Some(p) => p,
        None => return put(v, tokens, make()),
    };
    match parent {
        Value::Object(m) => {
            if !has_member(m, last) {
                m.insert((*last).to_owned(), make());
            }
            Ok(())
        }
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => Ok(()),
            _ => Err(OpFailure::at(tokens, "no such array item")),
        },
        other => Err(not_container(parents, other)),
    }
}

/// Walks to the parent at `parents`, creating missing objects (without
/// allocating a key for the parents that exist).
fn parent_mut<'a>(
    v: &'a mut Value,
    tokens: &[&str],
    parents: &[&str],
    spare: &mut Option<String>,
) -> Result<&'a mut Value, OpFailure> {
    let mut cur = v;
    for (i, t) in parents.iter().enumerate() {
        cur = match cur {
            Value::Object(m) => match has_member(m, t) {
                true => member_mut(m, t).expect("present"),
                false => m
                    .entry(key(spare, t))
                    .or_insert_with(|| Value::Object(Map::new())),
            },
            Value::Array(a) => match t.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(x) => x,
                None => return Err(OpFailure::at(&tokens[..=i], "no such array item")),
            },
            other => return Err(not_container(&tokens[..i], other)),
        };
    }
    Ok(cur)
}

fn not_container(tokens: &[&str], v: &Value) -> OpFailure {
    OpFailure::at(
        tokens,
        format!("expected an object or array, found {}", type_name(v)),
    )
}

/// The JSON type name of a value, for messages.
pub fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Renames key `old` to `new` in the object at `parent`, keeping its place.
pub fn rename(v: &mut Value, parent: &[&str], old: &str, new: &str) -> Result<(), OpFailure> {
    let Some(Value::Object(m)) = get_mut(v, parent) else {
        return Ok(());
    };
    // One scan finds the key's place and whether `new` is taken, so the
    // usual case (a free name) costs one removal and one insertion.
    let (mut index, mut taken) = (None, false);
    for (i, k) in m.keys().enumerate() {
        if k == old {
            index = Some(i);
        } else if k == new {
            taken = true;
        }
    }
    let Some(index) = index else {
        return Ok(());
    };
    if taken {
        let mut at = parent.to_vec();
        at.push(new);
        return Err(OpFailure::at(&at, taken_message("rename", old, new)));
    }
    // A free name: append it with the value and swap it into the old
    // key's slot, which keeps the order without shifting entries.
    let value = m
        .values_mut()
        .nth(index)
        .map(Value::take)
        .unwrap_or_default();
    m.insert(new.to_owned(), value);
    m.swap_remove(old);
    Ok(())
}

/// Why an op that would put a value where one already is refuses: the
/// value there would be lost without a word.
fn taken_message(op: &str, from: &str, to: &str) -> String {
    format!(
        "cannot {op} `{from}` to `{to}`: `{to}` already holds a value, which would be lost; remove it first (a `remove` op before this one) if it is to be replaced"
    )
}

fn pointer_of(tokens: &[&str]) -> String {
    tokens.iter().map(|t| format!("/{t}")).collect()
}

/// Refuses to put a value at `to` when one is there, unless `to` holds
/// `from` (a hoist: the container is replaced by a member of it).
fn ensure_free(v: &Value, op: &str, from: &[&str], to: &[&str]) -> Result<(), OpFailure> {
    match get(v, to) {
        Some(_) if !from.starts_with(to) => Err(OpFailure::at(
            to,
            taken_message(op, &pointer_of(from), &pointer_of(to)),
        )),
        _ => Ok(()),
    }
}

/// Moves the value at `from` to `to` (nothing to do when `from` is missing).
pub fn move_value(v: &mut Value, from: &[&str], to: &[&str]) -> Result<(), OpFailure> {
    if from == to || get(v, from).is_none() {
        return Ok(());
    }
    ensure_free(v, "move", from, to)?;
    match take_entry(v, from) {
        Some((k, x)) => put_with(v, to, x, k),
        None => Ok(()),
    }
}

/// Copies the value at `from` to `to` (nothing to do when `from` is missing).
pub fn copy_value(v: &mut Value, from: &[&str], to: &[&str]) -> Result<(), OpFailure> {
    if from == to || get(v, from).is_none() {
        return Ok(());
    }
    ensure_free(v, "copy", from, to)?;
    match get(v, from).cloned() {
        Some(x) => put(v, to, x),
        None => Ok(()),
    }
}

/// Scalar → one-item array; `null` → `[]`; arrays and missing values stay.
pub fn wrap(v: &mut Value, at: &[&str]) {
    if let Some(x) = get_mut(v, at) {
        match x {
            Value::Array(_) => {}
            Value::Null => *x = Value::Array(Vec::new()),
            other => *other = Value::Array(vec![other.take()]),
        }
    }
}

/// Array → its first item; `[]` → `null`; other values stay.
pub fn head(v: &mut Value, at: &[&str]) {
    if let Some(x) = get_mut(v, at)
        && let Value::Array(a) = x
    {
        *x = if a.is_empty() {
            Value::Null
        } else {
            a.swap_remove(0)
        };
    }
}

/// Replaces the value at `at` by the `to` of the first pair whose `from`
/// equals it, or by `otherwise` when none does.
pub fn map_value(v: &mut Value, at: &[&str], pairs: &[(Value, Value)], otherwise: Option<&Value>) {
    if let Some(x) = get_mut(v, at) {
        match pairs.iter().find(|(from, _)| from == x) {
            Some((_, to)) => *x = to.clone(),
            None => {
                if let Some(o) = otherwise {
                    *x = o.clone();
                }
            }
        }
    }
}

/// Calls `f` with every entry of the map or item of the array at `at`.
pub fn each(
    v: &mut Value,
    at: &[&str],
    mut f: impl FnMut(&mut Value) -> Result<(), OpFailure>,
) -> Result<(), OpFailure> {
    match get_mut(v, at) {
        Some(Value::Object(m)) => m.values_mut().try_for_each(&mut f),
        Some(Value::Array(a)) => a.iter_mut().try_for_each(&mut f),
        _ => Ok(()),
    }
}
