//! Drafting a migration file from a schema diff: the text
//! `statewright migrate new` writes for the author to finish.
//!
//! - a property B requires (or declares with a `default`) that A did not
//!   have becomes `add` with B's `default` (`null` and a `TODO` comment
//!   when B declares none);
//! - a property B no longer declares becomes `remove`;
//! - a removed and an added property of the same type in the same object
//!   are suggested, in comments, as a `rename` the author confirms; a
//!   removed property and a value of its type added anywhere else in the
//!   same item (inside a new object too) as a `move`;
//! - every `remove` is marked `# LOSSY` (it drops the value on upgrade);
//! - other backward-incompatible changes (a type or enum narrowed) are
//!   listed as `TODO` comments naming the op they need.
//!
//! Paths through maps and arrays become nested `each` blocks. The draft
//! parses with the migration file parser as it is.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde_json::Value;
use statewright_spec::pointer::tokens;

use crate::diff::coverage::{Need, document_paths_of, locations, show};
use crate::diff::{Change, SchemaDiff};

/// One property added or removed, at a document path.
struct Prop {
    path: Vec<String>,
    schema: Value,
    required: bool,
}

#[derive(Default)]
struct Block {
    lines: Vec<String>,
    each: BTreeMap<String, Block>,
}

impl Block {
    /// The block for the `each` nesting of `path`; returns it and the
    /// pointer relative to it.
    fn at(&mut self, path: &[String]) -> (&mut Block, String) {
        match path.iter().position(|t| t == "*") {
            Some(i) => {
                let key = show(&path[..i]);
                self.each.entry(key).or_default().at(&path[i + 1..])
            }
            None => (self, show(path)),
        }
    }

    fn render(&self, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        for l in &self.lines {
            let _ = writeln!(out, "{pad}{l}");
        }
        for (path, inner) in &self.each {
            let _ = writeln!(out, "{pad}- each:");
            let _ = writeln!(out, "{pad}    path: {}", quote(path));
            if inner.has_ops() {
                let _ = writeln!(out, "{pad}    ops:");
                inner.render(indent + 6, out);
            } else {
                let _ = writeln!(out, "{pad}    ops: []");
                inner.render(indent + 6, out);
            }
        }
    }

    fn has_ops(&self) -> bool {
        self.lines.iter().any(|l| l.starts_with('-')) || !self.each.is_empty()
    }
}

/// The path up to and including its last `*`: the item an `each` block
/// runs on (empty at the top level).
fn item_of(path: &[String]) -> &[String] {
    let end = path.iter().rposition(|t| t == "*").map_or(0, |i| i + 1);
    &path[..end]
}

/// Every property an added value declares, itself included, with its
/// schema: where a removed value may have gone (`/location/site` inside
/// a new `/location`).
fn targets<'a>(path: &[String], schema: &'a Value, out: &mut Vec<(Vec<String>, &'a Value)>) {
    out.push((path.to_vec(), schema));
    if let Some(Value::Object(props)) = schema.get("properties") {
        for (name, s) in props {
            let mut p = path.to_vec();
            p.push(name.clone());
            targets(&p, s, out);
        }
    }
}

/// Comments suggesting a `move` of the removed `r` to each value of its
/// type added anywhere in the same item (other than a plain rename).
fn move_suggestions(r: &Prop, added: &BTreeMap<Vec<String>, Prop>, blk: &mut Block, rel: &str) {
    let item = item_of(&r.path);
    let Some(ty) = r.schema.get("type") else {
        return;
    };
    let mut found = Vec::new();
    for p in added.values().filter(|p| item_of(&p.path) == item) {
        targets(&p.path, &p.schema, &mut found);
    }
    let parent = &r.path[..r.path.len() - 1];
    for (to, schema) in found {
        let renamed = to.len() == r.path.len() && to[..to.len() - 1] == *parent;
        if renamed || schema.get("type") != Some(ty) || to.len() <= item.len() {
            continue;
        }
        blk.lines.push(format!(
            "# possible move: if {} went to {}, replace this `remove` (and any `add` above it) with",
            show(&r.path),
            show(&to)
        ));
        blk.lines.push(format!(
            "#   - move: {{ from: {}, to: {} }}",
            quote(rel),
            quote(&show(&to[item.len()..]))
        ));
    }
}

