//! The `state` URL of a project kept on PostgreSQL:
//! `postgres://[USER@]HOST[:PORT]/DATABASE?namespace=NAME`.
//!
//! The password never comes from the URL (a project file is committed):
//! it comes from `PGPASSWORD` or the password file (`PGPASSFILE`, else
//! `~/.pgpass`, read as libpq reads it). A URL that carries one is
//! refused, and every message names the server with [`StateUrl::redacted`].

use std::path::{Path, PathBuf};
use std::time::Duration;

use crate::store::error::{Result, StoreError};

/// The longest namespace accepted, in bytes.
pub const MAX_NAMESPACE: usize = 200;

/// A parsed `postgres://` state URL.
#[derive(Clone, PartialEq, Eq)]
pub struct StateUrl {
    /// The server's host name or address.
    pub host: String,
    /// The server's port.
    pub port: u16,
    /// The role to connect as (`PGUSER`, else `USER`, when the URL names none).
    pub user: String,
    /// The database.
    pub database: String,
    /// The namespace: one state dir's worth of documents.
    pub namespace: String,
    /// How long connecting may take.
    pub connect_timeout: Duration,
    /// Whether and how the connection is encrypted (`sslmode`, as libpq).
    pub ssl_mode: SslMode,
    /// A CA certificate (PEM) that server certificates may chain to, on
    /// top of the system's (`sslrootcert`, as libpq).
    pub ssl_root_cert: Option<PathBuf>,
}

/// `sslmode`, as libpq reads it (default `prefer`, or `PGSSLMODE`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    /// Never TLS.
    Disable,
    /// TLS when the server offers it, its certificate not checked.
    Prefer,
    /// TLS or no connection; the certificate not checked.
    Require,
    /// TLS; the certificate must chain to a trusted CA (any host name).
    VerifyCa,
    /// TLS; the certificate must chain to a trusted CA and name the host.
    VerifyFull,
}

impl SslMode {
    /// Reads a libpq `sslmode` value.
    pub fn parse(text: &str) -> std::result::Result<SslMode, String> {
        Ok(match text {
            "disable" => SslMode::Disable,
            "allow" | "prefer" => SslMode::Prefer,
            "require" => SslMode::Require,
            "verify-ca" => SslMode::VerifyCa,
            "verify-full" => SslMode::VerifyFull,
            other => {
                return Err(format!(
                    "sslmode `{other}` is not one of disable, allow, prefer, require, verify-ca, verify-full"
                ));
            }
        })
    }

    /// Its libpq name.
    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

impl std::fmt::Debug for StateUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.redacted())
    }
}

/// Whether `text` is a PostgreSQL state URL rather than a folder.
pub fn is_postgres_url(text: &str) -> bool {
    text.starts_with("postgres://") || text.starts_with("postgresql://")
}

fn decode(part: &str) -> std::result::Result<String, String> {
    percent_encoding::percent_decode_str(part)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| format!("`{part}` is not UTF-8 once percent-decoded"))
}

/// `text` with everything but unreserved URL characters percent-encoded.
pub fn encode(text: &str) -> String {
    const SET: &percent_encoding::AsciiSet = &percent_encoding::NON_ALPHANUMERIC
        .remove(b'-')
        .remove(b'_')
        .remove(b'.')
        .remove(b'~');
    percent_encoding::utf8_percent_encode(text, SET).to_string()
}

