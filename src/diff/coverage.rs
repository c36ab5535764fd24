//! Schema diff against a migration: which backward-incompatible changes
//! between two adjacent versions of a kind the migration file does not
//! account for.
//!
//! A change is *backward incompatible* when a document valid under the old
//! schema may be invalid under the new one: exactly what a migration has
//! to repair. Forward-only changes (a property a closed object now allows)
//! need no op and are not looked at.
//!
//! Each change's schema pointer is turned into the document paths it
//! governs by walking the schema from its root (`properties/x` → `/x`,
//! `items` and `additionalProperties` → `/*`, local `$ref`s followed), and
//! the migration's ops are flattened the same way (an `each` at `/services`
//! makes its ops' pointers `/services/*/..`). Then:
//!
//! - a newly required property (`SD211`, `SD212`) needs an op that fills
//!   it: `add`, `set_default`, or a `copy`, `move` or `rename` into it (an
//!   `add`, `copy` or `move` below it creates it too);
//! - a property removed from a closed object (`SD203`) needs `remove`, or
//!   a `move` or `rename` away from it;
//! - a change to the values a field admits (its type, enum or const,
//!   range, multipleOf, length, pattern, format or content encoding)
//!   needs an op on that very value: `convert`, `wrap`, `head`, `remove`,
//!   or a `move`/`rename` of it, or a `copy`/`move`/`rename` into it (an
//!   op on a member below it does not change its type);
//! - any other incompatible change (the shape of an object or array
//!   narrowed) needs an op that rewrites it: any op at the field or below.
//!
//! A `hook` covers everything under its path. Changes to the version field
//! are left out: the migrator writes the version itself.

use std::collections::{BTreeMap, BTreeSet};

use serde::Serialize;
use serde_json::Value;
use statewright_spec::migration::{MigrationFile, Op};
use statewright_spec::pointer::{escape_token, tokens};

use crate::diff::{Change, SchemaDiff};

/// What kind of op a change needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Need {
    /// An op that fills the field (`add`, `set_default`, or `copy`, `move`,
    /// `rename` into it).
    Fill,
    /// An op that takes the field away (`remove`, or `move`, `rename` out).
    Remove,
    /// An op that rewrites the value (`convert`, `wrap`, `head`, `move`, ...).
    Rewrite,
}

impl Need {
    /// The ops that would satisfy the need, for messages.
    pub fn ops(self) -> &'static str {
        match self {
            Need::Fill => "`add` (or `set_default`, or a `copy`/`move`/`rename` into it)",
            Need::Remove => "`remove` (or a `move`/`rename` away from it)",
            Need::Rewrite => "`convert` (or `wrap`, `head`, `move`, or a `hook`)",
        }
    }
}

/// One backward-incompatible change and whether the migration covers it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Coverage {
    /// The change, as [`diff_schemas`](crate::diff::diff_schemas) reported it.
    pub change: Change,
    /// The document path the change governs (`*` for any map entry or
    /// array item), when it could be traced from the schema root.
    pub document_path: Option<String>,
    /// What kind of op the change needs.
    pub needs: Need,
    /// The op that covers it (`add /processed/*/checkpoints`), if any.
    pub covered_by: Option<String>,
}

