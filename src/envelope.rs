//! The envelope: the metadata every state document carries about itself
//! (version, when and by whom it was written, its checksum, its write
//! counter and lineage, provenance and migration history), read from and
//! written to the places the kind's `fields` settings name.
//!
//! # Checksum
//!
//! `checksum` is `sha256:<64 lower-case hex>` over the canonical form of
//! the document *without* the checksum field itself. The canonical form
//! follows RFC 8785 (JCS) in structure: object members sorted by the UTF-16
//! code units of their names, no insignificant whitespace, strings escaped
//! minimally (`\"`, `\\`, `\b`, `\f`, `\n`, `\r`, `\t`, other control
//! characters as `\u00xx`, everything else literal UTF-8). Numbers are
//! written the way `serde_json` writes them (integers exactly; floats with
//! the shortest round-trip representation), which equals JCS for integers
//! and differs only in exponent style for some floats.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use statewright_spec::catalog::VersionProblem;
use statewright_spec::pointer;
use statewright_spec::{EnvelopeFields, KindSpec};

/// Which program wrote a document.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct Origin {
    /// The module or system that owns the document (`hybridcore-state`).
    pub module: String,
    /// The command that wrote it (`migrate`, `set`).
    pub command: String,
    /// A unique id of that command's run.
    pub command_id: String,
    /// The version of the tool that wrote it.
    pub tool_version: String,
}

/// The envelope fields of one document, as found in it.
#[derive(Debug, Clone, PartialEq)]
pub struct Envelope {
    /// The schema version.
    pub version: u32,
    /// When it was written (RFC 3339), if recorded.
    pub generated_at: Option<String>,
    /// Who wrote it, if recorded.
    pub origin: Option<Value>,
    /// `sha256:<hex>`, if recorded.
    pub checksum: Option<String>,
    /// The write counter (0 when absent).
    pub serial: u64,
    /// The lineage id, if recorded.
    pub lineage: Option<String>,
    /// The provenance record, if any.
    pub provenance: Option<Value>,
    /// The migration history, if any.
    pub history: Option<Value>,
}

/// Why a document's envelope cannot be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EnvelopeProblem {
    /// The version field is missing or not a version.
    Version {
        /// The pointer looked at.
        pointer: String,
        /// What is wrong.
        message: String,
    },
    /// A field has the wrong type.
    Field {
        /// The pointer of the field.
        pointer: String,
        /// What was expected.
        expected: &'static str,
    },
}

impl std::fmt::Display for EnvelopeProblem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            EnvelopeProblem::Version { pointer, message } => {
                write!(f, "version at `{pointer}`: {message}")
            }
            EnvelopeProblem::Field { pointer, expected } => {
                write!(f, "`{pointer}` must be {expected}")
            }
        }
    }
}

impl Envelope {
    /// Reads the envelope from a document of a kind whose spec is `spec`
    /// (where the fields are; the version of a document without one).
    pub fn read(spec: &KindSpec, doc: &Value) -> Result<Envelope, EnvelopeProblem> {
        let fields = &spec.fields;
        let version = spec.version_of(doc).map_err(|p| EnvelopeProblem::Version {
            pointer: fields.version.clone(),
            message: match p {
                VersionProblem::Missing => "missing".into(),
                VersionProblem::NotAVersion(v) => format!("`{v}` is not a version"),
            },
        })?;
        let serial = match doc.pointer(&fields.serial) {
            None => 0,
            Some(v) => v.as_u64().ok_or(EnvelopeProblem::Field {
                pointer: fields.serial.clone(),
                expected: "a non-negative integer",
            })?,
        };
        Ok(Envelope {
            version,
            generated_at: string_at(doc, &fields.generated_at)?,
            origin: doc.pointer(&fields.origin).cloned(),
            checksum: string_at(doc, &fields.checksum)?,
            serial,
            lineage: string_at(doc, &fields.lineage)?,
            provenance: doc.pointer(&fields.provenance).cloned(),
            history: doc.pointer(&fields.history).cloned(),
        })
    }
}

fn string_at(doc: &Value, at: &str) -> Result<Option<String>, EnvelopeProblem> {
    match doc.pointer(at) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(EnvelopeProblem::Field {
            pointer: at.to_owned(),
            expected: "a string",
        }),
    }
}

/// What a write puts into the envelope.
#[derive(Debug, Clone)]
pub struct Stamp {
    /// The new serial.
    pub serial: u64,
    /// The lineage to keep or set.
    pub lineage: String,
    /// The write time (RFC 3339).
    pub generated_at: String,
    /// Who writes.
    pub origin: Origin,
    /// The schema version, set only when the document has none.
    pub default_version: u32,
}

