//! TOML: the previous text as a `toml_edit` document, which keeps
//! comments, whitespace and key order; only what changed is set, inserted
//! or removed in it.

use serde_json::{Map, Value};
use toml_edit::{Array, ArrayOfTables, DocumentMut, InlineTable, Item, Table, TableLike};

use super::Unsupported;
use crate::pointer::join;

/// The text of `new`, made from `text` (which reads as `old`).
pub(super) fn splice(text: &str, old: &Value, new: &Value) -> Result<String, Unsupported> {
    let mut doc: DocumentMut = text.parse().map_err(|e: toml_edit::TomlError| {
        Unsupported::at("", format!("does not parse as TOML: {}", e.message()))
    })?;
    let (Value::Object(o), Value::Object(n)) = (old, new) else {
        return Err(Unsupported::at("", "is not a table"));
    };
    table(doc.as_table_mut(), o, n, "")?;
    let mut out = doc.to_string();
    // A table added at the end would leave the last line unterminated.
    if text.ends_with('\n') && !out.ends_with('\n') {
        out.push('\n');
    }
    Ok(out)
}

/// Edits the table (or inline table) `t`, which reads as `o`, into `n`.
fn table(
    t: &mut dyn TableLike,
    o: &Map<String, Value>,
    n: &Map<String, Value>,
    ptr: &str,
) -> Result<(), Unsupported> {
    let inline = t.is_dotted() || t.iter().all(|(_, i)| i.is_value());
    let indent = sibling_indent(t);
    for k in o.keys().filter(|k| !n.contains_key(*k)) {
        t.remove(k);
    }
    for (k, nv) in n {
        let at = join(ptr, k);
        match (o.get(k), t.get_mut(k)) {
            (Some(ov), Some(item)) if ov != nv => self::item(item, ov, nv, &at)?,
            (Some(_), Some(_)) => {}
            (None, _) => {
                let made = if inline { None } else { standard(nv, &at)? };
                let made = match made {
                    Some(item) => item,
                    None => Item::Value(value(nv, &at)?),
                };
                let value = made.is_value();
                t.insert(k, made);
                if let (true, Some(indent), Some(mut key)) = (value, &indent, t.key_mut(k)) {
                    key.leaf_decor_mut().set_prefix(indent.as_str());
                }
            }
            (Some(_), None) => return Err(Unsupported::at(&at, "is not in the text")),
        }
    }
    Ok(())
}

/// The indentation of the last key written with a value in `t`, when it
/// is only spaces and tabs: a key added to `t` gets it too.
fn sibling_indent(t: &dyn TableLike) -> Option<String> {
    let (last, _) = t.iter().filter(|(_, i)| i.is_value()).last()?;
    let prefix = t.key(last)?.leaf_decor().prefix()?.as_str()?;
    prefix
        .chars()
        .all(|c| c == ' ' || c == '\t')
        .then(|| prefix.to_owned())
}

/// Edits `item`, which reads as `old`, into `new`.
fn item(item: &mut Item, old: &Value, new: &Value, ptr: &str) -> Result<(), Unsupported> {
    match (old, new, item) {
        (_, _, Item::Value(v)) => self::replace(v, old, new, ptr),
        (Value::Object(o), Value::Object(n), Item::Table(t)) => {
            table(t, o, n, ptr)?;
            // A table left empty is written (`[name]`), not implied.
            if t.is_empty() {
                t.set_implicit(false);
            }
            Ok(())
        }
        (Value::Object(o), Value::Object(n), item) if item.is_table_like() => {
            let t = item.as_table_like_mut().ok_or_else(|| lost(ptr))?;
            table(t, o, n, ptr)
        }
        // An array of tables left without a table is no `[[name]]` at all.
        (Value::Array(_), Value::Array(n), item) if n.is_empty() && item.is_array_of_tables() => {
            *item = Item::Value(Array::new().into());
            Ok(())
        }
        (Value::Array(o), Value::Array(n), Item::ArrayOfTables(a)) => tables(a, o, n, ptr),
        _ => Err(Unsupported::at(ptr, "changes the kind of a table")),
    }
}

/// Edits the value `v`, which reads as `old`, into `new`, keeping its
/// decoration (the whitespace and comments around it).
fn replace(
    v: &mut toml_edit::Value,
    old: &Value,
    new: &Value,
    ptr: &str,
) -> Result<(), Unsupported> {
    match (old, new, &mut *v) {
        (Value::Object(o), Value::Object(n), toml_edit::Value::InlineTable(t)) => {
            let tail = last_suffix(t);
            table(t, o, n, ptr)?;
            // The space before `}` is the last value's: it stays at the end.
            if let Some((tail, key)) = tail.zip(t.iter().last().map(|(k, _)| k.to_owned()))
                && let Some(v) = t.get_mut(&key)
            {
                v.decor_mut().set_suffix(tail);
            }
            Ok(())
        }
        (Value::Array(o), Value::Array(n), toml_edit::Value::Array(a)) => {
            while a.len() > n.len() {
                a.remove(a.len() - 1);
            }
            for (i, nv) in n.iter().enumerate() {
                let at = join(ptr, &i.to_string());
                match (o.get(i), a.get_mut(i)) {
                    (Some(ov), Some(x)) if ov != nv => replace(x, ov, nv, &at)?,
                    (Some(_), Some(_)) => {}
                    _ => a.push_formatted(value(nv, &at)?),
                }
            }
            Ok(())
        }
        _ => {
            let decor = v.decor().clone();
            *v = match (new, literal(v)) {
                (Value::String(s), true) => {
                    literal_string(s).map_or_else(|| value(new, ptr), Ok)?
                }
                _ => value(new, ptr)?,
            };
            *v.decor_mut() = decor;
            Ok(())
        }
    }
}

