//! The graph as a Mermaid flowchart, for READMEs and pull-request comments.

use std::fmt::Write as _;

use super::{CatalogGraph, KindGraph};

/// Renders `graph` as a Mermaid `flowchart LR`: one subgraph per kind, a
/// node per version (with the number of documents at it), an edge per
/// migration step labelled with its ops; lossy steps are dotted and say
/// `lossy`.
pub fn render(graph: &CatalogGraph) -> String {
    let mut out = String::from("flowchart LR\n");
    for kind in &graph.kinds {
        kind_block(kind, &mut out);
    }
    out
}

fn kind_block(kind: &KindGraph, out: &mut String) {
    let id = node_prefix(&kind.name);
    let _ = writeln!(out, "  subgraph {id}[\"{}\"]", kind.name);
    out.push_str("    direction LR\n");
    for v in &kind.versions {
        let mut label = format!("v{}", v.version);
        if v.latest {
            label.push_str(" (latest)");
        }
        if !v.schema {
            label.push_str(" (no schema)");
        }
        if !v.documents.is_empty() {
            let _ = write!(label, "<br/>{}", documents_label(&v.documents));
        }
        let _ = writeln!(out, "    {id}_v{}[\"{}\"]", v.version, escape(&label));
    }
    for s in &kind.steps {
        let mut label = s.ops.join("<br/>");
        if s.lossy {
            label = format!("lossy<br/>{label}");
        }
        let arrow = if s.lossy { "-.->" } else { "-->" };
        let _ = writeln!(
            out,
            "    {id}_v{} {arrow}|\"{}\"| {id}_v{}",
            s.from,
            escape(&label),
            s.to
        );
    }
    if !kind.unreadable.is_empty() {
        let _ = writeln!(
            out,
            "    {id}_unreadable[\"version unreadable<br/>{}\"]",
            escape(&documents_label(&kind.unreadable))
        );
    }
    out.push_str("  end\n");
}

/// `3 documents` or the file name when there is one.
pub(super) fn documents_label(docs: &[String]) -> String {
    match docs {
        [one] => one.clone(),
        many => format!("{} documents", many.len()),
    }
}

/// A node id from a kind name (`deploy-pins` → `k_deploy_pins`; the prefix
/// keeps a kind named like a keyword, such as `end`, from being one).
pub(super) fn node_prefix(kind: &str) -> String {
    format!("k_{}", kind.replace('-', "_"))
}

/// Mermaid labels are quoted; quotes inside become `#quot;`.
fn escape(s: &str) -> String {
    s.replace('"', "#quot;")
}
