//! `migrate verify`, for CI: the sum file matches, every kind has a
//! gap-free chain to its latest schema, every fixture upgraded to each later
//! version validates (and equals that version's fixture of the same name
//! when there is one), and up-then-down gives reversible steps' fixtures
//! back unchanged.

use std::path::{Path, PathBuf};

use serde::Serialize;
use serde_json::Value;
use statewright_spec::migration::{MigrationSet, check_sum};
use statewright_spec::{Catalog, Kind, OfflineRegistry, pointer};

use super::apply::{Interpreter, apply_with, set_version};
use super::generated::{VerifyOptions, check_step};
use super::interp::{Hooks, run_ops};
use super::plan::plan;

pub use statewright_spec::SCHEMA_PREFIX;

/// One problem `verify` found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Stable code: `MV001` sum, `MV002` gap, `MV003` step from or to a
    /// version the catalog has no schema for, `MV004` fixture fails a step, `MV005` fixture invalid after
    /// upgrade, `MV006` fixture differs from the later fixture, `MV007`
    /// round trip differs, `MV008` schema unusable; warnings: `MV010` no
    /// fixtures for a version, `MV011` generated round trips not run.
    /// `MV004`, `MV005` and `MV007` also report generated documents.
    pub code: &'static str,
    /// The file concerned (migration, fixture or schema).
    pub file: PathBuf,
    /// What is wrong and how to fix it.
    pub message: String,
}

/// Everything `verify` found; empty means the migrations are sound.
#[derive(Debug, Clone, Default, Serialize)]
pub struct VerifyReport {
    /// The findings, in check order.
    pub findings: Vec<Finding>,
    /// How many fixture upgrades were checked.
    pub upgrades_checked: usize,
    /// How many round trips were checked.
    pub round_trips_checked: usize,
    /// How many generated documents were run through their step.
    pub generated_checked: usize,
    /// What was not checked and why (`MV010` no fixtures for a version,
    /// `MV011` generated round trips not run); never a failure.
    pub warnings: Vec<Finding>,
}

impl VerifyReport {
    /// Whether nothing was found.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    pub(crate) fn warn(&mut self, code: &'static str, file: &Path, message: String) {
        self.warnings.push(Finding {
            code,
            file: file.to_owned(),
            message,
        });
    }

    pub(crate) fn add(&mut self, code: &'static str, file: &Path, message: String) {
        self.findings.push(Finding {
            code,
            file: file.to_owned(),
            message,
        });
    }
}

/// Runs every check on a catalog and its (already parsed) migrations,
/// with the default number of generated documents.
pub fn verify(catalog: &Catalog, migrations: &MigrationSet, hooks: &Hooks) -> VerifyReport {
    verify_with(catalog, migrations, hooks, &VerifyOptions::default())
}

/// [`verify`] with `opts.count` documents generated per version from
/// `opts.seed`.
///
/// ```no_run
/// use statewright::migrate::{Hooks, VerifyOptions, verify_with};
/// use statewright::spec::{Catalog, Project};
///
/// let project = Project::load(std::path::Path::new("statewright.toml"))?;
/// let catalog = Catalog::load(&project)?;
/// let set = statewright::spec::migration::load_dir(&project.migrations_dir)?;
/// let opts = VerifyOptions { count: 500, seed: 7 };
/// let report = verify_with(&catalog, &set, &Hooks::new(), &opts);
/// assert!(report.is_clean(), "{:?}", report.findings);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn verify_with(
    catalog: &Catalog,
    migrations: &MigrationSet,
    hooks: &Hooks,
    opts: &VerifyOptions,
) -> VerifyReport {
    let mut report = VerifyReport::default();
    if let Err(e) = check_sum(migrations) {
        report.add("MV001", &migrations.dir, e.to_string());
    }
    let registry = registry(catalog);
    for kind in catalog.kinds.values() {
        check_chain(kind, migrations, &mut report);
        for m in migrations.of_kind(&kind.name) {
            check_step(kind, m, hooks, &registry, opts, &mut report);
        }
        let fixtures = fixtures(catalog, kind);
        warn_missing_fixtures(catalog, kind, &fixtures, &mut report);
        for fixture in fixtures {
            check_fixture(
                catalog,
                migrations,
                hooks,
                &registry,
                kind,
                &fixture,
                &mut report,
            );
        }
    }
    for m in &migrations.migrations {
        for (end, version) in [("from", m.file.from), ("to", m.file.to)] {
            let known = catalog
                .kind(&m.file.kind)
                .is_some_and(|k| k.version(version).is_some());
            if !known {
                let msg = format!(
                    "`{}` steps {end} {} v{version}, which the catalog has no schema for; add schemas/{}/v{version}.json or remove the file",
                    m.relative, m.file.kind, m.file.kind
                );
                report.add("MV003", &m.path, msg);
            }
        }
    }
    report
}

