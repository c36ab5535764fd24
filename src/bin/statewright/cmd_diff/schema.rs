//! `statewright diff` on two schemas: rule-coded changes with pointers,
//! verdicts, and the migration's coverage for adjacent catalog versions.

use std::fmt::Write as _;
use std::path::Path;

use serde_json::{Value, json};
use statewright::diff::{
    Coverage, ModeReason, SchemaDiff, SchemaDiffOptions, Severity, StepCoverage,
    catalog_version_of, diff_schemas, rule_info, step_coverage, uncovered, version_pointer,
};
use statewright::spec::locate::locate;
use statewright::spec::{Project, SourceText};

use super::{
    DiffArgs, DiffFailOn, Fail, Paint, catalog, file_uri, github_line, kind, read, registry,
};
use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::output;

/// One schema of the comparison.
struct Side<'a> {
    source: &'a SourceText,
    value: &'a Value,
}

impl Side<'_> {
    fn shown(&self) -> String {
        output::display_path(&self.source.path)
    }

    /// `file:line:col` of a pointer into this schema, or the file alone.
    fn place(&self, pointer: &str) -> String {
        match locate(self.source, pointer) {
            Some(p) if !pointer.contains('#') => format!("{}:{p}", self.shown()),
            _ => self.shown(),
        }
    }
}

/// `--kind K N M`.
pub fn run_kind(
    global: &Global,
    args: &DiffArgs,
    kind_name: &str,
    va: u32,
    vb: u32,
) -> Result<Exit, Fail> {
    let (project, catalog) = catalog(global, "`diff --kind`")?;
    let k = kind(&catalog, kind_name)?;
    let file = |v: u32| {
        k.version(v).map(|s| s.path.clone()).ok_or_else(|| {
            let known: Vec<String> = k.versions.keys().map(|v| v.to_string()).collect();
            (
                format!("kind `{kind_name}` has no schema version {v}"),
                Some(format!("its versions are: {}", known.join(", "))),
            )
        })
    };
    let (fa, fb) = (file(va)?, file(vb)?);
    let (sa, a) = read(&fa)?;
    let (sb, b) = read(&fb)?;
    report(
        global,
        args,
        Some(&project),
        (
            Side {
                source: &sa,
                value: &a,
            },
            Side {
                source: &sb,
                value: &b,
            },
        ),
        Some((kind_name, va, vb)),
        ModeReason::Forced,
    )
}

/// `diff A B` where A and B are schema files.
pub fn run_files(
    global: &Global,
    args: &DiffArgs,
    project: Option<&Project>,
    (sa, a): (&SourceText, &Value),
    (sb, b): (&SourceText, &Value),
    reason: ModeReason,
) -> Result<Exit, Fail> {
    // Two versions of one kind in the schemas dir: the same as --kind.
    let version_of = |p: &Path| project.and_then(|project| catalog_version_of(project, p));
    let step = match (version_of(&sa.path), version_of(&sb.path)) {
        (Some((ka, va)), Some((kb, vb))) if ka == kb => Some((ka, va, vb)),
        _ => None,
    };
    report(
        global,
        args,
        project,
        (
            Side {
                source: sa,
                value: a,
            },
            Side {
                source: sb,
                value: b,
            },
        ),
        step.as_ref().map(|(k, a, b)| (k.as_str(), *a, *b)),
        reason,
    )
}

