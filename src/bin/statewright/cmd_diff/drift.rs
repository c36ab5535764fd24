//! `statewright diff --drift`: template manifests against the
//! packer-hybrid documents of a state dir (hybridcore "Template Manifest
//! Hooks"), listed and read through the store opened read-only.

use std::path::{Path, PathBuf};

use serde_json::{Value, json};
use statewright::diff::{DiffError, DriftFinding, drift, drift_kinds, manifest_path};
use statewright::spec::locate::locate;
use statewright::spec::{SourceText, document as doc};
use statewright::store::{Store, StoreError, StoreOptions};

use super::{DiffArgs, Fail, Paint, github_line, read};
use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::output;

/// One state document compared with its manifest.
struct Compared {
    state: PathBuf,
    manifest: PathBuf,
    builders: usize,
    findings: Vec<DriftFinding>,
}

pub fn run(global: &Global, args: &DiffArgs, dir: Option<&Path>) -> Result<Exit, Fail> {
    let (project, catalog) = super::catalog(global, "`diff --drift`")?;
    let remote = crate::store::remote(&project, dir).map(str::to_owned);
    let state_dir = dir.map_or_else(|| project.state_dir.clone(), Path::to_path_buf);
    if remote.is_none() && !state_dir.is_dir() {
        return Err((
            format!("{}: no such state directory", state_dir.display()),
            Some("pass the state dir, or set [project] state in statewright.toml".into()),
        ));
    }
    let kinds = drift_kinds(&catalog, args.kind.as_deref()).map_err(|e| {
        (
            e.to_string(),
            Some("declare where each document's template manifest is: `drift = { template = \"/template_path\", manifest = \"{stem}.manifest.json\", strip = [\".pkr.hcl\"] }` under [kinds.<name>], or pass --kind K --manifest FILE".into()),
        )
    })?;
    for k in &kinds {
        super::kind(&catalog, k)?;
    }
    // Read-only: no lock, no recovery, nothing changed; every document
    // passes the store's read checks before it is compared. Manifests are
    // files of the repository: next to the state dir, or, for a database
    // namespace, under the project file's folder.
    let (store, root) = open_store(&project, &catalog, remote.as_deref(), &state_dir)?;
    let mut docs = store.document_paths().map_err(store_error)?;
    docs.retain(|rel| {
        catalog
            .kind_for(Path::new(rel))
            .is_some_and(|k| kinds.contains(&k.name))
    });
    if docs.is_empty() {
        let patterns: Vec<&str> = kinds
            .iter()
            .filter_map(|k| catalog.kind(k).map(|k| k.spec.path.as_str()))
            .collect();
        return Err((
            format!(
                "{}: no `{}` document to compare (pattern `{}`)",
                output::display_path(store.dir()),
                kinds.join("`, `"),
                patterns.join("`, `")
            ),
            Some("pass the state dir that holds the template state".into()),
        ));
    }
    let mut compared = Vec::new();
    for rel in &docs {
        compared.push(compare(
            &store,
            &catalog,
            &root,
            args.manifest.as_deref(),
            rel,
        )?);
    }
    print(global, &compared);
    Ok(if compared.iter().any(|c| !c.findings.is_empty()) {
        Exit::Findings
    } else {
        Exit::Clean
    })
}

/// The store the documents are read from, read-only (no lock, no
/// recovery), and the folder manifests are found under: next to the state
/// dir, or, for a database namespace, the project file's folder.
fn open_store(
    project: &statewright::spec::Project,
    catalog: &statewright::spec::Catalog,
    remote: Option<&str>,
    state_dir: &Path,
) -> Result<(Store, PathBuf), Fail> {
    let mut opts = StoreOptions::from_project(project);
    opts.recover = false;
    match remote {
        Some(url) => {
            let (store, _) = Store::open_url(catalog, url, opts).map_err(store_error)?;
            Ok((store, project.root.clone()))
        }
        None => {
            let store = Store::open_read_only(catalog, state_dir, opts).map_err(store_error)?;
            let root = state_dir.parent().unwrap_or(Path::new(".")).to_path_buf();
            Ok((store, root))
        }
    }
}

/// Compares the document `rel` with its template manifest (`manifest`
/// when given, else where its kind's drift rule says).
fn compare(
    store: &Store,
    catalog: &statewright::spec::Catalog,
    root: &Path,
    manifest: Option<&Path>,
    rel: &str,
) -> Result<Compared, Fail> {
    let loaded = store.read(rel).map_err(store_error)?;
    let rule = catalog
        .kind_for(Path::new(rel))
        .and_then(|k| k.spec.drift.as_ref());
    let manifest = match (manifest, rule) {
        (Some(m), _) => m.to_owned(),
        (None, Some(rule)) => {
            manifest_path(rule, root, &loaded.value).map_err(|e| path_error(&e))?
        }
        (None, None) => {
            return Err((
                format!("kind of {rel} declares no drift rule"),
                Some("pass the manifest with --manifest FILE".into()),
            ));
        }
    };
    let (source, declared) = read(&manifest)?;
    let findings = drift(&declared, &loaded.value).map_err(|e| manifest_error(&source, e))?;
    Ok(Compared {
        state: store.dir().join(rel),
        manifest,
        builders: declared["builders"].as_object().map_or(0, |b| b.len()),
        findings,
    })
}

