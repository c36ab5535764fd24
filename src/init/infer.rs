//! A JSON Schema inferred from example documents, for `init --adopt`.
//!
//! Every value seen at one place of the documents is folded into a
//! [`Shape`]; the shape is then written out as a 2020-12 schema that
//! accepts every document it was built from:
//!
//! - the types seen (`integer` when every number is whole, `number`
//!   otherwise; `null` added to the others' type list; different kinds of
//!   value become an `anyOf`);
//! - objects as records (`properties` in first-seen order, `required` for
//!   the members present in every object seen there) or as maps
//!   (`additionalProperties` with the shape of every value) when their keys
//!   look like data (ids, dates, paths, numbers) or vary from object to
//!   object; the document root is always a record, so the store's
//!   envelope members stay allowed;
//! - small closed sets of short words (no digits) seen repeatedly as an
//!   `enum`;
//! - a `format` when every string seen is a `date-time`, a `date`, a
//!   `uuid` or a `uri`;
//! - arrays with one `items` shape for every item seen.
//!
//! Objects stay open (no `additionalProperties: false` on records): a
//! schema inferred from a sample must not refuse the next document for a
//! member the sample did not happen to hold.

use indexmap::IndexMap;
use serde_json::{Map, Value, json};

/// At most this many distinct strings are remembered per place; past it a
/// place is not an enum.
const DISTINCT_CAP: usize = 12;
/// An enum has at most this many values ...
const ENUM_MAX: usize = 8;
/// ... each at most this long ...
const ENUM_VALUE_MAX_LEN: usize = 40;
/// ... and each value is seen this many times on average: a set that is
/// closed shows its values again.
const ENUM_MIN_REPEAT: usize = 2;
/// An object with more distinct keys than this, most of them in fewer than
/// half of the objects seen, is a map.
const MAP_MIN_KEYS: usize = 16;

/// What was seen at one place of the documents.
#[derive(Debug, Default, Clone)]
pub struct Shape {
    /// How many values were seen here.
    seen: usize,
    null: bool,
    boolean: bool,
    integer: bool,
    fraction: bool,
    strings: Option<Strings>,
    object: Option<Object>,
    array: Option<Box<Shape>>,
    /// Arrays seen (also empty ones, whose items add nothing).
    arrays: usize,
}

#[derive(Debug, Clone)]
struct Strings {
    seen: usize,
    distinct: IndexMap<String, usize>,
    overflow: bool,
    formats: [bool; FORMATS.len()],
}

#[derive(Debug, Default, Clone)]
struct Object {
    seen: usize,
    members: IndexMap<String, (usize, Shape)>,
}

/// Whether a string has a format.
type FormatTest = fn(&str) -> bool;

/// The formats a string place can get, each with its test: a shape
/// check, then the validator's own check of the format, so that a
/// document never fails the format it was given.
const FORMATS: [(&str, FormatTest); 4] = [
    ("date-time", |s| is_date_time(s) && valid_format(0, s)),
    ("date", |s| is_date(s) && valid_format(1, s)),
    ("uuid", |s| is_uuid(s) && valid_format(2, s)),
    ("uri", |s| is_uri(s) && valid_format(3, s)),
];

/// Whether `s` passes the validator's check of `FORMATS[i]`.
fn valid_format(i: usize, s: &str) -> bool {
    static VALIDATORS: std::sync::OnceLock<Vec<Option<jsonschema::Validator>>> =
        std::sync::OnceLock::new();
    let validators = VALIDATORS.get_or_init(|| {
        ["date-time", "date", "uuid", "uri"]
            .iter()
            .map(|f| {
                jsonschema::options()
                    .should_validate_formats(true)
                    .build(&json!({ "format": f }))
                    .ok()
            })
            .collect()
    });
    validators[i]
        .as_ref()
        .is_some_and(|v| v.is_valid(&Value::from(s)))
}

