//! YAML: the previous text's nodes and their spans, from the YAML parser's
//! events. Block mappings and block sequences are edited: a scalar
//! replaced in place in its own quoting style when the new value can be
//! written in it, a key added after its last sibling at the same
//! indentation, a key removed with its lines, items appended to or removed
//! from the end of a sequence. Flow collections, block scalars (`|`, `>`),
//! anchors, aliases and tags are not edited.

use granit_parser::{Event, Parser, ScalarStyle, StructureStyle};
use serde_json::{Map, Value};

use super::{Unsupported, apply};
use crate::pointer::join;

/// The text of `new`, made from `text` (which reads as `old`).
pub(super) fn splice(text: &str, old: &Value, new: &Value) -> Result<String, Unsupported> {
    let root = Tree::read(text)?;
    let mut y = Yaml {
        text,
        nl: if text.contains("\r\n") { "\r\n" } else { "\n" },
        edits: Vec::new(),
    };
    y.node(&root, old, new, "", None)?;
    Ok(apply(text, y.edits))
}

/// A node of the previous text.
struct Node {
    shape: Shape,
    /// Where it starts.
    start: usize,
    /// Where its last scalar (or flow collection) ends.
    end: usize,
    /// Flow style (`{...}`, `[...]`).
    flow: bool,
    /// It has an anchor or a tag.
    marked: bool,
}

enum Shape {
    Scalar(ScalarStyle),
    Map(Vec<(Node, Node)>),
    Seq(Vec<Node>),
}

/// The nodes of a text, read from the parser's events.
struct Tree<'t> {
    text: &'t str,
    events: Parser<'t, granit_parser::StrInput<'t>>,
}

impl<'t> Tree<'t> {
    fn read(text: &'t str) -> Result<Node, Unsupported> {
        let mut t = Tree {
            text,
            events: Parser::new_from_str(text),
        };
        let first = t.next()?;
        t.node(first)
    }

    /// The next event that is part of the data (comments and stream and
    /// document markers skipped).
    fn next(&mut self) -> Result<(Event<'t>, usize, usize), Unsupported> {
        loop {
            let (e, span) = self
                .events
                .next()
                .ok_or_else(|| Unsupported::at("", "ends early"))?
                .map_err(|e| Unsupported::at("", e.to_string()))?;
            let at = |m: granit_parser::Marker| m.byte_offset().unwrap_or(0);
            match e {
                Event::StreamStart | Event::DocumentStart(..) | Event::Comment(..) => {}
                Event::Alias(..) | Event::UnresolvedAlias(..) | Event::Anchor(..) => {
                    return Err(Unsupported::at("", "uses anchors and aliases"));
                }
                e => return Ok((e, at(span.start), at(span.end))),
            }
        }
    }

    fn node(&mut self, (e, start, end): (Event<'t>, usize, usize)) -> Result<Node, Unsupported> {
        let (shape, flow, marked, closed) = match e {
            Event::Scalar(_, style, anchor, tag) => {
                let marked = anchor != 0 || tag.is_some();
                // A block scalar's span ends where the next token starts:
                // its content ends with the line break before that line.
                let from = line_start(self.text, end);
                let end = match style {
                    ScalarStyle::Literal | ScalarStyle::Folded
                        if self.text[from..end].chars().all(|c| c == ' ') =>
                    {
                        from
                    }
                    _ => end,
                };
                return Ok(Node {
                    shape: Shape::Scalar(style),
                    start,
                    end,
                    flow: false,
                    marked,
                });
            }
            Event::MappingStart(style, anchor, tag) => {
                let mut entries = Vec::new();
                loop {
                    let e = self.next()?;
                    if matches!(e.0, Event::MappingEnd) {
                        break (
                            Shape::Map(entries),
                            style,
                            anchor != 0 || tag.is_some(),
                            e.2,
                        );
                    }
                    let key = self.node(e)?;
                    let e = self.next()?;
                    entries.push((key, self.node(e)?));
                }
            }
            Event::SequenceStart(style, anchor, tag) => {
                let mut items = Vec::new();
                loop {
                    let e = self.next()?;
                    if matches!(e.0, Event::SequenceEnd) {
                        break (Shape::Seq(items), style, anchor != 0 || tag.is_some(), e.2);
                    }
                    items.push(self.node(e)?);
                }
            }
            _ => return Err(Unsupported::at("", "holds no single document")),
        };
        let flow = flow == StructureStyle::Flow;
        let last = match &shape {
            Shape::Map(entries) => entries.last().map(|(_, v)| v.end),
            Shape::Seq(items) => items.last().map(|v| v.end),
            Shape::Scalar(_) => None,
        };
        // A flow collection ends at its closing bracket; a block one at
        // its last scalar (its end event is where the next token starts).
        let end = if flow { closed } else { last.unwrap_or(end) };
        Ok(Node {
            shape,
            start,
            end,
            flow,
            marked,
        })
    }
}

struct Yaml<'t> {
    text: &'t str,
    nl: &'static str,
    edits: Vec<(usize, usize, String)>,
}

