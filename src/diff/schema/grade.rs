//! Severities from verdicts: which direction counts is the project's
//! compatibility mode (as schema registries name them), and a suspected
//! break is `breaking` only when a witness document shows it.

use serde::Serialize;
use serde_json::Value;

use super::rules::rule_info;
use super::{Change, Severity};

/// Which direction a schema change must keep, as schema registries name
/// them.
///
/// - `Backward`: the new schema (B) reads every document written under
///   the old one (A). The default for state documents, which newer
///   readers read after a migration.
/// - `Forward`: the old schema reads every document written under the new
///   one (readers upgrade after writers).
/// - `Full`: both.
/// - `None`: no direction is checked; every change is informational.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Compatibility {
    /// B reads A's documents.
    #[default]
    Backward,
    /// A reads B's documents.
    Forward,
    /// Both.
    Full,
    /// Neither is checked.
    None,
}

impl Compatibility {
    /// The mode named `s` (`backward`, `forward`, `full`, `none`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "backward" => Some(Self::Backward),
            "forward" => Some(Self::Forward),
            "full" => Some(Self::Full),
            "none" => Some(Self::None),
            _ => None,
        }
    }

    /// Whether the mode checks `direction`.
    pub fn checks(self, direction: Direction) -> bool {
        matches!(
            (self, direction),
            (Self::Full, _)
                | (Self::Backward, Direction::Backward)
                | (Self::Forward, Direction::Forward)
        )
    }

    /// The mode's name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Backward => "backward",
            Self::Forward => "forward",
            Self::Full => "full",
            Self::None => "none",
        }
    }
}

/// A direction of compatibility.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Direction {
    /// Documents valid under A must stay valid under B.
    Backward,
    /// Documents valid under B must have been valid under A.
    Forward,
}

/// A document valid under one schema and rejected by the other, as the
/// validator (the one `statewright validate` uses) decides.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Witness {
    /// `backward`: valid under A, rejected by B. `forward`: valid under
    /// B, rejected by A.
    pub direction: Direction,
    /// The document.
    pub instance: Value,
    /// Where in the document the rejecting schema fails (JSON pointer).
    pub instance_path: String,
    /// The failing keyword in the rejecting schema (JSON pointer).
    pub schema_path: String,
    /// The validator's message.
    pub error: String,
}

impl Witness {
    /// The schema that accepts the document (`A` or `B`).
    pub fn accepted_by(&self) -> &'static str {
        match self.direction {
            Direction::Backward => "A",
            Direction::Forward => "B",
        }
    }

    /// The schema that rejects it.
    pub fn rejected_by(&self) -> &'static str {
        match self.direction {
            Direction::Backward => "B",
            Direction::Forward => "A",
        }
    }

    /// One line for people: the document (shortened) and why it is
    /// rejected.
    pub fn line(&self) -> String {
        let mut doc = self.instance.to_string();
        if doc.chars().count() > 120 {
            doc = format!("{}…", doc.chars().take(120).collect::<String>());
        }
        let at = if self.instance_path.is_empty() {
            "(root)"
        } else {
            &self.instance_path
        };
        format!(
            "{doc} is valid under {} and rejected by {} at {at}: {}",
            self.accepted_by(),
            self.rejected_by(),
            self.error
        )
    }
}

/// Sets each change's severity for `mode`: a change that breaks a checked
/// direction is `breaking` with a witness, `warning` (possibly breaking)
/// when the search reached documents valid under the accepting schema
/// (`reached`, per direction) yet none refutes it, and stays `breaking`
/// when the search never reached a valid document (no evidence either
/// way: the rules' verdict stands); any other change keeps its rule's
/// compatible severity.
pub(crate) fn grade(change: &mut Change, mode: Compatibility, reached: [bool; 2]) {
    if change.is_version_bump() {
        return;
    }
    let Some(info) = rule_info(change.rule) else {
        return;
    };
    let breaks = |d: Direction| {
        mode.checks(d)
            && match d {
                Direction::Backward => !change.backward_compatible,
                Direction::Forward => !change.forward_compatible,
            }
    };
    let (bw, fw) = (breaks(Direction::Backward), breaks(Direction::Forward));
    change.possibly_breaking = false;
    change.severity = if !bw && !fw {
        info.compatible
    } else if info.incompatible < Severity::Breaking {
        info.incompatible
    } else if change.witness.as_ref().is_some_and(|w| breaks(w.direction))
        || (bw && !reached[0])
        || (fw && !reached[1])
    {
        Severity::Breaking
    } else {
        change.possibly_breaking = true;
        Severity::Warning
    };
}
