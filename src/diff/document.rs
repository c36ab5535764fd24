//! Document diff: two JSON values to an RFC 6902 JSON Patch that turns
//! the first into the second, and that patch as lines for people.
//!
//! Objects are compared member by member; arrays by a longest common
//! subsequence of their elements (Myers), so an insertion in the middle of
//! a list is one `add`, not a cascade of `replace`s. Elements the two
//! arrays pair up in a replaced stretch are diffed recursively. Applying
//! the patch to the first document yields the second (property-tested),
//! except for members the caller asked to ignore.

use std::fmt;

use json_patch::jsonptr::PointerBuf;
use json_patch::{AddOperation, Patch, PatchOperation, RemoveOperation, ReplaceOperation};
use serde::Serialize;
use serde_json::Value;
use similar::{Algorithm, DiffOp, capture_diff_slices};
use statewright_spec::{number, pointer};

/// Options for [`diff_documents`].
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DocDiffOptions {
    /// Pointers to leave out of the diff (envelope fields such as
    /// `/generated_at`, `/checksum`, `/serial`). A pointer covers its whole
    /// subtree; a `*` token matches any one member name or index
    /// (`/builders/*/updated_at`). Whole array elements are never skipped,
    /// so that the indices of the other operations stay right.
    pub ignore: Vec<String>,
    /// How numbers are compared.
    pub numbers: NumberComparison,
}

/// How [`diff_documents`] compares numbers.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum NumberComparison {
    /// By exact value, as JSON Schema's equality does: `1`, `1.0` and
    /// `1E0` are the same; `0.1` and `0.10000000000000000001` are not.
    #[default]
    Value,
    /// By the number's text as read (exponents read as `e+N`/`e-N`):
    /// `1` and `1.0` differ.
    Lexical,
}

impl DocDiffOptions {
    /// Nothing ignored.
    pub fn new() -> Self {
        Self::default()
    }

    /// Ignores the given envelope fields (the CLI's `--ignore-meta` passes
    /// the project's envelope pointers: `/generated_at`, `/checksum`, ...).
    pub fn ignore_meta<I, S>(pointers: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<String>,
    {
        Self {
            ignore: pointers.into_iter().map(Into::into).collect(),
            numbers: NumberComparison::Value,
        }
    }

    /// The same options, comparing numbers as `numbers` says.
    pub fn with_numbers(mut self, numbers: NumberComparison) -> Self {
        self.numbers = numbers;
        self
    }

    fn equal(&self, a: &Value, b: &Value) -> bool {
        match self.numbers {
            NumberComparison::Value => number::values_equal(a, b),
            NumberComparison::Lexical => a == b,
        }
    }

    fn ignored(&self, path: &[String]) -> bool {
        self.ignore.iter().any(|p| {
            let pat = pointer::tokens(p);
            pat.len() <= path.len() && pat.iter().zip(path).all(|(x, y)| x == "*" || x == y)
        })
    }
}

/// The JSON Patch (RFC 6902) that turns `a` into `b`, leaving out the
/// members `opts` ignores.
///
/// ```
/// use serde_json::json;
/// use statewright::diff::{diff_documents, DocDiffOptions};
///
/// let a = json!({"n": 1, "tags": ["x", "z"], "serial": 3});
/// let b = json!({"n": 2, "tags": ["x", "y", "z"], "serial": 4});
/// let patch = diff_documents(&a, &b, &DocDiffOptions::ignore_meta(["/serial"]));
/// assert_eq!(patch.0.len(), 2);
/// ```
pub fn diff_documents(a: &Value, b: &Value, opts: &DocDiffOptions) -> Patch {
    let mut out = Vec::new();
    let mut path = Vec::new();
    diff_value(a, b, &mut path, opts, &mut out);
    Patch(out)
}

fn ptr(path: &[String]) -> PointerBuf {
    PointerBuf::from_tokens(path.iter().map(String::as_str))
}

fn diff_value(
    a: &Value,
    b: &Value,
    path: &mut Vec<String>,
    opts: &DocDiffOptions,
    out: &mut Vec<PatchOperation>,
) {
    if opts.equal(a, b) || opts.ignored(path) {
        return;
    }
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            for (k, v) in x {
                path.push(k.clone());
                if !y.contains_key(k) && !opts.ignored(path) {
                    out.push(PatchOperation::Remove(RemoveOperation { path: ptr(path) }));
                } else if let Some(w) = y.get(k) {
                    diff_value(v, w, path, opts, out);
                }
                path.pop();
            }
            for (k, w) in y.iter().filter(|(k, _)| !x.contains_key(*k)) {
                path.push(k.clone());
                if !opts.ignored(path) {
                    out.push(add(path, w));
                }
                path.pop();
            }
        }
        (Value::Array(x), Value::Array(y)) => diff_array(x, y, path, opts, out),
        _ => out.push(PatchOperation::Replace(ReplaceOperation {
            path: ptr(path),
            value: b.clone(),
        })),
    }
}