/// A value of the property's type to start from: `null` when the type
/// allows it, an empty object or array for those, else `null`.
fn placeholder(schema: &Value) -> &'static str {
    let types: Vec<&str> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.as_str()],
        Some(Value::Array(ts)) => ts.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    };
    if types.contains(&"null") {
        "null"
    } else if types.contains(&"object") {
        "{}"
    } else if types.contains(&"array") {
        "[]"
    } else {
        "null"
    }
}

fn quote(s: &str) -> String {
    Value::String(s.to_owned()).to_string()
}

fn property_schema<'a>(root: &'a Value, change: &Change, pointer: Option<&str>) -> &'a Value {
    static EMPTY: Value = Value::Null;
    let Some(p) = pointer else { return &EMPTY };
    if let Some(parent) = p.strip_suffix("/required")
        && let Some(name) = change.property.as_deref()
    {
        let mut at = parent.to_owned();
        at.push_str("/properties/");
        at.push_str(&statewright_spec::pointer::escape_token(name));
        return root.pointer(&at).unwrap_or(&EMPTY);
    }
    root.pointer(p).unwrap_or(&EMPTY)
}

/// The draft of migration file `from` → `from + 1` for `kind`, from the
/// diff of schema `a` (version `from`) to `b`. Changes at
/// `version_pointer` are left out (the migrator writes the version).
///
/// ```
/// use serde_json::json;
/// use statewright::diff::{diff_schemas, draft_migration, SchemaDiffOptions};
///
/// let a = json!({"type": "object", "properties": {"n": {"type": "integer"}}});
/// let b = json!({"type": "object", "properties": {"n": {"type": "integer"},
///     "tags": {"type": "array", "default": []}}, "required": ["tags"]});
/// let d = diff_schemas(&a, &b, &SchemaDiffOptions::new()).unwrap();
/// let text = draft_migration("k", 1, &a, &b, &d, "/schema_version");
/// assert!(text.contains(r#"- add: { path: "/tags", default: [] }"#), "{text}");
/// ```
pub fn draft_migration(
    kind: &str,
    from: u32,
    a: &Value,
    b: &Value,
    diff: &SchemaDiff,
    version_pointer: &str,
) -> String {
    let changes = collect(a, b, diff, version_pointer);
    let mut root = Block::default();
    draft_removes(&changes, &mut root);
    draft_adds_and_todos(&changes, &mut root);
    render_file(kind, from, &root)
}

/// The properties added and removed, and the changes left to the author.
struct Changes<'d> {
    added: BTreeMap<Vec<String>, Prop>,
    removed: BTreeMap<Vec<String>, Prop>,
    todo: Vec<(Vec<String>, &'d Change)>,
}

