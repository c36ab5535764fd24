//! The pre-commit hooks of `.pre-commit-hooks.yaml`, run by pre-commit
//! itself (`pre-commit try-repo`) on a sample repository. Skipped, saying
//! why, when pre-commit is not installed (`pip install pre-commit`).

use std::path::Path;
use std::process::{Command, Output};

use crate::util::{repo, run_in, tempdir};

const HOOKS: [&str; 3] = [
    "statewright-validate",
    "statewright-check",
    "statewright-migrate-verify",
];

fn git(dir: &Path, args: &[&str]) {
    let out = Command::new("git")
        .args(["-c", "user.name=t", "-c", "user.email=t@example.invalid"])
        .args(args)
        .current_dir(dir)
        .output()
        .expect("run git");
    assert!(out.status.success(), "git {args:?}: {out:?}");
}

/// A git repository holding only this repository's hook definitions.
fn hook_repo(dir: &Path) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::copy(
        repo().join(".pre-commit-hooks.yaml"),
        dir.join(".pre-commit-hooks.yaml"),
    )
    .unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "hooks"]);
}

/// A sample repository: a new project with one kind and one document.
fn sample_repo(dir: &Path, image: &str) {
    std::fs::create_dir_all(dir).unwrap();
    assert_eq!(run_in(dir, &["init"]).code, 0);
    let toml = std::fs::read_to_string(dir.join("statewright.toml")).unwrap()
        + "\n[kinds.pins]\npath = \"pins.json\"\n";
    std::fs::write(dir.join("statewright.toml"), toml).unwrap();
    std::fs::create_dir_all(dir.join("schemas/pins")).unwrap();
    std::fs::write(
        dir.join("schemas/pins/v1.json"),
        r#"{"type": "object", "properties": {"schema_version": {"const": 1}, "image": {"type": "string"}}}"#,
    )
    .unwrap();
    std::fs::write(
        dir.join("state/pins.json"),
        format!(r#"{{"schema_version": 1, "image": {image}}}"#),
    )
    .unwrap();
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "state"]);
}

fn try_repo(sample: &Path, hooks: &Path, hook: &str, home: &Path) -> Output {
    let bin = Path::new(env!("CARGO_BIN_EXE_statewright"))
        .parent()
        .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    Command::new("pre-commit")
        .args(["try-repo", hooks.to_str().unwrap(), hook, "--all-files"])
        .current_dir(sample)
        .env("PATH", path)
        .env("PRE_COMMIT_HOME", home)
        .env("NO_COLOR", "1")
        .env_remove("STATEWRIGHT_PROJECT")
        .output()
        .expect("run pre-commit")
}

fn pre_commit_missing() -> bool {
    let ok = Command::new("pre-commit")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        eprintln!("skipped: pre-commit is not installed (pip install pre-commit)");
    }
    !ok
}

#[test]
fn the_hooks_pass_a_valid_repository_and_fail_an_invalid_document() {
    if pre_commit_missing() {
        return;
    }
    let t = tempdir();
    let (hooks, home) = (t.path().join("hooks"), t.path().join("home"));
    hook_repo(&hooks);
    let good = t.path().join("good");
    sample_repo(&good, "\"api:1.2\"");
    for hook in HOOKS {
        let out = try_repo(&good, &hooks, hook, &home);
        let text = String::from_utf8_lossy(&out.stdout);
        assert!(out.status.success(), "{hook} on a valid repository: {text}");
        assert!(text.contains("Passed"), "{hook}: {text}");
    }
    let bad = t.path().join("bad");
    sample_repo(&bad, "5");
    let out = try_repo(&bad, &hooks, "statewright-validate", &home);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{text}");
    assert!(text.contains("Failed") && text.contains("SW010"), "{text}");
    assert!(text.contains("pins.json"), "{text}");
}
