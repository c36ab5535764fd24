//! A schema node as the rules see it: `$ref`s followed, `allOf` members
//! without conflicts merged in, and every keyword's origin kept so that
//! changes point at the place a reader can edit.

use std::collections::HashMap;
use std::sync::Arc;

use serde_json::{Map, Value};

use super::types::TypeSet;

/// One schema document: a root schema (A or B) or one loaded through the
/// offline registry.
#[derive(Debug)]
pub(crate) struct Doc {
    /// The document.
    pub root: Value,
    /// Its retrieval or `$id` URI, when known.
    pub uri: Option<String>,
    /// `false` for the two schemas being compared.
    pub external: bool,
    /// `A` or `B`.
    pub side: &'static str,
}

/// A location inside a schema document.
#[derive(Debug, Clone)]
pub(crate) struct Loc {
    pub doc: Arc<Doc>,
    pub ptr: String,
    /// The keyword is absent here (the default applies).
    pub absent: bool,
}

impl Loc {
    /// The root of a document.
    pub fn root(doc: Arc<Doc>) -> Loc {
        Loc {
            doc,
            ptr: String::new(),
            absent: false,
        }
    }

    /// A child location.
    pub fn join(&self, token: &str) -> Loc {
        Loc {
            doc: self.doc.clone(),
            ptr: statewright_spec::pointer::join(&self.ptr, token),
            absent: self.absent,
        }
    }

    /// An array element.
    pub fn index(&self, i: usize) -> Loc {
        self.join(&i.to_string())
    }

    /// The same location, marked absent.
    pub fn absent(mut self) -> Loc {
        self.absent = true;
        self
    }

    /// The pointer shown in a change: a JSON pointer into the compared
    /// schema, or `uri#pointer` into a referenced one; `None` when absent.
    pub fn shown(&self) -> Option<String> {
        if self.absent {
            None
        } else if self.doc.external {
            Some(format!(
                "{}#{}",
                self.doc.uri.as_deref().unwrap_or(""),
                self.ptr
            ))
        } else {
            Some(self.ptr.clone())
        }
    }

    /// A key that identifies the location.
    pub fn key(&self) -> String {
        format!(
            "{}:{}#{}{}",
            self.doc.side,
            self.doc.uri.as_deref().unwrap_or(""),
            self.ptr,
            if self.absent { "?" } else { "" }
        )
    }
}

/// Keywords that constrain instances. Anything else is an annotation (or
/// unknown, which validators ignore).
pub(crate) const ASSERTIONS: &[&str] = &[
    "type",
    "enum",
    "const",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "format",
    "contentEncoding",
    "contentMediaType",
    "items",
    "prefixItems",
    "additionalItems",
    "unevaluatedItems",
    "contains",
    "minContains",
    "maxContains",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
    "properties",
    "patternProperties",
    "additionalProperties",
    "unevaluatedProperties",
    "propertyNames",
    "dependencies",
    "dependentRequired",
    "dependentSchemas",
    "allOf",
    "anyOf",
    "oneOf",
    "not",
    "if",
    "then",
    "else",
    "$ref",
    "$dynamicRef",
    "$recursiveRef",
];

/// Whether a keyword constrains instances.
pub(crate) fn is_assertion(key: &str) -> bool {
    ASSERTIONS.contains(&key)
}

/// A resolved schema node.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    /// Where the node is.
    pub loc: Loc,
    /// `Some` for a boolean schema.
    pub boolean: Option<bool>,
    /// The keywords (own and merged from `allOf` / `$ref`).
    pub map: Map<String, Value>,
    /// Keywords merged from elsewhere: the location holding them.
    pub origins: HashMap<String, Loc>,
    /// Members of a keyword's map merged from elsewhere (`properties` →
    /// name): the location holding them.
    pub nested: HashMap<(String, String), Loc>,
    /// `allOf` members that could not be merged.
    pub all_of: Vec<(Value, Loc)>,
    /// Distinguishes nodes synthesised by the rules from plain ones.
    pub tag: u64,
}

impl Node {
    /// A boolean schema.
    pub fn boolean(b: bool, loc: Loc) -> Node {
        Node {
            loc,
            boolean: Some(b),
            map: Map::new(),
            origins: HashMap::new(),
            nested: HashMap::new(),
            all_of: Vec::new(),
            tag: 0,
        }
    }

    /// An object schema with no keywords yet.
    pub fn object(loc: Loc) -> Node {
        Node {
            boolean: None,
            ..Node::boolean(true, loc)
        }
    }

