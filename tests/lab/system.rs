//! System and Across-hosts steps against the lab, both directions: `features/system.feature`
//! passes on every host; each fault made on one host (nginx stopped, an enable link
//! removed, /mnt/data unmounted or full, /etc/app.conf edited, the PHP curl ini removed,
//! a stale or failing backup log, cron stopped, a sysctl changed) fails exactly there with
//! what was found, while the other hosts pass. Bad arguments are lint errors with
//! file:line:col; facts are read once per host per run (counted with `--trace`); the same
//! steps work on localhost through the local transport.

use crate::util::{Repair, assert_failures, cli_util_shakedown_in, failures, lab, run, suite};

#[test]
fn the_system_feature_passes_on_every_lab_host() {
    let Some(lab) = lab() else { return };
    let run = lab.shakedown(&["run", "features/system.feature", "--format", "pretty"]);
    run.assert_exit(0)
        .assert_contains("31 scenarios (31 passed) on 6 hosts");
}

#[test]
fn nginx_stopped_on_web2_fails_there_by_init_script_process_table_and_port() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(&lab, "web2", "/etc/lab/svc stop nginx", "/etc/lab/svc start nginx");
    let run = run(
        &lab,
        r#"@hosts:web
Feature: nginx
  Scenario: running
    Then the service "nginx" should be running
  Scenario: process
    Then a process named "nginx" should be running
  Scenario: port
    Then port 80 should be listening
  Scenario: not running
    Then the service "nginx" should not be running
  Scenario: port closed
    Then port 80 should not be listening
"#,
    );
    run.assert_exit(1);
    assert_failures(
        &run,
        &[
            (
                "web2",
                &[
                    "expected service nginx running, found not running (init script: /etc/init.d/nginx status: exit 3, \"nginx is not running ... failed!\"; systemd is installed but not PID 1 (PID 1 is tini), so systemctl is-active cannot answer)",
                    "expected a process named nginx, found no process named nginx",
                    "expected TCP port 80 listening, found nothing listens on 80 (listening: ",
                ][..],
            ),
            (
                "web1",
                &[
                    "expected service nginx not running, found running (init script: /etc/init.d/nginx status: exit 0",
                    "expected TCP port 80 not listening, found listening on 0.0.0.0:80",
                ][..],
            ),
        ],
        &[],
    );
}

#[test]
fn without_an_init_script_the_pid_file_then_the_process_table_answer() {
    let Some(lab) = lab() else { return };
    // /etc/init.d/sshd does not exist (Debian's script is "ssh"); /run/sshd.pid does.
    let _fault = Repair::inject(&lab, "web2", "echo 999999 > /run/ghost.pid", "rm -f /run/ghost.pid");
    let run = run(
        &lab,
        r#"@hosts:web
Feature: fallbacks
  Scenario: pid file
    Then the service "sshd" should be running
  Scenario: stale pid file
    Then the service "ghost" should be running
  Scenario: process table
    Then the service "nosuchd" should be running
  Scenario: sshd is not stopped
    Then the service "sshd" should not be running
"#,
    );
    run.assert_exit(1);
    let alive = "expected service sshd not running, found running (pid file /run/sshd.pid: pid ";
    let none = "expected service nosuchd running, found not running (no init script or pid file; process table: 0 processes named nosuchd";
    assert_failures(
        &run,
        &[
            (
                "web2",
                &[
                    "expected service ghost running, found not running (pid file /run/ghost.pid: pid 999999 is not running",
                    none,
                    alive,
                ][..],
            ),
            (
                "web1",
                &[
                    "found not running (no init script or pid file; process table: 0 processes named ghost",
                    none,
                    alive,
                ][..],
            ),
        ],
        &[],
    );
}

