//! Bundling: one schema file and everything its `$ref`s reach, turned into a
//! flat set of named definitions that typify understands.
//!
//! A `referencing` registry (the resolver jsonschema itself uses) gathers
//! every resource the schema reaches, read through the [`OfflineRegistry`],
//! never the network. Then every `$ref` — local, relative, by `$id` or by
//! anchor — is resolved and rewritten to
//! `#/definitions/<Name>`, each target hoisted once under that name. The root
//! itself becomes a definition too, so it always gets a named type. Each
//! definition remembers where it came from ([`Origin`]) so problems are
//! reported against the original file and pointer.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::{Path, PathBuf};

use referencing::{Draft, Registry, Resolver};
use serde_json::{Map, Value};
use statewright_spec::OfflineRegistry;

use crate::error::CodegenError;
use crate::names;

/// Where a hoisted definition came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// The resource's URI (`file://...`, or the `$id` it was reached by).
    pub uri: String,
    /// The JSON pointer (or `#anchor`) of the node inside that resource.
    pub pointer: String,
}

/// A schema flattened into named definitions.
#[derive(Debug, Clone)]
pub struct Bundled {
    /// The definition that is the schema's root.
    pub root: String,
    /// Every definition, by type name; `$ref`s point at `#/definitions/<name>`.
    pub defs: BTreeMap<String, Value>,
    /// Where each definition came from.
    pub origins: BTreeMap<String, Origin>,
    /// `$ref`s that could not be resolved and were typed as
    /// `serde_json::Value` (only with [`Simplify::lenient_refs`]): the
    /// reference and why it failed.
    pub unresolved: Vec<(Origin, String)>,
}

/// How schema nodes are simplified before typify sees them.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Simplify {
    /// Drop `format: date | date-time | uuid` (typify maps them to chrono
    /// and uuid types, which the generated code's users would need).
    pub drop_native_formats: bool,
    /// Drop `pattern` (typify validates it with the `regress` crate).
    pub drop_patterns: bool,
    /// Type `$ref`s that cannot be resolved offline as `{}` and record
    /// them, instead of failing.
    pub lenient_refs: bool,
}

/// Serves what the offline registry has; with `lenient`, an unavailable
/// resource is served as `{}` and recorded.
#[derive(Clone)]
struct Retriever {
    inner: OfflineRegistry,
    lenient: bool,
    missing: std::sync::Arc<std::sync::Mutex<Vec<(String, String)>>>,
}

impl referencing::Retrieve for Retriever {
    fn retrieve(
        &self,
        uri: &referencing::Uri<String>,
    ) -> Result<Value, Box<dyn std::error::Error + Send + Sync>> {
        match self.inner.load(uri.as_str()) {
            Ok(v) => Ok(v),
            Err(e) if self.lenient => {
                if let Ok(mut m) = self.missing.lock() {
                    m.push((uri.as_str().to_owned(), e.to_string()));
                }
                Ok(Value::Object(Map::new()))
            }
            Err(e) => Err(Box::new(e)),
        }
    }
}

