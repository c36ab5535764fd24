//! The Apicurio Registry JSON Schema compatibility cases as an oracle.
//!
//! Apicurio's executor runs a BACKWARD and a FORWARD check on every
//! enabled case and expects: `backward` → backward and *not* forward;
//! `both` → both; `none` → neither. We score the same way.

use serde_json::Value;
use statewright::diff::{SchemaDiffOptions, diff_schemas};

use super::util::{corpus, read_json};

/// Cases where statewright's verdict differs from Apicurio's, with why.
/// Like jsonschema's suite xfail list: a case listed here that starts to
/// agree fails the test, so the list stays honest.
const XFAIL: &[(&str, &str)] = &[
    (
        "Const",
        "Apicurio says none; both directions hold vacuously: A is `type: string` with an array `const`, \
         which no value meets, and B (the same with another array) admits nothing either. statewright \
         checks the finite value sets with the validator and says both.",
    ),
    (
        "Complex: oneOf 1",
        "Apicurio says backward; it is not: under A = oneOf[string, maxLength 5] the string \"abcdefg\" \
         matches only the first branch and is valid, under B = oneOf[string, maxLength 10] it matches \
         both and is rejected. statewright says not compatible (SD605).",
    ),
    (
        "Complex: oneOf 3",
        "Apicurio says backward; it is not: \"abc\" is valid under oneOf[string] but matches both \
         branches of oneOf[string, maxLength 5] and is rejected. statewright says not compatible (SD605).",
    ),
];

fn expected(c: &str) -> (bool, bool) {
    match c {
        "backward" => (true, false),
        "forward" => (false, true),
        "both" => (true, true),
        "none" => (false, false),
        other => panic!("unknown compatibility value {other:?}"),
    }
}

#[test]
fn apicurio_agreement() {
    let data = read_json(&corpus().join("apicurio-compat/compatibility-test-data.json"));
    let cases = data["tests"].as_array().expect("tests array");
    let (mut enabled, mut agree) = (0usize, 0usize);
    let mut unexpected = Vec::new();
    let mut disagreed = std::collections::HashSet::new();
    for case in cases {
        if case["enabled"] != Value::Bool(true) {
            continue;
        }
        enabled += 1;
        let id = case["id"].as_str().expect("id");
        let want = expected(case["compatibility"].as_str().expect("compatibility"));
        let d = diff_schemas(
            &case["original"],
            &case["updated"],
            &SchemaDiffOptions::new(),
        )
        .unwrap_or_else(|e| panic!("{id}: {e}"));
        let got = (d.backward, d.forward);
        let listed = XFAIL.iter().any(|(x, _)| *x == id);
        if got == want {
            agree += 1;
        } else if listed {
            // Ids repeat (three cases are named "Const"): a listed id is
            // honest when at least one of its cases disagrees.
            disagreed.insert(id.to_owned());
        } else {
            let changes: Vec<String> = d
                .changes
                .iter()
                .map(|c| {
                    format!(
                        "    {} {:?} {:?} b={} f={} {}",
                        c.rule,
                        c.pointer_a,
                        c.pointer_b,
                        c.backward_compatible,
                        c.forward_compatible,
                        c.message
                    )
                })
                .collect();
            unexpected.push(format!(
                "  {id}: want {want:?}, got {got:?}\n{}",
                changes.join("\n")
            ));
        }
    }
    let xpassed: Vec<&str> = XFAIL
        .iter()
        .map(|(id, _)| *id)
        .filter(|id| !disagreed.contains(*id))
        .collect();
    let pct = 100.0 * agree as f64 / enabled as f64;
    println!("apicurio: {agree}/{enabled} enabled cases agree ({pct:.1}%)");
    for (id, why) in XFAIL {
        println!("  xfail {id}: {why}");
    }
    assert!(
        unexpected.is_empty(),
        "disagreements not in XFAIL:\n{}",
        unexpected.join("\n")
    );
    assert!(
        xpassed.is_empty(),
        "XFAIL cases that now agree (remove them): {xpassed:?}"
    );
    assert!(pct >= 95.0, "agreement {pct:.1}% is below 95%");
}

/// A soundness check with a real validator: wherever statewright claims a
/// direction is compatible, no value from a small pool is valid under the
/// one schema and invalid under the other.
#[test]
fn claimed_compatibility_has_no_counterexample() {
    let pool: Vec<Value> = serde_json::from_str(
        r#"[null, true, false, 0, 1, 5, 6, 7, 10, 12, 20, 42, 100, 150, 2.5, -1,
            "", "a", "abc", "abcdefg", "abcdefghijkl", "ABC", "2020-01-01", "2020-01-01T00:00:00Z",
            [], [1], ["a"], ["a", 1], ["a", 1, true], ["a", true], ["a", "b"], ["a", "a"], [1, 2, 3], [12, "x"],
            {}, {"street": "x"}, {"street": "abcdefghijkl"}, {"postal_code": 1}, {"postal_code": "x"},
            {"country": "x"}, {"foo": "x", "bar": 1}, {"foo": "x", "bar": 100}, {"foo": "x", "baz": "y"},
            {"name": "n", "street": "s"}, {"name": "n", "address": "a"}, {"S_x": 1}, {"I_x": "s"},
            {"case": "lower", "data": "ABC"}, {"case": "upper", "data": "abc"},
            {"home": {"street": "abc"}}, {"home": {}}]"#,
    )
    .expect("pool");
    let data = read_json(&corpus().join("apicurio-compat/compatibility-test-data.json"));
    let mut checked = 0;
    for case in data["tests"].as_array().expect("tests") {
        let id = case["id"].as_str().expect("id");
        let (a, b) = (&case["original"], &case["updated"]);
        let (Ok(va), Ok(vb)) = (jsonschema::validator_for(a), jsonschema::validator_for(b)) else {
            continue;
        };
        let d = diff_schemas(a, b, &SchemaDiffOptions::new()).expect("diff");
        for v in &pool {
            let (in_a, in_b) = (va.is_valid(v), vb.is_valid(v));
            assert!(
                !(d.backward && in_a && !in_b),
                "{id}: claims backward, but {v} is valid under A only"
            );
            assert!(
                !(d.forward && in_b && !in_a),
                "{id}: claims forward, but {v} is valid under B only"
            );
        }
        if XFAIL.iter().any(|(x, _)| *x == id) && case["compatibility"] == "backward" && !d.backward
        {
            // Each disagreement is backed by a value that refutes Apicurio.
            let refuted = pool.iter().any(|v| va.is_valid(v) && !vb.is_valid(v));
            assert!(
                refuted,
                "{id}: no value in the pool refutes Apicurio's `backward`"
            );
        }
        checked += 1;
    }
    assert!(
        checked > 130,
        "only {checked} cases had schemas the validator accepts"
    );
}
