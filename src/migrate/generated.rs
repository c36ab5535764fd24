//! `migrate verify`'s generated round trips: for every step vN → vN+1,
//! documents generated from vN's schema (see [`generate`](super::generate))
//! are run up, validated against vN+1, and — for reversible steps — run
//! down and compared with where they started. The first counterexample of
//! each step is shrunk to a minimal document and reported with the op
//! that broke it.

use serde_json::Value;
use statewright_spec::migration::{Migration, Op};
use statewright_spec::pointer;
use statewright_spec::{Kind, OfflineRegistry};

use super::apply::set_version;
use super::generate::{documents, shrink};
use super::interp::{Hooks, run_ops};
use super::verify::VerifyReport;

/// How many documents to generate per version, and from which seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifyOptions {
    /// Documents generated per schema version (at least 2: the minimal
    /// and the maximal instance).
    pub count: usize,
    /// The generator's seed: the same seed gives the same documents.
    pub seed: u64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions { count: 64, seed: 1 }
    }
}

/// What went wrong with one generated document.
enum Broken {
    /// An op failed.
    Op(String),
    /// The upgraded document fails the next schema.
    Invalid(String),
    /// Up then down did not give the document back.
    RoundTrip(String),
}

/// Runs the generated checks of the step `m` (`from` → `from + 1` of `k`).
pub(crate) fn check_step(
    k: &Kind,
    m: &Migration,
    hooks: &Hooks,
    registry: &OfflineRegistry,
    opts: &VerifyOptions,
    report: &mut VerifyReport,
) {
    let (Some(sa), Some(sb)) = (k.version(m.file.from), k.version(m.file.to)) else {
        return; // MV003 says so
    };
    let (Ok(va), Ok(vb)) = (compile(registry, &sa.schema), compile(registry, &sb.schema)) else {
        return; // MV008 says so for fixtures; the schema check reports it
    };
    if has_unregistered_hook(&m.file.ops, hooks) {
        let msg = format!(
            "`{}` calls hooks this run has not registered: its generated round trips are not checked (run them from the application, which registers its hooks)",
            m.relative
        );
        return report.warn("MV011", &m.path, msg);
    }
    let docs: Vec<Value> = documents(&sa.schema, opts.count, opts.seed)
        .into_iter()
        .filter(|d| va.is_valid(d))
        .collect();
    if docs.is_empty() {
        let msg = format!(
            "no valid {} v{} document could be generated from {} (the schema is beyond the generator); only the fixtures check this step",
            k.name,
            m.file.from,
            sa.path.display()
        );
        return report.warn("MV011", &sa.path, msg);
    }
    let run = |d: &Value| trip(k, m, hooks, &vb, d);
    for d in &docs {
        report.generated_checked += 1;
        if run(d).is_none() {
            continue;
        }
        let small = shrink(d.clone(), |x| va.is_valid(x) && run(x).is_some());
        let broken = run(&small).expect("the shrunk document still fails");
        return report_broken(k, m, &small, broken, report);
    }
}

fn compile(registry: &OfflineRegistry, schema: &Value) -> Result<jsonschema::Validator, ()> {
    jsonschema::options()
        .with_retriever(registry.clone())
        .build(schema)
        .map_err(|_| ())
}

/// Runs `d` up, validates it, and down again (reversible steps only).
fn trip(
    k: &Kind,
    m: &Migration,
    hooks: &Hooks,
    next: &jsonschema::Validator,
    d: &Value,
) -> Option<Broken> {
    let version = &k.spec.fields.version;
    let mut v = d.clone();
    if let Err(e) = run_ops(&m.file.ops, &mut v, hooks) {
        return Some(Broken::Op(format!("up: {}: {}", e.pointer, e.message)));
    }
    set_version(&mut v, version, m.file.to);
    if let Some(e) = next.iter_errors(&v).next() {
        return Some(Broken::Invalid(format!("{}: {e}", e.instance_path())));
    }
    if !m.round_trips() {
        return None;
    }
    if let Err(e) = run_ops(&m.down, &mut v, hooks) {
        return Some(Broken::Op(format!("down: {}: {}", e.pointer, e.message)));
    }
    set_version(&mut v, version, m.file.from);
    if v == *d {
        return None;
    }
    let patch = json_patch::diff(d, &v);
    let first = serde_json::to_value(&patch)
        .ok()
        .and_then(|p| p[0]["path"].as_str().map(str::to_owned))
        .unwrap_or_default();
    Some(Broken::RoundTrip(format!(
        "up then down gives back {} instead{}",
        serde_json::to_string(&v).unwrap_or_default(),
        match op_at(&m.file.ops, &first) {
            Some(op) => format!("; the op that breaks it: `{op}`"),
            None => String::new(),
        }
    )))
}

fn report_broken(k: &Kind, m: &Migration, doc: &Value, broken: Broken, report: &mut VerifyReport) {
    let shown = serde_json::to_string(doc).unwrap_or_default();
    let (code, what, fix) = match broken {
        Broken::Op(e) => (
            "MV004",
            format!("an op fails ({e})"),
            "make the op handle this document (a missing or differently typed value), or narrow the schema",
        ),
        Broken::Invalid(e) => (
            "MV005",
            format!("the upgraded document fails v{}: {e}", m.file.to),
            "make the ops produce what the new schema requires (replace placeholders, add the missing `add`/`move`/`convert`)",
        ),
        Broken::RoundTrip(e) => (
            "MV007",
            e,
            "make the inverse undo the op exactly (`default:` on `remove`, `reverse:` on `convert`, a `move` instead of `remove` + `add`), or give up the round trip on purpose with an op that has no inverse",
        ),
    };
    let msg = format!(
        "`{}` ({} v{} → v{}): generated document {shown}: {what}; fix: {fix}",
        m.relative, k.name, m.file.from, m.file.to
    );
    report.add(code, &m.path, msg);
}

/// The op (as `name pointer`, `each` blocks spelled out) whose pointer
/// leads to or lies under the document pointer `at`.
fn op_at(ops: &[Op], at: &str) -> Option<String> {
    let at = pointer::tokens(at);
    let mut found = None;
    visit(ops, &[], &mut |op, abs| {
        let n = abs.len().min(at.len());
        let same = abs[..n]
            .iter()
            .zip(&at[..n])
            .all(|(a, b)| a == b || a == "*");
        if same && found.is_none() {
            found = Some(format!("{} {}", op.name(), show(abs)));
        }
    });
    found
}

fn visit(ops: &[Op], prefix: &[String], f: &mut dyn FnMut(&Op, &[String])) {
    for op in ops {
        let mut abs = prefix.to_vec();
        match op {
            Op::Each(e) => {
                abs.extend(pointer::tokens(&e.path));
                abs.push("*".into());
                visit(&e.ops, &abs, f);
            }
            _ => {
                abs.extend(pointer::tokens(op.target()));
                f(op, &abs);
            }
        }
    }
}

fn show(tokens: &[String]) -> String {
    tokens.iter().map(|t| format!("/{t}")).collect()
}

fn has_unregistered_hook(ops: &[Op], hooks: &Hooks) -> bool {
    ops.iter().any(|op| match op {
        Op::Hook(h) => hooks.get(&h.name).is_none(),
        Op::Each(e) => has_unregistered_hook(&e.ops, hooks),
        _ => false,
    })
}