impl Yaml<'_> {
    /// Edits `node` (reading as `old`) into `new`. `key_end` is where the
    /// key ends when the node is a mapping's value.
    fn node(
        &mut self,
        node: &Node,
        old: &Value,
        new: &Value,
        ptr: &str,
        key_end: Option<usize>,
    ) -> Result<(), Unsupported> {
        if old == new {
            return Ok(());
        }
        let at = first_difference(old, new, ptr);
        if node.marked {
            return Err(Unsupported::at(&at, "is under an anchor or a tag"));
        }
        if node.flow && is_empty(old) && self.fill_empty(node, new, ptr)? {
            return Ok(());
        }
        if !node.flow && is_empty(new) && !matches!(node.shape, Shape::Scalar(_)) {
            return self.empty_block(node, new, ptr, key_end);
        }
        match (&node.shape, old, new) {
            (Shape::Map(_), Value::Object(_), Value::Object(_)) if node.flow => {
                Err(Unsupported::at(&at, "is inside a flow mapping"))
            }
            (Shape::Seq(_), Value::Array(_), Value::Array(_)) if node.flow => {
                Err(Unsupported::at(&at, "is inside a flow sequence"))
            }
            (Shape::Map(entries), Value::Object(o), Value::Object(n)) => {
                self.map(entries, o, n, ptr)
            }
            (Shape::Seq(items), Value::Array(o), Value::Array(n)) => self.seq(items, o, n, ptr),
            (Shape::Scalar(style), _, _) => {
                let with = scalar(new, *style).ok_or_else(|| match style {
                    ScalarStyle::Literal | ScalarStyle::Folded => {
                        Unsupported::at(ptr, "is a block scalar (| or >)")
                    }
                    _ => Unsupported::at(ptr, "turns a scalar into a mapping or sequence"),
                })?;
                // An empty value (`key:`) is placed at its key: it goes
                // after the colon.
                let mut at = node.start;
                if node.start == node.end {
                    let rest = &self.text[at..];
                    let colon = rest.len() - rest.trim_start_matches(' ').len();
                    if rest[colon..].starts_with(':') {
                        at += colon + 1;
                    }
                }
                let space = if node.start == node.end { " " } else { "" };
                self.edits
                    .push((at, at.max(node.end), format!("{space}{with}")));
                Ok(())
            }
            _ => Err(Unsupported::at(
                ptr,
                "turns a mapping or sequence into another kind",
            )),
        }
    }

    fn map(
        &mut self,
        entries: &[(Node, Node)],
        o: &Map<String, Value>,
        n: &Map<String, Value>,
        ptr: &str,
    ) -> Result<(), Unsupported> {
        let keys = entries
            .iter()
            .map(|(k, _)| o.keys().find(|key| self.key_is(k, key)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| Unsupported::at(ptr, "has a key the splicer cannot read"))?;
        // Entries before `covered` went with a removed first key.
        let mut covered = 0;
        for (i, ((k, v), key)) in entries.iter().zip(&keys).enumerate() {
            let at = join(ptr, key);
            match n.get(*key) {
                Some(nv) => self.node(v, &o[*key], nv, &at, Some(k.end))?,
                None if i < covered => {}
                None if self.starts_line(k.start) => self.remove_lines(k.start, v.end, &at)?,
                None => {
                    // The first key of an item (`- key: v`): the text up to
                    // the next key kept goes, which then follows the dash.
                    let next = (i + 1..entries.len())
                        .find(|j| n.contains_key(keys[*j]))
                        .ok_or_else(|| {
                            Unsupported::at(&at, "removes every key of an item's mapping")
                        })?;
                    self.edits
                        .push((k.start, entries[next].0.start, String::new()));
                    covered = next;
                }
            }
        }
        // Added keys go after the last entry written, removed or not (a
        // renamed last key stays in its place). A mapping left empty was
        // taken care of by `empty_block`.
        let added: Vec<_> = n.iter().filter(|(k, _)| !o.contains_key(*k)).collect();
        let Some((k, v)) = entries.last().filter(|_| !added.is_empty()) else {
            return Ok(());
        };
        let indent = " ".repeat(k.start - line_start(self.text, k.start));
        let mut with = String::new();
        for (key, value) in added {
            let key_text =
                scalar(&Value::from(key.as_str()), ScalarStyle::Plain).unwrap_or_default();
            with.push_str(&format!("{indent}{key_text}:"));
            with.push_str(&self.block(value, &format!("{indent}  "), &join(ptr, key))?);
            with.push_str(self.nl);
        }
        self.insert_after(v.end, with);
        Ok(())
    }

    fn seq(
        &mut self,
        items: &[Node],
        o: &[Value],
        n: &[Value],
        ptr: &str,
    ) -> Result<(), Unsupported> {
        for (i, (item, (ov, nv))) in items.iter().zip(o.iter().zip(n)).enumerate() {
            self.node(item, ov, nv, &join(ptr, &i.to_string()), None)?;
        }
        // A sequence left empty was taken care of by `empty_block`.
        if let (Some(first), Some(last)) = (items.get(n.len()), items.last()) {
            let at = join(ptr, &n.len().to_string());
            let dash = self.dash_prefix(first.start, &at)?;
            self.remove_lines(first.start - dash.len(), last.end, &at)?;
        }
        let Some(last) = items.last().filter(|_| n.len() > items.len()) else {
            return Ok(());
        };
        let at = join(ptr, &items.len().to_string());
        let prefix = self.dash_prefix(last.start, &at)?.to_owned();
        let inner = " ".repeat(prefix.len());
        let mut with = String::new();
        for (i, v) in n.iter().enumerate().skip(items.len()) {
            let text = self.render(v, &inner, &join(ptr, &i.to_string()))?;
            with.push_str(&format!("{prefix}{}{}", text.trim_start(), self.nl));
        }
        self.insert_after(last.end, with);
        Ok(())
    }

    /// Replaces a block mapping or sequence left without members by `{}`
    /// or `[]` after its key (`key: []`), its lines removed.
    fn empty_block(
        &mut self,
        node: &Node,
        new: &Value,
        ptr: &str,
        key_end: Option<usize>,
    ) -> Result<(), Unsupported> {
        let colon = key_end.and_then(|end| {
            let rest = &self.text[end..];
            let spaces = rest.len() - rest.trim_start_matches(' ').len();
            rest[spaces..].starts_with(':').then_some(end + spaces + 1)
        });
        let Some(colon) = colon.filter(|c| *c <= node.start) else {
            return Err(Unsupported::at(
                ptr,
                "removes every member of a block mapping or sequence that is not a key's value",
            ));
        };
        let empty = if new.is_object() { "{}" } else { "[]" };
        let with = format!(" {empty}{}", self.nl);
        self.edits
            .push((colon, after_line(self.text, node.end), with));
        Ok(())
    }

    /// Replaces an empty flow collection (`key: []`, `key: {}`, as YAML
    /// writers put them) that gets members by the new value in block
    /// style, below its key. False (nothing done) when it is not a
    /// mapping's value.
    fn fill_empty(&mut self, node: &Node, new: &Value, ptr: &str) -> Result<bool, Unsupported> {
        let line = line_start(self.text, node.start);
        let before = &self.text[line..node.start];
        let key_col = before.len() - before.trim_start_matches([' ', '-']).len();
        if !before.trim_end().ends_with(':') || is_empty(new) || !new.is_object() && !new.is_array()
        {
            return Ok(false);
        }
        let indent = " ".repeat(key_col + 2);
        let from = node.start - (before.len() - before.trim_end().len());
        let with = self.block(new, &indent, ptr)?;
        self.edits.push((from, node.end, with));
        Ok(true)
    }

    /// What a sequence item starting at `start` has before it on its line
    /// (`  - `): only spaces and its dash.
    fn dash_prefix(&self, start: usize, ptr: &str) -> Result<&str, Unsupported> {
        let prefix = &self.text[line_start(self.text, start)..start];
        let t = prefix.trim_end_matches(' ');
        match t.strip_suffix('-') {
            Some(before) if before.chars().all(|c| c == ' ') => Ok(prefix),
            _ => Err(Unsupported::at(
                ptr,
                "is an item that does not start its line",
            )),
        }
    }

    /// Whether the key node `k` reads as `key`.
    fn key_is(&self, k: &Node, key: &str) -> bool {
        let raw = &self.text[k.start..k.end];
        match &k.shape {
            Shape::Scalar(ScalarStyle::Plain) => raw == key,
            Shape::Scalar(ScalarStyle::SingleQuoted) => {
                raw.len() >= 2 && raw[1..raw.len() - 1].replace("''", "'") == key
            }
            Shape::Scalar(ScalarStyle::DoubleQuoted) => {
                serde_json::from_str::<String>(raw).is_ok_and(|s| s == key)
            }
            _ => false,
        }
    }

    /// Removes the lines from the one of `start` to the one of `end`.
    /// Whether only spaces come before `start` on its line.
    fn starts_line(&self, start: usize) -> bool {
        self.text[line_start(self.text, start)..start]
            .chars()
            .all(|c| c == ' ')
    }

    fn remove_lines(&mut self, start: usize, end: usize, ptr: &str) -> Result<(), Unsupported> {
        let from = line_start(self.text, start);
        if !self.starts_line(start) {
            return Err(Unsupported::at(ptr, "does not start its line"));
        }
        self.edits
            .push((from, after_line(self.text, end), String::new()));
        Ok(())
    }

    /// Inserts whole lines after the line `end` is on.
    fn insert_after(&mut self, end: usize, mut with: String) {
        let at = after_line(self.text, end);
        if at == self.text.len() && !self.text.ends_with('\n') {
            with.insert_str(0, self.nl);
            with.truncate(with.len() - self.nl.len());
        }
        self.edits.push((at, at, with));
    }

    /// A value after `key:`: ` scalar`, or a block on the lines below,
    /// indented by `indent`.
    fn block(&self, v: &Value, indent: &str, ptr: &str) -> Result<String, Unsupported> {
        let text = self.render(v, indent, ptr)?;
        match text.starts_with(indent) {
            true => Ok(format!("{}{text}", self.nl)),
            false => Ok(format!(" {text}")),
        }
    }

    /// `v` as YAML: a scalar (or empty collection) on one line, else block
    /// lines indented by `indent` (without the last line break).
    fn render(&self, v: &Value, indent: &str, ptr: &str) -> Result<String, Unsupported> {
        if let Some(s) = scalar(v, ScalarStyle::Plain) {
            return Ok(s);
        }
        if is_empty(v) {
            return Ok(if v.is_object() { "{}" } else { "[]" }.to_owned());
        }
        let text = serde_saphyr::to_string(&crate::document::Portable(v))
            .map_err(|e| Unsupported::at(ptr, e.to_string()))?;
        let lines: Vec<String> = text.lines().map(|l| format!("{indent}{l}")).collect();
        Ok(lines.join(self.nl))
    }
}

