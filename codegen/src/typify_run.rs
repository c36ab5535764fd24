//! Running typify on a bundled schema without letting it panic, and finding
//! the node it cannot handle.
//!
//! Typify panics (or errors) on some inputs: `if`/`then`/`else`, standalone
//! `patternProperties`, odd `$ref` siblings; on others it recurses until
//! the stack overflows, or runs for minutes. Each attempt runs isolated
//! ([`crate::isolate`]: a forked child, a large stack, a time limit), and a
//! schema has a time budget ([`Settings::schema_budget`]): when it is
//! spent, what is not typed yet becomes `serde_json::Value`, reported as a
//! fallback at the schema's root. The schema is first made faithful
//! ([`crate::faithful`]) and so are the items typify emits. On failure the
//! culprits are found by replacing nodes with `{}` (which typify maps to
//! `serde_json::Value`). First each definition is tried alone, the others
//! stubbed as `{}` (small, fast attempts); inside a failing one, the
//! smallest prefix of its subschemas whose replacement makes it pass is
//! found, then the same inside the last of those, and so on down: the node
//! where no child prefix helps is a culprit. Failures that only show with
//! the whole document are searched the same way from the top-level
//! definitions. A culprit with `if`/`then`/`else` first loses only those
//! (typify implements no conditionals), when that keeps its type a
//! superset of what the schema accepts; it becomes `{}` only if that is
//! not enough.
//!
//! Code that parses can still be code rustc rejects. Two repairs are
//! sound and made on the spot: items typify emits twice, token for token
//! (a definition reached by two paths), are dropped, since the copies are
//! the same item; and two properties that become one field name
//! (`build-dependencies` and `build_dependencies` both become
//! `build_dependencies`) get distinct names: the field serde knows by a
//! `rename` becomes `build_dependencies_2`, in the struct and in the struct
//! expressions of its impls, keeping its JSON name. What is left (two
//! different items of one name in a module) fails the attempt like a panic
//! does, so the culprit search puts `serde_json::Value` in its place.

use std::collections::{BTreeMap, HashSet};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use serde_json::Value;
use statewright_spec::OfflineRegistry;
use typify::{TypeSpace, TypeSpaceSettings};

use crate::bundle::{self, Bundled, Simplify};
use crate::error::CodegenError;
use crate::{faithful, isolate};

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
    /// The longest one typify run may take before it is stopped.
    pub attempt_limit: Duration,
    /// The longest one schema may take, fallback search included; past
    /// it, what typify has not typed yet becomes `serde_json::Value`.
    pub schema_budget: Duration,
    /// The map type of generated code (`::indexmap::IndexMap` keeps the
    /// document's key order; the user crate then needs `indexmap` with
    /// its `serde` feature).
    pub map_type: String,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            value_fallback: false,
            native_formats: false,
            string_patterns: false,
            derives: Vec::new(),
            max_fallbacks: 1000,
            attempt_limit: Duration::from_secs(4),
            // What bundling, the last whole-schema run and writing the code take
            // on top stays within the 5 s a schema may take in all.
            schema_budget: Duration::from_millis(4500),
            map_type: "::indexmap::IndexMap".to_owned(),
        }
    }
}

