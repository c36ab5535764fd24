//! `statewright diff` on two documents: a pointer-annotated diff, or the
//! RFC 6902 JSON Patch with `--format json`.

use serde_json::Value;
use statewright::diff::{DocDiffOptions, LineOp, NumberComparison, diff_documents, render_patch};
use statewright::spec::locate::locate;
use statewright::spec::{Catalog, EnvelopeFields, Project, SourceText};

use super::{DiffArgs, Fail, NumbersArg, Paint, github_line};
use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::output;

/// The envelope fields `--ignore-meta` leaves out.
fn meta_pointers(fields: &EnvelopeFields) -> Vec<String> {
    [
        &fields.generated_at,
        &fields.checksum,
        &fields.serial,
        &fields.lineage,
        &fields.origin,
    ]
    .into_iter()
    .cloned()
    .collect()
}

/// The envelope fields of the documents' kind: `--kind`, else the kind
/// whose path pattern matches A (or B) inside the project's state dir,
/// else the defaults.
fn envelope_fields(
    args: &DiffArgs,
    project: Option<&Project>,
    files: [&SourceText; 2],
) -> Result<EnvelopeFields, Fail> {
    let Some(project) = project else {
        return match &args.kind {
            Some(k) => Err((
                format!("--kind {k} needs a project to look the kind up in"),
                Some("run inside a project, or pass --project FILE".into()),
            )),
            None => Ok(EnvelopeFields::default()),
        };
    };
    if let Some(k) = &args.kind {
        return match project.kinds.get(k) {
            Some(spec) => Ok(spec.fields.clone()),
            None => {
                let known: Vec<&str> = project.kinds.keys().map(String::as_str).collect();
                Err((
                    format!("unknown kind `{k}`"),
                    Some(format!("known kinds: {}", known.join(", "))),
                ))
            }
        };
    }
    let Ok(catalog) = Catalog::load(project) else {
        return Ok(EnvelopeFields::default());
    };
    let state = project.state_dir.canonicalize().ok();
    for f in files {
        let rel = f
            .path
            .canonicalize()
            .ok()
            .zip(state.as_ref())
            .and_then(|(abs, s)| abs.strip_prefix(s).ok().map(|r| r.to_owned()));
        if let Some(k) = rel.and_then(|r| catalog.kind_for(&r)) {
            return Ok(k.spec.fields.clone());
        }
    }
    Ok(EnvelopeFields::default())
}

pub fn run(
    global: &Global,
    args: &DiffArgs,
    project: Option<&Project>,
    (sa, a): (&SourceText, &Value),
    (sb, b): (&SourceText, &Value),
) -> Result<Exit, Fail> {
    let mut ignore = Vec::new();
    for p in &args.ignore {
        if !p.is_empty() && !p.starts_with('/') {
            return Err((
                format!("--ignore `{p}` is not a JSON pointer"),
                Some("JSON pointers start with `/`, e.g. --ignore /generated_at or /builders/*/updated_at".into()),
            ));
        }
        ignore.push(p.clone());
    }
    if args.ignore_meta {
        ignore.extend(meta_pointers(&envelope_fields(args, project, [sa, sb])?));
    }
    let numbers = match args.numbers {
        NumbersArg::Value => NumberComparison::Value,
        NumbersArg::Lexical => NumberComparison::Lexical,
    };
    let opts = DocDiffOptions::ignore_meta(ignore).with_numbers(numbers);
    let patch = diff_documents(a, b, &opts);
    let lines = render_patch(a, &patch);
    let (na, nb) = (
        output::display_path(&sa.path),
        output::display_path(&sb.path),
    );
    match global.format {
        OutputFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&patch).unwrap_or_default()
            );
        }
        OutputFormat::Github => {
            for l in &lines {
                let (file, source) = match l.op {
                    LineOp::Removed => (&na, sa),
                    _ => (&nb, sb),
                };
                let mut props = vec![("file", file.clone())];
                if let Some(pos) = locate(source, &l.pointer) {
                    props.push(("line", pos.line.to_string()));
                    props.push(("col", pos.column.to_string()));
                }
                props.push(("title", "document differs".into()));
                println!("{}", github_line("warning", &props, &l.to_string()));
            }
        }
        OutputFormat::Human => {
            let paint = Paint(output::use_color(global));
            println!("{}", paint.red(&format!("--- {na}")));
            println!("{}", paint.green(&format!("+++ {nb}")));
            for l in &lines {
                let text = l.to_string();
                let styled = match l.op {
                    LineOp::Added => paint.green(&text),
                    LineOp::Removed => paint.red(&text),
                    LineOp::Changed => paint.yellow(&text),
                };
                // Where the line is: in A for removals, in B otherwise.
                let (file, source) = match l.op {
                    LineOp::Removed => (&na, sa),
                    _ => (&nb, sb),
                };
                match locate(source, &l.pointer) {
                    Some(p) => println!("{styled}  {}", paint.dim(&format!("({file}:{})", p.line))),
                    None => println!("{styled}"),
                }
            }
            let count = |op: LineOp| lines.iter().filter(|l| l.op == op).count();
            if lines.is_empty() {
                println!("no differences");
            } else {
                println!(
                    "{}: {} added, {} removed, {} changed",
                    output::plural(lines.len(), "difference"),
                    count(LineOp::Added),
                    count(LineOp::Removed),
                    count(LineOp::Changed),
                );
            }
        }
    }
    // Every difference between documents counts as reaching --fail-on
    // (as with diff(1)), except under `uncovered`, which is about schemas.
    Ok(
        if patch.0.is_empty() || args.fail_on == super::DiffFailOn::Uncovered {
            Exit::Clean
        } else {
            Exit::Findings
        },
    )
}