impl StateUrl {
    /// Parses `text`. Refuses a URL with a password, without a database
    /// or namespace, with a namespace that is empty, too long or holds
    /// control characters, or with a parameter it does not know.
    pub fn parse(text: &str) -> Result<StateUrl> {
        let shown = redact(text);
        let bad = |message: String| StoreError::StateUrl {
            url: shown.clone(),
            message,
        };
        let rest = text
            .strip_prefix("postgres://")
            .or_else(|| text.strip_prefix("postgresql://"))
            .ok_or_else(|| bad("a PostgreSQL state URL starts with postgres://".into()))?;
        let (authority, rest) = rest.split_once('/').unwrap_or((rest, ""));
        let (db, query) = rest.split_once('?').unwrap_or((rest, ""));
        let (userinfo, hostport) = match authority.rsplit_once('@') {
            Some((u, h)) => (Some(u), h),
            None => (None, authority),
        };
        if userinfo.is_some_and(|u| u.contains(':')) {
            return Err(bad("the URL carries a password; remove it from the project file and set PGPASSWORD or add the server to ~/.pgpass".into()));
        }
        let user = match userinfo.filter(|u| !u.is_empty()) {
            Some(u) => decode(u).map_err(bad)?,
            None => default_user(),
        };
        let (host, port) = split_host_port(hostport).map_err(bad)?;
        let database = decode(db).map_err(bad)?;
        if database.is_empty() {
            return Err(bad(
                "no database: write postgres://HOST:PORT/DATABASE?namespace=NAME".into(),
            ));
        }
        let mut namespace = None;
        let mut connect_timeout = Duration::from_secs(10);
        let mut ssl_mode = match std::env::var("PGSSLMODE") {
            Ok(m) => SslMode::parse(&m).map_err(|e| bad(format!("PGSSLMODE: {e}")))?,
            Err(_) => SslMode::Prefer,
        };
        let mut ssl_root_cert = std::env::var_os("PGSSLROOTCERT").map(PathBuf::from);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            match k {
                "namespace" => namespace = Some(decode(v).map_err(bad)?),
                "connect_timeout" => {
                    let secs: u64 = v.parse().map_err(|_| {
                        bad(format!("connect_timeout `{v}` is not a number of seconds"))
                    })?;
                    connect_timeout = Duration::from_secs(secs.max(1));
                }
                "sslmode" => ssl_mode = SslMode::parse(v).map_err(bad)?,
                "sslrootcert" => ssl_root_cert = Some(PathBuf::from(decode(v).map_err(bad)?)),
                other => {
                    return Err(bad(format!(
                        "unknown parameter `{other}`; known: namespace, connect_timeout, sslmode, sslrootcert"
                    )));
                }
            }
        }
        let namespace = namespace
            .ok_or_else(|| bad("no namespace: add ?namespace=NAME (one per state dir)".into()))?;
        check_namespace(&namespace).map_err(bad)?;
        Ok(StateUrl {
            host,
            port,
            user,
            database,
            namespace,
            connect_timeout,
            ssl_mode,
            ssl_root_cert,
        })
    }

    /// The URL as messages show it: never a password; the `sslmode`
    /// when it is not the default.
    pub fn redacted(&self) -> String {
        let ssl = match self.ssl_mode {
            SslMode::Prefer => String::new(),
            m => format!("&sslmode={}", m.name()),
        };
        format!(
            "postgres://{}@{}:{}/{}?namespace={}{ssl}",
            encode(&self.user),
            self.host,
            self.port,
            encode(&self.database),
            encode(&self.namespace)
        )
    }

    /// The path that names the namespace in messages, as a state dir is
    /// named: `postgres://HOST:PORT/DATABASE/NAMESPACE` (documents are
    /// `<that>/<path>`).
    pub fn dir(&self) -> PathBuf {
        PathBuf::from(format!(
            "postgres://{}:{}/{}/{}",
            self.host,
            self.port,
            encode(&self.database),
            encode(&self.namespace)
        ))
    }

    /// The password for this server: `PGPASSWORD`, else the password file.
    pub fn password(&self) -> Option<String> {
        if let Ok(p) = std::env::var("PGPASSWORD") {
            return Some(p);
        }
        let file = match std::env::var_os("PGPASSFILE") {
            Some(f) => PathBuf::from(f),
            None => PathBuf::from(std::env::var_os("HOME")?).join(".pgpass"),
        };
        pgpass_lookup(&file, self)
    }
}

fn default_user() -> String {
    std::env::var("PGUSER")
        .or_else(|_| std::env::var("USER"))
        .unwrap_or_else(|_| "postgres".into())
}

fn split_host_port(hostport: &str) -> std::result::Result<(String, u16), String> {
    let (host, port) = match hostport.strip_prefix('[') {
        Some(v6) => {
            let (h, rest) = v6
                .split_once(']')
                .ok_or_else(|| format!("`{hostport}`: unclosed `[`"))?;
            (h.to_owned(), rest.strip_prefix(':'))
        }
        None => match hostport.rsplit_once(':') {
            Some((h, p)) => (h.to_owned(), Some(p)),
            None => (hostport.to_owned(), None),
        },
    };
    let host = if host.is_empty() {
        std::env::var("PGHOST").unwrap_or_else(|_| "localhost".into())
    } else {
        host
    };
    let port = match port {
        Some(p) => p
            .parse()
            .map_err(|_| format!("port `{p}` is not a number from 1 to 65535"))?,
        None => 5432,
    };
    Ok((host, port))
}

/// Whether `ns` can name a namespace: 1 to [`MAX_NAMESPACE`] bytes, no
/// control characters. Quotes, slashes and any other Unicode are fine
/// (names only ever travel as query parameters).
pub fn check_namespace(ns: &str) -> std::result::Result<(), String> {
    if ns.is_empty() {
        return Err("the namespace is empty; name it: ?namespace=NAME".into());
    }
    if ns.len() > MAX_NAMESPACE {
        return Err(format!(
            "the namespace is {} bytes long; at most {MAX_NAMESPACE} are allowed",
            ns.len()
        ));
    }
    if let Some(c) = ns.chars().find(|c| c.is_control()) {
        return Err(format!(
            "the namespace holds the control character U+{:04X}; use printable characters",
            c as u32
        ));
    }
    Ok(())
}

