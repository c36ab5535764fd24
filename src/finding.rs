//! Findings: what validation and checks report about documents.
//!
//! An invalid document is not an error of the program: it is a report made
//! of findings, each naming the file, the place (line:col and JSON
//! pointer), the schema location and keyword, and the remedy.

use std::path::PathBuf;

use serde::Serialize;
use statewright_spec::Position;

use crate::codes::{Code, Severity};

/// One thing found wrong (or worth knowing) about a document.
#[derive(Debug, Clone, Serialize)]
pub struct Finding {
    /// Stable code (`SW010`).
    pub code: &'static str,
    /// How serious it is.
    pub severity: Severity,
    /// The document.
    pub file: PathBuf,
    /// Where in the text, when known.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub position: Option<Position>,
    /// JSON pointer into the document (`""` is the whole document).
    pub pointer: String,
    /// Where in the schema the failing keyword is (`/properties/env/type`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_location: Option<String>,
    /// The schema file, when the finding comes from a schema.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema_file: Option<PathBuf>,
    /// The schema keyword that failed (`type`, `required`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub keyword: Option<String>,
    /// What is wrong.
    pub message: String,
    /// What to do about it.
    pub remedy: String,
}

impl Finding {
    /// A finding with the code's default severity and remedy.
    pub fn new(
        code: Code,
        file: impl Into<PathBuf>,
        pointer: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        Finding {
            code: code.id,
            severity: code.severity,
            file: file.into(),
            position: None,
            pointer: pointer.into(),
            schema_location: None,
            schema_file: None,
            keyword: None,
            message: message.into(),
            remedy: code.remedy.to_owned(),
        }
    }

    /// Sets the text position.
    pub fn at(mut self, position: Option<Position>) -> Self {
        self.position = position;
        self
    }

    /// Replaces the remedy with a more specific one.
    pub fn remedy(mut self, remedy: impl Into<String>) -> Self {
        self.remedy = remedy.into();
        self
    }
}

/// What was found in one document.
#[derive(Debug, Clone, Serialize)]
pub struct DocumentReport {
    /// The document.
    pub file: PathBuf,
    /// Its kind, when one was found.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub kind: Option<String>,
    /// Its schema version, when it could be read.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub version: Option<u32>,
    /// The schema file it was checked against.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub schema: Option<PathBuf>,
    /// Everything found, in document order.
    pub findings: Vec<Finding>,
}

impl DocumentReport {
    /// Whether any finding is an error.
    pub fn has_errors(&self) -> bool {
        self.findings.iter().any(|f| f.severity == Severity::Error)
    }
}
