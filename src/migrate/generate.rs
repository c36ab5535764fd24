//! Documents generated from a JSON Schema, for `migrate verify`'s round
//! trips: the minimal instance (required members only), the maximal one
//! (every declared member), and seeded random ones, drawing values from
//! `const`, `enum`, `default` and `examples` where the schema gives them.
//!
//! The generator covers the subset state schemas use (`type`,
//! `properties`, `required`, `additionalProperties`, `items`, local
//! `$ref`, `const`, `enum`, `anyOf`/`oneOf`, numeric and length bounds,
//! `format: date-time`). What it builds is validated by the caller; a
//! schema beyond it yields documents the schema rejects, which the caller
//! drops and reports.

use serde_json::{Map, Value, json};

/// How a generator picks among choices.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Minimal,
    Maximal,
    Random,
}

/// A seeded generator over one root schema.
struct Gen<'s> {
    root: &'s Value,
    mode: Mode,
    state: u64,
}

/// `count` documents for `schema` (at least the minimal and maximal
/// instances), deterministic for a given `seed`.
///
/// ```
/// use serde_json::json;
/// use statewright::migrate::generate::documents;
///
/// let s = json!({"type": "object", "properties": {"v": {"const": 1}, "n": {"type": "string"}}, "required": ["v"]});
/// let docs = documents(&s, 10, 7);
/// assert_eq!(docs[0], json!({"v": 1}));
/// assert_eq!(docs[1]["v"], 1);
/// assert!(docs[1]["n"].is_string());
/// ```
pub fn documents(schema: &Value, count: usize, seed: u64) -> Vec<Value> {
    let mut out = Vec::with_capacity(count.max(2));
    for (i, mode) in [Mode::Minimal, Mode::Maximal]
        .into_iter()
        .chain(std::iter::repeat(Mode::Random))
        .take(count.max(2))
        .enumerate()
    {
        let mut g = Gen {
            root: schema,
            mode,
            state: (seed ^ (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)) | 1,
        };
        let v = g.value(schema, 0);
        if !out.contains(&v) {
            out.push(v);
        }
    }
    out
}

