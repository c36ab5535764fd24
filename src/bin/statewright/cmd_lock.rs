//! `statewright lock`: who holds the state lock, and clearing the record
//! of a holder that is gone.

use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use statewright::store::{HolderInfo, LockStatus};

use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::output;
use crate::store::{self, Opened};

/// Show or break the state lock.
///
/// Examples:
///   statewright lock status
///   statewright lock break 2f0c7a3e-... --yes
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct LockArgs {
    #[command(subcommand)]
    pub action: LockAction,
}

/// What to do with the lock.
#[derive(Debug, Subcommand)]
pub enum LockAction {
    /// Show who holds the lock: lock id, pid (and whether it is alive on
    /// this host), host, user, command and when it was taken; or that it
    /// is free. Never waits, never changes anything.
    Status {
        /// The state directory (default: the project's).
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
    /// Clear the record of lock LOCK_ID when its holder is gone.
    ///
    /// A lock held by a live process is never taken from it: stop the
    /// process instead. Asks for confirmation on a terminal; scripts pass
    /// --yes (without a terminal and without --yes it refuses).
    Break {
        /// The lock id shown by `statewright lock status`.
        lock_id: String,
        /// Do not ask for confirmation.
        #[arg(long, short = 'y')]
        yes: bool,
        /// The state directory (default: the project's).
        #[arg(long, value_name = "DIR")]
        state: Option<PathBuf>,
    },
}

pub fn run(global: &Global, args: LockArgs) -> Exit {
    match args.action {
        LockAction::Status { state } => status(global, state),
        LockAction::Break {
            lock_id,
            yes,
            state,
        } => break_lock(global, state, &lock_id, yes),
    }
}

fn status(global: &Global, state: Option<PathBuf>) -> Exit {
    let opened = match store::open_read_only(global, state.as_deref()) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    let status = match opened.store.lock_status() {
        Ok(s) => s,
        Err(e) => return store::error(global, &e),
    };
    let path = opened.dir.join(".lock");
    let (state_name, holder, alive) = match &status {
        LockStatus::Free => ("free", None, None),
        LockStatus::Stale(h) => ("stale", Some(h), h.is_dead().map(|d| !d)),
        LockStatus::Held { holder, dead } => ("held", holder.as_ref(), dead.map(|d| !d)),
    };
    match global.format {
        OutputFormat::Json => {
            let v = serde_json::json!({
                "lock": path,
                "state": state_name,
                "holder": holder.map(|h| holder_json(h, alive)),
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        _ => {
            let database = store::remote(&opened.project, state.as_deref()).is_some();
            print_status(&opened, &status, alive, database);
        }
    }
    Exit::Clean
}

fn holder_json(h: &HolderInfo, alive: Option<bool>) -> serde_json::Value {
    serde_json::json!({
        "lock_id": h.lock_id,
        "pid": h.pid,
        "alive": alive,
        "host": h.host,
        "user": h.user,
        "command": h.command,
        "acquired_at": h.acquired_at,
    })
}

fn alive_text(alive: Option<bool>) -> &'static str {
    match alive {
        Some(true) => "alive on this host",
        Some(false) => "not running on this host",
        None => "on another host; cannot tell from here",
    }
}

fn print_status(opened: &Opened, status: &LockStatus, alive: Option<bool>, database: bool) {
    let path = output::display_path(&opened.dir.join(".lock"));
    let show = |h: &HolderInfo| {
        println!("  lock id:     {}", h.lock_id);
        println!("  pid:         {} ({})", h.pid, alive_text(alive));
        println!("  host:        {}", h.host);
        println!("  user:        {}", h.user);
        println!("  command:     {}", h.command);
        println!("  acquired at: {}", h.acquired_at);
    };
    match status {
        LockStatus::Free => println!("lock {path}: free"),
        LockStatus::Stale(h) if database => {
            println!(
                "lock {path}: free; the holder's server session ended and PostgreSQL released the lock, leaving its record"
            );
            show(h);
            println!(
                "the next command that takes the lock clears it; `statewright lock break {}` only clears the record",
                h.lock_id
            );
        }
        LockStatus::Stale(h) => {
            println!("lock {path}: free, but a holder that is gone left its record");
            show(h);
            println!(
                "the next command that takes the lock (or `statewright check --repair`) clears it and finishes what it left; `statewright lock break {}` only clears the record",
                h.lock_id
            );
        }
        LockStatus::Held { holder: None, .. } if database => {
            println!("lock {path}: held by a server session that left no record");
            println!("find it in pg_locks (locktype 'advisory') on the server");
        }
        LockStatus::Held { holder: None, .. } => {
            println!("lock {path}: held by a process that left no record");
            println!("find it with `fuser {path}`");
        }
        LockStatus::Held {
            holder: Some(h), ..
        } => {
            println!("lock {path}: held");
            show(h);
            if alive == Some(false) {
                println!(
                    "the holder is gone but a process that inherited its descriptor keeps the lock; find it with `fuser {path}`"
                );
            }
        }
    }
}

fn break_lock(global: &Global, state: Option<PathBuf>, lock_id: &str, yes: bool) -> Exit {
    let opened = match store::open_read_only(global, state.as_deref()) {
        Ok(o) => o,
        Err(exit) => return exit,
    };
    if !yes {
        if !std::io::stdin().is_terminal() {
            output::print_error(
                global,
                &format!(
                    "refusing to break lock {lock_id} without confirmation: stdin is not a terminal"
                ),
                Some("check the holder with `statewright lock status`, then pass --yes"),
            );
            return Exit::Usage;
        }
        if !confirm(&opened, lock_id) {
            eprintln!("not broken");
            return Exit::Refused;
        }
    }
    match opened.store.break_lock(lock_id) {
        Ok(b) => {
            match global.format {
                OutputFormat::Json => {
                    let v = serde_json::json!({
                        "broken": true,
                        "holder": holder_json(&b.holder, b.holder.is_dead().map(|d| !d)),
                    });
                    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
                }
                _ => println!("broke lock {}: cleared the record of {}", lock_id, b.holder),
            }
            Exit::Clean
        }
        Err(e) => store::error(global, &e),
    }
}

fn confirm(opened: &Opened, lock_id: &str) -> bool {
    let who = match opened.store.lock_status() {
        Ok(LockStatus::Stale(h))
        | Ok(LockStatus::Held {
            holder: Some(h), ..
        }) => h.to_string(),
        _ => "an unknown holder".into(),
    };
    eprint!("break lock {lock_id} held by {who}? [y/N] ");
    let _ = std::io::stderr().flush();
    let mut line = String::new();
    let _ = std::io::stdin().lock().read_line(&mut line);
    matches!(line.trim(), "y" | "Y" | "yes" | "YES")
}
