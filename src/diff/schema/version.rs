//! The version bump between two versions of one catalog kind: the
//! `const`/`enum` at the kind's version field going from A's version
//! number to B's is what every new version does, so it is reported as
//! `SD121` (informational) instead of `SD115` (values replaced, breaking).

use serde_json::Value;
use statewright_spec::catalog::version_of;
use statewright_spec::pointer::tokens;

use super::{Change, Severity};
use crate::diff::coverage::{Need, document_paths_of, locations};

/// The rule code of an expected version bump.
pub const VERSION_BUMP: &str = "SD121";

/// The kind's version field and the versions schemas A and B describe,
/// set with [`SchemaDiffOptions::with_version_field`](super::SchemaDiffOptions::with_version_field).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VersionField {
    /// Where documents of the kind keep their version (`/schema_version`).
    pub pointer: String,
    /// The version schema A describes.
    pub a: u32,
    /// The version schema B describes.
    pub b: u32,
}

/// Turns the values change at the version field into a version bump when
/// A allows exactly version `a` there and B exactly version `b`. Any other
/// change at the field (a type change, the field removed, other values)
/// is left as it is.
pub(super) fn mark(changes: &mut [Change], a: &Value, b: &Value, field: &VersionField) {
    if field.a == field.b {
        return;
    }
    let (la, lb) = (locations(a), locations(b));
    let version = tokens(&field.pointer);
    for c in changes.iter_mut().filter(|c| c.rule == "SD115") {
        let paths = document_paths_of(c, Need::Rewrite, &la, &lb);
        if paths.is_empty() || paths.iter().any(|p| p != &version) {
            continue;
        }
        if allows_only(a, c.pointer_a.as_deref(), field.a)
            && allows_only(b, c.pointer_b.as_deref(), field.b)
        {
            c.rule = VERSION_BUMP;
            c.severity = Severity::Info;
            c.message = format!(
                "version bump {} → {} at {}, expected",
                field.a, field.b, field.pointer
            );
        }
    }
}

/// The `const` or `enum` at `pointer` in `root` admits only `version`.
fn allows_only(root: &Value, pointer: Option<&str>, version: u32) -> bool {
    let Some(p) = pointer.filter(|p| !p.contains('#')) else {
        return false;
    };
    let values: Vec<&Value> = match (p.rsplit('/').next(), root.pointer(p)) {
        (Some("const"), Some(v)) => vec![v],
        (Some("enum"), Some(Value::Array(vs))) => vs.iter().collect(),
        _ => return false,
    };
    !values.is_empty() && values.iter().all(|v| version_of(v, "") == Ok(version))
}

#[cfg(test)]
mod tests {
    use serde_json::{Value, json};

    use crate::diff::{SchemaDiffOptions, diff_schemas};

    fn schema(version: Value, extra: Value) -> Value {
        let mut s = json!({
            "type": "object",
            "properties": {"v": version, "n": {"type": "integer"}},
            "required": ["v"]
        });
        s["properties"]
            .as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        s
    }

    fn rules(a: &Value, b: &Value, (va, vb): (u32, u32)) -> Vec<(&'static str, String)> {
        let opts = SchemaDiffOptions::new().with_version_field("/v", va, vb);
        let d = diff_schemas(a, b, &opts).unwrap();
        d.changes
            .iter()
            .map(|c| (c.rule, format!("{:?}", c.severity)))
            .collect()
    }

    #[test]
    fn const_and_enum_bumps_are_expected() {
        let a = schema(json!({"type": "integer", "const": 1}), json!({}));
        let b = schema(json!({"type": "integer", "const": 2}), json!({}));
        assert_eq!(rules(&a, &b, (1, 2)), [("SD121", "Info".into())]);
        let opts = SchemaDiffOptions::new().with_version_field("/v", 1, 2);
        let d = diff_schemas(&a, &b, &opts).unwrap();
        assert!(d.backward && d.forward, "{d:#?}");
        assert!(!d.changes[0].backward_compatible);
        let e = schema(json!({"enum": ["2.0"]}), json!({}));
        assert_eq!(rules(&a, &e, (1, 2))[1], ("SD121", "Info".into()));
    }

    #[test]
    fn other_changes_at_the_version_field_stay() {
        let a = schema(json!({"type": "integer", "const": 1}), json!({}));
        // Not A's and B's numbers.
        let b = schema(json!({"type": "integer", "const": 3}), json!({}));
        assert_eq!(rules(&a, &b, (1, 2)), [("SD115", "Breaking".into())]);
        // Without the option: a plain values change.
        let c = schema(json!({"type": "integer", "const": 2}), json!({}));
        let d = diff_schemas(&a, &c, &SchemaDiffOptions::new()).unwrap();
        assert_eq!(d.changes[0].rule, "SD115");
        // A type change next to the bump is still breaking.
        let s = schema(json!({"type": "string", "const": "2"}), json!({}));
        assert!(rules(&a, &s, (1, 2)).contains(&("SD103", "Breaking".into())));
        // Another property with the same values change is not the version.
        let x = schema(json!({"const": 1}), json!({"m": {"const": 1}}));
        let y = schema(json!({"const": 2}), json!({"m": {"const": 2}}));
        assert_eq!(
            rules(&x, &y, (1, 2)),
            [("SD121", "Info".into()), ("SD115", "Breaking".into())]
        );
    }
}