/// `MV010` for each version of a kind with steps that has no fixture.
fn warn_missing_fixtures(
    catalog: &Catalog,
    kind: &Kind,
    fixtures: &[Fixture],
    report: &mut VerifyReport,
) {
    if kind.versions.len() < 2 {
        return;
    }
    let dir = catalog
        .project
        .schemas_dir
        .join(&kind.name)
        .join("examples");
    for &v in kind.versions.keys() {
        if !fixtures.iter().any(|f| f.version == v) {
            let at = dir.join(format!("v{v}"));
            let msg = format!(
                "no fixtures for {} v{v}: only generated documents check its steps; add real v{v} documents to this folder",
                kind.name
            );
            report.warn("MV010", &at, msg);
        }
    }
}

fn registry(catalog: &Catalog) -> OfflineRegistry {
    OfflineRegistry::for_project(&catalog.project)
}

fn check_chain(kind: &Kind, migrations: &MigrationSet, report: &mut VerifyReport) {
    let first = *kind.versions.keys().next().unwrap_or(&1);
    for v in first..kind.latest().version {
        if migrations.step_from(&kind.name, v).is_none() {
            let msg = format!(
                "kind `{}` has no migration from v{v} to v{}: add migrations/{}/<NNNN>_<name>.yaml with `from: {v}`",
                kind.name,
                v + 1,
                kind.name
            );
            report.add("MV002", &migrations.dir.join(&kind.name), msg);
        }
    }
}

struct Fixture {
    path: PathBuf,
    name: String,
    version: u32,
    value: Value,
}

fn fixtures(catalog: &Catalog, kind: &Kind) -> Vec<Fixture> {
    let dir = catalog
        .project
        .schemas_dir
        .join(&kind.name)
        .join("examples");
    let mut out = Vec::new();
    for &version in kind.versions.keys() {
        let Ok(rd) = std::fs::read_dir(dir.join(format!("v{version}"))) else {
            continue;
        };
        let mut paths: Vec<_> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
        paths.sort();
        for path in paths {
            if let Ok(value) = statewright_spec::catalog::read_json(&path) {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                out.push(Fixture {
                    path,
                    name,
                    version,
                    value,
                });
            }
        }
    }
    out
}

fn check_fixture(
    catalog: &Catalog,
    migrations: &MigrationSet,
    hooks: &Hooks,
    registry: &OfflineRegistry,
    kind: &Kind,
    fx: &Fixture,
    report: &mut VerifyReport,
) {
    for target in kind.versions.keys().copied().filter(|v| *v > fx.version) {
        check_upgrade(
            catalog, migrations, hooks, registry, kind, fx, target, report,
        );
    }
    check_round_trip(migrations, hooks, kind, fx, report);
}

