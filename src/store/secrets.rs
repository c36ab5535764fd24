//! Secrets never reach the disk: before a document is written, every
//! string value is checked against a list of credential shapes, matched by
//! hand (no regex engine):
//!
//! | shape | rule |
//! |---|---|
//! | PEM private key | `-----BEGIN ` … `PRIVATE KEY-----` |
//! | AWS access key id | `AKIA` or `ASIA` + 16 of `[0-9A-Z]` |
//! | GitHub token | `gh` + one of `pousr` + `_` + 36 or more of `[A-Za-z0-9]` |
//! | Slack token | `xox` + one of `baprs` + `-` |
//! | bearer token | `Bearer ` + 20 or more token characters |
//! | JWT | `eyJ` + three dot-separated base64url parts, each ≥ 8 long |
//! | URL with a password | `://` + `user:password@` before the host (an empty password passes) |
//! | Stripe secret key | `sk_live_` or `rk_live_` + 16 or more of `[A-Za-z0-9]` |
//! | GitLab token | `glpat-` + 20 or more of `[A-Za-z0-9_-]` |
//! | GitHub fine-grained token | `github_pat_` + 22 or more of `[A-Za-z0-9_]` |
//! | Google API key | `AIza` + 35 of `[A-Za-z0-9_-]` |
//! | a secret-named field | a member named `password`, `passwd`, `secret`, `client_secret`, `secret_key`, `api_key`, `apikey`, `private_key`, `access_token`, `refresh_token` or `auth_token`, or ending in `_password`, `_passwd` or `_secret` (any case, `-` for `_`) holding a string of 8 or more characters that is not a reference (`scheme://…`, `${…}`, `env:…`) |
//!
//! A field whose schema says `"x-statewright-secret": true` is exempt
//! (its subschema is found through `properties`, `additionalProperties`,
//! `items` and local `#/` `$ref`s).

use serde_json::Value;
use statewright_spec::pointer::join;

/// A string that looks like a credential.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The JSON pointer of the field.
    pub pointer: String,
    /// What it looks like.
    pub what: &'static str,
}

/// The first credential-looking string in `doc` outside the fields the
/// schema marks as secret.
pub fn scan(doc: &Value, schema: &Value) -> Option<Finding> {
    let mut path = Vec::new();
    // Without a single exemption in the schema, there is no subschema to
    // follow: every string is checked.
    let sub = has_exemption(schema).then_some(schema);
    let what = walk(doc, None, sub, schema, &mut path)?;
    let pointer = path.iter().fold(String::new(), |p, seg| match seg {
        Seg::Key(k) => join(&p, k),
        Seg::Index(i) => join(&p, &i.to_string()),
    });
    Some(Finding { pointer, what })
}

/// One step of the path to the value being looked at; the pointer text
/// is only built for a finding.
enum Seg<'a> {
    Key(&'a str),
    Index(usize),
}

fn walk<'a>(
    v: &'a Value,
    key: Option<&str>,
    sub: Option<&Value>,
    root: &Value,
    path: &mut Vec<Seg<'a>>,
) -> Option<&'static str> {
    let sub = sub.map(|s| resolve(s, root));
    if sub.and_then(|s| s.get("x-statewright-secret")) == Some(&Value::Bool(true)) {
        return None;
    }
    match v {
        Value::String(s) => looks_like(s).or_else(|| secret_named(key?, s)),
        Value::Object(m) => m.iter().find_map(|(k, child)| {
            let s = sub.and_then(|s| {
                s.get("properties")
                    .and_then(|p| p.get(k))
                    .or_else(|| s.get("additionalProperties"))
            });
            path.push(Seg::Key(k));
            let found = walk(child, Some(k), s, root, path);
            if found.is_none() {
                path.pop();
            }
            found
        }),
        Value::Array(a) => a.iter().enumerate().find_map(|(i, child)| {
            path.push(Seg::Index(i));
            let found = walk(child, None, sub.and_then(|s| s.get("items")), root, path);
            if found.is_none() {
                path.pop();
            }
            found
        }),
        _ => None,
    }
}

