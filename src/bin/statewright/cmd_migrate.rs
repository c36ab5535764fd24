//! `statewright migrate`: upgrade (or downgrade) state documents through
//! the migration files, in one store transaction per run; `status`,
//! `verify` and `hash` for operators and CI.

use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::Value;
use statewright::migrate::{
    self, Hooks, MigrateError, MigrateOptions, Migrator, ReadError, StatusState, Target,
    VerifyOptions, load_checked, rehash, verify_with,
};
use statewright::spec::migration::{MigrationFileError, load_dir};
use statewright::store::{LockGuard, StoreError, StoreWriter, WriteContext};

use crate::args::Global;
use crate::cmd_migrate_print as print;
use crate::exit::Exit;
use crate::output;
use crate::store::{self as opener, Opened};

/// Migrate state documents to another schema version.
///
/// Without a subcommand, every document of the state dir (or the PATHS
/// given) is brought to the latest schema version of its kind (or to
/// --to N), all in one transaction: either every document is written or
/// none is. The migration files are checked against migrations/statewright.sum
/// first; documents newer than the newest schema, documents whose history
/// names a migration that changed since, chains with a gap and lossy
/// downgrades (without --allow-lossy) are refused and nothing is written.
///
/// Examples:
///   statewright migrate --dry-run          # the plan and the JSON Patch of each document
///   statewright migrate                    # upgrade everything to the latest versions
///   statewright migrate processed.json --to 1 --allow-lossy
///   statewright migrate status             # each document's version against the latest
///   statewright migrate verify             # CI: sum file, chains, fixtures, round trips
#[derive(Debug, Args)]
#[command(args_conflicts_with_subcommands = true, verbatim_doc_comment)]
pub struct MigrateArgs {
    #[command(subcommand)]
    pub command: Option<MigrateCommand>,
    #[command(flatten)]
    pub run: RunArgs,
}

/// Options of a migration run.
#[derive(Debug, Args)]
pub struct RunArgs {
    /// Documents to migrate (relative to the state dir, or paths inside
    /// it); default: every document of the state dir.
    #[arg(value_name = "PATHS")]
    pub paths: Vec<PathBuf>,
    #[command(flatten)]
    pub state: StateArg,
    /// The target version: a number, or `latest` (each kind's newest). With
    /// a number and no PATHS, the documents of the kinds that have that
    /// version.
    #[arg(long, value_name = "N|latest", default_value = "latest", value_parser = parse_target)]
    pub to: Target,
    /// Print the plan and the JSON Patch (RFC 6902) each document would
    /// receive; write nothing.
    #[arg(long)]
    pub dry_run: bool,
    /// Accept a downgrade through steps that lose data (the replaced
    /// versions are backed up first; the output says what is lost).
    #[arg(long)]
    pub allow_lossy: bool,
    /// Override the store's serial and lineage checks when writing.
    #[arg(long)]
    pub force: bool,
}

/// The state dir option.
#[derive(Debug, Args)]
pub struct StateArg {
    /// The state dir (default: the project's `state`).
    #[arg(long, value_name = "DIR")]
    pub state: Option<PathBuf>,
}

/// `statewright migrate` subcommands.
#[derive(Debug, Subcommand)]
pub enum MigrateCommand {
    New(crate::cmd_migrate_new::NewArgs),
    /// Each document's version against its kind's latest schema.
    ///
    /// Exit 0 when every document is current, 1 when some would be
    /// upgraded, 4 when some are newer than this tool knows.
    Status(StatusArgs),
    /// Check the migrations, for CI: the sum file matches, every kind has a
    /// gap-free chain to its latest schema, each fixture in
    /// schemas/<kind>/examples/v<N>/ upgraded to every later version
    /// validates, and up-then-down gives reversible steps' fixtures back.
    /// Every step also runs on documents generated from its schema
    /// (minimal, maximal and --count seeded ones): each upgraded one must
    /// validate, and reversible steps must give each one back; the first
    /// counterexample is shrunk and shown with the op that broke it.
    /// Versions without fixtures are warned about (MV010).
    ///
    /// Exit 0 when sound (warnings included), 1 with findings.
    Verify(VerifyArgs),
    /// Rewrite migrations/statewright.sum from the migration files on disk.
    ///
    /// Run it after adding a migration file on purpose. Editing a file that
    /// was already released is refused by `migrate`: documents migrated
    /// with it record its old hash.
    Hash(HashArgs),
}

/// `migrate status` options.
#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub state: StateArg,
}

/// `migrate verify` options.
#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Documents generated per schema version for the round trips.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub count: usize,
    /// The generator's seed (the same seed, the same documents).
    #[arg(long, value_name = "SEED", default_value_t = 1)]
    pub seed: u64,
}

/// `migrate hash` options.
#[derive(Debug, Args)]
pub struct HashArgs {}

fn parse_target(s: &str) -> Result<Target, String> {
    match s {
        "latest" => Ok(Target::Latest),
        n => n
            .parse::<u32>()
            .ok()
            .filter(|v| *v > 0)
            .map(Target::Version)
            .ok_or_else(|| format!("`{s}` is not a version: pass a number from 1, or `latest`")),
    }
}

pub fn run(global: &Global, args: MigrateArgs) -> Exit {
    match args.command {
        Some(MigrateCommand::New(a)) => crate::cmd_migrate_new::run(global, a),
        Some(MigrateCommand::Status(a)) => status(global, &a),
        Some(MigrateCommand::Verify(a)) => run_verify(global, &a),
        Some(MigrateCommand::Hash(_)) => hash(global),
        None => migrate(global, &args.run),
    }
}