impl Gen<'_> {
    /// xorshift64*: small, deterministic, good enough to vary documents.
    fn next(&mut self) -> u64 {
        self.state ^= self.state >> 12;
        self.state ^= self.state << 25;
        self.state ^= self.state >> 27;
        self.state.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        match n {
            0 => 0,
            n => (self.next() % n as u64) as usize,
        }
    }

    fn pick<'v>(&mut self, items: &'v [Value]) -> Option<&'v Value> {
        let i = match self.mode {
            Mode::Minimal => 0,
            Mode::Maximal => items.len().saturating_sub(1),
            Mode::Random => self.below(items.len()),
        };
        items.get(i)
    }

    fn value(&mut self, s: &Value, depth: usize) -> Value {
        let Some(o) = s.as_object() else {
            return json!("x");
        };
        if let Some(r) = o.get("$ref").and_then(Value::as_str)
            && let Some(target) = r.strip_prefix('#').and_then(|p| self.root.pointer(p))
            && depth < 32
        {
            return self.value(target, depth + 1);
        }
        if let Some(c) = o.get("const") {
            return c.clone();
        }
        if let Some(Value::Array(e)) = o.get("enum")
            && let Some(v) = self.pick(e)
        {
            return v.clone();
        }
        if let Some(v) = self.given(o) {
            return v;
        }
        for key in ["oneOf", "anyOf"] {
            if let Some(Value::Array(branches)) = o.get(key)
                && let Some(b) = self.pick(branches)
            {
                return self.value(b, depth + 1);
            }
        }
        match self.type_of(o).as_str() {
            "object" => self.object(o, depth),
            "array" => self.array(o, depth),
            "string" => self.string(o),
            "integer" => self.number(o, true),
            "number" => self.number(o, false),
            "boolean" => Value::Bool(self.mode == Mode::Maximal || self.next().is_multiple_of(2)),
            _ => Value::Null,
        }
    }

    /// A `default` (minimal instances) or one of the `examples` (random
    /// ones, now and then).
    fn given(&mut self, o: &Map<String, Value>) -> Option<Value> {
        let now = self.mode == Mode::Random && self.next().is_multiple_of(3);
        match self.mode {
            Mode::Minimal => o.get("default").cloned(),
            Mode::Random if now => match o.get("examples") {
                Some(Value::Array(ex)) => self.pick(ex).cloned(),
                _ => o.get("default").cloned(),
            },
            _ => None,
        }
    }

    fn type_of(&mut self, o: &Map<String, Value>) -> String {
        match o.get("type") {
            Some(Value::String(t)) => t.clone(),
            Some(Value::Array(ts)) => {
                let ts: Vec<Value> = ts.iter().filter(|t| *t != "null").cloned().collect();
                self.pick(&ts)
                    .and_then(Value::as_str)
                    .unwrap_or("null")
                    .to_owned()
            }
            _ if o.contains_key("properties") || o.contains_key("additionalProperties") => {
                "object".into()
            }
            _ if o.contains_key("items") => "array".into(),
            _ => "null".into(),
        }
    }

    fn object(&mut self, o: &Map<String, Value>, depth: usize) -> Value {
        let required: Vec<&str> = o
            .get("required")
            .and_then(Value::as_array)
            .map(|r| r.iter().filter_map(Value::as_str).collect())
            .unwrap_or_default();
        let mut out = Map::new();
        if let Some(Value::Object(props)) = o.get("properties") {
            for (name, s) in props {
                let take = required.contains(&name.as_str())
                    || match self.mode {
                        Mode::Minimal => false,
                        Mode::Maximal => depth < 8,
                        Mode::Random => depth < 8 && self.next().is_multiple_of(2),
                    };
                if take {
                    out.insert(name.clone(), self.value(s, depth + 1));
                }
            }
        }
        if let Some(extra @ Value::Object(_)) = o.get("additionalProperties") {
            let n = self.entries(o, "minProperties", depth);
            for i in 0..n {
                out.insert(format!("key{i}"), self.value(extra, depth + 1));
            }
        }
        Value::Object(out)
    }

    /// How many map entries or array items: the minimum asked for, two
    /// for maximal instances, zero to two for random ones.
    fn entries(&mut self, o: &Map<String, Value>, min_key: &str, depth: usize) -> usize {
        let min = o.get(min_key).and_then(Value::as_u64).unwrap_or(0) as usize;
        let n = match self.mode {
            Mode::Minimal => 0,
            Mode::Maximal if depth < 8 => 2,
            Mode::Random if depth < 8 => self.below(3),
            _ => 0,
        };
        n.max(min)
    }

    fn array(&mut self, o: &Map<String, Value>, depth: usize) -> Value {
        let n = self.entries(o, "minItems", depth);
        let item = o.get("items").cloned().unwrap_or(Value::Bool(true));
        Value::Array((0..n).map(|_| self.value(&item, depth + 1)).collect())
    }

    fn string(&mut self, o: &Map<String, Value>) -> Value {
        if o.get("format").and_then(Value::as_str) == Some("date-time") {
            return json!("2024-01-02T03:04:05Z");
        }
        const WORDS: [&str; 4] = ["a", "north", "value-1", "Text with spaces"];
        let mut s = match self.mode {
            Mode::Minimal => WORDS[0].to_owned(),
            Mode::Maximal => WORDS[3].to_owned(),
            Mode::Random => WORDS[self.below(WORDS.len())].to_owned(),
        };
        let min = o.get("minLength").and_then(Value::as_u64).unwrap_or(0) as usize;
        while s.chars().count() < min {
            s.push('x');
        }
        if let Some(max) = o.get("maxLength").and_then(Value::as_u64) {
            s = s.chars().take(max as usize).collect();
        }
        Value::String(s)
    }

    fn number(&mut self, o: &Map<String, Value>, integer: bool) -> Value {
        let lo = o.get("minimum").and_then(Value::as_f64).unwrap_or(0.0);
        let hi = o
            .get("maximum")
            .and_then(Value::as_f64)
            .unwrap_or(lo.max(0.0) + 100.0);
        let x = match self.mode {
            Mode::Minimal => lo,
            Mode::Maximal => hi,
            Mode::Random => lo + (hi - lo) * (self.below(1001) as f64 / 1000.0),
        };
        match integer {
            true => json!(x.ceil().min(hi.floor()) as i64),
            false => json!(x),
        }
    }
}

/// Smaller variants of `v`: each with one object member or array item
/// taken away, at any depth (for shrinking a counterexample).
pub fn smaller(v: &Value) -> Vec<Value> {
    let mut out = Vec::new();
    match v {
        Value::Object(m) => {
            for k in m.keys() {
                let mut w = m.clone();
                w.shift_remove(k);
                out.push(Value::Object(w));
            }
            for (k, x) in m {
                for y in smaller(x) {
                    let mut w = m.clone();
                    w.insert(k.clone(), y);
                    out.push(Value::Object(w));
                }
            }
        }
        Value::Array(a) => {
            for i in 0..a.len() {
                let mut w = a.clone();
                w.remove(i);
                out.push(Value::Array(w));
            }
            for (i, x) in a.iter().enumerate() {
                for y in smaller(x) {
                    let mut w = a.clone();
                    w[i] = y;
                    out.push(Value::Array(w));
                }
            }
        }
        _ => {}
    }
    out
}

/// Shrinks `v` while `fails` holds: the smallest variant found greedily.
pub fn shrink(mut v: Value, fails: impl Fn(&Value) -> bool) -> Value {
    'outer: for _ in 0..200 {
        for w in smaller(&v) {
            if fails(&w) {
                v = w;
                continue 'outer;
            }
        }
        break;
    }
    v
}
