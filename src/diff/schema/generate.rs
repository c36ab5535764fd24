//! Candidate documents for witnesses: each schema's examples, defaults,
//! `enum`/`const` values and boundary values, and instances built from
//! its structure with one part changed at a time. Deterministic and
//! bounded; the validator decides which candidates are witnesses.

use std::cell::RefCell;
use std::collections::HashMap;
use std::rc::Rc;

use serde_json::{Map, Value, json};
use statewright_spec::registry::OfflineRegistry;

use super::node::join_uri;

/// Values kept per subschema.
const PER_NODE: usize = 24;
/// Deepest subschema generated from.
const MAX_DEPTH: usize = 6;
/// Candidates in all.
pub(crate) const MAX_CANDIDATES: usize = 4000;

/// Where the generator finds what a `$ref` names: each root's own
/// fragments (under the root's URI), and other documents through the
/// offline registry the validator also uses.
#[derive(Default)]
pub(crate) struct Sources<'r> {
    /// The URIs of A and B (their `$id`, else the base given).
    pub uris: [Option<String>; 2],
    /// Other documents, loaded once each.
    pub registry: Option<&'r OfflineRegistry>,
    loaded: RefCell<HashMap<String, Option<Rc<Value>>>>,
}

impl<'r> Sources<'r> {
    /// Sources for roots at `uris`, with other documents from `registry`.
    pub fn new(uris: [Option<String>; 2], registry: Option<&'r OfflineRegistry>) -> Self {
        Sources {
            uris,
            registry,
            loaded: RefCell::default(),
        }
    }

    fn load(&self, uri: &str) -> Option<Rc<Value>> {
        if let Some(v) = self.loaded.borrow().get(uri) {
            return v.clone();
        }
        let v = self.registry.and_then(|r| r.load(uri).ok()).map(Rc::new);
        self.loaded.borrow_mut().insert(uri.to_owned(), v.clone());
        v
    }
}

/// Every `$ref` in `v` made absolute against `uri`, so a subschema taken
/// out of another document still names what it named there.
fn absolutize(v: &mut Value, uri: &str, depth: usize) {
    if depth > 64 {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m.iter_mut() {
                match (k.as_str(), &*x) {
                    ("$ref", Value::String(r)) => {
                        let abs = if r.starts_with('#') {
                            Some(format!("{uri}{r}"))
                        } else {
                            let (doc, frag) = r.split_once('#').unwrap_or((r, ""));
                            join_uri(Some(uri), doc).map(|d| {
                                if frag.is_empty() {
                                    d
                                } else {
                                    format!("{d}#{frag}")
                                }
                            })
                        };
                        if let Some(abs) = abs {
                            *x = Value::String(abs);
                        }
                    }
                    _ => absolutize(x, uri, depth + 1),
                }
            }
        }
        Value::Array(a) => a.iter_mut().for_each(|x| absolutize(x, uri, depth + 1)),
        _ => {}
    }
}

/// Candidate documents for two schemas.
#[cfg(test)]
pub(crate) fn candidates(a: &Value, b: &Value) -> Vec<Value> {
    candidates_in(a, b, &Sources::default())
}

/// Candidate documents for two schemas whose references resolve in
/// `sources`.
pub(crate) fn candidates_in(a: &Value, b: &Value, sources: &Sources) -> Vec<Value> {
    let mut seeds = Vec::new();
    collect_seeds(a, &mut seeds, 0);
    collect_seeds(b, &mut seeds, 0);
    dedup(&mut seeds);
    seeds.truncate(256);
    let mut names = Vec::new();
    collect_names(a, &mut names, 0);
    collect_names(b, &mut names, 0);
    names.sort();
    names.dedup();
    names.truncate(64);
    let mut out = Vec::new();
    for (root, uri) in [a, b].into_iter().zip(&sources.uris) {
        let g = Gen {
            root,
            uri: uri.as_deref(),
            sources,
            seeds: &seeds,
            names: &names,
        };
        out.extend(g.instances(root, 0));
    }
    out.extend(seeds.iter().cloned());
    dedup(&mut out);
    out.truncate(MAX_CANDIDATES);
    out
}