/// Prints a migration error; its exit code: 4 for refusals, the store's
/// code for a failed write, 2 otherwise.
pub(crate) fn fail(global: &Global, e: &MigrateError) -> Exit {
    let text = e.to_string();
    let (message, help) = match text.split_once("; fix: ") {
        Some((m, h)) => (m.to_owned(), Some(h.to_owned())),
        None => (text, None),
    };
    output::print_error(global, &message, help.as_deref());
    if e.is_refusal() {
        return Exit::Refused;
    }
    match e {
        MigrateError::Write { source } | MigrateError::WouldBeRefused { source } => source
            .downcast_ref::<StoreError>()
            .map_or(Exit::Usage, opener::exit_for),
        _ => Exit::Usage,
    }
}

fn file_error(global: &Global, e: MigrationFileError) -> Exit {
    fail(global, &MigrateError::Files(e))
}

fn migrate(global: &Global, args: &RunArgs) -> Exit {
    let opened = match opener::open(global, args.state.state.as_deref()) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let migrations = match load_checked(&opened.project.migrations_dir) {
        Ok(m) => m,
        Err(e) => return file_error(global, e),
    };
    let guard = match opened.store.lock(&opener::lock_options(global, "migrate")) {
        Ok(g) => g,
        Err(e) => return opener::error(global, &e),
    };
    let only = match args.to {
        Target::Version(n) => Some(n),
        Target::Latest => None,
    };
    let docs = match read_documents(global, &opened, &guard, &args.paths, only) {
        Ok(d) => d,
        Err(code) => return code,
    };
    let migrator = Migrator::new(&opened.catalog, &migrations);
    let opts = MigrateOptions {
        to: args.to,
        allow_lossy: args.allow_lossy,
        applied_at: None,
    };
    let mut ctx = WriteContext::new("migrate");
    ctx.force = args.force;
    let explicit = matches!(args.to, Target::Version(_));
    let mut writer = StoreWriter::new(&opened.store, &guard, ctx).allow_downgrade(explicit);
    if args.dry_run {
        return match migrator.dry_run_checked(&docs, &opts, &mut writer) {
            Ok(plans) => {
                print::plans(global, &plans);
                Exit::Clean
            }
            Err(e) => fail(global, &e),
        };
    }
    print::progress_writing(&docs);
    match migrator.migrate(&docs, &opts, &mut writer) {
        Ok(summary) => {
            print::summary(global, &summary, &writer.outcomes, &opened.dir);
            Exit::Clean
        }
        Err(e) => fail(global, &e),
    }
}

/// The documents to migrate, read and verified under the lock
/// ([`statewright::migrate::read_documents`]), with a progress bar.
fn read_documents(
    global: &Global,
    opened: &Opened,
    guard: &LockGuard,
    paths: &[PathBuf],
    only: Option<u32>,
) -> Result<Vec<(PathBuf, Value)>, Exit> {
    let mut progress: Option<print::Progress> = None;
    let read = migrate::read_documents(&opened.store, guard, paths, only, &mut |_, total| {
        progress
            .get_or_insert_with(|| print::Progress::new("reading", total))
            .tick();
    });
    if let Some(p) = progress {
        p.finish();
    }
    read.map_err(|e| match e {
        ReadError::Migrate(e) => fail(global, &e),
        ReadError::Store(e) => opener::error(global, &e),
        ReadError::Select(e) => {
            output::print_error(global, &e.to_string(), None);
            Exit::Usage
        }
    })
}

fn status(global: &Global, args: &StatusArgs) -> Exit {
    let opened = match opener::open(global, args.state.state.as_deref()) {
        Ok(o) => o,
        Err(code) => return code,
    };
    let rows = match migrate::state_status(&opened.store, &opened.project.migrations_dir) {
        Ok(r) => r,
        Err(e) => return opener::error(global, &e),
    };
    print::status(global, &opened.dir, &rows);
    let any = |s: StatusState| rows.iter().any(|r| r.status.state == s);
    if any(StatusState::Newer) {
        Exit::Refused
    } else if rows.iter().any(|r| r.error.is_some()) || any(StatusState::Behind) {
        Exit::Findings
    } else {
        Exit::Clean
    }
}

fn run_verify(global: &Global, args: &VerifyArgs) -> Exit {
    let (project, catalog) = match opener::project_and_catalog(global) {
        Ok(x) => x,
        Err(code) => return code,
    };
    let migrations = match load_dir(&project.migrations_dir) {
        Ok(m) => m,
        Err(e) => return file_error(global, e),
    };
    let opts = VerifyOptions {
        count: args.count,
        seed: args.seed,
    };
    let report = verify_with(&catalog, &migrations, &Hooks::new(), &opts);
    print::verify(global, &report);
    match report.is_clean() {
        true => Exit::Clean,
        false => Exit::Findings,
    }
}

fn hash(global: &Global) -> Exit {
    let (project, _) = match opener::project_and_catalog(global) {
        Ok(x) => x,
        Err(code) => return code,
    };
    match rehash(&project.migrations_dir) {
        Ok(sum) => {
            print::hash(global, &project.migrations_dir, &sum);
            Exit::Clean
        }
        Err(e) => file_error(global, e),
    }
}
