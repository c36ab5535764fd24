//! Verdicts users bet a release on: no unsafe "compatible", witnesses
//! for breaking changes, severities that follow the compatibility mode
//! and the `format` assertion setting of validation.

use serde_json::{Value, json};
use statewright::diff::{
    Compatibility, Direction, SchemaDiff, SchemaDiffOptions, Severity, diff_schemas,
};

fn diff(a: &Value, b: &Value) -> SchemaDiff {
    diff_schemas(a, b, &SchemaDiffOptions::new()).expect("diff")
}

fn valid(schema: &Value, doc: &Value) -> bool {
    jsonschema::validator_for(schema)
        .expect("schema")
        .is_valid(doc)
}

#[test]
fn removed_pattern_overlapping_a_kept_one_is_not_writer_compatible() {
    // `x` matches both patterns; A also required an integer for it.
    let a = json!({"type": "object",
        "patternProperties": {"^x": {"type": "string"}, "x$": {"type": "integer"}}});
    let b = json!({"type": "object", "patternProperties": {"^x": {"type": "string"}}});
    let doc = json!({"x": "a"});
    assert!(valid(&b, &doc) && !valid(&a, &doc));
    let d = diff(&a, &b);
    assert!(
        !d.forward,
        "writers must not be compatible: {:#?}",
        d.changes
    );
    let w = d.forward_witness.as_ref().expect("a forward witness");
    assert!(valid(&b, &w.instance) && !valid(&a, &w.instance));
    // Readers are fine: every name A accepts B accepts with a wider schema.
    assert!(d.backward, "{:#?}", d.changes);
}

#[test]
fn disjoint_patterns_are_compared_exactly() {
    let a = json!({"type": "object",
        "patternProperties": {"^S_": {"type": "string"}, "^I_": {"type": "integer"}},
        "additionalProperties": false});
    let b = json!({"type": "object",
        "patternProperties": {"^S_": {"type": "string"}},
        "additionalProperties": false});
    let d = diff(&a, &b);
    assert_eq!((d.backward, d.forward), (false, true), "{:#?}", d.changes);
    let w = d.backward_witness.as_ref().expect("witness");
    assert!(valid(&a, &w.instance) && !valid(&b, &w.instance));
}

#[test]
fn a_breaking_change_shows_its_witness() {
    let a = json!({"type": "object", "properties": {"name": {"type": "string"}}});
    let b = json!({"type": "object", "properties": {"name": {"type": "string", "maxLength": 3}}});
    let d = diff(&a, &b);
    let c = &d.changes[0];
    assert_eq!((c.rule, c.severity), ("SD401", Severity::Breaking));
    let w = c.witness.as_ref().expect("witness");
    assert_eq!(w.direction, Direction::Backward);
    assert!(valid(&a, &w.instance) && !valid(&b, &w.instance), "{w:?}");
    assert_eq!(w.instance_path, "/name");
}

#[test]
fn widenings_are_not_breaking_in_backward_mode() {
    let a = json!({"enum": ["a", "b"]});
    let b = json!({"enum": ["a", "b", "c"]});
    let d = diff(&a, &b);
    assert_eq!(d.changes[0].severity, Severity::Info, "{:#?}", d.changes);
    let a = json!({"type": "string", "maxLength": 5});
    let b = json!({"type": "string", "maxLength": 10});
    assert_eq!(diff(&a, &b).worst(), Some(Severity::Info));
    // In forward mode the same widening breaks old readers, with a witness.
    let opts = SchemaDiffOptions::new().with_compatibility(Compatibility::Forward);
    let d = diff_schemas(&a, &b, &opts).expect("diff");
    assert_eq!(d.changes[0].severity, Severity::Breaking);
    let w = d.changes[0].witness.as_ref().expect("witness");
    assert_eq!(w.direction, Direction::Forward);
    assert!(valid(&b, &w.instance) && !valid(&a, &w.instance));
    // Full checks both.
    let opts = SchemaDiffOptions::new().with_compatibility(Compatibility::Full);
    let d = diff_schemas(&a, &b, &opts).expect("diff");
    assert_eq!(d.worst(), Some(Severity::Breaking));
}

#[test]
fn format_follows_the_validation_setting() {
    // 2020-12 (and no $schema): `format` is an annotation, as in validate.
    let a = json!({"type": "string", "format": "date"});
    let b = json!({"type": "string", "format": "email"});
    let d = diff(&a, &b);
    assert_eq!(
        (d.backward, d.forward, d.worst()),
        (true, true, Some(Severity::Info)),
        "{:#?}",
        d.changes
    );
    // Asserted (validate --formats): breaking, with a witness.
    let opts = SchemaDiffOptions::new().with_formats(Some(true));
    let d = diff_schemas(&a, &b, &opts).expect("diff");
    assert_eq!((d.backward, d.worst()), (false, Some(Severity::Breaking)));
    assert!(d.changes[0].witness.is_some());
    // draft-07 asserts by default.
    let a7 = json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "string", "format": "date"});
    let b7 = json!({"$schema": "http://json-schema.org/draft-07/schema#", "type": "string", "format": "email"});
    assert!(!diff(&a7, &b7).backward);
}

#[test]
fn an_unconfirmed_suspicion_is_possibly_breaking_not_silent() {
    // Two patterns the rules do not compare; the witness search may or
    // may not find a string: either way the verdict is never "compatible".
    let a = json!({"type": "string", "pattern": "^[a-z]{3}$"});
    let b = json!({"type": "string", "pattern": "^[a-z]{2,4}$"});
    let d = diff(&a, &b);
    assert!(!d.backward);
    let c = &d.changes[0];
    assert!(
        c.severity == Severity::Breaking && c.witness.is_some()
            || c.severity == Severity::Warning && c.possibly_breaking,
        "{c:?}"
    );
}

