//! Running typify on a bundled schema without letting it panic, and finding
//! the node it cannot handle.
//!
//! Typify panics (or errors) on some inputs: `if`/`then`/`else`, standalone
//! `patternProperties`, odd `$ref` siblings. Each attempt runs inside
//! [`std::panic::catch_unwind`] with the panic hook silenced. On failure the
//! culprits are found by replacing nodes with `{}` (which typify maps to
//! `serde_json::Value`). First each definition is tried alone, the others
//! stubbed as `{}` (small, fast attempts); inside a failing one, the
//! smallest prefix of its subschemas whose replacement makes it pass is
//! found, then the same inside the last of those, and so on down: the node
//! where no child prefix helps is a culprit. Failures that only show with
//! the whole document are searched the same way from the top-level
//! definitions.

use std::collections::BTreeMap;
use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde_json::Value;
use statewright_spec::OfflineRegistry;
use typify::{TypeSpace, TypeSpaceSettings};

use crate::bundle::{self, Bundled, Simplify};
use crate::error::CodegenError;

/// How schemas are turned into types.
#[derive(Debug, Clone)]
pub struct Settings {
    /// Type nodes typify cannot handle as `serde_json::Value` (recorded as
    /// [`Fallback`]s) instead of failing.
    pub value_fallback: bool,
    /// Keep `format: date | date-time | uuid` (typify then emits `chrono`
    /// and `uuid` types, so the user crate needs those crates). Off by
    /// default: such strings stay `String`.
    pub native_formats: bool,
    /// Keep `pattern` on strings (typify then validates them with the
    /// `regress` crate). Off by default: runtime validation checks patterns.
    pub string_patterns: bool,
    /// Extra derives for every generated type (`PartialEq`, ...).
    pub derives: Vec<String>,
    /// At most this many fallbacks per schema before giving up.
    pub max_fallbacks: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            value_fallback: false,
            native_formats: false,
            string_patterns: false,
            derives: Vec::new(),
            max_fallbacks: 1000,
        }
    }
}

/// A schema node typed as `serde_json::Value` because typify could not
/// handle it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// The file the node lives in (the schema, or a file it refers to).
    pub path: PathBuf,
    /// The node's JSON pointer inside `path`.
    pub pointer: String,
    /// What typify said about it.
    pub reason: String,
}

/// The Rust items generated for one schema.
#[derive(Debug, Clone)]
pub struct Generated {
    /// The root type's name.
    pub root_type: String,
    /// The items (unformatted Rust source).
    pub code: String,
    /// Nodes typed as `serde_json::Value`.
    pub fallbacks: Vec<Fallback>,
    /// Crates the code needs besides `serde` and `serde_json`
    /// (`chrono`, `uuid`, `regress`).
    pub crates: Vec<&'static str>,
}

/// Turns single schema files into Rust items.
#[derive(Debug, Clone, Default)]
pub struct Generator {
    registry: OfflineRegistry,
    settings: Settings,
}

/// A node: the definition it is in, and its pointer inside that definition.
type Loc = (String, String);

impl Generator {
    /// A generator resolving `$ref`s through `registry`.
    pub fn new(registry: OfflineRegistry, settings: Settings) -> Self {
        Generator { registry, settings }
    }

    /// The settings in use.
    pub fn settings(&self) -> &Settings {
        &self.settings
    }

