//! `statewright graph`: the catalog as a picture. [`CatalogGraph::build`]
//! gathers each kind's schema versions, the migration steps between them
//! (with their ops, lossy steps marked) and which version each document
//! of the state dir is at; [`mermaid`] and [`dot`] draw it.

pub mod dot;
pub mod mermaid;

use std::collections::BTreeMap;

use serde::Serialize;
use statewright_spec::Catalog;
use statewright_spec::migration::{Migration, MigrationSet, Op};

use crate::ops::DocumentRow;

/// Every kind of a catalog, its versions, steps and documents.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CatalogGraph {
    /// The kinds, by name.
    pub kinds: Vec<KindGraph>,
}

/// One kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KindGraph {
    /// The kind's name.
    pub name: String,
    /// Its versions, ascending: every schema version, and any version a
    /// document is at that the catalog has no schema for.
    pub versions: Vec<VersionNode>,
    /// The migration steps, in file order.
    pub steps: Vec<StepEdge>,
    /// Documents of the kind whose version could not be read.
    pub unreadable: Vec<String>,
}

/// One version of a kind.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VersionNode {
    /// The version number.
    pub version: u32,
    /// Whether the catalog has `schemas/<kind>/v<N>.json` for it.
    pub schema: bool,
    /// Whether it is the kind's newest schema version.
    pub latest: bool,
    /// The documents at this version, relative to the state dir.
    pub documents: Vec<String>,
}

/// One migration step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepEdge {
    /// The migration file, relative to the migrations dir.
    pub migration: String,
    /// The version it starts from.
    pub from: u32,
    /// The version it produces.
    pub to: u32,
    /// Its ops in order, one line each (`rename /a → /b`).
    pub ops: Vec<String>,
    /// Whether a downgrade through it loses data.
    pub lossy: bool,
}

impl CatalogGraph {
    /// The graph of `catalog` with `migrations`, placing each of
    /// `documents` (as [`crate::ops::list_documents`] reads them; empty
    /// for the catalog alone) at its version.
    pub fn build(
        catalog: &Catalog,
        migrations: &MigrationSet,
        documents: &[DocumentRow],
    ) -> CatalogGraph {
        let kinds = catalog
            .kinds
            .values()
            .map(|kind| {
                let latest = kind.latest().version;
                let mut versions: BTreeMap<u32, VersionNode> = kind
                    .versions
                    .keys()
                    .map(|&v| (v, version_node(v, true, v == latest)))
                    .collect();
                let mut unreadable = Vec::new();
                for doc in documents.iter().filter(|d| d.kind == kind.name) {
                    match doc.version {
                        Some(v) => versions
                            .entry(v)
                            .or_insert_with(|| version_node(v, false, false))
                            .documents
                            .push(doc.file.clone()),
                        None => unreadable.push(doc.file.clone()),
                    }
                }
                KindGraph {
                    name: kind.name.clone(),
                    versions: versions.into_values().collect(),
                    steps: migrations.of_kind(&kind.name).map(step_edge).collect(),
                    unreadable,
                }
            })
            .collect();
        CatalogGraph { kinds }
    }
}

fn version_node(version: u32, schema: bool, latest: bool) -> VersionNode {
    VersionNode {
        version,
        schema,
        latest,
        documents: Vec::new(),
    }
}

fn step_edge(m: &Migration) -> StepEdge {
    let mut ops = Vec::new();
    describe_ops("", &m.file.ops, &mut ops);
    StepEdge {
        migration: m.relative.clone(),
        from: m.file.from,
        to: m.file.to,
        ops,
        lossy: !m.reversible(),
    }
}

/// One line per op; ops inside `each` carry the entries' pointer
/// (`/services/*/image`).
fn describe_ops(base: &str, ops: &[Op], out: &mut Vec<String>) {
    for op in ops {
        let at = |p: &str| format!("{base}{p}");
        let line = match op {
            Op::Add(o) => format!("add {}", at(&o.path)),
            Op::SetDefault(o) => format!("set_default {}", at(&o.path)),
            Op::Remove(o) => format!("remove {}", at(&o.path)),
            Op::Rename(o) => format!("rename {} → {}", at(&o.path), o.to),
            Op::Copy(o) => format!("copy {} → {}", at(&o.from), at(&o.to)),
            Op::Move(o) => format!("move {} → {}", at(&o.from), at(&o.to)),
            Op::Wrap(o) => format!("wrap {}", at(&o.path)),
            Op::Head(o) => format!("head {}", at(&o.path)),
            Op::Convert(o) => format!("convert {}", at(&o.path)),
            Op::Hook(o) => format!("hook {} {}", o.name, at(&o.path)),
            Op::Each(e) => {
                describe_ops(&format!("{base}{}/*", e.path), &e.ops, out);
                continue;
            }
        };
        out.push(line);
    }
}