/// A state document that cannot be read: the store's message (file,
/// line:col, the check that failed); exit 2, since nothing was compared.
fn store_error(e: StoreError) -> Fail {
    let help = matches!(e, StoreError::Corrupt { .. }).then(|| {
        "`diff --drift` only reads and never restores a backup: run `statewright check --repair` \
         to restore the newest good one, then compare again"
            .to_owned()
    });
    (e.to_string(), help)
}

/// A manifest the drift rule cannot find: the message and the fix.
fn path_error(e: &DiffError) -> Fail {
    let help = match e {
        DiffError::NoTemplatePath { .. } => "pass the manifest with --manifest FILE",
        _ => "regenerate the template's manifest, or pass it with --manifest FILE",
    };
    (e.to_string(), Some(help.into()))
}

fn manifest_error(source: &SourceText, e: DiffError) -> Fail {
    let (pointer, message) = match &e {
        DiffError::InvalidManifest { pointer, message } => (pointer.clone(), message.clone()),
        other => (String::new(), other.to_string()),
    };
    let place = match locate(source, &pointer).filter(|_| !pointer.is_empty()) {
        Some(p) => format!("{}:{p}", output::display_path(&source.path)),
        None => output::display_path(&source.path),
    };
    let at = if pointer.is_empty() {
        String::new()
    } else {
        format!(" at {pointer}")
    };
    (
        format!("{place}: template manifest is invalid{at}: {message}"),
        Some(
            "a manifest is {\"builders\": {NAME: {\"variant_id\": \"..\", \"cache_hash\": \"sha256:<64 hex>\"}}} (see docs/CLI.md)"
                .into(),
        ),
    )
}

fn state_place(c: &Compared, pointer: &str) -> (String, Option<doc::Position>) {
    let shown = output::display_path(&c.state);
    let pos = std::fs::read(&c.state)
        .ok()
        .and_then(|b| doc::decode(&c.state, b, doc::Format::Json).ok())
        .and_then(|s| {
            // A missing member is located at its nearest existing parent.
            let mut p = pointer.to_owned();
            loop {
                if let Some(pos) = locate(&s, &p) {
                    return Some(pos);
                }
                let cut = p.rfind('/')?;
                p.truncate(cut);
            }
        });
    (shown, pos)
}

fn print(global: &Global, compared: &[Compared]) {
    let total: usize = compared.iter().map(|c| c.findings.len()).sum();
    match global.format {
        OutputFormat::Json => {
            let docs: Vec<Value> = compared
                .iter()
                .map(|c| {
                    json!({
                        "state": output::display_path(&c.state),
                        "manifest": output::display_path(&c.manifest),
                        "builders": c.builders,
                        "findings": c.findings,
                    })
                })
                .collect();
            let v =
                json!({"drift": docs, "summary": {"documents": compared.len(), "findings": total}});
            println!("{}", serde_json::to_string_pretty(&v).unwrap_or_default());
        }
        OutputFormat::Github => {
            for c in compared {
                for f in &c.findings {
                    let (file, pos) = state_place(c, &f.pointer);
                    let mut props = vec![("file", file)];
                    if let Some(p) = pos {
                        props.push(("line", p.line.to_string()));
                        props.push(("col", p.column.to_string()));
                    }
                    props.push(("title", format!("drift: {}", kind_name(f))));
                    let data = format!("{} (at {}). {}", f.message, f.pointer, f.remedy);
                    println!("{}", github_line("error", &props, &data));
                }
            }
        }
        OutputFormat::Human => {
            let paint = Paint(output::use_color(global));
            for c in compared {
                for f in &c.findings {
                    let (file, pos) = state_place(c, &f.pointer);
                    let place = pos.map_or(file.clone(), |p| format!("{file}:{p}"));
                    println!(
                        "{} {place}: {}",
                        paint.red(&format!("drift[{}]", kind_name(f))),
                        f.message
                    );
                    println!("  at {}", f.pointer);
                    if let Some(d) = &f.declared {
                        println!("  declared: {d}");
                    }
                    println!("  recorded: {}", f.recorded.as_deref().unwrap_or("(none)"));
                    println!("  help: {}", f.remedy);
                }
                println!(
                    "{} vs {}: {} declared, {}",
                    output::display_path(&c.state),
                    output::display_path(&c.manifest),
                    output::plural(c.builders, "builder"),
                    if c.findings.is_empty() {
                        "no drift".to_owned()
                    } else {
                        output::plural(c.findings.len(), "drift finding")
                    }
                );
            }
        }
    }
}

fn kind_name(f: &DriftFinding) -> String {
    serde_json::to_value(f.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default()
}
