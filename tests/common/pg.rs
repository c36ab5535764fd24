//! A PostgreSQL server for the tests: `STATEWRIGHT_PG_URL` when set (a
//! superuser URL of a server you run, e.g. from `.ci/run`), otherwise a
//! throwaway cluster made with initdb in a temp dir by
//! `tests/pg/cluster.sh`, started once per test binary and stopped and
//! removed when it exits.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

static SERVER: OnceLock<String> = OnceLock::new();
static CLUSTER_DIR: OnceLock<PathBuf> = OnceLock::new();

extern "C" fn stop_cluster() {
    if let Some(dir) = CLUSTER_DIR.get() {
        let _ = Command::new(script()).arg("stop").arg(dir).status();
    }
}

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/pg/cluster.sh")
}

/// The superuser URL of the test server (`postgres://USER@HOST:PORT/DB`,
/// no namespace), starting a throwaway cluster on first use.
pub fn server() -> &'static str {
    SERVER.get_or_init(|| {
        if let Ok(url) = std::env::var("STATEWRIGHT_PG_URL") {
            return url;
        }
        let dir = std::env::temp_dir().join(format!("statewright-pg-{}", std::process::id()));
        let out = Command::new(script())
            .arg("start")
            .arg(&dir)
            .output()
            .expect("run tests/pg/cluster.sh");
        assert!(
            out.status.success(),
            "could not start a throwaway PostgreSQL cluster (install PostgreSQL, e.g. `apt-get install postgresql`, or set STATEWRIGHT_PG_URL to a server's superuser URL):\n{}\n{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        let _ = CLUSTER_DIR.set(dir);
        // SAFETY: registers a plain function to run at process exit.
        unsafe { libc::atexit(stop_cluster) };
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    })
}

/// The CA certificate the test server's TLS certificate chains to:
/// `STATEWRIGHT_PG_CA` when set, else the throwaway cluster's (made when
/// openssl is installed); `None` when the server offers no TLS known here.
pub fn ca_cert() -> Option<PathBuf> {
    server();
    if let Some(ca) = std::env::var_os("STATEWRIGHT_PG_CA") {
        return Some(PathBuf::from(ca));
    }
    CLUSTER_DIR
        .get()
        .map(|d| d.join("ca.crt"))
        .filter(|p| p.is_file())
}

/// A client of the test server's database, as superuser.
pub fn client() -> postgres::Client {
    postgres::Client::connect(server(), postgres::NoTls).expect("connect to the test server")
}

/// `server()` with `?namespace=` a fresh namespace (percent-encoded).
pub fn namespace_url(ns: &str) -> String {
    format!("{}?namespace={}", server(), encode(ns))
}

/// A namespace no other test uses.
pub fn fresh_namespace(prefix: &str) -> String {
    format!("{prefix}-{}", uuid::Uuid::new_v4().simple())
}

/// Percent-encodes everything but unreserved characters.
pub fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A database of its own (for tests that change what every namespace of a
/// database shares, such as the tables' version): its superuser URL.
pub fn fresh_database() -> String {
    let name = format!("sw_{}", uuid::Uuid::new_v4().simple());
    client()
        .batch_execute(&format!("CREATE DATABASE {name}"))
        .expect("create database");
    let base = server();
    let cut = base.rfind('/').expect("a URL with a database");
    format!("{}/{name}", &base[..cut])
}