    /// Generates the types of the schema at `path` (already parsed as
    /// `schema`); the root type is named `root_type`.
    pub fn generate(
        &self,
        path: &Path,
        schema: &Value,
        root_type: &str,
    ) -> Result<Generated, CodegenError> {
        let mut registry = self.registry.clone();
        if let Some(id) = schema
            .get("$id")
            .or_else(|| schema.get("id"))
            .and_then(Value::as_str)
            && let Some((prefix, dir)) = bundle::id_mapping(id, path)
            && !registry.mappings().iter().any(|(p, _)| *p == prefix)
        {
            registry.map(prefix, dir);
        }
        let simplify = Simplify {
            drop_native_formats: !self.settings.native_formats,
            drop_patterns: !self.settings.string_patterns,
            lenient_refs: self.settings.value_fallback,
        };
        let mut bundled = bundle::bundle(path, schema, &registry, root_type, simplify)?;
        let typify = self.typify_settings();
        let mut fallbacks: Vec<Fallback> = bundled
            .unresolved
            .iter()
            .map(|(origin, reason)| Fallback {
                path: registry
                    .path_for(&origin.uri)
                    .unwrap_or_else(|| PathBuf::from(&origin.uri)),
                pointer: origin.pointer.clone(),
                reason: format!("unresolvable $ref: {reason}"),
            })
            .collect();
        let ok = |defs: &BTreeMap<String, Value>| attempt(defs, &typify).is_ok();
        let mut isolated = false;
        loop {
            let reason = match attempt(&bundled.defs, &typify) {
                Ok((code, crates)) => {
                    return Ok(Generated {
                        root_type: bundled.root.clone(),
                        code,
                        fallbacks,
                        crates,
                    });
                }
                Err(reason) => reason,
            };
            // Cheap pass first: each definition on its own, the others
            // stubbed, finds the culprits that do not depend on other
            // definitions. Then the whole document, for the rest.
            let mut culprits = Vec::new();
            if !isolated {
                isolated = true;
                culprits = isolated_culprits(&bundled.defs, &typify, self.settings.max_fallbacks);
            }
            if culprits.is_empty() {
                culprits.extend(find_culprit(&bundled.defs, &ok).map(|loc| (loc, reason.clone())));
            }
            if culprits.is_empty() {
                return Err(CodegenError::Unsupported {
                    schema: path.to_owned(),
                    path: path.to_owned(),
                    pointer: String::new(),
                    reason,
                });
            }
            for (loc, reason) in culprits {
                let (file, pointer) = locate(&bundled, &loc, &registry);
                if !self.settings.value_fallback || fallbacks.len() >= self.settings.max_fallbacks {
                    return Err(CodegenError::Unsupported {
                        schema: path.to_owned(),
                        path: file,
                        pointer,
                        reason,
                    });
                }
                replace(&mut bundled.defs, &loc);
                fallbacks.push(Fallback {
                    path: file,
                    pointer,
                    reason,
                });
            }
        }
    }

    fn typify_settings(&self) -> TypeSpaceSettings {
        let mut s = TypeSpaceSettings::default();
        s.with_struct_builder(false);
        for d in &self.settings.derives {
            s.with_derive(d.clone());
        }
        s
    }
}

/// Maps a node of the bundled schema back to its file and pointer.
fn locate(
    bundled: &Bundled,
    (def, pointer): &Loc,
    registry: &OfflineRegistry,
) -> (PathBuf, String) {
    match bundled.origins.get(def) {
        Some(origin) => {
            let file = registry
                .path_for(&origin.uri)
                .unwrap_or_else(|| PathBuf::from(&origin.uri));
            (file, format!("{}{pointer}", origin.pointer))
        }
        None => (PathBuf::from(def), pointer.clone()),
    }
}

/// Serializes panic-hook swaps: the hook is process-wide.
static HOOK: Mutex<()> = Mutex::new(());

/// Runs typify on `defs`: the generated items and the extra crates they
/// need, or why typify failed (its error, or its panic message).
fn attempt(
    defs: &BTreeMap<String, Value>,
    settings: &TypeSpaceSettings,
) -> Result<(String, Vec<&'static str>), String> {
    let run = || -> Result<(String, Vec<&'static str>), String> {
        let mut schemas = Vec::with_capacity(defs.len());
        for (name, value) in defs {
            let schema: schemars08::schema::Schema = serde_json::from_value(value.clone())
                .map_err(|e| format!("not a schema typify reads: {e}"))?;
            schemas.push((name.clone(), schema));
        }
        let mut space = TypeSpace::new(settings);
        space.add_ref_types(schemas).map_err(|e| e.to_string())?;
        let tokens = space.to_stream();
        let code = tokens.to_string();
        syn::parse2::<syn::File>(tokens)
            .map_err(|e| format!("generated code does not parse: {e}"))?;
        let mut crates = Vec::new();
        for (used, name) in [
            (space.uses_chrono(), "chrono"),
            (space.uses_regress(), "regress"),
            (space.uses_uuid(), "uuid"),
        ] {
            if used {
                crates.push(name);
            }
        }
        Ok((code, crates))
    };
    let _guard = HOOK.lock().unwrap_or_else(|e| e.into_inner());
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(|_| {}));
    let result = std::panic::catch_unwind(AssertUnwindSafe(run));
    std::panic::set_hook(previous);
    match result {
        Ok(r) => r.map_err(|e| short(&e)),
        Err(payload) => {
            let msg = payload
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| payload.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "unknown panic".to_owned());
            Err(format!("typify panicked: {}", short(&msg)))
        }
    }
}

/// First line, at most 160 characters.
fn short(msg: &str) -> String {
    let line = msg.lines().next().unwrap_or("").trim();
    match line.char_indices().nth(160) {
        Some((i, _)) => format!("{}…", &line[..i]),
        None => line.to_owned(),
    }
}

