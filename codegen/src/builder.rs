//! The build-script entry point: [`Builder`] loads a project's catalog,
//! generates every kind and version, writes one file and returns a
//! [`Report`]. It never prints; [`Report::emit_rerun_if_changed`] is the one
//! place that talks to cargo.

use std::path::{Path, PathBuf};

use statewright_spec::migration::{RenderOptions, load_checked, render_steps};
use statewright_spec::{Catalog, OfflineRegistry, Project};

use crate::error::CodegenError;
use crate::names;
use crate::render::{self, KindModule, VersionModule};
pub use crate::typify_run::Fallback;
use crate::typify_run::{Generator, Settings};

/// Configures and runs code generation for one project file.
#[derive(Debug, Clone)]
pub struct Builder {
    project: Option<PathBuf>,
    missing_project_ok: bool,
    out_file: Option<PathBuf>,
    document_trait: String,
    mappings: Vec<(String, PathBuf)>,
    settings: Settings,
    steps: Option<RenderOptions>,
}

impl Default for Builder {
    fn default() -> Self {
        Builder {
            project: None,
            missing_project_ok: false,
            out_file: None,
            document_trait: "::statewright::models::Document".to_owned(),
            mappings: Vec::new(),
            settings: Settings::default(),
            steps: None,
        }
    }
}

/// What one schema version became.
#[derive(Debug, Clone)]
pub struct SchemaReport {
    /// The kind's name.
    pub kind: String,
    /// The schema version.
    pub version: u32,
    /// The schema file.
    pub path: PathBuf,
    /// The module path inside the generated file (`env_config::v1`).
    pub module: String,
    /// The root type's name.
    pub root_type: String,
    /// Nodes typed as `serde_json::Value` because typify could not handle
    /// them.
    pub fallbacks: Vec<Fallback>,
    /// Crates the generated code needs besides `serde` and `serde_json`.
    pub crates: Vec<&'static str>,
}

/// The outcome of [`Builder::generate`].
#[derive(Debug, Clone, Default)]
pub struct Report {
    /// The project file, or `None` when it was absent and that was allowed.
    pub project: Option<PathBuf>,
    /// The file written, if any.
    pub out_file: Option<PathBuf>,
    /// Files and folders whose change must re-run generation.
    pub watched: Vec<PathBuf>,
    /// One entry per kind and version, in module order.
    pub schemas: Vec<SchemaReport>,
}

impl Report {
    /// Every fallback of every schema.
    pub fn fallbacks(&self) -> impl Iterator<Item = (&SchemaReport, &Fallback)> {
        self.schemas
            .iter()
            .flat_map(|s| s.fallbacks.iter().map(move |f| (s, f)))
    }

    /// The `cargo:rerun-if-changed=` lines for [`Report::watched`].
    pub fn rerun_if_changed_lines(&self) -> Vec<String> {
        self.watched
            .iter()
            .map(|p| format!("cargo:rerun-if-changed={}", p.display()))
            .collect()
    }

    /// Prints [`Report::rerun_if_changed_lines`] to stdout, for cargo. Call
    /// it from a build script only.
    pub fn emit_rerun_if_changed(&self) {
        for line in self.rerun_if_changed_lines() {
            println!("{line}");
        }
    }
}

impl Builder {
    /// A builder with defaults: no fallback, `chrono`/`uuid`/`regress`-free
    /// output, root types implementing `::statewright::models::Document`.
    pub fn new() -> Self {
        Self::default()
    }

    /// The project file (`statewright.toml`) to generate from.
    pub fn project(mut self, path: impl Into<PathBuf>) -> Self {
        self.project = Some(path.into());
        self
    }

    /// When the project file does not exist, generate an empty file instead
    /// of failing (off by default).
    pub fn missing_project_ok(mut self, yes: bool) -> Self {
        self.missing_project_ok = yes;
        self
    }

    /// Where [`Builder::generate`] writes; defaults to
    /// `$OUT_DIR/statewright_models.rs`.
    pub fn out_file(mut self, path: impl Into<PathBuf>) -> Self {
        self.out_file = Some(path.into());
        self
    }

    /// Types schema nodes typify cannot handle as `serde_json::Value` and
    /// records them in the report, instead of failing.
    pub fn value_fallback(mut self, yes: bool) -> Self {
        self.settings.value_fallback = yes;
        self
    }

    /// The path of the `Document` trait as the generated code must name it
    /// (`crate::models::Document` inside the statewright crate itself).
    pub fn document_trait(mut self, path: impl Into<String>) -> Self {
        self.document_trait = path.into();
        self
    }

