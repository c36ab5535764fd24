//! Edits keep the file as people wrote it: `set` and `rm` change only the
//! lines whose values change (the value and the envelope fields every
//! write stamps), in JSON, YAML and TOML; a change the splicer does not
//! make in place is written in full and said.

use std::path::{Path, PathBuf};

use serde_json::Value;
use statewright::envelope::checksum;
use statewright::spec::document::{decode, parse};
use statewright::spec::{Format, ParseLimits};

use crate::util::{Run, run_in, tempdir};

const LINEAGE: &str = "6f1c0d9e-0000-4000-8000-000000000001";

/// The envelope fields a write changes, as they are in a document.
struct Stamp {
    serial: u64,
    command: String,
    generated_at: String,
    command_id: String,
    checksum: String,
}

/// A project with one kind per format (schema: any object) in a tempdir.
struct Project {
    _dir: tempfile::TempDir,
    root: PathBuf,
}

impl Project {
    fn new() -> Project {
        let dir = tempdir();
        let root = dir.path().to_owned();
        let mut toml = "[project]\nschemas = \"schemas\"\nstate = \"state\"\n".to_owned();
        for (kind, path) in [("j", "*.json"), ("y", "*.yaml"), ("t", "*.toml")] {
            toml.push_str(&format!("\n[kinds.{kind}]\npath = \"{path}\"\n"));
            std::fs::create_dir_all(root.join("schemas").join(kind)).unwrap();
            std::fs::write(
                root.join(format!("schemas/{kind}/v1.json")),
                r#"{"type": "object"}"#,
            )
            .unwrap();
        }
        std::fs::write(root.join("statewright.toml"), toml).unwrap();
        std::fs::create_dir_all(root.join("state")).unwrap();
        Project { _dir: dir, root }
    }

    fn run(&self, args: &[&str]) -> Run {
        let r = run_in(&self.root, args);
        assert_eq!(r.code, 0, "{args:?}\n{}\n{}", r.stdout, r.stderr);
        r
    }

    fn path(&self, rel: &str) -> PathBuf {
        self.root.join("state").join(rel)
    }

    fn text(&self, rel: &str) -> String {
        std::fs::read_to_string(self.path(rel)).unwrap()
    }

    /// Writes `template` (its `{value}` filled) as `rel`, stamped with
    /// serial 7 and a checksum that verifies.
    fn write(&self, rel: &str, template: &str, value: &str) -> String {
        let mut stamp = Stamp {
            serial: 7,
            command: "set".into(),
            generated_at: "2025-01-02T03:04:05Z".into(),
            command_id: "00000000-0000-4000-8000-000000000000".into(),
            checksum: "sha256:0".into(),
        };
        let unsummed = fill(template, &stamp, value);
        stamp.checksum = checksum(&read(&self.path(rel), &unsummed), "/checksum");
        let text = fill(template, &stamp, value);
        std::fs::write(self.path(rel), &text).unwrap();
        text
    }

    /// The envelope fields of `rel` as it is now.
    fn stamp(&self, rel: &str) -> Stamp {
        let v = read(&self.path(rel), &self.text(rel));
        let s = |p: &str| v.pointer(p).and_then(Value::as_str).unwrap().to_owned();
        Stamp {
            serial: v["serial"].as_u64().unwrap(),
            command: s("/origin/command"),
            generated_at: s("/generated_at"),
            command_id: s("/origin/command_id"),
            checksum: s("/checksum"),
        }
    }
}

fn read(path: &Path, text: &str) -> Value {
    let format = Format::from_path(path).unwrap();
    let source = decode(path, text.as_bytes().to_vec(), format).unwrap();
    parse(&source, ParseLimits::default()).unwrap()
}

fn fill(template: &str, s: &Stamp, value: &str) -> String {
    template
        .replace("{serial}", &s.serial.to_string())
        .replace("{command}", &s.command)
        .replace("{generated_at}", &s.generated_at)
        .replace("{command_id}", &s.command_id)
        .replace("{checksum}", &s.checksum)
        .replace("{value}", value)
}

/// How many lines differ between `a` and `b` (of the same line count).
fn changed_lines(a: &str, b: &str) -> usize {
    assert_eq!(a.lines().count(), b.lines().count(), "{a}\n---\n{b}");
    a.lines().zip(b.lines()).filter(|(x, y)| x != y).count()
}

