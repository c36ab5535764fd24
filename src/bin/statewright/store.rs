//! Opening the project's store for the commands that read or write state,
//! and rendering store errors with the exit code they mean.

use std::path::{Path, PathBuf};

use statewright::spec::{Catalog, Project};
use statewright::store::{
    EventSink, LockOptions, OpenReport, Store, StoreError, StoreEvent, StoreOptions,
};

use crate::args::{Global, OutputFormat};
use crate::cmd_validate::load_project;
use crate::exit::Exit;
use crate::output;

/// A store opened for a command, with what it needed to open it.
pub struct Opened {
    /// The project file.
    pub project: Project,
    /// The catalog.
    pub catalog: Catalog,
    /// The state dir (the project's, or the one given).
    pub dir: PathBuf,
    /// The store.
    pub store: Store,
}

/// Loads the project and catalog and opens the store on `state_dir` (or
/// the project's state dir). What opening recovered is reported on stderr.
/// Errors are printed; the exit code is returned.
pub fn open(global: &Global, state_dir: Option<&Path>) -> Result<Opened, Exit> {
    open_after(global, state_dir, |_, _| Ok(())).map(|(o, ())| o)
}

/// Like [`open`], running `first` on the state dir's path before the store
/// is opened (which takes the lock to recover interrupted writes): for
/// checks of the command line that must refuse without touching the dir.
pub fn open_after<T>(
    global: &Global,
    state_dir: Option<&Path>,
    first: impl FnOnce(&Path, bool) -> Result<T, Exit>,
) -> Result<(Opened, T), Exit> {
    let (project, catalog) = project_and_catalog(global)?;
    open_loaded(global, project, catalog, state_dir, first)
}

/// [`open_after`] with the project and catalog loaded.
fn open_loaded<T>(
    global: &Global,
    project: Project,
    catalog: Catalog,
    state_dir: Option<&Path>,
    first: impl FnOnce(&Path, bool) -> Result<T, Exit>,
) -> Result<(Opened, T), Exit> {
    let mut opts = store_options(global, &project);
    opts.recover |= global.recover;
    opts.lock_timeout = global.lock_timeout;
    let (store, report, checked) = match remote(&project, state_dir) {
        Some(url) => {
            let (store, report) =
                Store::open_url(&catalog, url, opts).map_err(|e| error(global, &e))?;
            let checked = first(store.dir(), true)?;
            (store, report, checked)
        }
        None => {
            let dir = state_dir.map_or_else(|| project.state_dir.clone(), Path::to_path_buf);
            let checked = first(&dir, false)?;
            let (store, report) =
                Store::open(&catalog, &dir, opts).map_err(|e| error(global, &e))?;
            (store, report, checked)
        }
    };
    let dir = store.dir().to_owned();
    print_open_report(&report);
    let opened = Opened {
        project,
        catalog,
        dir,
        store,
    };
    Ok((opened, checked))
}

/// The project's database URL, unless `--state DIR` names a folder.
pub fn remote<'a>(project: &'a Project, state_dir: Option<&Path>) -> Option<&'a str> {
    project.state_url.as_deref().filter(|_| state_dir.is_none())
}

/// Like [`open`], but opens the store read-only: no recovery, no lock,
/// nothing on disk changed (for `check`, `lock`, `audit`). A namespace
/// in a database is opened as for a write (nothing is recovered there).
pub fn open_read_only(global: &Global, state_dir: Option<&Path>) -> Result<Opened, Exit> {
    let (project, catalog) = project_and_catalog(global)?;
    if remote(&project, state_dir).is_some() {
        return open_loaded(global, project, catalog, state_dir, |_, _| Ok(())).map(|(o, ())| o);
    }
    let dir = state_dir.map_or_else(|| project.state_dir.clone(), Path::to_path_buf);
    let opts = store_options(global, &project);
    let store = Store::open_read_only(&catalog, &dir, opts).map_err(|e| error(global, &e))?;
    Ok(Opened {
        project,
        catalog,
        dir,
        store,
    })
}

/// The project's store options, with the event printer: a document
/// restored from a backup is always said (on stderr, as a warning), and so
/// is one written in full instead of edited in place (as a note); every
/// other event with `--verbose`.
pub fn store_options(global: &Global, project: &Project) -> StoreOptions {
    let mut opts = StoreOptions::from_project(project);
    let json = global.format == OutputFormat::Json;
    let verbose = global.verbose;
    opts.events = Some(EventSink::new(move |e: &StoreEvent| {
        let restored = matches!(e, StoreEvent::Restored { .. });
        let rewritten = matches!(e, StoreEvent::Rewritten { .. });
        if json && (verbose || restored || rewritten) {
            eprintln!("{}", serde_json::to_string(e).unwrap_or_default());
        } else if restored {
            eprintln!("warning: {e}");
        } else if rewritten {
            eprintln!("note: {e}");
        } else if verbose {
            eprintln!("statewright: {e}");
        }
    }));
    opts
}

/// Lock options for `command` with the global `--lock-timeout`.
pub fn lock_options(global: &Global, command: &str) -> LockOptions {
    LockOptions {
        timeout: global.lock_timeout,
        command: command.to_owned(),
        events: None,
    }
}

/// Prints what opening the store recovered or warned about, on stderr.
pub fn print_open_report(report: &OpenReport) {
    for a in &report.actions {
        eprintln!("recovered: {a}");
    }
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
}

/// The exit code a store error means: 3 lock held; 4 refused (downgrade,
/// newer version, conflict, a document rolled back below a recorded
/// serial, secret, schema-invalid write, illegal state transition, lock
/// break, database tables of a newer statewright);
/// 1 the state itself is bad (corrupt, no good backup, audit chain or log
/// missing); 2
/// anything else (usage, environment).
pub fn exit_for(e: &StoreError) -> Exit {
    match e {
        StoreError::LockHeld { .. } => Exit::LockHeld,
        StoreError::NewerVersion { .. }
        | StoreError::Downgrade { .. }
        | StoreError::Conflict { .. }
        | StoreError::SerialBehind { .. }
        | StoreError::Secret { .. }
        | StoreError::Invalid { .. }
        | StoreError::Transition { .. }
        | StoreError::LockBreak { .. }
        | StoreError::DatabaseNewer { .. } => Exit::Refused,
        StoreError::Corrupt { .. }
        | StoreError::NoGoodBackup { .. }
        | StoreError::AuditBroken { .. }
        | StoreError::AuditMissing { .. }
        | StoreError::BackupIndex { .. }
        | StoreError::Journal { .. }
        | StoreError::NotRegular { .. } => Exit::Findings,
        _ => Exit::Usage,
    }
}

/// Prints a store error and returns its exit code.
pub fn error(global: &Global, e: &StoreError) -> Exit {
    let file = e.file().map(|f| (f, e.line_col()));
    output::print_error_in(global, file, &e.to_string(), None);
    exit_for(e)
}

/// Loads the project and its catalog, for commands that read no state.
/// Errors are printed; the exit code is returned.
pub fn project_and_catalog(global: &Global) -> Result<(Project, Catalog), Exit> {
    let project = match load_project(global, true) {
        Ok(p) => p.expect("required project"),
        Err((message, help)) => {
            output::print_error(global, &message, help.as_deref());
            return Err(Exit::Usage);
        }
    };
    match Catalog::load(&project) {
        Ok(c) => Ok((project, c)),
        Err(e) => {
            output::print_error(global, &e.to_string(), e.help());
            Err(Exit::Usage)
        }
    }
}