#[test]
fn an_enable_link_removed_on_web2_says_systemd_disabled() {
    let Some(lab) = lab() else { return };
    let link = "/etc/systemd/system/multi-user.target.wants/nginx.service";
    let _fault = Repair::inject(
        &lab,
        "web2",
        &format!("rm {link}"),
        "ln -sf /lib/systemd/system/nginx.service /etc/systemd/system/multi-user.target.wants/nginx.service",
    );
    let run = run(
        &lab,
        r#"@hosts:web
Feature: boot
  Scenario: enabled
    Then the service "nginx" should be enabled at boot
  Scenario: not enabled
    Then the service "nginx" should not be enabled at boot
"#,
    );
    run.assert_exit(1);
    assert_failures(
        &run,
        &[
            (
                "web2",
                &["expected service nginx enabled at boot, found disabled at boot (systemd: disabled)"][..],
            ),
            (
                "web1",
                &["expected service nginx not enabled at boot, found enabled at boot (systemd: enabled)"][..],
            ),
        ],
        &[],
    );
}

#[test]
fn packages_fail_where_absent_or_too_old_with_the_installed_version() {
    let Some(lab) = lab() else { return };
    // The lab removed nginx from db1's and db2's package database.
    let run = run(
        &lab,
        r#"@hosts:web1,db1
Feature: packages
  Scenario: installed
    Then the package "nginx" should be installed
  Scenario: not installed
    Then the package "nginx" should not be installed
  Scenario: too old
    Then the package "nginx" should be installed at version ">= 99"
  Scenario: bounded
    Then the package "nginx" should be installed at version "< 1.22"
"#,
    );
    run.assert_exit(1);
    assert_failures(
        &run,
        &[
            (
                "db1",
                &[
                    "expected package nginx installed, found not installed (dpkg has no package nginx)",
                    "expected package nginx installed at version >= 99, found not installed",
                    "expected package nginx installed at version < 1.22, found not installed",
                ][..],
            ),
            (
                "web1",
                &[
                    "expected package nginx not installed, found installed, version 1.22",
                    "expected package nginx installed at version >= 99, found installed, version 1.22",
                    "(dpkg), which is not < 1.22",
                ][..],
            ),
        ],
        &[],
    );
}

#[test]
fn the_php_curl_ini_removed_on_web2_unloads_curl_there() {
    let Some(lab) = lab() else { return };
    let ini = "/etc/php/8.2/cli/conf.d/20-curl.ini";
    let _fault = Repair::inject(
        &lab,
        "web2",
        &format!("rm {ini}"),
        "ln -sf /etc/php/8.2/mods-available/curl.ini /etc/php/8.2/cli/conf.d/20-curl.ini",
    );
    let run = run(
        &lab,
        "@hosts:web\nFeature: php\n  Scenario: curl\n    Then the PHP module \"CURL\" should be loaded\n",
    );
    run.assert_exit(1);
    assert_failures(
        &run,
        &[(
            "web2",
            &["expected PHP module CURL loaded, found not loaded; php -m lists \"calendar, Core"][..],
        )],
        &["web1"],
    );
}

const MOUNTS: &str = r#"@hosts:web,db2
Feature: mounts
  Scenario: mounted
    Then "/mnt/data" should be mounted
  Scenario: from
    Then "/mnt/data" should be mounted from "tmpfs"
  Scenario: type
    Then "/mnt/data" should be mounted with type "tmpfs"
  Scenario: option
    Then "/mnt/data" should be mounted with option "noatime"
  Scenario: fstab
    Then "/mnt/data" should be in /etc/fstab
  Scenario: fstab from
    Then "/mnt/data" should be in /etc/fstab from "tmpfs"
"#;

#[test]
fn data_unmounted_on_web2_and_absent_on_db2_fail_there() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(
        &lab,
        "web2",
        "umount /mnt/data",
        "mountpoint -q /mnt/data || mount -t tmpfs -o noatime,size=16m tmpfs /mnt/data",
    );
    let run = run(&lab, MOUNTS);
    run.assert_exit(1);
    let unmounted = "found not mounted: /mnt/data is on /mnt (tmpfs";
    let db2 = [
        unmounted,
        unmounted,
        unmounted,
        unmounted,
        "expected /mnt/data in /etc/fstab, found no line for /mnt/data in /etc/fstab (mount points there: /, /boot)",
        "found no line for /mnt/data in /etc/fstab",
    ];
    assert_failures(
        &run,
        &[
            ("web2", &[unmounted, unmounted, unmounted, unmounted][..]),
            ("db2", &db2[..]),
        ],
        &["web1"],
    );
}

