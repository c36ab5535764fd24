//! The soundness oracle: random schema pairs (mutations of real schemas
//! from the corpus and of small random ones) and random instances,
//! checked with the validator. Wherever the diff says a direction is
//! compatible, no instance may be valid under one schema and invalid
//! under the other; a failure prints a shrunk, minimal case.
//!
//! `STATEWRIGHT_ORACLE_CHECKS` sets the number of instance checks (the
//! default keeps the test to seconds); `STATEWRIGHT_ORACLE_SEED` the seed.

use serde_json::{Map, Value, json};
use statewright::diff::{SchemaDiffOptions, diff_schemas};

use super::util::{corpus, read_json};

/// A small deterministic generator (xorshift64*).
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
    fn pick<'a, T>(&mut self, xs: &'a [T]) -> &'a T {
        &xs[self.below(xs.len())]
    }
    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

const NAMES: &[&str] = &["a", "b", "x", "xa", "ax", "S_1", "I_1", "name", "B1"];
const PATTERNS: &[&str] = &["^x", "x$", "^S_", "^I_", "^[a-z]+$", "a", "^[a-z]{1,2}$"];
const TYPES: &[&str] = &[
    "null", "boolean", "integer", "number", "string", "array", "object",
];

fn scalar(r: &mut Rng) -> Value {
    match r.below(9) {
        0 => Value::Null,
        1 => json!(r.chance(50)),
        2 => json!(r.below(12) as i64 - 3),
        3 => json!((r.below(40) as f64) / 4.0 - 2.0),
        4 => json!("a".repeat(r.below(8))),
        5 => json!(r.pick(NAMES)),
        6 => json!(r.pick(&["2020-01-01", "a@example.com", "abc", "ABC", "x1"])),
        7 => json!(r.below(3)),
        _ => json!(""),
    }
}

/// A small random schema.
fn schema(r: &mut Rng, depth: usize) -> Value {
    if depth > 2 || r.chance(20) {
        return json!({"type": r.pick(TYPES)});
    }
    let mut s = json!({});
    for _ in 0..1 + r.below(3) {
        s = mutate(r, s, depth);
    }
    s
}

/// One random change somewhere in `s`.
fn mutate(r: &mut Rng, s: Value, depth: usize) -> Value {
    let Value::Object(mut m) = s else {
        return if r.chance(50) { json!({}) } else { s };
    };
    // Descend into a subschema sometimes.
    let subs: Vec<String> = m
        .iter()
        .filter(|(k, v)| {
            v.is_object()
                && !matches!(
                    k.as_str(),
                    "properties" | "patternProperties" | "const" | "enum"
                )
        })
        .map(|(k, _)| k.clone())
        .collect();
    if !subs.is_empty() && r.chance(30) {
        let k = r.pick(&subs).clone();
        let v = m[&k].take();
        m.insert(k, mutate(r, v, depth + 1));
        return Value::Object(m);
    }
    for map_key in ["properties", "patternProperties"] {
        if let Some(Value::Object(p)) = m.get_mut(map_key)
            && !p.is_empty()
            && r.chance(30)
        {
            let names: Vec<String> = p.keys().cloned().collect();
            let k = r.pick(&names).clone();
            if r.chance(25) {
                p.shift_remove(&k);
            } else {
                let v = p[&k].take();
                p.insert(k, mutate(r, v, depth + 1));
            }
            return Value::Object(m);
        }
    }
    if !m.is_empty() && r.chance(25) {
        let keys: Vec<String> = m.keys().cloned().collect();
        m.shift_remove(r.pick(&keys));
        return Value::Object(m);
    }
    let n = r.below(6) as i64;
    let record = |r: &mut Rng, tag: Value| {
        json!({"type": "object", "required": ["a"], "properties": {"a": {"const": tag}}})
            .as_object()
            .cloned()
            .map(|mut o| {
                if r.chance(50) {
                    o["properties"][*r.pick(NAMES)] = schema(r, depth + 1);
                }
                Value::Object(o)
            })
            .expect("an object")
    };
    let (k, v) = match r.below(27) {
        0 => ("type", json!(r.pick(TYPES))),
        1 => ("type", json!([r.pick(TYPES), r.pick(TYPES)])),
        2 => ("minimum", json!(n - 1)),
        3 => ("maximum", json!(n)),
        4 => ("exclusiveMinimum", json!(n - 2)),
        5 => ("multipleOf", json!(r.pick(&[1, 2, 3]))),
        6 => ("minLength", json!(n)),
        7 => ("maxLength", json!(n + 1)),
        8 => ("pattern", json!(r.pick(PATTERNS))),
        9 => ("enum", json!([scalar(r), scalar(r), scalar(r)])),
        10 => ("const", scalar(r)),
        11 => {
            let mut p = m.get("properties").cloned().unwrap_or(json!({}));
            p[*r.pick(NAMES)] = schema(r, depth + 1);
            ("properties", p)
        }
        12 => {
            let mut p = m.get("patternProperties").cloned().unwrap_or(json!({}));
            p[*r.pick(PATTERNS)] = schema(r, depth + 1);
            ("patternProperties", p)
        }
        13 => (
            "additionalProperties",
            if r.chance(50) {
                json!(false)
            } else {
                schema(r, depth + 1)
            },
        ),
        14 => ("required", json!([r.pick(NAMES)])),
        15 => ("propertyNames", json!({"pattern": r.pick(PATTERNS)})),
        16 => ("maxProperties", json!(n)),
        17 => ("items", schema(r, depth + 1)),
        18 => ("prefixItems", json!([schema(r, depth + 1)])),
        19 => ("contains", schema(r, depth + 1)),
        20 => ("minItems", json!(n)),
        21 => ("not", schema(r, depth + 1)),
        22 => ("anyOf", json!([schema(r, depth + 1), schema(r, depth + 1)])),
        23 => ("oneOf", json!([schema(r, depth + 1), schema(r, depth + 1)])),
        // Records told apart by a discriminator, and a schema that
        // requires one of its values: `oneOf` partitions.
        24 => {
            let (x, y) = (scalar(r), scalar(r));
            ("oneOf", json!([record(r, x), record(r, y)]))
        }
        25 => {
            m.insert("required".into(), json!(["a"]));
            let p = json!({"a": {"enum": [scalar(r), scalar(r)]}});
            ("properties", p)
        }
        _ => ("maxContains", json!(n)),
    };
    m.insert(k.to_owned(), v);
    Value::Object(m)
}