/// Whether `schema` marks any field `"x-statewright-secret": true`.
fn has_exemption(schema: &Value) -> bool {
    match schema {
        Value::Object(m) => m.iter().any(|(k, v)| {
            (k == "x-statewright-secret" && *v == Value::Bool(true)) || has_exemption(v)
        }),
        Value::Array(a) => a.iter().any(has_exemption),
        _ => false,
    }
}

fn resolve<'a>(mut s: &'a Value, root: &'a Value) -> &'a Value {
    for _ in 0..16 {
        match s
            .get("$ref")
            .and_then(Value::as_str)
            .and_then(|r| r.strip_prefix('#'))
        {
            Some(p) => match root.pointer(p) {
                Some(t) => s = t,
                None => break,
            },
            None => break,
        }
    }
    s
}

/// What credential `s` looks like, if any.
pub fn looks_like(s: &str) -> Option<&'static str> {
    if !has_trigger(s.as_bytes()) {
        return None;
    }
    type Rule = (&'static str, fn(&str) -> bool);
    let rules: [Rule; 11] = [
        ("a PEM private key", pem),
        ("an AWS access key id", aws),
        ("a GitHub token", github),
        ("a Slack token", slack),
        ("a bearer token", bearer),
        ("a JWT", jwt),
        ("a URL with a password", url_password),
        ("a Stripe secret key", stripe),
        ("a GitLab token", gitlab),
        ("a GitHub fine-grained token", github_pat),
        ("a Google API key", google),
    ];
    rules.iter().find(|(_, f)| f(s)).map(|(what, _)| *what)
}

/// The secret a field named like one holds: `key` is a secret's name and
/// `s` a value of 8 or more characters that is not a reference to a
/// secret store.
fn secret_named(key: &str, s: &str) -> Option<&'static str> {
    const NAMES: [&str; 11] = [
        "password",
        "passwd",
        "secret",
        "client_secret",
        "secret_key",
        "api_key",
        "apikey",
        "private_key",
        "access_token",
        "refresh_token",
        "auth_token",
    ];
    // Compared byte by byte, without allocating: this runs on every
    // string member of every document written.
    let same = |name: &[u8], key: &[u8]| {
        name.len() == key.len()
            && name
                .iter()
                .zip(key)
                .all(|(&n, &k)| n == k.to_ascii_lowercase() || (n == b'_' && k == b'-'))
    };
    let key = key.as_bytes();
    let named = || {
        NAMES.iter().any(|n| same(n.as_bytes(), key))
            || ["_password", "_passwd", "_secret"].iter().any(|suffix| {
                key.len() > suffix.len()
                    && same(suffix.as_bytes(), &key[key.len() - suffix.len()..])
            })
    };
    let reference = || s.contains("://") || s.starts_with("${") || s.starts_with("env:");
    (s.len() >= 8 && named() && s.chars().count() >= 8 && !reference())
        .then_some("a value of a field named for a secret")
}

/// Whether `s` contains the fixed start of any shape (`-----BEGIN `,
/// `AKIA`, `ASIA`, `AIza`, `gh`, `github_pat_`, `glpat-`, `xox`,
/// `Bearer `, `eyJ`, `sk_live_`, `rk_live_`, `://`): every rule needs
/// one, so a string without any is no credential. One pass, no
/// allocation.
fn has_trigger(s: &[u8]) -> bool {
    // The shortest credential (`xoxb-` and one more byte) is 6 bytes long.
    if s.len() < 6 {
        return false;
    }
    (0..s.len()).any(|i| {
        let t = &s[i..];
        match t[0] {
            b'-' => t.starts_with(b"-----BEGIN "),
            b'A' => t.starts_with(b"AKIA") || t.starts_with(b"ASIA") || t.starts_with(b"AIza"),
            b'g' => {
                t.starts_with(b"gh") || t.starts_with(b"glpat-") || t.starts_with(b"github_pat_")
            }
            b's' | b'r' => t[1..].starts_with(b"k_live_"),
            b':' => t.starts_with(b"://"),
            b'x' => t.starts_with(b"xox"),
            b'B' => t.starts_with(b"Bearer "),
            b'e' => t.starts_with(b"eyJ"),
            _ => false,
        }
    })
}