#[test]
fn mount_source_type_and_options_that_differ_are_shown() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(
        &lab,
        "web2",
        "umount /mnt/data && mount -t tmpfs -o size=16m tmpfs /mnt/data",
        "umount /mnt/data; mount -t tmpfs -o noatime,size=16m tmpfs /mnt/data",
    );
    let run = run(
        &lab,
        r#"@hosts:web
Feature: mount details
  Scenario: option
    Then "/mnt/data" should be mounted with option "noatime"
  Scenario: device
    Then "/mnt/data" should be mounted from "/dev/sds"
  Scenario: type
    Then "/mnt/data" should be mounted with type "ext4"
  Scenario: fstab device
    Then "/boot" should be in /etc/fstab from "/dev/sds"
"#,
    );
    run.assert_exit(1);
    let both = [
        "expected /mnt/data mounted from /dev/sds, found mounted from tmpfs",
        "expected /mnt/data mounted with type ext4, found mounted with type tmpfs",
        "expected /boot in /etc/fstab from /dev/sds, found line 5: UUID=5b0e2c1a-7f3d-4c8e-9a61-2d4f8b3c9e10 /boot ext4 defaults",
    ];
    let mut web2 =
        vec!["expected /mnt/data mounted with option noatime, found mounted with options rw,relatime,size=16384k"];
    web2.extend(both);
    assert_failures(&run, &[("web2", &web2[..]), ("web1", &both[..])], &[]);
}

#[test]
fn a_full_filesystem_on_web2_fails_with_its_use_measured() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(
        &lab,
        "web2",
        "dd if=/dev/zero of=/mnt/data/fill bs=1M count=15 2>/dev/null",
        "rm -f /mnt/data/fill",
    );
    let dir = suite(&[(
        "s.feature",
        "@hosts:web\nFeature: df\n  Scenario: room\n    Then the filesystem \"/mnt/data\" should be less than 90% full\n",
    )]);
    let run = lab.shakedown_in(
        dir.path(),
        &["run", "s.feature", "--format", "pretty", "--junit", "j.xml"],
    );
    run.assert_exit(1);
    assert_failures(
        &run,
        &[(
            "web2",
            &["expected filesystem /mnt/data less than 90% full, found 94% full (tmpfs on /mnt/data: "][..],
        )],
        &["web1"],
    );
    let junit = std::fs::read_to_string(dir.path().join("j.xml")).expect("junit written");
    assert!(junit.contains("/mnt/data use = 94 %"), "{junit}");
    assert!(junit.contains("/mnt/data use = 0 %"), "{junit}");
}

const APP_CONF: &str = r#"@hosts:web
Feature: app.conf
  Scenario: contains
    Then the file "/etc/app.conf" should contain "max_conn = 100"
  Scenario: matches
    Then the file "/etc/app.conf" should match /^max_conn = 100$/
  Scenario: owner
    Then the file "/etc/app.conf" should be owned by "root"
  Scenario: mode
    Then the file "/etc/app.conf" should have mode "0644"
"#;

#[test]
fn app_conf_edited_on_web2_fails_there_and_is_the_odd_one_out() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(
        &lab,
        "web2",
        "sed -i 's/^max_conn = 100/max_conn = 5/' /etc/app.conf && chown nobody /etc/app.conf && chmod 600 /etc/app.conf",
        "sed -i 's/^max_conn = 5/max_conn = 100/' /etc/app.conf; chown root /etc/app.conf; chmod 644 /etc/app.conf",
    );
    let run = run(&lab, APP_CONF);
    run.assert_exit(1);
    let web2 = [
        "expected /etc/app.conf containing \"max_conn = 100\", found no line contains it; lines with \"max_conn\": \"1:max_conn = 5\"",
        "expected /etc/app.conf matching /^max_conn = 100$/, found \"max_conn = 5\\nenv = production\"",
        "expected /etc/app.conf owned by root, found owned by nobody (uid 65534)",
        "expected /etc/app.conf with mode 0644, found mode 0600",
    ];
    assert_failures(&run, &[("web2", &web2[..])], &["web1"]);

    // Across hosts: web1, app1 and web2 compared at once; web2 is named.
    let run = self::run(
        &lab,
        r#"Feature: across
  Scenario: file
    Then the file "/etc/app.conf" should be the same on all hosts in group "{web*,app1}"
  Scenario: output
    Then the output of "md5sum /etc/app.conf" should be the same on all hosts in group "{web*,app1}"
"#,
    );
    run.assert_exit(1).assert_contains("2 scenarios (0 passed, 2 failed)");
    let lines: Vec<&str> = run.stdout.lines().filter(|l| l.contains("odd one out: web2")).collect();
    assert_eq!(lines.len(), 4, "{}", run.all());
    assert!(
        lines.iter().any(|l| l.contains("found app1, web1: \"")),
        "{}",
        run.all()
    );
}

