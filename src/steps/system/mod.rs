//! System steps, checked on the current host over its transport (SSH, or local on
//! `localhost`): services, packages, PHP modules, mounts and fstab, filesystem use, files,
//! processes, ports, users, groups and kernel parameters. Whole-host facts (service states,
//! packages, mounts, ports, processes) come from [`crate::facts`], read once per host per
//! run; per-file checks send one command each. The table is here, the bodies by topic in
//! the submodules.

mod accounts;
mod files;
mod journal;
mod mounts;
mod packages;
mod services;

use std::sync::Arc;
use std::time::Duration;

use super::{Lane, StepCtx, StepDef, StepError, expect};
use crate::facts::Fact;
use crate::host::HostHandle;

/// The file holding this table (the bodies are in the submodules named by `module`).
const TABLE: &str = "src/steps/system/mod.rs";
const SERVICES: &str = "src/steps/system/services.rs";
const PACKAGES: &str = "src/steps/system/packages.rs";
const MOUNTS: &str = "src/steps/system/mounts.rs";
const FILES: &str = "src/steps/system/files.rs";
const ACCOUNTS: &str = "src/steps/system/accounts.rs";
const JOURNAL: &str = "src/steps/system/journal.rs";

/// The current host and the step timeout, which every fact read is bounded by.
fn host(ctx: &StepCtx) -> Result<(Arc<HostHandle>, Duration), StepError> {
    Ok((ctx.host()?, ctx.step_timeout))
}

/// Lint: the first argument must be a name a command can take (no leading `-`, no
/// control characters or spaces). Placeholders are checked after substitution.
fn check_name(args: &[String]) -> Result<(), String> {
    let name = args.first().map(String::as_str).unwrap_or("");
    name_ok(name)
}

fn name_ok(name: &str) -> Result<(), String> {
    if name.contains('{') {
        return Ok(());
    }
    if name.is_empty() || name.starts_with('-') || name.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return Err(format!("\"{name}\" is not a valid name (no spaces, no leading -)"));
    }
    Ok(())
}

/// Lint: the first argument must be an absolute path.
fn check_path(args: &[String]) -> Result<(), String> {
    path_ok(args.first().map(String::as_str).unwrap_or(""))
}

fn path_ok(path: &str) -> Result<(), String> {
    if path.starts_with('/') || path.starts_with('{') {
        Ok(())
    } else {
        Err(format!("\"{path}\" is not an absolute path (start it with /)"))
    }
}

fn check_path_regex(args: &[String]) -> Result<(), String> {
    check_path(args)?;
    expect::check_last_regex(args)
}

