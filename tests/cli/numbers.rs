//! Hostile and exact input end to end: numbers beyond 64 bits and binary64
//! keep their exact text through every command; nesting beyond the depth
//! limit is a located SW001 in every reader, never a stack overflow; the
//! secret scan's cloud credential shapes and the project's allowlist; the
//! parser messages people see.

use std::path::Path;

use crate::util::{Run, example_project, flat, run_in};

const DOC: &str = "config/dev.json";

fn ok(r: &Run) {
    assert_eq!(r.code, 0, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

fn code(r: &Run, want: i32) {
    assert_eq!(r.code, want, "stdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
}

fn text(root: &Path, rel: &str) -> String {
    std::fs::read_to_string(root.join("state").join(rel)).unwrap()
}

/// Puts `raw` (JSON text) at `/vars/<name>` of the example's dev config
/// through the store, so the document verifies.
fn set_raw(root: &Path, name: &str, raw: &str) -> Run {
    run_in(root, &["set", DOC, &format!("/vars/{name}"), "--json", raw])
}

#[test]
fn integers_beyond_64_bits_survive_set_increment_and_unrelated_writes() {
    let t = example_project();
    let root = t.path();
    let big = "18446744073709551617";
    ok(&set_raw(root, "big", big));
    assert!(
        text(root, DOC).contains(&format!("\"big\": {big}")),
        "{}",
        text(root, DOC)
    );
    // An unrelated write leaves it alone.
    ok(&run_in(root, &["set", DOC, "/vars/other", "x"]));
    assert!(text(root, DOC).contains(&format!("\"big\": {big}")));
    // `get` prints it exactly.
    let r = run_in(root, &["get", DOC, "/vars/big"]);
    ok(&r);
    assert_eq!(r.stdout.trim(), big);
    // --increment is exact.
    let r = run_in(root, &["set", DOC, "/vars/big", "--increment", "1"]);
    ok(&r);
    assert!(
        r.stdout.contains(&format!("{big} → 18446744073709551618")),
        "{}",
        r.stdout
    );
    assert!(text(root, DOC).contains("\"big\": 18446744073709551618"));
    // Long decimals and spellings keep their value.
    ok(&set_raw(root, "dec", "0.10000000000000000001"));
    assert!(text(root, DOC).contains("\"dec\": 0.10000000000000000001"));
    ok(&run_in(
        root,
        &["set", DOC, "/vars/dec", "--increment", "1"],
    ));
    assert!(text(root, DOC).contains("\"dec\": 1.10000000000000000001"));
    ok(&run_in(root, &["check"]));
}

#[test]
fn numbers_beyond_binary64_are_refused_not_stored_as_text() {
    let t = example_project();
    let root = t.path();
    let before = text(root, DOC);
    let r = run_in(root, &["set", DOC, "/vars/huge", "1e400"]);
    code(&r, 2);
    assert!(
        flat(&r.stderr).contains("VALUE is not valid JSON at line 1 column 5: number out of range"),
        "{}",
        r.stderr
    );
    let r = run_in(root, &["set", DOC, "/vars/n", "--increment", "1e400"]);
    assert_ne!(r.code, 0);
    assert!(
        flat(&r.stderr).contains("leaves the range of numbers"),
        "{}",
        r.stderr
    );
    assert_eq!(text(root, DOC), before);
}

#[test]
fn document_diff_compares_numbers_by_exact_value_or_lexically() {
    let t = crate::util::tempdir();
    let write = |name: &str, body: &str| {
        let p = t.path().join(name);
        std::fs::write(&p, body).unwrap();
        p.to_string_lossy().into_owned()
    };
    let a = write(
        "a.json",
        r#"{"n": 18446744073709551617123, "d": 0.1, "x": 1, "y": 1.0, "z": 100}"#,
    );
    let b = write(
        "b.json",
        r#"{"n": 18446744073709551617124, "d": 0.10000000000000000001, "x": 1.0, "y": 1.00, "z": 1E2}"#,
    );
    let r = run_in(t.path(), &["--format", "json", "diff", &a, &b]);
    assert_eq!(r.code, 1, "{}\n{}", r.stdout, r.stderr);
    assert_eq!(
        r.json(),
        serde_json::json!([
            {"op": "replace", "path": "/n", "value": 18446744073709551617124_u128},
            {"op": "replace", "path": "/d", "value": serde_json::from_str::<serde_json::Value>("0.10000000000000000001").unwrap()},
        ])
    );
    assert!(r.stdout.contains("18446744073709551617124"), "{}", r.stdout);
    assert!(r.stdout.contains("0.10000000000000000001"), "{}", r.stdout);
    let r = run_in(
        t.path(),
        &["--format", "json", "diff", "--numbers", "lexical", &a, &b],
    );
    assert_eq!(r.code, 1);
    let paths: Vec<String> = r
        .json()
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["path"].as_str().unwrap().to_owned())
        .collect();
    assert_eq!(paths, ["/n", "/d", "/x", "/y", "/z"]);
}

/// `[[[…]]]` `n` deep.
fn nested(n: usize) -> String {
    format!("{}{}", "[".repeat(n), "]".repeat(n))
}

fn assert_depth_error(r: &Run, file: &str, at: &str) {
    assert_ne!(r.code, 134, "aborted: {}", r.stderr);
    assert_ne!(r.code, 0, "{}", r.stdout);
    let err = flat(&format!("{}{}", r.stdout, r.stderr));
    assert!(err.contains(&format!("{file}:{at}")), "{err}");
    assert!(err.contains("nesting deeper than 64 levels"), "{err}");
}

#[test]
fn deep_nesting_is_a_located_error_in_every_reader() {
    let t = crate::util::tempdir();
    let d = t.path();
    std::fs::write(d.join("s.json"), "{}").unwrap();
    let deep = nested(100_000);
    let cases = [
        ("deep.json", deep.clone(), "1:65"),
        ("deep.yaml", deep.clone(), "1:65"),
        ("deep.toml", format!("a = {deep}\n"), "1:69"),
    ];
    for (name, body, at) in cases {
        std::fs::write(d.join(name), body).unwrap();
        let r = run_in(d, &["validate", "--schema", "s.json", name]);
        assert_eq!(r.code, 1, "{name}: {}\n{}", r.stdout, r.stderr);
        assert!(
            r.stdout.contains("SW001") || r.stderr.contains("SW001"),
            "{name}: {}",
            r.stdout
        );
        assert_depth_error(&r, name, at);
    }
    // A deep schema file.
    std::fs::write(d.join("deep-schema.json"), format!("{{\"items\": {deep}}}")).unwrap();
    std::fs::write(d.join("ok.json"), "{}").unwrap();
    let r = run_in(d, &["validate", "--schema", "deep-schema.json", "ok.json"]);
    assert_depth_error(&r, "deep-schema.json", "1:74");
}

#[test]
fn deep_documents_in_the_state_dir_are_sw001_for_get_check_and_list() {
    let t = example_project();
    let root = t.path();
    let deep = format!("{{\"a\": {}}}", nested(100_000));
    std::fs::write(root.join("state").join(DOC), &deep).unwrap();
    for args in [&["get", DOC, "/a"][..], &["check"][..], &["validate"][..]] {
        let r = run_in(root, args);
        assert_ne!(r.code, 134, "{args:?} aborted: {}", r.stderr);
        assert_ne!(r.code, 0, "{args:?}");
        let err = flat(&format!("{}{}", r.stdout, r.stderr));
        assert!(
            err.contains("nesting deeper than 64 levels"),
            "{args:?}: {err}"
        );
        assert!(err.contains("dev.json:1:70"), "{args:?}: {err}");
    }
}

#[test]
fn deep_migration_and_project_files_are_located_errors() {
    let t = example_project();
    let root = t.path();
    let dir = root.join("migrations/sources");
    std::fs::create_dir_all(&dir).unwrap();
    let m = dir.join("0009_deep.yaml");
    std::fs::write(
        &m,
        format!("kind: sources\nfrom: 1\nto: 2\nops: {}\n", nested(100_000)),
    )
    .unwrap();
    let r = run_in(root, &["migrate", "verify"]);
    assert_ne!(r.code, 134, "{}", r.stderr);
    let err = flat(&format!("{}{}", r.stdout, r.stderr));
    assert!(err.contains("0009_deep.yaml:4:"), "{err}");
    assert!(err.contains("nesting deeper than 64 levels"), "{err}");
    std::fs::remove_file(&m).unwrap();

    let toml = std::fs::read_to_string(root.join("statewright.toml")).unwrap();
    std::fs::write(
        root.join("statewright.toml"),
        format!("{toml}\n[x]\ndeep = {}\n", nested(100_000)),
    )
    .unwrap();
    let r = run_in(root, &["check"]);
    assert_ne!(r.code, 134, "{}", r.stderr);
    let err = flat(&format!("{}{}", r.stdout, r.stderr));
    assert!(err.contains("statewright.toml:"), "{err}");
    assert!(err.contains("nesting deeper than 64 levels"), "{err}");
}

#[test]
fn cloud_credentials_are_refused_and_the_project_can_allow_a_pointer() {
    let t = example_project();
    let root = t.path();
    let before = text(root, DOC);
    let aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
    let r = run_in(root, &["set", DOC, "/vars/aws_secret_access_key", aws]);
    code(&r, 4);
    let err = flat(&r.stderr);
    assert!(
        err.contains("refusing to store what looks like an AWS secret access key at `/vars/aws_secret_access_key`"),
        "{err}"
    );
    assert!(!err.contains(aws), "the secret must not be echoed: {err}");
    assert_eq!(text(root, DOC), before);
    // Allowed by pointer in the project file: written.
    let toml = std::fs::read_to_string(root.join("statewright.toml"))
        .unwrap()
        .replace(
            "[kinds.env-config]\n",
            "[kinds.env-config]\nsecrets_allow = [\"/vars/aws_secret_access_key\"]\n",
        );
    std::fs::write(root.join("statewright.toml"), toml).unwrap();
    ok(&run_in(
        root,
        &["set", DOC, "/vars/aws_secret_access_key", aws],
    ));
    ok(&run_in(root, &["check"]));
    // A path of the same length and alphabet is not a key.
    ok(&run_in(
        root,
        &[
            "set",
            DOC,
            "/vars/build_dir",
            "build/Release/x86_64/Output/AppName1/bin",
        ],
    ));
}

#[test]
fn parser_messages_say_what_is_wrong_in_words() {
    let t = crate::util::tempdir();
    let d = t.path();
    std::fs::write(d.join("s.json"), "{}").unwrap();
    let cases: [(&str, &[u8], &str); 3] = [
        ("sur.json", br#"{"a": "\ud800"}"#, "sur.json:1:"),
        ("tag.yaml", b"a: !mytag x\n", "tag.yaml:1:"),
        ("nul.json", b"{\"a\": 1}\0", "nul.json:1:9"),
    ];
    let want = [
        "lone surrogate `\\ud800`",
        "unknown tag `!mytag`",
        "a NUL byte (\\0)",
    ];
    for ((name, body, at), want) in cases.iter().zip(want) {
        std::fs::write(d.join(name), body).unwrap();
        let r = run_in(d, &["validate", "--schema", "s.json", name]);
        assert_eq!(r.code, 1, "{name}: {}\n{}", r.stdout, r.stderr);
        let out = format!("{}{}", r.stdout, r.stderr);
        assert!(out.contains(at), "{name}: {out}");
        assert!(out.contains(want), "{name}: {out}");
        assert!(!out.contains('\0'), "{name}: raw NUL in output");
    }
}