#[test]
fn across_hosts_passes_when_the_group_agrees() {
    let Some(lab) = lab() else { return };
    let run = run(
        &lab,
        r#"Feature: across
  Scenario: same
    Then the file "/etc/app.conf" should be the same on all hosts in group "{web*,app1}"
    And the output of "cat /etc/app.conf" should be the same on all hosts in group "db"
  Scenario: hostnames differ
    Then the output of "hostname" should be the same on all hosts in group "web"
  Scenario: missing everywhere
    Then the file "/etc/no-such.conf" should be the same on all hosts in group "web"
"#,
    );
    run.assert_exit(1)
        .assert_contains("3 scenarios (1 passed, 2 failed)")
        .assert_contains("found web1: \"web1\"; web2: \"web2\"; no majority")
        .assert_contains("found no host has a value: web1, web2: missing");
}

#[test]
fn across_hosts_an_unreachable_host_could_not_be_checked_rather_than_differs() {
    let Some(lab) = lab() else { return };
    // ghost: web2's address on a port where nothing listens, in group web.
    let inv = std::fs::read_to_string(lab.inventory()).expect("inventory")
        + "\n[hosts.ghost]\naddress = \"10.77.0.12\"\nport = 2222\ngroups = [\"web\"]\n";
    let feature = r#"Feature: across
  Scenario: two agree
    Then the output of "cat /etc/app.conf" should be the same on all hosts in group "web"
  Scenario: none answers
    Then the file "/etc/app.conf" should be the same on all hosts in group "ghost"
"#;
    let dir = suite(&[("inv.toml", &inv), ("s.feature", feature)]);
    let run = cli_util_shakedown_in(
        dir.path(),
        &["run", "-i", "inv.toml", "s.feature", "--format", "pretty"],
    );
    run.assert_exit(1)
        .assert_contains("2 scenarios (0 passed, 2 failed)")
        .assert_contains("error: ghost could not be asked (")
        .assert_contains("); web1, web2 agree: \"max_conn = 100…\"")
        .assert_contains("error: no host of group ghost could be asked: ghost: ");
    assert!(!run.all().contains("odd one out"), "{}", run.all());
}

#[test]
fn files_that_exist_or_not_and_directories() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(
        &lab,
        "web2",
        "mv /etc/app.conf /etc/app.conf.moved",
        "mv /etc/app.conf.moved /etc/app.conf",
    );
    let run = run(
        &lab,
        r#"@hosts:web
Feature: files
  Scenario: exists
    Then the file "/etc/app.conf" should exist
  Scenario: absent
    Then the file "/etc/app.conf" should not exist
  Scenario: a directory is not a file
    Then the directory "/etc/app.conf.moved" should exist
"#,
    );
    run.assert_exit(1);
    assert_failures(
        &run,
        &[
            (
                "web2",
                &[
                    "expected file /etc/app.conf to exist, found no such file: /etc/app.conf",
                    "expected directory /etc/app.conf.moved to exist, found regular file, 32 bytes, owner root:root, mode 0644",
                ][..],
            ),
            (
                "web1",
                &[
                    "expected nothing at /etc/app.conf, found exists: regular file, 32 bytes, owner root:root, mode 0644",
                    "expected directory /etc/app.conf.moved to exist, found no such file",
                ][..],
            ),
        ],
        &[],
    );
}

