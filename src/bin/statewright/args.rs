//! Command-line arguments: one definition per flag (clap derive), option
//! groups flattened into the commands that take them.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// statewright: validate, migrate, diff and check versioned state documents.
///
/// JSON Schemas (schemas/<kind>/v<N>.json) and migration files are the
/// source of truth; the project file statewright.toml says where they and
/// the state directory live. Run from inside a project, or pass --project.
///
/// Exit codes: 0 clean, 1 findings, 2 usage or environment error,
/// 3 lock held, 4 refused (downgrade, integrity).
#[derive(Debug, Parser)]
#[command(
    name = "statewright",
    version,
    propagate_version = true,
    max_term_width = 100
)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// The project file (default: statewright.toml in this folder or the nearest parent).
    #[arg(long, global = true, value_name = "FILE", env = "STATEWRIGHT_PROJECT")]
    pub project: Option<PathBuf>,
    /// Output: human (default), json (a stable contract), or github (workflow annotations).
    #[arg(long, global = true, value_enum, default_value_t = OutputFormat::Human)]
    pub format: OutputFormat,
    /// When to color human output.
    #[arg(long, global = true, value_enum, default_value_t = ColorChoice::Auto)]
    pub color: ColorChoice,
    /// How long a command that needs the state lock waits for it (e.g. 30,
    /// 30s, 2m, 500ms), blocked in the kernel until it is free (the next
    /// waiter runs as soon as it is released); 0 fails at once (exit 3).
    #[arg(long, global = true, value_name = "DURATION", default_value = "0", value_parser = parse_duration)]
    pub lock_timeout: std::time::Duration,
    /// Restore a corrupt document from its newest good backup when it is
    /// read (also on when the project sets `recover = true`).
    #[arg(long, global = true)]
    pub recover: bool,
    /// Print what the store does on stderr as it happens: the lock waited
    /// for, acquired, reclaimed from a holder that died, and released;
    /// each document written, with the serial kept as a backup. One line
    /// each, or one JSON object per line (`{"event": "lock_acquired",
    /// ...}`) with --format json.
    #[arg(long, short, global = true)]
    pub verbose: bool,
}

/// Parses `30`, `30s`, `2m`, `500ms`, `1h`.
fn parse_duration(s: &str) -> Result<std::time::Duration, String> {
    let s = s.trim();
    let split = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, unit) = s.split_at(split);
    let n: f64 = num
        .parse()
        .map_err(|_| format!("`{s}` is not a duration (e.g. 30, 30s, 2m, 500ms)"))?;
    let secs = match unit {
        "" | "s" => n,
        "ms" => n / 1000.0,
        "m" => n * 60.0,
        "h" => n * 3600.0,
        _ => return Err(format!("`{s}`: unknown unit `{unit}` (use ms, s, m or h)")),
    };
    std::time::Duration::try_from_secs_f64(secs).map_err(|e| format!("`{s}`: {e}"))
}

/// Output formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum OutputFormat {
    /// Readable reports with source snippets.
    Human,
    /// One JSON object on stdout; its shape is a stable contract.
    Json,
    /// GitHub Actions annotation lines (::error file=..,line=..::..).
    Github,
}

/// Color choice for human output.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    /// Color when stdout is a terminal.
    Auto,
    /// Always color.
    Always,
    /// Never color.
    Never,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Validate documents against their kind's schema (or a given schema).
    ///
    /// With no PATHS, validates the project's state directory. Each file's
    /// kind comes from the catalog's path patterns (or --kind / --schema);
    /// its version field picks the schema. JSON, YAML and TOML are read
    /// strictly: duplicate keys, invalid UTF-8 and over-deep nesting are
    /// errors. $refs resolve offline: from the schemas dir, file paths, and
    /// --schema-dir mappings; never from the network.
    ///
    /// Examples:
    ///   statewright validate
    ///   statewright validate examples/state/config/dev.json
    ///   statewright validate --schema schema.json --schema-dir https://example.com/=./schemas doc.yaml
    #[command(verbatim_doc_comment)]
    Validate(ValidateArgs),
    /// Check a state directory: every document and the directory itself.
    ///
    /// Reports unparsable or truncated documents, checksum mismatches,
    /// schema violations, versions too new (refused) or behind the latest
    /// (needs migrate), artifacts whose hash does not match, and files no
    /// kind matches; and the store's own state: leftover temp files and
    /// journals, stale or orphaned locks, backups missing, changed or not
    /// in the manifest, a broken audit chain, migration history that no
    /// longer matches the migration files, and state transitions since the
    /// newest backup that the schema forbids. Each finding has a code, the
    /// file, the JSON pointer and the remedy. Exit 1 when a finding reaches
    /// --fail-on. Checking never writes; --repair does (under the lock).
    ///
    /// Examples:
    ///   statewright check
    ///   statewright check --format github path/to/state
    ///   statewright check --repair
    #[command(verbatim_doc_comment)]
    Check(CheckArgs),
    Migrate(crate::cmd_migrate::MigrateArgs),
    Diff(crate::cmd_diff::DiffArgs),
    Get(crate::cmd_get::GetArgs),
    Set(crate::cmd_set::SetArgs),
    Append(crate::cmd_append::AppendArgs),
    Rm(crate::cmd_rm::RmArgs),
    List(crate::cmd_list::ListArgs),
    Export(crate::cmd_export::ExportArgs),
    Import(crate::cmd_import::ImportArgs),
    Prune(crate::cmd_prune::PruneArgs),
    State(crate::cmd_state::StateArgs),
    Lock(crate::cmd_lock::LockArgs),
    Audit(crate::cmd_audit::AuditArgs),
    Init(crate::cmd_init::InitArgs),
    Graph(crate::cmd_graph::GraphArgs),
    Completions(crate::cmd_completions::CompletionsArgs),
    Man(crate::cmd_completions::ManArgs),
}