/// A random instance, biased towards the names and values the schemas
/// mention.
fn instance(r: &mut Rng, hints: &[Value], depth: usize) -> Value {
    if !hints.is_empty() && r.chance(30) {
        return r.pick(hints).clone();
    }
    match r.below(if depth > 2 { 6 } else { 9 }) {
        0..=5 => scalar(r),
        6 | 7 => {
            let mut o = Map::new();
            for _ in 0..r.below(4) {
                o.insert(r.pick(NAMES).to_string(), instance(r, hints, depth + 1));
            }
            Value::Object(o)
        }
        _ => Value::Array(
            (0..r.below(4))
                .map(|_| instance(r, hints, depth + 1))
                .collect(),
        ),
    }
}

/// Values a schema mentions (enum, const, examples).
fn hints(v: &Value, out: &mut Vec<Value>) {
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match k.as_str() {
                    "enum" | "examples" => out.extend(x.as_array().into_iter().flatten().cloned()),
                    "const" | "default" => out.push(x.clone()),
                    _ => hints(x, out),
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| hints(x, out)),
        _ => {}
    }
}

/// Base schemas from the corpus: Apicurio's cases and the 2020-12 test
/// suite (with its test data as instance hints).
fn bases() -> Vec<(Value, Vec<Value>)> {
    let mut out = Vec::new();
    let data = read_json(&corpus().join("apicurio-compat/compatibility-test-data.json"));
    for case in data["tests"].as_array().expect("tests") {
        out.push((case["original"].clone(), Vec::new()));
        out.push((case["updated"].clone(), Vec::new()));
    }
    let dir = corpus().join("json-schema-test-suite/tests/draft2020-12");
    let skip = [
        "ref",
        "dynamicRef",
        "refRemote",
        "defs",
        "vocabulary",
        "unevaluated",
        "anchor",
        "id",
        "infinite-loop-detection",
    ];
    for entry in std::fs::read_dir(&dir).expect("suite dir") {
        let p = entry.expect("entry").path();
        let stem = p.file_stem().and_then(|s| s.to_str()).unwrap_or("");
        if p.extension().is_none_or(|e| e != "json") || skip.iter().any(|s| stem.starts_with(s)) {
            continue;
        }
        for group in read_json(&p).as_array().into_iter().flatten() {
            let data: Vec<Value> = group["tests"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|t| t["data"].clone())
                .collect();
            if !group["schema"].to_string().contains("$ref") {
                out.push((group["schema"].clone(), data));
            }
        }
    }
    out
}

