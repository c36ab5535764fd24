//! Format-preserving edits: a new value of a document written as changes
//! to the previous version's own text, so that comments, blank lines,
//! quoting, indentation and key order stay as people wrote them and a
//! `git diff` shows only the lines whose values changed.
//!
//! [`splice`] walks the previous value and the new one together with the
//! previous text's structure. Where they are equal the text is kept byte
//! for byte; a changed scalar is replaced in place; a member added to a
//! mapping goes after its last sibling, indented as the siblings are; a
//! member removed goes with its separator (JSON) or its lines (YAML).
//! What a format's splicer does not support is an [`Unsupported`] naming
//! the place and the reason: the caller then writes the document in full
//! and says so. The caller also reads the result back and compares it with
//! the new value ([`crate::number::values_equal`]): a splice is a
//! proposal, never trusted.
//!
//! - JSON: spans found by the scanner of [`crate::locate`].
//! - YAML: spans from the YAML parser's events; block mappings and block
//!   sequences, plain and quoted scalars. Flow collections, block scalars
//!   (`|`, `>`), anchors, aliases and tags are not edited.
//! - TOML: `toml_edit`, which keeps comments and formatting.

mod json;
mod toml;
mod yaml;

use serde_json::Value;

use crate::document::Format;

/// Why a change could not be made to the previous text in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unsupported {
    /// Where the change is (JSON pointer; empty for the whole document).
    pub pointer: String,
    /// What about it the splicer does not support.
    pub reason: String,
}

impl Unsupported {
    /// An unsupported change at `pointer`.
    pub fn at(pointer: &str, reason: impl Into<String>) -> Unsupported {
        Unsupported {
            pointer: pointer.to_owned(),
            reason: reason.into(),
        }
    }
}

impl std::fmt::Display for Unsupported {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.pointer.is_empty() {
            write!(f, "the document {}", self.reason)
        } else {
            write!(f, "the change at {} {}", self.pointer, self.reason)
        }
    }
}

/// The text of `new` made from `text`, the previous version (which reads
/// as `old`), changing only what differs between `old` and `new`.
///
/// The result is not verified here: the caller parses it back and
/// compares it with `new` ([`crate::number::values_equal`]).
pub fn splice(format: Format, text: &str, old: &Value, new: &Value) -> Result<String, Unsupported> {
    match format {
        Format::Json => json::splice(text, old, new),
        Format::Yaml => yaml::splice(text, old, new),
        Format::Toml => toml::splice(text, old, new),
    }
}

/// The leading whitespace of the line `at` is on.
fn line_indent(text: &str, at: usize) -> &str {
    let start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = &text[start..];
    let n = line.len() - line.trim_start_matches([' ', '\t']).len();
    &line[..n]
}

