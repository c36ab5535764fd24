//! The diff rules: one small function per concern, all with the same
//! signature, run in order by [`run`]; every code they emit is registered
//! once in [`RULES`].

mod annotations;
mod array;
mod combinators;
mod conditional;
mod numeric;
mod object;
mod string;
mod trivial;
mod typing;

use serde::Serialize;

use super::Severity;
use super::context::{Cx, Verdict};
use super::node::Node;
use crate::diff::DiffError;

/// The signature every rule has.
type Rule = fn(&mut Cx, &Node, &Node) -> Result<(), DiffError>;

/// The rules, in the order their changes are listed.
const DISPATCH: &[Rule] = &[
    typing::type_keyword,
    typing::values,
    numeric::bounds,
    numeric::multiple_of,
    string::length,
    string::pattern,
    string::format,
    string::content,
    object::properties,
    object::additional_properties,
    object::pattern_properties,
    object::property_names,
    object::required,
    object::property_count,
    object::dependent_required,
    object::dependent_schemas,
    array::items,
    array::item_count,
    array::unique_items,
    array::contains,
    combinators::all_of,
    combinators::any_of,
    combinators::one_of,
    combinators::not,
    conditional::if_then_else,
    annotations::uncompared,
    annotations::annotations,
];

/// Runs every rule on a pair of nodes. A side that accepts everything or
/// nothing is one change, not one per keyword.
pub(crate) fn run(cx: &mut Cx, a: &Node, b: &Node) -> Result<(), DiffError> {
    if a.is_true() || a.is_false() || b.is_true() || b.is_false() {
        return trivial::trivial(cx, a, b);
    }
    for rule in DISPATCH {
        rule(cx, a, b)?;
    }
    Ok(())
}

/// A registered rule code.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RuleInfo {
    /// Stable code: `SD` and three digits.
    pub code: &'static str,
    /// Short title.
    pub title: &'static str,
    /// What the change means for documents.
    pub description: &'static str,
    /// Severity when the change keeps both directions compatible.
    pub compatible: Severity,
    /// Severity when it breaks a direction.
    pub incompatible: Severity,
}

const fn rule(code: &'static str, title: &'static str, description: &'static str) -> RuleInfo {
    RuleInfo {
        code,
        title,
        description,
        compatible: Severity::Info,
        incompatible: Severity::Breaking,
    }
}

const fn warn(mut r: RuleInfo) -> RuleInfo {
    r.compatible = Severity::Warning;
    r.incompatible = Severity::Warning;
    r
}