/// `statewright check`.
#[derive(Debug, Args)]
pub struct CheckArgs {
    /// The state directory (default: the project's).
    pub state_dir: Option<PathBuf>,
    /// Lowest severity that makes the run fail (exit 1).
    #[arg(long, value_enum, default_value_t = FailOn::Error)]
    pub fail_on: FailOn,
    /// Perform the store's automated recoveries under the lock (finish or
    /// discard temps, roll journals forward or back, restore the newest
    /// good backup of a corrupt document), report each action, then check
    /// again. Never deletes a document it cannot replace with a verified one.
    #[arg(long)]
    pub repair: bool,
    #[command(flatten)]
    pub schema_opts: SchemaOpts,
}

/// Lowest severity that fails a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FailOn {
    /// Errors only.
    Error,
    /// Warnings and errors.
    Warning,
    /// Anything, notes included.
    Info,
}

/// `statewright validate`.
#[derive(Debug, Args)]
pub struct ValidateArgs {
    /// Documents or folders to validate (default: the project's state dir).
    pub paths: Vec<PathBuf>,
    /// Validate every document as this kind.
    #[arg(long, value_name = "KIND", conflicts_with = "schema")]
    pub kind: Option<String>,
    /// Validate every document against this schema file (no project needed).
    #[arg(long, value_name = "FILE")]
    pub schema: Option<PathBuf>,
    #[command(flatten)]
    pub schema_opts: SchemaOpts,
    /// Read documents as this format, whatever their extension.
    #[arg(long = "input-format", value_enum, value_name = "FORMAT")]
    pub input_format: Option<InputFormat>,
}

/// Schema resolution and parsing options.
#[derive(Debug, Args)]
pub struct SchemaOpts {
    /// Serve $refs under URL PREFIX from folder DIR (repeatable), e.g.
    /// --schema-dir https://json.schemastore.org/=./schemas
    #[arg(long = "schema-dir", value_name = "PREFIX=DIR", value_parser = parse_mapping)]
    pub schema_dirs: Vec<(String, PathBuf)>,
    /// Draft for schemas without $schema.
    #[arg(long, value_enum)]
    pub draft: Option<DraftArg>,
    /// Assert "format" keywords (default: as the draft says).
    #[arg(long, overrides_with = "no_formats")]
    pub formats: bool,
    /// Treat "format" keywords as annotations only.
    #[arg(long = "no-formats")]
    pub no_formats: bool,
    /// Deepest nesting accepted in a document.
    #[arg(long, value_name = "N", default_value_t = 64)]
    pub max_depth: usize,
}

/// JSON Schema drafts.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum DraftArg {
    /// Draft 4.
    #[value(name = "4")]
    D4,
    /// Draft 6.
    #[value(name = "6")]
    D6,
    /// Draft 7.
    #[value(name = "7")]
    D7,
    /// Draft 2019-09.
    #[value(name = "2019-09")]
    D201909,
    /// Draft 2020-12.
    #[value(name = "2020-12")]
    D202012,
}

/// Document formats.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum InputFormat {
    /// JSON.
    Json,
    /// YAML.
    Yaml,
    /// TOML.
    Toml,
}

fn parse_mapping(s: &str) -> Result<(String, PathBuf), String> {
    let (prefix, dir) = s.rsplit_once('=').ok_or_else(|| {
        format!("`{s}` is not PREFIX=DIR (e.g. https://example.com/schemas/=./schemas)")
    })?;
    if prefix.is_empty() || dir.is_empty() {
        return Err(format!("`{s}` is not PREFIX=DIR: both parts are needed"));
    }
    Ok((prefix.to_owned(), PathBuf::from(dir)))
}