/// A scalar value written in `style` when it can be, else plain or double
/// quoted; `None` for collections and block scalars.
fn scalar(v: &Value, style: ScalarStyle) -> Option<String> {
    if matches!(style, ScalarStyle::Literal | ScalarStyle::Folded) {
        return None;
    }
    Some(match v {
        Value::Null => "null".to_owned(),
        Value::Bool(b) => b.to_string(),
        Value::Number(n) => n.to_string(),
        Value::String(s) => match style {
            ScalarStyle::SingleQuoted if !s.chars().any(char::is_control) => {
                format!("'{}'", s.replace('\'', "''"))
            }
            ScalarStyle::Plain if plain(s) => s.clone(),
            _ => Value::from(s.as_str()).to_string(),
        },
        Value::Array(_) | Value::Object(_) => return None,
    })
}

/// Whether `s` reads back as this string when written plain: words of
/// letters, digits and `_ - . /`, starting with a letter, `_` or `/`, and
/// not a word a YAML reader may take for null, a boolean or a float.
fn plain(s: &str) -> bool {
    let reserved = [
        "null", "true", "false", "yes", "no", "on", "off", "y", "n", "nan", "inf", "infinity",
    ];
    s.starts_with(|c: char| c.is_alphabetic() || c == '_' || c == '/')
        && !s.ends_with(' ')
        && !s.contains("  ")
        && s.chars()
            .all(|c| c.is_alphanumeric() || matches!(c, ' ' | '_' | '-' | '.' | '/'))
        && !reserved.contains(&s.to_ascii_lowercase().as_str())
}