/// Every rule code, once. Codes are stable: never renumber, only add.
pub const RULES: &[RuleInfo] = &[
    rule(
        "SD001",
        "schema no longer rejects everything",
        "A was `false` (or `not: {}`); B accepts some documents, so B admits documents A rejected.",
    ),
    rule(
        "SD002",
        "schema now rejects everything",
        "B is `false` (or `not: {}`): every document A accepted is now rejected.",
    ),
    rule(
        "SD003",
        "all constraints removed",
        "B accepts any value here (`true` or only annotations), A constrained it.",
    ),
    rule(
        "SD004",
        "constraints added where anything was accepted",
        "A accepted any value here; B constrains it.",
    ),
    rule(
        "SD101",
        "type widened",
        "B's `type` admits every type A admitted, and more.",
    ),
    rule(
        "SD102",
        "type narrowed",
        "B's `type` admits fewer types than A's.",
    ),
    rule(
        "SD103",
        "type changed",
        "Each of A and B admits a type the other rejects.",
    ),
    rule(
        "SD104",
        "type written differently",
        "The `type` keyword changed but admits the same types (given `enum`/`const`).",
    ),
    rule(
        "SD111",
        "enum or const added",
        "B limits the value to a fixed list; A did not.",
    ),
    rule(
        "SD112",
        "enum or const removed",
        "A limited the value to a fixed list; B does not.",
    ),
    rule(
        "SD113",
        "enum values added",
        "B allows every value A allowed, and more.",
    ),
    rule(
        "SD114",
        "enum values removed",
        "B allows only some of A's values.",
    ),
    rule(
        "SD115",
        "enum values replaced",
        "Values were both added and removed.",
    ),
    RuleInfo {
        code: "SD121",
        title: "version bump",
        description: "The `const`/`enum` at the kind's version field changed from A's version number to B's, as every new version of a catalog kind does (only when two versions of one kind are compared). Expected: `statewright migrate` writes the new number, so it is informational and left out of the overall verdicts; the change's own verdicts stay false (a document is valid under one version only).",
        compatible: Severity::Info,
        incompatible: Severity::Info,
    },
    rule(
        "SD201",
        "property added to a closed object",
        "A rejected unknown properties; B declares a new one, so new documents may carry it.",
    ),
    rule(
        "SD202",
        "property added to an open object",
        "A accepted the property through `additionalProperties`/`patternProperties`; B declares its own schema for it.",
    ),
    rule(
        "SD203",
        "property removed from a closed object",
        "B no longer declares the property and rejects unknown properties: old documents carrying it are rejected.",
    ),
    rule(
        "SD204",
        "property removed from an open object",
        "B no longer declares the property; it falls back to `additionalProperties`/`patternProperties`.",
    ),
    rule(
        "SD205",
        "additional properties allowed",
        "A rejected properties it did not declare (`additionalProperties: false`); B accepts some.",
    ),
    rule(
        "SD206",
        "additional properties rejected",
        "B rejects properties it does not declare; A accepted them.",
    ),
    rule(
        "SD207",
        "property pattern added",
        "B adds a `patternProperties` entry; matching names were governed by `additionalProperties` in A.",
    ),
    rule(
        "SD208",
        "property pattern removed",
        "A's `patternProperties` entry is gone; matching names fall back to `additionalProperties` in B.",
    ),
    rule(
        "SD209",
        "property governed by a changed pattern",
        "A declared property's name also matches `patternProperties` entries whose set or schemas changed: the property is compared with all of them applied together.",
    ),
    rule(
        "SD211",
        "required property added",
        "B requires a property A did not: old documents without it are rejected.",
    ),
    warn(rule(
        "SD212",
        "required property added, with a default",
        "B requires a property A did not, and declares a default for it: a migration can fill it in.",
    )),
    rule(
        "SD213",
        "required property removed",
        "B no longer requires a property A required.",
    ),
    rule(
        "SD215",
        "property count narrowed",
        "`minProperties` raised or `maxProperties` lowered (or added).",
    ),
    rule(
        "SD216",
        "property count widened",
        "`minProperties` lowered or `maxProperties` raised (or removed).",
    ),
    rule(
        "SD217",
        "dependent requirement added",
        "B requires a property whenever another is present (`dependentRequired`/`dependencies`), A did not.",
    ),
    rule(
        "SD218",
        "dependent requirement removed",
        "A's `dependentRequired`/`dependencies` requirement is gone in B.",
    ),
    rule(
        "SD301",
        "numeric range narrowed",
        "`minimum`/`exclusiveMinimum` raised or `maximum`/`exclusiveMaximum` lowered (or added).",
    ),
    rule(
        "SD302",
        "numeric range widened",
        "A numeric bound was relaxed or removed.",
    ),
    rule(
        "SD303",
        "multipleOf changed",
        "B's `multipleOf` does not divide A's (narrowed), or A's does not divide B's (widened).",
    ),
    rule(
        "SD401",
        "string length narrowed",
        "`minLength` raised or `maxLength` lowered (or added).",
    ),
    rule(
        "SD402",
        "string length widened",
        "`minLength` lowered or `maxLength` raised (or removed).",
    ),
    rule(
        "SD403",
        "pattern changed",
        "A `pattern` was added, removed or replaced. Two different patterns are not compared: a replacement counts as breaking both ways.",
    ),
    rule(
        "SD404",
        "format changed",
        "A `format` was added, removed or replaced. Where `format` is an annotation (validation's setting: `--formats`/`--no-formats`, else the draft: asserted up to draft-07), the change is informational.",
    ),
    rule(
        "SD405",
        "content encoding or media type changed",
        "`contentEncoding` or `contentMediaType` was added, removed or replaced.",
    ),
    rule(
        "SD501",
        "item count narrowed",
        "`minItems`/`minContains` raised or `maxItems`/`maxContains` lowered (or added).",
    ),
    rule(
        "SD502",
        "item count widened",
        "`minItems`/`minContains` lowered or `maxItems`/`maxContains` raised (or removed).",
    ),
    rule(
        "SD503",
        "uniqueItems added",
        "B requires array items to be unique.",
    ),
    rule(
        "SD504",
        "uniqueItems removed",
        "B no longer requires unique items.",
    ),
    rule(
        "SD511",
        "tuple position added",
        "A rejected arrays this long (`items`/`prefixItems` with no additional items); B accepts an item here.",
    ),
    rule(
        "SD512",
        "tuple position closed",
        "B rejects an item at a position A accepted.",
    ),
    rule(
        "SD513",
        "additional items allowed",
        "A rejected items past its tuple (`additionalItems`/`items: false`); B accepts some.",
    ),
    rule(
        "SD514",
        "additional items rejected",
        "B rejects items past its tuple; A accepted them.",
    ),
    rule(
        "SD523",
        "contains added",
        "B requires an item matching `contains`; A did not.",
    ),
    rule(
        "SD524",
        "contains removed",
        "A required an item matching `contains`; B does not.",
    ),
    rule(
        "SD525",
        "contains changed under maxContains",
        "`maxContains` caps the items matching `contains`, so a `contains` that matches more items can reject arrays that were valid.",
    ),
    rule(
        "SD601",
        "allOf member added or tightened",
        "A member of B's `allOf` is not implied by A.",
    ),
    rule(
        "SD602",
        "allOf member removed or loosened",
        "A member of A's `allOf` is not implied by B.",
    ),
    rule(
        "SD603",
        "anyOf no longer covers old values",
        "Some values A accepts match no branch of B's `anyOf`.",
    ),
    rule(
        "SD604",
        "anyOf admits new values",
        "Some branch of B accepts values that no branch of A's `anyOf` accepted.",
    ),
    rule(
        "SD605",
        "oneOf not preserved for old values",
        "B's `oneOf` changed and cannot be shown to accept exactly one branch for every value A accepts (branches are not disjoint by type and not the same as A's).",
    ),
    rule(
        "SD606",
        "oneOf not preserved for new values",
        "A's `oneOf` cannot be shown to accept every value B accepts.",
    ),
    rule(
        "SD607",
        "not added",
        "B forbids values matching a `not` schema; A did not.",
    ),
    rule("SD608", "not removed", "A's `not` constraint is gone."),
    rule(
        "SD611",
        "if condition changed",
        "The `if` schema changed: which branch applies is not compared, so both directions count as breaking.",
    ),
    rule("SD612", "conditional added", "B adds `if`/`then`/`else`."),
    rule(
        "SD613",
        "conditional removed",
        "A's `if`/`then`/`else` is gone.",
    ),
    rule(
        "SD901",
        "annotation changed",
        "`title`, `description`, `examples`, `$comment`, `$id`, `$schema` or another annotation changed; validation is not affected.",
    ),
    warn(rule(
        "SD902",
        "default changed",
        "A `default` was added, removed or changed; validation is not affected, but readers that fill defaults see other values.",
    )),
    warn(rule(
        "SD903",
        "access annotation changed",
        "`deprecated`, `readOnly` or `writeOnly` changed.",
    )),
    rule(
        "SD904",
        "unknown keyword changed",
        "A keyword validators ignore changed; validation is not affected.",
    ),
    rule(
        "SD905",
        "uncompared keyword changed",
        "`unevaluatedProperties`, `unevaluatedItems`, `$dynamicRef` or `$recursiveRef` changed; these are not compared, so both directions count as breaking.",
    ),
    rule(
        "SD990",
        "incompatibility shown by a document",
        "No rule flagged the direction, but a document valid under one schema is rejected by the other (checked with the validator): the witness is the proof.",
    ),
];

