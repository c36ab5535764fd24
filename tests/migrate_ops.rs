//! Every op forward and backward through the interpreter, at nested
//! pointers and inside each-blocks over maps and arrays.

use serde_json::{Value, json};
use statewright::migrate::{Hooks, run_ops};
use statewright::spec::migration::{Migration, parse_str};

fn step(ops: &str) -> Migration {
    let text = format!("kind: k\nfrom: 1\nto: 2\ndescription: test\nops:\n{ops}");
    parse_str("0001_t.yaml", &text).unwrap()
}

fn hooks() -> Hooks {
    fn double(v: &mut Value) -> Result<(), String> {
        let n = v.as_i64().ok_or("not an integer")?;
        *v = json!(n * 2);
        Ok(())
    }
    fn halve(v: &mut Value) -> Result<(), String> {
        *v = json!(v.as_i64().ok_or("not an integer")? / 2);
        Ok(())
    }
    let mut h = Hooks::new();
    h.register("double", double).register("halve", halve);
    h
}

fn up(m: &Migration, doc: Value) -> Value {
    let mut v = doc;
    run_ops(&m.file.ops, &mut v, &hooks()).unwrap();
    v
}

fn down(m: &Migration, doc: Value) -> Value {
    let mut v = doc;
    run_ops(&m.down, &mut v, &hooks()).unwrap();
    v
}

/// `ops` turn `before` into `after`, and their inverse turns it back.
fn both_ways(ops: &str, before: Value, after: Value) {
    let m = step(ops);
    assert!(m.reversible(), "{:?}", m.lossy);
    let got = up(&m, before.clone());
    assert_eq!(got, after, "up");
    assert_eq!(
        serde_json::to_string(&got).unwrap(),
        serde_json::to_string(&after).unwrap(),
        "up, key order"
    );
    assert_eq!(down(&m, got), before, "down");
}

#[test]
fn add_with_default_at_a_nested_pointer() {
    // Parents the add creates go again on the way down; parents that hold
    // something stay.
    both_ways(
        "  - add: {path: /a/b/c, default: [1]}\n",
        json!({}),
        json!({"a": {"b": {"c": [1]}}}),
    );
    both_ways(
        "  - add: {path: /a/b/c, default: [1]}\n",
        json!({"a": {"b": {"k": 0}}}),
        json!({"a": {"b": {"k": 0, "c": [1]}}}),
    );
    // An empty parent that was there before cannot be told from one the
    // add created: it goes too (`migrate verify` reports such a schema).
    let m = step("  - add: {path: /a/b/c, default: [1]}\n");
    assert_eq!(down(&m, up(&m, json!({"a": {"b": {}}}))), json!({}));
}

#[test]
fn add_copying_another_field_and_keeping_existing_values() {
    both_ways(
        "  - add: {path: /first, copy_from: /last}\n",
        json!({"last": "t"}),
        json!({"last": "t", "first": "t"}),
    );
    let m = step("  - add: {path: /x, default: 1}\n");
    assert_eq!(up(&m, json!({"x": 5})), json!({"x": 5}));
    let m = step("  - add: {path: /first, copy_from: /last, default: none}\n");
    assert_eq!(up(&m, json!({})), json!({"first": "none"}));
}

#[test]
fn set_default_fills_and_keeps_on_the_way_down() {
    let m = step("  - set_default: {path: /retries, default: 0}\n");
    assert!(m.reversible() && !m.round_trips());
    assert_eq!(up(&m, json!({})), json!({"retries": 0}));
    assert_eq!(up(&m, json!({"retries": 4})), json!({"retries": 4}));
    assert_eq!(down(&m, json!({"retries": 0})), json!({"retries": 0}));
}

#[test]
fn remove_with_a_default_is_reversible_and_without_is_lossy() {
    both_ways(
        "  - remove: {path: /a/gone, default: null}\n",
        json!({"a": {"gone": null, "k": 1}}),
        json!({"a": {"k": 1}}),
    );
    let m = step("  - remove: {path: /a/gone}\n");
    assert!(!m.reversible());
    assert_eq!(m.lossy[0].pointer, "/a/gone");
    assert!(m.lossy[0].lost.contains("cannot restore"));
}

