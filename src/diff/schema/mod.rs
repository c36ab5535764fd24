//! Schema diff: every change between two JSON Schemas (draft-07 and
//! 2020-12), each with a stable rule code, a pointer into each schema and a
//! verdict for both directions.
//!
//! *Backward compatible* means every document valid under the old schema
//! (A) stays valid under the new one (B): a reader on B reads old data.
//! *Forward compatible* means every document valid under B was valid
//! under A: a reader still on A reads new data. When a rule cannot prove a
//! direction (a pattern replaced by another pattern, say), it says "not
//! compatible": the verdicts are sound, never optimistic.
//!
//! The comparison walks both schemas in parallel. `$ref`s are followed
//! (local `#/definitions/..`, `#/$defs/..`, anchors, and other documents
//! through an [`OfflineRegistry`]); `allOf` members that do not conflict
//! are merged into their parent first, so `{"allOf": [{"type": "number"},
//! {"maximum": 3}]}` compares like `{"type": "number", "maximum": 3}`.
//! Each rule lives in [`rules`](self) as one function with the same
//! signature; the codes are registered in one table, [`RULES`].

mod context;
mod generate;
mod grade;
mod node;
mod overlap;
mod rules;
mod types;
mod version;
mod witness;

use std::sync::Arc;

use serde::Serialize;
use serde_json::Value;
use statewright_spec::OfflineRegistry;

pub use grade::{Compatibility, Direction, Witness};
pub use rules::{RULES, RuleInfo, rule_info};
pub use version::{VERSION_BUMP, VersionField};

use crate::diff::DiffError;
use context::Cx;
use node::{Doc, Loc};

/// How much a change matters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Compatible both ways; worth knowing (annotations, equivalent forms).
    Info,
    /// Compatible, but may change behaviour (a new default), or not
    /// compatible in a way a migration fills in mechanically (a new
    /// required property that has a default).
    Warning,
    /// Not compatible in at least one direction.
    Breaking,
}

/// One change between schema A and schema B.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Change {
    /// The rule's stable code (`SD101`); see [`RULES`].
    pub rule: &'static str,
    /// How much it matters.
    pub severity: Severity,
    /// Where in A (`None` when the keyword is absent there). A JSON
    /// pointer into A, or `uri#pointer` inside a document A references.
    pub pointer_a: Option<String>,
    /// Where in B, likewise.
    pub pointer_b: Option<String>,
    /// What changed, for people.
    pub message: String,
    /// The property a property or `required` change is about (`SD201` to
    /// `SD204`, `SD211` to `SD213`); absent for other rules.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub property: Option<String>,
    /// Documents valid under A stay valid under B, as far as this change
    /// goes.
    pub backward_compatible: bool,
    /// Documents valid under B were valid under A, as far as this change
    /// goes.
    pub forward_compatible: bool,
    /// A document that shows the change breaks a direction: valid under
    /// one schema, rejected by the other (checked with the validator).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub witness: Option<Witness>,
    /// The rules suspect the change breaks a direction the project's
    /// [`Compatibility`] mode checks, but no document was found that shows
    /// it: reported as a warning, never as compatible.
    #[serde(skip_serializing_if = "std::ops::Not::not")]
    pub possibly_breaking: bool,
}

impl Change {
    /// The expected version bump between two versions of one kind
    /// ([`VERSION_BUMP`], `SD121`).
    pub fn is_version_bump(&self) -> bool {
        self.rule == VERSION_BUMP
    }
}

/// Every change between two schemas and the overall verdicts.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SchemaDiff {
    /// The changes, in schema order.
    pub changes: Vec<Change>,
    /// Every document valid under A is valid under B (all changes agree),
    /// apart from the version number of an expected version bump
    /// ([`Change::is_version_bump`]), which the migrator rewrites.
    pub backward: bool,
    /// Every document valid under B is valid under A, likewise.
    pub forward: bool,
    /// The compatibility mode the severities follow.
    pub mode: Compatibility,
    /// A document valid under A and rejected by B, when one was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backward_witness: Option<Witness>,
    /// A document valid under B and rejected by A, when one was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub forward_witness: Option<Witness>,
}

impl SchemaDiff {
    /// The most severe change, if any.
    pub fn worst(&self) -> Option<Severity> {
        self.changes.iter().map(|c| c.severity).max()
    }

    /// `"both"`, `"backward"`, `"forward"` or `"none"`.
    pub fn compatibility(&self) -> &'static str {
        match (self.backward, self.forward) {
            (true, true) => "both",
            (true, false) => "backward",
            (false, true) => "forward",
            (false, false) => "none",
        }
    }
}

