//! Exit codes, the same for every command (see docs/CLI.md).

/// How a run ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// 0: clean.
    Clean,
    /// 1: findings (invalid documents, breaking changes, drift).
    Findings,
    /// 2: usage or environment error (bad arguments, unreadable files,
    /// broken project file or schema).
    Usage,
    /// 3: the state lock is held by another process.
    LockHeld,
    /// 4: refused (downgrade, integrity or provenance mismatch).
    Refused,
}

impl From<Exit> for i32 {
    fn from(e: Exit) -> i32 {
        match e {
            Exit::Clean => 0,
            Exit::Findings => 1,
            Exit::Usage => 2,
            Exit::LockHeld => 3,
            Exit::Refused => 4,
        }
    }
}
