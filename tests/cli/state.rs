//! Real state dirs for the store commands: the example state copied into a
//! temp dir and written through the store, so it has envelopes, backups and
//! an audit log; and a child process (this test binary re-invoked) that
//! holds the lock.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use statewright::spec::{Catalog, Project};
use statewright::store::{LockOptions, Store, StoreOptions, WriteContext};

use crate::util::copy_dir;
use crate::util::repo;

/// A copy of the project (statewright.toml, schemas, migrations) and of
/// examples/state in a temp dir.
pub struct State {
    pub root: tempfile::TempDir,
    pub dir: PathBuf,
}

impl State {
    /// Runs `statewright ARGS` in the copied project.
    pub fn run(&self, args: &[&str]) -> crate::util::Run {
        crate::util::run_in(self.root.path(), args)
    }

    pub fn path(&self, rel: &str) -> PathBuf {
        self.dir.join(rel)
    }

    pub fn arg(&self) -> &str {
        self.dir.to_str().unwrap()
    }
}

pub fn catalog() -> Catalog {
    let project = Project::load(&repo().join("statewright.toml")).unwrap();
    Catalog::load(&project).unwrap()
}

pub fn open(dir: &Path) -> Store {
    Store::open(&catalog(), dir, StoreOptions::default())
        .unwrap()
        .0
}

/// The example state, untouched, in a copy of the project.
pub fn examples() -> State {
    let root = crate::util::tempdir();
    for d in ["schemas", "migrations", "examples/state"] {
        copy_dir(&repo().join(d), &root.path().join(d));
    }
    std::fs::copy(
        repo().join("statewright.toml"),
        root.path().join("statewright.toml"),
    )
    .unwrap();
    let dir = root.path().join("examples/state");
    State { root, dir }
}

/// The example state with `docs` stamped by the store and written twice,
/// so each has a backup and the audit log has lines.
pub fn written(docs: &[&str]) -> State {
    written_with(docs, StoreOptions::default())
}

/// Like [`written`], with a store opened with `opts`.
pub fn written_with(docs: &[&str], opts: StoreOptions) -> State {
    let s = examples();
    let store = Store::open(&catalog(), &s.dir, opts).unwrap().0;
    let g = store.lock(&LockOptions::default()).unwrap();
    let mut force = WriteContext::new("fixture");
    force.force = true;
    for rel in docs {
        let v: serde_json::Value =
            serde_json::from_slice(&std::fs::read(s.path(rel)).unwrap()).unwrap();
        store.write(&g, rel, v, &force).unwrap();
        store
            .update_locked(&g, rel, &WriteContext::new("fixture"), |_| {})
            .unwrap();
    }
    s
}

/// The helper role; a no-op unless run as a child (`SW_CLI_CHILD=hold`).
#[test]
fn child_entry() {
    let Ok(dir) = std::env::var("SW_CLI_CHILD_DIR") else {
        return;
    };
    let store =
        Store::open_read_only(&catalog(), Path::new(&dir), StoreOptions::default()).unwrap();
    let opts = LockOptions {
        timeout: std::time::Duration::ZERO,
        command: "test holder".into(),
        ..LockOptions::default()
    };
    let _g = store.lock(&opts).unwrap();
    println!("locked");
    std::thread::sleep(std::time::Duration::from_secs(600));
}

/// A child process holding the lock of `dir`, started and holding.
pub fn holder(dir: &Path) -> Child {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args([
            "state::child_entry",
            "--exact",
            "--nocapture",
            "--test-threads=1",
            "-q",
        ])
        .env("SW_CLI_CHILD_DIR", dir)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let out = child.stdout.take().unwrap();
    let mut lines = BufReader::new(out).lines();
    loop {
        let line = lines.next().expect("holder ended early").unwrap();
        if line.contains("locked") {
            break;
        }
    }
    child
}

/// Kills a child with SIGKILL (no cleanup runs) and reaps it.
pub fn sigkill(child: &mut Child) {
    // SAFETY: signalling our own child by pid.
    unsafe { libc::kill(child.id() as libc::pid_t, libc::SIGKILL) };
    let _ = child.wait();
}
