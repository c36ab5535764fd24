//! Typed models generated at build time from the shipped catalog.
//!
//! Every kind and version becomes a module (`models::env_config::v1`), each
//! kind has a `Latest` alias, and every root type implements [`Document`].

use serde::{Serialize, de::DeserializeOwned};

/// A typed document model generated from one schema version of a kind.
pub trait Document: Serialize + DeserializeOwned {
    /// The kind's name in the catalog.
    const KIND: &'static str;
    /// The schema version this type was generated from.
    const VERSION: u32;
    /// The schema the type was generated from, as JSON text.
    const SCHEMA: &'static str;
}

include!(concat!(env!("OUT_DIR"), "/statewright_models.rs"));