impl Shape {
    /// The shape of the values in `docs`, taken together.
    pub fn of<'a>(docs: impl IntoIterator<Item = &'a Value>) -> Shape {
        let mut shape = Shape::default();
        for d in docs {
            shape.add(d);
        }
        shape
    }

    /// Folds one more value into the shape.
    pub fn add(&mut self, v: &Value) {
        self.seen += 1;
        match v {
            Value::Null => self.null = true,
            Value::Bool(_) => self.boolean = true,
            Value::Number(n) => {
                if is_whole(n) {
                    self.integer = true;
                } else {
                    self.fraction = true;
                }
            }
            Value::String(s) => self.add_string(s),
            Value::Array(items) => {
                self.arrays += 1;
                let shape = self.array.get_or_insert_with(Box::default);
                for item in items {
                    shape.add(item);
                }
            }
            Value::Object(map) => {
                let object = self.object.get_or_insert_with(Object::default);
                object.seen += 1;
                for (k, v) in map {
                    let entry = object.members.entry(k.clone()).or_default();
                    entry.0 += 1;
                    entry.1.add(v);
                }
            }
        }
    }

    fn add_string(&mut self, s: &str) {
        let strings = self.strings.get_or_insert_with(|| Strings {
            seen: 0,
            distinct: IndexMap::new(),
            overflow: false,
            formats: [true; FORMATS.len()],
        });
        strings.seen += 1;
        for (ok, (_, test)) in strings.formats.iter_mut().zip(FORMATS) {
            *ok = *ok && test(s);
        }
        if let Some(n) = strings.distinct.get_mut(s) {
            *n += 1;
        } else if strings.distinct.len() < DISTINCT_CAP {
            strings.distinct.insert(s.to_owned(), 1);
        } else {
            strings.overflow = true;
        }
    }

    /// The schema of a document root: a record whatever its keys.
    pub fn root_schema(&self) -> Value {
        self.schema_with(true)
    }

    /// The schema of this place.
    pub fn schema(&self) -> Value {
        self.schema_with(false)
    }

    fn schema_with(&self, root: bool) -> Value {
        let mut branches: Vec<Value> = Vec::new();
        if self.boolean {
            branches.push(json!({"type": "boolean"}));
        }
        if self.integer || self.fraction {
            let t = if self.fraction { "number" } else { "integer" };
            branches.push(json!({"type": t}));
        }
        if let Some(s) = &self.strings {
            branches.push(s.schema());
        }
        if let Some(o) = &self.object {
            branches.push(o.schema(root));
        }
        if self.arrays > 0 {
            branches.push(match &self.array {
                Some(items) if items.seen > 0 => json!({"type": "array", "items": items.schema()}),
                _ => json!({"type": "array"}),
            });
        }
        match (branches.len(), self.null) {
            (0, true) => json!({"type": "null"}),
            (0, false) => json!({}),
            (1, false) => branches.remove(0),
            (1, true) => nullable(branches.remove(0)),
            (_, null) => {
                if null {
                    branches.push(json!({"type": "null"}));
                }
                json!({ "anyOf": branches })
            }
        }
    }
}

/// `schema` that also accepts `null`.
fn nullable(mut schema: Value) -> Value {
    let Some(map) = schema.as_object_mut() else {
        return schema;
    };
    if let Some(Value::String(t)) = map.get("type").cloned() {
        map.insert("type".into(), json!([t, "null"]));
    }
    if let Some(Value::Array(values)) = map.get_mut("enum") {
        values.push(Value::Null);
    }
    schema
}

impl Strings {
    fn schema(&self) -> Value {
        let mut out = Map::new();
        out.insert("type".into(), "string".into());
        if let Some((name, _)) = FORMATS
            .iter()
            .zip(self.formats)
            .find_map(|(f, ok)| ok.then_some(f))
        {
            out.insert("format".into(), (*name).into());
        } else if self.is_enum() {
            let values = self.distinct.keys().cloned().map(Value::from).collect();
            out.insert("enum".into(), Value::Array(values));
        }
        Value::Object(out)
    }

    /// A small set of short words, each seen again. Values with digits in
    /// them (versions, sizes, ids) are not a closed set.
    fn is_enum(&self) -> bool {
        let n = self.distinct.len();
        !self.overflow
            && n > 0
            && n <= ENUM_MAX
            && self.seen >= ENUM_MIN_REPEAT * n
            && self.seen > n
            && self.distinct.keys().all(|s| {
                !s.is_empty()
                    && s.chars().count() <= ENUM_VALUE_MAX_LEN
                    && !s.contains(|c: char| c.is_ascii_digit())
            })
    }
}

