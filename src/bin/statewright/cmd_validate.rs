//! `statewright validate`.

use std::path::PathBuf;

use statewright::finding::DocumentReport;
use statewright::spec::{Catalog, Format, OfflineRegistry, ParseLimits, Project};
use statewright::validate::{Target, ValidateError, ValidateOptions, Validator};

use crate::args::{DraftArg, Global, InputFormat, OutputFormat, SchemaOpts, ValidateArgs};
use crate::exit::Exit;
use crate::output;

/// Loads the project: the named file, or the nearest one. `required`
/// decides whether its absence is an error.
pub fn load_project(
    global: &Global,
    required: bool,
) -> Result<Option<Project>, (String, Option<String>)> {
    let found = match &global.project {
        Some(file) => Project::load(file).map(Some),
        None => match Project::discover(&std::env::current_dir().unwrap_or_default()) {
            Ok(p) => Ok(Some(p)),
            Err(statewright::spec::ProjectError::NotFound { .. }) if !required => Ok(None),
            Err(e) => Err(e),
        },
    };
    found.map_err(|e| (e.to_string(), e.help().map(str::to_owned)))
}

/// The offline registry: the project's mappings plus the command line's.
pub fn registry(project: Option<&Project>, opts: &SchemaOpts) -> OfflineRegistry {
    let mut r = project.map_or_else(OfflineRegistry::new, OfflineRegistry::for_project);
    for (prefix, dir) in &opts.schema_dirs {
        r.map(
            prefix.clone(),
            std::path::absolute(dir).unwrap_or_else(|_| dir.clone()),
        );
    }
    r
}

/// Validation options from the command line.
pub fn options(opts: &SchemaOpts, format: Option<InputFormat>) -> ValidateOptions {
    ValidateOptions {
        limits: ParseLimits {
            max_depth: opts.max_depth,
            ..ParseLimits::default()
        },
        draft: opts.draft.map(|d| match d {
            DraftArg::D4 => jsonschema::Draft::Draft4,
            DraftArg::D6 => jsonschema::Draft::Draft6,
            DraftArg::D7 => jsonschema::Draft::Draft7,
            DraftArg::D201909 => jsonschema::Draft::Draft201909,
            DraftArg::D202012 => jsonschema::Draft::Draft202012,
        }),
        validate_formats: if opts.no_formats {
            Some(false)
        } else if opts.formats {
            Some(true)
        } else {
            None
        },
        format: format.map(|f| match f {
            InputFormat::Json => Format::Json,
            InputFormat::Yaml => Format::Yaml,
            InputFormat::Toml => Format::Toml,
        }),
    }
}

pub fn run(global: &Global, args: ValidateArgs) -> Exit {
    match validate(global, &args) {
        Ok(exit) => exit,
        Err((message, help)) => {
            output::print_error(global, &message, help.as_deref());
            Exit::Usage
        }
    }
}

fn err(e: ValidateError) -> (String, Option<String>) {
    let help = match &e {
        ValidateError::Project(p) => p.help().map(str::to_owned),
        ValidateError::Schema { .. } => Some(
            "fix the schema, or map unresolvable $ref prefixes with --schema-dir PREFIX=DIR"
                .to_owned(),
        ),
        _ => None,
    };
    (e.to_string(), help)
}

