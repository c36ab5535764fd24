//! State machines declared in schemas: a property carrying
//! `x-statewright-transitions` (a map from each state to the states it may
//! move to) may only change along those edges. Writing the same state again
//! is always allowed; a value that did not exist before may start anywhere.
//!
//! ```json
//! "status": {
//!   "enum": ["DISCOVERED", "STAGED", "COMPLETE"],
//!   "x-statewright-transitions": {
//!     "DISCOVERED": ["STAGED"], "STAGED": ["COMPLETE"], "COMPLETE": []
//!   }
//! }
//! ```

use std::collections::{BTreeMap, HashSet};

use serde_json::Value;

/// The schema keyword that declares a state machine.
pub const KEYWORD: &str = "x-statewright-transitions";

/// One step of a path pattern through a document.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Seg {
    /// A named property.
    Key(String),
    /// Every entry of a map or item of an array.
    Any,
}

/// A state machine found in a schema: where it applies and its edges.
#[derive(Debug, Clone)]
pub struct Machine {
    pattern: Vec<Seg>,
    /// State → states it may move to.
    pub edges: BTreeMap<String, Vec<String>>,
}

/// A change that the state machine does not allow.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Violation {
    /// Where the value lives (JSON pointer).
    pub pointer: String,
    /// The value before.
    pub from: String,
    /// The value the write wanted.
    pub to: String,
    /// What `from` may move to.
    pub allowed: Vec<String>,
}

impl std::fmt::Display for Violation {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "illegal transition at {}: {} → {}; allowed from {}: {}",
            self.pointer,
            self.from,
            self.to,
            self.from,
            if self.allowed.is_empty() {
                "(none: final state)".to_owned()
            } else {
                self.allowed.join(", ")
            }
        )
    }
}

/// Finds every state machine a schema declares, following local `$ref`s,
/// properties, map values (`additionalProperties`, `patternProperties`),
/// array items and combinators.
pub fn machines(schema: &Value) -> Vec<Machine> {
    let mut out = Vec::new();
    let mut seen = HashSet::new();
    walk(schema, schema, &mut Vec::new(), &mut out, &mut seen);
    out
}

fn walk(
    root: &Value,
    s: &Value,
    path: &mut Vec<Seg>,
    out: &mut Vec<Machine>,
    seen: &mut HashSet<String>,
) {
    let Some(obj) = s.as_object() else { return };
    if let Some(edges) = obj.get(KEYWORD).and_then(Value::as_object) {
        let edges = edges
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    v.as_array()
                        .map(|a| {
                            a.iter()
                                .filter_map(|x| x.as_str().map(str::to_owned))
                                .collect()
                        })
                        .unwrap_or_default(),
                )
            })
            .collect();
        out.push(Machine {
            pattern: path.clone(),
            edges,
        });
    }
    if let Some(r) = obj.get("$ref").and_then(Value::as_str)
        && let Some(target) = r.strip_prefix('#').and_then(|p| root.pointer(p))
        && seen.insert(r.to_owned())
    {
        // `seen` holds the refs being expanded on this branch: a recursive
        // schema is followed once, not forever.
        walk(root, target, path, out, seen);
        seen.remove(r);
    }
    let mut child = |seg: Seg, v: &Value, out: &mut Vec<Machine>, seen: &mut HashSet<String>| {
        path.push(seg);
        walk(root, v, path, out, seen);
        path.pop();
    };
    if let Some(props) = obj.get("properties").and_then(Value::as_object) {
        for (k, v) in props {
            child(Seg::Key(k.clone()), v, out, seen);
        }
    }
    for key in [
        "additionalProperties",
        "items",
        "additionalItems",
        "unevaluatedProperties",
    ] {
        if let Some(v) = obj.get(key).filter(|v| v.is_object()) {
            child(Seg::Any, v, out, seen);
        }
    }
    for key in ["patternProperties", "prefixItems"] {
        match obj.get(key) {
            Some(Value::Object(m)) => m.values().for_each(|v| child(Seg::Any, v, out, seen)),
            Some(Value::Array(a)) => a.iter().for_each(|v| child(Seg::Any, v, out, seen)),
            _ => {}
        }
    }
    for key in ["allOf", "anyOf", "oneOf"] {
        if let Some(a) = obj.get(key).and_then(Value::as_array) {
            for v in a {
                walk(root, v, path, out, seen);
            }
        }
    }
}

/// Every change from `old` to `new` that a machine of `schema` forbids.
pub fn check(schema: &Value, old: &Value, new: &Value) -> Vec<Violation> {
    let mut out = Vec::new();
    for m in machines(schema) {
        let mut pointers = Vec::new();
        expand(new, &m.pattern, String::new(), &mut pointers);
        for p in pointers {
            let (Some(Value::String(from)), Some(Value::String(to))) =
                (old.pointer(&p), new.pointer(&p))
            else {
                continue;
            };
            if from == to {
                continue;
            }
            let allowed = m.edges.get(from).cloned().unwrap_or_default();
            if !allowed.contains(to) {
                out.push(Violation {
                    pointer: p,
                    from: from.clone(),
                    to: to.clone(),
                    allowed: allowed.into_iter().filter(|a| a != from).collect(),
                });
            }
        }
    }
    out
}

fn expand(v: &Value, pattern: &[Seg], at: String, out: &mut Vec<String>) {
    let Some((first, rest)) = pattern.split_first() else {
        out.push(at);
        return;
    };
    match (first, v) {
        (Seg::Key(k), Value::Object(m)) => {
            if let Some(c) = m.get(k) {
                expand(c, rest, statewright_spec::pointer::join(&at, k), out);
            }
        }
        (Seg::Any, Value::Object(m)) => m
            .iter()
            .for_each(|(k, c)| expand(c, rest, statewright_spec::pointer::join(&at, k), out)),
        (Seg::Any, Value::Array(a)) => a
            .iter()
            .enumerate()
            .for_each(|(i, c)| expand(c, rest, format!("{at}/{i}"), out)),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn schema() -> Value {
        json!({
            "type": "object",
            "properties": {
                "processed": {"type": "object", "additionalProperties": {"$ref": "#/$defs/entry"}},
                "list": {"type": "array", "items": {"$ref": "#/$defs/entry"}}
            },
            "$defs": {"entry": {"type": "object", "properties": {"status": {
                "enum": ["A", "B", "C"],
                KEYWORD: {"A": ["A", "B"], "B": ["B", "C"], "C": ["C"]}
            }}}}
        })
    }

    #[test]
    fn finds_machines_through_refs_maps_and_arrays() {
        assert_eq!(machines(&schema()).len(), 2);
    }

    #[test]
    fn allowed_same_and_new_values_pass() {
        let old = json!({"processed": {"x": {"status": "A"}}, "list": [{"status": "B"}]});
        let new = json!({"processed": {"x": {"status": "B"}, "y": {"status": "C"}}, "list": [{"status": "B"}]});
        assert!(check(&schema(), &old, &new).is_empty());
    }

    #[test]
    fn illegal_jumps_are_named_with_the_allowed_states() {
        let old = json!({"processed": {"x/y": {"status": "A"}}, "list": [{"status": "C"}]});
        let new = json!({"processed": {"x/y": {"status": "C"}}, "list": [{"status": "A"}]});
        let v = check(&schema(), &old, &new);
        assert_eq!(v.len(), 2);
        assert_eq!(
            v[0].to_string(),
            "illegal transition at /processed/x~1y/status: A → C; allowed from A: B"
        );
        assert_eq!(
            v[1].to_string(),
            "illegal transition at /list/0/status: C → A; allowed from C: (none: final state)"
        );
    }
}
