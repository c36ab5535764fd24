//! Drift between a template manifest and a `packer-hybrid.json` state
//! document (hybridcore "Template Manifest Hooks"): templates declare, per
//! builder, the variant they render and the checksum-cache hash of that
//! variant; the state document records what was last published. Drift is
//! a builder the state does not record, a hash it lacks, or a hash (or
//! variant) that no longer matches.
//!
//! # Template manifest format
//!
//! A JSON object with one member, `builders`, mapping each builder name
//! (as in the Packer template, e.g. `amazon-ebs.ubuntu`) to the hooks the
//! template declares for it:
//!
//! ```json
//! {
//!   "builders": {
//!     "amazon-ebs.ubuntu": {
//!       "variant_id": "ubuntu-22.04-amd64-uefi",
//!       "cache_hash": "sha256:8e1f4a0c7d2b95e3f6a8c1d4b7e0f29a3c5d8e1b4f7a0c3d6e9b2f5a8c1d4e70"
//!     }
//!   }
//! }
//! ```
//!
//! `variant_id` is a non-empty string; `cache_hash` is `sha256:` and 64
//! lowercase hex digits, as the `packer-hybrid` schema requires of the
//! recorded value. No other members are allowed, so a typo is an error
//! rather than a silently ignored hook.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use statewright_spec::pointer::join;

use crate::diff::DiffError;
use statewright_spec::{Catalog, DriftRule};

/// What templates declare: see the [module docs](self) for the format.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TemplateManifest {
    /// Builder name → declared hooks, in name order.
    pub builders: BTreeMap<String, DeclaredBuilder>,
}

/// The hooks a template declares for one builder.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DeclaredBuilder {
    /// Template variant the builder renders.
    pub variant_id: String,
    /// Checksum-cache hash of the variant (`sha256:<64 hex>`).
    pub cache_hash: String,
}

impl TemplateManifest {
    /// Reads and checks a manifest.
    pub fn from_value(v: &Value) -> Result<TemplateManifest, DiffError> {
        let m: TemplateManifest =
            serde_json::from_value(v.clone()).map_err(|e| DiffError::InvalidManifest {
                pointer: String::new(),
                message: e.to_string(),
            })?;
        for (name, b) in &m.builders {
            let at = join("/builders", name);
            if b.variant_id.is_empty() {
                return Err(DiffError::InvalidManifest {
                    pointer: format!("{at}/variant_id"),
                    message: "variant_id is empty".into(),
                });
            }
            if !is_sha256(&b.cache_hash) {
                return Err(DiffError::InvalidManifest {
                    pointer: format!("{at}/cache_hash"),
                    message: format!("`{}` is not sha256:<64 lowercase hex>", b.cache_hash),
                });
            }
        }
        Ok(m)
    }
}

fn is_sha256(s: &str) -> bool {
    s.strip_prefix("sha256:")
        .is_some_and(|h| h.len() == 64 && h.bytes().all(|c| matches!(c, b'0'..=b'9' | b'a'..=b'f')))
}

/// What kind of drift a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DriftKind {
    /// The template declares a builder the state does not record.
    MissingBuilder,
    /// The state records the builder without a `cache_hash`.
    MissingHash,
    /// The recorded `cache_hash` differs from the declared one.
    StaleHash,
    /// The recorded `variant_id` differs from the declared one.
    StaleVariant,
    /// The state records a builder no template declares.
    UndeclaredBuilder,
}

/// One difference between declared and recorded hooks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DriftFinding {
    /// What kind.
    pub kind: DriftKind,
    /// The builder it concerns.
    pub builder: String,
    /// Where in the state document (the member that is missing or wrong).
    pub pointer: String,
    /// The declared value, when there is one.
    pub declared: Option<String>,
    /// The recorded value, when there is one.
    pub recorded: Option<String>,
    /// What is wrong, for people.
    pub message: String,
    /// What fixes it.
    pub remedy: String,
}

const REPUBLISH: &str = "regenerate the manifest and publish it so the state records the template's hooks \
     (`packer-hybrid publish --template <template_id>`)";

/// Compares what templates declare with what `packer-hybrid.json` records
/// in its `builders` map. Findings come in builder-name order; an empty
/// list means no drift. Errors only when `declared` is not a valid
/// [`TemplateManifest`]; a malformed state document is reported as drift.
pub fn drift(declared: &Value, recorded: &Value) -> Result<Vec<DriftFinding>, DiffError> {
    let manifest = TemplateManifest::from_value(declared)?;
    let builders = recorded.get("builders").and_then(Value::as_object);
    let mut out = Vec::new();
    for (name, want) in &manifest.builders {
        let at = join("/builders", name);
        let Some(have) = builders.and_then(|b| b.get(name)) else {
            out.push(DriftFinding {
                kind: DriftKind::MissingBuilder,
                builder: name.clone(),
                pointer: at,
                declared: Some(want.cache_hash.clone()),
                recorded: None,
                message: format!(
                    "builder `{name}` is declared by the template but not recorded in the state"
                ),
                remedy: REPUBLISH.into(),
            });
            continue;
        };
        out.extend(builder_drift(name, &at, want, have));
    }
    for name in builders.into_iter().flat_map(|b| b.keys()) {
        if !manifest.builders.contains_key(name) {
            out.push(DriftFinding {
                kind: DriftKind::UndeclaredBuilder,
                builder: name.clone(),
                pointer: join("/builders", name),
                declared: None,
                recorded: builders
                    .and_then(|b| b.get(name))
                    .and_then(|b| b.get("cache_hash"))
                    .and_then(Value::as_str)
                    .map(str::to_owned),
                message: format!(
                    "builder `{name}` is recorded in the state but no template declares it"
                ),
                remedy: "remove the builder from the state, or declare it in the template manifest"
                    .into(),
            });
        }
    }
    Ok(out)
}

