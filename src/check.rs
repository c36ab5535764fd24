//! `check`: everything that can be wrong with a state directory, each
//! finding with a code, a severity, the file and pointer, and the remedy.
//!
//! Document checks reuse [`crate::validate`]; directory checks (leftover
//! temp files, journals, locks, backups, the audit chain) ask the store.
//! Checks only read; repairs are the store's business.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use sha2::{Digest, Sha256};
use statewright_spec::{ArtifactRule, SourceText, locate};

use crate::codes;
use crate::finding::{DocumentReport, Finding};
use crate::validate::{Target, ValidateError, Validator};

/// The result of checking a state directory.
#[derive(Debug, Clone, Serialize)]
pub struct CheckReport {
    /// The state directory.
    pub state_dir: PathBuf,
    /// One report per document found.
    pub documents: Vec<DocumentReport>,
    /// Findings about the directory itself, or files that are not documents.
    pub findings: Vec<Finding>,
}

impl CheckReport {
    /// Every finding, documents' and directory's.
    pub fn all_findings(&self) -> impl Iterator<Item = &Finding> {
        self.documents
            .iter()
            .flat_map(|d| d.findings.iter())
            .chain(self.findings.iter())
    }
}

/// Checks every document of a state dir and the dir itself.
pub fn check_documents(
    validator: &Validator,
    state_dir: &Path,
) -> Result<CheckReport, ValidateError> {
    let (docs, unmatched) = validator.collect(&[state_dir.to_owned()])?;
    let mut report = CheckReport {
        state_dir: state_dir.to_owned(),
        documents: Vec::with_capacity(docs.len()),
        findings: Vec::new(),
    };
    for d in docs {
        let bytes = std::fs::read(&d).map_err(|source| ValidateError::Read {
            path: d.clone(),
            source,
        })?;
        let text = String::from_utf8(bytes.clone()).ok();
        let mut doc = validator.validate_bytes(&d, bytes, &Target::Auto)?;
        if let (Some(kind), Some(text)) = (
            doc.kind
                .as_deref()
                .and_then(|k| validator.catalog()?.kind(k)),
            text,
        ) && !doc.has_errors()
            && !kind.spec.artifacts.is_empty()
        {
            let source = SourceText {
                path: d.clone(),
                text,
                format: kind.spec.format(),
            };
            if let Ok(value) = statewright_spec::document::parse(&source, Default::default()) {
                for rule in &kind.spec.artifacts {
                    doc.findings
                        .extend(artifact_findings(state_dir, &source, &value, rule));
                }
            }
        }
        report.documents.push(doc);
    }
    for u in unmatched {
        report.findings.push(Finding::new(
            codes::UNMATCHED,
            &u,
            "",
            format!(
                "{} matches no kind in the catalog",
                u.strip_prefix(state_dir).unwrap_or(&u).display()
            ),
        ));
    }
    Ok(report)
}

/// Findings for entries whose artifact file is missing or has another hash.
pub fn artifact_findings(
    state_dir: &Path,
    source: &SourceText,
    doc: &Value,
    rule: &ArtifactRule,
) -> Vec<Finding> {
    let entries: Vec<(String, &Value)> = match doc.pointer(&rule.each) {
        Some(Value::Object(m)) => m
            .iter()
            .map(|(k, v)| (statewright_spec::pointer::join(&rule.each, k), v))
            .collect(),
        Some(Value::Array(a)) => a
            .iter()
            .enumerate()
            .map(|(i, v)| (format!("{}/{i}", rule.each), v))
            .collect(),
        _ => return Vec::new(),
    };
    let mut out = Vec::new();
    for (at, entry) in entries {
        let (Some(rel), Some(want)) = (
            entry.pointer(&rule.path).and_then(Value::as_str),
            entry.pointer(&rule.sha256).and_then(Value::as_str),
        ) else {
            continue;
        };
        let want = want
            .strip_prefix("sha256:")
            .unwrap_or(want)
            .to_ascii_lowercase();
        let path = state_dir.join(rel);
        let pointer = format!("{at}{}", rule.sha256);
        let position = locate::locate(source, &pointer);
        match std::fs::read(&path) {
            Err(e) => out.push(
                Finding::new(
                    codes::ARTIFACT_MISSING,
                    &source.path,
                    format!("{at}{}", rule.path),
                    format!("artifact `{rel}` cannot be read: {e}"),
                )
                .at(locate::locate(source, &format!("{at}{}", rule.path))),
            ),
            Ok(bytes) => {
                let got = hex(&Sha256::digest(&bytes));
                if got != want {
                    out.push(
                        Finding::new(
                            codes::ARTIFACT_HASH,
                            &source.path,
                            pointer,
                            format!(
                                "artifact `{rel}` has sha256 {got}, but the entry records {want}"
                            ),
                        )
                        .at(position),
                    );
                }
            }
        }
    }
    out
}

/// Lower-case hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
