//! Shell conventions: completion scripts and man pages generated from the
//! argument definitions, and the progress bar that only a terminal sees.

use crate::migrate::project;
use crate::util::{run, run_in, tempdir};

#[test]
fn completions_for_each_shell_name_the_commands_and_flags() {
    for (shell, marker) in [
        ("bash", "complete -F _statewright"),
        ("zsh", "#compdef statewright"),
        ("fish", "complete -c statewright"),
        ("powershell", "Register-ArgumentCompleter"),
    ] {
        let r = run(&["completions", shell]);
        assert_eq!(r.code, 0, "{shell}: {r:?}");
        assert!(r.stdout.contains(marker), "{shell}: no {marker:?}");
        for word in ["validate", "migrate", "graph", "init", "lock-timeout"] {
            assert!(r.stdout.contains(word), "{shell} completion lacks {word}");
        }
    }
    let r = run(&["completions", "tcsh"]);
    assert_eq!(r.code, 2, "{r:?}");
}

#[test]
fn bash_completion_completes_a_subcommand() {
    if std::process::Command::new("bash")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped: bash is not installed");
        return;
    }
    let script = run(&["completions", "bash"]).stdout;
    let t = tempdir();
    let file = t.path().join("statewright.bash");
    std::fs::write(&file, script).unwrap();
    let probe = format!(
        "source {}; COMP_WORDS=(statewright mig); COMP_CWORD=1; _statewright statewright mig statewright; echo \"${{COMPREPLY[@]}}\"",
        file.display()
    );
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(probe)
        .output()
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "migrate");
}

#[test]
fn man_prints_a_page_and_writes_one_per_command() {
    let r = run(&["man"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(
        r.stdout.starts_with(".ie \\n(.g .ds Aq \\(aq"),
        "{}",
        &r.stdout[..80.min(r.stdout.len())]
    );
    assert!(r.stdout.contains(".TH statewright 1"), "no title header");
    assert!(
        r.stdout.contains("statewright\\-migrate(1)"),
        "no SEE ALSO entry for migrate"
    );
    let t = tempdir();
    let dir = t.path().join("man1");
    let r = run(&["man", "--dir", dir.to_str().unwrap()]);
    assert_eq!(r.code, 0, "{r:?}");
    for page in [
        "statewright.1",
        "statewright-migrate.1",
        "statewright-init.1",
        "statewright-graph.1",
    ] {
        assert!(dir.join(page).is_file(), "{page} not written");
    }
}

/// Below a terminal the bar is hidden: a 60-document migration piped to a
/// file prints no progress on stderr.
#[test]
fn progress_is_hidden_when_stderr_is_not_a_terminal() {
    let t = project(60);
    let r = run_in(t.path(), &["migrate"]);
    assert_eq!(r.code, 0, "{r:?}");
    assert!(!r.stderr.contains("reading"), "{}", r.stderr);
    assert!(!r.stderr.contains("one transaction"), "{}", r.stderr);
}

/// On a terminal (`script` gives the run one) the bar is drawn.
#[test]
fn progress_is_drawn_on_a_terminal() {
    let probe = std::process::Command::new("script")
        .arg("--version")
        .output();
    if !probe.is_ok_and(|o| o.status.success()) {
        eprintln!("skipped: `script` (util-linux) is not installed to give the run a terminal");
        return;
    }
    let t = project(60);
    let cmd = format!("{} migrate", env!("CARGO_BIN_EXE_statewright"));
    let out = std::process::Command::new("script")
        .args(["-qec", &cmd, "/dev/null"])
        .current_dir(t.path())
        .env("NO_COLOR", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(
        text.contains("reading [") && text.contains("60/60"),
        "{text}"
    );
}