#[test]
fn a_stale_and_failing_backup_log_on_db2_fails_there_with_its_age_measured() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(
        &lab,
        "db2",
        "cp -p /var/log/backup.log /root/backup.log.orig && for i in $(seq 60); do echo 'backup failed: disk full'; done >> /var/log/backup.log && touch -d '2 days ago' /var/log/backup.log",
        "mv /root/backup.log.orig /var/log/backup.log && touch /var/log/backup.log",
    );
    let dir = suite(&[(
        "s.feature",
        r#"@hosts:db
Feature: backup
  Scenario: fresh
    Then the file "/var/log/backup.log" should have been modified within 25 hours
  Scenario: done
    Then the last 50 lines of "/var/log/backup.log" should match /backup (done|finished)/
"#,
    )]);
    let run = lab.shakedown_in(
        dir.path(),
        &["run", "s.feature", "--format", "pretty", "--junit", "j.xml"],
    );
    run.assert_exit(1);
    assert_failures(
        &run,
        &[(
            "db2",
            &[
                "expected /var/log/backup.log modified within 25 hours, found modified 2d 0h ago",
                "expected last 50 lines of /var/log/backup.log matching /backup (done|finished)/, found ...\"",
            ][..],
        )],
        &["db1"],
    );
    assert!(
        failures(&run, "db2")[1].contains("backup failed: disk full\""),
        "{}",
        run.all()
    );
    let junit = std::fs::read_to_string(dir.path().join("j.xml")).expect("junit written");
    assert!(
        junit.contains("/var/log/backup.log age = 1728"),
        "two days = 172800 s: {junit}"
    );
}

#[test]
fn cron_stopped_on_web1_fails_there_and_counts_are_measured() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(&lab, "web1", "/etc/lab/svc stop cron", "/etc/lab/svc start cron");
    let dir = suite(&[(
        "s.feature",
        r#"@hosts:web1,app1
Feature: cron
  Scenario: service
    Then the service "cron" should be running
  Scenario: process
    Then a process named "cron" should be running
  Scenario: count
    Then at least 1 processes named "cron" should be running
"#,
    )]);
    let run = lab.shakedown_in(
        dir.path(),
        &["run", "s.feature", "--format", "pretty", "--junit", "j.xml"],
    );
    run.assert_exit(1);
    let web1 = [
        "expected service cron running, found not running (init script: /etc/init.d/cron status: exit 1, \"cron is not running ... failed!\"",
        "expected a process named cron, found no process named cron",
        "expected at least 1 processes named cron, found no process named cron",
    ];
    assert_failures(&run, &[("web1", &web1[..])], &["app1"]);
    let junit = std::fs::read_to_string(dir.path().join("j.xml")).expect("junit written");
    assert!(
        junit.contains("processes cron = 0") && junit.contains("processes cron = 1"),
        "{junit}"
    );
}

#[test]
fn accounts_and_kernel_parameters_differ_where_the_lab_made_them_differ() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(
        &lab,
        "web2",
        "sysctl -q -w net.core.somaxconn=1024",
        "sysctl -q -w net.core.somaxconn=4096",
    );
    let run = run(
        &lab,
        r#"@hosts:web,db1
Feature: accounts
  Scenario: user
    Then the user "appuser" should exist
  Scenario: group
    Then the group "appuser" should exist
  Scenario: sysctl
    Then the kernel parameter "net.core.somaxconn" should be "1024"
"#,
    );
    run.assert_exit(1);
    assert_failures(
        &run,
        &[
            (
                "db1",
                &[
                    "expected user appuser, found no user appuser (getent passwd)",
                    "expected group appuser, found no group appuser (getent group)",
                    "expected kernel parameter net.core.somaxconn = \"1024\", found \"4096\"",
                ][..],
            ),
            (
                "web1",
                &["expected kernel parameter net.core.somaxconn = \"1024\", found \"4096\""][..],
            ),
        ],
        &["web2"],
    );
}

