//! `statewright diff`: schemas, documents, or templates against the state.
//! Each mode lives in its own file under `cmd_diff/`.

mod document;
mod drift;
mod schema;

use std::path::{Path, PathBuf};

use clap::{Args, ValueEnum};
use serde_json::Value;
use statewright::diff::{Compatibility, Mode, ModeReason, mode_of};
use statewright::spec::document::{self as doc, Format, ParseLimits, SourceText};
use statewright::spec::{Catalog, OfflineRegistry, Project};

use crate::args::Global;
use crate::cmd_validate::load_project;
use crate::exit::Exit;
use crate::output;

/// Compare two schemas, two documents, or template manifests with the state.
///
/// Schemas (a file whose `$schema` names a JSON Schema dialect, two files
/// under the project's schemas dir, or any two files with --schemas;
/// --documents forces documents): every change with its
/// stable rule code (SD…), a JSON pointer into each schema (and its
/// line:col), and two verdicts: readers (a reader on the new schema still
/// reads old documents: backward compatible) and writers (documents written
/// under the new schema are still read by readers on the old one: forward
/// compatible). `--kind K N M` compares two catalog versions, and checks
/// each migration step between them: every backward-incompatible change
/// its migration file does not account for is listed under "not covered
/// by migration ...". Between two versions of one kind, the version
/// field's const going from N to M is an expected version bump (SD121,
/// info), so the default --fail-on breaking passes a bump alone.
///
/// Documents: a pointer-annotated diff (`+` added, `-` removed, `~`
/// changed); `--format json` prints the RFC 6902 JSON Patch that turns A
/// into B. `--ignore-meta` leaves out envelope metadata (generated_at,
/// checksum, serial, lineage, origin, at the pointers the kind's
/// `[kinds.K.fields]` names).
///
/// `--drift [STATE_DIR]` compares each packer-hybrid document's builders
/// (variant_id, cache_hash) with the template manifest it was published
/// from, and reports missing or stale hashes. The documents are read
/// through the store (read-only) and must pass its read checks.
///
/// Exit codes: 0 nothing at or above --fail-on (documents: identical; drift:
/// none), 1 reached (documents differ; drift found), 2 usage error or
/// unreadable input (drift: a state document failing a read check).
///
/// Examples:
///   statewright diff schemas/deploy-pins/v1.json schemas/deploy-pins/v2.json
///   statewright diff --kind deploy-pins 2 3 --format json
///   statewright diff --ignore-meta old/processed.json examples/state/processed.json
///   statewright diff --drift examples/state
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct DiffArgs {
    /// The old and the new file (with --kind: two version numbers, or two
    /// documents of that kind).
    #[arg(value_names = ["A", "B"], num_args = 0..=2)]
    pub inputs: Vec<String>,
    /// The document kind: with two numbers, compare its schema versions;
    /// with two files, read them as documents of this kind.
    #[arg(long, value_name = "KIND")]
    pub kind: Option<String>,
    /// Compare A and B as JSON Schemas, whatever they contain.
    #[arg(long)]
    pub schemas: bool,
    /// Lowest level that makes the run fail (exit 1).
    #[arg(long, value_enum, default_value_t = DiffFailOn::Breaking)]
    pub fail_on: DiffFailOn,
    /// Documents: leave out envelope metadata (timestamps, checksum,
    /// serial, lineage, origin).
    #[arg(long)]
    pub ignore_meta: bool,
    /// Documents: leave out this JSON pointer and everything under it
    /// (repeatable; `*` matches any one member or index).
    #[arg(long, value_name = "POINTER")]
    pub ignore: Vec<String>,
    /// Documents: compare numbers by exact value (`1` = `1.0` = `1E0`,
    /// the default) or by their text (`lexical`).
    #[arg(long, value_enum, default_value_t = NumbersArg::Value)]
    pub numbers: NumbersArg,
    /// Compare template manifests with the state dir's packer-hybrid
    /// documents (default: the project's state dir).
    #[arg(long, value_name = "STATE_DIR", num_args = 0..=1, conflicts_with_all = ["inputs", "schemas"])]
    pub drift: Option<Option<PathBuf>>,
    /// With --drift: the template manifest to compare with (default: the
    /// document's template_path, `.pkr.hcl` replaced by `.manifest.json`,
    /// next to the state dir).
    #[arg(long, value_name = "FILE", requires = "drift")]
    pub manifest: Option<PathBuf>,
    /// How schemas are compared and graded.
    #[command(flatten)]
    pub compare: CompareArgs,
}

