//! `statewright check`.

use statewright::check::{CheckReport, check_documents};
use statewright::codes::Severity;
use statewright::spec::Catalog;
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
    let report = check_documents(&validator, &state_dir).map_err(|e| (e.to_string(), None))?;
    print(global, &report);
    let threshold = match args.fail_on {
        FailOn::Error => Severity::Error,
        FailOn::Warning => Severity::Warning,
        FailOn::Info => Severity::Info,
    };
    Ok(if report.all_findings().any(|f| f.severity >= threshold) {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

fn print(global: &Global, report: &CheckReport) {
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
            });
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        OutputFormat::Github => {
            let all: Vec<_> = report.all_findings().cloned().collect();
            print!("{}", output::github_findings(&all));
        }
        OutputFormat::Human => {
            let color = output::use_color(global);
            for d in report.documents.iter().filter(|d| !d.findings.is_empty()) {
                let text = std::fs::read_to_string(&d.file).ok();
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