    /// A keyword's value.
    pub fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key)
    }

    /// Where a keyword lives (absent when the node lacks it).
    pub fn loc_of(&self, key: &str) -> Loc {
        match self.origins.get(key) {
            Some(l) => l.clone(),
            None if self.map.contains_key(key) => self.loc.join(key),
            None => self.loc.join(key).absent(),
        }
    }

    /// The pointer shown for a keyword.
    pub fn ptr(&self, key: &str) -> Option<String> {
        self.loc_of(key).shown()
    }

    /// A subschema under a keyword (`true` with an absent location when
    /// the keyword is missing).
    pub fn sub(&self, key: &str) -> (Value, Loc) {
        match self.map.get(key) {
            Some(v) => (v.clone(), self.loc_of(key)),
            None => (Value::Bool(true), self.loc_of(key)),
        }
    }

    /// A subschema one level further down (`properties` → name).
    pub fn sub2(&self, key: &str, token: &str) -> Option<(Value, Loc)> {
        let v = self.map.get(key)?.get(token)?;
        let loc = match self.nested.get(&(key.to_owned(), token.to_owned())) {
            Some(l) => l.clone(),
            None => self.loc_of(key).join(token),
        };
        Some((v.clone(), loc))
    }

    /// Accepts every instance.
    pub fn is_true(&self) -> bool {
        match self.boolean {
            Some(b) => b,
            None => self.all_of.is_empty() && !self.map.keys().any(|k| is_assertion(k)),
        }
    }

    /// Rejects every instance.
    pub fn is_false(&self) -> bool {
        match self.boolean {
            Some(b) => !b,
            None => match self.map.get("not") {
                Some(Value::Bool(true)) => true,
                Some(Value::Object(m)) => !m.keys().any(|k| is_assertion(k)),
                _ => false,
            },
        }
    }

    /// The instance types the node can admit (from `type`, `enum`, `const`).
    pub fn types(&self) -> TypeSet {
        if self.boolean == Some(false) {
            return TypeSet::NONE;
        }
        let mut ts = self
            .map
            .get("type")
            .map_or(TypeSet::ALL, TypeSet::from_type_keyword);
        if let Some(values) = enum_values(&self.map) {
            ts = ts.intersect(
                values
                    .iter()
                    .fold(TypeSet::NONE, |acc, v| acc.union(TypeSet::of_value(v))),
            );
        }
        ts
    }

    /// A key for cycle detection and memoisation.
    pub fn key(&self) -> String {
        format!("{}@{}", self.loc.key(), self.tag)
    }

    /// The node without some keywords (used to split a base from branches).
    pub fn without(&self, keys: &[&str]) -> Node {
        let mut n = self.clone();
        for k in keys {
            n.map.shift_remove(*k);
            n.origins.remove(*k);
        }
        n
    }
}

/// `enum` values, or `[const]`.
pub(crate) fn enum_values(map: &Map<String, Value>) -> Option<Vec<Value>> {
    if let Some(c) = map.get("const") {
        return Some(vec![c.clone()]);
    }
    match map.get("enum") {
        Some(Value::Array(a)) => Some(a.clone()),
        _ => None,
    }
}

/// JSON equality with numbers compared by value (`1` equals `1.0`).
pub(crate) fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(p, q)| json_eq(p, q))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| json_eq(v, w)))
        }
        _ => a == b,
    }
}

/// Whether a value holds a `$ref` anywhere.
pub(crate) fn has_ref(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.contains_key("$ref") || m.values().any(has_ref),
        Value::Array(a) => a.iter().any(has_ref),
        _ => false,
    }
}

/// Finds the subschema named by a plain-name fragment (`$anchor`, or a
/// draft-07 `$id: "#name"`).
pub(crate) fn find_anchor(root: &Value, name: &str) -> Option<String> {
    fn walk(v: &Value, name: &str, ptr: String) -> Option<String> {
        match v {
            Value::Object(m) => {
                let hit = m.get("$anchor").and_then(Value::as_str) == Some(name)
                    || ["$id", "id"].iter().any(|k| {
                        m.get(*k)
                            .and_then(Value::as_str)
                            .is_some_and(|id| id.rsplit_once('#').map(|(_, f)| f) == Some(name))
                    });
                if hit {
                    return Some(ptr);
                }
                m.iter()
                    .find_map(|(k, c)| walk(c, name, statewright_spec::pointer::join(&ptr, k)))
            }
            Value::Array(a) => a
                .iter()
                .enumerate()
                .find_map(|(i, c)| walk(c, name, format!("{ptr}/{i}"))),
            _ => None,
        }
    }
    walk(root, name, String::new())
}

