//! `shakedown manual --out DIR` (hidden): the man pages and shell completions, generated
//! from the one CLI definition ([`crate::cli::Cli`]) and from what `shakedown steps` and
//! `shakedown steps --help-format` print, so that they cannot drift from the binary that
//! ships them. `ci/package.sh` runs it at package time; nothing it writes is committed.
//!
//! Writes, under DIR:
//! - `man/man1/shakedown.1` and one `man/man1/shakedown-COMMAND.1` per (visible) command
//!   (clap_mangen);
//! - `man/man7/shakedown-steps.7`: the step catalogue, the text of `shakedown steps` (built-in
//!   steps and shipped packs only: it runs where no `./steps` exists);
//! - `man/man5/shakedown-packs.5`: the step pack format (`shakedown steps --help-format`);
//! - `completions/shakedown.bash`, `completions/_shakedown` (zsh),
//!   `completions/shakedown.fish` (clap_complete).

use std::fmt::Write as _;
use std::path::Path;

use anyhow::Context;
use clap::CommandFactory;

use crate::error::ExitStatus;

/// Writes every page and completion script; prints each path written.
pub fn manual(args: &crate::cli::ManualArgs) -> anyhow::Result<ExitStatus> {
    let man1 = args.out.join("man/man1");
    let man5 = args.out.join("man/man5");
    let man7 = args.out.join("man/man7");
    let completions = args.out.join("completions");
    for dir in [&man1, &man5, &man7, &completions] {
        std::fs::create_dir_all(dir).with_context(|| format!("cannot create {}", dir.display()))?;
    }

    let cmd = crate::cli::Cli::command();
    clap_mangen::generate_to(cmd.clone(), &man1)
        .with_context(|| format!("cannot write pages into {}", man1.display()))?;
    for sub in cmd.get_subcommands().filter(|s| !s.is_hide_set()) {
        let path = man1.join(format!("shakedown-{}.1", sub.get_name()));
        let mut page = std::fs::read_to_string(&path).with_context(|| format!("cannot read {}", path.display()))?;
        page.push_str(
            ".SH \"SEE ALSO\"\n\\fBshakedown\\fR(1), \\fBshakedown\\-steps\\fR(7), \\fBshakedown\\-packs\\fR(5)\n",
        );
        write(&path, &page)?;
    }
    let top = man1.join("shakedown.1");
    let mut page = std::fs::read_to_string(&top).with_context(|| format!("cannot read {}", top.display()))?;
    page.push_str(&see_also(&cmd));
    write(&top, &page)?;

    let catalogue = steps_output(&args.out)?;
    write(&man7.join("shakedown-steps.7"), &steps_page(&catalogue))?;
    write(&man5.join("shakedown-packs.5"), &packs_page(crate::packs::FORMAT_HELP))?;

    // The completions offer the visible commands only (clap_complete would offer hidden ones).
    let visible = clap::Command::new("shakedown")
        .version(env!("CARGO_PKG_VERSION"))
        .propagate_version(true)
        .subcommands(cmd.get_subcommands().filter(|s| !s.is_hide_set()).cloned());
    for shell in [
        clap_complete::Shell::Bash,
        clap_complete::Shell::Zsh,
        clap_complete::Shell::Fish,
    ] {
        let mut cmd = visible.clone();
        clap_complete::generate_to(shell, &mut cmd, "shakedown", &completions)
            .with_context(|| format!("cannot write the {shell} completion into {}", completions.display()))?;
    }

    let mut written = Vec::new();
    for dir in [&man1, &man5, &man7, &completions] {
        for entry in std::fs::read_dir(dir)? {
            written.push(entry?.path());
        }
    }
    written.sort();
    for path in written {
        println!("{}", path.display());
    }
    Ok(ExitStatus::Ok)
}

fn write(path: &Path, text: &str) -> anyhow::Result<()> {
    std::fs::write(path, text).with_context(|| format!("cannot write {}", path.display()))
}

/// The top page's SEE ALSO: every command's page and the two reference pages.
fn see_also(cmd: &clap::Command) -> String {
    let mut refs: Vec<String> = cmd
        .get_subcommands()
        .filter(|s| !s.is_hide_set())
        .map(|s| format!("\\fBshakedown\\-{}\\fR(1)", s.get_name()))
        .collect();
    refs.push("\\fBshakedown\\-packs\\fR(5)".into());
    refs.push("\\fBshakedown\\-steps\\fR(7)".into());
    refs.push("\\fBssh\\fR(1)".into());
    format!(".SH \"SEE ALSO\"\n{}\n", refs.join(",\n"))
}

