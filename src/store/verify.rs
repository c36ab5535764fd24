//! The validation hook: the store checks every document against its
//! schema before writing it and after reading it, through [`Verifier`].
//! [`SchemaVerifier`] is the default: the `jsonschema` crate, compiling
//! each kind's schema per version once, resolving `$ref`s offline.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use statewright_spec::{Catalog, Kind, OfflineRegistry};

pub use statewright_spec::SCHEMA_PREFIX;

/// One way a document does not match its schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// Where in the document (JSON pointer).
    pub pointer: String,
    /// What is wrong.
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let at = if self.pointer.is_empty() {
            "/"
        } else {
            &self.pointer
        };
        write!(f, "at `{at}`: {}", self.message)
    }
}

/// Checks a document against the schema of its kind and version.
pub trait Verifier: Send + Sync {
    /// `Ok` when `doc` matches `kind`'s schema `version`.
    fn verify(&self, kind: &Kind, version: u32, doc: &Value) -> Result<(), Vec<Problem>>;

    /// Why `kind`'s schema `version` cannot check any document (it does
    /// not compile, a `$ref` cannot be served), if that is why `verify`
    /// failed: then the schema is at fault, not the document. The default
    /// knows of no such failure.
    fn schema_error(&self, kind: &Kind, version: u32) -> Option<String> {
        let _ = (kind, version);
        None
    }
}

/// The default verifier: JSON Schema via the `jsonschema` crate.
pub struct SchemaVerifier {
    registry: OfflineRegistry,
    compiled: Mutex<HashMap<(String, u32), Arc<jsonschema::Validator>>>,
}

impl std::fmt::Debug for SchemaVerifier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SchemaVerifier").finish_non_exhaustive()
    }
}

impl SchemaVerifier {
    /// A verifier for the catalog's kinds, resolving `$ref`s like
    /// `validate` does ([`OfflineRegistry::for_project`]): under
    /// [`SCHEMA_PREFIX`], the project's `schema_dirs`, and any schema of
    /// the schemas dir by its `$id`.
    pub fn new(catalog: &Catalog) -> SchemaVerifier {
        SchemaVerifier {
            registry: OfflineRegistry::for_project(&catalog.project),
            compiled: Mutex::new(HashMap::new()),
        }
    }

    fn validator(&self, kind: &Kind, version: u32) -> Result<Arc<jsonschema::Validator>, Problem> {
        let key = (kind.name.clone(), version);
        if let Some(v) = self.compiled.lock().ok().and_then(|c| c.get(&key).cloned()) {
            return Ok(v);
        }
        let schema = kind.version(version).ok_or_else(|| Problem {
            pointer: String::new(),
            message: format!("kind `{}` has no schema version {version}", kind.name),
        })?;
        let validator = jsonschema::options()
            .with_retriever(self.registry.clone())
            .build(&schema.schema)
            .map_err(|e| Problem {
                pointer: String::new(),
                message: format!("schema {} does not compile: {e}", schema.path.display()),
            })?;
        let validator = Arc::new(validator);
        if let Ok(mut c) = self.compiled.lock() {
            c.insert(key, validator.clone());
        }
        Ok(validator)
    }
}

impl Verifier for SchemaVerifier {
    fn schema_error(&self, kind: &Kind, version: u32) -> Option<String> {
        self.validator(kind, version).err().map(|p| p.message)
    }

    fn verify(&self, kind: &Kind, version: u32, doc: &Value) -> Result<(), Vec<Problem>> {
        let validator = self.validator(kind, version).map_err(|p| vec![p])?;
        let problems: Vec<Problem> = validator
            .iter_errors(doc)
            .map(|e| Problem {
                pointer: e.instance_path().as_str().to_owned(),
                message: e.to_string(),
            })
            .collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(problems)
        }
    }
}