/// Applies `edits` (byte range replaced by text; ranges disjoint, an
/// insertion before a replacement starting at the same place) to `text`.
fn apply(text: &str, mut edits: Vec<(usize, usize, String)>) -> String {
    edits.sort_by_key(|(s, e, _)| (*s, *e));
    let mut out = String::with_capacity(text.len() + 256);
    let mut cursor = 0;
    for (start, end, with) in edits {
        out.push_str(&text[cursor..start.max(cursor)]);
        out.push_str(&with);
        cursor = cursor.max(end);
    }
    out.push_str(&text[cursor..]);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::document::{ParseLimits, SourceText, parse};
    use proptest::prelude::*;

    fn scalar() -> impl Strategy<Value = Value> {
        prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::from),
            any::<i32>().prop_map(Value::from),
            (-1000.0f64..1000.0).prop_map(Value::from),
            "[a-z \"'\\\\:#\n\t-]{0,8}".prop_map(Value::from),
        ]
    }

    fn json_value() -> impl Strategy<Value = Value> {
        scalar().prop_recursive(4, 32, 5, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..5).prop_map(Value::from),
                prop::collection::btree_map("[a-e]{1,2}", inner, 0..5)
                    .prop_map(|m| Value::Object(m.into_iter().collect())),
            ]
        })
    }

    /// One random edit: where (by index at each level), what, and a value.
    type Seed = (Vec<usize>, u8, Value);

    /// The container `path` leads to (by index at each level, as long
    /// as there is a container there).
    fn walk<'a>(v: &'a mut Value, path: &[usize]) -> &'a mut Value {
        let Some((&i, rest)) = path.split_first() else {
            return v;
        };
        let key = match &*v {
            Value::Object(m) if !m.is_empty() => m.keys().nth(i % m.len()).cloned(),
            _ => None,
        };
        let deeper = match (&*v, &key) {
            (Value::Object(m), Some(k)) => m[k].is_object() || m[k].is_array(),
            (Value::Array(a), _) if !a.is_empty() => {
                a[i % a.len()].is_object() || a[i % a.len()].is_array()
            }
            _ => false,
        };
        if !deeper {
            return v;
        }
        match (v, key) {
            (Value::Object(m), Some(k)) => walk(&mut m[&k], rest),
            (Value::Array(a), _) => {
                let n = a.len();
                walk(&mut a[i % n], rest)
            }
            (v, _) => v,
        }
    }

    /// One to three random edits.
    fn edits() -> impl Strategy<Value = Vec<Seed>> {
        prop::collection::vec(
            (
                prop::collection::vec(any::<usize>(), 0..4),
                any::<u8>(),
                json_value(),
            ),
            1..4,
        )
    }

    /// `v` with the edit `seed` applied somewhere inside it.
    fn mutate(v: &mut Value, (path, op, with): Seed, fresh: usize) {
        let at = walk(v, &path);
        match (at, op % 3) {
            (Value::Object(m), 0) => {
                m.insert(format!("new{fresh}"), with);
            }
            (Value::Object(m), 1) if !m.is_empty() => {
                let k = m.keys().next().cloned().unwrap_or_default();
                m.shift_remove(&k);
            }
            (Value::Array(a), 0) => a.push(with),
            (Value::Array(a), 1) => {
                a.pop();
            }
            (Value::Object(m), _) if !m.is_empty() => {
                let k = m.keys().next_back().cloned().unwrap_or_default();
                m[&k] = with;
            }
            (Value::Array(a), _) if !a.is_empty() => a[0] = with,
            (at, _) => *at = with,
        }
    }

    /// `v` with every null made `false` (TOML has no null).
    fn without_nulls(v: Value) -> Value {
        match v {
            Value::Null => Value::Bool(false),
            Value::Array(a) => a.into_iter().map(without_nulls).collect(),
            Value::Object(m) => {
                Value::Object(m.into_iter().map(|(k, v)| (k, without_nulls(v))).collect())
            }
            v => v,
        }
    }

    fn read(text: &str, format: Format) -> Value {
        let source = SourceText {
            path: "t".into(),
            text: text.into(),
            format,
        };
        parse(&source, ParseLimits::default()).expect("the spliced text parses")
    }

    fn json_text(v: &Value, style: u8) -> String {
        let unit: &[u8] = match style % 5 {
            0 => return serde_json::to_string(v).unwrap(),
            // Odd breaks after every comma (no generated string holds one).
            4 => return serde_json::to_string(v).unwrap().replace(',', ",\n\t   "),
            1 => b"  ",
            2 => b"    ",
            _ => b"\t",
        };
        let mut buf = Vec::new();
        let fmt = serde_json::ser::PrettyFormatter::with_indent(unit);
        let mut ser = serde_json::Serializer::with_formatter(&mut buf, fmt);
        serde::Serialize::serialize(v, &mut ser).unwrap();
        String::from_utf8(buf).unwrap() + "\n"
    }

    /// `old` (written as `text`) edited by `seeds`: a splice that is made
    /// reads back as the edited value.
    fn reads_back(
        format: Format,
        text: &str,
        old: &Value,
        seeds: Vec<Seed>,
    ) -> Result<(), TestCaseError> {
        let mut new = old.clone();
        for (i, s) in seeds.into_iter().enumerate() {
            mutate(&mut new, s, i);
        }
        if let Ok(out) = splice(format, text, old, &new) {
            let back = read(&out, format);
            prop_assert!(
                crate::number::values_equal(&back, &new),
                "{}\n{:?}\n{:?}",
                out,
                back,
                new
            );
        }
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        /// A JSON splice reads back as exactly the new value, and keeps
        /// the text of what did not change.
        #[test]
        fn json_splices_read_back_exactly(
            old in json_value(),
            style in any::<u8>(),
            seeds in edits(),
        ) {
            let text = json_text(&old, style);
            let mut new = old.clone();
            for (i, s) in seeds.into_iter().enumerate() {
                mutate(&mut new, s, i);
            }
            if let Ok(out) = splice(Format::Json, &text, &old, &new) {
                prop_assert_eq!(&read(&out, Format::Json), &new, "{}", out);
                if old == new {
                    prop_assert_eq!(out, text);
                }
            }
        }

        /// A TOML splice that is made reads back as the new value.
        #[test]
        fn toml_splices_read_back_as_the_new_value(
            old in prop::collection::btree_map("[a-e]{1,2}", json_value(), 0..6)
                .prop_map(|m| without_nulls(Value::Object(m.into_iter().collect()))),
            seeds in edits(),
        ) {
            let text = ::toml::to_string(&crate::document::Portable(&old));
            prop_assume!(text.is_ok());
            let text = text.unwrap_or_default();
            prop_assume!(crate::number::values_equal(&read(&text, Format::Toml), &old));
            reads_back(Format::Toml, &text, &old, seeds)?;
        }

        /// A YAML splice that is made reads back as the new value.
        #[test]
        fn yaml_splices_read_back_as_the_new_value(
            old in json_value(),
            seeds in edits(),
        ) {
            let text = serde_saphyr::to_string(&crate::document::Portable(&old)).unwrap();
            prop_assume!(crate::number::values_equal(&read(&text, Format::Yaml), &old));
            reads_back(Format::Yaml, &text, &old, seeds)?;
        }
    }
}