const JSON: &str = r#"{
    "schema_version": 1,
    "serial": {serial},
    "lineage": "6f1c0d9e-0000-4000-8000-000000000001",

    "zeta": {
        "name":   "edge-1",
        "limits": { "cpu": 2, "memory": "512Mi" },
        "recovery": {
            "dataLoss": {value},
            "window": "5m"
        }
    },
    "alpha": [ 1, 2,
               3 ],
    "origin": {"module": "statewright", "command": "{command}", "command_id": "{command_id}", "tool_version": "0.1.0"},
    "generated_at": "{generated_at}",
    "checksum": "{checksum}"
}
"#;

const YAML: &str = r#"# Service state, edited by hand and by statewright.
schema_version: 1
serial: {serial}
lineage: '6f1c0d9e-0000-4000-8000-000000000001'

zeta:
   name: "edge-1"        # quoted on purpose
   recovery:
      dataLoss: {value}   # flipped by ops
      window: 5m

   # the limits below are per pod
   limits:
      cpu: 2
alpha:
- 1
- 2
origin:
  module: statewright
  command: {command}
  command_id: '{command_id}'
  tool_version: '0.1.0'
generated_at: '{generated_at}'
checksum: "{checksum}"
"#;

const TOML: &str = r#"# Service state, edited by hand and by statewright.
schema_version = 1
serial = {serial}
lineage = "6f1c0d9e-0000-4000-8000-000000000001"
generated_at = '{generated_at}'
checksum = "{checksum}"

[zeta]
name   = "edge-1"   # aligned by hand
limits = { cpu = 2, memory = "512Mi" }

  [zeta.recovery]
  dataLoss = {value}  # flipped by ops
  window = '5m'

[origin]
module = "statewright"
command = "{command}"
command_id = "{command_id}"
tool_version = "0.1.0"
"#;

/// `set` of one nested value in a hand-formatted document: the bytes are
/// the original bytes with exactly the value's line and the lines of the
/// envelope fields the write stamps (serial, generated_at,
/// origin.command_id, checksum) replaced. (`origin.command` stays `set`.)
#[test]
fn set_changes_only_the_changed_lines_in_every_format() {
    let p = Project::new();
    for (rel, template, lines) in [
        ("s.json", JSON, 5),
        ("s.yaml", YAML, 5),
        ("s.toml", TOML, 5),
    ] {
        assert!(template.contains(LINEAGE));
        let before = p.write(rel, template, "false");
        p.run(&["set", rel, "/zeta/recovery/dataLoss", "true"]);
        let after = p.text(rel);
        let stamp = p.stamp(rel);
        assert_eq!(stamp.serial, 8, "{rel}");
        assert_eq!(after, fill(template, &stamp, "true"), "{rel}");
        assert_eq!(changed_lines(&before, &after), lines, "{rel}");
        // The document reads back verified (checksum and all).
        let r = p.run(&["get", rel, "/zeta/recovery/dataLoss"]);
        assert_eq!(r.stdout.trim(), "true", "{rel}");
    }
}

/// `rm` of a member removes its line(s) (and in JSON its comma); `set`
/// of a new member adds it after its last sibling, indented as the
/// siblings are (JSON with tabs here).
#[test]
fn rm_and_added_members_touch_only_their_lines() {
    let p = Project::new();
    let tabbed = JSON.replace("    ", "\t");
    let cases = [
        (
            "r.json",
            tabbed.as_str(),
            "\t\t\"limits\": { \"cpu\": 2, \"memory\": \"512Mi\" },\n",
            (
                "\t\t\t\"window\": \"5m\"\n",
                "\t\t\t\"window\": \"5m\",\n\t\t\t\"owner\": \"ops\"\n",
            ),
        ),
        (
            "r.yaml",
            YAML,
            "   limits:\n      cpu: 2\n",
            ("      window: 5m\n", "      window: 5m\n      owner: ops\n"),
        ),
        (
            "r.toml",
            TOML,
            "limits = { cpu = 2, memory = \"512Mi\" }\n",
            ("  window = '5m'\n", "  window = '5m'\n  owner = \"ops\"\n"),
        ),
    ];
    for (rel, template, removed, (line, with)) in cases {
        p.write(rel, template, "false");
        p.run(&["rm", rel, "/zeta/limits"]);
        let without = template.replace(removed, "");
        assert_ne!(without, template, "{rel}");
        assert_eq!(p.text(rel), fill(&without, &p.stamp(rel), "false"), "{rel}");

        p.run(&["set", rel, "/zeta/recovery/owner", "ops"]);
        let added = without.replace(line, with);
        assert_ne!(added, without, "{rel}");
        assert_eq!(p.text(rel), fill(&added, &p.stamp(rel), "false"), "{rel}");
    }
}

