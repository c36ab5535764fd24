//! Rendering `statewright migrate` results: plans with their JSON Patch,
//! the run summary, status rows, verify findings and the sum file, for
//! people and as JSON; a progress line on stderr when it is a terminal.

use std::io::IsTerminal;
use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use statewright::migrate::{
    Direction, DocumentPlan, StatusRow, StatusState, StepSummary, Summary, VerifyReport,
};
use statewright::spec::migration::SumFile;
use statewright::store::WriteOutcome;

use crate::args::{Global, OutputFormat};
use crate::output::{display_path, plural};

/// Runs below this many documents print no progress.
const PROGRESS_MIN: usize = 50;

/// A `reading [####----] 120/300` bar on stderr (indicatif), redrawn in
/// place; only for long runs, and hidden when stderr is not a terminal.
pub struct Progress {
    bar: indicatif::ProgressBar,
}

impl Progress {
    /// A progress bar for `total` items.
    pub fn new(what: &'static str, total: usize) -> Progress {
        let bar = match total >= PROGRESS_MIN {
            // The stderr target draws nothing when stderr is not a terminal.
            true => indicatif::ProgressBar::with_draw_target(
                Some(total as u64),
                indicatif::ProgressDrawTarget::stderr(),
            ),
            false => indicatif::ProgressBar::hidden(),
        };
        if let Ok(style) = indicatif::ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len}") {
            bar.set_style(style.progress_chars("#>-"));
        }
        bar.set_message(what);
        Progress { bar }
    }

    /// One more item done.
    pub fn tick(&mut self) {
        self.bar.inc(1);
    }

    /// Ends the bar, leaving it on screen.
    pub fn finish(&self) {
        self.bar.finish();
    }
}

/// Says on stderr that the transaction is being written (long runs on a
/// terminal only).
pub fn progress_writing<T>(docs: &[T]) {
    if docs.len() >= PROGRESS_MIN && std::io::stderr().is_terminal() {
        eprintln!(
            "migrating and writing {} in one transaction…",
            plural(docs.len(), "document")
        );
    }
}

