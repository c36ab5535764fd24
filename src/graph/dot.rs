//! The graph in Graphviz dot.

use std::fmt::Write as _;

use super::mermaid::{documents_label, node_prefix};
use super::{CatalogGraph, KindGraph};

/// Renders `graph` as a dot `digraph`: one cluster per kind, a node per
/// version (double border for the latest, dashed without a schema), an
/// edge per migration step labelled with its ops; lossy steps are dashed,
/// red and say `lossy`.
pub fn render(graph: &CatalogGraph) -> String {
    let mut out = String::from(
        "digraph catalog {\n  rankdir=LR;\n  node [shape=box, fontname=\"sans-serif\"];\n  edge [fontname=\"monospace\", fontsize=10];\n",
    );
    for kind in &graph.kinds {
        cluster(kind, &mut out);
    }
    out.push_str("}\n");
    out
}

fn cluster(kind: &KindGraph, out: &mut String) {
    let id = node_prefix(&kind.name);
    let _ = writeln!(out, "  subgraph cluster_{id} {{");
    let _ = writeln!(out, "    label={};", quote(&kind.name));
    for v in &kind.versions {
        let mut label = format!("v{}", v.version);
        if !v.documents.is_empty() {
            let _ = write!(label, "\n{}", documents_label(&v.documents));
        }
        let mut attrs = format!("label={}", quote(&label));
        if v.latest {
            attrs.push_str(", peripheries=2");
        }
        if !v.schema {
            attrs.push_str(", style=dashed");
        }
        let _ = writeln!(out, "    {id}_v{} [{attrs}];", v.version);
    }
    for s in &kind.steps {
        let mut lines = s.ops.clone();
        if s.lossy {
            lines.insert(0, "lossy".to_owned());
        }
        let mut attrs = format!("label={}", quote(&lines.join("\n")));
        if s.lossy {
            attrs.push_str(", style=dashed, color=red");
        }
        let _ = writeln!(out, "    {id}_v{} -> {id}_v{} [{attrs}];", s.from, s.to);
    }
    if !kind.unreadable.is_empty() {
        let label = format!("version unreadable\n{}", documents_label(&kind.unreadable));
        let _ = writeln!(
            out,
            "    {id}_unreadable [label={}, color=red];",
            quote(&label)
        );
    }
    out.push_str("  }\n");
}

/// A dot string: quotes and backslashes escaped, new lines as `\l`-free `\n`.
fn quote(s: &str) -> String {
    format!(
        "\"{}\"",
        s.replace('\\', "\\\\")
            .replace('"', "\\\"")
            .replace('\n', "\\n")
    )
}
