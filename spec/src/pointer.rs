//! JSON pointers (RFC 6901): escaping tokens and walking values.

use serde_json::Value;

/// Escapes one reference token (`~` → `~0`, `/` → `~1`).
pub fn escape_token(token: &str) -> String {
    if token.contains(['~', '/']) {
        token.replace('~', "~0").replace('/', "~1")
    } else {
        token.to_owned()
    }
}

/// Splits a pointer into unescaped reference tokens. `""` is the whole
/// document and yields no tokens.
pub fn tokens(pointer: &str) -> Vec<String> {
    if pointer.is_empty() {
        return Vec::new();
    }
    // One leading `/` only: `//` is two empty keys, not one.
    pointer
        .strip_prefix('/')
        .unwrap_or(pointer)
        .split('/')
        .map(|t| t.replace("~1", "/").replace("~0", "~"))
        .collect()
}

/// Joins a parent pointer and one unescaped token.
pub fn join(parent: &str, token: &str) -> String {
    format!("{parent}/{}", escape_token(token))
}

/// Sets the value at `pointer`, creating missing parent objects. Returns
/// `false` when a parent exists but is not an object or array.
pub fn set(root: &mut Value, pointer: &str, value: Value) -> bool {
    let toks = tokens(pointer);
    let Some((last, parents)) = toks.split_last() else {
        *root = value;
        return true;
    };
    let mut cur = root;
    for t in parents {
        cur = match cur {
            Value::Object(m) => m
                .entry(t.clone())
                .or_insert_with(|| Value::Object(Default::default())),
            Value::Array(a) => match t.parse::<usize>().ok().and_then(|i| a.get_mut(i)) {
                Some(v) => v,
                None => return false,
            },
            _ => return false,
        };
    }
    match cur {
        Value::Object(m) => {
            m.insert(last.clone(), value);
            true
        }
        Value::Array(a) => match last.parse::<usize>() {
            Ok(i) if i < a.len() => {
                a[i] = value;
                true
            }
            _ if last == "-" || last.parse::<usize>() == Ok(a.len()) => {
                a.push(value);
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// Removes and returns the value at `pointer`, if present.
pub fn remove(root: &mut Value, pointer: &str) -> Option<Value> {
    let toks = tokens(pointer);
    let (last, parents) = toks.split_last()?;
    let mut cur = root;
    for t in parents {
        cur = match cur {
            Value::Object(m) => m.get_mut(t)?,
            Value::Array(a) => a.get_mut(t.parse::<usize>().ok()?)?,
            _ => return None,
        };
    }
    match cur {
        Value::Object(m) => m.shift_remove(last),
        Value::Array(a) => {
            let i = last.parse::<usize>().ok()?;
            (i < a.len()).then(|| a.remove(i))
        }
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn tokens_unescape() {
        assert_eq!(tokens("/a~1b/c~0d/0"), vec!["a/b", "c~d", "0"]);
        assert!(tokens("").is_empty());
        assert_eq!(join("/x", "a/b"), "/x/a~1b");
    }

    #[test]
    fn empty_keys_are_tokens() {
        // Found by fuzzing: `//` lost one of its two empty keys.
        assert_eq!(tokens("//"), ["", ""]);
        assert_eq!(tokens("//x"), ["", "x"]);
        let mut doc = serde_json::json!({"": {"": 1, "x": 2}});
        assert_eq!(doc.pointer("//x"), Some(&serde_json::json!(2)));
        assert!(set(&mut doc, "//", serde_json::json!(3)));
        assert_eq!(doc, serde_json::json!({"": {"": 3, "x": 2}}));
    }

    #[test]
    fn set_and_remove() {
        let mut v = json!({"a": {"b": [1, 2]}});
        assert!(set(&mut v, "/a/c/d", json!(true)));
        assert!(set(&mut v, "/a/b/-", json!(3)));
        assert_eq!(v, json!({"a": {"b": [1, 2, 3], "c": {"d": true}}}));
        assert_eq!(remove(&mut v, "/a/b/0"), Some(json!(1)));
        assert_eq!(remove(&mut v, "/zz"), None);
        assert!(!set(&mut v, "/a/b/x/y", json!(1)));
    }
}