#[test]
fn bad_arguments_are_lint_errors_with_file_line_and_column() {
    let dir = suite(&[(
        "bad.feature",
        r#"Feature: bad
  Scenario: bad arguments
    Then the file "/etc/app.conf" should have mode "999"
    And the file "/etc/app.conf" should match /max_conn = (\d+/
    And the file "/var/log/backup.log" should have been modified within -5 hours
    And the service "x; touch /tmp/pwned" should be running
    And the package "nginx" should be installed at version "~> 1.2"
    And the last 0 lines of "/var/log/x" should match /x/
    And the filesystem "/" should be less than 0% full
"#,
    )]);
    let run = cli_util_shakedown_in(dir.path(), &["lint", "bad.feature"]);
    assert_ne!(run.code, 0, "{}", run.all());
    for (line, text) in [
        (3, "mode \"999\" is not 3 or 4 octal digits"),
        (4, "bad regular expression /max_conn = (\\d+/"),
        (5, "negative duration \"-5 hours\""),
        (6, "\"x; touch /tmp/pwned\" is not a service name"),
        (7, "bad version constraint \"~> 1.2\""),
        (8, "give a number of lines of at least 1"),
        (9, "0% is not a percentage between 1 and 100"),
    ] {
        let at = format!("bad.feature:{line}:5: ");
        assert!(
            run.all().lines().any(|l| l.contains(&at) && l.contains(text)),
            "{at} {text}:\n{}",
            run.all()
        );
    }
    assert!(!std::path::Path::new("/tmp/pwned").exists());
}

/// Thirty system steps on one host, in three scenarios running at once: every
/// whole-host fact is read exactly once, however many steps ask.
const THIRTY: &str = r#"@hosts:web1
Feature: facts are read once
  Scenario: services and packages
    Then the service "nginx" should be running
    And the service "nginx" should be enabled at boot
    And the service "cron" should be running
    And the service "cron" should be enabled at boot
    And the service "nginx" should be running
    And the package "nginx" should be installed
    And the package "openssh-server" should be installed
    And the package "telnet" should not be installed
    And the PHP module "curl" should be loaded
    And the PHP module "json" should be loaded
  Scenario: mounts, ports, processes
    Then "/mnt/data" should be mounted
    And "/mnt/data" should be mounted with type "tmpfs"
    And "/mnt/data" should be mounted with option "noatime"
    And "/mnt/data" should be in /etc/fstab
    And "/" should be in /etc/fstab
    And port 80 should be listening
    And port 443 should be listening
    And port 3306 should not be listening
    And a process named "nginx" should be running
    And at least 2 processes named "nginx" should be running
  Scenario: more of the same facts
    Then "/mnt/data" should be mounted from "tmpfs"
    And "/mnt/data" should be in /etc/fstab from "tmpfs"
    And port 22 should be listening
    And a process named "sshd" should be running
    And the package "nginx-common" should be installed
    And the service "ssh" should be enabled at boot
    And the PHP module "openssl" should be loaded
    And at least 1 processes named "cron" should be running
    And port 8081 should be listening
    And "/" should be mounted
"#;

#[test]
fn thirty_steps_on_one_host_read_each_fact_once() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("s.feature", THIRTY)]);
    let run = lab.shakedown_in(
        dir.path(),
        &["run", "s.feature", "--format", "pretty", "--trace", "trace.tsv"],
    );
    run.assert_exit(0).assert_contains("3 scenarios (3 passed) on 1 host");
    let trace = std::fs::read_to_string(dir.path().join("trace.tsv")).expect("trace written");
    // time, host, seconds, status, command (which may itself hold tabs)
    let commands: Vec<&str> = trace.lines().filter_map(|l| l.splitn(5, '\t').nth(4)).collect();
    let count = |needle: &str| commands.iter().filter(|c| c.contains(needle)).count();
    // Whole-host facts: one read each, though 3 to 8 steps ask for each; per service, one
    // is-enabled each (nginx, cron, ssh) and one status each (nginx, cron), though nginx's
    // running state is asked twice: all in the host's facts batch.
    let reads = [
        "pid1=",
        "dpkg-query -W",
        "php -m",
        "cat /proc/self/mountinfo",
        "cat /etc/fstab",
        "ss -ltn",
        "ps -eo",
        "systemctl is-enabled -- nginx",
        "systemctl is-enabled -- cron",
        "systemctl is-enabled -- ssh",
        "/etc/init.d/nginx status",
        "/etc/init.d/cron status",
    ];
    for read in reads {
        assert_eq!(count(read), 1, "{read} sent {} times:\n{trace}", count(read));
    }
    // No step here needs its own command: 30 steps cost one.
    assert_eq!(commands.len(), 1, "{} commands for 30 steps:\n{trace}", commands.len());
}