/// The registration of a rule code.
pub fn rule_info(code: &str) -> Option<&'static RuleInfo> {
    RULES.iter().find(|r| r.code == code)
}

pub(crate) fn info(code: &str) -> Option<&'static RuleInfo> {
    rule_info(code)
}

/// Which bound a number is.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Bound {
    Lower,
    Upper,
}

/// The verdict of moving a bound from `a` to `b` (`None`: no bound).
pub(super) fn bound_verdict(a: Option<f64>, b: Option<f64>, side: Bound) -> Verdict {
    let tighter_or_equal = |x: f64, y: f64| match side {
        Bound::Lower => x >= y,
        Bound::Upper => x <= y,
    };
    let backward = match (a, b) {
        (_, None) => true,
        (None, Some(_)) => false,
        (Some(x), Some(y)) => tighter_or_equal(x, y),
    };
    let forward = match (a, b) {
        (None, _) => true,
        (Some(_), None) => false,
        (Some(x), Some(y)) => tighter_or_equal(y, x),
    };
    (backward, forward)
}

/// Compares one count-like keyword (`minLength`, `maxItems`, ...).
#[allow(clippy::too_many_arguments)]
pub(super) fn count_keyword(
    cx: &mut Cx,
    a: &Node,
    b: &Node,
    ty: super::types::TypeSet,
    key: &str,
    side: Bound,
    narrowed: &'static str,
    widened: &'static str,
) {
    let (x, y) = (
        a.get(key).and_then(|v| v.as_f64()),
        b.get(key).and_then(|v| v.as_f64()),
    );
    if x == y {
        return;
    }
    let v = bound_verdict(x, y, side);
    let code = if v.0 { widened } else { narrowed };
    let msg = format!("`{key}` {} → {}", show_num(x), show_num(y));
    cx.emit_for(ty, a, b, code, (a.ptr(key), b.ptr(key)), v, msg);
}

/// A number, or `none`.
pub(super) fn show_num(x: Option<f64>) -> String {
    x.map_or_else(|| "none".to_owned(), |v| v.to_string())
}

/// A value in a message: compact JSON, shortened.
pub(super) fn show(v: Option<&serde_json::Value>) -> String {
    match v {
        None => "none".to_owned(),
        Some(v) => {
            let s = v.to_string();
            if s.chars().count() > 60 {
                format!("{}…", s.chars().take(60).collect::<String>())
            } else {
                s
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = std::collections::HashSet::new();
        for r in RULES {
            assert!(seen.insert(r.code), "duplicate rule code {}", r.code);
            assert!(
                r.code.len() == 5
                    && r.code.starts_with("SD")
                    && r.code[2..].chars().all(|c| c.is_ascii_digit()),
                "malformed code {}",
                r.code
            );
        }
    }

    #[test]
    fn bounds() {
        assert_eq!(
            bound_verdict(Some(10.0), Some(5.0), Bound::Lower),
            (true, false)
        );
        assert_eq!(bound_verdict(Some(10.0), None, Bound::Upper), (true, false));
        assert_eq!(bound_verdict(None, Some(3.0), Bound::Upper), (false, true));
        assert_eq!(
            bound_verdict(Some(3.0), Some(3.0), Bound::Upper),
            (true, true)
        );
    }
}