/// What `shakedown steps` prints, from this very binary, run in `dir` (fresh: no `./steps`
/// there, so only the built-in steps and the shipped packs are listed).
fn steps_output(dir: &Path) -> anyhow::Result<String> {
    let exe = std::env::current_exe().context("cannot find this program's path")?;
    let out = std::process::Command::new(&exe)
        .arg("steps")
        .current_dir(dir)
        .env_remove("SHAKEDOWN_INVENTORY")
        .output()
        .with_context(|| format!("cannot run {} steps", exe.display()))?;
    anyhow::ensure!(
        out.status.success(),
        "`shakedown steps` failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8(out.stdout)?)
}

/// Escapes text for roff: backslashes, minus signs, and a leading `.` or `'`.
fn escape(line: &str) -> String {
    let text = line.replace('\\', "\\e").replace('-', "\\-");
    if text.starts_with('.') || text.starts_with('\'') {
        format!("\\&{text}")
    } else {
        text
    }
}

/// Inline `code` in bold, the rest escaped.
/// (An escaped backtick, \\`, is a literal one.)
fn inline(line: &str) -> String {
    line.replace("\\`", "\u{1}")
        .split('`')
        .enumerate()
        .map(|(i, part)| {
            let part = escape(part).replace('\u{1}', "`");
            if i % 2 == 1 { format!("\\fB{part}\\fR") } else { part }
        })
        .collect()
}

fn header(name: &str, section: u8, summary: &str) -> String {
    format!(
        ".TH {} {section} \"\" \"shakedown {}\" \"shakedown\"\n.SH NAME\n{} \\- {summary}\n",
        name.to_uppercase().replace('-', "\\-"),
        env!("CARGO_PKG_VERSION"),
        name.replace('-', "\\-"),
    )
}

/// shakedown-steps(7): the catalogue as `shakedown steps` prints it, one subsection per
/// file, one tagged paragraph per step (its example), then the notes that follow the list.
fn steps_page(catalogue: &str) -> String {
    let mut page = header("shakedown-steps", 7, "the step catalogue of shakedown");
    page.push_str(".SH DESCRIPTION\nEvery step sentence a feature may use, with an example, what it checks and where it is implemented, as printed by \\fBshakedown steps\\fR (built-in steps and shipped packs; \\fBshakedown steps\\fR in a suite also lists its own packs).\n");
    page.push_str(".SH STEPS\n");
    let mut notes = false;
    for line in catalogue.lines() {
        if let Some(file) = line.strip_prefix("## ") {
            let _ = writeln!(page, ".SS {}", escape(file));
        } else if let Some(detail) = line.strip_prefix("      ") {
            let _ = writeln!(page, "{}\n.br", inline(detail));
        } else if let Some(example) = line.strip_prefix("  ") {
            let _ = writeln!(page, ".TP 4\n\\fB{}\\fR", escape(example));
        } else if !line.is_empty() {
            if !notes {
                page.push_str(".SH NOTES\n");
                notes = true;
            }
            let _ = writeln!(page, ".PP\n{}", inline(line));
        }
    }
    page.push_str(
        ".SH \"SEE ALSO\"\n\\fBshakedown\\fR(1), \\fBshakedown\\-steps\\fR(1), \\fBshakedown\\-packs\\fR(5)\n",
    );
    page
}

/// shakedown-packs(5): the pack format (src/packs/FORMAT.md, the text of `shakedown steps
/// --help-format`) from its Markdown: `##` headings, paragraphs, indented examples, lists
/// and two- or three-column tables.
fn packs_page(markdown: &str) -> String {
    let mut page = header("shakedown-packs", 5, "the step pack format of shakedown (steps/*.toml)");
    page.push_str(".SH DESCRIPTION\n");
    let mut in_code = false;
    for line in markdown.lines() {
        if line.starts_with("# ") {
            continue;
        }
        if let Some(code) = line.strip_prefix("    ") {
            if !in_code {
                page.push_str(".PP\n.RS 4\n.nf\n");
                in_code = true;
            }
            let _ = writeln!(page, "{}", escape(code));
            continue;
        }
        if in_code {
            page.push_str(".fi\n.RE\n");
            in_code = false;
        }
        if let Some(title) = line.strip_prefix("## ") {
            let _ = writeln!(page, ".SH {}", escape(&title.to_uppercase()));
        } else if line.starts_with('|') {
            let cells: Vec<&str> = line.trim_matches('|').split(" | ").map(str::trim).collect();
            let rule = cells.iter().all(|c| c.chars().all(|ch| ch == '-'));
            let heading = matches!(cells.first(), Some(&"key") | Some(&"where"));
            if rule || heading {
                continue;
            }
            let _ = writeln!(page, ".TP\n{}", inline(cells[0]));
            let _ = writeln!(page, "{}", inline(&cells[1..].join(": ")));
        } else if let Some(item) = line.strip_prefix("- ") {
            let _ = writeln!(page, ".IP \\(bu 2\n{}", inline(item));
        } else if line.is_empty() {
            page.push_str(".PP\n");
        } else {
            let _ = writeln!(page, "{}", inline(line.trim_start()));
        }
    }
    if in_code {
        page.push_str(".fi\n.RE\n");
    }
    page.push_str(
        ".SH \"SEE ALSO\"\n\\fBshakedown\\fR(1), \\fBshakedown\\-steps\\fR(1), \\fBshakedown\\-steps\\fR(7)\n",
    );
    page
}