fn url_password(s: &str) -> bool {
    s.match_indices("://").any(|(i, m)| {
        let rest = &s[i + m.len()..];
        let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
        authority
            .rfind('@')
            .and_then(|at| authority[..at].split_once(':'))
            .is_some_and(|(user, password)| !user.is_empty() && !password.is_empty())
    })
}

fn prefixed(s: &str, prefix: &str, min: usize, ok: fn(u8) -> bool) -> bool {
    s.match_indices(prefix)
        .any(|(i, m)| run(&s.as_bytes()[i + m.len()..], ok) >= min)
}

fn stripe(s: &str) -> bool {
    ["sk_live_", "rk_live_"]
        .iter()
        .any(|p| prefixed(s, p, 16, |b| b.is_ascii_alphanumeric()))
}

fn gitlab(s: &str) -> bool {
    prefixed(s, "glpat-", 20, |b| {
        b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
    })
}

fn github_pat(s: &str) -> bool {
    prefixed(s, "github_pat_", 22, |b| {
        b.is_ascii_alphanumeric() || b == b'_'
    })
}

fn google(s: &str) -> bool {
    prefixed(s, "AIza", 35, |b| {
        b.is_ascii_alphanumeric() || b == b'_' || b == b'-'
    })
}

fn pem(s: &str) -> bool {
    s.find("-----BEGIN ")
        .is_some_and(|i| s[i..].contains("PRIVATE KEY-----"))
}

fn aws(s: &str) -> bool {
    ["AKIA", "ASIA"].iter().any(|p| {
        s.match_indices(p).any(|(i, _)| {
            let t = &s.as_bytes()[i + 4..];
            t.len() >= 16
                && t[..16]
                    .iter()
                    .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
        })
    })
}

fn run(t: &[u8], ok: fn(u8) -> bool) -> usize {
    t.iter().take_while(|&&b| ok(b)).count()
}

fn github(s: &str) -> bool {
    s.match_indices("gh").any(|(i, _)| {
        let t = &s.as_bytes()[i..];
        t.len() > 4
            && b"pousr".contains(&t[2])
            && t[3] == b'_'
            && run(&t[4..], |b| b.is_ascii_alphanumeric()) >= 36
    })
}

fn slack(s: &str) -> bool {
    s.match_indices("xox").any(|(i, _)| {
        let t = &s.as_bytes()[i..];
        t.len() > 5 && b"baprs".contains(&t[3]) && t[4] == b'-'
    })
}

fn token_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-._~+/=".contains(&b)
}

fn bearer(s: &str) -> bool {
    s.match_indices("Bearer ")
        .any(|(i, m)| run(&s.as_bytes()[i + m.len()..], token_char) >= 20)
}

