//! The man pages and completions (`shakedown manual --out DIR`, run by ci/package.sh) are
//! generated from the CLI itself: one page per command and no other, every option of a
//! command on its page, the step catalogue and the pack format on their own pages, and
//! completions that offer every command. Nothing generated is committed, so they cannot
//! drift; these tests show that what is generated covers the CLI.

use std::collections::BTreeSet;
use std::path::Path;

use clap::CommandFactory;
use shakedown::cli::Cli;

use crate::util::{shakedown, shakedown_in};

fn names(dir: &Path) -> BTreeSet<String> {
    std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|e| e.expect("entry").file_name().to_string_lossy().into_owned())
        .collect()
}

/// The visible commands of the CLI definition.
fn commands() -> Vec<clap::Command> {
    Cli::command()
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .cloned()
        .collect()
}

/// Roff writes `-` as `\-`.
fn roff(text: &str) -> String {
    text.replace('-', "\\-")
}

#[test]
fn one_man_page_per_command_with_every_option() {
    let out = tempfile::tempdir().expect("temp dir");
    shakedown(&["manual", "--out", out.path().to_str().expect("utf-8")]).assert_exit(0);
    let man = out.path().join("man");

    let mut want: BTreeSet<String> = commands()
        .iter()
        .map(|c| format!("shakedown-{}.1", c.get_name()))
        .collect();
    want.insert("shakedown.1".into());
    assert_eq!(names(&man.join("man1")), want, "man1 pages against the CLI's commands");
    assert_eq!(
        names(&man.join("man5")),
        BTreeSet::from(["shakedown-packs.5".to_string()])
    );
    assert_eq!(
        names(&man.join("man7")),
        BTreeSet::from(["shakedown-steps.7".to_string()])
    );

    for cmd in commands() {
        let page = std::fs::read_to_string(man.join(format!("man1/shakedown-{}.1", cmd.get_name()))).expect("page");
        for arg in cmd.get_arguments().filter(|a| !a.is_hide_set()) {
            if let Some(long) = arg.get_long() {
                assert!(
                    page.contains(&roff(&format!("--{long}"))),
                    "shakedown-{}.1 lacks --{long}",
                    cmd.get_name()
                );
            }
        }
    }
    let top = std::fs::read_to_string(man.join("man1/shakedown.1")).expect("top page");
    assert!(!top.contains("manual"), "the packagers' command is hidden");
    for page in [
        "shakedown\\-packs\\fR(5)",
        "shakedown\\-steps\\fR(7)",
        "shakedown\\-check\\fR(1)",
    ] {
        assert!(top.contains(page), "shakedown(1) SEE ALSO lacks {page}");
    }
}

#[test]
fn the_steps_and_packs_pages_hold_what_the_steps_command_prints() {
    let out = tempfile::tempdir().expect("temp dir");
    shakedown(&["manual", "--out", out.path().to_str().expect("utf-8")]).assert_exit(0);
    let steps_page = std::fs::read_to_string(out.path().join("man/man7/shakedown-steps.7")).expect("steps page");
    // The catalogue as a suite without packs of its own sees it.
    let empty = tempfile::tempdir().expect("temp dir");
    let catalogue = shakedown_in(empty.path(), &["steps"], &[]);
    catalogue.assert_exit(0);
    let mut examples = 0;
    for line in catalogue.stdout.lines() {
        if let Some(file) = line.strip_prefix("## ") {
            assert!(
                steps_page.contains(&format!(".SS {}", roff(file))),
                "no section for {file}"
            );
        } else if line.starts_with("  ") && !line.starts_with("      ") {
            let example = roff(&line.trim().replace('\\', "\\e"));
            assert!(steps_page.contains(&example), "shakedown-steps.7 lacks {line:?}");
            examples += 1;
        }
    }
    assert!(examples > 50, "the catalogue has its examples ({examples})");

    let format = shakedown(&["steps", "--help-format"]);
    format.assert_exit(0);
    let packs_page = std::fs::read_to_string(out.path().join("man/man5/shakedown-packs.5")).expect("packs page");
    for heading in format.stdout.lines().filter_map(|l| l.strip_prefix("## ")) {
        assert!(
            packs_page.contains(&format!(".SH {}", roff(&heading.to_uppercase()))),
            "shakedown-packs.5 lacks the section {heading}"
        );
    }
    for key in ["sentence", "params", "stdout_equals", "rows_at_least", "between"] {
        assert!(packs_page.contains(key), "shakedown-packs.5 lacks {key}");
    }
}

#[test]
fn completions_offer_every_command_and_its_options() {
    let out = tempfile::tempdir().expect("temp dir");
    shakedown(&["manual", "--out", out.path().to_str().expect("utf-8")]).assert_exit(0);
    let dir = out.path().join("completions");
    assert_eq!(
        names(&dir),
        BTreeSet::from(["shakedown.bash".into(), "_shakedown".into(), "shakedown.fish".into()])
    );
    for file in ["shakedown.bash", "_shakedown", "shakedown.fish"] {
        let text = std::fs::read_to_string(dir.join(file)).expect("completion");
        for cmd in commands() {
            assert!(
                text.contains(cmd.get_name()),
                "{file} lacks the command {}",
                cmd.get_name()
            );
            for long in cmd.get_arguments().filter_map(|a| a.get_long()) {
                assert!(text.contains(long), "{file} lacks --{long} of {}", cmd.get_name());
            }
        }
        assert!(!text.contains("manual"), "{file} offers the hidden command");
    }
}