fn dedup(v: &mut Vec<Value>) {
    let mut seen = std::collections::HashSet::new();
    v.retain(|x| seen.insert(x.to_string()));
}

/// Property names a schema declares or requires.
fn collect_names(v: &Value, out: &mut Vec<String>, depth: usize) {
    if depth > 32 {
        return;
    }
    match v {
        Value::Object(m) => {
            if let Some(p) = m.get("properties").and_then(Value::as_object) {
                out.extend(p.keys().cloned());
            }
            if let Some(r) = m.get("required").and_then(Value::as_array) {
                out.extend(r.iter().filter_map(Value::as_str).map(str::to_owned));
            }
            m.values().for_each(|x| collect_names(x, out, depth + 1));
        }
        Value::Array(a) => a.iter().for_each(|x| collect_names(x, out, depth + 1)),
        _ => {}
    }
}

/// One value of each type, for type-changing variants.
fn foreign() -> [Value; 6] {
    [
        json!(null),
        json!(0),
        json!("a"),
        json!(true),
        json!([]),
        json!({}),
    ]
}

/// Scalars a schema mentions, and the values just past its bounds.
fn collect_seeds(v: &Value, out: &mut Vec<Value>, depth: usize) {
    if depth > 32 {
        return;
    }
    match v {
        Value::Object(m) => {
            for (k, x) in m {
                match k.as_str() {
                    "examples" | "enum" => out.extend(x.as_array().into_iter().flatten().cloned()),
                    "const" | "default" | "example" => out.push(x.clone()),
                    "minimum" | "maximum" | "exclusiveMinimum" | "exclusiveMaximum"
                    | "multipleOf" => {
                        if let Some(n) = x.as_f64() {
                            out.extend(around(n));
                        }
                    }
                    "minLength" | "maxLength" => {
                        if let Some(n) = x.as_u64() {
                            out.extend(lengths(n).into_iter().map(Value::String));
                        }
                    }
                    "pattern" => {
                        if let Some(s) = x.as_str().and_then(example_of) {
                            out.push(Value::String(s));
                        }
                    }
                    "format" => out.extend(x.as_str().map(format_samples).unwrap_or_default()),
                    _ => {}
                }
                if !matches!(k.as_str(), "enum" | "const" | "default" | "examples") {
                    collect_seeds(x, out, depth + 1);
                }
            }
        }
        Value::Array(a) => a.iter().for_each(|x| collect_seeds(x, out, depth + 1)),
        _ => {}
    }
}

/// A number and its neighbours.
fn around(n: f64) -> Vec<Value> {
    let mut v = Vec::new();
    if n.fract() == 0.0 && n.abs() < 9.0e15 {
        // Integers first: they are what an integral bound's documents hold.
        let i = n as i64;
        v.extend([json!(i), json!(i + 1), json!(i - 1), json!(i * 2)]);
    }
    v.extend([json!(n), json!(n + 0.5), json!(n - 0.5)]);
    v
}

fn lengths(n: u64) -> Vec<String> {
    let n = n.min(512) as usize;
    let mut v = vec!["a".repeat(n), "a".repeat(n + 1)];
    if n > 0 {
        v.push("a".repeat(n - 1));
    }
    v
}

fn format_samples(f: &str) -> Vec<Value> {
    let s: &[&str] = match f {
        "date" => &["2020-01-01", "2020-13-45"],
        "date-time" => &["2020-01-01T00:00:00Z", "2020-01-01"],
        "time" => &["00:00:00Z", "25:00"],
        "email" | "idn-email" => &["a@example.com", "not an email"],
        "uri" | "iri" | "uri-reference" | "iri-reference" | "url" => {
            &["https://example.com/x", "not a uri", "/rel"]
        }
        "uuid" => &["123e4567-e89b-12d3-a456-426614174000", "x"],
        "ipv4" => &["127.0.0.1", "999.1.1.1"],
        "ipv6" => &["::1", "x"],
        "hostname" | "idn-hostname" => &["example.com", "-bad-"],
        "duration" => &["P1D", "1 day"],
        _ => &["x"],
    };
    s.iter().map(|x| json!(x)).collect()
}