#[allow(clippy::too_many_arguments)]
fn check_upgrade(
    catalog: &Catalog,
    migrations: &MigrationSet,
    hooks: &Hooks,
    registry: &OfflineRegistry,
    kind: &Kind,
    fx: &Fixture,
    target: u32,
    report: &mut VerifyReport,
) {
    let Ok(p) = plan(catalog, migrations, &kind.name, fx.version, target) else {
        return; // the gap is reported by check_chain
    };
    report.upgrades_checked += 1;
    let upgraded = match apply_with(
        &p,
        fx.value.clone(),
        &Interpreter { hooks },
        "1970-01-01T00:00:00Z",
    ) {
        Ok((v, _)) => v,
        Err(e) => return report.add("MV004", &fx.path, format!("upgrading to v{target}: {e}")),
    };
    let schema = kind.version(target).expect("target is a catalog version");
    match invalid_reasons(registry, &schema.schema, &upgraded) {
        Ok(errors) if errors.is_empty() => {}
        Ok(errors) => report.add(
            "MV005",
            &fx.path,
            format!(
                "upgraded to v{target}, it fails {}: {}",
                schema.path.display(),
                errors.join("; ")
            ),
        ),
        Err(e) => report.add("MV008", &schema.path, e),
    }
    compare_with_later_fixture(kind, fx, target, upgraded, report);
}

fn invalid_reasons(
    registry: &OfflineRegistry,
    schema: &Value,
    doc: &Value,
) -> Result<Vec<String>, String> {
    let validator = jsonschema::options()
        .with_retriever(registry.clone())
        .build(schema)
        .map_err(|e| format!("schema does not compile: {e}"))?;
    Ok(validator
        .iter_errors(doc)
        .take(5)
        .map(|e| format!("{}: {e}", e.instance_path()))
        .collect())
}

fn compare_with_later_fixture(
    kind: &Kind,
    fx: &Fixture,
    target: u32,
    mut upgraded: Value,
    report: &mut VerifyReport,
) {
    let later = fx
        .path
        .parent()
        .and_then(Path::parent)
        .map(|d| d.join(format!("v{target}")).join(&fx.name));
    let Some(later) = later.filter(|p| p.is_file()) else {
        return;
    };
    let Ok(expected) = statewright_spec::catalog::read_json(&later) else {
        return;
    };
    if expected.pointer(&kind.spec.fields.history).is_none() {
        pointer::remove(&mut upgraded, &kind.spec.fields.history);
    }
    if upgraded != expected {
        let patch = json_patch::diff(&expected, &upgraded);
        let msg = format!(
            "upgraded to v{target}, it differs from {}: {}",
            later.display(),
            serde_json::to_string(&patch).unwrap_or_default()
        );
        report.add("MV006", &fx.path, msg);
    }
}

fn check_round_trip(
    migrations: &MigrationSet,
    hooks: &Hooks,
    kind: &Kind,
    fx: &Fixture,
    report: &mut VerifyReport,
) {
    let Some(m) = migrations
        .step_from(&kind.name, fx.version)
        .filter(|m| m.round_trips())
    else {
        return;
    };
    report.round_trips_checked += 1;
    let mut v = fx.value.clone();
    let result = run_ops(&m.file.ops, &mut v, hooks).and_then(|()| {
        set_version(&mut v, &kind.spec.fields.version, m.file.to);
        run_ops(&m.down, &mut v, hooks)
    });
    set_version(&mut v, &kind.spec.fields.version, m.file.from);
    match result {
        Ok(()) if v == fx.value => {}
        Ok(()) => {
            let patch = json_patch::diff(&fx.value, &v);
            let msg = format!(
                "`{}` ({} v{} → v{}) up then down does not give the fixture back: {}; fix: make the inverse undo each op exactly (`default:` on `remove`, `reverse:` on `convert`, a `move` instead of `remove` + `add`)",
                m.relative,
                kind.name,
                m.file.from,
                m.file.to,
                serde_json::to_string(&patch).unwrap_or_default()
            );
            report.add("MV007", &fx.path, msg);
        }
        Err(e) => report.add(
            "MV004",
            &fx.path,
            format!("`{}` round trip: {}: {}", m.relative, e.pointer, e.message),
        ),
    }
}