/// Writes the stamp's fields into `doc` and then its checksum. Returns the
/// checksum, or the pointer that could not be set.
pub fn stamp(fields: &EnvelopeFields, doc: &mut Value, s: &Stamp) -> Result<String, String> {
    stamp_fields(fields, doc, s)?;
    let sum = checksum(doc, &fields.checksum);
    set_checksum(fields, doc, &sum)?;
    Ok(sum)
}

/// Writes the stamp's fields into `doc`, all but the checksum (which
/// [`set_checksum`] writes once it is computed). Returns the pointer that
/// could not be set on failure.
pub fn stamp_fields(fields: &EnvelopeFields, doc: &mut Value, s: &Stamp) -> Result<(), String> {
    if doc.pointer(&fields.version).is_none() {
        set(doc, &fields.version, Value::from(s.default_version))?;
    }
    set(doc, &fields.serial, Value::from(s.serial))?;
    set(doc, &fields.lineage, Value::from(s.lineage.clone()))?;
    set(
        doc,
        &fields.generated_at,
        Value::from(s.generated_at.clone()),
    )?;
    let origin = serde_json::to_value(&s.origin).unwrap_or(Value::Null);
    set(doc, &fields.origin, origin)
}

/// Writes `sum` into `doc`'s checksum field. Returns the pointer that could
/// not be set on failure.
pub fn set_checksum(fields: &EnvelopeFields, doc: &mut Value, sum: &str) -> Result<(), String> {
    set(doc, &fields.checksum, Value::from(sum))
}

fn set(doc: &mut Value, at: &str, v: Value) -> Result<(), String> {
    if pointer::set(doc, at, v) {
        Ok(())
    } else {
        Err(at.to_owned())
    }
}

/// `sha256:<hex>` over the canonical form of `doc` without the value at
/// `skip` (the checksum field).
pub fn checksum(doc: &Value, skip: &str) -> String {
    let tokens = pointer::tokens(skip);
    let mut sink = HashSink {
        hasher: Sha256::new(),
        buf: Vec::with_capacity(HASH_CHUNK + 1024),
    };
    write_canonical(&mut sink, doc, Some(&tokens));
    sink.hasher.update(&sink.buf);
    let digest = sink.hasher.finalize();
    let mut out = String::with_capacity(71);
    out.push_str("sha256:");
    for b in digest {
        out.push(char::from(HEX[usize::from(b >> 4)]));
        out.push(char::from(HEX[usize::from(b & 15)]));
    }
    out
}

const HEX: &[u8; 16] = b"0123456789abcdef";
const HASH_CHUNK: usize = 64 * 1024;

/// The canonical (JCS-style) bytes of a value.
pub fn canonical(doc: &Value) -> Vec<u8> {
    let mut out = Vec::new();
    write_canonical(&mut out, doc, None);
    out
}

trait Sink {
    fn buf(&mut self) -> &mut Vec<u8>;
}

impl Sink for Vec<u8> {
    fn buf(&mut self) -> &mut Vec<u8> {
        self
    }
}

/// Buffers canonical bytes and hashes them in large chunks.
struct HashSink {
    hasher: Sha256,
    buf: Vec<u8>,
}

impl Sink for HashSink {
    fn buf(&mut self) -> &mut Vec<u8> {
        if self.buf.len() >= HASH_CHUNK {
            self.hasher.update(&self.buf);
            self.buf.clear();
        }
        &mut self.buf
    }
}

/// Orders object keys by UTF-16 code units, as JCS requires. UTF-8 byte
/// order agrees except between characters above U+FFFF and those in
/// U+E000..=U+FFFF, so the slow comparison runs only when a key has a
/// 4-byte character.
fn utf16_order(a: &str, b: &str) -> std::cmp::Ordering {
    let astral = |s: &str| s.bytes().any(|c| c >= 0xF0);
    if astral(a) || astral(b) {
        a.encode_utf16().cmp(b.encode_utf16())
    } else {
        a.cmp(b)
    }
}