/// The system family.
pub const STEPS: &[StepDef] = &[
    StepDef {
        line: line!(),
        sentence: "the service {string} should be running",
        example: r#"Then the service "nginx" should be running"#,
        doc: "When systemd is PID 1: `systemctl show` of the unit (running = active or reloading, as `is-active` says; an alias answers for its unit, `sshd` for `ssh.service`); the found text gives the unit, its active and sub state, its unit file state and what starts it (`not running (systemd: lab-echo.service inactive (dead), indirect; started by lab-echo.socket)`), and `no such unit` for a name systemd does not know. Otherwise (containers, the lab's namespace hosts: no systemd running to ask) `rc-service NAME status` on OpenRC, else the init script's `/etc/init.d/NAME status` (LSB exit codes), else the pid file (/run/NAME.pid, /run/NAME/NAME.pid, /var/run/NAME.pid) against the process table, else a process named NAME. The found text says which method answered, e.g. `not running (init script: /etc/init.d/nginx status: exit 3, ...)`. The answer is read once per host and service per run, in the host's facts batch with the other facts.",
        module: SERVICES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Platform, Fact::ServiceRunning],
        needs_host: true,
        check: Some(services::check),
        run: services::running,
    },
    StepDef {
        line: line!(),
        sentence: "the service {string} should not be running",
        example: r#"Then the service "telnetd" should not be running"#,
        doc: "The opposite of `should be running`, by the same methods.",
        module: SERVICES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Platform, Fact::ServiceRunning],
        needs_host: true,
        check: Some(services::check),
        run: services::not_running,
    },
    StepDef {
        line: line!(),
        sentence: "the service {string} should be enabled at boot",
        example: r#"Then the service "httpd" should be enabled at boot"#,
        doc: "systemd: `systemctl is-enabled NAME` (works without systemd as PID 1), enabled when it exits 0 as systemd defines it (enabled, enabled-runtime, static, alias, indirect, generated; not disabled, masked, linked, not-found). OpenRC: listed by `rc-update show` in some runlevel. SysV: `chkconfig --list` on in the default runlevel, or an `/etc/rcN.d/S??NAME` link there (any of 2-5 when the default is unknown). The failure names the init system and its answer: `disabled at boot (systemd: disabled)`, or `no such unit (systemd: no unit file NAME)`.",
        module: SERVICES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Platform, Fact::ServiceEnabled],
        needs_host: true,
        check: Some(services::check),
        run: services::enabled,
    },
    StepDef {
        line: line!(),
        sentence: "the service {string} should not be enabled at boot",
        example: r#"Then the service "telnet" should not be enabled at boot"#,
        doc: "The opposite of `should be enabled at boot`, by the same rules (a `static` systemd unit counts as enabled, a `masked` one as not).",
        module: SERVICES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Platform, Fact::ServiceEnabled],
        needs_host: true,
        check: Some(services::check),
        run: services::not_enabled,
    },
    StepDef {
        line: line!(),
        sentence: "no systemd unit should be failed",
        example: "Then no systemd unit should be failed",
        doc: "`systemctl list-units --state=failed` (every unit type, read as any user) lists nothing: what `systemctl is-system-running` calls `degraded` otherwise. The failure lists the failed units: `2 failed: lab-broken.service, backup.timer`. A host where systemd is not PID 1 fails with `no systemd units: systemd is not PID 1 on web1 (PID 1 is tini)`, nothing sent.",
        module: JOURNAL,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Platform],
        needs_host: true,
        check: None,
        run: journal::no_failed_units,
    },
    StepDef {
        line: line!(),
        sentence: "the journal of {string} should contain {regex} within the last {int} minute(s)",
        example: r#"Then the journal of "nginx" should contain /GET \/health/ within the last 10 minutes"#,
        doc: "`journalctl --unit=UNIT --since=-Nmin --output=cat` on the host (the messages only, newest 10000 and at most 1 MiB of them, within the step timeout) matches the regular expression (multi-line). The found text quotes the matching message, or says how many messages there were and the last one. Needs systemd as PID 1 (`no journal: systemd is not PID 1 on web1 (PID 1 is tini)` otherwise). A user who may read only their own journal (not root, not in group systemd-journal or adm) gets `permission denied reading the journal of nginx as deploy ... (set become = true, ...)` rather than an empty journal.",
        module: JOURNAL,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Platform],
        needs_host: true,
        check: Some(journal::check_journal),
        run: journal::journal_contains,
    },
    StepDef {
        line: line!(),
        sentence: "the journal of {string} should not contain {regex} within the last {int} minute(s)",
        example: r#"Then the journal of "nginx" should not contain /emerg|crit/ within the last 60 minutes"#,
        doc: "The opposite of `should contain`, read the same way (an unreadable journal or a host without one fails: no news is not good news). The failure quotes the first matching message.",
        module: JOURNAL,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Platform],
        needs_host: true,
        check: Some(journal::check_journal),
        run: journal::journal_not_contains,
    },
    StepDef {
        line: line!(),
        sentence: "the package {string} should be installed",
        example: r#"Then the package "nginx" should be installed"#,
        doc: "The package database of dpkg (`dpkg-query -W`, status installed), rpm (`rpm -qa`) or apk (`apk info -v`), read once per host per run. The found text shows the installed version, or the package's state (`removed, config files remain`).",
        module: PACKAGES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Platform, Fact::Packages],
        needs_host: true,
        check: Some(check_name),
        run: packages::installed,
    },
    StepDef {
        line: line!(),
        sentence: "the package {string} should be installed at version {string}",
        example: r#"Then the package "nginx" should be installed at version ">= 1.22""#,
        doc: "Installed, and its version satisfies the constraint (`=`, `>=`, `>`, `<=`, `<`; a bare version means `=`), compared the way the host's package manager compares: `dpkg --compare-versions` on the host, rpm's vercmp rules (epoch, version, release; a constraint without release ignores it), `apk version -t` on the host. The failure shows the installed version.",
        module: PACKAGES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Platform, Fact::Packages],
        needs_host: true,
        check: Some(packages::check_version),
        run: packages::installed_at,
    },
    StepDef {
        line: line!(),
        sentence: "the package {string} should not be installed",
        example: r#"Then the package "telnet" should not be installed"#,
        doc: "Not installed (dpkg: removed packages whose config files remain count as not installed). The failure shows the installed version.",
        module: PACKAGES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Platform, Fact::Packages],
        needs_host: true,
        check: Some(check_name),
        run: packages::not_installed,
    },
    StepDef {
        line: line!(),
        sentence: "the PHP module {string} should be loaded",
        example: r#"Then the PHP module "curl" should be loaded"#,
        doc: "`php -m` on the host (the CLI's configuration; read once per host per run) lists the module; names compare case-insensitively (`zend opcache` = `Zend OPcache`). The failure lists the modules loaded, or says php is missing.",
        module: PACKAGES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::PhpModules],
        needs_host: true,
        check: None,
        run: packages::php_module,
    },
    StepDef {
        line: line!(),
        sentence: "{string} should be mounted",
        example: r#"Then "/ebs1" should be mounted"#,
        doc: "The path is a mount point in the host's mount table (`/proc/self/mountinfo`, read once per host per run; a trailing / is ignored; the topmost of stacked mounts counts). The failure says which mount the path is on instead.",
        module: MOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Mounts],
        needs_host: true,
        check: Some(check_path),
        run: mounts::mounted,
    },
    StepDef {
        line: line!(),
        sentence: "{string} should be mounted from {string}",
        example: r#"Then "/ebs1" should be mounted from "/dev/sds""#,
        doc: "Mounted, and its source is the device given; when the names differ, both are resolved on the host with `readlink -f` (so `/dev/disk/by-uuid/...`, `UUID=...` and `LABEL=...` match the device they name).",
        module: MOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Mounts],
        needs_host: true,
        check: Some(check_path),
        run: mounts::mounted_from,
    },
    StepDef {
        line: line!(),
        sentence: "{string} should be mounted with type {string}",
        example: r#"Then "/ebs1" should be mounted with type "ext4""#,
        doc: "Mounted, with this filesystem type.",
        module: MOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Mounts],
        needs_host: true,
        check: Some(check_path),
        run: mounts::mounted_type,
    },
    StepDef {
        line: line!(),
        sentence: "{string} should be mounted with option {string}",
        example: r#"Then "/ebs1" should be mounted with option "noatime""#,
        doc: "Mounted, with this option among the per-mount and superblock options (`noatime`, `ro`, `size=16384k`; an option without `=` also matches `option=anything`). The failure lists the options in force.",
        module: MOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Mounts],
        needs_host: true,
        check: Some(check_path),
        run: mounts::mounted_option,
    },
    StepDef {
        line: line!(),
        sentence: "{string} should be in \\/etc\\/fstab",
        example: r#"Then "/ebs1" should be in /etc/fstab"#,
        doc: "`/etc/fstab` (read once per host per run; comments and blank lines skipped, fields split on tabs or spaces, `\\040` escapes undone) has a line for this mount point. The found text quotes the line and its number.",
        module: MOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Fstab],
        needs_host: true,
        check: Some(check_path),
        run: mounts::in_fstab,
    },
    StepDef {
        line: line!(),
        sentence: "{string} should be in \\/etc\\/fstab from {string}",
        example: r#"Then "/ebs1" should be in /etc/fstab from "/dev/sds""#,
        doc: "As above, and the line's source is the device given: the same text, or (for `UUID=`, `LABEL=` and symlinks) the same device after `readlink -f` on the host.",
        module: MOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Fstab],
        needs_host: true,
        check: Some(check_path),
        run: mounts::in_fstab_from,
    },
    StepDef {
        line: line!(),
        sentence: "the filesystem {string} should be less than {int}% full",
        example: r#"Then the filesystem "/" should be less than 90% full"#,
        doc: "`df -P PATH` on the host: the use percentage of the filesystem holding the path (df's Capacity column, rounded up as df does) must be below the limit. The use is a measured value (unit %, critical = the limit).",
        module: MOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: Some(mounts::check_percent),
        run: mounts::filesystem_use,
    },
    StepDef {
        line: line!(),
        sentence: "the file {string} should exist",
        example: r#"Then the file "/etc/app.conf" should exist"#,
        doc: "Something that is not a directory exists at the path, following symlinks (`stat -L`; a dangling symlink does not exist). One command per step.",
        module: FILES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::FileStat],
        needs_host: true,
        check: Some(check_path),
        run: files::file_exists,
    },
    StepDef {
        line: line!(),
        sentence: "the file {string} should not exist",
        example: r#"Then the file "/etc/nologin" should not exist"#,
        doc: "Nothing exists at the path (following symlinks). The failure says what is there.",
        module: FILES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::FileStat],
        needs_host: true,
        check: Some(check_path),
        run: files::file_absent,
    },
    StepDef {
        line: line!(),
        sentence: "the directory {string} should exist",
        example: r#"Then the directory "/var/www" should exist"#,
        doc: "A directory exists at the path (following symlinks).",
        module: FILES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::FileStat],
        needs_host: true,
        check: Some(check_path),
        run: files::dir_exists,
    },
    StepDef {
        line: line!(),
        sentence: "the file {string} should contain {string}",
        example: r#"Then the file "/etc/app.conf" should contain "max_conn = 100""#,
        doc: "`grep -F` on the host finds the text (any size, binary files too: nothing is copied to this machine). On failure the lines holding the text's first word are shown, e.g. `3: max_conn = 5`.",
        module: FILES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::FileContains],
        needs_host: true,
        check: Some(check_path),
        run: files::contains,
    },
    StepDef {
        line: line!(),
        sentence: "the file {string} should match {regex}",
        example: r#"Then the file "/etc/app.conf" should match /^max_conn = \d+$/"#,
        doc: "The file's content matches the regular expression (Rust regex syntax, multi-line: ^ and $ match at each line). Only the first 1 MiB is read (`head -c`) and matched here; the failure says when the file was longer.",
        module: FILES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: Some(check_path_regex),
        run: files::matches,
    },
    StepDef {
        line: line!(),
        sentence: "the file {string} should be owned by {string}",
        example: r#"Then the file "/etc/app.conf" should be owned by "root""#,
        doc: "The owner (user name, or uid when given as a number), from `stat -L`.",
        module: FILES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::FileStat],
        needs_host: true,
        check: Some(check_path),
        run: files::owned_by,
    },
    StepDef {
        line: line!(),
        sentence: "the file {string} should have mode {string}",
        example: r#"Then the file "/etc/app.conf" should have mode "0644""#,
        doc: "The permission bits (with setuid, setgid and sticky), as 3 or 4 octal digits: `644` = `0644`. A mode that is not octal (\"999\") is a lint error.",
        module: FILES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::FileStat],
        needs_host: true,
        check: Some(files::check_mode),
        run: files::has_mode,
    },
    StepDef {
        line: line!(),
        sentence: "the file {string} should have been modified within {duration}",
        example: r#"Then the file "/var/log/backup.log" should have been modified within 25 hours"#,
        doc: "The file's modification time is at most this long before the host's own clock (`date +%s` and `stat` in one command). The age is a measured value (unit s, critical = the limit). A negative duration is a lint error.",
        module: FILES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::FileStat],
        needs_host: true,
        check: Some(files::check_within),
        run: files::modified_within,
    },
    StepDef {
        line: line!(),
        sentence: "the last {int} lines of {string} should match {regex}",
        example: r#"Then the last 50 lines of "/var/log/backup.log" should match /backup (done|finished)/"#,
        doc: "`tail -n N` on the host, at most 1 MiB of it brought back, matched against the regular expression (multi-line). The failure shows the end of those lines.",
        module: FILES,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: Some(files::check_last_lines),
        run: files::last_lines_match,
    },
    StepDef {
        line: line!(),
        sentence: "a process named {string} should be running",
        example: r#"Then a process named "nginx" should be running"#,
        doc: "The process table (`ps -eo pid,stat,comm`, read once per host per run) has a live process whose kernel name is exactly this (names are cut to 15 characters by the kernel; zombies do not count). The failure lists similar names (`php-fpm8.2` for `php-fpm`).",
        module: ACCOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Processes],
        needs_host: true,
        check: None,
        run: accounts::process_running,
    },
    StepDef {
        line: line!(),
        sentence: "at least {int} processes named {string} should be running",
        example: r#"Then at least 4 processes named "php-fpm" should be running"#,
        doc: "As above, counting: the count is a measured value (critical = the minimum).",
        module: ACCOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Processes],
        needs_host: true,
        check: Some(accounts::check_count),
        run: accounts::processes_at_least,
    },
    StepDef {
        line: line!(),
        sentence: "port {int} should be listening",
        example: "Then port 80 should be listening",
        doc: "A TCP socket listens on the port on the host, on any address (`ss -ltn`, or /proc/net/tcp and tcp6; read once per host per run). The found text lists the addresses. For reachability from this machine use `TCP port N on \"HOST\" should be open`.",
        module: ACCOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Ports],
        needs_host: true,
        check: Some(accounts::check_port),
        run: accounts::port_listening,
    },
    StepDef {
        line: line!(),
        sentence: "port {int} should not be listening",
        example: "Then port 3306 should not be listening",
        doc: "No TCP socket listens on the port on the host, on any address.",
        module: ACCOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[Fact::Ports],
        needs_host: true,
        check: Some(accounts::check_port),
        run: accounts::port_not_listening,
    },
    StepDef {
        line: line!(),
        sentence: "the user {string} should exist",
        example: r#"Then the user "deploy" should exist"#,
        doc: "`getent passwd NAME` finds the user (local files, LDAP, whatever NSS is configured). The found text shows uid, home and shell.",
        module: ACCOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: Some(check_name),
        run: accounts::user_exists,
    },
    StepDef {
        line: line!(),
        sentence: "the group {string} should exist",
        example: r#"Then the group "www-data" should exist"#,
        doc: "`getent group NAME` finds the group. The found text shows gid and members.",
        module: ACCOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: Some(check_name),
        run: accounts::group_exists,
    },
    StepDef {
        line: line!(),
        sentence: "the kernel parameter {string} should be {string}",
        example: r#"Then the kernel parameter "net.core.somaxconn" should be "1024""#,
        doc: "`sysctl -n NAME` on the host (or /proc/sys/... when sysctl is missing) equals the value; runs of spaces and tabs compare as one space (`32768 60999`). Per-network-namespace parameters are the host's own.",
        module: ACCOUNTS,
        file: TABLE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: Some(accounts::check_sysctl),
        run: accounts::kernel_parameter,
    },
];