/// A schema node typed as `serde_json::Value` because typify could not
/// handle it, or (`conditions_only`) typed without its `if`/`then`/`else`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fallback {
    /// The file the node lives in (the schema, or a file it refers to).
    pub path: PathBuf,
    /// The node's JSON pointer inside `path`.
    pub pointer: String,
    /// What typify said about it.
    pub reason: String,
    /// Only the node's `if`/`then`/`else` were left out of its type (which
    /// is then looser than the schema; validation still applies them); the
    /// rest of the node is typed. `false`: the node is a `Value`.
    pub conditions_only: bool,
    /// How many schema nodes the fallback typed as `Value` (0 when only
    /// conditions were left out).
    pub nodes: usize,
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
    /// (`chrono`, `uuid`, `regress`, `indexmap`).
    pub crates: Vec<&'static str>,
    /// How many schema nodes the bundled schema has (the share typed is
    /// `1 - Σ fallback.nodes / nodes`).
    pub nodes: usize,
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
        let (registry, mut bundled, mut fallbacks) = self.bundled(path, schema, root_type)?;
        let nodes = count_nodes(&bundled.defs);
        let search = Search {
            settings: self.settings.clone(),
            attempt_limit: self.settings.attempt_limit,
            deadline: Instant::now() + self.settings.schema_budget,
        };
        let mut isolated = false;
        let mut whole = false;
        loop {
            // Once the whole schema is a `Value`, the run is trivial and
            // happens whatever time is left.
            let result = match whole {
                true => attempt(&bundled.defs, &self.settings, self.settings.attempt_limit),
                false => search.attempt(&bundled.defs),
            };
            let reason = match result {
                Ok((code, crates)) => {
                    return Ok(Generated {
                        root_type: bundled.root.clone(),
                        code,
                        fallbacks,
                        crates,
                        nodes,
                    });
                }
                Err(reason) => reason,
            };
            // Cheap pass first: each definition on its own, the others
            // stubbed, finds the culprits that do not depend on other
            // definitions. Then the whole document, for the rest.
            let mut culprits = Vec::new();
            if !isolated && !whole && !search.spent() {
                isolated = true;
                culprits = isolated_culprits(&bundled.defs, &search, self.settings.max_fallbacks);
            }
            if culprits.is_empty() && !whole && !search.spent() {
                let ok = |d: &BTreeMap<String, Value>| search.attempt(d).is_ok();
                culprits.extend(find_culprit(&bundled.defs, &ok).map(|loc| (loc, reason.clone())));
            }
            if culprits.is_empty() && whole {
                return Err(CodegenError::Unsupported {
                    schema: path.to_owned(),
                    path: path.to_owned(),
                    pointer: String::new(),
                    reason,
                });
            }
            if culprits.is_empty() {
                // Nothing smaller helps, or the time is spent: the whole
                // schema is a `Value` (when allowed).
                let fallback =
                    self.whole_value(path, &mut bundled, &registry, reason, search.spent())?;
                fallbacks.push(fallback);
                whole = true;
                continue;
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
                let conditions_only = drop_conditions(&mut bundled.defs, &loc);
                let nodes = match conditions_only {
                    true => 0,
                    false => replace(&mut bundled.defs, &loc),
                };
                fallbacks.push(Fallback {
                    path: file,
                    pointer,
                    reason,
                    conditions_only,
                    nodes,
                });
            }
        }
    }
    /// The schema at `path` bundled with every definition it refers to,
    /// the registry that resolved them (with the schema's own `$id` mapped
    /// to its folder), and a fallback for each reference that did not
    /// resolve.
    fn bundled(
        &self,
        path: &Path,
        schema: &Value,
        root_type: &str,
    ) -> Result<(OfflineRegistry, Bundled, Vec<Fallback>), CodegenError> {
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
        faithful::prepare(&mut bundled.defs);
        let fallbacks = bundled
            .unresolved
            .iter()
            .map(|(origin, reason)| Fallback {
                path: registry
                    .path_for(&origin.uri)
                    .unwrap_or_else(|| PathBuf::from(&origin.uri)),
                pointer: origin.pointer.clone(),
                reason: format!("unresolvable $ref: {reason}"),
                conditions_only: false,
                nodes: 1,
            })
            .collect();
        Ok((registry, bundled, fallbacks))
    }

    /// Makes the whole schema a `Value` (when the settings allow it): the
    /// fallback that says so and why.
    fn whole_value(
        &self,
        path: &Path,
        bundled: &mut Bundled,
        registry: &OfflineRegistry,
        reason: String,
        spent: bool,
    ) -> Result<Fallback, CodegenError> {
        let why = match spent {
            true => format!(
                "{reason}; the schema's time ({:?}) is spent",
                self.settings.schema_budget
            ),
            false => reason,
        };
        if !self.settings.value_fallback {
            return Err(CodegenError::Unsupported {
                schema: path.to_owned(),
                path: path.to_owned(),
                pointer: String::new(),
                reason: why,
            });
        }
        let (file, pointer) = locate(bundled, &(bundled.root.clone(), String::new()), registry);
        let nodes = count_nodes(&bundled.defs);
        let root = bundled.root.clone();
        bundled.defs.retain(|k, _| *k == root);
        bundled.defs.insert(root, Value::Object(Default::default()));
        Ok(Fallback {
            path: file,
            pointer,
            reason: why,
            conditions_only: false,
            nodes,
        })
    }
}

