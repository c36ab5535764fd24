//! JSON: the previous text scanned once, in step with the previous and new
//! values; only the spans of what changed are replaced.

use serde::Serialize;
use serde_json::{Map, Value};

use super::{Unsupported, apply, line_indent};
use crate::locate::Scanner;
use crate::pointer::join;

/// The text of `new`, made from `text` (which reads as `old`).
pub(super) fn splice(text: &str, old: &Value, new: &Value) -> Result<String, Unsupported> {
    let mut j = Json {
        text,
        unit: indent_unit(text),
        nl: if text.contains("\r\n") { "\r\n" } else { "\n" },
        edits: Vec::new(),
    };
    let mut s = Scanner::new(text);
    s.skip_ws();
    j.value(&mut s, old, new, "")?;
    Ok(apply(text, j.edits))
}

/// The indentation of one level: the leading whitespace of the first
/// indented line (two spaces when no line is indented).
fn indent_unit(text: &str) -> String {
    text.lines()
        .map(|l| &l[..l.len() - l.trim_start_matches([' ', '\t']).len()])
        .find(|w| !w.is_empty())
        .map_or_else(|| "  ".to_owned(), str::to_owned)
}

/// The error for text that does not scan as the value it read as.
fn lost(pointer: &str) -> Unsupported {
    Unsupported::at(pointer, "could not be found in the text")
}

/// A member of an object (from its key) or an item of an array, by span.
struct Item {
    start: usize,
    end: usize,
}

/// An object's or array's members: where they are and which stay.
struct Members<'v> {
    open: usize,
    close: usize,
    items: Vec<Item>,
    kept: Vec<bool>,
    /// Added members: the key (for an object) and the value.
    added: Vec<(Option<&'v str>, &'v Value)>,
}

struct Json<'t> {
    text: &'t str,
    unit: String,
    nl: &'static str,
    edits: Vec<(usize, usize, String)>,
}

impl Json<'_> {
    fn value(
        &mut self,
        s: &mut Scanner<'_>,
        old: &Value,
        new: &Value,
        ptr: &str,
    ) -> Result<(), Unsupported> {
        if old == new {
            return s.skip_value().ok_or_else(|| lost(ptr));
        }
        match (old, new, s.peek()) {
            (Value::Object(o), Value::Object(n), Some(b'{')) => self.object(s, o, n, ptr),
            (Value::Array(o), Value::Array(n), Some(b'[')) => self.array(s, o, n, ptr),
            _ => {
                let start = s.i;
                s.skip_value().ok_or_else(|| lost(ptr))?;
                let with = self.render(new, line_indent(self.text, start))?;
                self.edits.push((start, s.i, with));
                Ok(())
            }
        }
    }

    fn object(
        &mut self,
        s: &mut Scanner<'_>,
        o: &Map<String, Value>,
        n: &Map<String, Value>,
        ptr: &str,
    ) -> Result<(), Unsupported> {
        let added = n
            .iter()
            .filter(|(k, _)| !o.contains_key(*k))
            .map(|(k, v)| (Some(k.as_str()), v))
            .collect();
        self.scan(s, b'}', added, ptr, |j, s, _| {
            let key = s.string().ok_or_else(|| lost(ptr))?;
            s.skip_ws();
            s.eat(b':').ok_or_else(|| lost(ptr))?;
            s.skip_ws();
            match (o.get(&key), n.get(&key)) {
                (Some(ov), Some(nv)) => j.value(s, ov, nv, &join(ptr, &key))?,
                _ => s.skip_value().ok_or_else(|| lost(ptr))?,
            }
            Ok(n.contains_key(&key))
        })
    }

    fn array(
        &mut self,
        s: &mut Scanner<'_>,
        o: &[Value],
        n: &[Value],
        ptr: &str,
    ) -> Result<(), Unsupported> {
        let added = n.iter().skip(o.len()).map(|v| (None, v)).collect();
        self.scan(s, b']', added, ptr, |j, s, at| {
            match (o.get(at), n.get(at)) {
                (Some(ov), Some(nv)) => j.value(s, ov, nv, &join(ptr, &at.to_string()))?,
                _ => s.skip_value().ok_or_else(|| lost(ptr))?,
            }
            Ok(at < n.len())
        })
    }

    /// Scans the object or array at `s` (ending with `close`), `member`
    /// scanning each member (given its index) and saying whether it stays;
    /// then removes those that go and adds `added`.
    fn scan<'v>(
        &mut self,
        s: &mut Scanner<'_>,
        close: u8,
        added: Vec<(Option<&'v str>, &'v Value)>,
        ptr: &str,
        mut member: impl FnMut(&mut Self, &mut Scanner<'_>, usize) -> Result<bool, Unsupported>,
    ) -> Result<(), Unsupported> {
        let open = s.i;
        s.i += 1;
        let (mut items, mut kept) = (Vec::new(), Vec::new());
        s.skip_ws();
        if s.peek() == Some(close) {
            s.i += 1;
        } else {
            loop {
                s.skip_ws();
                let start = s.i;
                kept.push(member(self, s, items.len())?);
                items.push(Item { start, end: s.i });
                if close_or_next(s, close).ok_or_else(|| lost(ptr))? {
                    break;
                }
            }
        }
        let members = Members {
            open,
            close: s.i - 1,
            items,
            kept,
            added,
        };
        self.members(members)
    }

    /// The edits that remove the members not kept and add the new ones
    /// after the last member kept.
    fn members(&mut self, m: Members<'_>) -> Result<(), Unsupported> {
        if m.kept.iter().all(|k| *k) && m.added.is_empty() {
            return Ok(());
        }
        let survivors: Vec<usize> = (0..m.items.len()).filter(|i| m.kept[*i]).collect();
        let (Some(&first), Some(&last)) = (survivors.first(), survivors.last()) else {
            let outer = line_indent(self.text, m.open).to_owned();
            let inner = format!("{outer}{}", self.unit);
            let mut with = String::new();
            for (i, (k, v)) in m.added.iter().enumerate() {
                with.push_str(if i == 0 { "" } else { "," });
                with.push_str(self.nl);
                with.push_str(&inner);
                with.push_str(&self.member(*k, v, &inner)?);
            }
            if !with.is_empty() {
                with.push_str(self.nl);
                with.push_str(&outer);
            }
            self.edits.push((m.open + 1, m.close, with));
            return Ok(());
        };
        if first > 0 {
            self.edits
                .push((m.items[0].start, m.items[first].start, String::new()));
        }
        for j in first + 1..m.items.len() {
            if !m.kept[j] {
                self.edits
                    .push((m.items[j - 1].end, m.items[j].end, String::new()));
            }
        }
        if m.added.is_empty() {
            return Ok(());
        }
        let sep = self.separator(&m);
        let indent = line_indent(self.text, m.items[last].start);
        let mut with = String::new();
        for (k, v) in &m.added {
            with.push_str(&sep);
            with.push_str(&self.member(*k, v, indent)?);
        }
        let at = m.items[last].end;
        self.edits.push((at, at, with));
        Ok(())
    }

    /// What goes between two members: the first separator written, or
    /// after the only member the whitespace before it (with a comma).
    fn separator(&self, m: &Members<'_>) -> String {
        if m.items.len() >= 2 {
            return self.text[m.items[0].end..m.items[1].start].to_owned();
        }
        let before = &self.text[m.open + 1..m.items[0].start];
        match before.contains('\n') {
            true => format!(",{before}"),
            false => ", ".to_owned(),
        }
    }

    /// `"key": value` (or just the value, in an array), continuation
    /// lines indented from `indent`.
    fn member(&self, key: Option<&str>, v: &Value, indent: &str) -> Result<String, Unsupported> {
        let value = self.render(v, indent)?;
        Ok(match key {
            Some(k) => format!("{}: {value}", Value::from(k)),
            None => value,
        })
    }

    /// `v` as JSON: scalars on one line, containers indented by the unit
    /// the text uses, starting from `indent`.
    fn render(&self, v: &Value, indent: &str) -> Result<String, Unsupported> {
        let fail = |e: serde_json::Error| Unsupported::at("", e.to_string());
        let empty = match v {
            Value::Object(m) => m.is_empty(),
            Value::Array(a) => a.is_empty(),
            _ => true,
        };
        if empty {
            return serde_json::to_string(v).map_err(fail);
        }
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(self.unit.as_bytes());
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        v.serialize(&mut ser).map_err(fail)?;
        let text = String::from_utf8(buf).map_err(|e| Unsupported::at("", e.to_string()))?;
        Ok(text.replace('\n', &format!("{}{indent}", self.nl)))
    }
}

