//! Strict parsing of state documents (JSON, YAML, TOML) into JSON values.
//!
//! Strict means: invalid UTF-8, duplicate keys, nesting deeper than
//! [`ParseLimits::max_depth`] and documents larger than
//! [`ParseLimits::max_bytes`] are errors that name the place, never a silent
//! pick or a panic.

use std::fmt;
use std::path::{Path, PathBuf};

use serde::de::{self, DeserializeSeed, MapAccess, SeqAccess, Visitor};
use serde_json::{Map, Value};

/// A document's file format.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    serde::Deserialize,
    serde::Serialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Format {
    /// JSON (RFC 8259).
    Json,
    /// YAML 1.2, one document per file.
    Yaml,
    /// TOML 1.0.
    Toml,
}

impl Format {
    /// The format a file name's extension implies, if any.
    pub fn from_path(path: &Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "json" => Some(Format::Json),
            "yaml" | "yml" => Some(Format::Yaml),
            "toml" => Some(Format::Toml),
            _ => None,
        }
    }

    /// The lower-case name used in project files and messages.
    pub fn name(self) -> &'static str {
        match self {
            Format::Json => "json",
            Format::Yaml => "yaml",
            Format::Toml => "toml",
        }
    }
}

/// Limits that protect readers from hostile or broken input.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Deepest nesting of arrays and objects accepted (default 64; JSON
    /// input is additionally capped at 127 by the JSON reader).
    pub max_depth: usize,
    /// Largest document accepted, in bytes (default 256 MiB).
    pub max_bytes: usize,
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_depth: 64,
            max_bytes: 256 << 20,
        }
    }
}

/// A 1-based line and column in a document's text.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct Position {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// Byte offset into the text.
    pub offset: usize,
}

impl fmt::Display for Position {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.line, self.column)
    }
}

/// A document's path and text, kept together so every message can quote it.
#[derive(Debug, Clone)]
pub struct SourceText {
    /// Where the text came from.
    pub path: PathBuf,
    /// The text (valid UTF-8; a leading byte-order mark removed).
    pub text: String,
    /// The format it is parsed as.
    pub format: Format,
}

impl SourceText {
    /// The position of a byte offset in the text.
    pub fn position_of(&self, offset: usize) -> Position {
        position_of(&self.text, offset)
    }

    /// The byte offset of a 1-based line and column.
    pub fn offset_of(&self, line: usize, column: usize) -> usize {
        offset_of(&self.text, line, column)
    }
}

/// Why a document could not be parsed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ParseError {
    /// The bytes are not UTF-8.
    #[error("{path}:{at}: invalid UTF-8 (byte offset {offset}); documents must be UTF-8 encoded")]
    InvalidUtf8 {
        /// The file.
        path: PathBuf,
        /// Position of the first invalid byte.
        at: Position,
        /// Byte offset of the first invalid byte.
        offset: usize,
    },
    /// The document is larger than [`ParseLimits::max_bytes`].
    #[error("{path}: document is {size} bytes, over the {limit}-byte limit")]
    TooLarge {
        /// The file.
        path: PathBuf,
        /// Its size.
        size: usize,
        /// The limit.
        limit: usize,
    },
    /// Syntax error, duplicate key, or nesting too deep.
    #[error("{path}:{at}: {message}")]
    Syntax {
        /// The file.
        path: PathBuf,
        /// Where the parser stopped.
        at: Position,
        /// The parser's message.
        message: String,
        /// The JSON pointer of the enclosing value, when known.
        pointer: Option<String>,
    },
    /// The document is empty (no value at all).
    #[error("{path}: document is empty")]
    Empty {
        /// The file.
        path: PathBuf,
    },
}

impl ParseError {
    /// The position the error points at, if any.
    pub fn position(&self) -> Option<Position> {
        match self {
            ParseError::InvalidUtf8 { at, .. } | ParseError::Syntax { at, .. } => Some(*at),
            _ => None,
        }
    }
}