/// A change inside a YAML flow mapping is not made in place: the document
/// is written in full, exactly right, and the note says so (as text, and
/// as a JSON event with `--format json`).
#[test]
fn a_change_the_splicer_does_not_make_is_written_in_full_and_said() {
    let p = Project::new();
    let template = YAML.replace(
        "      window: 5m\n",
        "      window: 5m\n      flow: {a: 1, b: [x]}\n",
    );
    p.write("f.yaml", &template, "false");
    let before = read(&p.path("f.yaml"), &p.text("f.yaml"));
    let r = p.run(&["set", "f.yaml", "/zeta/recovery/flow/a", "2"]);
    let note = format!(
        "note: {}: rewritten in full (the change at /zeta/recovery/flow/a is inside a flow mapping)",
        p.path("f.yaml").display()
    );
    assert!(r.stderr.contains(&note), "{}", r.stderr);

    let after = read(&p.path("f.yaml"), &p.text("f.yaml"));
    let mut want = before.clone();
    want["zeta"]["recovery"]["flow"]["a"] = serde_json::json!(2);
    for f in ["serial", "generated_at", "origin", "checksum"] {
        assert_ne!(after[f], before[f], "{f}");
        want[f] = after[f].clone();
    }
    assert_eq!(after, want);
    assert_eq!(
        after["checksum"],
        serde_json::json!(checksum(&after, "/checksum"))
    );
    assert!(!p.text("f.yaml").contains("# flipped by ops"));

    // Written in block style now, the next change is made in place.
    let r = p.run(&["set", "f.yaml", "/zeta/recovery/flow/a", "3"]);
    assert!(!r.stderr.contains("rewritten"), "{}", r.stderr);

    std::fs::write(p.path("g.yaml"), "schema_version: 1\nflow: {a: 1}\n").unwrap();
    let r = p.run(&["--format", "json", "set", "g.yaml", "/flow/a", "2"]);
    let event: Value = r
        .stderr
        .lines()
        .find_map(|l| serde_json::from_str(l).ok())
        .unwrap_or_else(|| panic!("{}", r.stderr));
    assert_eq!(event["event"], "rewritten");
    assert_eq!(event["file"], p.path("g.yaml").display().to_string());
    assert_eq!(
        event["reason"],
        "the change at /flow/a is inside a flow mapping"
    );
}

/// `migrate` writes through the same encoder: a hand-written YAML record
/// migrated from v1 to v3 (a rename, an added list, a removed member)
/// keeps its comments, blank line and the version's own line.
#[test]
fn migrate_keeps_the_text_of_what_it_does_not_change() {
    let t = crate::migrate::project(0);
    let d = t.path();
    let toml = std::fs::read_to_string(d.join("statewright.toml")).unwrap();
    std::fs::write(
        d.join("statewright.toml"),
        toml.replace("recs/*.json", "recs/*.yaml"),
    )
    .unwrap();
    let doc = "# A record, by hand.\nschema_version: 1   # bumped by migrate\n\nname: 'record one'   # becomes title\nnote: \"kept\"\n";
    crate::migrate::write(&d.join("state/recs/one.yaml"), doc);
    let r = run_in(d, &["migrate"]);
    assert_eq!(r.code, 0, "{}\n{}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("rewritten"), "{}", r.stderr);
    let after = std::fs::read_to_string(d.join("state/recs/one.yaml")).unwrap();
    assert!(
        after.starts_with("# A record, by hand.\nschema_version: 3   # bumped by migrate\n\ntitle: record one\ntags: []\n"),
        "{after}"
    );
    assert!(!after.contains("note:"), "{after}");
    let v = read(&d.join("state/recs/one.yaml"), &after);
    assert_eq!(v["title"], "record one");
    assert_eq!(v["tags"], serde_json::json!([]));
}