/// Options for [`diff_schemas`].
#[derive(Debug, Clone, Default)]
pub struct SchemaDiffOptions {
    /// Serves `$ref`s to other documents; without it only local
    /// references resolve.
    pub registry: Option<OfflineRegistry>,
    /// The URI schema A was read from, used to resolve relative `$ref`s
    /// when A has no absolute `$id`.
    pub base_a: Option<String>,
    /// Likewise for B.
    pub base_b: Option<String>,
    /// The kind's version field when A and B are two versions of one
    /// catalog kind: the change of its `const`/`enum` from A's version to
    /// B's is then an expected version bump (`SD121`, informational).
    pub version_field: Option<VersionField>,
    /// Which direction a change must keep to be compatible; the
    /// severities follow it (default [`Compatibility::Backward`]).
    pub compatibility: Compatibility,
    /// Whether `format` is an assertion, as for validation: `None`
    /// follows each schema's draft (asserted up to draft-07, an
    /// annotation from 2019-09 on and without `$schema`).
    pub validate_formats: Option<bool>,
}

impl SchemaDiffOptions {
    /// No registry, no bases.
    pub fn new() -> Self {
        Self::default()
    }

    /// Grades changes by `mode` (see [`Compatibility`]).
    pub fn with_compatibility(mut self, mode: Compatibility) -> Self {
        self.compatibility = mode;
        self
    }

    /// Asserts `format` (`Some(true)`), treats it as an annotation
    /// (`Some(false)`), or follows each schema's draft (`None`), as
    /// validation does with the same setting.
    pub fn with_formats(mut self, validate_formats: Option<bool>) -> Self {
        self.validate_formats = validate_formats;
        self
    }

    /// Resolves references to other documents through `registry`.
    pub fn with_registry(mut self, registry: OfflineRegistry) -> Self {
        self.registry = Some(registry);
        self
    }

    /// The URIs A and B were read from (`file:///..` or a mapped URL).
    pub fn with_bases(mut self, a: impl Into<String>, b: impl Into<String>) -> Self {
        self.base_a = Some(a.into());
        self.base_b = Some(b.into());
        self
    }

    /// A and B are versions `a` and `b` of one catalog kind whose
    /// documents keep their version at `pointer` (`/schema_version`):
    /// the version field's `const`/`enum` going from `a` to `b` is
    /// reported as an expected version bump (`SD121`, informational),
    /// not as replaced values (`SD115`, breaking).
    ///
    /// ```
    /// use serde_json::json;
    /// use statewright::diff::{diff_schemas, SchemaDiffOptions, Severity};
    ///
    /// let a = json!({"properties": {"schema_version": {"const": 1}}});
    /// let b = json!({"properties": {"schema_version": {"const": 2}}});
    /// let opts = SchemaDiffOptions::new().with_version_field("/schema_version", 1, 2);
    /// let d = diff_schemas(&a, &b, &opts).unwrap();
    /// assert_eq!((d.changes[0].rule, d.changes[0].severity), ("SD121", Severity::Info));
    /// ```
    pub fn with_version_field(mut self, pointer: impl Into<String>, a: u32, b: u32) -> Self {
        self.version_field = Some(VersionField {
            pointer: pointer.into(),
            a,
            b,
        });
        self
    }
}

