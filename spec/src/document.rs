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

/// The deepest nesting of arrays and objects (mappings, tables) any reader
/// accepts by default: documents, schemas, migration files, bundles and
/// the project file. The one place this limit is defined.
pub const MAX_DEPTH: usize = 64;

/// The most any configured depth limit can be: the JSON reader stops at
/// 128 levels whatever it is asked, and the text scanners in
/// [`crate::locate`] give up there instead of recursing further.
pub const DEPTH_CEILING: usize = 128;

/// Limits that protect readers from hostile or broken input.
#[derive(Debug, Clone, Copy)]
pub struct ParseLimits {
    /// Deepest nesting of arrays and objects accepted (default
    /// [`MAX_DEPTH`]; at most [`DEPTH_CEILING`]).
    pub max_depth: usize,
    /// Largest document accepted, in bytes (default 256 MiB).
    pub max_bytes: usize,
}

impl ParseLimits {
    /// The depth limit in force: [`ParseLimits::max_depth`], at most
    /// [`DEPTH_CEILING`].
    pub fn depth(&self) -> usize {
        self.max_depth.min(DEPTH_CEILING)
    }
}

impl Default for ParseLimits {
    fn default() -> Self {
        ParseLimits {
            max_depth: MAX_DEPTH,
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
        max_depth: limits.depth(),
    };
    let value = seed.deserialize(&mut de).and_then(|v| de.end().map(|()| v));
    value.map_err(|e| {
        let at = source.position_of(source.offset_of(e.line(), e.column()));
        let message = json_message(&source.text, at.offset, strip_json_position(&e.to_string()));
        let pointer = crate::locate::json_pointer_at(&source.text, at.offset);
        ParseError::Syntax {
            path: source.path.clone(),
            at,
            message,
            pointer,
        }
    })
}

/// The JSON reader's message made specific: a lone surrogate escape is
/// named as one, and a control character where the reader stopped is
/// named, since a terminal would not show it.
fn json_message(text: &str, offset: usize, message: String) -> String {
    if message.contains("hex escape") || message.contains("surrogate") {
        let before = &text[..offset.min(text.len())];
        let escape = before
            .rfind("\\u")
            .and_then(|i| text.get(i..i + 6))
            .filter(|e| {
                u16::from_str_radix(&e[2..], 16).is_ok_and(|u| (0xD800..0xE000).contains(&u))
            });
        if let Some(e) = escape {
            return format!(
                "lone surrogate `{e}`: a \\uD800-\\uDBFF escape must be followed by a \\uDC00-\\uDFFF one; write the character itself or a complete pair"
            );
        }
    }
    match text[offset.min(text.len())..].chars().next() {
        Some('\0') => format!("{message} (a NUL byte (\\0) is there; documents are text)"),
        Some(c) if c.is_control() && !matches!(c, '\n' | '\r' | '\t') => {
            format!(
                "{message} (control character U+{:04X} is there)",
                u32::from(c)
            )
        }
        _ => message,
    }
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
        budget.max_depth = limits.depth();
    }
    options.with_snippet = false;
    // YAML 1.2 core schema: only true/false are booleans (`on`, `yes` are strings).
    options.strict_booleans = true;
    // A tag the reader does not know (`!mytag`) would be dropped: refuse it.
    options.reject_unsupported_tags = true;
    let value =
        serde_saphyr::from_str_with_options::<YamlValue>(&source.text, options).map_err(|e| {
            let (line, column) = e
                .location()
                .map(|l| (l.line() as usize, l.column() as usize))
                .unwrap_or((1, 1));
            let mut at = source.position_of(source.offset_of(line, column));
            // The YAML scanner stops flow collections at its own recursion
            // limit, before the depth budget sees them: say it as the
            // depth limit, where the limit is crossed.
            if e.to_string().starts_with("recursion limit exceeded") {
                let crossed = flow_depth_crossed(&source.text, limits.depth());
                at = source.position_of(crossed.unwrap_or(at.offset));
                return ParseError::Syntax {
                    path: source.path.clone(),
                    at,
                    message: format!("nesting deeper than {} levels", limits.depth()),
                    pointer: None,
                };
            }
            ParseError::Syntax {
                path: source.path.clone(),
                at,
                message: match yaml_cause(&e) {
                    serde_saphyr::Error::Budget { breach, .. } => yaml_budget_message(breach, limits),
                    serde_saphyr::Error::UnsupportedTag { tag, .. } => format!(
                        "unknown tag `{tag}`: documents hold plain JSON values; remove the tag (or quote the value to keep it as text)"
                    ),
                    _ => yaml_message(&first_line(&e.to_string())),
                },
                pointer: None,
            }
        })?;
    check_depth(source, &value.0, limits)?;
    let mut value = value.0;
    exact_yaml_numbers(source, &mut value);
    Ok(value)
}