/// Whether `v` is an empty object or array.
fn is_empty(v: &Value) -> bool {
    match v {
        Value::Object(m) => m.is_empty(),
        Value::Array(a) => a.is_empty(),
        _ => false,
    }
}

/// The pointer of the first place `old` and `new` differ, below `ptr`.
fn first_difference(old: &Value, new: &Value, ptr: &str) -> String {
    match (old, new) {
        (Value::Object(o), Value::Object(n)) => {
            let changed = n.iter().find(|(k, v)| o.get(*k) != Some(*v));
            let removed = o.keys().find(|k| !n.contains_key(*k));
            match (changed, removed) {
                (Some((k, v)), _) => match o.get(k) {
                    Some(ov) => first_difference(ov, v, &join(ptr, k)),
                    None => join(ptr, k),
                },
                (None, Some(k)) => join(ptr, k),
                (None, None) => ptr.to_owned(),
            }
        }
        (Value::Array(o), Value::Array(n)) => {
            let i = o.iter().zip(n).position(|(a, b)| a != b);
            match i {
                Some(i) => first_difference(&o[i], &n[i], &join(ptr, &i.to_string())),
                None => join(ptr, &o.len().min(n.len()).to_string()),
            }
        }
        _ => ptr.to_owned(),
    }
}

/// Where the line `at` is on starts.
fn line_start(text: &str, at: usize) -> usize {
    text[..at].rfind('\n').map_or(0, |i| i + 1)
}

