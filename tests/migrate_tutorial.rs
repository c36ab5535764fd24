//! docs/TUTORIAL.md is run, not just read: its files are written into a
//! fresh project, its commands are run with the real binary, and each
//! command's output must equal the `text` block that follows it.
//! `STATEWRIGHT_BLESS=1 cargo test --test migrate_tutorial` rewrites the
//! output blocks from a run (review the diff before committing).

use std::path::Path;
use std::process::Command;

/// One fenced block: its info string, its body, and where the body sits
/// in the document (byte range).
struct Block {
    info: String,
    body: String,
    range: std::ops::Range<usize>,
}

fn blocks(text: &str) -> Vec<Block> {
    let mut out = Vec::new();
    let mut pos = 0;
    let mut open: Option<(String, usize)> = None;
    for line in text.split_inclusive('\n') {
        let start = pos;
        pos += line.len();
        let fence = line.trim_end().strip_prefix("```");
        match (&open, fence) {
            (None, Some(info)) => open = Some((info.trim().to_owned(), pos)),
            (Some((info, from)), Some("")) => {
                out.push(Block {
                    info: info.clone(),
                    body: text[*from..start].to_owned(),
                    range: *from..start,
                });
                open = None;
            }
            _ => {}
        }
    }
    out
}

/// Times differ from run to run: written as one fixed time.
fn steady(s: &str) -> String {
    let time = regex::Regex::new(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z").unwrap();
    let uuid =
        regex::Regex::new(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}").unwrap();
    let sum = regex::Regex::new(r#"(checksum\W+)sha256:[0-9a-f]{64}"#).unwrap();
    let s = time.replace_all(s, "2026-01-01T00:00:00Z");
    let s = uuid.replace_all(&s, "00000000-0000-0000-0000-000000000000");
    sum.replace_all(&s, format!("${{1}}sha256:{}", "0".repeat(64)))
        .into_owned()
}

fn run(dir: &Path, line: &str) -> String {
    let args: Vec<&str> = line.split_whitespace().skip(1).collect();
    let out = Command::new(env!("CARGO_BIN_EXE_statewright"))
        .args(&args)
        .current_dir(dir)
        .env("NO_COLOR", "1")
        .env_remove("STATEWRIGHT_PROJECT")
        .output()
        .expect("run statewright");
    let mut text = String::from_utf8_lossy(&out.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&out.stderr));
    if let Some(code) = out.status.code().filter(|c| *c != 0) {
        text.push_str(&format!("(exit {code})\n"));
    }
    steady(&text)
}

#[test]
fn the_tutorial_runs_as_written() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("docs/TUTORIAL.md");
    let doc = std::fs::read_to_string(&path).expect("docs/TUTORIAL.md");
    let t = tempfile::tempdir().unwrap();
    let dir = t.path();
    let all = blocks(&doc);
    let mut outputs: Vec<(std::ops::Range<usize>, String)> = Vec::new();
    let mut pending: Option<String> = None;
    for b in &all {
        if let Some(file) = b
            .info
            .split_whitespace()
            .find_map(|w| w.strip_prefix("file="))
        {
            let target = dir.join(file);
            std::fs::create_dir_all(target.parent().unwrap()).unwrap();
            std::fs::write(&target, &b.body).unwrap();
        } else if b.info == "sh" {
            let mut out = String::new();
            for line in b.body.lines().filter(|l| l.starts_with("statewright ")) {
                out.push_str(&run(dir, line));
            }
            pending = Some(out);
        } else if b.info == "text"
            && let Some(out) = pending.take()
        {
            outputs.push((b.range.clone(), out));
        }
    }
    assert!(outputs.len() >= 9, "only {} outputs", outputs.len());
    if std::env::var_os("STATEWRIGHT_BLESS").is_some() {
        let mut text = doc.clone();
        for (range, out) in outputs.iter().rev() {
            text.replace_range(range.clone(), out);
        }
        std::fs::write(&path, text).unwrap();
        return;
    }
    for (range, out) in &outputs {
        assert_eq!(
            &doc[range.clone()],
            out.as_str(),
            "docs/TUTORIAL.md is stale; run `STATEWRIGHT_BLESS=1 cargo test --test migrate_tutorial` and review it"
        );
    }
}