/// The YAML reader hands over every number beyond 64-bit integers and
/// every decimal as an `f64`. Only a number written with 16 or more digits
/// can differ from its `f64`, so when the text has such a digit run, each
/// decimal number gets back the exact text it was written with: the one
/// number token of the text with its `f64` (when several differ, the one
/// at the number's place in the text).
fn exact_yaml_numbers(source: &SourceText, value: &mut Value) {
    if !has_long_digit_run(&source.text) {
        return;
    }
    let mut by_float: std::collections::HashMap<u64, Vec<serde_json::Number>> =
        std::collections::HashMap::new();
    for token in source
        .text
        .split(|c: char| !(c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-')))
    {
        let token = token.strip_prefix('+').unwrap_or(token);
        let Ok(n) = token.parse::<serde_json::Number>() else {
            continue;
        };
        if let Some(f) = n.as_f64().filter(|_| crate::number::in_range(&n)) {
            let same = by_float.entry(f.to_bits()).or_default();
            if !same.iter().any(|m| crate::number::same_value(m, &n)) {
                same.push(n);
            }
        }
    }
    let mut floats = Vec::new();
    collect_floats(value, &mut String::new(), &mut floats);
    for pointer in floats {
        let Some(Value::Number(read)) = value.pointer_mut(&pointer) else {
            continue;
        };
        let Some(candidates) = read.as_f64().and_then(|f| by_float.get(&f.to_bits())) else {
            continue;
        };
        let exact = match candidates.as_slice() {
            [one] => Some(one.clone()),
            _ => located_number(source, &pointer).filter(|n| candidates.contains(n)),
        };
        if let Some(exact) = exact {
            *read = exact;
        }
    }
}

/// The plain number written at `pointer`, when the text can be searched
/// for it.
fn located_number(source: &SourceText, pointer: &str) -> Option<serde_json::Number> {
    let at = crate::locate::locate(source, pointer)?;
    let token: String = source.text[at.offset..]
        .chars()
        .take_while(|c| !c.is_whitespace() && !matches!(c, ',' | ']' | '}' | '#'))
        .collect();
    token.strip_prefix('+').unwrap_or(&token).parse().ok()
}

fn has_long_digit_run(text: &str) -> bool {
    let mut run = 0;
    for b in text.bytes() {
        match b {
            b'0'..=b'9' => run += 1,
            b'.' => {}
            _ => run = 0,
        }
        if run >= 16 {
            return true;
        }
    }
    false
}

fn collect_floats(v: &Value, at: &mut String, out: &mut Vec<String>) {
    match v {
        Value::Number(n) if n.as_str().contains(['.', 'e']) => out.push(at.clone()),
        Value::Array(items) => {
            for (i, item) in items.iter().enumerate() {
                let len = at.len();
                at.push('/');
                at.push_str(&i.to_string());
                collect_floats(item, at, out);
                at.truncate(len);
            }
        }
        Value::Object(m) => {
            for (k, item) in m {
                let len = at.len();
                at.push('/');
                at.push_str(&crate::pointer::escape_token(k));
                collect_floats(item, at, out);
                at.truncate(len);
            }
        }
        _ => {}
    }
}

/// A value as YAML and TOML encoders can take it: numbers as native
/// integers (up to 128 bits) or floats, instead of the private form that
/// exact numbers serialize to outside serde_json. A number no native type
/// holds exactly is encoded as its nearest float, which the store's
/// read-back check then refuses: never written changed.
pub struct Portable<'a>(pub &'a Value);

impl serde::Serialize for Portable<'_> {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::{SerializeMap, SerializeSeq};
        match self.0 {
            Value::Number(n) => {
                if n.as_str() == "-0" {
                    s.serialize_f64(-0.0)
                } else if let Some(i) = n.as_i64() {
                    s.serialize_i64(i)
                } else if let Some(u) = n.as_u64() {
                    s.serialize_u64(u)
                } else if let Ok(i) = n.as_str().parse::<i128>() {
                    s.serialize_i128(i)
                } else if let Ok(u) = n.as_str().parse::<u128>() {
                    s.serialize_u128(u)
                } else {
                    s.serialize_f64(n.as_f64().unwrap_or(f64::NAN))
                }
            }
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&Portable(item))?;
                }
                seq.end()
            }
            Value::Object(m) => {
                let mut map = s.serialize_map(Some(m.len()))?;
                for (k, item) in m {
                    map.serialize_entry(k, &Portable(item))?;
                }
                map.end()
            }
            other => other.serialize(s),
        }
    }
}