/// Typify's settings for ours.
fn typify_settings(settings: &Settings) -> TypeSpaceSettings {
    let mut s = TypeSpaceSettings::default();
    s.with_struct_builder(false);
    s.with_map_type(settings.map_type.as_str());
    for d in &settings.derives {
        s.with_derive(d.clone());
    }
    s
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

/// Typify runs of one schema: their settings and time.
struct Search {
    settings: Settings,
    attempt_limit: Duration,
    deadline: Instant,
}

impl Search {
    /// Whether the schema's time is spent.
    fn spent(&self) -> bool {
        Instant::now() >= self.deadline
    }

    /// One typify run on `defs`, within the time left (see [`attempt`]).
    fn attempt(
        &self,
        defs: &BTreeMap<String, Value>,
    ) -> Result<(String, Vec<&'static str>), String> {
        let left = self.deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Err("the schema's time is spent".to_owned());
        }
        attempt(defs, &self.settings, self.attempt_limit.min(left))
    }
}

/// Runs typify on `defs`, isolated (see [`crate::isolate`]) and for at most
/// `limit`: the generated items (made faithful, see [`crate::faithful`])
/// and the extra crates they need, or why typify failed (its error, its
/// panic message, its crash or its timeout).
fn attempt(
    defs: &BTreeMap<String, Value>,
    settings: &Settings,
    limit: Duration,
) -> Result<(String, Vec<&'static str>), String> {
    let (defs, settings) = (defs.clone(), settings.clone());
    let run = move || -> Result<String, String> {
        let mut schemas = Vec::with_capacity(defs.len());
        for (name, value) in &defs {
            let schema: schemars08::schema::Schema = serde_json::from_value(value.clone())
                .map_err(|e| format!("not a schema typify reads: {e}"))?;
            schemas.push((name.clone(), schema));
        }
        let mut space = TypeSpace::new(&typify_settings(&settings));
        space.add_ref_types(schemas).map_err(|e| e.to_string())?;
        let tokens = space.to_stream();
        let mut file = syn::parse2::<syn::File>(tokens)
            .map_err(|e| format!("generated code does not parse: {e}"))?;
        rename_repeated_fields(&mut file.items);
        drop_repeated_items(&mut file.items);
        faithful::repair(&mut file.items, &defs);
        if let Some(c) = clash(&file.items) {
            return Err(format!("typify generated {c}, which does not compile"));
        }
        let code = quote::ToTokens::to_token_stream(&file).to_string();
        let mut crates = Vec::new();
        for (used, name) in [
            (space.uses_chrono(), "chrono"),
            (space.uses_regress(), "regress"),
            (space.uses_uuid(), "uuid"),
            (code.contains(":: indexmap ::"), "indexmap"),
        ] {
            if used {
                crates.push(name);
            }
        }
        Ok(format!("{}\n{code}", crates.join(",")))
    };
    let text = isolate::run(limit, run).map_err(|f| short(&f.to_string()))?;
    let (crates, code) = text.split_once('\n').unwrap_or(("", &text));
    let crates = ["chrono", "regress", "uuid", "indexmap"]
        .into_iter()
        .filter(|c| crates.split(',').any(|x| x == *c))
        .collect();
    Ok((code.to_owned(), crates))
}

/// Drops every item that repeats an earlier one of the same module token
/// for token (in nested modules too). Returns whether any was dropped.
fn drop_repeated_items(items: &mut Vec<syn::Item>) -> bool {
    let mut changed = false;
    for item in items.iter_mut() {
        if let syn::Item::Mod(m) = item
            && let Some((_, inner)) = &mut m.content
        {
            changed |= drop_repeated_items(inner);
        }
    }
    let before = items.len();
    let mut seen = HashSet::new();
    items.retain(|i| seen.insert(quote::ToTokens::to_token_stream(i).to_string()));
    changed || items.len() != before
}

