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
    walk(doc, Some(schema), schema, "")
}

fn walk(v: &Value, sub: Option<&Value>, root: &Value, at: &str) -> Option<Finding> {
    let sub = sub.map(|s| resolve(s, root));
    if sub.and_then(|s| s.get("x-statewright-secret")) == Some(&Value::Bool(true)) {
        return None;
    }
    match v {
        Value::String(s) => looks_like(s).map(|what| Finding {
            pointer: at.to_owned(),
            what,
        }),
        Value::Object(m) => m.iter().find_map(|(k, child)| {
            let s = sub.and_then(|s| {
                s.get("properties")
                    .and_then(|p| p.get(k))
                    .or_else(|| s.get("additionalProperties"))
            });
            walk(child, s, root, &join(at, k))
        }),
        Value::Array(a) => a.iter().enumerate().find_map(|(i, child)| {
            let s = sub.and_then(|s| s.get("items"));
            walk(child, s, root, &join(at, &i.to_string()))
        }),
        _ => None,
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
    type Rule = (&'static str, fn(&str) -> bool);
    let rules: [Rule; 6] = [
        ("a PEM private key", pem),
        ("an AWS access key id", aws),
        ("a GitHub token", github),
        ("a Slack token", slack),
        ("a bearer token", bearer),
        ("a JWT", jwt),
    ];
    rules.iter().find(|(_, f)| f(s)).map(|(what, _)| *what)
}

fn pem(s: &str) -> bool {
    s.find("-----BEGIN ")
        .is_some_and(|i| s[i..].contains("PRIVATE KEY-----"))
}

fn starts(s: &str) -> impl Iterator<Item = usize> + '_ {
    s.char_indices().map(|(i, _)| i)
}

fn aws(s: &str) -> bool {
    starts(s).any(|i| {
        let t = &s.as_bytes()[i..];
        (t.starts_with(b"AKIA") || t.starts_with(b"ASIA"))
            && t.len() >= 20
            && t[4..20]
                .iter()
                .all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
    })
}

fn run(t: &[u8], ok: fn(u8) -> bool) -> usize {
    t.iter().take_while(|&&b| ok(b)).count()
}

fn github(s: &str) -> bool {
    starts(s).any(|i| {
        let t = &s.as_bytes()[i..];
        t.len() > 4
            && t.starts_with(b"gh")
            && b"pousr".contains(&t[2])
            && t[3] == b'_'
            && run(&t[4..], |b| b.is_ascii_alphanumeric()) >= 36
    })
}

fn slack(s: &str) -> bool {
    starts(s).any(|i| {
        let t = &s.as_bytes()[i..];
        t.len() > 5 && t.starts_with(b"xox") && b"baprs".contains(&t[3]) && t[4] == b'-'
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
        for s in [
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
}
