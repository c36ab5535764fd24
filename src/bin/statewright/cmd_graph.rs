//! `statewright graph`.

use clap::{Args, ValueEnum};
use statewright::graph::{CatalogGraph, dot, mermaid};
use statewright::ops::{DocumentRow, list_documents};
use statewright::spec::migration::load_dir;

use crate::args::{Global, OutputFormat};
use crate::exit::Exit;
use crate::ops_cli::StateArg;
use crate::output::print_error;
use crate::store::{open_read_only, project_and_catalog};

/// Draw the catalog: kinds, versions, migration steps and documents.
///
/// One box per kind with a node per schema version (the latest marked), an
/// edge per migration step labelled with its ops (lossy steps dotted and
/// marked `lossy`), and at each version the documents of the state dir that
/// are at it (read without the lock; nothing is written). Mermaid by
/// default (GitHub renders it in Markdown), or Graphviz dot;
/// --format json prints the graph itself.
///
/// Examples:
///   statewright graph > catalog.mmd
///   statewright graph --to dot | dot -Tsvg > catalog.svg
///   statewright graph --no-documents
#[derive(Debug, Args)]
#[command(verbatim_doc_comment)]
pub struct GraphArgs {
    /// The picture's language.
    #[arg(long, value_enum, default_value_t = GraphSyntax::Mermaid)]
    pub to: GraphSyntax,
    /// The catalog alone, without the state dir's documents.
    #[arg(long)]
    pub no_documents: bool,
    #[command(flatten)]
    pub state: StateArg,
}

/// Graph languages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum GraphSyntax {
    /// A Mermaid flowchart.
    Mermaid,
    /// A Graphviz digraph.
    Dot,
}

pub fn run(global: &Global, args: GraphArgs) -> Exit {
    let (project, catalog) = match project_and_catalog(global) {
        Ok(pc) => pc,
        Err(exit) => return exit,
    };
    let migrations = match load_dir(&project.migrations_dir) {
        Ok(m) => m,
        Err(e) => {
            print_error(global, &e.to_string(), None);
            return Exit::Usage;
        }
    };
    let documents = match args.no_documents {
        true => Vec::new(),
        false => match documents(global, &project.state_dir, &args.state) {
            Ok(d) => d,
            Err(exit) => return exit,
        },
    };
    let graph = CatalogGraph::build(&catalog, &migrations, &documents);
    let text = match (global.format, args.to) {
        (OutputFormat::Json, _) => serde_json::to_string_pretty(&graph).unwrap_or_default() + "\n",
        (_, GraphSyntax::Mermaid) => mermaid::render(&graph),
        (_, GraphSyntax::Dot) => dot::render(&graph),
    };
    print!("{text}");
    Exit::Clean
}

/// The state dir's documents, read through the store without the lock;
/// none when the state dir does not exist yet.
fn documents(
    global: &Global,
    default: &std::path::Path,
    state: &StateArg,
) -> Result<Vec<DocumentRow>, Exit> {
    if !state.state.as_deref().unwrap_or(default).is_dir() {
        return Ok(Vec::new());
    }
    let opened = open_read_only(global, state.state.as_deref())?;
    list_documents(&opened.store, &opened.catalog, None)
        .map_err(|e| crate::ops_cli::fail(global, &e))
}
