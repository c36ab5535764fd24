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
//! | AWS secret access key | exactly 40 of `[A-Za-z0-9/+]` with an upper-case letter, a lower-case letter, a digit and a `/` or `+`, standing alone (not part of a longer run) |
//! | Azure storage key | `AccountKey=` or `SharedAccessKey=` + 20 or more of `[A-Za-z0-9/+=]`, or 86 of `[A-Za-z0-9/+]` + `==` standing alone |
//! | GCP service-account key | `"type": "service_account"` (any spacing) with a `"private_key"` member in the same text |
//! | npm token | `npm_` + 36 of `[A-Za-z0-9]` |
//! | PyPI token | `pypi-AgE` + 50 or more of `[A-Za-z0-9_-]` |
//! | a secret-named field | a member named `password`, `passwd`, `secret`, `client_secret`, `secret_key`, `api_key`, `apikey`, `private_key`, `access_token`, `refresh_token` or `auth_token`, or ending in `_password`, `_passwd` or `_secret` (any case, `-` for `_`) holding a string of 8 or more characters that is not a reference (`scheme://…`, `${…}`, `env:…`) |
//!
//! A field whose schema says `"x-statewright-secret": true` is exempt
//! (its subschema is found through `properties`, `additionalProperties`,
//! `items` and local `#/` `$ref`s), and so is a field the project file
//! allows by pointer (`secrets_allow` in the kind's table).

use serde_json::Value;
use statewright_spec::pointer::{self, join};

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
/// `allow` holds the project's allowed pointers (`*` matches one token).
pub fn scan(doc: &Value, schema: &Value, allow: &[String]) -> Option<Finding> {
    let mut path = Vec::new();
    // Without a single exemption in the schema, there is no subschema to
    // follow: every string is checked.
    let sub = has_exemption(schema).then_some(schema);
    let allow: Vec<Vec<String>> = allow.iter().map(|p| pointer::tokens(p)).collect();
    let cx = Walk {
        root: schema,
        allow: &allow,
    };
    let what = walk(doc, None, sub, &cx, &mut path)?;
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

/// What every step of the walk needs: the schema (for `$ref`s) and the
/// allowed pointers, split into tokens.
struct Walk<'a> {
    root: &'a Value,
    allow: &'a [Vec<String>],
}

impl Walk<'_> {
    /// Whether the project allows the value at `path` (or above it).
    fn allowed(&self, path: &[Seg<'_>]) -> bool {
        self.allow.iter().any(|pat| {
            pat.len() <= path.len()
                && pat.iter().zip(path).all(|(t, seg)| {
                    t == "*"
                        || match seg {
                            Seg::Key(k) => t == k,
                            Seg::Index(i) => t.parse() == Ok(*i),
                        }
                })
        })
    }
}

