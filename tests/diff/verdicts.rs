
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
    // An added `not` that excludes nothing A allowed.
    let a = json!({"type": "string"});
    let b = json!({"type": "string", "not": {"type": "number"}});
    assert_eq!(diff(&a, &b).compatibility(), "both");
}