/// Decodes bytes as UTF-8 text (dropping a leading byte-order mark).
pub fn decode(path: &Path, bytes: Vec<u8>, format: Format) -> Result<SourceText, ParseError> {
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => {
            let offset = e.utf8_error().valid_up_to();
            let valid = String::from_utf8_lossy(&e.as_bytes()[..offset]).into_owned();
            let at = position_of(&valid, offset);
            return Err(ParseError::InvalidUtf8 {
                path: path.to_owned(),
                at,
                offset,
            });
        }
    };
    let text = match text.strip_prefix('\u{feff}') {
        Some(rest) => rest.to_owned(),
        None => text,
    };
    Ok(SourceText {
        path: path.to_owned(),
        text,
        format,
    })
}

/// Parses a document strictly into a JSON value.
pub fn parse(source: &SourceText, limits: ParseLimits) -> Result<Value, ParseError> {
    let path = &source.path;
    if source.text.len() > limits.max_bytes {
        return Err(ParseError::TooLarge {
            path: path.clone(),
            size: source.text.len(),
            limit: limits.max_bytes,
        });
    }
    if source.text.trim().is_empty() && source.format != Format::Toml {
        return Err(ParseError::Empty { path: path.clone() });
    }
    match source.format {
        Format::Json => parse_json(source, limits),
        Format::Yaml => parse_yaml(source, limits),
        Format::Toml => parse_toml(source, limits),
    }
}

fn parse_json(source: &SourceText, limits: ParseLimits) -> Result<Value, ParseError> {
    let mut de = serde_json::Deserializer::from_str(&source.text);
    // serde_json also stops at 128 levels, so limits above that act as 128.
    let seed = StrictSeed {
        depth: 0,
        max_depth: limits.max_depth,
    };
    let value = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    value.map_err(|e| {
        let at = source.position_of(source.offset_of(e.line(), e.column()));
        let message = strip_json_position(&e.to_string());
        let pointer = crate::locate::json_pointer_at(&source.text, at.offset);
        ParseError::Syntax {
            path: source.path.clone(),
            at,
            message,
            pointer,
        }
    })
}

fn strip_json_position(msg: &str) -> String {
    match msg.rfind(" at line ") {
        Some(i) => msg[..i].to_owned(),
        None => msg.to_owned(),
    }
}

fn parse_yaml(source: &SourceText, limits: ParseLimits) -> Result<Value, ParseError> {
    let mut options = serde_saphyr::Options::default();
    if let Some(budget) = options.budget.as_mut() {
        budget.max_depth = limits.max_depth;
    }
    options.with_snippet = false;
    // YAML 1.2 core schema: only true/false are booleans (`on`, `yes` are strings).
    options.strict_booleans = true;
    let value =
        serde_saphyr::from_str_with_options::<YamlValue>(&source.text, options).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line() as usize, l.column() as usize))
                .unwrap_or((1, 1));
            let at = source.position_of(source.offset_of(line, column));
            ParseError::Syntax {
                path: source.path.clone(),
                at,
                message: yaml_message(&first_line(&e.to_string())),
                pointer: None,
            }
        })?;
    check_depth(source, &value.0, limits)?;
    Ok(value.0)
}

/// The YAML reader's message in this crate's words: a duplicate key as
/// JSON's is said, and no position (the error carries it) or advice meant
/// for the reader's API.
fn yaml_message(message: &str) -> String {
    let message = match message.rfind(" at line ") {
        Some(i) if message[i..].contains(", column ") => &message[..i],
        _ => message,
    };
    match message.strip_prefix("duplicate mapping key: ").map(|rest| {
        rest.split(", set DuplicateKeyPolicy")
            .next()
            .unwrap_or(rest)
    }) {
        Some(key) => format!(
            "duplicate key `{key}`: each key may appear once in a mapping; remove or rename one"
        ),
        None => message.to_owned(),
    }
}

/// A YAML document as a JSON value. Mapping keys that are not strings
/// (`~`, `true`, `3`) become their plain-scalar text, as YAML readers in
/// other languages do; nesting is checked after parsing.
struct YamlValue(Value);