/// The `file://` URI of a (made absolute) path.
pub fn file_uri(path: &Path) -> String {
    let abs = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_owned());
    let mut out = String::from("file://");
    for b in abs.to_string_lossy().bytes() {
        if b.is_ascii_alphanumeric() || b"/-_.~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// When a schema at `path` declares `$id` `id`, map the longest URL prefix
/// whose remaining segments equal the path's trailing segments to the folder
/// they start in, so `$id`-relative references (`../envelope.json`) find
/// sibling files. Returns `None` if the trailing file names differ.
pub fn id_mapping(id: &str, path: &Path) -> Option<(String, PathBuf)> {
    let id = id.split('#').next()?;
    let (scheme_host_len, _) = id.match_indices('/').nth(2)?;
    let abs = std::fs::canonicalize(path).ok()?;
    let mut prefix = id;
    let mut dir = abs.as_path();
    loop {
        let (head, last) = prefix.rsplit_once('/')?;
        if head.len() < scheme_host_len || dir.file_name()?.to_str()? != last {
            break;
        }
        prefix = head;
        dir = dir.parent()?;
    }
    if prefix.len() == id.len() {
        return None;
    }
    Some((format!("{prefix}/"), dir.to_owned()))
}

/// Bundles the schema at `path` (already parsed as `schema`) and flattens it
/// into definitions; the root definition is named `root_name`.
pub(crate) fn bundle(
    path: &Path,
    schema: &Value,
    registry: &OfflineRegistry,
    root_name: &str,
    simplify: Simplify,
) -> Result<Bundled, CodegenError> {
    let err = |source| CodegenError::Bundle {
        path: path.to_owned(),
        source: Box::new(source),
    };
    let base = file_uri(path);
    let draft = Draft::default().detect(schema);
    // The registry retrieves every resource the `$ref`s reach, through the
    // offline registry. (jsonschema 0.61's own `bundle` is not used: it
    // embeds the *target* of `file.json#/$defs/a` under `file.json`'s URI,
    // so a second reference into the same file no longer resolves.)
    // Registered under its `$id` too, so a reference back to the root by
    // `$id` lands on the same node (and the same definition).
    let id = schema
        .get("$id")
        .or_else(|| schema.get("id"))
        .and_then(Value::as_str)
        .map(|id| id.split('#').next().unwrap_or(id))
        .filter(|id| id.contains("://") && *id != base);
    let retriever = Retriever {
        inner: registry.clone(),
        lenient: simplify.lenient_refs,
        missing: Default::default(),
    };
    let mut builder = Registry::new()
        .retriever(retriever.clone())
        .retrieve_known_draft_meta_schemas(false)
        .draft(draft)
        .add(&base, schema)
        .map_err(err)?;
    if let Some(id) = id {
        builder = builder.add(id, schema).map_err(err)?;
    }
    let resolver_registry = builder.prepare().map_err(err)?;
    let base_uri = referencing::uri::from_str(&base).map_err(err)?;
    let resolver = resolver_registry.resolver(base_uri);
    let mut flat = Flattener {
        simplify,
        names: HashMap::new(),
        used: UNQUALIFIED.iter().map(|s| s.to_ascii_lowercase()).collect(),
        defs: BTreeMap::new(),
        origins: BTreeMap::new(),
        queue: Vec::new(),
        unresolved: Vec::new(),
    };
    flat.claim(
        schema,
        root_name,
        Origin {
            uri: base,
            pointer: String::new(),
        },
        resolver,
        draft,
    );
    while let Some((name, node, resolver, draft)) = flat.queue.pop() {
        let out = flat.node(node, &resolver, draft).map_err(err)?;
        flat.defs.insert(name, out);
    }
    let mut unresolved = flat.unresolved;
    if let Ok(missing) = retriever.missing.lock() {
        for (uri, why) in missing.iter() {
            let origin = Origin {
                uri: uri.clone(),
                pointer: String::new(),
            };
            unresolved.push((origin, format!("not available offline: {why}")));
        }
    }
    unresolved.sort_by(|a, b| (&a.0.uri, &a.0.pointer).cmp(&(&b.0.uri, &b.0.pointer)));
    unresolved.dedup_by(|a, b| a.0 == b.0);
    Ok(Bundled {
        root: root_name.to_owned(),
        defs: flat.defs,
        origins: flat.origins,
        unresolved,
    })
}

type Pending<'r> = (String, &'r Value, Resolver<'r>, Draft);

/// Names the generated code uses unqualified (`Default::default()`,
/// `Ok(..)`, `impl From<..>`, `Result<..>`): a definition of one of these
/// names would hide it, so a definition called `default` becomes
/// `Default2`.
const UNQUALIFIED: [&str; 5] = ["Default", "Ok", "Err", "Result", "From"];

struct Flattener<'r> {
    simplify: Simplify,
    /// Node address → definition name, so each target is hoisted once.
    names: HashMap<usize, String>,
    /// Names taken, lower-cased (typify and Rust are case-sensitive, file
    /// systems and people are not).
    used: HashSet<String>,
    defs: BTreeMap<String, Value>,
    origins: BTreeMap<String, Origin>,
    queue: Vec<Pending<'r>>,
    unresolved: Vec<(Origin, String)>,
}

/// Keywords whose value is one subschema.
const SINGLE: &[&str] = &[
    "additionalProperties",
    "additionalItems",
    "contains",
    "propertyNames",
    "not",
    "if",
    "then",
    "else",
    "unevaluatedItems",
    "unevaluatedProperties",
    "contentSchema",
];
/// Keywords whose value is an array of subschemas.
const LIST: &[&str] = &["allOf", "anyOf", "oneOf", "prefixItems"];
/// Keywords whose value maps names to subschemas.
const MAP: &[&str] = &["properties", "patternProperties", "dependentSchemas"];
/// Keywords typify does not need and that only confuse it after bundling.
const DROP: &[&str] = &[
    "$defs",
    "definitions",
    "$schema",
    "$anchor",
    "$dynamicAnchor",
    "$comment",
    "$vocabulary",
    // Typify names inline types after their titles, and equal titles in
    // different places give colliding type names; names come from
    // definition keys and property paths instead.
    "title",
];