/// A short string `pattern` matches (searching, as JSON Schema does).
pub(crate) fn example_of(pattern: &str) -> Option<String> {
    let hir = regex_syntax::Parser::new().parse(pattern).ok()?;
    let mut out = String::new();
    emit(&hir, &mut out, 0).then_some(out)
}

fn emit(h: &regex_syntax::hir::Hir, out: &mut String, depth: usize) -> bool {
    use regex_syntax::hir::{Class, HirKind};
    if depth > 64 || out.len() > 256 {
        return false;
    }
    match h.kind() {
        HirKind::Empty | HirKind::Look(_) => true,
        HirKind::Literal(l) => match std::str::from_utf8(&l.0) {
            Ok(s) => {
                out.push_str(s);
                true
            }
            Err(_) => false,
        },
        HirKind::Class(Class::Unicode(c)) => match c.ranges().first() {
            Some(r) => {
                // Prefer a letter or digit inside the range.
                let pick = ['a', 'A', '0', '_', '-', ' ']
                    .into_iter()
                    .find(|ch| {
                        c.ranges()
                            .iter()
                            .any(|r| r.start() <= *ch && *ch <= r.end())
                    })
                    .unwrap_or(r.start());
                out.push(pick);
                true
            }
            None => false,
        },
        HirKind::Class(Class::Bytes(c)) => match c.ranges().first() {
            Some(r) if r.start().is_ascii() => {
                out.push(r.start() as char);
                true
            }
            _ => false,
        },
        HirKind::Repetition(r) => (0..r.min.min(16)).all(|_| emit(&r.sub, out, depth + 1)),
        HirKind::Capture(c) => emit(&c.sub, out, depth + 1),
        HirKind::Concat(parts) => parts.iter().all(|p| emit(p, out, depth + 1)),
        HirKind::Alternation(alts) => alts.first().is_some_and(|p| emit(p, out, depth + 1)),
    }
}

/// Builds instances from one schema document.
struct Gen<'a> {
    root: &'a Value,
    uri: Option<&'a str>,
    sources: &'a Sources<'a>,
    seeds: &'a [Value],
    names: &'a [String],
}