fn jwt(s: &str) -> bool {
    let b64 = |b: u8| b.is_ascii_alphanumeric() || b == b'-' || b == b'_';
    s.match_indices("eyJ").any(|(i, _)| {
        let t = &s.as_bytes()[i..];
        let a = run(t, b64);
        let rest = &t[a..];
        if a < 8 || rest.first() != Some(&b'.') {
            return false;
        }
        let b = run(&rest[1..], b64);
        let rest = &rest[1 + b..];
        b >= 8 && rest.first() == Some(&b'.') && run(&rest[1..], b64) >= 8
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn each_shape_is_recognised() {
        let gh = format!("ghp_{}", "a".repeat(36));
        let cases = [
            (
                "x -----BEGIN RSA PRIVATE KEY-----\nMII",
                "a PEM private key",
            ),
            ("key=AKIAIOSFODNN7EXAMPLE", "an AWS access key id"),
            (gh.as_str(), "a GitHub token"),
            ("xoxb-123-456", "a Slack token"),
            (
                "Authorization: Bearer abcdefghijklmnopqrstuvwxyz",
                "a bearer token",
            ),
            (
                "eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.abcdefghijkl",
                "a JWT",
            ),
        ];
        for (s, what) in cases {
            assert_eq!(looks_like(s), Some(what), "{s}");
        }
        let more = [
            (
                "https://user:s3cretP4ss@registry.example.com/v2".to_owned(),
                "a URL with a password",
            ),
            (
                format!("sk_live_{}", "a1".repeat(12)),
                "a Stripe secret key",
            ),
            (format!("glpat-{}", "x".repeat(20)), "a GitLab token"),
            (
                format!("github_pat_{}", "A_1".repeat(10)),
                "a GitHub fine-grained token",
            ),
            (format!("AIza{}", "b".repeat(35)), "a Google API key"),
        ];
        for (s, what) in &more {
            assert_eq!(looks_like(s), Some(*what), "{s}");
        }
        for s in [
            "postgres://user:@db.example.com/app",
            "https://registry.example.com/v2/a:b@c",
            "https://user@example.com",
            "sk_test_abcdefghijklmnopqrstuvwxyz",
            "glpat-short",
            "AKIAshort",
            "ghp_short",
            "Bearer short",
            "-----BEGIN CERTIFICATE-----",
            "hello",
            "é AKIA",
        ] {
            assert_eq!(looks_like(s), None, "{s}");
        }
    }

    #[test]
    fn fields_named_for_a_secret_hold_references_only() {
        let schema = json!({});
        let found = |doc: Value| scan(&doc, &schema).map(|f| (f.pointer, f.what));
        let named = "a value of a field named for a secret";
        assert_eq!(
            found(json!({"vars": {"password": "hunter2hunter2"}})),
            Some(("/vars/password".into(), named))
        );
        assert_eq!(
            found(json!({"db": {"Client-Secret": "0123456789"}})),
            Some(("/db/Client-Secret".into(), named))
        );
        assert_eq!(
            found(json!({"smtp_password": "correct horse"})),
            Some(("/smtp_password".into(), named))
        );
        for doc in [
            json!({"password": "vault://kv/app/password"}),
            json!({"password": "${DB_PASSWORD}"}),
            json!({"password": "env:DB_PASSWORD"}),
            json!({"password": "short"}),
            json!({"password_min_length": 12}),
            json!({"password_hint": "the usual one"}),
            json!({"items": ["password", "hunter2hunter2"]}),
        ] {
            assert_eq!(found(doc.clone()), None, "{doc}");
        }
    }

    #[test]
    fn schema_marked_fields_are_exempt() {
        let schema = json!({
            "$defs": {"tok": {"type": "string", "x-statewright-secret": true}},
            "properties": {"auth": {"$ref": "#/$defs/tok"}, "list": {"items": {"type": "string"}}}
        });
        let doc = json!({"auth": "xoxb-1-2", "list": ["ok", "xoxp-9"]});
        assert_eq!(
            scan(&doc, &schema),
            Some(Finding {
                pointer: "/list/1".into(),
                what: "a Slack token"
            })
        );
        assert_eq!(scan(&json!({"auth": "xoxb-1-2"}), &schema), None);
    }

    #[test]
    fn without_exemptions_every_string_is_checked() {
        let schema = json!({"properties": {"a": {"type": "object"}}});
        let doc = json!({"a": {"b": ["ok", {"c": "xoxs-1"}]}});
        assert_eq!(
            scan(&doc, &schema),
            Some(Finding {
                pointer: "/a/b/1/c".into(),
                what: "a Slack token"
            })
        );
    }

    #[test]
    fn shapes_are_found_anywhere_in_a_string() {
        let gh = format!("see ghs_{} here", "Z9".repeat(18));
        for s in ["aaaaaxoxp-1", "..AKIA0123456789ABCDEF", gh.as_str()] {
            assert!(looks_like(s).is_some(), "{s}");
        }
        for s in ["xoxb-", "row-00000001", "gh_ghx", "eyJ.eyJ.eyJ"] {
            assert_eq!(looks_like(s), None, "{s}");
        }
    }
}
