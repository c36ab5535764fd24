//! Rendering for people (miette reports with source snippets), for
//! machines (`--format json`, a stable contract) and for GitHub Actions
//! (`::error` annotation lines).

use std::fmt::Write as _;
use std::io::IsTerminal;
use std::path::Path;

use miette::{
    Diagnostic, GraphicalReportHandler, GraphicalTheme, LabeledSpan, NamedSource, SourceSpan,
};
use statewright::codes::Severity;
use statewright::finding::Finding;

use crate::args::{ColorChoice, Global};

/// Whether to color human output.
pub fn use_color(global: &Global) -> bool {
    match global.color {
        ColorChoice::Always => true,
        ColorChoice::Never => false,
        ColorChoice::Auto => {
            std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none()
        }
    }
}

fn handler(color: bool) -> GraphicalReportHandler {
    let theme = if color {
        GraphicalTheme::unicode()
    } else {
        GraphicalTheme::unicode_nocolor()
    };
    GraphicalReportHandler::new_themed(theme)
        .with_width(100)
        .with_context_lines(1)
}

/// A path as shown to people: relative to the current folder when inside it.
pub fn display_path(path: &Path) -> String {
    // A document in a database (`postgres://HOST:PORT/DB/NAMESPACE/...`)
    // is shown as named.
    if path.to_str().is_some_and(|s| s.contains("://")) {
        return path.display().to_string();
    }
    let cwd = std::env::current_dir().ok();
    let abs = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    cwd.and_then(|c| abs.strip_prefix(c).ok().map(|p| p.display().to_string()))
        .unwrap_or_else(|| path.display().to_string())
}

#[derive(Debug)]
struct FindingReport<'a> {
    finding: &'a Finding,
    source: Option<NamedSource<String>>,
    label: String,
    headline: String,
}

impl std::fmt::Display for FindingReport<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.headline)
    }
}
impl std::error::Error for FindingReport<'_> {}

impl Diagnostic for FindingReport<'_> {
    fn severity(&self) -> Option<miette::Severity> {
        Some(match self.finding.severity {
            Severity::Error => miette::Severity::Error,
            Severity::Warning => miette::Severity::Warning,
            Severity::Info => miette::Severity::Advice,
        })
    }
    fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
        Some(Box::new(&self.finding.remedy))
    }
    fn source_code(&self) -> Option<&dyn miette::SourceCode> {
        self.source.as_ref().map(|s| s as &dyn miette::SourceCode)
    }
    fn labels(&self) -> Option<Box<dyn Iterator<Item = LabeledSpan> + '_>> {
        let pos = self.finding.position?;
        self.source.as_ref()?;
        let span = SourceSpan::new(pos.offset.into(), 1);
        Some(Box::new(std::iter::once(LabeledSpan::new_with_span(
            Some(self.label.clone()),
            span,
        ))))
    }
}

/// Renders findings of one file for people. `text` is the file's text, for
/// the snippet.
pub fn human_findings(findings: &[Finding], text: Option<&str>, color: bool) -> String {
    let mut out = String::new();
    let h = handler(color);
    for f in findings {
        let shown = display_path(&f.file);
        let place = match f.position {
            Some(p) => format!("{shown}:{}:{}", p.line, p.column),
            None => shown.clone(),
        };
        let pointer = if f.pointer.is_empty() {
            "(document root)".to_owned()
        } else {
            f.pointer.clone()
        };
        let mut label = format!("at {pointer}");
        if let (Some(loc), Some(file)) = (&f.schema_location, &f.schema_file) {
            let _ = write!(label, " · schema {}#{loc}", display_path(file));
        }
        let report = FindingReport {
            finding: f,
            source: text.map(|t| NamedSource::new(shown.clone(), visible(t))),
            headline: if text.is_some() && f.position.is_some() {
                format!("[{}] {}", f.code, f.message)
            } else {
                format!("[{}] {place}: {}", f.code, f.message)
            },
            label,
        };
        let _ = h.render_report(&mut out, &report);
    }
    out
}