#[test]
fn rename_keeps_the_key_in_place() {
    both_ways(
        "  - rename: {path: /cfg/old, to: new}\n",
        json!({"cfg": {"a": 1, "old": 2, "z": 3}}),
        json!({"cfg": {"a": 1, "new": 2, "z": 3}}),
    );
}

/// Objects of many members are searched by hash, small ones by comparing
/// keys: both give the same places and values.
#[test]
fn ops_on_large_objects_match_small_ones() {
    let wide = |extra: usize, tail: Value| {
        let mut m = serde_json::Map::new();
        for i in 0..extra {
            m.insert(format!("k{i:02}"), json!(i));
        }
        for (k, v) in tail.as_object().unwrap() {
            m.insert(k.clone(), v.clone());
        }
        Value::Object(m)
    };
    for extra in [0, 3, 7, 8, 9, 20] {
        both_ways(
            "  - rename: {path: /old, to: new}\n  - move: {from: /img, to: /img/name}\n",
            wide(extra, json!({"old": 2, "img": "a", "z": 3})),
            wide(extra, json!({"new": 2, "z": 3, "img": {"name": "a"}})),
        );
    }
}

#[test]
fn copy_and_its_inverse() {
    // Parents created on the way up are removed (when empty) on the way
    // down: a copy into a new object round trips exactly.
    both_ways(
        "  - copy: {from: /a/x, to: /b/y}\n",
        json!({"a": {"x": 1}}),
        json!({"a": {"x": 1}, "b": {"y": 1}}),
    );
    // Into an object that holds other members: the object stays.
    both_ways(
        "  - copy: {from: /a/x, to: /b/y}\n",
        json!({"a": {"x": 1}, "b": {"z": 2}}),
        json!({"a": {"x": 1}, "b": {"z": 2, "y": 1}}),
    );
}

#[test]
fn a_move_into_a_new_object_round_trips() {
    both_ways(
        "  - each: {path: /devices, ops: [{move: {from: /site, to: /location/site}}]}\n",
        json!({"devices": {"a": {"site": "n"}, "b": {"site": "s", "notes": "x"}}}),
        json!({"devices": {"a": {"location": {"site": "n"}}, "b": {"notes": "x", "location": {"site": "s"}}}}),
    );
}

#[test]
fn move_hoists_and_plunges() {
    both_ways(
        "  - move: {from: /deep/inner/v, to: /v}\n",
        json!({"deep": {"inner": {"v": 1, "w": 2}}}),
        json!({"deep": {"inner": {"w": 2}}, "v": 1}),
    );
    both_ways(
        "  - move: {from: /host, to: /host/name}\n",
        json!({"host": "h"}),
        json!({"host": {"name": "h"}}),
    );
}

#[test]
fn wrap_and_head_are_inverses() {
    both_ways(
        "  - wrap: {path: /a}\n",
        json!({"a": "x"}),
        json!({"a": ["x"]}),
    );
    both_ways(
        "  - wrap: {path: /a}\n",
        json!({"a": null}),
        json!({"a": []}),
    );
    both_ways(
        "  - head: {path: /a}\n",
        json!({"a": ["x"]}),
        json!({"a": "x"}),
    );
    let m = step("  - wrap: {path: /missing}\n");
    assert_eq!(up(&m, json!({})), json!({}));
}

#[test]
fn convert_maps_values_with_derived_or_explicit_reverse() {
    both_ways(
        "  - convert: {path: /t, map: [{from: gold, to: 1}, {from: silver, to: 2}]}\n",
        json!({"t": "silver"}),
        json!({"t": 2}),
    );
    both_ways(
        "  - convert: {path: /t, map: [{from: a, to: x}, {from: b, to: x}], reverse: [{from: x, to: a}]}\n",
        json!({"t": "a"}),
        json!({"t": "x"}),
    );
    let m = step("  - convert: {path: /t, map: [{from: a, to: x}], otherwise: \"y\"}\n");
    assert!(!m.reversible());
    assert_eq!(up(&m, json!({"t": "q"})), json!({"t": "y"}));
}