/// How the recorded builder `have` differs from what the template
/// declares for it (`want`): its cache hash missing or stale, its variant
/// another.
fn builder_drift(name: &str, at: &str, want: &DeclaredBuilder, have: &Value) -> Vec<DriftFinding> {
    let field = |k: &str| {
        have.get(k)
            .and_then(Value::as_str)
            .filter(|s| !s.is_empty())
    };
    let finding =
        |kind, pointer: String, declared: &str, recorded: Option<&str>, message| DriftFinding {
            kind,
            builder: name.to_owned(),
            pointer,
            declared: Some(declared.to_owned()),
            recorded: recorded.map(str::to_owned),
            message,
            remedy: REPUBLISH.into(),
        };
    let mut out = Vec::new();
    let hash_at = format!("{at}/cache_hash");
    match field("cache_hash") {
        None => out.push(finding(
            DriftKind::MissingHash,
            hash_at,
            &want.cache_hash,
            None,
            format!("builder `{name}` has no recorded cache_hash, so variant integrity cannot be proven"),
        )),
        Some(h) if h != want.cache_hash => out.push(finding(
            DriftKind::StaleHash,
            hash_at,
            &want.cache_hash,
            Some(h),
            format!("builder `{name}`: recorded cache_hash is stale (the template's variant changed since it was published)"),
        )),
        Some(_) => {}
    }
    let variant = field("variant_id");
    if variant != Some(want.variant_id.as_str()) {
        out.push(finding(
            DriftKind::StaleVariant,
            format!("{at}/variant_id"),
            &want.variant_id,
            variant,
            format!("builder `{name}`: recorded variant_id differs from the template's"),
        ));
    }
    out
}

/// The kinds `diff --drift` compares: `kind` when given, else every kind
/// whose project entry declares a drift rule (`[kinds.<name>.drift]`).
pub fn drift_kinds(catalog: &Catalog, kind: Option<&str>) -> Result<Vec<String>, DiffError> {
    if let Some(k) = kind {
        return Ok(vec![k.to_owned()]);
    }
    let kinds: Vec<String> = catalog
        .kinds
        .values()
        .filter(|k| k.spec.drift.is_some())
        .map(|k| k.name.clone())
        .collect();
    if kinds.is_empty() {
        return Err(DiffError::NoDriftKind);
    }
    Ok(kinds)
}

/// Where the template manifest of the state document `state` is, by its
/// kind's drift rule: the rule's `manifest` with `{stem}` the template
/// path less the first `strip` suffix it ends with, relative to `root`
/// (the repository root: the folder holding the state dir, or the project
/// file's folder for a database namespace).
pub fn manifest_path(
    rule: &DriftRule,
    root: &std::path::Path,
    state: &Value,
) -> Result<std::path::PathBuf, DiffError> {
    let template = state
        .pointer(&rule.template)
        .and_then(Value::as_str)
        .ok_or_else(|| DiffError::NoTemplatePath {
            pointer: rule.template.clone(),
        })?;
    let stem = rule
        .strip
        .iter()
        .find_map(|s| template.strip_suffix(s.as_str()))
        .unwrap_or(template);
    let path = root.join(rule.manifest.replace("{stem}", stem));
    if path.is_file() {
        Ok(path)
    } else {
        Err(DiffError::NoManifest {
            path,
            template: template.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const H1: &str = "sha256:8e1f4a0c7d2b95e3f6a8c1d4b7e0f29a3c5d8e1b4f7a0c3d6e9b2f5a8c1d4e70";
    const H2: &str = "sha256:1111111111111111111111111111111111111111111111111111111111111111";

    #[test]
    fn every_kind_of_drift() {
        let declared = json!({"builders": {
            "a": {"variant_id": "v", "cache_hash": H1},
            "b": {"variant_id": "v", "cache_hash": H1},
            "c": {"variant_id": "v", "cache_hash": H2},
            "d": {"variant_id": "w", "cache_hash": H1},
            "e": {"variant_id": "v", "cache_hash": H1},
        }});
        let recorded = json!({"builders": {
            "b": {"variant_id": "v"},
            "c": {"variant_id": "v", "cache_hash": H1},
            "d": {"variant_id": "v", "cache_hash": H1},
            "e": {"variant_id": "v", "cache_hash": H1},
            "z": {"variant_id": "v", "cache_hash": H1},
        }});
        let kinds: Vec<(DriftKind, String)> = drift(&declared, &recorded)
            .unwrap()
            .into_iter()
            .map(|f| (f.kind, f.pointer))
            .collect();
        assert_eq!(
            kinds,
            [
                (DriftKind::MissingBuilder, "/builders/a".into()),
                (DriftKind::MissingHash, "/builders/b/cache_hash".into()),
                (DriftKind::StaleHash, "/builders/c/cache_hash".into()),
                (DriftKind::StaleVariant, "/builders/d/variant_id".into()),
                (DriftKind::UndeclaredBuilder, "/builders/z".into()),
            ]
        );
    }

    #[test]
    fn invalid_manifest_is_an_error() {
        let e = drift(
            &json!({"builders": {"a": {"variant_id": "v", "cache_hash": "md5:x"}}}),
            &json!({}),
        )
        .unwrap_err();
        assert!(e.to_string().contains("/builders/a/cache_hash"), "{e}");
        assert!(drift(&json!({"builder": {}}), &json!({})).is_err());
    }
}