impl Gen<'_> {
    /// Instances of `s`: first the ones meant to be valid, then variants.
    fn instances(&self, s: &Value, depth: usize) -> Vec<Value> {
        let mut out = Vec::new();
        if depth > MAX_DEPTH {
            return out;
        }
        let Some(m) = s.as_object() else {
            if s == &Value::Bool(true) {
                out.extend(self.seeds.iter().take(6).cloned());
            }
            return out;
        };
        if let Some(r) = m.get("$ref").and_then(Value::as_str)
            && let Some(t) = self.local(r)
        {
            let merged = merge(m, &t);
            return self.instances(&merged, depth + 1);
        }
        let mut m = m.clone();
        if let Some(Value::Array(all)) = m.shift_remove("allOf") {
            for member in &all {
                let member = self.deref(member);
                if let Value::Object(x) = merge(&m, &member) {
                    m = x;
                }
            }
        }
        for k in ["examples", "enum"] {
            out.extend(
                m.get(k)
                    .and_then(Value::as_array)
                    .into_iter()
                    .flatten()
                    .cloned(),
            );
        }
        for k in ["const", "default"] {
            out.extend(m.get(k).cloned());
        }
        for k in ["anyOf", "oneOf"] {
            for branch in m.get(k).and_then(Value::as_array).into_iter().flatten() {
                let mut base = m.clone();
                base.shift_remove("anyOf");
                base.shift_remove("oneOf");
                let merged = merge(&base, &self.deref(branch));
                out.extend(self.instances(&merged, depth + 1));
            }
        }
        for t in types_of(&m) {
            out.extend(self.of_type(&m, t, depth));
        }
        dedup(&mut out);
        if depth > 0 {
            // Nested lists stay short; the root keeps every variant.
            out.truncate(PER_NODE * 3);
        }
        // Values of every type early, so each position also gets a
        // type-changing variant; the first value stays the likeliest valid.
        let tail = out.split_off(out.len().min(4));
        out.extend(foreign());
        out.extend(tail);
        dedup(&mut out);
        out
    }

    fn deref(&self, v: &Value) -> Value {
        match v
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| self.local(r))
        {
            Some(t) => v.as_object().map_or(t.clone(), |m| merge(m, &t)),
            None => v.clone(),
        }
    }

    /// The subschema `r` names: in the root, or in another document
    /// (with its references made absolute).
    fn local(&self, r: &str) -> Option<Value> {
        let (doc, frag) = r.split_once('#').unwrap_or((r, ""));
        let at = |root: &Value| {
            if frag.is_empty() {
                Some(root.clone())
            } else {
                root.pointer(frag).cloned()
            }
        };
        if doc.is_empty() {
            return at(self.root);
        }
        let uri = join_uri(self.uri, doc)?;
        if Some(uri.as_str()) == self.uri {
            return at(self.root);
        }
        let mut t = at(&*self.sources.load(&uri)?)?;
        absolutize(&mut t, &uri, 0);
        Some(t)
    }

    fn of_type(&self, m: &Map<String, Value>, t: &str, depth: usize) -> Vec<Value> {
        let seeds_of = |pred: fn(&Value) -> bool| {
            self.seeds
                .iter()
                .filter(|v| pred(v))
                .take(PER_NODE)
                .cloned()
                .collect::<Vec<_>>()
        };
        match t {
            "null" => vec![Value::Null],
            "boolean" => vec![json!(true), json!(false)],
            "integer" | "number" => {
                let mut v = Vec::new();
                for k in ["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"] {
                    if let Some(n) = m.get(k).and_then(Value::as_f64) {
                        v.extend(around(n));
                    }
                }
                if let Some(n) = m.get("multipleOf").and_then(Value::as_f64) {
                    v.extend([json!(n), json!(n * 3.0), json!(n * 1.5)]);
                }
                v.extend([json!(0), json!(1), json!(-1), json!(2.5), json!(1_000_000)]);
                v.extend(seeds_of(Value::is_number));
                if t == "integer" {
                    v.retain(|x| x.as_f64().is_some_and(|f| f.fract() == 0.0));
                    v.push(json!(1.5));
                }
                v
            }
            "string" => {
                let mut v = Vec::new();
                if let Some(s) = m
                    .get("pattern")
                    .and_then(Value::as_str)
                    .and_then(example_of)
                {
                    v.push(json!(s));
                }
                if let Some(f) = m.get("format").and_then(Value::as_str) {
                    v.extend(format_samples(f));
                }
                for k in ["minLength", "maxLength"] {
                    if let Some(n) = m.get(k).and_then(Value::as_u64) {
                        v.extend(lengths(n).into_iter().map(Value::String));
                    }
                }
                v.extend([json!("a"), json!(""), json!("abc")]);
                v.extend(seeds_of(Value::is_string));
                v
            }
            "array" => self.arrays(m, depth),
            "object" => self.objects(m, depth),
            _ => Vec::new(),
        }
    }

    fn arrays(&self, m: &Map<String, Value>, depth: usize) -> Vec<Value> {
        let prefix: Vec<Value> = match (m.get("prefixItems"), m.get("items")) {
            (Some(Value::Array(p)), _) | (None, Some(Value::Array(p))) => p.clone(),
            _ => Vec::new(),
        };
        let rest = match m.get("items") {
            Some(Value::Array(_)) | None => m.get("additionalItems").cloned(),
            Some(x) => Some(x.clone()),
        }
        .unwrap_or(Value::Bool(true));
        let firsts: Vec<Value> = prefix
            .iter()
            .map(|p| {
                self.instances(p, depth + 1)
                    .into_iter()
                    .next()
                    .unwrap_or(Value::Null)
            })
            .collect();
        let mut out = vec![json!([]), Value::Array(firsts.clone())];
        for (i, p) in prefix.iter().enumerate() {
            for x in self.instances(p, depth + 1).into_iter().take(PER_NODE) {
                let mut arr = firsts.clone();
                arr[i] = x;
                out.push(Value::Array(arr));
            }
        }
        let items = self.instances(&rest, depth + 1);
        for x in items.iter().take(PER_NODE) {
            let mut arr = firsts.clone();
            arr.push(x.clone());
            out.push(Value::Array(arr.clone()));
            arr.push(x.clone());
            out.push(Value::Array(arr));
        }
        if let Some(c) = m.get("contains") {
            for x in self.instances(c, depth + 1).into_iter().take(4) {
                // A matching item with another beside it: what tells
                // `maxContains` counts apart.
                for y in items.iter().chain(self.seeds).take(4) {
                    if *y != x {
                        out.push(json!([x, y]));
                    }
                }
                out.push(json!([x]));
            }
        }
        let n = m
            .get("minItems")
            .and_then(Value::as_u64)
            .unwrap_or(0)
            .min(16) as usize;
        let max = m
            .get("maxItems")
            .and_then(Value::as_u64)
            .unwrap_or(1)
            .min(16) as usize;
        if let Some(x) = items.first() {
            for len in [n.saturating_sub(1), n, n + 1, max + 1, 6] {
                let mut arr = firsts.clone();
                while arr.len() < len {
                    arr.push(x.clone());
                }
                out.push(Value::Array(arr));
            }
        }
        out
    }

    /// Names matched by each `patternProperties` pattern and by
    /// `additionalProperties`, each with instances of its subschema.
    fn extra_members(&self, m: &Map<String, Value>, depth: usize) -> Vec<(String, Vec<Value>)> {
        let mut extra: Vec<(String, Value)> = Vec::new();
        if let Some(pp) = m.get("patternProperties").and_then(Value::as_object) {
            for (pat, s) in pp {
                if let Some(name) = example_of(pat) {
                    extra.push((name, s.clone()));
                }
            }
        }
        extra.push((
            "zz_extra".into(),
            m.get("additionalProperties")
                .cloned()
                .unwrap_or(json!(true)),
        ));
        extra
            .into_iter()
            .map(|(name, s)| {
                let mut values = self.instances(&s, depth + 1);
                values.extend(self.seeds.iter().take(8).cloned());
                (name, values)
            })
            .collect()
    }

    fn objects(&self, m: &Map<String, Value>, depth: usize) -> Vec<Value> {
        let empty = Map::new();
        let props = m
            .get("properties")
            .and_then(Value::as_object)
            .unwrap_or(&empty);
        let required: Vec<&str> = m
            .get("required")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
            .collect();
        let mut base = Map::new();
        for name in &required {
            let v = props
                .get(*name)
                .and_then(|p| self.instances(p, depth + 1).into_iter().next())
                .unwrap_or(Value::Null);
            base.insert((*name).to_owned(), v);
        }
        let mut out = vec![Value::Object(base.clone()), json!({})];
        let mut full = base.clone();
        for (name, p) in props {
            let values = self.instances(p, depth + 1);
            if let Some(first) = values.first() {
                full.entry(name.clone()).or_insert(first.clone());
            }
            for x in values.into_iter().take(PER_NODE) {
                let mut o = base.clone();
                o.insert(name.clone(), x);
                out.push(Value::Object(o));
            }
        }
        out.push(Value::Object(full.clone()));
        let extra = self.extra_members(m, depth);
        // Early, so that an enclosing object still reaches them: the full
        // instance with one likely-valid member of each pattern and of
        // `additionalProperties` (maps of records are the common case).
        for (name, values) in &extra {
            if let Some(first) = values.first() {
                let mut o = full.clone();
                o.insert(name.clone(), first.clone());
                out.push(Value::Object(o));
            }
        }
        for name in &required {
            let mut o = full.clone();
            o.shift_remove(*name);
            out.push(Value::Object(o));
        }
        for name in self
            .names
            .iter()
            .filter(|n| !props.contains_key(*n))
            .take(16)
        {
            for x in foreign() {
                let mut o = full.clone();
                o.insert(name.clone(), x);
                out.push(Value::Object(o));
            }
        }
        for (name, values) in extra {
            for x in values.into_iter().take(PER_NODE) {
                let mut o = full.clone();
                o.insert(name.clone(), x);
                out.push(Value::Object(o));
            }
        }
        out
    }
}