impl Object {
    fn schema(&self, root: bool) -> Value {
        if !root && self.is_map() {
            let mut values = Shape::default();
            for (_, (_, shape)) in &self.members {
                values.merge(shape);
            }
            return json!({"type": "object", "additionalProperties": values.schema()});
        }
        let properties: Map<String, Value> = self
            .members
            .iter()
            .map(|(k, (_, shape))| (k.clone(), shape.schema()))
            .collect();
        let required: Vec<Value> = self
            .members
            .iter()
            .filter(|(_, (n, _))| *n == self.seen)
            .map(|(k, _)| Value::from(k.clone()))
            .collect();
        let mut out = Map::new();
        out.insert("type".into(), "object".into());
        if !properties.is_empty() {
            out.insert("properties".into(), Value::Object(properties));
        }
        if !required.is_empty() {
            out.insert("required".into(), Value::Array(required));
        }
        Value::Object(out)
    }

    /// Keys that are data (every key an id, a date, a path, a number...),
    /// or many keys most of which only some objects have.
    fn is_map(&self) -> bool {
        let keys = self.members.len();
        if keys >= 2 && self.members.keys().all(|k| is_data_key(k)) {
            return true;
        }
        let rare = self
            .members
            .values()
            .filter(|(n, _)| 2 * n < self.seen)
            .count();
        keys > MAP_MIN_KEYS && 2 * rare > keys
    }
}

impl Shape {
    /// Folds everything `other` saw into this shape.
    fn merge(&mut self, other: &Shape) {
        self.seen += other.seen;
        self.null |= other.null;
        self.boolean |= other.boolean;
        self.integer |= other.integer;
        self.fraction |= other.fraction;
        self.arrays += other.arrays;
        if let Some(s) = &other.strings {
            match &mut self.strings {
                None => self.strings = Some(s.clone()),
                Some(mine) => mine.merge(s),
            }
        }
        if let Some(o) = &other.object {
            let mine = self.object.get_or_insert_with(Object::default);
            mine.seen += o.seen;
            for (k, (n, shape)) in &o.members {
                let entry = mine.members.entry(k.clone()).or_default();
                entry.0 += n;
                entry.1.merge(shape);
            }
        }
        if let Some(a) = &other.array {
            self.array.get_or_insert_with(Box::default).merge(a);
        }
    }
}

impl Strings {
    fn merge(&mut self, other: &Strings) {
        self.seen += other.seen;
        self.overflow |= other.overflow;
        for (ok, theirs) in self.formats.iter_mut().zip(other.formats) {
            *ok = *ok && theirs;
        }
        for (s, n) in &other.distinct {
            if let Some(mine) = self.distinct.get_mut(s) {
                *mine += n;
            } else if self.distinct.len() < DISTINCT_CAP {
                self.distinct.insert(s.clone(), *n);
            } else {
                self.overflow = true;
            }
        }
    }
}

/// Whether a number is whole, by its exact text (numbers keep their text).
fn is_whole(n: &serde_json::Number) -> bool {
    n.is_i64() || n.is_u64() || !n.to_string().contains(['.', 'e', 'E'])
}

/// A key that names data rather than a field: an id, a number, a date, a
/// path, a host, a version, or a code with digits in it.
fn is_data_key(k: &str) -> bool {
    if k.is_empty() {
        return false;
    }
    let digits = k.chars().filter(char::is_ascii_digit).count();
    k.contains(['/', '.', ':', '@', ' '])
        || k.chars().next().is_some_and(|c| c.is_ascii_digit())
        || is_uuid(k)
        || is_date(k)
        || (k.len() >= 6 && k.chars().all(|c| c.is_ascii_hexdigit()) && digits > 0)
        || (k.len() >= 6
            && digits > 0
            && k.chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '-' || c == '_'))
}