impl<'de> serde::Deserialize<'de> for YamlValue {
    fn deserialize<D: de::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let seed = StrictSeed {
            depth: 0,
            max_depth: usize::MAX,
        };
        d.deserialize_any(seed).map(YamlValue)
    }
}

fn parse_toml(source: &SourceText, limits: ParseLimits) -> Result<Value, ParseError> {
    let value: Value = toml::from_str(&source.text).map_err(|e| {
        let offset = e.span().map(|s| s.start).unwrap_or(0);
        ParseError::Syntax {
            path: source.path.clone(),
            at: source.position_of(offset),
            message: e.message().to_owned(),
            pointer: None,
        }
    })?;
    check_depth(source, &value, limits)?;
    Ok(value)
}

fn first_line(s: &str) -> String {
    s.lines().next().unwrap_or(s).trim().to_owned()
}

fn check_depth(source: &SourceText, value: &Value, limits: ParseLimits) -> Result<(), ParseError> {
    fn deepest(v: &Value, depth: usize, limit: usize, at: &mut String) -> bool {
        if depth > limit {
            return true;
        }
        match v {
            Value::Object(m) => m.iter().any(|(k, v)| {
                let ok = deepest(v, depth + 1, limit, at);
                if ok {
                    *at = format!("/{}{at}", crate::pointer::escape_token(k));
                }
                ok
            }),
            Value::Array(a) => a.iter().enumerate().any(|(i, v)| {
                let ok = deepest(v, depth + 1, limit, at);
                if ok {
                    *at = format!("/{i}{at}");
                }
                ok
            }),
            _ => false,
        }
    }
    let mut pointer = String::new();
    if deepest(value, 0, limits.max_depth, &mut pointer) {
        let at = crate::locate::locate(source, &pointer).unwrap_or(Position {
            line: 1,
            column: 1,
            offset: 0,
        });
        return Err(ParseError::Syntax {
            path: source.path.clone(),
            at,
            message: format!("nesting deeper than {} levels", limits.max_depth),
            pointer: Some(pointer),
        });
    }
    Ok(())
}

/// The position of a byte offset in `text`.
pub fn position_of(text: &str, offset: usize) -> Position {
    let offset = offset.min(text.len());
    let before = &text.as_bytes()[..offset];
    let line = before.iter().filter(|&&b| b == b'\n').count() + 1;
    let line_start = before
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let column = String::from_utf8_lossy(&before[line_start..])
        .chars()
        .count()
        + 1;
    Position {
        line,
        column,
        offset,
    }
}

/// The byte offset of a 1-based line and (character) column in `text`.
pub fn offset_of(text: &str, line: usize, column: usize) -> usize {
    let mut start = 0;
    for _ in 1..line.max(1) {
        match text[start..].find('\n') {
            Some(i) => start += i + 1,
            None => return text.len(),
        }
    }
    let rest = &text[start..];
    let end = rest.find('\n').unwrap_or(rest.len());
    start
        + rest[..end]
            .char_indices()
            .nth(column.saturating_sub(1))
            .map_or(end, |(i, _)| i)
}

/// Reads a mapping key: a string, or a scalar written as its text.
struct KeySeed;

impl<'de> DeserializeSeed<'de> for KeySeed {
    type Value = String;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<String, D::Error> {
        d.deserialize_any(self)
    }
}