/// Where the line after the one `end` is on starts (`end` itself when it
/// follows a line break, as a block scalar's end does).
fn after_line(text: &str, end: usize) -> usize {
    if end > 0 && text.as_bytes()[end - 1] == b'\n' {
        return end;
    }
    text[end..].find('\n').map_or(text.len(), |i| end + i + 1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(text: &str) -> Value {
        let source = crate::document::SourceText {
            path: "t.yaml".into(),
            text: text.into(),
            format: crate::document::Format::Yaml,
        };
        crate::document::parse(&source, crate::document::ParseLimits::default()).unwrap()
    }

    fn edit(text: &str, new: Value) -> String {
        let out = splice(text, &read(text), &new).unwrap();
        assert_eq!(read(&out), new, "{out}");
        out
    }

    const DOC: &str = "# head\nversion: 1   # c\nname: 'x y'\nlist:\n- a\n- b: 1\n  c: \"q\"\n\nnested:\n    deep: plain text\n    more: [1, 2]\n# tail\n";

    #[test]
    fn scalars_keep_their_quoting() {
        let mut v = read(DOC);
        v["name"] = json!("it's");
        v["nested"]["deep"] = json!("other words");
        v["list"][1]["c"] = json!("r");
        v["version"] = json!(2);
        assert_eq!(
            edit(DOC, v),
            "# head\nversion: 2   # c\nname: 'it''s'\nlist:\n- a\n- b: 1\n  c: \"r\"\n\nnested:\n    deep: other words\n    more: [1, 2]\n# tail\n"
        );
        let mut v = read(DOC);
        v["nested"]["deep"] = json!("true");
        assert!(edit(DOC, v).contains("    deep: \"true\"\n"));
    }

    #[test]
    fn keys_are_added_at_their_siblings_indentation_and_removed_with_their_lines() {
        let mut v = read(DOC);
        v["nested"]["new"] = json!({"k": [1, "two"]});
        v["list"].as_array_mut().unwrap().push(json!("z"));
        v.as_object_mut().unwrap().remove("name");
        assert_eq!(
            edit(DOC, v),
            "# head\nversion: 1   # c\nlist:\n- a\n- b: 1\n  c: \"q\"\n- z\n\nnested:\n    deep: plain text\n    more: [1, 2]\n    new:\n      k:\n      - 1\n      - two\n# tail\n"
        );
    }

    #[test]
    fn empty_values_markers_and_crlf() {
        assert_eq!(edit("a:\nb: 1\n", json!({"a": 5, "b": 1})), "a: 5\nb: 1\n");
        assert_eq!(
            edit("---\na: x\n...\n", json!({"a": "z", "c": 1})),
            "---\na: z\nc: 1\n...\n"
        );
        assert_eq!(
            edit("a: x\r\nl:\r\n  - 1\r\n", json!({"a": "z", "l": [1, 2]})),
            "a: z\r\nl:\r\n  - 1\r\n  - 2\r\n"
        );
    }

    #[test]
    fn the_first_key_of_an_item_goes_and_the_next_one_follows_the_dash() {
        let t = "steps:\n- id: 1   # first\n  name: a\n  ok: true\n- id: 2\n  ok: false\n";
        assert_eq!(
            edit(t, json!({"steps": [{"ok": true}, {"id": 2}]})),
            "steps:\n- ok: true\n- id: 2\n"
        );
    }

    #[test]
    fn a_block_collection_left_empty_becomes_a_flow_one_after_its_key() {
        let t = "a:\n  # the list\n  - 1\n  - 2   # two\nm:\n    k: v\nb: 1\n";
        assert_eq!(
            edit(t, json!({"a": [], "m": {}, "b": 1})),
            "a: []\nm: {}\nb: 1\n"
        );
    }

    #[test]
    fn empty_flow_collections_are_filled_in_block_style() {
        let t = "a:\n  events: []   # none yet\n  meta: {}\nb: 1\n";
        let v = json!({"a": {"events": [{"at": 1, "kind": "start"}], "meta": {"k": "v"}}, "b": 1});
        assert_eq!(
            edit(t, v),
            "a:\n  events:\n    - at: 1\n      kind: start   # none yet\n  meta:\n    k: v\nb: 1\n"
        );
    }

    #[test]
    fn flow_collections_and_block_scalars_are_not_edited() {
        let mut v = read(DOC);
        v["nested"]["more"][0] = json!(5);
        let e = splice(DOC, &read(DOC), &v).unwrap_err();
        assert_eq!(
            e.to_string(),
            "the change at /nested/more/0 is inside a flow sequence"
        );
        let t = "a: |\n  text\nb: 1\n";
        let e = splice(t, &read(t), &json!({"a": "x", "b": 1})).unwrap_err();
        assert_eq!(e.to_string(), "the change at /a is a block scalar (| or >)");
    }
}