/// Every backward-incompatible change of `diff` (from schema `a` to `b`)
/// with the op of `migration` that accounts for it, or none. Changes at
/// `version_pointer` (the kind's version field) are left out.
///
/// ```
/// use serde_json::json;
/// use statewright::diff::{coverage, diff_schemas, SchemaDiffOptions};
/// use statewright::spec::migration::parse_str;
///
/// let a = json!({"type": "object", "properties": {"n": {"type": "integer"}}});
/// let b = json!({"type": "object", "properties": {"n": {"type": "integer"}, "m": {"type": "string"}}, "required": ["m"]});
/// let d = diff_schemas(&a, &b, &SchemaDiffOptions::new()).unwrap();
/// let m = parse_str("0001_m.yaml", "kind: k\nfrom: 1\nto: 2\ndescription: d\nops: []\n").unwrap();
/// let c = coverage(&a, &b, &d, &m.file, "/schema_version");
/// assert_eq!(c[0].document_path.as_deref(), Some("/m"));
/// assert!(c[0].covered_by.is_none());
/// ```
pub fn coverage(
    a: &Value,
    b: &Value,
    diff: &SchemaDiff,
    migration: &MigrationFile,
    version_pointer: &str,
) -> Vec<Coverage> {
    let (map_a, map_b) = (locations(a), locations(b));
    let mut ops = Vec::new();
    flatten(&migration.ops, &[], &mut ops);
    let version = tokens(version_pointer);
    let mut out = Vec::new();
    for change in diff.changes.iter().filter(|c| !c.backward_compatible) {
        let needs = match change.rule {
            "SD211" | "SD212" => Need::Fill,
            "SD203" => Need::Remove,
            _ => Need::Rewrite,
        };
        let paths = document_paths_of(change, needs, &map_a, &map_b);
        if paths.iter().any(|p| p == &version) {
            continue;
        }
        let value = VALUE_RULES.contains(&change.rule);
        let mut covered_by = None;
        let mut shown = paths.first();
        for p in &paths {
            match ops.iter().find(|o| o.covers(needs, value, p)) {
                Some(o) => {
                    covered_by.get_or_insert_with(|| o.describe());
                }
                None => {
                    covered_by = None;
                    shown = Some(p);
                    break;
                }
            }
        }
        out.push(Coverage {
            change: change.clone(),
            document_path: shown.map(|p| show(p)),
            needs,
            covered_by: if paths.is_empty() { None } else { covered_by },
        });
    }
    out
}

/// The changes `coverage` found no op for.
pub fn uncovered(items: &[Coverage]) -> impl Iterator<Item = &Coverage> {
    items.iter().filter(|c| c.covered_by.is_none())
}

type Path = Vec<String>;

pub(crate) fn show(p: &[String]) -> String {
    if p.is_empty() {
        return String::new();
    }
    p.iter().map(|t| format!("/{}", escape_token(t))).collect()
}

pub(crate) fn document_paths_of(
    change: &Change,
    needs: Need,
    map_a: &Locations,
    map_b: &Locations,
) -> Vec<Path> {
    let (first, second) = match needs {
        Need::Remove => ((&change.pointer_a, map_a), (&change.pointer_b, map_b)),
        _ => ((&change.pointer_b, map_b), (&change.pointer_a, map_a)),
    };
    let mut paths = [first, second]
        .into_iter()
        .find_map(|(p, m)| p.as_deref().and_then(|p| m.resolve(p)))
        .unwrap_or_default();
    // `required` and property changes point at the keyword: add the name.
    let keyword_only = [&change.pointer_a, &change.pointer_b]
        .into_iter()
        .flatten()
        .any(|p| p.ends_with("/required") || p.ends_with("/additionalProperties"));
    if keyword_only
        && matches!(needs, Need::Fill | Need::Remove)
        && let Some(name) = change.property.as_deref()
    {
        for p in &mut paths {
            if p.last().map(String::as_str) != Some(name) {
                p.push(name.to_owned());
            }
        }
    }
    paths
}

/// Schema location → the document paths that reach it.
#[derive(Default)]
pub(crate) struct Locations(BTreeMap<String, BTreeSet<Path>>);

impl Locations {
    /// The document paths of the longest walked prefix of `pointer`.
    fn resolve(&self, pointer: &str) -> Option<Vec<Path>> {
        if pointer.contains('#') {
            return None;
        }
        let toks = tokens(pointer);
        (0..=toks.len()).rev().find_map(|n| {
            let key = show(&toks[..n]);
            let mut found: Vec<Path> = self.0.get(&key)?.iter().cloned().collect();
            // `/properties/x` past the known prefix still names property x.
            if let [kw, name, ..] = &toks[n..]
                && kw == "properties"
            {
                for p in &mut found {
                    p.push(name.clone());
                }
            }
            Some(found)
        })
    }
}