#[test]
fn property_excluded_by_property_names_is_not_said_to_fall_back() {
    let names = json!({"pattern": "^[a-z]+$"});
    let a = json!({"type": "object", "propertyNames": names,
        "properties": {"a": {"type": "string"}, "B1": {"type": "string"}}});
    let b = json!({"type": "object", "propertyNames": names,
        "properties": {"a": {"type": "string"}}});
    let d = diff(&a, &b);
    assert_eq!((d.backward, d.forward), (true, true), "{:#?}", d.changes);
    let c = &d.changes[0];
    assert!(c.message.contains("propertyNames"), "{}", c.message);
    assert!(!c.message.contains("additionalProperties"), "{}", c.message);
}

#[test]
fn keyword_interactions_raise_no_false_alarm() {
    // enum [0, 1] with minimum 1 is just {1}.
    let a = json!({"enum": [0, 1], "minimum": 1});
    let b = json!({"const": 1});
    assert_eq!(diff(&a, &b).compatibility(), "both");
    // A removed bound that the const already meets.
    let a = json!({"const": 3, "maximum": 5});
    let b = json!({"const": 3});
    assert_eq!(diff(&a, &b).compatibility(), "both");
    // integer 4..4 and number 4..4 are both {4}.
    let a = json!({"type": "integer", "minimum": 4, "maximum": 4});
    let b = json!({"type": "number", "minimum": 4, "maximum": 4});
    assert_eq!(diff(&a, &b).compatibility(), "both");
    // maxProperties raised on a closed object with one property.
    let a = json!({"type": "object", "properties": {"a": {}}, "additionalProperties": false, "maxProperties": 1});
    let b = json!({"type": "object", "properties": {"a": {}}, "additionalProperties": false, "maxProperties": 3});
    assert_eq!(diff(&a, &b).compatibility(), "both");
    // `contains` added where the first item A requires already matches it.
    let a = json!({"type": "array", "prefixItems": [{"const": "head"}], "minItems": 1});
    let b = json!({"type": "array", "prefixItems": [{"const": "head"}], "minItems": 1,
        "contains": {"type": "string"}});
    assert_eq!(
        diff(&a, &b).compatibility(),
        "both",
        "{:#?}",
        diff(&a, &b).changes
    );
    // Without a required first item it is a real break, with a witness.
    let a = json!({"type": "array", "prefixItems": [{"const": "head"}]});
    let d = diff(&a, &b);
    assert!(!d.backward, "{:#?}", d.changes);
    // `oneOf` branches told apart by a discriminator partition A's records.
    let rec = |k: &str| {
        json!({"type": "object", "required": ["kind"],
        "properties": {"kind": {"const": k}, "n": {"type": "integer"}}})
    };
    let a = json!({"type": "object", "required": ["kind"],
        "properties": {"kind": {"enum": ["a", "b"]}, "n": {"type": "integer"}}});
    let b = json!({"oneOf": [rec("a"), rec("b")]});
    assert!(diff(&a, &b).backward, "{:#?}", diff(&a, &b).changes);
    // Finite branches that share nothing.
    let a = json!({"enum": [1, 2, 3]});
    let b = json!({"oneOf": [{"enum": [1, 2]}, {"const": 3}]});
    assert!(diff(&a, &b).backward, "{:#?}", diff(&a, &b).changes);
    // Overlapping branches stay a break: 2 matches both.
    let b = json!({"oneOf": [{"enum": [1, 2]}, {"enum": [2, 3]}]});
    assert!(!diff(&a, &b).backward, "{:#?}", diff(&a, &b).changes);
    // An added `not` that excludes nothing A allowed.
    let a = json!({"type": "string"});
    let b = json!({"type": "string", "not": {"type": "number"}});
    assert_eq!(diff(&a, &b).compatibility(), "both");
}

#[test]
fn a_wider_contains_under_max_contains_is_not_compatible() {
    // Found by the oracle (seed 7077): [1, 2] has one item equal to 1 but
    // two items matching `{}`.
    let a = json!({"contains": {"const": 1}, "maxContains": 1});
    let b = json!({"contains": {}, "maxContains": 1});
    let d = diff(&a, &b);
    assert!(!d.backward, "{:#?}", d.changes);
    assert!(
        d.changes.iter().any(|c| c.rule == "SD525"),
        "{:#?}",
        d.changes
    );
    let w = d.backward_witness.as_ref().expect("a witness");
    assert!(valid(&a, &w.instance) && !valid(&b, &w.instance));
    // Without the cap a wider `contains` only helps old arrays.
    let d = diff(&json!({"contains": {"const": 1}}), &json!({"contains": {}}));
    assert!(d.backward, "{:#?}", d.changes);
}

#[test]
fn a_oneof_partition_holds_for_a_root_schema_with_a_dialect() {
    let d = "https://json-schema.org/draft/2020-12/schema";
    let rec = |k: &str| json!({"type": "object", "required": ["kind"], "properties": {"kind": {"const": k}}});
    let a = json!({"$schema": d, "type": "object", "required": ["kind"],
        "properties": {"kind": {"enum": ["a", "b"]}}});
    let b = json!({"$schema": d, "oneOf": [rec("a"), rec("b")]});
    assert!(diff(&a, &b).backward, "{:#?}", diff(&a, &b).changes);
    let c = json!({"$schema": d, "oneOf": [rec("a"), rec("c")]});
    let d = diff(&a, &c);
    assert!(!d.backward, "kind b matches no branch: {:#?}", d.changes);
}