fn walk<'a>(
    v: &'a Value,
    key: Option<&str>,
    sub: Option<&Value>,
    cx: &Walk<'_>,
    path: &mut Vec<Seg<'a>>,
) -> Option<&'static str> {
    let sub = sub.map(|s| resolve(s, cx.root));
    if sub.and_then(|s| s.get("x-statewright-secret")) == Some(&Value::Bool(true)) {
        return None;
    }
    if !cx.allow.is_empty() && cx.allowed(path) {
        return None;
    }
    match v {
        Value::String(s) => {
            looks_like_in(s, key.is_some_and(key_named)).or_else(|| secret_named(key?, s))
        }
        Value::Object(m) => m.iter().find_map(|(k, child)| {
            let s = sub.and_then(|s| {
                s.get("properties")
                    .and_then(|p| p.get(k))
                    .or_else(|| s.get("additionalProperties"))
            });
            path.push(Seg::Key(k));
            let found = walk(child, Some(k), s, cx, path);
            if found.is_none() {
                path.pop();
            }
            found
        }),
        Value::Array(a) => a.iter().enumerate().find_map(|(i, child)| {
            path.push(Seg::Index(i));
            let found = walk(child, None, sub.and_then(|s| s.get("items")), cx, path);
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
    looks_like_in(s, false)
}

/// [`looks_like`], where `aws_key` says the field's name is a key's.
fn looks_like_in(s: &str, aws_key: bool) -> Option<&'static str> {
    if s.len() >= 40
        && let Some(what) = bare_cloud_key(s.as_bytes(), aws_key)
    {
        return Some(what);
    }
    if !has_trigger(s.as_bytes()) {
        return None;
    }
    type Rule = (&'static str, fn(&str) -> bool);
    let rules: [Rule; 15] = [
        ("an Azure storage key", azure),
        ("a GCP service-account key", gcp_service_account),
        ("an npm token", npm),
        ("a PyPI token", pypi),
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
            b'A' => {
                t.starts_with(b"AKIA")
                    || t.starts_with(b"ASIA")
                    || t.starts_with(b"AIza")
                    || t.starts_with(b"AccountKey=")
            }
            b'g' => {
                t.starts_with(b"gh") || t.starts_with(b"glpat-") || t.starts_with(b"github_pat_")
            }
            b's' | b'r' => t[1..].starts_with(b"k_live_"),
            b':' => t.starts_with(b"://"),
            b'x' => t.starts_with(b"xox"),
            b'B' => t.starts_with(b"Bearer "),
            b'e' => t.starts_with(b"eyJ"),
            b'n' => t.starts_with(b"npm_"),
            b'p' => t.starts_with(b"pypi-AgE"),
            b'S' => t.starts_with(b"SharedAccessKey="),
            b'"' => t.starts_with(b"\"service_account\""),
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

fn base64_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'/' || b == b'+'
}

/// A key with no fixed prefix, standing alone as a run of base64: an
/// Azure storage account key (86 characters and `==`) anywhere; an AWS
/// secret access key (40 characters, mixed case, a digit and a `/` or
/// `+`) only when `aws` says the context names one (a field named for a
/// key, or `aws_secret_access_key` written before it), as a path can have
/// that shape too.
fn bare_cloud_key(s: &[u8], aws: bool) -> Option<&'static str> {
    let mut i = 0;
    while i < s.len() {
        let n = run(&s[i..], base64_char);
        if n == 0 {
            i += 1;
            continue;
        }
        let t = &s[i..i + n];
        let padded = s[i + n..].starts_with(b"==") && !s[i + n + 2..].starts_with(b"=");
        if n == 86 && padded {
            return Some("an Azure storage key");
        }
        let mixed = t.iter().any(u8::is_ascii_uppercase)
            && t.iter().any(u8::is_ascii_lowercase)
            && t.iter().any(u8::is_ascii_digit)
            && t.iter().any(|&b| b == b'/' || b == b'+');
        let named = aws || aws_named_before(&s[..i]);
        if n == 40 && mixed && named && !s[i + n..].starts_with(b"=") {
            return Some("an AWS secret access key");
        }
        i += n;
    }
    None
}

/// Whether the text before a run ends with `aws_secret_access_key` (or
/// `SecretAccessKey`, any case) and a `=`, `:` or spaces.
fn aws_named_before(before: &[u8]) -> bool {
    let trimmed = before
        .iter()
        .rposition(|b| !matches!(b, b' ' | b'=' | b':' | b'"' | b'\''))
        .map_or(&[][..], |i| &before[..=i]);
    let name: Vec<u8> = trimmed
        .iter()
        .rev()
        .take(24)
        .filter(|b| **b != b'_' && **b != b'-')
        .map(u8::to_ascii_lowercase)
        .collect();
    name.starts_with(b"yekssecca")
        && name.get(9..15) == Some(&b"terces"[..])
        && trimmed.len() < before.len()
}

/// Whether a member name says its value is a key or secret (`*key*`,
/// `*secret*`, `*credential*`, `aws*`; any case).
fn key_named(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    ["key", "secret", "credential", "aws"]
        .iter()
        .any(|w| k.contains(w))
}

fn azure(s: &str) -> bool {
    ["AccountKey=", "SharedAccessKey="]
        .iter()
        .any(|p| prefixed(s, p, 20, |b| base64_char(b) || b == b'='))
}

fn gcp_service_account(s: &str) -> bool {
    s.match_indices("\"type\"").any(|(i, m)| {
        let rest = s[i + m.len()..].trim_start();
        rest.strip_prefix(':')
            .is_some_and(|r| r.trim_start().starts_with("\"service_account\""))
    }) && s.contains("\"private_key\"")
}

fn npm(s: &str) -> bool {
    s.match_indices("npm_")
        .any(|(i, m)| run(&s.as_bytes()[i + m.len()..], |b| b.is_ascii_alphanumeric()) == 36)
}

fn pypi(s: &str) -> bool {
    prefixed(s, "pypi-AgE", 50, |b| {
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
    fn cloud_credential_shapes() {
        let aws = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY";
        let azure_key = format!("{}==", "Ab1/".repeat(21) + "Cd");
        let npm = format!("npm_{}", "aB3".repeat(12));
        let pypi = format!("pypi-AgEIcHlwaS5vcmc{}", "x_Y-".repeat(13));
        let cases = [
            (format!("aws_secret_access_key = {aws}"), "an AWS secret access key"),
            (format!("AWS_SECRET_ACCESS_KEY: \"{aws}\""), "an AWS secret access key"),
            (azure_key.clone(), "an Azure storage key"),
            (
                format!("DefaultEndpointsProtocol=https;AccountName=x;AccountKey={azure_key};EndpointSuffix=core.windows.net"),
                "an Azure storage key",
            ),
            ("Endpoint=sb://x.servicebus.windows.net/;SharedAccessKeyName=k;SharedAccessKey=abcdEFGH1234abcdEFGH1234=".to_owned(), "an Azure storage key"),
            (
                r#"{"type": "service_account", "project_id": "p", "private_key_id": "1", "private_key": "k"}"#.to_owned(),
                "a GCP service-account key",
            ),
            (npm, "an npm token"),
            (pypi, "a PyPI token"),
        ];
        for (s, what) in &cases {
            assert_eq!(looks_like(s), Some(*what), "{s}");
        }
        for s in [
            aws,                                        // alone, no name: could be anything
            "build/Release/x86_64/Output/AppName1/bin", // a path of the same shape
            "0123456789abcdef0123456789abcdef01234567", // a git sha
            "AccountKey=short",
            r#"{"type": "service_account"}"#,
            "npm_short",
            "pypi-AgEshort",
        ] {
            assert_eq!(looks_like(s), None, "{s}");
        }
        // A field named for a key holding the bare AWS shape.
        let doc = json!({"vars": {"aws_secret_access_key": aws, "build": "build/Release/x86_64/Output/AppName1/bin"}});
        let f = scan(&doc, &json!({}), &[]).unwrap();
        assert_eq!(
            (f.pointer.as_str(), f.what),
            ("/vars/aws_secret_access_key", "an AWS secret access key")
        );
    }

    #[test]
    fn the_project_allows_pointers() {
        let doc = json!({"vars": {"a": "xoxb-1-2", "b": ["ok", "xoxp-9"]}, "c": "xoxs-1"});
        let allow = |p: &[&str]| p.iter().map(|s| (*s).to_owned()).collect::<Vec<_>>();
        let found = |a: &[&str]| scan(&doc, &json!({}), &allow(a)).map(|f| f.pointer);
        assert_eq!(found(&[]), Some("/vars/a".into()));
        assert_eq!(found(&["/vars/a"]), Some("/vars/b/1".into()));
        assert_eq!(found(&["/vars"]), Some("/c".into()));
        assert_eq!(found(&["/vars/*", "/c"]), None);
    }

    #[test]
    fn fields_named_for_a_secret_hold_references_only() {
        let schema = json!({});
        let found = |doc: Value| scan(&doc, &schema, &[]).map(|f| (f.pointer, f.what));
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
            scan(&doc, &schema, &[]),
            Some(Finding {
                pointer: "/list/1".into(),
                what: "a Slack token"
            })
        );
        assert_eq!(scan(&json!({"auth": "xoxb-1-2"}), &schema, &[]), None);
    }

    #[test]
    fn without_exemptions_every_string_is_checked() {
        let schema = json!({"properties": {"a": {"type": "object"}}});
        let doc = json!({"a": {"b": ["ok", {"c": "xoxs-1"}]}});
        assert_eq!(
            scan(&doc, &schema, &[]),
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