/// File steps send their `stat` or `grep` in the host's facts batch: steps on the same
/// file share one; a missing file and a failed check still say what they said when each
/// step sent its own command.
#[test]
fn file_steps_read_ahead_in_the_batch_and_fail_as_before() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[(
        "f.feature",
        r#"@hosts:web2
Feature: files read ahead
  Scenario: present
    Then the file "/etc/app.conf" should exist
    And the file "/etc/app.conf" should be owned by "root"
    And the file "/etc/app.conf" should have mode "644"
    And the file "/etc/app.conf" should contain "max_conn = 100"
    And the directory "/etc/nginx" should exist
    And the file "/etc/no-such.conf" should not exist
  Scenario: missing
    Then the file "/etc/no-such.conf" should exist
  Scenario: wrong content
    Then the file "/etc/app.conf" should contain "max_conn = 5"
"#,
    )]);
    let run = lab.shakedown_in(
        dir.path(),
        &["run", "f.feature", "--format", "pretty", "--trace", "trace.tsv"],
    );
    run.assert_exit(1).assert_contains("3 scenarios (1 passed, 2 failed)");
    assert_failures(
        &run,
        &[(
            "web2",
            &[
                "expected file /etc/no-such.conf to exist, found no such file",
                "expected /etc/app.conf containing \"max_conn = 5\", found no line contains it; lines with \"max_conn\": \"1:max_conn = 100\"",
            ][..],
        )],
        &[],
    );
    let trace = std::fs::read_to_string(dir.path().join("trace.tsv")).expect("trace written");
    let commands: Vec<&str> = trace.lines().filter_map(|l| l.splitn(5, '\t').nth(4)).collect();
    // The batch (4 stats: app.conf once for its 3 steps, nginx, no-such.conf once for its
    // 2; 2 greps), then the lines near the missing text for the failed `contain`.
    assert_eq!(commands.len(), 2, "{trace}");
    assert_eq!(commands[0].matches("exec stat -L").count(), 3, "{trace}");
    assert_eq!(commands[0].matches("grep -q -F").count(), 2, "{trace}");
    assert!(commands[1].starts_with("grep -n -m 3"), "{trace}");
}

/// A service's init script that never answers (as one stuck on a dead mount does) costs
/// its own step a timeout; the whole-host facts of the same batch and the other service
/// still answer in time: the batch's service parts are bounded together (a third of the
/// step timeout), and the parts the hang cut are read by their steps alone.
#[test]
fn a_hung_init_script_fails_only_its_own_service_step() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(
        &lab,
        "web1",
        "mv /etc/init.d/cron /root/cron.init && printf '#!/bin/sh\\nexec sleep 600\\n' > /etc/init.d/cron && chmod 755 /etc/init.d/cron",
        "mv /root/cron.init /etc/init.d/cron",
    );
    let dir = suite(&[(
        "h.feature",
        r#"@hosts:web1
Feature: one init script hangs
  Scenario: cron
    Then the service "cron" should be running
  Scenario: the rest of the host
    Then the service "nginx" should be running
    And the service "nginx" should be enabled at boot
    And the package "nginx" should be installed
    And "/mnt/data" should be mounted
    And port 80 should be listening
"#,
    )]);
    let run = lab.shakedown_in(
        dir.path(),
        &[
            "run",
            "h.feature",
            "--format",
            "pretty",
            "--step-timeout",
            "6s",
            "--trace",
            "trace.tsv",
        ],
    );
    run.assert_exit(1)
        .assert_contains("2 scenarios (1 passed, 1 failed)")
        .assert_contains("timed out after 6s");
    let trace = std::fs::read_to_string(dir.path().join("trace.tsv")).expect("trace written");
    let commands: Vec<&str> = trace.lines().filter_map(|l| l.splitn(5, '\t').nth(4)).collect();
    // One batch (the whole-host facts, then cron's status, cut); nginx's reads alone after
    // it; the whole-host facts never read again.
    let batch: Vec<&&str> = commands
        .iter()
        .filter(|c| c.contains("cat /proc/self/mountinfo"))
        .collect();
    assert_eq!(batch.len(), 1, "{trace}");
    assert!(
        batch[0].contains("/etc/init.d/cron status") && batch[0].contains("dpkg-query -W"),
        "{trace}"
    );
    for fact in ["dpkg-query -W", "cat /proc/self/mountinfo", "ss -ltn"] {
        assert_eq!(
            commands.iter().filter(|c| c.contains(fact)).count(),
            1,
            "{fact}:\n{trace}"
        );
    }
    assert!(commands.contains(&"/etc/init.d/nginx status"), "{trace}");
}