/// The types worth generating for a subschema.
fn types_of(m: &Map<String, Value>) -> Vec<&'static str> {
    const ALL: [&str; 7] = [
        "null", "boolean", "integer", "number", "string", "array", "object",
    ];
    match m.get("type") {
        Some(Value::String(t)) => ALL.iter().copied().filter(|x| x == t).collect(),
        Some(Value::Array(ts)) => ALL
            .iter()
            .copied()
            .filter(|x| ts.iter().any(|t| t == x))
            .collect(),
        _ => {
            let has = |ks: &[&str]| ks.iter().any(|k| m.contains_key(*k));
            let mut v = Vec::new();
            if has(&[
                "properties",
                "required",
                "additionalProperties",
                "patternProperties",
                "propertyNames",
                "minProperties",
                "maxProperties",
            ]) {
                v.push("object");
            }
            if has(&[
                "items",
                "prefixItems",
                "contains",
                "minItems",
                "maxItems",
                "uniqueItems",
            ]) {
                v.push("array");
            }
            if has(&["minLength", "maxLength", "pattern", "format"]) {
                v.push("string");
            }
            if has(&[
                "minimum",
                "maximum",
                "exclusiveMinimum",
                "exclusiveMaximum",
                "multipleOf",
            ]) {
                v.push("number");
            }
            if v.is_empty() {
                ALL.to_vec()
            } else {
                v.extend(["null", "boolean"]);
                v
            }
        }
    }
}