/// Schema-comparison options: the mode, the compatibility asked for and
/// the `format` assertion setting.
#[derive(Debug, Args)]
pub struct CompareArgs {
    /// Compare A and B as documents (a JSON Patch), even when they carry
    /// a `$schema` member.
    #[arg(long, conflicts_with = "schemas")]
    pub documents: bool,
    /// Which direction must stay compatible; severities follow it
    /// (default: `[diff] compatibility` in statewright.toml, else
    /// backward: a reader on B reads documents written under A).
    #[arg(long, value_enum, value_name = "MODE")]
    pub compatibility: Option<CompatArg>,
    /// Assert "format" keywords, as `validate --formats` does (default: as
    /// the draft says: asserted up to draft-07).
    #[arg(long, overrides_with = "no_formats")]
    pub formats: bool,
    /// Treat "format" keywords as annotations, as `validate --no-formats`.
    #[arg(long = "no-formats")]
    pub no_formats: bool,
}

impl CompareArgs {
    /// The `format` setting, as validation takes it.
    pub fn validate_formats(&self) -> Option<bool> {
        if self.no_formats {
            Some(false)
        } else if self.formats {
            Some(true)
        } else {
            None
        }
    }

    /// The compatibility mode: the flag, else the project's, else backward.
    pub fn compatibility(&self, project: Option<&Project>) -> Compatibility {
        use statewright::spec::project::DiffCompatibility as P;
        match self.compatibility {
            Some(CompatArg::Backward) => Compatibility::Backward,
            Some(CompatArg::Forward) => Compatibility::Forward,
            Some(CompatArg::Full) => Compatibility::Full,
            Some(CompatArg::None) => Compatibility::None,
            None => match project.map(|p| p.diff.compatibility) {
                Some(P::Forward) => Compatibility::Forward,
                Some(P::Full) => Compatibility::Full,
                Some(P::None) => Compatibility::None,
                Some(P::Backward) | None => Compatibility::Backward,
            },
        }
    }
}

/// `--compatibility` values, as schema registries name them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum CompatArg {
    /// B reads documents written under A.
    Backward,
    /// A reads documents written under B.
    Forward,
    /// Both.
    Full,
    /// Neither is checked: every change is informational.
    None,
}

/// How a document diff compares numbers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum NumbersArg {
    /// By exact value, as JSON Schema's equality does.
    Value,
    /// By their text as read.
    Lexical,
}

/// Lowest level that fails a diff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, ValueEnum)]
pub enum DiffFailOn {
    /// Any change (info and up).
    Any,
    /// Warnings and breaking changes.
    Warning,
    /// Breaking changes (documents: any difference).
    Breaking,
    /// Only breaking changes no migration file accounts for.
    Uncovered,
}

/// An error that stops the command: message and help.
pub(crate) type Fail = (String, Option<String>);

pub fn run(global: &Global, args: DiffArgs) -> Exit {
    match dispatch(global, &args) {
        Ok(exit) => exit,
        Err((message, help)) => {
            output::print_error(global, &message, help.as_deref());
            Exit::Usage
        }
    }
}

fn dispatch(global: &Global, args: &DiffArgs) -> Result<Exit, Fail> {
    if let Some(dir) = &args.drift {
        return drift::run(global, args, dir.as_deref());
    }
    let [a, b] = args.inputs.as_slice() else {
        return Err((
            format!("diff needs two inputs, got {}", args.inputs.len()),
            Some(
                "pass A and B (`statewright diff old.json new.json`), `--kind K N M`, or `--drift`"
                    .into(),
            ),
        ));
    };
    if let Some(kind) = &args.kind
        && let (Ok(va), Ok(vb)) = (a.parse::<u32>(), b.parse::<u32>())
    {
        return schema::run_kind(global, args, kind, va, vb);
    }
    let project = load_project(global, false)?;
    let (pa, pb) = (PathBuf::from(a), PathBuf::from(b));
    let (sa, va) = read(&pa)?;
    let (sb, vb) = read(&pb)?;
    let under_schemas = |p: &Path| {
        project.as_ref().is_some_and(|pr| {
            std::path::absolute(p)
                .ok()
                .zip(pr.schemas_dir.canonicalize().ok())
                .is_some_and(|(abs, dir)| normalize(&abs).starts_with(dir))
        })
    };
    let forced = if args.schemas {
        Some(Mode::Schemas)
    } else if args.compare.documents || args.kind.is_some() {
        Some(Mode::Documents)
    } else {
        None
    };
    let in_dir = under_schemas(&pa) && under_schemas(&pb);
    let (mode, reason) = mode_of(&va, &vb, in_dir, forced);
    if global.format != crate::args::OutputFormat::Json && reason != ModeReason::Forced {
        let other = match mode {
            Mode::Schemas => "--documents to compare them as documents",
            Mode::Documents => "--schemas to compare them as schemas",
        };
        eprintln!(
            "note: comparing as {} ({}); pass {other}",
            if mode == Mode::Schemas {
                "schemas"
            } else {
                "documents"
            },
            reason.describe()
        );
    }
    match mode {
        Mode::Schemas => schema::run_files(
            global,
            args,
            project.as_ref(),
            (&sa, &va),
            (&sb, &vb),
            reason,
        ),
        Mode::Documents => document::run(global, args, project.as_ref(), (&sa, &va), (&sb, &vb)),
    }
}