pub(crate) fn locations(root: &Value) -> Locations {
    let mut out = Locations::default();
    walk(root, root, &mut Vec::new(), &mut Vec::new(), &mut out, 0);
    out
}

fn walk(
    root: &Value,
    node: &Value,
    at: &mut Path,
    doc: &mut Path,
    out: &mut Locations,
    depth: usize,
) {
    let key = show(at);
    if depth > 64 || !out.0.entry(key).or_default().insert(doc.clone()) {
        return;
    }
    let Some(obj) = node.as_object() else {
        return;
    };
    if let Some(target) = obj.get("$ref").and_then(Value::as_str)
        && let Some(local) = target.strip_prefix('#')
        && let Some(t) = root.pointer(local)
    {
        let mut to = tokens(local);
        walk(root, t, &mut to, doc, out, depth + 1);
    }
    let mut child = |kw: &[&str], v: &Value, step: Option<&str>| {
        let n = at.len();
        at.extend(kw.iter().map(|s| (*s).to_owned()));
        if let Some(s) = step {
            doc.push(s.to_owned());
        }
        walk(root, v, at, doc, out, depth + 1);
        at.truncate(n);
        if step.is_some() {
            doc.pop();
        }
    };
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (name, v) in props {
            child(&["properties", name], v, Some(name));
        }
    }
    if let Some(pats) = obj.get("patternProperties").and_then(Value::as_object) {
        for (pat, v) in pats {
            child(&["patternProperties", pat], v, Some("*"));
        }
    }
    for kw in ["additionalProperties", "items", "additionalItems"] {
        if let Some(v) = obj.get(kw).filter(|v| v.is_object()) {
            child(&[kw], v, Some("*"));
        }
    }
    for kw in ["prefixItems", "items"] {
        if let Some(items) = obj.get(kw).and_then(Value::as_array) {
            for (i, v) in items.iter().enumerate() {
                let idx = i.to_string();
                child(&[kw, &idx], v, Some(&idx));
            }
        }
    }
    for kw in ["allOf", "anyOf", "oneOf"] {
        if let Some(items) = obj.get(kw).and_then(Value::as_array) {
            for (i, v) in items.iter().enumerate() {
                child(&[kw, &i.to_string()], v, None);
            }
        }
    }
    for kw in ["if", "then", "else", "not"] {
        if let Some(v) = obj.get(kw) {
            child(&[kw], v, None);
        }
    }
}

/// A migration op with absolute document paths (`each` unrolled).
struct FlatOp {
    name: &'static str,
    /// Where the op reads or acts.
    from: Path,
    /// Where it writes, when that differs (`copy`, `move`, `rename`).
    to: Option<Path>,
}

fn abs(prefix: &[String], pointer: &str) -> Path {
    let mut p = prefix.to_vec();
    p.extend(tokens(pointer));
    p
}

fn flatten(ops: &[Op], prefix: &[String], out: &mut Vec<FlatOp>) {
    for op in ops {
        let (from, to) = match op {
            Op::Add(o) | Op::SetDefault(o) => (abs(prefix, &o.path), None),
            Op::Remove(o) => (abs(prefix, &o.path), None),
            Op::Rename(o) => {
                let from = abs(prefix, &o.path);
                let mut to = from.clone();
                to.pop();
                to.push(o.to.clone());
                (from, Some(to))
            }
            Op::Copy(o) | Op::Move(o) => (abs(prefix, &o.from), Some(abs(prefix, &o.to))),
            Op::Wrap(o) | Op::Head(o) => (abs(prefix, &o.path), None),
            Op::Convert(o) => (abs(prefix, &o.path), None),
            Op::Hook(o) => (abs(prefix, &o.path), None),
            Op::Each(e) => {
                let mut inner = abs(prefix, &e.path);
                inner.push("*".into());
                flatten(&e.ops, &inner, out);
                continue;
            }
        };
        out.push(FlatOp {
            name: op.name(),
            from,
            to,
        });
    }
}

