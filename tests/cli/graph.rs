//! `statewright graph`: the catalog as Mermaid and dot, with the documents
//! of the state dir at their versions; and the README's picture of the
//! shipped catalog kept current.

use crate::migrate::project;
use crate::util::{repo, run, run_in};

const MERMAID: &str = r#"flowchart LR
  subgraph k_rec["rec"]
    direction LR
    k_rec_v1["v1<br/>2 documents"]
    k_rec_v2["v2"]
    k_rec_v3["v3 (latest)"]
    k_rec_v1 -->|"rename /name → title<br/>add /tags"| k_rec_v2
    k_rec_v2 -.->|"lossy<br/>remove /note"| k_rec_v3
  end
"#;

#[test]
fn mermaid_shows_versions_steps_ops_lossy_steps_and_documents() {
    let t = project(2);
    let r = run_in(t.path(), &["graph"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert_eq!(r.stdout, MERMAID);
}

#[test]
fn dot_shows_the_same_graph() {
    let t = project(1);
    let r = run_in(t.path(), &["graph", "--to", "dot"]);
    assert_eq!(r.code, 0, "{r:?}");
    let out = &r.stdout;
    assert!(
        out.starts_with("digraph catalog {\n  rankdir=LR;\n"),
        "{out}"
    );
    for needle in [
        "  subgraph cluster_k_rec {\n    label=\"rec\";\n",
        "    k_rec_v1 [label=\"v1\\nrecs/r0000.json\"];\n",
        "    k_rec_v3 [label=\"v3\", peripheries=2];\n",
        "    k_rec_v1 -> k_rec_v2 [label=\"rename /name → title\\nadd /tags\"];\n",
        "    k_rec_v2 -> k_rec_v3 [label=\"lossy\\nremove /note\", style=dashed, color=red];\n",
    ] {
        assert!(out.contains(needle), "missing {needle:?} in\n{out}");
    }
    assert!(out.ends_with("  }\n}\n"), "{out}");
}

#[test]
fn json_is_the_typed_graph_and_documents_move_with_migrate() {
    let t = project(3);
    assert_eq!(
        run_in(t.path(), &["migrate", "--to", "2", "state/recs/r0001.json"]).code,
        0
    );
    let r = run_in(t.path(), &["graph", "--format", "json"]);
    assert_eq!(r.code, 0, "{r:?}");
    let v = r.json();
    let kind = &v["kinds"][0];
    assert_eq!(kind["name"], "rec");
    assert_eq!(
        kind["versions"][0]["documents"],
        serde_json::json!(["recs/r0000.json", "recs/r0002.json"])
    );
    assert_eq!(
        kind["versions"][1]["documents"],
        serde_json::json!(["recs/r0001.json"])
    );
    assert_eq!(kind["steps"][1]["lossy"], true);
    assert_eq!(
        kind["steps"][0]["migration"],
        "rec/0001_title_and_tags.yaml"
    );
}

#[test]
fn no_documents_draws_the_catalog_alone() {
    let t = project(2);
    let r = run_in(t.path(), &["graph", "--no-documents"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(r.stdout.contains("    k_rec_v1[\"v1\"]\n"), "{}", r.stdout);
}

/// The README's picture is `statewright graph --no-documents` of the
/// shipped catalog; `STATEWRIGHT_BLESS=1` rewrites it.
#[test]
fn the_readme_shows_the_shipped_catalog() {
    let r = run(&["graph", "--no-documents"]);
    assert_eq!(r.code, 0, "{r:?}");
    let path = repo().join("README.md");
    let readme = std::fs::read_to_string(&path).unwrap();
    let (start, end) = (
        "<!-- graph:start -->\n```mermaid\n",
        "```\n<!-- graph:end -->",
    );
    let a = readme
        .find(start)
        .expect("README has the graph start marker")
        + start.len();
    let b = readme[a..]
        .find(end)
        .expect("README has the graph end marker")
        + a;
    if std::env::var_os("STATEWRIGHT_BLESS").is_some() {
        let fresh = format!("{}{}{}", &readme[..a], r.stdout, &readme[b..]);
        std::fs::write(&path, fresh).unwrap();
        return;
    }
    assert!(
        readme[a..b] == r.stdout,
        "README.md's catalog graph is stale; run `STATEWRIGHT_BLESS=1 cargo test --test cli graph::the_readme` and commit it"
    );
}
