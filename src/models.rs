//! Typed models generated at build time from the shipped catalog.
//!
//! Every kind and version becomes a module (`models::env_config::v1`), each
//! kind has a `Latest` alias, and every root type implements [`Document`].

use serde::{Serialize, de::DeserializeOwned};

use crate::migrate::CompiledCatalog;

/// A typed document model generated from one schema version of a kind.
pub trait Document: Serialize + DeserializeOwned {
    /// The kind's name in the catalog.
    const KIND: &'static str;
    /// The schema version this type was generated from.
    const VERSION: u32;
    /// The schema the type was generated from, as JSON text.
    const SCHEMA: &'static str;
}

// The models of this repository's own catalog; an application that
// generates its own (default-features = false) does not compile them.
#[cfg(feature = "shipped-models")]
include!(concat!(env!("OUT_DIR"), "/statewright_models.rs"));

/// Why a typed load failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LoadError {
    /// The document could not be read.
    #[error("cannot read {}: {source}", path.display())]
    Read {
        /// The file.
        path: std::path::PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The document is not well-formed.
    #[error("{}: {message}", path.display())]
    Parse {
        /// The file.
        path: std::path::PathBuf,
        /// What the parser said.
        message: String,
    },
    /// The build compiled no steps for the type's kind.
    #[error(
        "kind `{kind}` is not in the compiled catalog it was loaded with; fix: load an application's own kinds with `load_with(path, &models::compiled::CATALOG)` (the `compiled` module its build.rs generates with `.compiled_steps(\"::statewright::migrate\")`), and rebuild after adding a kind to statewright.toml"
    )]
    UnknownKind {
        /// The kind.
        kind: &'static str,
    },
    /// Upgrading with the compiled steps failed or was refused.
    #[error(transparent)]
    Migrate(#[from] crate::migrate::MigrateError),
    /// The upgraded document does not fit the type.
    #[error("the document, upgraded to {kind} v{version}, does not fit its type: {source}")]
    Deserialize {
        /// The kind.
        kind: &'static str,
        /// The version.
        version: u32,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
}

#[cfg(feature = "shipped-models")]
/// Upgrades a document of `T`'s kind to `T::VERSION` with the compiled
/// steps ([`compiled::STEPS`]: no migration file is read or interpreted)
/// and deserializes it. A document already at `T::VERSION` is only
/// deserialized; one newer is refused. History entries are appended as a
/// migration run would (stamped now); write the value back through the
/// store to keep the upgrade.
pub fn from_value<T: Document>(value: serde_json::Value) -> Result<T, LoadError> {
    from_value_with(value, &compiled::CATALOG)
}

/// [`from_value`] for the kinds of another build: an application's own
/// catalog, whose generated `compiled::CATALOG` is `catalog`.
pub fn from_value_with<T: Document>(
    mut value: serde_json::Value,
    catalog: &CompiledCatalog,
) -> Result<T, LoadError> {
    upgrade_value_with::<T>(&mut value, catalog)?;
    serde_json::from_value(value).map_err(|source| LoadError::Deserialize {
        kind: T::KIND,
        version: T::VERSION,
        source,
    })
}

#[cfg(feature = "shipped-models")]
/// Upgrades `value` in place to `T::VERSION` with the compiled steps; the
/// history entries added.
pub fn upgrade_value<T: Document>(
    value: &mut serde_json::Value,
) -> Result<Vec<crate::migrate::HistoryEntry>, LoadError> {
    upgrade_value_with::<T>(value, &compiled::CATALOG)
}

/// [`upgrade_value`] with another build's compiled catalog.
pub fn upgrade_value_with<T: Document>(
    value: &mut serde_json::Value,
    catalog: &CompiledCatalog,
) -> Result<Vec<crate::migrate::HistoryEntry>, LoadError> {
    let kind = catalog
        .kinds
        .iter()
        .find(|k| k.kind == T::KIND)
        .ok_or(LoadError::UnknownKind { kind: T::KIND })?;
    let at = crate::migrate::apply::now();
    Ok(crate::migrate::upgrade(
        value,
        kind,
        catalog.steps,
        T::VERSION,
        &at,
    )?)
}

#[cfg(feature = "shipped-models")]
/// Reads a JSON or YAML document (strictly: duplicate keys and limits are
/// errors) and loads it as `T` through [`from_value`].
pub fn load<T: Document>(path: impl AsRef<std::path::Path>) -> Result<T, LoadError> {
    load_with(path, &compiled::CATALOG)
}

/// [`load`] for the kinds of another build. In an application whose
/// `build.rs` runs `statewright_codegen::Builder` with
/// `.compiled_steps("::statewright::migrate")`:
///
/// ```ignore
/// let pins: models::service_pins::Latest =
///     statewright::models::load_with("state/pins.json", &models::compiled::CATALOG)?;
/// ```
pub fn load_with<T: Document>(
    path: impl AsRef<std::path::Path>,
    catalog: &CompiledCatalog,
) -> Result<T, LoadError> {
    let value = read_value(path.as_ref())?;
    from_value_with(value, catalog)
}

/// Reads a JSON or YAML document strictly (duplicate keys and limits are
/// errors).
fn read_value(path: &std::path::Path) -> Result<serde_json::Value, LoadError> {
    use statewright_spec::document;
    let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
        path: path.to_owned(),
        source,
    })?;
    let parse = |message: String| LoadError::Parse {
        path: path.to_owned(),
        message,
    };
    let format = document::Format::from_path(path).unwrap_or(document::Format::Json);
    let source = document::decode(path, bytes, format).map_err(|e| parse(e.to_string()))?;
    let value = document::parse(&source, document::ParseLimits::default())
        .map_err(|e| parse(e.to_string()))?;
    Ok(value)
}