    /// Serves `$ref`s starting with `prefix` from `dir` (on top of the
    /// project's `schema_dirs`).
    pub fn map_schema_dir(mut self, prefix: impl Into<String>, dir: impl Into<PathBuf>) -> Self {
        self.mappings.push((prefix.into(), dir.into()));
        self
    }

    /// Keeps `format: date | date-time | uuid`, so the code uses `chrono`
    /// and `uuid` types (the user crate then needs those crates).
    pub fn native_formats(mut self, yes: bool) -> Self {
        self.settings.native_formats = yes;
        self
    }

    /// Keeps string `pattern`s, so deserializing checks them (the user crate
    /// then needs `regress`).
    pub fn string_patterns(mut self, yes: bool) -> Self {
        self.settings.string_patterns = yes;
        self
    }

    /// Also renders the project's migration files as compiled steps, in a
    /// module `compiled` of the output: one `up` and one `down` function
    /// per file, the table `STEPS` and the table `KINDS` (where each kind
    /// keeps its version and history, and its latest version), so that an
    /// application upgrades old documents with no migration file read or
    /// interpreted at run time. `runtime` is the path of statewright's
    /// migrate module as the generated code names it
    /// (`::statewright::migrate`; `crate::migrate` inside statewright).
    pub fn compiled_steps(mut self, runtime: impl Into<String>) -> Self {
        let hooks = self.steps.take().map(|o| o.hooks);
        self.steps = Some(RenderOptions {
            runtime: runtime.into(),
            hooks: hooks.unwrap_or_else(|| RenderOptions::default().hooks),
        });
        self
    }

    /// The module holding the functions `hook` ops call
    /// (`crate::migration_hooks` by default), for [`Builder::compiled_steps`].
    pub fn hooks_module(mut self, path: impl Into<String>) -> Self {
        let mut opts = self.steps.take().unwrap_or_default();
        opts.hooks = path.into();
        self.steps = Some(opts);
        self
    }

    /// Adds a derive to every generated type (`"PartialEq"`).
    pub fn derive(mut self, derive: impl Into<String>) -> Self {
        self.settings.derives.push(derive.into());
        self
    }

    /// Generates and writes the output file (only when its content changed,
    /// so dependants are not rebuilt needlessly).
    pub fn generate(&self) -> Result<Report, CodegenError> {
        let out = match &self.out_file {
            Some(p) => p.clone(),
            None => PathBuf::from(std::env::var_os("OUT_DIR").unwrap_or_default())
                .join("statewright_models.rs"),
        };
        let (code, mut report) = self.generate_string(&out)?;
        if std::fs::read_to_string(&out).ok().as_deref() != Some(code.as_str()) {
            std::fs::write(&out, code).map_err(|source| CodegenError::Write {
                path: out.clone(),
                source,
            })?;
        }
        report.out_file = Some(out);
        Ok(report)
    }

    /// Generates the code without writing it; `out` only names the output
    /// in errors.
    pub fn generate_string(&self, out: &Path) -> Result<(String, Report), CodegenError> {
        let file = self
            .project
            .clone()
            .unwrap_or_else(|| PathBuf::from(statewright_spec::project::PROJECT_FILE));
        let mut report = Report {
            watched: vec![file.clone()],
            ..Report::default()
        };
        if self.missing_project_ok && !file.exists() {
            let mut code = render::render(&[], &self.document_trait, "no project file", out)?;
            if let Some(opts) = &self.steps {
                code.push_str(&render::compiled_module("", &[], &opts.runtime));
            }
            return Ok((code, report));
        }
        let project_err = |source| CodegenError::Project {
            path: file.clone(),
            source: Box::new(source),
        };
        let project = Project::load(&file).map_err(project_err)?;
        let catalog = Catalog::load(&project).map_err(project_err)?;
        report.project = Some(file.clone());
        report.watched.push(project.schemas_dir.clone());
        report.watched.push(project.migrations_dir.clone());
        report.watched.extend(project.schema_dirs.values().cloned());

        let mut registry = OfflineRegistry::new();
        for (prefix, dir) in project
            .schema_dirs
            .iter()
            .chain(self.mappings.iter().map(|(p, d)| (p, d)))
        {
            registry.map(prefix.clone(), dir.clone());
        }
        let generator = Generator::new(registry, self.settings.clone());
        let mut kinds = Vec::new();
        for kind in catalog.kinds.values() {
            let module = names::module_name(&kind.name);
            let root = names::type_name(&kind.name, "Document");
            let mut versions = Vec::new();
            for v in kind.versions.values() {
                let generated = generator.generate(&v.path, &v.schema, &root)?;
                report.schemas.push(SchemaReport {
                    kind: kind.name.clone(),
                    version: v.version,
                    path: v.path.clone(),
                    module: format!("{module}::v{}", v.version),
                    root_type: generated.root_type.clone(),
                    fallbacks: generated.fallbacks,
                    crates: generated.crates,
                });
                versions.push(VersionModule {
                    version: v.version,
                    root_type: generated.root_type,
                    code: generated.code,
                    schema_json: v.schema.to_string(),
                });
            }
            kinds.push(KindModule {
                name: kind.name.clone(),
                module,
                description: kind.spec.description.clone(),
                versions,
            });
        }
        let source = file.file_name().map_or_else(
            || file.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        );
        let mut code = render::render(&kinds, &self.document_trait, &source, out)?;
        if let Some(opts) = &self.steps {
            code.push_str(&compiled(&project, &catalog, opts)?);
        }
        Ok((code, report))
    }
}