/// A part of the facts batch that fails (no /etc/fstab on the host) leaves that fact to
/// its step, which reports the command's own error; the other facts of the same batch
/// still answer from it.
#[test]
fn a_failed_part_of_the_facts_batch_is_read_again_and_reported_by_its_step() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[(
        "f.feature",
        r#"@hosts:web2
Feature: fstab gone
  Scenario: mounts still answer
    Then "/mnt/data" should be mounted
    And port 80 should be listening
  Scenario: fstab
    Then "/mnt/data" should be in /etc/fstab
"#,
    )]);
    lab.exec("web2", "mv /etc/fstab /root/fstab.moved");
    let run = lab.shakedown_in(
        dir.path(),
        &["run", "f.feature", "--format", "pretty", "--trace", "trace.tsv"],
    );
    lab.exec("web2", "mv /root/fstab.moved /etc/fstab");
    run.assert_exit(1)
        .assert_contains("2 scenarios (1 passed, 1 failed)")
        .assert_contains("`cat /etc/fstab` failed: exit status 1: \"cat: /etc/fstab: No such file or directory\"");
    let trace = std::fs::read_to_string(dir.path().join("trace.tsv")).expect("trace written");
    let commands: Vec<&str> = trace.lines().filter_map(|l| l.splitn(5, '\t').nth(4)).collect();
    // The batch (mounts, ports, fstab), then fstab alone for its step.
    assert_eq!(commands.len(), 2, "{trace}");
    assert!(
        commands[0].contains("cat /proc/self/mountinfo") && commands[0].contains("cat /etc/fstab"),
        "{trace}"
    );
    assert_eq!(commands[1], "cat /etc/fstab", "{trace}");
}

#[test]
fn system_steps_run_on_localhost_through_the_local_transport() {
    let dir = suite(&[(
        "local.feature",
        r#"Feature: this machine
  Scenario: passes locally
    Then the file "/etc/passwd" should exist
    And the file "/etc/passwd" should be owned by "root"
    And the file "/etc/passwd" should contain "root:"
    And the file "/etc/passwd" should match /^root:x:0:0:/
    And the directory "/etc" should exist
    And the file "/etc/no-such-file" should not exist
    And "/" should be mounted
    And the user "root" should exist
    And the group "root" should exist
    And the filesystem "/" should be less than 100% full
    And the kernel parameter "kernel.ostype" should be "Linux"
    And port 1 should not be listening
    And the service "nosuchd" should not be running
    And the package "nosuch-package" should not be installed
    And the file "/etc/passwd" should be the same on all hosts in group "localhost"
    And the output of "uname -s" should be the same on all hosts in group "localhost"
    And a process named "nosuchprocess" should be running
"#,
    )]);
    let run = cli_util_shakedown_in(dir.path(), &["run", "local.feature", "--format", "pretty"]);
    run.assert_exit(1)
        .assert_contains("1 scenario (0 passed, 1 failed) on 1 host")
        .assert_contains("expected a process named nosuchprocess, found no process named nosuchprocess");
}