/// Finds one node whose replacement by `{}` is needed to make `ok` pass:
/// see the module docs. `None` when even replacing every definition fails.
fn find_culprit(
    defs: &BTreeMap<String, Value>,
    ok: &dyn Fn(&BTreeMap<String, Value>) -> bool,
) -> Option<Loc> {
    let mut ctx = defs.clone();
    let top: Vec<Loc> = defs.keys().map(|n| (n.clone(), String::new())).collect();
    let k = first_fixing_prefix(&ctx, &top, ok)?;
    top[..k].iter().for_each(|l| replace(&mut ctx, l));
    Some(descend(ctx, top[k].clone(), ok))
}

/// From a node whose replacement makes `ok` pass, goes down to the deepest
/// node that still does (replacing earlier siblings on the way).
fn descend(
    mut ctx: BTreeMap<String, Value>,
    mut current: Loc,
    ok: &dyn Fn(&BTreeMap<String, Value>) -> bool,
) -> Loc {
    loop {
        let kids = children(&ctx, &current);
        match first_fixing_prefix(&ctx, &kids, ok) {
            None => return current,
            Some(k) => {
                kids[..k].iter().for_each(|l| replace(&mut ctx, l));
                current = kids[k].clone();
            }
        }
    }
}

/// Culprits found one definition at a time, every other definition
/// replaced by `{}`: small, fast attempts. At most `max` of them.
fn isolated_culprits(
    defs: &BTreeMap<String, Value>,
    typify: &TypeSpaceSettings,
    max: usize,
) -> Vec<(Loc, String)> {
    let ok = |d: &BTreeMap<String, Value>| attempt(d, typify).is_ok();
    let mut out = Vec::new();
    for name in defs.keys() {
        let mut ctx: BTreeMap<String, Value> = defs
            .iter()
            .map(|(k, v)| {
                let v = if k == name {
                    v.clone()
                } else {
                    Value::Object(Default::default())
                };
                (k.clone(), v)
            })
            .collect();
        while out.len() <= max {
            let Err(reason) = attempt(&ctx, typify) else {
                break;
            };
            let loc = descend(ctx.clone(), (name.clone(), String::new()), &ok);
            let before = ctx.get(name).cloned();
            replace(&mut ctx, &loc);
            if ctx.get(name) == before.as_ref() {
                break;
            }
            out.push((loc, reason));
        }
    }
    out
}

/// The smallest `k` such that replacing `locs[..=k]` makes `ok` pass.
fn first_fixing_prefix(
    ctx: &BTreeMap<String, Value>,
    locs: &[Loc],
    ok: &dyn Fn(&BTreeMap<String, Value>) -> bool,
) -> Option<usize> {
    let fixes = |count: usize| {
        let mut trial = ctx.clone();
        locs[..count].iter().for_each(|l| replace(&mut trial, l));
        ok(&trial)
    };
    if locs.is_empty() || !fixes(locs.len()) {
        return None;
    }
    let (mut lo, mut hi) = (1, locs.len());
    while lo < hi {
        let mid = (lo + hi) / 2;
        if fixes(mid) {
            hi = mid;
        } else {
            lo = mid + 1;
        }
    }
    Some(lo - 1)
}

/// Replaces the node at `loc` with `{}`.
fn replace(defs: &mut BTreeMap<String, Value>, (def, pointer): &Loc) {
    if let Some(node) = defs.get_mut(def).and_then(|d| d.pointer_mut(pointer)) {
        *node = Value::Object(Default::default());
    }
}

/// The subschema positions directly inside the node at `loc`.
fn children(defs: &BTreeMap<String, Value>, (def, pointer): &Loc) -> Vec<Loc> {
    let Some(Value::Object(map)) = defs.get(def).and_then(|d| d.pointer(pointer)) else {
        return Vec::new();
    };
    let esc = |s: &str| s.replace('~', "~0").replace('/', "~1");
    let mut out = Vec::new();
    let mut push = |p: String| out.push((def.clone(), p));
    for (k, v) in map {
        let at = format!("{pointer}/{}", esc(k));
        match (k.as_str(), v) {
            ("enum" | "const" | "default" | "examples" | "required", _) => {}
            (
                "properties" | "patternProperties" | "dependentSchemas" | "dependencies",
                Value::Object(m),
            ) => {
                for (name, s) in m {
                    if s.is_object() {
                        push(format!("{at}/{}", esc(name)));
                    }
                }
            }
            (_, Value::Array(items)) => {
                for (i, s) in items.iter().enumerate() {
                    if s.is_object() {
                        push(format!("{at}/{i}"));
                    }
                }
            }
            (_, Value::Object(_)) => push(at),
            _ => {}
        }
    }
    out
}