/// `a/./b/../c` → `a/c`, without touching the file system.
fn normalize(p: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out.canonicalize().unwrap_or(out)
}

/// Reads and strictly parses a JSON, YAML or TOML file; errors name
/// file:line:col.
pub(crate) fn read(path: &Path) -> Result<(SourceText, Value), Fail> {
    let bytes = std::fs::read(path).map_err(|e| {
        let help = (e.kind() == std::io::ErrorKind::NotFound)
            .then(|| "check the path; it is taken relative to the current folder".to_owned());
        (format!("{}: cannot read: {e}", path.display()), help)
    })?;
    let format = Format::from_path(path).unwrap_or(Format::Json);
    let parsed = doc::decode(path, bytes, format)
        .and_then(|s| doc::parse(&s, ParseLimits::default()).map(|v| (s, v)));
    parsed.map_err(|e| {
        (
            e.to_string(),
            Some(format!(
                "fix the {} syntax at that place (duplicate keys and over-deep nesting are errors too)",
                format.name().to_uppercase()
            )),
        )
    })
}

/// The project and catalog, which `what` needs.
pub(crate) fn catalog(global: &Global, what: &str) -> Result<(Project, Catalog), Fail> {
    let project =
        load_project(global, true)?.ok_or_else(|| (format!("{what} needs a project"), None))?;
    let catalog =
        Catalog::load(&project).map_err(|e| (e.to_string(), e.help().map(str::to_owned)))?;
    Ok((project, catalog))
}

/// The kind named `name`, or an error listing the known ones.
pub(crate) fn kind<'a>(
    catalog: &'a Catalog,
    name: &str,
) -> Result<&'a statewright::spec::Kind, Fail> {
    catalog.kind(name).ok_or_else(|| {
        let known: Vec<&str> = catalog.kinds.keys().map(String::as_str).collect();
        (
            format!("unknown kind `{name}`"),
            Some(format!("known kinds: {}", known.join(", "))),
        )
    })
}

/// The offline registry for schema diffs: the project's mappings and
/// every catalog schema by `$id`.
pub(crate) fn registry(project: Option<&Project>) -> OfflineRegistry {
    project.map_or_else(OfflineRegistry::new, OfflineRegistry::for_project)
}

pub(crate) use statewright::diff::file_uri;

/// ANSI styling for human output, off when color is off.
#[derive(Clone, Copy)]
pub(crate) struct Paint(pub bool);

impl Paint {
    fn wrap(self, code: &str, s: &str) -> String {
        if self.0 {
            format!("\x1b[{code}m{s}\x1b[0m")
        } else {
            s.to_owned()
        }
    }
    pub fn red(self, s: &str) -> String {
        self.wrap("31", s)
    }
    pub fn green(self, s: &str) -> String {
        self.wrap("32", s)
    }
    pub fn yellow(self, s: &str) -> String {
        self.wrap("33", s)
    }
    pub fn bold(self, s: &str) -> String {
        self.wrap("1", s)
    }
    pub fn dim(self, s: &str) -> String {
        self.wrap("2", s)
    }
}

/// `::level props::data` with GitHub's escaping.
pub(crate) fn github_line(level: &str, props: &[(&str, String)], data: &str) -> String {
    let esc = |s: &str| {
        s.replace('%', "%25")
            .replace('\r', "%0D")
            .replace('\n', "%0A")
    };
    let props: Vec<String> = props
        .iter()
        .map(|(k, v)| format!("{k}={}", esc(v).replace(':', "%3A").replace(',', "%2C")))
        .collect();
    format!("::{level} {}::{}", props.join(","), esc(data))
}