fn steps_line(steps: &[StepSummary]) -> String {
    steps
        .iter()
        .map(|s| {
            format!(
                "{} ({:?} v{} → v{})",
                s.migration, s.direction, s.from, s.to
            )
            .to_lowercase()
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// What each downgrade step loses on the document: one line per value
/// (its pointer and the value), or `nothing lost` for the step.
fn lost_lines(steps: &[StepSummary]) -> Vec<String> {
    steps
        .iter()
        .filter(|s| s.direction == Direction::Down)
        .flat_map(|s| {
            let lines: Vec<String> = match s.lost.is_empty() {
                true => vec![format!("{}: nothing lost", s.migration)],
                false => s
                    .lost
                    .iter()
                    .map(|l| {
                        format!(
                            "{}: {} at {} loses {}",
                            s.migration, l.op, l.pointer, l.lost
                        )
                    })
                    .collect(),
            };
            lines
        })
        .collect()
}

fn patch_lines(patch: &json_patch::Patch) -> Vec<String> {
    let ops = serde_json::to_value(patch).unwrap_or(Value::Null);
    ops.as_array()
        .into_iter()
        .flatten()
        .map(|op| {
            let name = op["op"].as_str().unwrap_or("?");
            let path = op["path"].as_str().unwrap_or("");
            match (op.get("from"), op.get("value")) {
                (Some(from), _) => format!("{name} {path} from {}", from.as_str().unwrap_or("")),
                (None, Some(v)) => format!("{name} {path}: {v}"),
                (None, None) => format!("{name} {path}"),
            }
        })
        .collect()
}

/// `--dry-run`: what each document would receive.
pub fn plans(global: &Global, plans: &[DocumentPlan]) {
    let changing: Vec<_> = plans.iter().filter(|p| !p.steps.is_empty()).collect();
    if global.format == OutputFormat::Json {
        let v = json!({
            "dry_run": true,
            "documents": plans,
            "summary": { "would_migrate": changing.len(), "unchanged": plans.len() - changing.len() },
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    for p in &changing {
        println!(
            "would migrate {}: {} v{} → v{}",
            p.path.display(),
            p.kind,
            p.from,
            p.to
        );
        println!("  steps: {}", steps_line(&p.steps));
        for l in lost_lines(&p.steps) {
            println!("  lost: {l}");
        }
        println!("  patch (RFC 6902):");
        for l in patch_lines(&p.patch) {
            println!("    {l}");
        }
    }
    println!(
        "dry run: {} would be migrated, {} already at the target; nothing written",
        plural(changing.len(), "document"),
        plans.len() - changing.len()
    );
}

/// The run's summary.
pub fn summary(global: &Global, s: &Summary, outcomes: &[WriteOutcome], dir: &Path) {
    // A namespace in a database keeps the versions replaced in its table.
    let backup_dir = match dir.to_str().is_some_and(|d| d.contains("://")) {
        true => std::path::PathBuf::from("statewright_versions"),
        false => dir.join(".backup"),
    };
    if global.format == OutputFormat::Json {
        let docs: Vec<_> = s
            .migrated
            .iter()
            .map(|m| {
                let o = outcomes.iter().find(|o| o.path.ends_with(&m.path));
                json!({
                    "path": m.path,
                    "kind": m.kind,
                    "from": m.from,
                    "to": m.to,
                    "steps": m.steps,
                    "history": m.history,
                    "serial": o.map(|o| o.serial),
                    "checksum": o.map(|o| o.checksum.clone()),
                })
            })
            .collect();
        let v = json!({
            "dry_run": false,
            "documents": docs,
            "unchanged": s.unchanged,
            "backup_dir": (!s.migrated.is_empty()).then(|| backup_dir.clone()),
            "summary": { "migrated": s.migrated.len(), "unchanged": s.unchanged.len(), "lossy": s.backup_first },
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    for m in &s.migrated {
        println!(
            "migrated {}: {} v{} → v{} ({})",
            m.path.display(),
            m.kind,
            m.from,
            m.to,
            steps_line(&m.steps)
        );
        for l in lost_lines(&m.steps) {
            println!("  lost: {l}");
        }
    }
    if s.backup_first {
        println!(
            "the versions replaced were backed up first in {}",
            display_path(&backup_dir)
        );
    }
    match s.migrated.len() {
        0 => println!(
            "nothing to migrate: {} already at the target",
            plural(s.unchanged.len(), "document")
        ),
        n => println!(
            "migrated {} in one transaction ({} already at the target); previous versions in {}",
            plural(n, "document"),
            s.unchanged.len(),
            display_path(&backup_dir)
        ),
    }
}

fn state_name(s: StatusState) -> &'static str {
    match s {
        StatusState::Current => "current",
        StatusState::Behind => "behind",
        StatusState::Newer => "newer",
        StatusState::NoKind => "no kind",
        StatusState::NoVersion => "no version",
    }
}

/// `migrate status`.
pub fn status(global: &Global, dir: &Path, rows: &[StatusRow]) {
    let count = |s: StatusState| rows.iter().filter(|r| r.status.state == s).count();
    if global.format == OutputFormat::Json {
        let v = json!({
            "state_dir": dir,
            "documents": rows,
            "summary": {
                "current": count(StatusState::Current),
                "behind": count(StatusState::Behind),
                "newer": count(StatusState::Newer),
                "unreadable": rows.iter().filter(|r| r.error.is_some()).count(),
            },
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    let width = rows
        .iter()
        .map(|r| r.status.path.as_os_str().len())
        .max()
        .unwrap_or(0);
    for StatusRow {
        status: r,
        error: e,
    } in rows
    {
        let v = |x: Option<u32>| x.map_or("?".to_owned(), |v| format!("v{v}"));
        let note = match (r.state, e) {
            (_, Some(e)) => format!("unreadable: {e}"),
            (StatusState::Behind, _) => "`statewright migrate` upgrades it".into(),
            (StatusState::Newer, _) => {
                "newer than this tool knows: upgrade statewright, or restore a backup".into()
            }
            _ => String::new(),
        };
        println!(
            "{:width$}  {:18} {:>4} of {:>4}  {:10} {}",
            r.path.display(),
            r.kind.as_deref().unwrap_or("-"),
            v(r.version),
            v(r.latest),
            state_name(r.state),
            note,
            width = width
        );
    }
    println!(
        "{} in {}: {} current, {} behind, {} newer",
        plural(rows.len(), "document"),
        display_path(dir),
        count(StatusState::Current),
        count(StatusState::Behind),
        count(StatusState::Newer)
    );
}

/// `migrate verify`.
pub fn verify(global: &Global, r: &VerifyReport) {
    if global.format == OutputFormat::Json {
        println!("{}", serde_json::to_string_pretty(r).unwrap_or_default());
        return;
    }
    for f in &r.findings {
        println!("{} {}: {}", f.code, display_path(&f.file), f.message);
    }
    for w in &r.warnings {
        println!(
            "warning {} {}: {}",
            w.code,
            display_path(&w.file),
            w.message
        );
    }
    println!(
        "{}; {}, {} and {} checked",
        match r.findings.len() {
            0 => "migrations verified".to_owned(),
            n => plural(n, "finding"),
        },
        plural(r.generated_checked, "generated document"),
        plural(r.upgrades_checked, "fixture upgrade"),
        plural(r.round_trips_checked, "round trip")
    );
}

/// `migrate hash`.
pub fn hash(global: &Global, dir: &Path, sum: &SumFile) {
    let path: PathBuf = dir.join(statewright::spec::migration::SUM_FILE);
    if global.format == OutputFormat::Json {
        let v = json!({
            "sum_file": path,
            "total": sum.total,
            "files": sum.entries.iter().map(|(f, h)| json!({"file": f, "hash": h})).collect::<Vec<_>>(),
        });
        println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        return;
    }
    println!(
        "wrote {}: {}, total {}",
        display_path(&path),
        plural(sum.entries.len(), "migration file"),
        sum.total
    );
}
