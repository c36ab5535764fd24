//! Whether two files are compared as schemas or as documents, and why.

use serde::Serialize;
use serde_json::Value;

/// How two inputs are compared.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// As JSON Schemas: rule-coded changes and verdicts.
    Schemas,
    /// As documents: a JSON Patch.
    Documents,
}

/// Why a [`Mode`] was chosen.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ModeReason {
    /// `--schemas` or `--documents` was given.
    Forced,
    /// A file's `$schema` names a JSON Schema dialect (a
    /// `json-schema.org` metaschema).
    Dialect,
    /// Both files lie under the project's schemas dir.
    SchemasDir,
    /// Neither: the files are documents.
    Default,
}

impl ModeReason {
    /// Words for people.
    pub fn describe(self) -> &'static str {
        match self {
            ModeReason::Forced => "as asked",
            ModeReason::Dialect => "a `$schema` names a JSON Schema dialect",
            ModeReason::SchemasDir => "both files are in the project's schemas dir",
            ModeReason::Default => "neither file is a schema",
        }
    }
}

/// The mode for inputs `a` and `b`: `forced` when the caller says so;
/// schemas when either names a JSON Schema dialect in `$schema` or when
/// both lie under the schemas dir (`in_schemas_dir`); documents
/// otherwise. A data document whose `$schema` points at its own schema
/// file is a document.
///
/// ```
/// use serde_json::json;
/// use statewright::diff::{Mode, ModeReason, mode_of};
///
/// let data = json!({"$schema": "../schemas/deploy-pins/v1.json", "pins": {}});
/// assert_eq!(mode_of(&data, &data, false, None), (Mode::Documents, ModeReason::Default));
/// let schema = json!({"$schema": "https://json-schema.org/draft/2020-12/schema"});
/// assert_eq!(mode_of(&schema, &schema, false, None), (Mode::Schemas, ModeReason::Dialect));
/// ```
pub fn mode_of(
    a: &Value,
    b: &Value,
    in_schemas_dir: bool,
    forced: Option<Mode>,
) -> (Mode, ModeReason) {
    if let Some(m) = forced {
        return (m, ModeReason::Forced);
    }
    let dialect = |v: &Value| {
        v.get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|s| s.contains("json-schema.org/"))
    };
    if dialect(a) || dialect(b) {
        (Mode::Schemas, ModeReason::Dialect)
    } else if in_schemas_dir {
        (Mode::Schemas, ModeReason::SchemasDir)
    } else {
        (Mode::Documents, ModeReason::Default)
    }
}