/// Why a typed save was refused or failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SaveError {
    /// The model could not represent the document it was loaded from:
    /// saving it would lose what is at these pointers.
    #[error(
        "a typed save of this {kind} v{version} document would lose what is at {}; fix: change the document with `statewright set` or as a `serde_json::Value`, or regenerate the model so that it represents these members (opt in to the loss with `SaveOptions::dangerously_discard_unrepresented(true)` only if it is intended)",
        pointers.join(", ")
    )]
    Lossy {
        /// The kind.
        kind: &'static str,
        /// The version.
        version: u32,
        /// Where the model differs from the document it was loaded from
        /// (JSON pointers; `""` is the whole document).
        pointers: Vec<String>,
    },
    /// The model could not be serialized.
    #[error("cannot serialize the {kind} model: {source}")]
    Serialize {
        /// The kind.
        kind: &'static str,
        /// What serde said.
        #[source]
        source: serde_json::Error,
    },
    /// The store refused or failed the write.
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
}

/// How a typed save treats a model that could not represent its document.
#[derive(Debug, Clone, Copy, Default)]
pub struct SaveOptions {
    discard_unrepresented: bool,
}

impl SaveOptions {
    /// Saves even a model that could not represent the document it was
    /// loaded from, losing what [`Typed::lost`] lists. Off by default.
    pub fn dangerously_discard_unrepresented(mut self, yes: bool) -> Self {
        self.discard_unrepresented = yes;
        self
    }
}

/// A typed document and what it was loaded from, so that a save loses
/// nothing silently, keeps the document's key order and writes nothing
/// when nothing changed.
///
/// ```ignore
/// let mut pins: Typed<models::service_pins::Latest> =
///     statewright::models::load_typed_with("state/pins.json", &models::compiled::CATALOG)?;
/// pins.model_mut().replicas = 3;
/// if let Some(value) = pins.to_value(SaveOptions::default())? {
///     store.write(&guard, "pins.json", value, &WriteContext::new("my-app"))?;
/// }
/// ```
#[derive(Debug, Clone)]
pub struct Typed<T> {
    model: T,
    /// The document as loaded (after any upgrade).
    loaded: serde_json::Value,
    /// The model as it serialized right after the load.
    initial: serde_json::Value,
    /// Whether the load upgraded the document (so a save must write).
    upgraded: bool,
    /// Where `initial` differs from `loaded`.
    lost: Vec<String>,
}

impl<T: Document> Typed<T> {
    /// Upgrades `value` with the compiled steps of `catalog` (see
    /// [`from_value_with`]), deserializes it and records whether the model
    /// represents it exactly (serialized back, it equals the document as
    /// a value, numbers compared exactly).
    pub fn from_value_with(
        mut value: serde_json::Value,
        catalog: &CompiledCatalog,
    ) -> Result<Self, LoadError> {
        let steps = upgrade_value_with::<T>(&mut value, catalog)?;
        let deserialize = |source| LoadError::Deserialize {
            kind: T::KIND,
            version: T::VERSION,
            source,
        };
        let model: T = serde_json::from_value(value.clone()).map_err(deserialize)?;
        let initial = serde_json::to_value(&model).map_err(deserialize)?;
        let mut lost = Vec::new();
        differences(&value, &initial, &mut String::new(), &mut lost);
        Ok(Typed {
            model,
            loaded: value,
            initial,
            upgraded: !steps.is_empty(),
            lost,
        })
    }

    /// The model.
    pub fn model(&self) -> &T {
        &self.model
    }

    /// The model, to change it.
    pub fn model_mut(&mut self) -> &mut T {
        &mut self.model
    }