impl<'r> Flattener<'r> {
    fn claim(
        &mut self,
        node: &'r Value,
        wanted: &str,
        origin: Origin,
        resolver: Resolver<'r>,
        draft: Draft,
    ) -> String {
        let key = node as *const Value as usize;
        if let Some(name) = self.names.get(&key) {
            return name.clone();
        }
        let mut name = wanted.to_owned();
        let mut n = 1;
        while self.used.contains(&name.to_ascii_lowercase()) {
            n += 1;
            name = format!("{wanted}{n}");
        }
        self.used.insert(name.to_ascii_lowercase());
        self.names.insert(key, name.clone());
        self.origins.insert(name.clone(), origin);
        self.queue.push((name.clone(), node, resolver, draft));
        name
    }

    fn reference(
        &mut self,
        reference: &str,
        resolver: &Resolver<'r>,
    ) -> Result<String, referencing::Error> {
        let resolved = match resolver.lookup(reference) {
            Ok(r) => r,
            Err(e) if self.simplify.lenient_refs => {
                let origin = Origin {
                    uri: resolver.base_uri().as_str().to_owned(),
                    pointer: reference.to_owned(),
                };
                self.unresolved.push((origin.clone(), e.to_string()));
                return Ok(self.stub(origin));
            }
            Err(e) => return Err(e),
        };
        let (node, inner, draft) = resolved.into_inner();
        let fragment = reference.split_once('#').map_or("", |(_, f)| f);
        let file = reference.split('#').next().unwrap_or("");
        let hint = fragment
            .rsplit('/')
            .find(|s| !s.is_empty())
            .map(|s| s.replace("~1", "/").replace("~0", "~"))
            .unwrap_or_else(|| {
                let stem = file.rsplit('/').next().unwrap_or(file);
                stem.strip_suffix(".json").unwrap_or(stem).to_owned()
            });
        let wanted = names::type_name(&hint, "Def");
        let origin = Origin {
            uri: inner.base_uri().as_str().to_owned(),
            pointer: fragment.to_owned(),
        };
        Ok(self.claim(node, &wanted, origin, inner, draft))
    }

    /// A `{}` definition standing in for an unresolvable reference.
    fn stub(&mut self, origin: Origin) -> String {
        let mut name = "Unresolved".to_owned();
        let mut n = 1;
        while self.used.contains(&name.to_ascii_lowercase()) {
            n += 1;
            name = format!("Unresolved{n}");
        }
        self.used.insert(name.to_ascii_lowercase());
        self.origins.insert(name.clone(), origin);
        self.defs.insert(name.clone(), Value::Object(Map::new()));
        name
    }

    fn node(
        &mut self,
        node: &'r Value,
        resolver: &Resolver<'r>,
        draft: Draft,
    ) -> Result<Value, referencing::Error> {
        let Value::Object(map) = node else {
            return Ok(node.clone());
        };
        let resolver = resolver.in_subresource(draft.create_resource_ref(node))?;
        let mut out = Map::new();
        for (k, v) in map {
            let key = k.as_str();
            let new = match (key, v) {
                ("$ref", Value::String(r)) => {
                    Value::String(format!("#/definitions/{}", self.reference(r, &resolver)?))
                }
                ("$id" | "id", Value::String(_)) => continue,
                _ if DROP.contains(&key) => continue,
                ("format", Value::String(f))
                    if self.simplify.drop_native_formats
                        && matches!(f.as_str(), "date" | "date-time" | "uuid") =>
                {
                    continue;
                }
                ("pattern", Value::String(_)) if self.simplify.drop_patterns => continue,
                _ if SINGLE.contains(&key) => self.node(v, &resolver, draft)?,
                _ if key == "items" || LIST.contains(&key) => match v {
                    Value::Array(items) => Value::Array(
                        items
                            .iter()
                            .map(|i| self.node(i, &resolver, draft))
                            .collect::<Result<_, _>>()?,
                    ),
                    other => self.node(other, &resolver, draft)?,
                },
                (_, Value::Object(m)) if MAP.contains(&key) || key == "dependencies" => {
                    let mut sub = Map::new();
                    for (name, s) in m {
                        let s = if s.is_object() || s.is_boolean() {
                            self.node(s, &resolver, draft)?
                        } else {
                            s.clone()
                        };
                        sub.insert(name.clone(), s);
                    }
                    Value::Object(sub)
                }
                _ => v.clone(),
            };
            out.insert(k.clone(), new);
        }
        Ok(Value::Object(out))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn id_mapping_walks_up_matching_segments() {
        let dir = std::env::temp_dir().join(format!("sw-idmap-{}", std::process::id()));
        let file = dir.join("schemas/env-config/v1.json");
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, "{}").unwrap();
        let (prefix, folder) =
            id_mapping("https://statewright.dev/schemas/env-config/v1.json", &file).unwrap();
        assert_eq!(prefix, "https://statewright.dev/");
        assert_eq!(folder, std::fs::canonicalize(&dir).unwrap());
        assert_eq!(id_mapping("https://x.dev/other.json", &file), None);
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