/// A claim refuted: `(A, B, instance, direction)`.
type Failure = (Value, Value, Value, &'static str);

fn refutes(a: &Value, b: &Value, inst: &Value) -> Option<&'static str> {
    let (Ok(va), Ok(vb)) = (jsonschema::validator_for(a), jsonschema::validator_for(b)) else {
        return None;
    };
    let d = diff_schemas(a, b, &SchemaDiffOptions::new()).ok()?;
    let (ia, ib) = (va.is_valid(inst), vb.is_valid(inst));
    if d.backward && ia && !ib {
        Some("backward")
    } else if d.forward && ib && !ia {
        Some("forward")
    } else {
        None
    }
}

/// Drops members of A, B and the instance while the failure persists.
fn shrink(mut f: Failure) -> Failure {
    fn candidates(v: &Value) -> Vec<Value> {
        let mut out = Vec::new();
        match v {
            Value::Object(m) => {
                for k in m.keys() {
                    let mut c = m.clone();
                    c.shift_remove(k);
                    out.push(Value::Object(c));
                }
                for (k, x) in m {
                    for y in candidates(x) {
                        let mut c = m.clone();
                        c.insert(k.clone(), y);
                        out.push(Value::Object(c));
                    }
                }
            }
            Value::Array(a) => {
                for i in 0..a.len() {
                    let mut c = a.clone();
                    c.remove(i);
                    out.push(Value::Array(c));
                }
            }
            _ => {}
        }
        out
    }
    for _ in 0..200 {
        let mut better = None;
        'outer: for which in 0..3 {
            let current = [&f.0, &f.1, &f.2][which];
            for c in candidates(current) {
                let (a, b, i) = match which {
                    0 => (&c, &f.1, &f.2),
                    1 => (&f.0, &c, &f.2),
                    _ => (&f.0, &f.1, &c),
                };
                if let Some(dir) = refutes(a, b, i) {
                    better = Some((a.clone(), b.clone(), i.clone(), dir));
                    break 'outer;
                }
            }
        }
        match better {
            Some(x) => f = x,
            None => break,
        }
    }
    f
}

/// Runs `checks` instance checks; returns the number done and the
/// failures, shrunk.
pub fn campaign(seed: u64, checks: usize) -> (usize, usize, Vec<Failure>) {
    let mut r = Rng(seed | 1);
    let bases = bases();
    let (mut done, mut pairs) = (0usize, 0usize);
    let mut failures = Vec::new();
    while done < checks && failures.len() < 3 {
        let (a, data) = if r.chance(50) {
            let (s, d) = r.pick(&bases);
            (s.clone(), d.clone())
        } else {
            (schema(&mut r, 0), Vec::new())
        };
        let mut b = a.clone();
        for _ in 0..1 + r.below(3) {
            b = mutate(&mut r, b, 0);
        }
        let (a, b) = if r.chance(50) { (a, b) } else { (b, a) };
        let (Ok(va), Ok(vb)) = (jsonschema::validator_for(&a), jsonschema::validator_for(&b))
        else {
            continue;
        };
        let Ok(d) = diff_schemas(&a, &b, &SchemaDiffOptions::new()) else {
            continue;
        };
        pairs += 1;
        let mut pool = data;
        hints(&a, &mut pool);
        hints(&b, &mut pool);
        for i in 0..200 {
            let inst = if i < pool.len() {
                pool[i].clone()
            } else {
                instance(&mut r, &pool, 0)
            };
            done += 1;
            let (ia, ib) = (va.is_valid(&inst), vb.is_valid(&inst));
            let dir = if d.backward && ia && !ib {
                "backward"
            } else if d.forward && ib && !ia {
                "forward"
            } else {
                continue;
            };
            failures.push(shrink((a.clone(), b.clone(), inst, dir)));
            break;
        }
    }
    (done, pairs, failures)
}

#[test]
fn compatible_verdicts_have_no_counterexample() {
    let checks = std::env::var("STATEWRIGHT_ORACLE_CHECKS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20_000);
    let seed = std::env::var("STATEWRIGHT_ORACLE_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(0x5eed_2026);
    let (done, pairs, failures) = campaign(seed, checks);
    println!("oracle: {done} instance checks over {pairs} schema pairs (seed {seed})");
    let shown: Vec<String> = failures
        .iter()
        .map(|(a, b, i, dir)| {
            format!("  claims {dir} compatible\n    A = {a}\n    B = {b}\n    instance = {i}")
        })
        .collect();
    assert!(
        failures.is_empty(),
        "unsound verdicts (minimal cases):\n{}",
        shown.join("\n")
    );
}