fn add(path: &[String], value: &Value) -> PatchOperation {
    PatchOperation::Add(AddOperation {
        path: ptr(path),
        value: value.clone(),
    })
}

fn diff_array(
    x: &[Value],
    y: &[Value],
    path: &mut Vec<String>,
    opts: &DocDiffOptions,
    out: &mut Vec<PatchOperation>,
) {
    let (kx, ky): (Vec<String>, Vec<String>) = (
        x.iter().map(|v| canonical(v, opts.numbers)).collect(),
        y.iter().map(|v| canonical(v, opts.numbers)).collect(),
    );
    // `cur` is the index in the array as the patch has left it so far.
    let mut cur = 0usize;
    let at = |path: &mut Vec<String>, i: usize| {
        path.push(i.to_string());
    };
    for op in capture_diff_slices(Algorithm::Myers, &kx, &ky) {
        match op {
            DiffOp::Equal { len, .. } => cur += len,
            DiffOp::Delete { old_len, .. } => {
                for _ in 0..old_len {
                    at(path, cur);
                    out.push(PatchOperation::Remove(RemoveOperation { path: ptr(path) }));
                    path.pop();
                }
            }
            DiffOp::Insert {
                new_index, new_len, ..
            } => {
                for k in 0..new_len {
                    at(path, cur);
                    out.push(add(path, &y[new_index + k]));
                    path.pop();
                    cur += 1;
                }
            }
            DiffOp::Replace {
                old_index,
                old_len,
                new_index,
                new_len,
            } => {
                let paired = old_len.min(new_len);
                for k in 0..paired {
                    at(path, cur);
                    diff_value(&x[old_index + k], &y[new_index + k], path, opts, out);
                    path.pop();
                    cur += 1;
                }
                for _ in paired..old_len {
                    at(path, cur);
                    out.push(PatchOperation::Remove(RemoveOperation { path: ptr(path) }));
                    path.pop();
                }
                for k in paired..new_len {
                    at(path, cur);
                    out.push(add(path, &y[new_index + k]));
                    path.pop();
                    cur += 1;
                }
            }
        }
    }
}

/// A text form equal for equal values (object members sorted; numbers by
/// exact value unless compared lexically).
fn canonical(v: &Value, numbers: NumberComparison) -> String {
    match v {
        Value::Object(m) => {
            let mut members: Vec<(&String, &Value)> = m.iter().collect();
            members.sort_by(|p, q| p.0.cmp(q.0));
            let inner: Vec<String> = members
                .into_iter()
                .map(|(k, v)| format!("{}:{}", Value::String(k.clone()), canonical(v, numbers)))
                .collect();
            format!("{{{}}}", inner.join(","))
        }
        Value::Array(a) => format!(
            "[{}]",
            a.iter()
                .map(|v| canonical(v, numbers))
                .collect::<Vec<_>>()
                .join(",")
        ),
        Value::Number(n) if numbers == NumberComparison::Value => number::value_key(n),
        other => other.to_string(),
    }
}

/// What a line of a rendered diff does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LineOp {
    /// `+ /path: value`
    Added,
    /// `- /path`
    Removed,
    /// `~ /path: old → new`
    Changed,
}

/// One line of a rendered document diff. The library makes no colour
/// decisions: the CLI styles lines by [`LineOp`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DiffLine {
    /// What the line does.
    pub op: LineOp,
    /// Where (a JSON pointer into the document as the patch has left it
    /// by then, as in the patch).
    pub pointer: String,
    /// The value before (changed and removed lines).
    pub old: Option<Value>,
    /// The value after (changed and added lines).
    pub new: Option<Value>,
}

impl fmt::Display for DiffLine {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let show = |v: &Option<Value>| v.as_ref().map_or_else(String::new, Value::to_string);
        match self.op {
            LineOp::Added => write!(f, "+ {}: {}", self.pointer, show(&self.new)),
            LineOp::Removed => write!(f, "- {}", self.pointer),
            LineOp::Changed => write!(
                f,
                "~ {}: {} → {}",
                self.pointer,
                show(&self.old),
                show(&self.new)
            ),
        }
    }
}