/// A breached YAML reader limit in words, with the limit where one is
/// configured here.
/// The error under the reader's wrappers (a snippet, an alias use).
#[allow(deprecated)]
fn yaml_cause(e: &serde_saphyr::Error) -> &serde_saphyr::Error {
    match e.without_snippet() {
        serde_saphyr::Error::AliasError { error, .. } => yaml_cause(error),
        other => other,
    }
}

fn yaml_budget_message(breach: &serde_saphyr::budget::BudgetBreach, limits: ParseLimits) -> String {
    use serde_saphyr::budget::BudgetBreach as B;
    let budget = serde_saphyr::Budget::default();
    match breach {
        B::Depth { .. } => format!("nesting deeper than {} levels", limits.depth()),
        B::Nodes { nodes } => format!(
            "more than {} values ({nodes} so far): over the YAML reader's limit; split the document",
            budget.max_nodes
        ),
        B::Events { events } => format!(
            "more than {} YAML events ({events} so far): over the YAML reader's limit; split the document",
            budget.max_events
        ),
        B::Aliases { aliases } | B::AliasAnchorRatio { aliases, .. } => format!(
            "{aliases} alias references (`*name`): over the YAML reader's limit, as an alias bomb would be; write the values out"
        ),
        B::Anchors { anchors } => format!(
            "{anchors} anchors (`&name`): over the YAML reader's limit of {}",
            budget.max_anchors
        ),
        B::Documents { documents } => {
            format!("{documents} YAML documents in one file: a document file holds one")
        }
        other => {
            let what = format!("{other:?}");
            let name = what.split([' ', '{']).next().unwrap_or("a limit");
            format!("over the YAML reader's limit on {}", name.to_lowercase())
        }
    }
}

/// The offset of the first flow bracket (`[`, `{`) beyond `limit` levels,
/// outside quoted scalars and comments.
fn flow_depth_crossed(text: &str, limit: usize) -> Option<usize> {
    let b = text.as_bytes();
    let (mut i, mut depth) = (0, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' if i == 0 || b[i - 1].is_ascii_whitespace() => i += line_end(&b[i..]),
            q @ (b'"' | b'\'') => i += toml_string_len(&b[i..], q).max(1),
            c => {
                if c == b'[' || c == b'{' {
                    depth += 1;
                    if depth > limit {
                        return Some(i);
                    }
                } else if c == b']' || c == b'}' {
                    depth = depth.saturating_sub(1);
                }
                i += 1;
            }
        }
    }
    None
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
    toml_nesting(source, limits)?;
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

/// Refuses TOML nested deeper than the limit before the TOML reader (which
/// recurses once per level) sees it: arrays and inline tables are counted
/// by their brackets, outside strings and comments. Every TOML reader
/// (documents, the project file) calls this first.
pub fn toml_nesting(source: &SourceText, limits: ParseLimits) -> Result<(), ParseError> {
    let b = source.text.as_bytes();
    let (mut i, mut depth) = (0, 0usize);
    while i < b.len() {
        match b[i] {
            b'#' => i += line_end(&b[i..]),
            q @ (b'"' | b'\'') => i += toml_string_len(&b[i..], q),
            c => {
                if c == b'[' || c == b'{' {
                    depth += 1;
                    if depth > limits.depth() {
                        return Err(ParseError::Syntax {
                            path: source.path.clone(),
                            at: source.position_of(i),
                            message: format!("nesting deeper than {} levels", limits.depth()),
                            pointer: None,
                        });
                    }
                } else if c == b']' || c == b'}' {
                    depth = depth.saturating_sub(1);
                }
                i += 1;
            }
        }
    }
    Ok(())
}

/// The length of the TOML string starting at `b[0]` (quote `q`), through
/// its closing quotes (or the line's end for an unclosed one-line string).
fn toml_string_len(b: &[u8], q: u8) -> usize {
    let triple = b.len() >= 3 && b[1] == q && b[2] == q;
    let open = if triple { 3 } else { 1 };
    let mut i = open;
    while i < b.len() {
        let c = b[i];
        if q == b'"' && c == b'\\' {
            i += 2;
            continue;
        }
        if !triple && c == b'\n' {
            return i;
        }
        if c == q && (!triple || b[i..].starts_with(&[q, q, q])) {
            return i + open;
        }
        i += 1;
    }
    b.len()
}