    /// The model, leaving the record of what it was loaded from.
    pub fn into_model(self) -> T {
        self.model
    }

    /// Whether the model represents the document it was loaded from
    /// exactly.
    pub fn exact(&self) -> bool {
        self.lost.is_empty()
    }

    /// Where the model differs from the document it was loaded from (JSON
    /// pointers): what a save would lose or change unasked.
    pub fn lost(&self) -> &[String] {
        &self.lost
    }

    /// The value to write: `None` when the model is unchanged since the
    /// load (and the load upgraded nothing), else the model serialized
    /// with the loaded document's key order (members it did not have come
    /// after). Refused ([`SaveError::Lossy`]) when the model could not
    /// represent its document, unless `opts` opts in.
    pub fn to_value(&self, opts: SaveOptions) -> Result<Option<serde_json::Value>, SaveError> {
        if !self.lost.is_empty() && !opts.discard_unrepresented {
            return Err(SaveError::Lossy {
                kind: T::KIND,
                version: T::VERSION,
                pointers: self.lost.clone(),
            });
        }
        let now = serde_json::to_value(&self.model).map_err(|source| SaveError::Serialize {
            kind: T::KIND,
            source,
        })?;
        if now == self.initial && !self.upgraded {
            return Ok(None);
        }
        Ok(Some(in_order_of(now, &self.loaded)))
    }

    /// Writes the model through `store` (see [`Typed::to_value`]); `None`
    /// when nothing changed and nothing was written.
    pub fn save(
        &self,
        store: &crate::store::Store,
        guard: &crate::store::LockGuard,
        rel: &str,
        ctx: &crate::store::WriteContext,
        opts: SaveOptions,
    ) -> Result<Option<crate::store::WriteOutcome>, SaveError> {
        match self.to_value(opts)? {
            None => Ok(None),
            Some(value) => Ok(Some(store.write(guard, rel, value, ctx)?)),
        }
    }
}

impl<T> std::ops::Deref for Typed<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.model
    }
}

impl<T> std::ops::DerefMut for Typed<T> {
    fn deref_mut(&mut self) -> &mut T {
        &mut self.model
    }
}

/// Reads a document like [`load_with`] and keeps what it was loaded from
/// (see [`Typed`]).
pub fn load_typed_with<T: Document>(
    path: impl AsRef<std::path::Path>,
    catalog: &CompiledCatalog,
) -> Result<Typed<T>, LoadError> {
    Typed::from_value_with(read_value(path.as_ref())?, catalog)
}

/// [`load_typed_with`] for this crate's own catalog.
#[cfg(feature = "shipped-models")]
pub fn load_typed<T: Document>(path: impl AsRef<std::path::Path>) -> Result<Typed<T>, LoadError> {
    load_typed_with(path, &compiled::CATALOG)
}

/// The pointers where `a` and `b` differ (members one has and the other
/// not, values that differ; numbers compared exactly), in `out`.
fn differences(
    a: &serde_json::Value,
    b: &serde_json::Value,
    at: &mut String,
    out: &mut Vec<String>,
) {
    use serde_json::Value;
    match (a, b) {
        (Value::Object(x), Value::Object(y)) => {
            let keys = x.keys().chain(y.keys().filter(|k| !x.contains_key(*k)));
            for k in keys {
                let len = at.len();
                at.push('/');
                at.push_str(&k.replace('~', "~0").replace('/', "~1"));
                match (x.get(k), y.get(k)) {
                    (Some(p), Some(q)) => differences(p, q, at, out),
                    _ => out.push(at.clone()),
                }
                at.truncate(len);
            }
        }
        (Value::Array(x), Value::Array(y)) if x.len() == y.len() => {
            for (i, (p, q)) in x.iter().zip(y).enumerate() {
                let len = at.len();
                at.push_str(&format!("/{i}"));
                differences(p, q, at, out);
                at.truncate(len);
            }
        }
        _ if a != b => out.push(at.clone()),
        _ => {}
    }
}

/// `value` with every object's members in the order `like` has them
/// (members `like` does not have come after, in their own order).
fn in_order_of(value: serde_json::Value, like: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match (value, like) {
        (Value::Object(mut m), Value::Object(l)) => {
            let mut out = serde_json::Map::new();
            for (k, lv) in l {
                if let Some(v) = m.remove(k) {
                    out.insert(k.clone(), in_order_of(v, lv));
                }
            }
            out.extend(m);
            Value::Object(out)
        }
        (Value::Array(a), Value::Array(l)) => Value::Array(
            a.into_iter()
                .enumerate()
                .map(|(i, v)| match l.get(i) {
                    Some(lv) => in_order_of(v, lv),
                    None => v,
                })
                .collect(),
        ),
        (v, _) => v,
    }
}