/// `text` with the password of its user-info part (if any) replaced.
pub fn redact(text: &str) -> String {
    let Some(scheme_end) = text.find("://").map(|i| i + 3) else {
        return text.to_owned();
    };
    let rest = &text[scheme_end..];
    let authority_end = rest.find('/').unwrap_or(rest.len());
    match rest[..authority_end].rfind('@') {
        Some(at) => match rest[..at].find(':') {
            Some(colon) => format!(
                "{}{}:***{}",
                &text[..scheme_end],
                &rest[..colon],
                &rest[at..]
            ),
            None => text.to_owned(),
        },
        None => text.to_owned(),
    }
}

/// The password a libpq password file gives `url` (lines
/// `host:port:database:user:password`, `*` matching anything, `\`
/// escaping `:` and `\`). A file others can read is ignored, as libpq
/// ignores it.
fn pgpass_lookup(file: &Path, url: &StateUrl) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let meta = std::fs::metadata(file).ok()?;
    if meta.permissions().mode() & 0o077 != 0 {
        return None;
    }
    let text = std::fs::read_to_string(file).ok()?;
    let port = url.port.to_string();
    let want = [&url.host, &port, &url.database, &url.user];
    text.lines()
        .filter(|l| !l.starts_with('#'))
        .map(pgpass_fields)
        .find(|f| f.len() == 5 && want.iter().zip(f).all(|(w, f)| f == "*" || f == *w))
        .map(|mut f| f.remove(4))
}

fn pgpass_fields(line: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.last_mut().unwrap().extend(chars.next()),
            ':' if out.len() < 5 => out.push(String::new()),
            c => out.last_mut().unwrap().push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_parse_and_never_show_a_password() {
        let u = StateUrl::parse("postgres://ci@db.example:6543/state?namespace=team%20a").unwrap();
        assert_eq!((u.host.as_str(), u.port), ("db.example", 6543));
        assert_eq!((u.user.as_str(), u.database.as_str()), ("ci", "state"));
        assert_eq!(u.namespace, "team a");
        assert_eq!(
            u.redacted(),
            "postgres://ci@db.example:6543/state?namespace=team%20a"
        );
        let e = StateUrl::parse("postgres://ci:hunter2@h/db?namespace=x").unwrap_err();
        let msg = e.to_string();
        assert!(
            !msg.contains("hunter2") && msg.contains("PGPASSWORD"),
            "{msg}"
        );
        for bad in [
            "postgres://h/db",
            "postgres://h/?namespace=x",
            "postgres://h/db?namespace=",
            "postgres://h/db?namespace=a%0Ab",
            "postgres://h:99999/db?namespace=x",
            "postgres://h/db?namespace=x&sslmode=verify",
            "postgres://h/db?namespace=x&tls=on",
        ] {
            assert!(StateUrl::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn sslmode_and_sslrootcert_are_read_as_libpq_reads_them() {
        let u = StateUrl::parse(
            "postgres://h/db?namespace=x&sslmode=verify-full&sslrootcert=%2Fetc%2Fca.pem",
        )
        .unwrap();
        assert_eq!(u.ssl_mode, SslMode::VerifyFull);
        assert_eq!(u.ssl_root_cert.as_deref(), Some(Path::new("/etc/ca.pem")));
        assert!(
            u.redacted().ends_with("?namespace=x&sslmode=verify-full"),
            "{u:?}"
        );
        if std::env::var_os("PGSSLMODE").is_none() {
            let d = StateUrl::parse("postgres://h/db?namespace=x").unwrap();
            assert_eq!(d.ssl_mode, SslMode::Prefer);
            assert!(d.redacted().ends_with("?namespace=x"), "{d:?}");
        }
        for (text, mode) in [
            ("disable", SslMode::Disable),
            ("allow", SslMode::Prefer),
            ("require", SslMode::Require),
            ("verify-ca", SslMode::VerifyCa),
        ] {
            assert_eq!(SslMode::parse(text), Ok(mode));
        }
    }

    #[test]
    fn password_file_lines_match_as_libpq_reads_them() {
        assert_eq!(
            pgpass_fields(r"h:5432:db:u:pa\:ss"),
            ["h", "5432", "db", "u", "pa:ss"]
        );
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("pgpass");
        std::fs::write(&file, "other:*:*:*:no\n*:6543:state:ci:yes\n").unwrap();
        let u = StateUrl::parse("postgres://ci@db:6543/state?namespace=x").unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        assert_eq!(
            pgpass_lookup(&file, &u),
            None,
            "a file others read is ignored"
        );
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o600)).unwrap();
        assert_eq!(pgpass_lookup(&file, &u).as_deref(), Some("yes"));
    }
}