/// Gives a field that repeats an earlier field's name in its struct a name
/// of its own (`name_2`, ...) when serde knows it by its JSON name (a
/// `rename` attribute), and renames it in the struct expressions (`Self {
/// .. }`, in declaration order) of the struct's impls. Returns whether any
/// field was renamed.
fn rename_repeated_fields(items: &mut [syn::Item]) -> bool {
    use quote::ToTokens;
    // struct → (original name, occurrence) → new name
    let mut renames: BTreeMap<String, BTreeMap<(String, usize), syn::Ident>> = BTreeMap::new();
    for item in items.iter_mut() {
        let syn::Item::Struct(s) = item else { continue };
        let taken: HashSet<String> = s
            .fields
            .iter()
            .filter_map(|f| f.ident.as_ref().map(|i| i.to_string()))
            .collect();
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        let mut mine = BTreeMap::new();
        let groups: Vec<String> = {
            let mut count: BTreeMap<String, usize> = BTreeMap::new();
            for f in &s.fields {
                if let Some(i) = &f.ident {
                    *count.entry(i.to_string()).or_default() += 1;
                }
            }
            count
                .into_iter()
                .filter(|(_, n)| *n > 1)
                .map(|(k, _)| k)
                .collect()
        };
        for f in s.fields.iter_mut() {
            let Some(ident) = f.ident.clone() else {
                continue;
            };
            let name = ident.to_string();
            if !groups.contains(&name) {
                continue;
            }
            let nth = seen.entry(name.clone()).or_default();
            *nth += 1;
            let renamed_by_serde = f.attrs.iter().any(|a| {
                a.path().is_ident("serde") && a.to_token_stream().to_string().contains("rename =")
            });
            if !renamed_by_serde {
                continue;
            }
            let mut k = 2;
            while taken.contains(&format!("{name}_{k}"))
                || mine
                    .values()
                    .any(|v: &syn::Ident| *v == format!("{name}_{k}"))
            {
                k += 1;
            }
            let new = syn::Ident::new(&format!("{name}_{k}"), ident.span());
            f.ident = Some(new.clone());
            mine.insert((name, *nth), new);
        }
        if !mine.is_empty() {
            renames.insert(s.ident.to_string(), mine);
        }
    }
    if renames.is_empty() {
        return false;
    }
    for item in items.iter_mut() {
        let syn::Item::Impl(imp) = item else { continue };
        let syn::Type::Path(ty) = &*imp.self_ty else {
            continue;
        };
        let Some((name, map)) = ty
            .path
            .get_ident()
            .and_then(|i| renames.get_key_value(&i.to_string()))
        else {
            continue;
        };
        syn::visit_mut::VisitMut::visit_item_impl_mut(&mut FieldRenamer { name, map }, imp);
    }
    true
}

/// Renames the members of `Self { .. }` expressions (see
/// [`rename_repeated_fields`]).
struct FieldRenamer<'a> {
    name: &'a str,
    map: &'a BTreeMap<(String, usize), syn::Ident>,
}

impl syn::visit_mut::VisitMut for FieldRenamer<'_> {
    fn visit_expr_struct_mut(&mut self, e: &mut syn::ExprStruct) {
        let ours = e.path.is_ident("Self") || e.path.is_ident(self.name);
        let mut seen: BTreeMap<String, usize> = BTreeMap::new();
        for fv in e.fields.iter_mut().filter(|_| ours) {
            let syn::Member::Named(ident) = &fv.member else {
                continue;
            };
            let name = ident.to_string();
            let nth = seen.entry(name.clone()).or_default();
            *nth += 1;
            let Some(new) = self.map.get(&(name, *nth)) else {
                continue;
            };
            if fv.colon_token.is_none() {
                // `Self { a }` is `Self { a: a }`: keep the value.
                fv.colon_token = Some(Default::default());
                fv.expr = syn::parse_quote!(#ident);
            }
            fv.member = syn::Member::Named(new.clone());
        }
        syn::visit_mut::visit_expr_struct_mut(self, e);
    }
}