fn is_date_time(s: &str) -> bool {
    s.len() >= 20
        && s.as_bytes()
            .get(10)
            .is_some_and(|b| matches!(b, b'T' | b't'))
        && s.parse::<jiff::Timestamp>().is_ok()
}

fn is_date(s: &str) -> bool {
    s.len() == 10 && s.parse::<jiff::civil::Date>().is_ok()
}

fn is_uuid(s: &str) -> bool {
    let b = s.as_bytes();
    b.len() == 36
        && b.iter().enumerate().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => *c == b'-',
            _ => c.is_ascii_hexdigit(),
        })
}

fn is_uri(s: &str) -> bool {
    let Some((scheme, rest)) = s.split_once("://") else {
        return false;
    };
    !scheme.is_empty()
        && scheme.starts_with(|c: char| c.is_ascii_alphabetic())
        && scheme
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '.' | '-'))
        && !rest.is_empty()
        && !rest.contains(char::is_whitespace)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn infer(docs: &[Value]) -> Value {
        Shape::of(docs).root_schema()
    }

    fn accepts(schema: &Value, doc: &Value) -> bool {
        jsonschema::options()
            .should_validate_formats(true)
            .build(schema)
            .unwrap()
            .is_valid(doc)
    }

    #[test]
    fn records_require_what_every_document_has() {
        let docs = [
            json!({"name": "a", "port": 80, "tags": ["x"]}),
            json!({"name": "b", "port": 8080, "note": null}),
        ];
        let s = infer(&docs);
        assert_eq!(s["required"], json!(["name", "port"]));
        assert_eq!(s["properties"]["port"], json!({"type": "integer"}));
        assert_eq!(s["properties"]["note"], json!({"type": "null"}));
        assert_eq!(
            s["properties"]["tags"],
            json!({"type": "array", "items": {"type": "string"}})
        );
        for d in &docs {
            assert!(accepts(&s, d));
        }
        assert!(!accepts(&s, &json!({"name": "c"})));
    }

    #[test]
    fn maps_by_key_shape_and_enums_for_closed_sets() {
        let docs = [
            json!({"processed": {"B0BZ9L4P6F": {"status": "done"}, "B0C1234567": {"status": "failed"}}}),
            json!({"processed": {"B0D7654321": {"status": "done"}}}),
            json!({"processed": {"B0E0000001": {"status": "done", "at": "2026-01-02T03:04:05Z"}}}),
        ];
        let s = infer(&docs);
        let map = &s["properties"]["processed"];
        assert!(map.get("properties").is_none(), "{map}");
        let entry = &map["additionalProperties"];
        assert_eq!(
            entry["properties"]["status"]["enum"],
            json!(["done", "failed"])
        );
        assert_eq!(entry["properties"]["at"]["format"], "date-time");
        assert_eq!(entry["required"], json!(["status"]));
        assert!(!accepts(
            &s,
            &json!({"processed": {"X1": {"status": "lost"}}})
        ));
    }

    #[test]
    fn mixed_values_become_any_of_and_null_joins_the_type() {
        let s = Shape::of(&[json!(1), json!("a"), json!(null)]).schema();
        assert_eq!(
            s,
            json!({"anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}]})
        );
        let s = Shape::of(&[json!(1.5), json!(2), json!(null)]).schema();
        assert_eq!(s, json!({"type": ["number", "null"]}));
    }

    #[test]
    fn big_and_exact_numbers_keep_their_kind() {
        let big: Value = serde_json::from_str("18446744073709551617").unwrap();
        assert_eq!(Shape::of([&big]).schema(), json!({"type": "integer"}));
        let frac: Value = serde_json::from_str("1.0").unwrap();
        assert_eq!(Shape::of([&frac]).schema(), json!({"type": "number"}));
    }

    #[test]
    fn data_keys() {
        for k in [
            "B0BZ9L4P6F",
            "2026-01-02",
            "a/b.json",
            "10",
            "deadbeef01",
            "host:80",
        ] {
            assert!(is_data_key(k), "{k}");
        }
        for k in ["name", "retry_count", "schemaVersion", "ID"] {
            assert!(!is_data_key(k), "{k}");
        }
    }
}