/// The whitespace after the last value of an inline table.
fn last_suffix(t: &InlineTable) -> Option<String> {
    let (_, v) = t.iter().last()?;
    v.decor().suffix()?.as_str().map(str::to_owned)
}

/// Whether `v` is a string written as a one-line literal (`'text'`).
fn literal(v: &toml_edit::Value) -> bool {
    let toml_edit::Value::String(f) = v else {
        return false;
    };
    let raw = f.as_repr().and_then(|r| r.as_raw().as_str());
    raw.is_some_and(|r| r.starts_with('\'') && !r.starts_with("'''"))
}

/// `s` as a literal string (`'text'`), when it can be one.
fn literal_string(s: &str) -> Option<toml_edit::Value> {
    if s.chars().any(|c| c == '\'' || c.is_control()) {
        return None;
    }
    format!("'{s}'").parse().ok()
}

/// Edits an array of tables (`[[name]]`), which reads as `o`, into `n`.
fn tables(a: &mut ArrayOfTables, o: &[Value], n: &[Value], ptr: &str) -> Result<(), Unsupported> {
    while a.len() > n.len() {
        a.remove(a.len() - 1);
    }
    for (i, nv) in n.iter().enumerate() {
        let at = join(ptr, &i.to_string());
        let Value::Object(nm) = nv else {
            return Err(Unsupported::at(
                &at,
                "is not a table, in an array of tables",
            ));
        };
        match (o.get(i), a.get_mut(i)) {
            (Some(Value::Object(om)), Some(t)) => table(t, om, nm, &at)?,
            (Some(_), _) => return Err(lost(&at)),
            (None, _) => a.push(new_table(nm, &at)?),
        }
    }
    Ok(())
}

/// `v` as an item of a standard table: an object as a `[table]` of its
/// own; `None` for anything else (written as a value).
fn standard(v: &Value, ptr: &str) -> Result<Option<Item>, Unsupported> {
    match v {
        Value::Object(m) => Ok(Some(Item::Table(new_table(m, ptr)?))),
        _ => Ok(None),
    }
}

fn new_table(m: &Map<String, Value>, ptr: &str) -> Result<Table, Unsupported> {
    let mut t = Table::new();
    for (k, v) in m {
        let at = join(ptr, k);
        let made = match standard(v, &at)? {
            Some(item) => item,
            None => Item::Value(value(v, &at)?),
        };
        t.insert(k, made);
    }
    Ok(t)
}

/// `v` as a TOML value (objects as inline tables).
fn value(v: &Value, ptr: &str) -> Result<toml_edit::Value, Unsupported> {
    Ok(match v {
        Value::Null => return Err(Unsupported::at(ptr, "is null, which TOML cannot write")),
        Value::Bool(b) => (*b).into(),
        Value::String(s) => s.as_str().into(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.into(),
            (None, Some(f)) if !n.as_str().chars().all(|c| c.is_ascii_digit() || c == '-') => {
                f.into()
            }
            _ => return Err(Unsupported::at(ptr, "is a number TOML cannot write")),
        },
        Value::Array(items) => {
            let mut a = Array::new();
            for (i, x) in items.iter().enumerate() {
                a.push_formatted(value(x, &join(ptr, &i.to_string()))?);
            }
            a.fmt();
            a.into()
        }
        Value::Object(m) => {
            let mut t = InlineTable::new();
            for (k, x) in m {
                t.insert(k, value(x, &join(ptr, k))?);
            }
            t.fmt();
            t.into()
        }
    })
}

fn lost(pointer: &str) -> Unsupported {
    Unsupported::at(pointer, "could not be found in the text")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edit(text: &str, new: Value) -> String {
        let old: Value = toml::from_str(text).unwrap();
        let out = splice(text, &old, &new).unwrap();
        let back: Value = toml::from_str(&out).unwrap();
        assert_eq!(back, new, "{out}");
        out
    }

    #[test]
    fn arrays_of_tables_and_inline_tables_are_edited_in_place() {
        let t = "[[step]]\nid = 1 # first\n\n[[step]]\nid = 2\nmeta = { a = 1, b = 2 }\n";
        assert_eq!(
            edit(
                t,
                json!({"step": [{"id": 1}, {"id": 3, "meta": {"a": 1}}, {"id": 4}]})
            ),
            "[[step]]\nid = 1 # first\n\n[[step]]\nid = 3\nmeta = { a = 1 }\n\n[[step]]\nid = 4\n"
        );
        let old: Value = toml::from_str(t).unwrap();
        let e = splice(t, &old, &json!({"step": [{"id": null}]})).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the change at /step/0/id is null, which TOML cannot write"
        );
    }

    #[test]
    fn comments_and_spacing_stay() {
        let t = "# top\nb = 1   # the b\n\n[zeta]\n  a = 'x'  # quoted\n  c = [1, 2]\n";
        assert_eq!(
            edit(t, json!({"b": 1, "zeta": {"a": "y", "c": [1, 2]}})),
            "# top\nb = 1   # the b\n\n[zeta]\n  a = 'y'  # quoted\n  c = [1, 2]\n"
        );
        assert_eq!(
            edit(
                t,
                json!({"b": 2, "zeta": {"a": "x", "c": [1, 2, 3]}, "n": {"m": 1}})
            ),
            "# top\nb = 2   # the b\n\n[zeta]\n  a = 'x'  # quoted\n  c = [1, 2, 3]\n\n[n]\nm = 1\n"
        );
        assert_eq!(
            edit(t, json!({"b": 1, "zeta": {"c": [1, 2]}})),
            "# top\nb = 1   # the b\n\n[zeta]\n  c = [1, 2]\n"
        );
    }
}