fn collect<'d>(a: &Value, b: &Value, diff: &'d SchemaDiff, version_pointer: &str) -> Changes<'d> {
    let version = tokens(version_pointer);
    let mut added: BTreeMap<Vec<String>, Prop> = BTreeMap::new();
    let mut removed: BTreeMap<Vec<String>, Prop> = BTreeMap::new();
    let mut todo: Vec<(Vec<String>, &Change)> = Vec::new();
    let (la, lb) = (locations(a), locations(b));
    for c in &diff.changes {
        let (needs, side) = match c.rule {
            "SD201" | "SD202" => (Need::Fill, false),
            "SD211" | "SD212" => (Need::Fill, true),
            "SD203" | "SD204" => (Need::Remove, false),
            _ if !c.backward_compatible => (Need::Rewrite, false),
            _ => continue,
        };
        for path in document_paths_of(c, needs, &la, &lb) {
            if path == version || path.is_empty() {
                continue;
            }
            match needs {
                Need::Fill => {
                    let schema = property_schema(b, c, c.pointer_b.as_deref()).clone();
                    let e = added.entry(path.clone()).or_insert(Prop {
                        path,
                        schema,
                        required: false,
                    });
                    e.required |= side;
                    if e.schema.is_null() {
                        e.schema = property_schema(b, c, c.pointer_b.as_deref()).clone();
                    }
                }
                Need::Remove => {
                    let schema = property_schema(a, c, c.pointer_a.as_deref()).clone();
                    removed.entry(path.clone()).or_insert(Prop {
                        path,
                        schema,
                        required: false,
                    });
                }
                Need::Rewrite => todo.push((path, c)),
            }
        }
    }
    Changes {
        added,
        removed,
        todo,
    }
}

fn draft_removes(changes: &Changes<'_>, root: &mut Block) {
    let Changes { added, removed, .. } = changes;
    for r in removed.values() {
        let (blk, rel) = root.at(&r.path);
        let twins: Vec<&Prop> = added
            .values()
            .filter(|p| {
                p.path.len() == r.path.len()
                    && p.path[..p.path.len() - 1] == r.path[..r.path.len() - 1]
                    && p.schema.get("type") == r.schema.get("type")
            })
            .collect();
        for t in twins {
            let name = t.path.last().cloned().unwrap_or_default();
            blk.lines.push(format!(
                "# possible rename: if `{}` became `{name}`, replace this `remove` and the `add` of {} with",
                r.path.last().cloned().unwrap_or_default(),
                show(&t.path),
            ));
            blk.lines.push(format!(
                "#   - rename: {{ path: {}, to: {} }}",
                quote(&rel),
                quote(&name)
            ));
        }
        move_suggestions(r, added, blk, &rel);
        blk.lines.push(format!(
            "# LOSSY: this `remove` drops {} on upgrade, and a downgrade cannot restore it; keep the value with a `move`/`rename`, or give `default:` for a downgrade to put back",
            show(&r.path)
        ));
        blk.lines
            .push(format!("- remove: {{ path: {} }}", quote(&rel)));
    }
}

fn draft_adds_and_todos(changes: &Changes<'_>, root: &mut Block) {
    let Changes { added, todo, .. } = changes;
    for p in added.values() {
        let default = p.schema.get("default");
        if !p.required && default.is_none() {
            continue;
        }
        let (blk, rel) = root.at(&p.path);
        let value = match default {
            Some(d) => d.to_string(),
            None => {
                let placeholder = placeholder(&p.schema);
                blk.lines.push(format!(
                    "# TODO: the schema declares no default for {}: `{placeholder}` is a placeholder; choose the value old documents get",
                    show(&p.path)
                ));
                placeholder.to_owned()
            }
        };
        blk.lines.push(format!(
            "- add: {{ path: {}, default: {value} }}",
            quote(&rel)
        ));
    }
    for (path, c) in todo.iter() {
        let (blk, rel) = root.at(path);
        blk.lines.push(format!(
            "# TODO: {} ({}): {}; needs {} at {}",
            show(path),
            c.rule,
            c.message,
            Need::Rewrite.ops(),
            quote(&rel)
        ));
    }
}