/// The lines for a patch produced by [`diff_documents`] from `a`: one per
/// operation, with the old value looked up in `a` as patched so far.
pub fn render_patch(a: &Value, patch: &Patch) -> Vec<DiffLine> {
    let mut doc = a.clone();
    let mut lines = Vec::with_capacity(patch.0.len());
    for op in &patch.0 {
        let pointer = op.path().to_string();
        let old = doc.pointer(&pointer).cloned();
        let line = match op {
            PatchOperation::Add(o) => DiffLine {
                op: LineOp::Added,
                pointer,
                old: None,
                new: Some(o.value.clone()),
            },
            PatchOperation::Remove(_) => DiffLine {
                op: LineOp::Removed,
                pointer,
                old,
                new: None,
            },
            PatchOperation::Replace(o) => DiffLine {
                op: LineOp::Changed,
                pointer,
                old,
                new: Some(o.value.clone()),
            },
            // diff_documents emits no move, copy or test operations.
            _ => DiffLine {
                op: LineOp::Changed,
                pointer,
                old,
                new: None,
            },
        };
        lines.push(line);
        // A patch from diff_documents applies; a foreign one that does not
        // just leaves the later old values unknown.
        let _ = json_patch::patch(&mut doc, std::slice::from_ref(op));
    }
    lines
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn roundtrip(a: Value, b: Value) -> Patch {
        let p = diff_documents(&a, &b, &DocDiffOptions::new());
        let mut doc = a.clone();
        json_patch::patch(&mut doc, &p.0).expect("patch applies");
        assert_eq!(doc, b, "patch {p:?}");
        p
    }

    #[test]
    fn insertion_in_a_list_is_one_add() {
        let p = roundtrip(json!({"l": [1, 2, 3, 4]}), json!({"l": [1, 2, 9, 3, 4]}));
        assert_eq!(
            serde_json::to_value(&p).unwrap(),
            json!([{"op": "add", "path": "/l/2", "value": 9}])
        );
    }

    #[test]
    fn root_and_nested_changes() {
        roundtrip(json!(1), json!({"a": 1}));
        roundtrip(json!([{"a": 1}, {"b": 2}]), json!([{"a": 2}, {"c": 3}, 4]));
        roundtrip(json!({"a/b": {"~": 1}}), json!({"a/b": {"~": 2}}));
    }

    fn exact(text: &str) -> Value {
        serde_json::from_str(text).unwrap()
    }

    #[test]
    fn numbers_compare_by_exact_value_and_stay_exact_in_patches() {
        let a = exact(r#"{"n": 18446744073709551617123, "d": 0.1, "same": [1, 1.0, 100]}"#);
        let b = exact(
            r#"{"n": 18446744073709551617124, "d": 0.10000000000000000001, "same": [1.0, 1.00, 1E2]}"#,
        );
        let p = diff_documents(&a, &b, &DocDiffOptions::new());
        let text = serde_json::to_string(&p).unwrap();
        assert_eq!(
            text,
            r#"[{"op":"replace","path":"/n","value":18446744073709551617124},{"op":"replace","path":"/d","value":0.10000000000000000001}]"#
        );
        let mut doc = a.clone();
        json_patch::patch(&mut doc, &p.0).unwrap();
        assert!(number::values_equal(&doc, &b));
        // An element equal by value is no change inside an array either.
        let p = diff_documents(
            &exact("[1, 2.50, 3]"),
            &exact("[1.0, 2.5, 4]"),
            &DocDiffOptions::new(),
        );
        assert_eq!(
            serde_json::to_string(&p).unwrap(),
            r#"[{"op":"replace","path":"/2","value":4}]"#
        );
    }

    #[test]
    fn lexical_comparison_sees_every_spelling() {
        let opts = DocDiffOptions::new().with_numbers(NumberComparison::Lexical);
        let p = diff_documents(&exact("[1, 1.0, 100]"), &exact("[1.0, 1.00, 1E2]"), &opts);
        assert_eq!(p.0.len(), 3, "{p:?}");
    }

    #[test]
    fn ignores_and_renders() {
        let a = json!({"serial": 1, "b": {"x": {"t": 1, "v": 1}}, "gone": true});
        let b = json!({"serial": 2, "b": {"x": {"t": 2, "v": 2}}, "new": [1]});
        let opts = DocDiffOptions::ignore_meta(["/serial", "/b/*/t"]);
        let p = diff_documents(&a, &b, &opts);
        let lines: Vec<String> = render_patch(&a, &p)
            .iter()
            .map(ToString::to_string)
            .collect();
        assert_eq!(lines, ["~ /b/x/v: 1 → 2", "- /gone", "+ /new: [1]"]);
    }
}