/// The `compiled` module: the rendered steps and the kinds table.
fn compiled(
    project: &Project,
    catalog: &Catalog,
    opts: &RenderOptions,
) -> Result<String, CodegenError> {
    let dir = &project.migrations_dir;
    let fail = |message: String| CodegenError::Migrations {
        path: dir.clone(),
        message,
    };
    // Checked against `statewright.sum` as `statewright migrate` checks
    // them: a step compiled from an edited file would record a file hash
    // in documents' history that the released migration does not have.
    // The error's text already ends in its `; fix: …`.
    let set = load_checked(dir).map_err(|e| fail(e.to_string()))?;
    let steps = render_steps(&set, opts).map_err(|e| fail(e.to_string()))?;
    let kinds: Vec<render::CompiledKind> = catalog
        .kinds
        .values()
        .map(|k| render::CompiledKind {
            kind: k.name.clone(),
            version: k.spec.fields.version.clone(),
            history: k.spec.fields.history.clone(),
            latest: k.latest().version,
        })
        .collect();
    Ok(render::compiled_module(&steps, &kinds, &opts.runtime))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compiled_steps_render_the_project_migrations_and_kinds() {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let (code, _) = Builder::new()
            .project(root.join("statewright.toml"))
            .value_fallback(true)
            .compiled_steps("::statewright::migrate")
            .generate_string(Path::new("out.rs"))
            .unwrap();
        syn::parse_file(&code).unwrap();
        assert!(code.contains("pub mod compiled {"));
        assert!(code.contains("pub fn mamfast_processed_0001_checkpoints_and_failure_details_up("));
        assert!(code.contains(
            "::statewright::migrate::CompiledKind { kind: \"mamfast-processed\", version: \"/version\", history: \"/history\", latest: 2 }"
        ));
        let (plain, _) = Builder::new()
            .project(root.join("statewright.toml"))
            .value_fallback(true)
            .generate_string(Path::new("out.rs"))
            .unwrap();
        assert!(!plain.contains("pub mod compiled"));
    }

    #[test]
    fn compiled_steps_refuse_a_migration_edited_since_its_sum() {
        let t = std::env::temp_dir().join(format!("sw-codegen-sum-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&t);
        let write = |rel: &str, text: &str| {
            let p = t.join(rel);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(p, text).unwrap();
        };
        write(
            "statewright.toml",
            "[project]\nstate = \"state\"\n[kinds.pins]\npath = \"pins.json\"\n",
        );
        for v in [1, 2] {
            write(
                &format!("schemas/pins/v{v}.json"),
                &format!(
                    r#"{{"type": "object", "properties": {{"schema_version": {{"const": {v}}}}}}}"#
                ),
            );
        }
        let step = "kind: pins\nfrom: 1\nto: 2\ndescription: a tier\nops:\n  - add: { path: /tier, default: standard }\n";
        write("migrations/pins/0001_tier.yaml", step);
        statewright_spec::migration::rehash_with(&t.join("migrations"), &mut |p, b| {
            std::fs::write(p, b)
        })
        .unwrap();
        let build = || {
            Builder::new()
                .project(t.join("statewright.toml"))
                .compiled_steps("::statewright::migrate")
                .generate_string(Path::new("out.rs"))
        };
        assert!(build().is_ok());
        write(
            "migrations/pins/0001_tier.yaml",
            &step.replace("standard", "critical"),
        );
        let e = build().unwrap_err().to_string();
        std::fs::remove_dir_all(&t).unwrap();
        assert!(e.contains("pins/0001_tier.yaml"), "{e}");
        assert!(e.contains("statewright migrate hash"), "{e}");
    }
}
