//! Witnesses: documents valid under one schema and rejected by the other,
//! found among generated candidates and checked with the validator that
//! `statewright validate` uses. Each is attached to the changes whose
//! keyword the rejecting schema reports.

use std::collections::HashMap;

use serde_json::Value;

use super::generate::{Sources, candidates_in};
use super::grade::{Direction, Witness};
use super::{Change, SchemaDiffOptions};

/// Witnesses kept per direction for attribution.
const KEEP: usize = 512;

/// Both schemas compiled as validation compiles them.
pub(crate) struct Judge {
    a: jsonschema::Validator,
    b: jsonschema::Validator,
}

impl Judge {
    /// Compiles A and B; `None` when either does not compile (no
    /// witness can then be checked, and suspected breaks stay possible).
    pub fn new(a: &Value, b: &Value, opts: &SchemaDiffOptions) -> Option<Judge> {
        let build = |v: &Value, base: &Option<String>| {
            let registry = opts.registry.clone().unwrap_or_default();
            let mut o = jsonschema::options().with_retriever(registry);
            if let Some(f) = opts.validate_formats {
                o = o.should_validate_formats(f);
            }
            if let Some(base) = base {
                o = o.with_base_uri(base.clone());
            }
            o.build(v).ok()
        };
        Some(Judge {
            a: build(a, &opts.base_a)?,
            b: build(b, &opts.base_b)?,
        })
    }

    /// `(valid under A, valid under B)`.
    pub fn verdicts(&self, instance: &Value) -> (bool, bool) {
        (self.a.is_valid(instance), self.b.is_valid(instance))
    }

    /// The witness `instance` is for `direction`, with every keyword
    /// location the rejecting schema reports.
    fn explain(&self, instance: &Value, direction: Direction) -> Vec<Witness> {
        let rejecting = match direction {
            Direction::Backward => &self.b,
            Direction::Forward => &self.a,
        };
        rejecting
            .iter_errors(instance)
            .map(|e| Witness {
                direction,
                instance: instance.clone(),
                instance_path: e.instance_path().as_str().to_owned(),
                schema_path: e.schema_path().as_str().to_owned(),
                error: e.to_string(),
            })
            .collect()
    }
}

/// Witnesses found among the candidates for `a` and `b`, per direction:
/// for each keyword location the rejecting schema reports, the witness
/// that fails the fewest keywords (the clearest), those first.
///
/// Also says, per direction, whether any candidate was valid under the
/// accepting schema (`false`: the search never reached a valid document,
/// so it is no evidence either way).
pub(crate) fn search(
    judge: &Judge,
    a: &Value,
    b: &Value,
    sources: &Sources,
) -> ([Vec<Witness>; 2], [bool; 2]) {
    let mut best: [HashMap<String, (usize, Witness)>; 2] = [HashMap::new(), HashMap::new()];
    let mut reached = [false, false];
    for c in candidates_in(a, b, sources) {
        let (in_a, in_b) = judge.verdicts(&c);
        reached[0] |= in_a;
        reached[1] |= in_b;
        let direction = match (in_a, in_b) {
            (true, false) => Direction::Backward,
            (false, true) => Direction::Forward,
            _ => continue,
        };
        let errors = judge.explain(&c, direction);
        let n = errors.len();
        let slot = &mut best[direction as usize];
        for w in errors {
            let better = slot.get(&w.schema_path).is_none_or(|(m, _)| n < *m);
            if better && (slot.len() < KEEP || slot.contains_key(&w.schema_path)) {
                slot.insert(w.schema_path.clone(), (n, w));
            }
        }
    }
    let found = best.map(|m| {
        let mut v: Vec<(usize, Witness)> = m.into_values().collect();
        v.sort_by(|x, y| {
            x.0.cmp(&y.0)
                .then_with(|| x.1.schema_path.cmp(&y.1.schema_path))
        });
        v.into_iter().map(|(_, w)| w).collect()
    });
    (found, reached)
}

/// Attaches a witness to each change that claims the witness's direction
/// breaks and whose keyword the rejecting schema reports.
pub(crate) fn attribute(changes: &mut [Change], found: &[Vec<Witness>; 2]) {
    for c in changes.iter_mut() {
        for (direction, claims) in [
            (Direction::Backward, !c.backward_compatible),
            (Direction::Forward, !c.forward_compatible),
        ] {
            if !claims || c.witness.is_some() {
                continue;
            }
            let at = match direction {
                Direction::Backward => c.pointer_b.as_ref().or(c.pointer_a.as_ref()),
                Direction::Forward => c.pointer_a.as_ref().or(c.pointer_b.as_ref()),
            };
            let Some(at) = at.filter(|p| !p.contains('#')) else {
                continue;
            };
            c.witness = found[direction as usize]
                .iter()
                .find(|w| related(&w.schema_path, at))
                .cloned();
        }
    }
}

/// One pointer is the other or lies under it, token-wise.
fn related(x: &str, y: &str) -> bool {
    let under = |p: &str, q: &str| {
        p.strip_prefix(q)
            .is_some_and(|rest| rest.is_empty() || rest.starts_with('/'))
    };
    under(x, y) || under(y, x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_relate_by_token() {
        assert!(related("/properties/a/maxLength", "/properties/a"));
        assert!(related("/properties/a", "/properties/a/maxLength"));
        assert!(!related("/properties/ab", "/properties/a"));
    }
}