/// Token-wise equality where `*` matches any one token.
fn same(a: &[String], b: &[String]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x == y || x == "*" || y == "*")
}

/// `a` is `b` or inside it.
fn within(a: &[String], b: &[String]) -> bool {
    a.len() >= b.len() && same(&a[..b.len()], b)
}

/// Changes to the values a field admits: only an op on that very value
/// accounts for them.
const VALUE_RULES: [&str; 11] = [
    "SD102", "SD103", "SD111", "SD114", "SD115", "SD301", "SD303", "SD401", "SD403", "SD404",
    "SD405",
];

impl FlatOp {
    /// Whether this op accounts for a change at `p` needing `needs`;
    /// `value`: the change is to the values the field admits.
    fn covers(&self, needs: Need, value: bool, p: &[String]) -> bool {
        if self.name == "hook" {
            return within(p, &self.from);
        }
        if needs == Need::Rewrite && value {
            let on_it = same(&self.from, p)
                && matches!(
                    self.name,
                    "convert" | "wrap" | "head" | "remove" | "move" | "rename"
                );
            let into_it = self.to.as_deref().is_some_and(|t| same(t, p));
            return on_it || into_it;
        }
        match needs {
            // An op that puts a value below a missing object creates the
            // object too (`move /site → /location/site` fills `/location`).
            Need::Fill => match self.name {
                "add" | "set_default" => within(&self.from, p),
                "copy" | "move" => self.to.as_deref().is_some_and(|t| within(t, p)),
                "rename" => self.to.as_deref().is_some_and(|t| same(t, p)),
                _ => false,
            },
            Need::Remove => match self.name {
                "remove" | "move" | "rename" => same(&self.from, p),
                _ => false,
            },
            Need::Rewrite => {
                within(&self.from, p) || self.to.as_deref().is_some_and(|t| within(t, p))
            }
        }
    }