/// The first name rustc would reject twice: two types (or two functions,
/// constants or statics) of one name in one module, or two fields of one
/// name in a struct.
fn clash(items: &[syn::Item]) -> Option<String> {
    let (mut types, mut values) = (HashSet::new(), HashSet::new());
    for item in items {
        let (names, what, ident) = match item {
            syn::Item::Struct(s) => {
                let mut fields = HashSet::new();
                for f in &s.fields {
                    if let Some(id) = &f.ident
                        && !fields.insert(id.to_string())
                    {
                        return Some(format!("two fields named `{id}` in `{}`", s.ident));
                    }
                }
                (&mut types, "types", &s.ident)
            }
            syn::Item::Enum(e) => (&mut types, "types", &e.ident),
            syn::Item::Type(t) => (&mut types, "types", &t.ident),
            syn::Item::Union(u) => (&mut types, "types", &u.ident),
            syn::Item::Trait(t) => (&mut types, "types", &t.ident),
            syn::Item::Mod(m) => {
                if let Some((_, inner)) = &m.content
                    && let Some(c) = clash(inner)
                {
                    return Some(c);
                }
                (&mut types, "modules", &m.ident)
            }
            syn::Item::Fn(f) => (&mut values, "functions", &f.sig.ident),
            syn::Item::Const(c) => (&mut values, "constants", &c.ident),
            syn::Item::Static(s) => (&mut values, "statics", &s.ident),
            _ => continue,
        };
        if !names.insert(ident.to_string()) {
            return Some(format!("two {what} named `{ident}`"));
        }
    }
    None
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
    top[..k].iter().for_each(|l| {
        replace(&mut ctx, l);
    });
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
                kids[..k].iter().for_each(|l| {
                    replace(&mut ctx, l);
                });
                current = kids[k].clone();
            }
        }
    }
}

/// Culprits found one definition at a time, every other definition
/// replaced by `{}`: small, fast attempts. At most `max` of them.
fn isolated_culprits(
    defs: &BTreeMap<String, Value>,
    search: &Search,
    max: usize,
) -> Vec<(Loc, String)> {
    let ok = |d: &BTreeMap<String, Value>| search.attempt(d).is_ok();
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
            if search.spent() {
                break;
            }
            let Err(reason) = search.attempt(&ctx) else {
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
        locs[..count].iter().for_each(|l| {
            replace(&mut trial, l);
        });
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

/// Removes `if`, `then` and `else` from the node at `loc` when that keeps
/// its type a superset of what the schema accepts: always, unless the node
/// is closed (`additionalProperties` or `unevaluatedProperties` false) and
/// a branch names a property the node does not (the type would then
/// refuse documents the schema accepts). Returns whether it removed them.
/// Typify does not implement conditionals; the other keywords of the node
/// still give it a type.
fn drop_conditions(defs: &mut BTreeMap<String, Value>, (def, pointer): &Loc) -> bool {
    let Some(Value::Object(node)) = defs.get_mut(def).and_then(|d| d.pointer_mut(pointer)) else {
        return false;
    };
    if !["if", "then", "else"].iter().any(|k| node.contains_key(*k)) {
        return false;
    }
    let closed = ["additionalProperties", "unevaluatedProperties"]
        .iter()
        .any(|k| node.get(*k) == Some(&Value::Bool(false)));
    let own = |name: &str| {
        node.get("properties")
            .and_then(Value::as_object)
            .is_some_and(|p| p.contains_key(name))
    };
    let branch_names = ["then", "else"]
        .iter()
        .filter_map(|k| node.get(*k)?.get("properties")?.as_object())
        .flat_map(|p| p.keys());
    if closed && branch_names.clone().any(|n| !own(n)) {
        return false;
    }
    for k in ["if", "then", "else"] {
        node.remove(k);
    }
    true
}

/// Replaces the node at `loc` with `{}`; how many schema nodes it held.
fn replace(defs: &mut BTreeMap<String, Value>, (def, pointer): &Loc) -> usize {
    match defs.get_mut(def).and_then(|d| d.pointer_mut(pointer)) {
        Some(node) => {
            let n = subschemas(node);
            *node = Value::Object(Default::default());
            n
        }
        None => 0,
    }
}

/// How many schema nodes (objects in subschema positions) `defs` holds.
fn count_nodes(defs: &BTreeMap<String, Value>) -> usize {
    defs.values().map(subschemas).sum()
}

/// How many schema nodes `node` and its subschemas are.
fn subschemas(node: &Value) -> usize {
    let Value::Object(map) = node else { return 0 };
    let mut n = 1;
    for (k, v) in map {
        n += match (k.as_str(), v) {
            ("enum" | "const" | "default" | "examples" | "required", _) => 0,
            (
                "properties" | "patternProperties" | "dependentSchemas" | "dependencies",
                Value::Object(m),
            ) => m.values().map(subschemas).sum(),
            (_, Value::Array(items)) => items.iter().map(subschemas).sum(),
            (_, v @ Value::Object(_)) => subschemas(v),
            _ => 0,
        };
    }
    n
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
