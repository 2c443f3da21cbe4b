//! `shakedown init [DIR]`: writes a ready suite (one example feature per step family, a
//! custom step placeholder, a commented inventory, CI and monitoring examples) that
//! `shakedown lint` (reading ./inventory.toml) accepts unchanged. The templates are real files
//! under `examples/init/` and `ci/examples/`, embedded at build time. It never overwrites:
//! if any target file exists, it names them all and writes nothing (exit 2); a file where a
//! directory must go (`init afile`) is named as such.

use std::path::{Path, PathBuf};

use crate::cli::InitArgs;
use crate::error::{BadInput, ExitStatus};

/// Every file `init` writes: (path in the new suite, content).
const FILES: &[(&str, &str)] = &[
    ("inventory.toml", include_str!("../../examples/init/inventory.toml")),
    (
        "features/command.feature",
        include_str!("../../examples/init/features/command.feature"),
    ),
    (
        "features/network.feature",
        include_str!("../../examples/init/features/network.feature"),
    ),
    (
        "features/system.feature",
        include_str!("../../examples/init/features/system.feature"),
    ),
    (
        "features/http.feature",
        include_str!("../../examples/init/features/http.feature"),
    ),
    (
        "features/haproxy.feature",
        include_str!("../../examples/init/features/haproxy.feature"),
    ),
    (
        "features/mysql.feature",
        include_str!("../../examples/init/features/mysql.feature"),
    ),
    (
        "steps/example.toml",
        include_str!("../../examples/init/steps/example.toml"),
    ),
    ("ci/Jenkinsfile", include_str!("../../ci/examples/Jenkinsfile")),
    ("ci/gitlab-ci.yml", include_str!("../../ci/examples/gitlab-ci.yml")),
    ("ci/crontab", include_str!("../../ci/examples/crontab")),
    (
        "ci/shakedown.service",
        include_str!("../../ci/examples/shakedown.service"),
    ),
    ("ci/shakedown.timer", include_str!("../../ci/examples/shakedown.timer")),
    (
        "ci/nagios/shakedown.cfg",
        include_str!("../../ci/examples/nagios/shakedown.cfg"),
    ),
    (
        "ci/nagios/shakedown-shards.cfg",
        include_str!("../../ci/examples/nagios-shakedown.cfg"),
    ),
    (
        "ci/icinga2/shakedown.conf",
        include_str!("../../ci/examples/icinga2/shakedown.conf"),
    ),
    (
        "ci/icinga2/shakedown-shards.conf",
        include_str!("../../ci/examples/icinga2-shakedown.conf"),
    ),
];

/// Writes the suite into `args.dir`; bad input (exit 2) when a file is already there or
/// cannot be written.
pub fn init(args: &InitArgs) -> Result<ExitStatus, BadInput> {
    let dir = &args.dir;
    let targets: Vec<(PathBuf, &str)> = FILES.iter().map(|(p, c)| (dir.join(p), *c)).collect();
    // A file where a directory must go (the suite's, or features/, steps/, ci/ in it).
    let mut in_the_way: Vec<String> = Vec::new();
    for (path, _) in &targets {
        if let Some(file) = path.ancestors().skip(1).find(|a| a.is_file()) {
            let text = format!(
                "{}: is a file, not a directory: init writes a suite into a new or existing directory",
                file.display()
            );
            if !in_the_way.contains(&text) {
                in_the_way.push(text);
            }
        }
    }
    if !in_the_way.is_empty() {
        return Err(BadInput(in_the_way));
    }
    let existing: Vec<String> = targets
        .iter()
        .filter(|(p, _)| p.exists())
        .map(|(p, _)| {
            format!(
                "{}: already exists; init writes nothing over existing files",
                p.display()
            )
        })
        .collect();
    if !existing.is_empty() {
        return Err(BadInput(existing));
    }
    for (path, content) in &targets {
        write_new(path, content).map_err(|e| BadInput::one(format!("{}: {e}", path.display())))?;
    }
    print_next_steps(dir);
    Ok(ExitStatus::Ok)
}

/// Creates `path` (and its directories); fails rather than replace a file that appeared
/// since the check.
fn write_new(path: &Path, content: &str) -> std::io::Result<()> {
    use std::io::Write;
    if let Some(parent) = path.parent() {
        std::fs::create_dir_all(parent)?;
    }
    let mut file = std::fs::OpenOptions::new().write(true).create_new(true).open(path)?;
    file.write_all(content.as_bytes())
}

fn print_next_steps(dir: &Path) {
    println!("wrote a suite in {}:", dir.display());
    for (path, _) in FILES {
        println!("  {path}");
    }
    let cd = if dir == Path::new(".") {
        String::new()
    } else {
        format!("cd {} && ", dir.display())
    };
    println!("next: put your hosts in inventory.toml, then\n  {cd}shakedown lint\n  shakedown run");
}