#[test]
fn convert_casts_types_and_names_failures() {
    both_ways(
        "  - convert: {path: /n, cast: {from: string, to: integer}}\n",
        json!({"n": "42"}),
        json!({"n": 42}),
    );
    both_ways(
        "  - convert: {path: /b, cast: {from: string, to: boolean}}\n",
        json!({"b": "true"}),
        json!({"b": true}),
    );
    let m = step("  - convert: {path: /n, cast: {from: string, to: integer}}\n");
    let mut v = json!({"n": "4x"});
    let e = run_ops(&m.file.ops, &mut v, &Hooks::new()).unwrap_err();
    assert_eq!(e.pointer, "/n");
    assert!(
        e.message.contains("cannot convert \"4x\" to Integer"),
        "{}",
        e.message
    );
}

#[test]
fn hooks_run_with_their_declared_inverse() {
    both_ways(
        "  - hook: {name: double, path: /n, inverse: halve}\n",
        json!({"n": 4}),
        json!({"n": 8}),
    );
    let m = step("  - hook: {name: double, path: /n}\n");
    assert!(!m.reversible());
    let m = step("  - hook: {name: nope}\n");
    let e = run_ops(&m.file.ops, &mut json!({}), &hooks()).unwrap_err();
    assert!(
        e.message.contains("hook `nope` is not registered"),
        "{}",
        e.message
    );
}

#[test]
fn each_over_a_map_an_array_and_nested() {
    both_ways(
        "  - each:\n      path: /m\n      ops:\n        - rename: {path: /a, to: b}\n",
        json!({"m": {"x": {"a": 1}, "y": {"a": 2}}}),
        json!({"m": {"x": {"b": 1}, "y": {"b": 2}}}),
    );
    both_ways(
        "  - each:\n      path: /list\n      ops:\n        - add: {path: /tags, default: []}\n        - each: {path: /sub, ops: [{wrap: {path: \"\"}}]}\n",
        json!({"list": [{"sub": [1, 2]}, {"sub": {"k": "v"}}]}),
        json!({"list": [{"sub": [[1], [2]], "tags": []}, {"sub": {"k": ["v"]}, "tags": []}]}),
    );
    let m = step("  - each: {path: /none, ops: [{remove: {path: /x, default: 1}}]}\n");
    assert_eq!(up(&m, json!({"a": 1})), json!({"a": 1}));
}

#[test]
fn lossy_ops_inside_each_name_every_entry() {
    let m =
        step("  - each: {path: /m, ops: [{remove: {path: /x}}, {rename: {path: /a, to: b}}]}\n");
    assert_eq!(m.lossy[0].pointer, "/m/*/x");
    // The rest of the step still has its inverse for --allow-lossy.
    assert_eq!(
        down(&m, json!({"m": {"k": {"b": 1}}})),
        json!({"m": {"k": {"a": 1}}})
    );
}

/// `rename`, `move` and `copy` never put a value where one already is:
/// the value there would be lost without a word. A hoist (a member of
/// the target replacing it) is not that.
#[test]
fn ops_refuse_to_overwrite_a_member_that_is_there() {
    for (op, doc, pointer, message) in [
        (
            "  - rename: { path: /name, to: title }\n",
            json!({"name": "n", "title": "kept"}),
            "/title",
            "cannot rename `name` to `title`: `title` already holds a value, which would be lost; remove it first (a `remove` op before this one) if it is to be replaced",
        ),
        (
            "  - move: { from: /a, to: /b }\n",
            json!({"a": 1, "b": 2}),
            "/b",
            "cannot move `/a` to `/b`: `/b` already holds a value, which would be lost; remove it first (a `remove` op before this one) if it is to be replaced",
        ),
        (
            "  - copy: { from: /a, to: /b }\n",
            json!({"a": 1, "b": 2}),
            "/b",
            "cannot copy `/a` to `/b`: `/b` already holds a value, which would be lost; remove it first (a `remove` op before this one) if it is to be replaced",
        ),
    ] {
        let m = step(op);
        let mut v = doc.clone();
        let e = run_ops(&m.file.ops, &mut v, &Hooks::new()).unwrap_err();
        assert_eq!((e.pointer.as_str(), e.message.as_str()), (pointer, message));
        assert_eq!(v, doc, "nothing changed");
    }
    let m = step("  - move: { from: /image/name, to: /image }\n");
    let mut v = json!({"image": {"name": "api", "version": "1"}});
    run_ops(&m.file.ops, &mut v, &Hooks::new()).unwrap();
    assert_eq!(v, json!({"image": "api"}));
}