/// After a member: true at the container's end (`close`), false after a
/// comma; `None` on anything else.
fn close_or_next(s: &mut Scanner<'_>, close: u8) -> Option<bool> {
    s.skip_ws();
    let c = s.peek()?;
    s.i += 1;
    match c {
        b',' => Some(false),
        c if c == close => Some(true),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn edit(text: &str, new: Value) -> String {
        let old: Value = serde_json::from_str(text).unwrap();
        let out = splice(text, &old, &new).unwrap();
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, new, "{out}");
        out
    }

    #[test]
    fn a_scalar_is_replaced_in_place() {
        let t = "{\n    \"b\": 1,\n    \"a\": {\"x\": \"y\",   \"z\": [1, 2]}\n}\n";
        let out = edit(t, json!({"b": 1, "a": {"x": "w", "z": [1, 2]}}));
        assert_eq!(
            out,
            "{\n    \"b\": 1,\n    \"a\": {\"x\": \"w\",   \"z\": [1, 2]}\n}\n"
        );
    }

    #[test]
    fn members_are_added_after_their_last_sibling_and_removed_with_their_comma() {
        let t = "{\n\t\"b\": 1,\n\t\"a\": 2\n}";
        assert_eq!(
            edit(t, json!({"b": 1, "a": 2, "c": {"d": true}})),
            "{\n\t\"b\": 1,\n\t\"a\": 2,\n\t\"c\": {\n\t\t\"d\": true\n\t}\n}"
        );
        assert_eq!(edit(t, json!({"b": 1})), "{\n\t\"b\": 1\n}");
        assert_eq!(edit(t, json!({"a": 2})), "{\n\t\"a\": 2\n}");
        assert_eq!(edit(t, json!({})), "{}");
        assert_eq!(edit(t, json!({"c": 3})), "{\n\t\"c\": 3\n}");
        assert_eq!(
            edit("{\r\n  \"a\": 1\r\n}\r\n", json!({"a": 1, "b": [true]})),
            "{\r\n  \"a\": 1,\r\n  \"b\": [\r\n    true\r\n  ]\r\n}\r\n"
        );
        assert_eq!(edit("[1, 2, 3]", json!([1, 5])), "[1, 5]");
        assert_eq!(edit("[1]", json!([1, 2])), "[1, 2]");
        assert_eq!(edit("{\"a\": []}", json!({"a": [1]})), "{\"a\": [\n  1\n]}");
    }
}