/// The text with control characters (a NUL, an escape) shown as `?`, one
/// byte for one so the positions stay right: a snippet never writes them
/// to the terminal.
fn visible(text: &str) -> String {
    text.chars()
        .map(|c| match c {
            '\n' | '\r' | '\t' => c,
            c if c.is_ascii_control() => '?',
            c => c,
        })
        .collect()
}

/// One GitHub Actions annotation line per finding.
pub fn github_findings(findings: &[Finding]) -> String {
    let mut out = String::new();
    for f in findings {
        let level = match f.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "notice",
        };
        let mut props = format!("file={}", gh_prop(&display_path(&f.file)));
        if let Some(p) = f.position {
            let _ = write!(props, ",line={},col={}", p.line, p.column);
        }
        let _ = write!(props, ",title={}", gh_prop(f.code));
        let pointer = if f.pointer.is_empty() {
            String::new()
        } else {
            format!(" (at {})", f.pointer)
        };
        let _ = writeln!(
            out,
            "::{level} {props}::{}",
            gh_data(&format!("{}{pointer}. {}", f.message, f.remedy))
        );
    }
    out
}

fn gh_data(s: &str) -> String {
    s.replace('%', "%25")
        .replace('\r', "%0D")
        .replace('\n', "%0A")
}

fn gh_prop(s: &str) -> String {
    gh_data(s).replace(':', "%3A").replace(',', "%2C")
}

/// Renders an error that stopped the command, with its help line.
pub fn human_error(message: &str, help: Option<&str>, color: bool) -> String {
    #[derive(Debug)]
    struct Plain<'a>(&'a str, Option<&'a str>);
    impl std::fmt::Display for Plain<'_> {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str(self.0)
        }
    }
    impl std::error::Error for Plain<'_> {}
    impl Diagnostic for Plain<'_> {
        fn help<'a>(&'a self) -> Option<Box<dyn std::fmt::Display + 'a>> {
            self.1.map(|h| Box::new(h) as Box<dyn std::fmt::Display>)
        }
    }
    let mut out = String::new();
    let _ = handler(color).render_report(&mut out, &Plain(message, help));
    out
}

/// Prints an error that stopped the command, in the chosen format, to stderr
/// (and as a JSON object on stdout for `--format json`).
pub fn print_error(global: &Global, message: &str, help: Option<&str>) {
    print_error_in(global, None, message, help);
}

/// [`print_error`] for an error about `file` (at line:col when known): the
/// GitHub annotation names the place, so it shows on the file.
pub fn print_error_in(
    global: &Global,
    file: Option<(&std::path::Path, Option<(usize, usize)>)>,
    message: &str,
    help: Option<&str>,
) {
    // A message that carries its own `; fix: …` gives it as the help.
    let (message, help) = match (help, message.rsplit_once("; fix: ")) {
        (None, Some((m, fix))) => (m, Some(fix.to_owned())),
        (help, _) => (message, help.map(str::to_owned)),
    };
    let help = help.as_deref();
    match global.format {
        crate::args::OutputFormat::Json => {
            let v = serde_json::json!({ "error": { "message": message, "help": help } });
            println!("{v}");
        }
        crate::args::OutputFormat::Github => {
            let mut props = String::new();
            if let Some((path, at)) = file {
                let _ = write!(props, "file={},", gh_prop(&display_path(path)));
                if let Some((line, col)) = at {
                    let _ = write!(props, "line={line},col={col},");
                }
            }
            let text = match help {
                Some(h) => format!("{message}. {h}"),
                None => message.to_owned(),
            };
            println!("::error {props}title=statewright::{}", gh_data(&text));
        }
        crate::args::OutputFormat::Human => {}
    }
    eprint!(
        "{}",
        human_error(
            message,
            help,
            use_color(global) && std::io::stderr().is_terminal()
        )
    );
}

/// `1 error`, `2 errors`.
pub fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("{n} {word}")
    } else {
        format!("{n} {word}s")
    }
}