fn line_end(b: &[u8]) -> usize {
    b.iter().position(|&c| c == b'\n').unwrap_or(b.len())
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

/// The one-member map serde_json hands a visitor for a number it keeps as
/// its text (the `arbitrary_precision` feature).
const NUMBER_TOKEN: &str = "$serde_json::private::Number";

/// The message for a number beyond binary64's range (serde_json's words).
const OUT_OF_RANGE: &str = "number out of range";

/// A number kept exactly as its text, refused when it is beyond binary64's
/// range (`1e400`), which no consumer of the document could compare.
fn exact_number<E: de::Error>(text: &str) -> Result<Value, E> {
    match text.parse::<serde_json::Number>() {
        Ok(n) if crate::number::in_range(&n) => Ok(Value::Number(n)),
        _ => Err(E::custom(OUT_OF_RANGE)),
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
    fn visit_i128<E: de::Error>(self, v: i128) -> Result<Value, E> {
        exact_number(&v.to_string())
    }
    fn visit_u128<E: de::Error>(self, v: u128) -> Result<Value, E> {
        exact_number(&v.to_string())
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Value, E> {
        serde_json::Number::from_f64(v)
            .map(Value::Number)
            .ok_or_else(|| E::custom(OUT_OF_RANGE))
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
            // How the JSON reader hands over a number it keeps as text.
            if key == NUMBER_TOKEN && out.is_empty() {
                let text: String = map.next_value()?;
                return exact_number(&text);
            }
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
    fn numbers_are_kept_exact_or_refused() {
        let v = parse(
            &src(
                r#"{"a": 18446744073709551617, "b": 0.10000000000000000001, "c": 1.0, "d": -0}"#,
                Format::Json,
            ),
            ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"a":18446744073709551617,"b":0.10000000000000000001,"c":1.0,"d":-0}"#
        );
        assert_eq!(err("[1e400]", Format::Json), "doc:1:6: number out of range");
        let v = parse(
            &src(
                "a: 18446744073709551617\nb: [0.10000000000000000001, 2]\n",
                Format::Yaml,
            ),
            ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"a":18446744073709551617,"b":[0.10000000000000000001,2]}"#
        );
        assert!(err("a: 1e400\n", Format::Yaml).contains("doc:1:"));
        // A string with a long decimal lends its digits to no number.
        let v = parse(
            &src("a: \"0.10000000000000000001\"\nb: 0.1\n", Format::Yaml),
            ParseLimits::default(),
        )
        .unwrap();
        assert_eq!(
            serde_json::to_string(&v).unwrap(),
            r#"{"a":"0.10000000000000000001","b":0.1}"#
        );
    }

    #[test]
    fn deep_yaml_and_toml_are_refused_before_the_reader_recurses() {
        let deep = "[".repeat(100_000);
        let e = err(&deep, Format::Yaml);
        assert!(e.starts_with("doc:1:"), "{e}");
        assert!(e.ends_with("nesting deeper than 64 levels"), "{e}");
        let e = err(&format!("a = {deep}"), Format::Toml);
        assert_eq!(e, "doc:1:69: nesting deeper than 64 levels");
        // Brackets inside strings and comments do not count.
        let text = format!("a = \"{deep}\" # {deep}\nb = '''{deep}'''\n");
        assert!(parse(&src(&text, Format::Toml), ParseLimits::default()).is_ok());
    }

    #[test]
    fn messages_name_the_problem_in_words() {
        let e = err(r#"{"a": "\ud800"}"#, Format::Json);
        assert!(e.contains("lone surrogate `\\ud800`"), "{e}");
        let e = err("{\"a\": 1}\0", Format::Json);
        assert!(
            e.contains("trailing characters (a NUL byte (\\0) is there"),
            "{e}"
        );
        let e = err("a: !mytag x\n", Format::Yaml);
        assert!(e.starts_with("doc:1:11: unknown tag `!mytag`"), "{e}");
        let many = "- 1\n".repeat(260_000);
        let e = err(&many, Format::Yaml);
        assert!(!e.contains('{'), "{e}");
        assert!(e.contains("values") || e.contains("events"), "{e}");
    }

    #[test]
    fn positions_round_trip() {
        let t = "ab\ncdé\nf";
        let p = position_of(t, offset_of(t, 2, 3));
        assert_eq!((p.line, p.column), (2, 3));
        assert_eq!(offset_of(t, 3, 1), t.len() - 1);
    }
}