fn write_canonical(out: &mut dyn Sink, v: &Value, skip: Option<&[String]>) {
    match v {
        Value::Object(map) => {
            // Keys often come in order already; sort only when they do not.
            let sorted = map
                .keys()
                .zip(map.keys().skip(1))
                .all(|(a, b)| utf16_order(a, b).is_lt());
            if sorted {
                write_members(out, map.iter(), skip);
            } else {
                let mut entries: Vec<(&String, &Value)> = map.iter().collect();
                entries.sort_unstable_by(|a, b| utf16_order(a.0, b.0));
                write_members(out, entries.into_iter(), skip);
            }
        }
        Value::Array(items) => {
            out.buf().push(b'[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.buf().push(b',');
                }
                let inner = match skip {
                    Some([head, rest @ ..]) if head.parse() == Ok(i) && !rest.is_empty() => {
                        Some(rest)
                    }
                    _ => None,
                };
                write_canonical(out, item, inner);
            }
            out.buf().push(b']');
        }
        Value::String(s) => write_string(out.buf(), s),
        // Numbers: as serde_json formats them, exact where binary64 is not.
        Value::Number(n) => {
            out.buf()
                .extend_from_slice(statewright_spec::number::canonical_text(n).as_bytes());
        }
        // null and booleans: serde_json's own formatting.
        other => {
            let _ = serde_json::to_writer(out.buf(), other);
        }
    }
}

/// Writes an object's members, already in canonical order.
fn write_members<'a>(
    out: &mut dyn Sink,
    members: impl Iterator<Item = (&'a String, &'a Value)>,
    skip: Option<&[String]>,
) {
    out.buf().push(b'{');
    let mut first = true;
    for (k, value) in members {
        let inner = match skip {
            Some([head, rest @ ..]) if head == k => {
                if rest.is_empty() {
                    continue;
                }
                Some(rest)
            }
            _ => None,
        };
        if !first {
            out.buf().push(b',');
        }
        first = false;
        write_string(out.buf(), k);
        out.buf().push(b':');
        write_canonical(out, value, inner);
    }
    out.buf().push(b'}');
}

fn write_string(out: &mut Vec<u8>, s: &str) {
    out.push(b'"');
    let bytes = s.as_bytes();
    if !bytes.iter().any(|&b| b < 0x20 || b == b'"' || b == b'\\') {
        out.extend_from_slice(bytes);
        out.push(b'"');
        return;
    }
    let mut start = 0;
    for (i, &b) in bytes.iter().enumerate() {
        let esc: &[u8] = match b {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..=0x1f => b"",
            _ => continue,
        };
        out.extend_from_slice(&bytes[start..i]);
        if esc.is_empty() {
            out.extend_from_slice(b"\\u00");
            out.push(HEX[usize::from(b >> 4)]);
            out.push(HEX[usize::from(b & 15)]);
        } else {
            out.extend_from_slice(esc);
        }
        start = i + 1;
    }
    out.extend_from_slice(&bytes[start..]);
    out.push(b'"');
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn canonical_sorts_by_utf16_and_escapes_minimally() {
        // U+E000 sorts before U+1F600 in UTF-8 order but after it in UTF-16.
        let v =
            json!({"b": [1, 2.5, true, null], "a": "x\"\n\u{1}é", "\u{e000}": 1, "\u{1f600}": 2});
        let c = String::from_utf8(canonical(&v)).unwrap();
        assert_eq!(
            c,
            "{\"a\":\"x\\\"\\n\\u0001é\",\"b\":[1,2.5,true,null],\"\u{1f600}\":2,\"\u{e000}\":1}"
        );
    }

    #[test]
    fn checksum_skips_only_its_own_field() {
        let a = json!({"x": 1, "meta": {"sum": "old", "k": 2}});
        let b = json!({"x": 1, "meta": {"k": 2}});
        assert_eq!(checksum(&a, "/meta/sum"), checksum(&b, "/nothing"));
        assert!(checksum(&a, "/meta/sum").starts_with("sha256:"));
        assert_eq!(checksum(&a, "/meta/sum").len(), 71);
        assert_ne!(checksum(&a, "/x"), checksum(&a, "/meta/sum"));
    }

    #[test]
    fn stamp_then_read_round_trips() {
        let fields = EnvelopeFields {
            version: "/version".into(),
            ..EnvelopeFields::default()
        };
        let mut doc = json!({"body": 1});
        let s = Stamp {
            serial: 4,
            lineage: "l-1".into(),
            generated_at: "2026-01-01T00:00:00Z".into(),
            origin: Origin::default(),
            default_version: 2,
        };
        let sum = stamp(&fields, &mut doc, &s).unwrap();
        let spec: KindSpec =
            serde_json::from_value(json!({"path": "d.json", "fields": {"version": "/version"}}))
                .unwrap();
        let env = Envelope::read(&spec, &doc).unwrap();
        assert_eq!(env.version, 2);
        assert_eq!(env.serial, 4);
        assert_eq!(env.checksum.as_deref(), Some(sum.as_str()));
        assert_eq!(checksum(&doc, &fields.checksum), sum);
    }
}