fn report(
    global: &Global,
    args: &DiffArgs,
    project: Option<&Project>,
    (a, b): (Side<'_>, Side<'_>),
    step: Option<(&str, u32, u32)>,
    reason: ModeReason,
) -> Result<Exit, Fail> {
    let mut opts = SchemaDiffOptions::new()
        .with_registry(registry(project))
        .with_bases(file_uri(&a.source.path), file_uri(&b.source.path))
        .with_compatibility(args.compare.compatibility(project))
        .with_formats(args.compare.validate_formats());
    if let (Some(p), Some((k, va, vb))) = (project, step) {
        opts = opts.with_version_field(version_pointer(p, k), va, vb);
    }
    let diff = diff_schemas(a.value, b.value, &opts).map_err(|e| {
        (
            e.to_string(),
            Some(
                "fix the reference, or map its URL prefix to a folder with [project] schema_dirs"
                    .into(),
            ),
        )
    })?;
    let steps = match (project, step) {
        (Some(p), Some((k, va, vb))) if vb > va => {
            step_coverage(p, k, (va, vb), (a.value, b.value, &diff))
                .map_err(|e| (e.to_string(), None))?
        }
        _ => Vec::new(),
    };
    match global.format {
        OutputFormat::Json => print_json(&a, &b, &diff, &steps, reason),
        OutputFormat::Github => print_github(&a, &b, &diff, &steps),
        OutputFormat::Human => print!(
            "{}",
            human(&a, &b, &diff, &steps, Paint(output::use_color(global)))
        ),
    }
    let open: usize = steps.iter().map(|s| uncovered(&s.items).count()).sum();
    let threshold = match args.fail_on {
        DiffFailOn::Any => Some(Severity::Info),
        DiffFailOn::Warning => Some(Severity::Warning),
        DiffFailOn::Breaking => Some(Severity::Breaking),
        DiffFailOn::Uncovered => None,
    };
    let reached = threshold.is_some_and(|t| diff.worst().is_some_and(|w| w >= t));
    Ok(if reached || open > 0 {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

fn verdict(ok: bool) -> &'static str {
    if ok { "ok" } else { "breaks" }
}

fn human(a: &Side, b: &Side, diff: &SchemaDiff, steps: &[StepCoverage], paint: Paint) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{}",
        paint.bold(&format!("schema diff {} → {}", a.shown(), b.shown()))
    );
    for c in &diff.changes {
        let (label, styled) = match c.severity {
            Severity::Breaking => ("breaking", paint.red("breaking")),
            Severity::Warning if c.possibly_breaking => {
                ("possibly breaking", paint.yellow("possibly breaking"))
            }
            Severity::Warning => ("warning", paint.yellow("warning")),
            Severity::Info => ("info", paint.dim("info")),
        };
        let pad = " ".repeat(8usize.saturating_sub(label.len()));
        let _ = writeln!(out, "\n{styled}{pad} {} {}", paint.bold(c.rule), c.message);
        for (tag, side, ptr) in [("A", a, &c.pointer_a), ("B", b, &c.pointer_b)] {
            match ptr {
                Some(p) => {
                    let shown = if p.is_empty() { "(root)" } else { p };
                    let _ = writeln!(out, "         {tag} {shown}  {}", paint.dim(&side.place(p)));
                }
                None => {
                    let _ = writeln!(out, "         {tag} (absent)");
                }
            }
        }
        if c.is_version_bump() {
            let _ = writeln!(
                out,
                "         not breaking: `statewright migrate` writes the new version into each document"
            );
            continue;
        }
        let _ = writeln!(
            out,
            "         readers: {} (old documents under B)  writers: {} (new documents under A)",
            verdict(c.backward_compatible),
            verdict(c.forward_compatible)
        );
        if let Some(w) = &c.witness {
            let _ = writeln!(out, "         witness: {}", w.line());
        } else if c.severity == Severity::Breaking {
            let _ = writeln!(
                out,
                "         no witness: no generated document was valid under the accepting schema, so the rules' verdict stands"
            );
        } else if c.possibly_breaking {
            let _ = writeln!(
                out,
                "         no witness found: no generated document is valid under one schema and rejected by the other here"
            );
        }
    }
    let count = |s: Severity| diff.changes.iter().filter(|c| c.severity == s).count();
    let possibly = diff.changes.iter().filter(|c| c.possibly_breaking).count();
    let _ = writeln!(
        out,
        "\n{}: {} breaking, {}, {} info; compatibility: {}; checked: {}{}",
        output::plural(diff.changes.len(), "change"),
        count(Severity::Breaking),
        output::plural(count(Severity::Warning), "warning"),
        count(Severity::Info),
        diff.compatibility(),
        diff.mode.name(),
        if possibly > 0 {
            format!(" ({possibly} of the warnings possibly breaking: no witness)")
        } else {
            String::new()
        },
    );
    for s in steps {
        human_step(&mut out, s, paint);
    }
    out
}