fn render_file(kind: &str, from: u32, root: &Block) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# yaml-language-server: $schema=../migration.schema.json"
    );
    let _ = writeln!(
        out,
        "# Drafted by `statewright migrate new` from the diff of v{from} and v{}: review every op,",
        from + 1
    );
    let _ = writeln!(
        out,
        "# then run `statewright migrate hash` to record the file in the sum file."
    );
    let _ = writeln!(out, "kind: {kind}");
    let _ = writeln!(out, "from: {from}");
    let _ = writeln!(out, "to: {}", from + 1);
    let _ = writeln!(
        out,
        "description: >-\n  TODO: what this step changes and why."
    );
    if root.has_ops() {
        let _ = writeln!(out, "ops:");
        root.render(2, &mut out);
    } else {
        let _ = writeln!(out, "ops: []");
        root.render(2, &mut out);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diff::{SchemaDiffOptions, diff_schemas};
    use serde_json::json;
    use statewright_spec::migration::{Op, parse_str};

    #[test]
    fn draft_parses_and_nests() {
        let schema = |props: Value, req: Value| {
            json!({"type": "object", "properties": {
                "schema_version": {"const": 1},
                "m": {"type": "object", "additionalProperties": {
                    "type": "object", "properties": props, "required": req, "additionalProperties": false}}
            }, "additionalProperties": false})
        };
        let a = schema(
            json!({"old": {"type": "string"}, "k": {"type": "string"}}),
            json!([]),
        );
        let b = schema(
            json!({"new": {"type": "string"}, "k": {"type": "integer"}, "d": {"type": "object", "default": {}}}),
            json!(["new", "d"]),
        );
        let d = diff_schemas(&a, &b, &SchemaDiffOptions::new()).unwrap();
        let text = draft_migration("k", 1, &a, &b, &d, "/schema_version");
        let m = parse_str("0001_x.yaml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        let Op::Each(e) = &m.file.ops[0] else {
            panic!("{text}")
        };
        assert_eq!(e.path, "/m");
        let names: Vec<(&str, &str)> = e.ops.iter().map(|o| (o.name(), o.target())).collect();
        assert_eq!(
            names,
            [("remove", "/old"), ("add", "/d"), ("add", "/new")],
            "{text}"
        );
        assert!(
            text.contains("#   - rename: { path: \"/old\", to: \"new\" }"),
            "{text}"
        );
        assert!(
            text.contains(
                "TODO: the schema declares no default for /m/*/new: `null` is a placeholder"
            ),
            "{text}"
        );
        assert!(text.contains("TODO: /m/*/k (SD103)"), "{text}");
    }

    #[test]
    fn a_scalar_moved_into_a_new_object_is_suggested_as_a_move_and_marked_lossy() {
        let schema = |v: u32, props: Value, req: Value| {
            json!({"type": "object", "properties": {
                "schema_version": {"const": v},
                "devices": {"type": "object", "additionalProperties": {
                    "type": "object", "properties": props, "required": req, "additionalProperties": false}}
            }})
        };
        let a = schema(1, json!({"site": {"type": "string"}}), json!(["site"]));
        let b = schema(
            2,
            json!({"location": {"type": "object", "properties": {"site": {"type": "string"}}, "required": ["site"]}}),
            json!(["location"]),
        );
        let d = diff_schemas(&a, &b, &SchemaDiffOptions::new()).unwrap();
        let text = draft_migration("k", 1, &a, &b, &d, "/schema_version");
        parse_str("0001_x.yaml", &text).unwrap_or_else(|e| panic!("{e}\n{text}"));
        assert!(
            text.contains("#   - move: { from: \"/site\", to: \"/location/site\" }"),
            "{text}"
        );
        assert!(
            text.contains("# LOSSY: this `remove` drops /devices/*/site on upgrade"),
            "{text}"
        );
        assert!(
            text.starts_with("# yaml-language-server: $schema=../migration.schema.json\n"),
            "{text}"
        );
    }

    #[test]
    fn no_changes_is_an_empty_step() {
        let a = json!({"type": "object"});
        let d = diff_schemas(&a, &a, &SchemaDiffOptions::new()).unwrap();
        let text = draft_migration("k", 3, &a, &a, &d, "/schema_version");
        let m = parse_str("0003_x.yaml", &text).unwrap();
        assert_eq!((m.file.from, m.file.to, m.file.ops.len()), (3, 4, 0));
    }
}