fn validate(global: &Global, args: &ValidateArgs) -> Result<Exit, (String, Option<String>)> {
    let needs_catalog = args.schema.is_none();
    let project = load_project(global, needs_catalog)?;
    let catalog = match &project {
        Some(p) if needs_catalog => Some(Catalog::load(p).map_err(|e| err(e.into()))?),
        _ => None,
    };
    let target = match (&args.schema, &args.kind) {
        (Some(s), _) => Target::Schema(s.clone()),
        (None, Some(k)) => Target::Kind(k.clone()),
        (None, None) => Target::Auto,
    };
    let paths: Vec<PathBuf> = if args.paths.is_empty() {
        match &project {
            Some(p) if p.state_url.is_some() => {
                return validate_database(global, args, catalog, project.as_ref());
            }
            Some(p) => vec![p.state_dir.clone()],
            None => {
                return Err((
                    "no paths given and no project file to find a state dir in".into(),
                    Some("pass files or folders to validate, or --project FILE".into()),
                ));
            }
        }
    } else {
        args.paths.clone()
    };
    for p in &paths {
        if !p.exists() {
            return Err((format!("{}: no such file or folder", p.display()), None));
        }
    }
    let validator = Validator::new(
        catalog,
        registry(project.as_ref(), &args.schema_opts),
        options(&args.schema_opts, args.input_format),
    );
    let (docs, unmatched) = if matches!(target, Target::Auto) {
        validator.collect(&paths).map_err(err)?
    } else {
        let mut files = Vec::new();
        for p in &paths {
            if p.is_dir() {
                let (d, u) = validator.collect(std::slice::from_ref(p)).map_err(err)?;
                files.extend(d);
                files.extend(u);
            } else {
                files.push(p.clone());
            }
        }
        (files, Vec::new())
    };
    let reports = validator.validate_files(&docs, &target).map_err(err)?;
    print_reports(global, &reports, &unmatched);
    // The process exits next: tearing down the compiled schemas (a large
    // tree of small allocations) would only cost time.
    std::mem::forget(validator);
    Ok(if reports.iter().any(DocumentReport::has_errors) {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

/// `validate` of a project whose state is a database namespace: every
/// document it holds, read through the store.
fn validate_database(
    global: &Global,
    args: &ValidateArgs,
    catalog: Option<Catalog>,
    project: Option<&statewright::spec::Project>,
) -> Result<Exit, (String, Option<String>)> {
    if args.schema.is_some() || args.kind.is_some() {
        return Err((
            "--schema and --kind apply to files; a database namespace is validated by its kinds"
                .into(),
            Some("drop --schema/--kind, or pass files or folders to validate".into()),
        ));
    }
    // The store prints why it cannot open; its exit code is the answer.
    let opened = match crate::store::open_read_only(global, None) {
        Ok(o) => o,
        Err(code) => return Ok(code),
    };
    let validator = Validator::new(
        catalog,
        registry(project, &args.schema_opts),
        options(&args.schema_opts, args.input_format),
    );
    let (reports, unmatched) = validator.validate_store(&opened.store).map_err(err)?;
    print_reports(global, &reports, &unmatched);
    Ok(if reports.iter().any(DocumentReport::has_errors) {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

/// Prints validation reports in the chosen format.
pub fn print_reports(global: &Global, reports: &[DocumentReport], unmatched: &[PathBuf]) {
    let invalid = reports.iter().filter(|r| r.has_errors()).count();
    let findings: usize = reports.iter().map(|r| r.findings.len()).sum();
    match global.format {
        OutputFormat::Json => {
            // Paths as the user would type them: relative to the current folder when inside it.
            let shown: Vec<DocumentReport> = reports
                .iter()
                .cloned()
                .map(|mut r| {
                    r.schema = r.schema.map(|p| output::display_path(&p).into());
                    for f in &mut r.findings {
                        f.schema_file = f
                            .schema_file
                            .take()
                            .map(|p| output::display_path(&p).into());
                    }
                    r
                })
                .collect();
            let v = serde_json::json!({
                "documents": shown,
                "unmatched": unmatched,
                "summary": {
                    "documents": reports.len(),
                    "valid": reports.len() - invalid,
                    "invalid": invalid,
                    "findings": findings,
                    "unmatched": unmatched.len(),
                }
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        OutputFormat::Github => {
            for r in reports {
                print!("{}", output::github_findings(&r.findings));
            }
        }
        OutputFormat::Human => {
            let color = output::use_color(global);
            for r in reports.iter().filter(|r| !r.findings.is_empty()) {
                let text = statewright::store::fs::read_regular(&r.file, true)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok());
                print!(
                    "{}",
                    output::human_findings(&r.findings, text.as_deref(), color)
                );
            }
            for u in unmatched {
                println!("note: {} matches no kind; skipped", output::display_path(u));
            }
            println!(
                "{} checked: {} valid, {} invalid, {}",
                output::plural(reports.len(), "document"),
                reports.len() - invalid,
                invalid,
                output::plural(findings, "finding"),
            );
        }
    }
}