/// `base` with `extra`'s keywords added (`base` wins; `required` and
/// `properties` are united).
fn merge(base: &Map<String, Value>, extra: &Value) -> Value {
    let mut m = base.clone();
    m.shift_remove("$ref");
    if let Some(x) = extra.as_object() {
        for (k, v) in x {
            match (k.as_str(), m.get_mut(k)) {
                ("required", Some(Value::Array(r))) => {
                    r.extend(v.as_array().into_iter().flatten().cloned());
                }
                ("properties", Some(Value::Object(p))) => {
                    if let Some(q) = v.as_object() {
                        for (n, s) in q {
                            p.entry(n.clone()).or_insert(s.clone());
                        }
                    }
                }
                (_, Some(_)) => {}
                (_, None) => {
                    m.insert(k.clone(), v.clone());
                }
            }
        }
    }
    Value::Object(m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pattern_examples_match() {
        for p in ["^x", "x$", "^[a-z]+_[0-9]{2}$", "foo|bar", "^S_"] {
            let s = example_of(p).expect(p);
            assert!(regex::Regex::new(p).unwrap().is_match(&s), "{p}: {s}");
        }
    }

    #[test]
    fn overlapping_pattern_names_are_generated() {
        let a = json!({"patternProperties": {"^x": {"type": "string"}, "x$": {"type": "integer"}}});
        let c = candidates(&a, &json!({}));
        assert!(c.contains(&json!({"x": "a"})), "{c:?}");
    }
}