fn human_step(out: &mut String, s: &StepCoverage, paint: Paint) {
    let open: Vec<&Coverage> = uncovered(&s.items).collect();
    if s.items.is_empty() && s.file.is_none() {
        let _ = writeln!(
            out,
            "no migration from v{} to v{}, and none needed: no backward-incompatible change",
            s.from,
            s.from + 1
        );
        return;
    }
    let name = s.file.as_deref().map_or_else(
        || format!("(none: no migration from v{} to v{})", s.from, s.from + 1),
        output::display_path,
    );
    if open.is_empty() {
        let _ = writeln!(
            out,
            "migration {name} accounts for all {} backward-incompatible {}",
            s.items.len(),
            if s.items.len() == 1 {
                "change"
            } else {
                "changes"
            }
        );
        return;
    }
    let _ = writeln!(
        out,
        "\n{}",
        paint.red(&format!("not covered by migration {name}:"))
    );
    for c in &open {
        let path = c.document_path.as_deref().unwrap_or("(not traceable)");
        let _ = writeln!(
            out,
            "  {} {}: {}\n      needs {} at {path}",
            paint.bold(c.change.rule),
            path,
            c.change.message,
            c.needs.ops()
        );
    }
    let hint = match &s.file {
        Some(f) => format!(
            "add the ops to {}, then run `statewright migrate hash`",
            output::display_path(f)
        ),
        None => format!("draft one with `statewright migrate new {}`", s.kind),
    };
    let _ = writeln!(
        out,
        "{} not covered; {hint}",
        output::plural(open.len(), "change")
    );
}

fn print_json(a: &Side, b: &Side, diff: &SchemaDiff, steps: &[StepCoverage], reason: ModeReason) {
    let changes: Vec<Value> = diff
        .changes
        .iter()
        .map(|c| {
            let mut v = serde_json::to_value(c).unwrap_or_default();
            v["title"] = json!(rule_info(c.rule).map(|r| r.title));
            v
        })
        .collect();
    let count = |s: Severity| diff.changes.iter().filter(|c| c.severity == s).count();
    let migrations: Vec<Value> = steps
        .iter()
        .map(|s| {
            json!({
                "kind": s.kind,
                "from": s.from,
                "to": s.from + 1,
                "file": s.file.as_deref().map(output::display_path),
                "changes": s.items.iter().map(|c| json!({
                    "rule": c.change.rule,
                    "pointer_b": c.change.pointer_b,
                    "message": c.change.message,
                    "document_path": c.document_path,
                    "needs": c.needs,
                    "covered_by": c.covered_by,
                })).collect::<Vec<_>>(),
                "uncovered": uncovered(&s.items).count(),
            })
        })
        .collect();
    let v = json!({
        "a": a.shown(),
        "b": b.shown(),
        "compared_as": "schemas",
        "compared_as_because": reason,
        "changes": changes,
        "summary": {
            "changes": diff.changes.len(),
            "breaking": count(Severity::Breaking),
            "warning": count(Severity::Warning),
            "info": count(Severity::Info),
            "possibly_breaking": diff.changes.iter().filter(|c| c.possibly_breaking).count(),
            "backward": diff.backward,
            "forward": diff.forward,
            "compatibility": diff.compatibility(),
            "mode": diff.mode,
            "backward_witness": diff.backward_witness,
            "forward_witness": diff.forward_witness,
        },
        "migrations": migrations,
    });
    println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
}

fn print_github(a: &Side, b: &Side, diff: &SchemaDiff, steps: &[StepCoverage]) {
    for c in &diff.changes {
        let level = match c.severity {
            Severity::Breaking => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = Vec::new();
        let (side, ptr) = match &c.pointer_b {
            Some(p) => (b, p),
            None => (a, c.pointer_a.as_ref().expect("a change has a pointer")),
        };
        props.push(("file", side.shown()));
        if let Some(pos) = locate(side.source, ptr).filter(|_| !ptr.contains('#')) {
            props.push(("line", pos.line.to_string()));
            props.push(("col", pos.column.to_string()));
        }
        props.push(("title", c.rule.to_owned()));
        let verdicts = if c.is_version_bump() {
            String::new()
        } else {
            format!(
                "; readers {}, writers {}",
                verdict(c.backward_compatible),
                verdict(c.forward_compatible)
            )
        };
        let witness = c
            .witness
            .as_ref()
            .map(|w| format!("; witness: {}", w.line()))
            .unwrap_or_default();
        let data = format!(
            "{} (A {}, B {}{verdicts}){witness}",
            c.message,
            c.pointer_a.as_deref().unwrap_or("absent"),
            c.pointer_b.as_deref().unwrap_or("absent"),
        );
        println!("{}", github_line(level, &props, &data));
    }
    for s in steps {
        for c in uncovered(&s.items) {
            let file = s
                .file
                .as_deref()
                .map_or_else(|| b.shown(), output::display_path);
            let data = format!(
                "{} at {} is not covered by the migration: needs {}",
                c.change.message,
                c.document_path.as_deref().unwrap_or("?"),
                c.needs.ops()
            );
            let props = [
                ("file", file),
                ("title", format!("uncovered {}", c.change.rule)),
            ];
            println!("{}", github_line("error", &props, &data));
        }
    }
}