impl Visitor<'_> for KeySeed {
    type Value = String;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or scalar key")
    }
    fn visit_str<E>(self, v: &str) -> Result<String, E> {
        Ok(v.to_owned())
    }
    fn visit_string<E>(self, v: String) -> Result<String, E> {
        Ok(v)
    }
    fn visit_bool<E>(self, v: bool) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_i64<E>(self, v: i64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_u64<E>(self, v: u64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_f64<E>(self, v: f64) -> Result<String, E> {
        Ok(v.to_string())
    }
    fn visit_unit<E>(self) -> Result<String, E> {
        Ok("null".to_owned())
    }
    fn visit_none<E>(self) -> Result<String, E> {
        Ok("null".to_owned())
    }
}

/// Deserializes a JSON value, refusing duplicate keys and deep nesting.
struct StrictSeed {
    depth: usize,
    max_depth: usize,
}

impl StrictSeed {
    fn child<E: de::Error>(&self) -> Result<StrictSeed, E> {
        if self.depth >= self.max_depth {
            return Err(E::custom(format_args!(
                "nesting deeper than {} levels",
                self.max_depth
            )));
        }
        Ok(StrictSeed {
            depth: self.depth + 1,
            max_depth: self.max_depth,
        })
    }
}

impl<'de> DeserializeSeed<'de> for StrictSeed {
    type Value = Value;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Value, D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for StrictSeed {
    type Value = Value;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a JSON value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Value, E> {
        Ok(Value::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Value, E> {
        Ok(Value::from(v))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Value, E> {
        Ok(serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number))
    }
    fn visit_str<E>(self, v: &str) -> Result<Value, E> {
        Ok(Value::String(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Value, E> {
        Ok(Value::String(v))
    }
    fn visit_unit<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_none<E>(self) -> Result<Value, E> {
        Ok(Value::Null)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Value, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0));
        while let Some(v) = seq.next_element_seed(self.child()?)? {
            out.push(v);
        }
        Ok(Value::Array(out))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Value, A::Error> {
        let mut out = Map::new();
        while let Some(key) = map.next_key_seed(KeySeed)? {
            if out.contains_key(&key) {
                return Err(de::Error::custom(format_args!(
                    "duplicate key `{key}`: each key may appear once in an object; remove or rename one"
                )));
            }
            let v = map.next_value_seed(self.child()?)?;
            out.insert(key, v);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn src(text: &str, format: Format) -> SourceText {
        SourceText {
            path: "doc".into(),
            text: text.into(),
            format,
        }
    }

    fn err(text: &str, format: Format) -> String {
        parse(&src(text, format), ParseLimits::default())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn duplicate_json_key_is_named_with_position() {
        let e = err("{\n  \"a\": 1,\n  \"a\": 2\n}", Format::Json);
        assert!(e.starts_with("doc:3:"), "{e}");
        assert!(e.contains("duplicate key `a`"), "{e}");
    }

    #[test]
    fn depth_limit() {
        let deep = format!("{}{}", "[".repeat(70), "]".repeat(70));
        let e = err(&deep, Format::Json);
        assert!(e.contains("nesting deeper than 64 levels"), "{e}");
        let ok = format!("{}{}", "[".repeat(64), "]".repeat(64));
        assert!(parse(&src(&ok, Format::Json), ParseLimits::default()).is_ok());
    }

    #[test]
    fn invalid_utf8_names_offset() {
        let e = decode(
            Path::new("f.json"),
            b"{\"a\": \"\xff\"}".to_vec(),
            Format::Json,
        )
        .unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.json:1:8: invalid UTF-8 (byte offset 7); documents must be UTF-8 encoded"
        );
    }

    #[test]
    fn trailing_garbage_and_truncation() {
        assert!(err("{} x", Format::Json).contains("trailing characters"));
        let e = err("{\"a\": [1,", Format::Json);
        assert!(e.contains("EOF"), "{e}");
        assert!(err("  \n", Format::Json).contains("empty"));
    }

    #[test]
    fn yaml_duplicates_and_toml() {
        let e = err("a: 1\nb: 2\na: 3\n", Format::Yaml);
        assert!(e.starts_with("doc:3:"), "{e}");
        assert!(e.to_lowercase().contains("duplicate"), "{e}");
        let v = parse(
            &src("a = 1\n[b]\nc = \"x\"\n", Format::Toml),
            ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(v, serde_json::json!({"a": 1, "b": {"c": "x"}}));
        let e = err("a = 1\na = 2\n", Format::Toml);
        assert!(e.starts_with("doc:2:"), "{e}");
    }

    #[test]
    fn positions_round_trip() {
        let t = "ab\ncdé\nf";
        let p = position_of(t, offset_of(t, 2, 3));
        assert_eq!((p.line, p.column), (2, 3));
        assert_eq!(offset_of(t, 3, 1), t.len() - 1);
    }
}