    fn describe(&self) -> String {
        match &self.to {
            Some(t) => format!("{} {} → {}", self.name, show(&self.from), show(t)),
            None => format!("{} {}", self.name, show(&self.from)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{SchemaDiffOptions, diff_schemas};
    use serde_json::json;
    use statewright_spec::migration::parse_str;

    fn run(a: Value, b: Value, ops: &str) -> Vec<(String, Option<String>, Option<String>)> {
        let d = diff_schemas(&a, &b, &SchemaDiffOptions::new()).unwrap();
        let text = format!("kind: k\nfrom: 1\nto: 2\ndescription: d\nops: {ops}\n");
        let m = parse_str("0001_m.yaml", &text).unwrap();
        coverage(&a, &b, &d, &m.file, "/v")
            .into_iter()
            .map(|c| (c.change.rule.to_owned(), c.document_path, c.covered_by))
            .collect()
    }

    #[test]
    fn traces_refs_and_each() {
        let entry = |extra: Value| {
            let mut props = json!({"a": {"type": "string"}});
            props
                .as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            json!({
                "type": "object",
                "properties": {"v": {"const": 1}, "m": {"type": "object", "additionalProperties": {"$ref": "#/$defs/e"}}},
                "$defs": {"e": {"type": "object", "properties": props, "additionalProperties": false, "required": ["a"]}}
            })
        };
        let a = entry(json!({"old": {"type": "integer"}}));
        let mut b = entry(json!({"new": {"type": "integer"}}));
        b["properties"]["v"]["const"] = json!(2);
        b["$defs"]["e"]["required"] = json!(["a", "new"]);
        let none = run(a.clone(), b.clone(), "[]");
        assert_eq!(
            none,
            [
                ("SD203".into(), Some("/m/*/old".into()), None),
                ("SD211".into(), Some("/m/*/new".into()), None),
            ]
        );
        let all = run(
            a,
            b,
            "[{each: {path: /m, ops: [{rename: {path: /old, to: new}}]}}]",
        );
        assert!(all.iter().all(|c| c.2.is_some()), "{all:?}");
        assert_eq!(all[1].2.as_deref(), Some("rename /m/*/old → /m/*/new"));
    }

    #[test]
    fn type_change_needs_a_rewrite() {
        let a = json!({"properties": {"p": {"type": "string"}}});
        let b = json!({"properties": {"p": {"type": "integer"}}});
        assert_eq!(run(a.clone(), b.clone(), "[]")[0].2, None);
        let c = run(
            a,
            b,
            "[{convert: {path: /p, cast: {from: string, to: integer}}}]",
        );
        assert_eq!(c[0].2.as_deref(), Some("convert /p"));
    }

    #[test]
    fn a_value_change_is_not_covered_by_an_op_below_it() {
        let a = json!({"properties": {"p": {"type": "object", "properties": {"q": {"type": "string"}}}}});
        let b = json!({"properties": {"p": {"type": "array"}}});
        let below = run(a.clone(), b.clone(), "[{remove: {path: /p/q}}]");
        let sd = below.iter().find(|c| c.0 == "SD103").unwrap();
        assert_eq!(sd.2, None, "{below:?}");
        let at = run(a.clone(), b.clone(), "[{wrap: {path: /p}}]");
        let sd = at.iter().find(|c| c.0 == "SD103").unwrap();
        assert_eq!(sd.2.as_deref(), Some("wrap /p"));
        let into = run(a, b, "[{copy: {from: /r, to: /p}}]");
        assert!(into.iter().all(|c| c.2.is_some()), "{into:?}");
    }

    #[test]
    fn hook_covers_its_subtree_and_version_is_skipped() {
        let a = json!({"properties": {"v": {"const": 1}, "o": {"properties": {"p": {"type": "string"}}}}});
        let b = json!({"properties": {"v": {"const": 2}, "o": {"properties": {"p": {"type": "integer"}}}}});
        let c = run(a.clone(), b.clone(), "[{hook: {name: fix, path: /o}}]");
        assert_eq!(
            c,
            [("SD103".into(), Some("/o/p".into()), Some("hook /o".into()))]
        );
        let c = run(a, b, "[{hook: {name: fix, path: /other}}]");
        assert_eq!(c[0].2, None);
    }
}

#[cfg(test)]
mod created {
    use super::*;
    use crate::diff::{SchemaDiffOptions, diff_schemas};
    use serde_json::json;
    use statewright_spec::migration::parse_str;

    #[test]
    fn a_move_into_a_new_object_creates_it() {
        let item = |props: Value, req: Value| {
            json!({"properties": {"v": {"const": 1}, "devices": {"type": "object",
                "additionalProperties": {"type": "object", "properties": props, "required": req,
                "additionalProperties": false}}}})
        };
        let a = item(json!({"site": {"type": "string"}}), json!(["site"]));
        let mut b = item(
            json!({"location": {"type": "object", "properties": {"site": {"type": "string"}},
                "required": ["site"]}}),
            json!(["location"]),
        );
        b["properties"]["v"]["const"] = json!(2);
        let d = diff_schemas(&a, &b, &SchemaDiffOptions::new()).unwrap();
        let text = "kind: k\nfrom: 1\nto: 2\ndescription: d\nops:\n  - each: {path: /devices, ops: [{move: {from: /site, to: /location/site}}]}\n";
        let m = parse_str("0001_m.yaml", text).unwrap();
        let c = coverage(&a, &b, &d, &m.file, "/v");
        let loc = c
            .iter()
            .find(|c| c.document_path.as_deref() == Some("/devices/*/location"))
            .expect("the new object is a change");
        assert_eq!(
            loc.covered_by.as_deref(),
            Some("move /devices/*/site → /devices/*/location/site"),
            "{c:?}"
        );
        assert!(uncovered(&c).next().is_none(), "{c:?}");
    }
}