/// Lists every change from schema `a` (old) to schema `b` (new) and says
/// whether each direction stays compatible.
///
/// Errors only when a schema cannot be read as a whole (an unresolvable
/// `$ref`); an incompatible change is a [`Change`], never an error.
///
/// ```
/// use serde_json::json;
/// use statewright::diff::{diff_schemas, SchemaDiffOptions};
///
/// let a = json!({"type": "string", "maxLength": 5});
/// let b = json!({"type": "string", "maxLength": 10});
/// let d = diff_schemas(&a, &b, &SchemaDiffOptions::new()).unwrap();
/// assert_eq!((d.backward, d.forward), (true, false));
/// assert_eq!(d.changes[0].rule, "SD402");
/// ```
pub fn diff_schemas(
    a: &Value,
    b: &Value,
    opts: &SchemaDiffOptions,
) -> Result<SchemaDiff, DiffError> {
    let doc = |v: &Value, base: &Option<String>, side| {
        let id = ["$id", "id"]
            .iter()
            .find_map(|k| v.get(*k).and_then(Value::as_str))
            .filter(|id| id.contains("://") || id.starts_with("urn:"))
            .map(|id| id.split('#').next().unwrap_or(id).to_owned());
        Arc::new(Doc {
            root: v.clone(),
            uri: id.or_else(|| base.clone()),
            external: false,
            side,
        })
    };
    let (da, db) = (doc(a, &opts.base_a, "A"), doc(b, &opts.base_b, "B"));
    let uris = [da.uri.clone(), db.uri.clone()];
    let mut cx = Cx::new(da.clone(), db.clone(), opts.registry.clone());
    cx.formats = [asserts_formats(a, opts), asserts_formats(b, opts)];
    cx.compare((a.clone(), Loc::root(da)), (b.clone(), Loc::root(db)))?;
    let mut changes: Vec<Change> = Vec::new();
    for c in std::mem::take(&mut cx.changes) {
        if !changes.contains(&c) {
            changes.push(c);
        }
    }
    if let Some(field) = &opts.version_field {
        version::mark(&mut changes, a, b, field);
    }
    let (found, reached) = witnesses(a, b, uris, opts, &mut changes);
    for c in &mut changes {
        grade::grade(c, opts.compatibility, reached);
    }
    let counted = || changes.iter().filter(|c| !c.is_version_bump());
    let [bw, fw] = found.map(|f| f.into_iter().next());
    Ok(SchemaDiff {
        backward: counted().all(|c| c.backward_compatible),
        forward: counted().all(|c| c.forward_compatible),
        mode: opts.compatibility,
        backward_witness: bw,
        forward_witness: fw,
        changes,
    })
}

/// Searches witnesses for the changes' suspected breaks, and adds an
/// `SD990` change for a direction every rule called compatible when a
/// document shows it is not (the verdicts never claim what a document
/// refutes).
fn witnesses(
    a: &Value,
    b: &Value,
    uris: [Option<String>; 2],
    opts: &SchemaDiffOptions,
    changes: &mut Vec<Change>,
) -> ([Vec<Witness>; 2], [bool; 2]) {
    let Some(judge) = witness::Judge::new(a, b, opts) else {
        return ([Vec::new(), Vec::new()], [false, false]);
    };
    let sources = generate::Sources::new(uris, opts.registry.as_ref());
    let (found, reached) = witness::search(&judge, a, b, &sources);
    let bumped = changes.iter().any(Change::is_version_bump);
    let found = found.map(|mut f| {
        // A version bump alone is not a witness of anything.
        f.retain(|w| !(bumped && version_only(w, &opts.version_field)));
        f
    });
    witness::attribute(changes, &found);
    for (direction, list) in [Direction::Backward, Direction::Forward]
        .into_iter()
        .zip(&found)
    {
        let claimed = changes.iter().any(|c| {
            !c.is_version_bump()
                && match direction {
                    Direction::Backward => !c.backward_compatible,
                    Direction::Forward => !c.forward_compatible,
                }
        });
        if let (false, Some(w)) = (claimed, list.first()) {
            changes.push(Change {
                rule: "SD990",
                severity: Severity::Breaking,
                pointer_a: (direction == Direction::Forward).then(|| w.schema_path.clone()),
                pointer_b: (direction == Direction::Backward).then(|| w.schema_path.clone()),
                message: format!(
                    "a document valid under {} is rejected by {} at {} ({})",
                    w.accepted_by(),
                    w.rejected_by(),
                    if w.instance_path.is_empty() {
                        "(root)"
                    } else {
                        &w.instance_path
                    },
                    w.error
                ),
                property: None,
                backward_compatible: direction != Direction::Backward,
                forward_compatible: direction != Direction::Forward,
                witness: Some(w.clone()),
                possibly_breaking: false,
            });
        }
    }
    (found, reached)
}

/// The witness's error is the version field's `const`/`enum` (the
/// expected bump), not another change there.
fn version_only(w: &Witness, field: &Option<VersionField>) -> bool {
    field.as_ref().is_some_and(|f| {
        w.instance_path == f.pointer
            && (w.schema_path.ends_with("/const") || w.schema_path.ends_with("/enum"))
    })
}

/// Whether validation asserts `format` for this schema.
fn asserts_formats(schema: &Value, opts: &SchemaDiffOptions) -> bool {
    opts.validate_formats.unwrap_or_else(|| {
        schema
            .get("$schema")
            .and_then(Value::as_str)
            .is_some_and(|s| {
                ["draft-04", "draft-06", "draft-07"]
                    .iter()
                    .any(|d| s.contains(d))
            })
    })
}
