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
    use statewright_spec::document;
    let path = path.as_ref();
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
    from_value_with(value, catalog)
}
