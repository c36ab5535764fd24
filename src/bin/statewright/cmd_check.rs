//! `statewright check`.

use statewright::check::database::check_backend;
use statewright::check::repair::{RepairReport, repair};
use statewright::check::{CheckOptions, CheckReport, check_state};
use statewright::codes::Severity;
use statewright::spec::Catalog;
use statewright::spec::migration::{MigrationSet, load_dir};
use statewright::store::Store;
use statewright::validate::Validator;

use crate::args::{CheckArgs, FailOn, Global, OutputFormat};
use crate::cmd_validate::{load_project, options, registry};
use crate::exit::Exit;
use crate::output;

pub fn run(global: &Global, args: CheckArgs) -> Exit {
    match check(global, &args) {
        Ok(exit) => exit,
        Err((message, help)) => {
            output::print_error(global, &message, help.as_deref());
            Exit::Usage
        }
    }
}

fn check(global: &Global, args: &CheckArgs) -> Result<Exit, (String, Option<String>)> {
    let project = load_project(global, true)?.expect("required project");
    let catalog =
        Catalog::load(&project).map_err(|e| (e.to_string(), e.help().map(str::to_owned)))?;
    if crate::store::remote(&project, args.state_dir.as_deref()).is_some() {
        return check_database(global, args, &project);
    }
    let state_dir = args
        .state_dir
        .clone()
        .unwrap_or_else(|| project.state_dir.clone());
    if !state_dir.is_dir() {
        return Err((
            format!("{}: no such state directory", state_dir.display()),
            Some("pass the state dir, or set [project] state in statewright.toml".into()),
        ));
    }
    let validator = Validator::new(
        Some(catalog),
        registry(Some(&project), &args.schema_opts),
        options(&args.schema_opts, None),
    );
    let migrations = match load_dir(&project.migrations_dir) {
        Ok(m) => Some(m),
        Err(e) => {
            eprintln!("warning: migration history not checked: {e}");
            None
        }
    };
    let run_check = |m: Option<&MigrationSet>| {
        let opts = CheckOptions {
            migrations: m,
            store: true,
            threads: 0,
        };
        check_state(&validator, &state_dir, &opts).map_err(|e| (e.to_string(), None))
    };
    let mut report = run_check(migrations.as_ref())?;
    let mut repairs = None;
    if args.repair {
        let store = Store::open_read_only(
            validator.catalog().expect("catalog"),
            &state_dir,
            crate::store::store_options(global, &project),
        )
        .map_err(|e| (e.to_string(), None))?;
        let lock = crate::store::lock_options(global, "check --repair");
        match repair(&store, &lock, &report) {
            Ok(r) => repairs = Some(r),
            Err(e) => return Ok(crate::store::error(global, &e)),
        }
        report = run_check(migrations.as_ref())?;
    }
    print(global, &report, repairs.as_ref());
    Ok(verdict(args, &report))
}

/// `check` of a namespace in a database (`[project] state =
/// "postgres://…"`): the document and store checks a database can fail
/// ([`statewright::check::database`]). `--repair` repairs as on files:
/// under the lock (clearing the record of a holder whose session ended),
/// a document that fails a read check is restored from its newest good
/// kept version.
fn check_database(
    global: &Global,
    args: &CheckArgs,
    project: &statewright::spec::Project,
) -> Result<Exit, (String, Option<String>)> {
    let opened = match crate::store::open(global, None) {
        Ok(o) => o,
        Err(exit) => return Ok(exit),
    };
    let validator = Validator::new(
        Some(opened.catalog.clone()),
        registry(Some(project), &args.schema_opts),
        options(&args.schema_opts, None),
    );
    let migrations = load_dir(&project.migrations_dir).ok();
    let run_check = || {
        check_backend(&validator, &opened.store, migrations.as_ref())
            .map_err(|e| crate::store::error(global, &e))
    };
    let mut report = match run_check() {
        Ok(r) => r,
        Err(exit) => return Ok(exit),
    };
    let mut repairs = None;
    if args.repair {
        let lock = crate::store::lock_options(global, "check --repair");
        match repair(&opened.store, &lock, &report) {
            Ok(r) => repairs = Some(r),
            Err(e) => return Ok(crate::store::error(global, &e)),
        }
        report = match run_check() {
            Ok(r) => r,
            Err(exit) => return Ok(exit),
        };
    }
    print(global, &report, repairs.as_ref());
    Ok(verdict(args, &report))
}

/// Exit 1 when a finding reaches `--fail-on`.
fn verdict(args: &CheckArgs, report: &CheckReport) -> Exit {
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    if report.all_findings().any(|f| f.severity >= threshold) {
        Exit::Findings
    } else {
        Exit::Clean
    }
}

fn print(global: &Global, report: &CheckReport, repairs: Option<&RepairReport>) {
    let count = |s: Severity| report.all_findings().filter(|f| f.severity == s).count();
    let (errors, warnings, infos) = (
        count(Severity::Error),
        count(Severity::Warning),
        count(Severity::Info),
    );
    match global.format {
        OutputFormat::Json => {
            let v = serde_json::json!({
                "state_dir": report.state_dir,
                "documents": report.documents,
                "findings": report.findings,
                "summary": { "documents": report.documents.len(), "errors": errors, "warnings": warnings, "info": infos },
                "repairs": repairs,
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        OutputFormat::Github => {
            let all: Vec<_> = report.all_findings().cloned().collect();
            print!("{}", output::github_findings(&all));
        }
        OutputFormat::Human => {
            if let Some(r) = repairs {
                print_repairs(r);
            }
            let color = output::use_color(global);
            for d in report.documents.iter().filter(|d| !d.findings.is_empty()) {
                let text = statewright::store::fs::read_regular(&d.file, true)
                    .ok()
                    .and_then(|b| String::from_utf8(b).ok());
                print!(
                    "{}",
                    output::human_findings(&d.findings, text.as_deref(), color)
                );
            }
            print!("{}", output::human_findings(&report.findings, None, color));
            println!(
                "checked {} in {}: {}, {}, {}",
                output::plural(report.documents.len(), "document"),
                output::display_path(&report.state_dir),
                output::plural(errors, "error"),
                output::plural(warnings, "warning"),
                output::plural(infos, "note"),
            );
        }
    }
}

fn print_repairs(r: &RepairReport) {
    for a in &r.actions {
        println!("repaired: {a}");
    }
    for w in &r.warnings {
        println!("warning: {w}");
    }
    for u in &r.unrepaired {
        println!("not repaired: {u}");
    }
    if r.actions.is_empty() && r.unrepaired.is_empty() {
        println!("repair: nothing to do");
    }
}