/// Resolves a URI reference against a base (RFC 3986, the parts schemas
/// use: absolute references, absolute paths, relative paths with `..`).
pub(crate) fn join_uri(base: Option<&str>, reference: &str) -> Option<String> {
    if reference.contains("://") || reference.starts_with("urn:") {
        return Some(reference.to_owned());
    }
    let base = base?.split('#').next()?;
    let (prefix, path) = match base.find("://") {
        Some(i) => {
            let after = i + 3;
            match base[after..].find('/') {
                Some(j) => base.split_at(after + j),
                None => (base, "/"),
            }
        }
        None => ("", base),
    };
    let joined = if reference.starts_with('/') {
        reference.to_owned()
    } else {
        let dir = path.rsplit_once('/').map_or("", |(d, _)| d);
        format!("{dir}/{reference}")
    };
    let mut out: Vec<&str> = Vec::new();
    for seg in joined.split('/') {
        match seg {
            "." => {}
            ".." => {
                if out.len() > 1 {
                    out.pop();
                }
            }
            s => out.push(s),
        }
    }
    Some(format!("{prefix}{}", out.join("/")))
}

/// Keywords that hold no subschema: a node with only these (and
/// annotations) is compared without walking further.
const FLAT: &[&str] = &[
    "type",
    "enum",
    "const",
    "multipleOf",
    "maximum",
    "exclusiveMaximum",
    "minimum",
    "exclusiveMinimum",
    "maxLength",
    "minLength",
    "pattern",
    "format",
    "maxItems",
    "minItems",
    "uniqueItems",
    "maxProperties",
    "minProperties",
    "required",
];

impl Node {
    /// Only flat keywords (no subschema, no `$ref`, no unmerged `allOf`).
    pub fn is_flat(&self) -> bool {
        self.boolean.is_none()
            && self.all_of.is_empty()
            && self
                .map
                .keys()
                .all(|k| !is_assertion(k) || FLAT.contains(&k.as_str()))
    }

    /// Whether the flat node accepts `v`, as the validator decides.
    pub fn accepts(&self, v: &Value, formats: bool) -> Option<bool> {
        let schema: Map<String, Value> = self
            .map
            .iter()
            .filter(|(k, _)| FLAT.contains(&k.as_str()))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        jsonschema::options()
            .should_validate_formats(formats)
            .build(&Value::Object(schema))
            .ok()
            .map(|val| val.is_valid(v))
    }

    /// The values a flat node admits when they are finitely many: its
    /// `enum`/`const` values that meet its other keywords, or the one
    /// number of a numeric range whose bounds meet.
    pub fn finite(&self, formats: bool) -> Option<Vec<Value>> {
        if !self.is_flat() {
            return None;
        }
        let candidates = match enum_values(&self.map) {
            Some(v) => v,
            None => {
                let numeric = TypeSet::INTEGER.union(TypeSet::NUMBER);
                let (lo, hi) = (self.get("minimum")?, self.get("maximum")?);
                if !self.types().subset_of(numeric) || lo.as_f64()? != hi.as_f64()? {
                    return None;
                }
                vec![lo.clone()]
            }
        };
        let mut out = Vec::new();
        for v in candidates {
            if self.accepts(&v, formats)? {
                out.push(v);
            }
        }
        Some(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn uri_join() {
        let b = Some("https://x.dev/schemas/packer-hybrid/v1.json");
        assert_eq!(
            join_uri(b, "../envelope.json").as_deref(),
            Some("https://x.dev/schemas/envelope.json")
        );
        assert_eq!(
            join_uri(b, "v2.json").as_deref(),
            Some("https://x.dev/schemas/packer-hybrid/v2.json")
        );
        assert_eq!(
            join_uri(b, "/a.json").as_deref(),
            Some("https://x.dev/a.json")
        );
        assert_eq!(join_uri(None, "a.json"), None);
        assert_eq!(
            join_uri(Some("file:///tmp/s/a.json"), "b.json").as_deref(),
            Some("file:///tmp/s/b.json")
        );
    }

    #[test]
    fn anchors() {
        let root = json!({"definitions": {"A": {"$id": "#Address"}, "B": {"$anchor": "b"}}});
        assert_eq!(
            find_anchor(&root, "Address").as_deref(),
            Some("/definitions/A")
        );
        assert_eq!(find_anchor(&root, "b").as_deref(), Some("/definitions/B"));
        assert_eq!(find_anchor(&root, "c"), None);
    }

    #[test]
    fn numbers_compare_by_value() {
        assert!(json_eq(&json!([1, {"a": 2.0}]), &json!([1.0, {"a": 2}])));
        assert!(!json_eq(&json!("1"), &json!(1)));
    }
}
