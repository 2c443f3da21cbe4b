//! Core: the run pipeline over SSH against the lab: a suite passing on every host, the
//! same suite failing on exactly the faulty host, a dead host failing fast, a changed
//! host key refused, one SSH master per host, Ansible inventories.

use std::time::{Duration, Instant};

use crate::util::{Repair, lab, suite};

const HOSTS: [&str; 6] = ["web1", "web2", "lb1", "db1", "db2", "app1"];

#[test]
fn core_suite_passes_on_every_lab_host() {
    let Some(lab) = lab() else { return };
    let run = lab.shakedown(&["run", "features/core.feature", "--format", "pretty"]);
    run.assert_exit(0)
        .assert_contains("18 scenarios (18 passed) on 6 hosts");
    for host in HOSTS {
        run.assert_contains(&format!("The host knows its own name [{host}]"));
    }
}

#[test]
fn the_same_suite_fails_on_exactly_the_faulty_host() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(
        &lab,
        "web2",
        "sed -i 's/^max_conn = 100/max_conn = 5/' /etc/app.conf",
        "sed -i 's/^max_conn = 5/max_conn = 100/' /etc/app.conf",
    );
    let run = lab.shakedown(&["run", "features/core.feature", "--format", "pretty"]);
    run.assert_exit(1)
        .assert_contains("FAILED: The application config is deployed [web2]")
        .assert_contains("host: web2")
        .assert_contains("expected: output of `cat /etc/app.conf` containing \"max_conn = 100\"")
        .assert_contains("found:    \"max_conn = 5")
        .assert_contains("18 scenarios (17 passed, 1 failed) on 6 hosts");
    assert!(!run.stdout.contains("FAILED: The application config is deployed [web1]"));
}

#[test]
fn a_host_whose_sshd_is_stopped_fails_fast_and_the_others_pass() {
    let Some(lab) = lab() else { return };
    let _fault = Repair::inject(
        &lab,
        "db2",
        "kill $(cat /run/sshd.pid)",
        "/usr/sbin/sshd -f /etc/ssh/sshd_config_lab",
    );
    let start = Instant::now();
    let run = lab.shakedown(&["run", "features/core.feature", "--format", "pretty"]);
    let took = start.elapsed();
    run.assert_exit(1)
        .assert_contains("cannot connect to db2 (10.77.0.32:22)")
        .assert_contains("18 scenarios (15 passed, 3 failed) on 6 hosts");
    // Connect timeout is 5 s in the lab inventory; a refused connection must not wait for it.
    assert!(took < Duration::from_secs(8), "took {took:?}");
}

#[test]
fn an_unanswering_address_fails_within_the_connect_timeout() {
    let Some(lab) = lab() else { return };
    let inv = std::fs::read_to_string(lab.inventory()).expect("inventory");
    let inv = inv
        .replace("address = \"10.77.0.32\"", "address = \"10.77.0.250\"")
        .replace("connect_timeout = \"5s\"", "connect_timeout = \"2s\"");
    let dir = suite(&[("inv.toml", &inv)]);
    let start = Instant::now();
    let run = crate::util::cli_util_shakedown_in(
        dir.path(),
        &[
            "run",
            "-i",
            "inv.toml",
            "--format",
            "pretty",
            &format!("{}/features/core.feature", env!("CARGO_MANIFEST_DIR")),
        ],
    );
    let took = start.elapsed();
    run.assert_exit(1)
        .assert_contains("cannot connect to db2 (10.77.0.250:22)")
        .assert_contains("15 passed, 3 failed");
    assert!(took < Duration::from_secs(15), "took {took:?}");
}

#[test]
fn a_changed_host_key_is_refused_under_strict_checking() {
    let Some(lab) = lab() else { return };
    let known = std::fs::read_to_string(lab.dir.join("known_hosts")).expect("known_hosts");
    let web2_key = known
        .lines()
        .find(|l| l.starts_with("10.77.0.12 "))
        .expect("web2 key")
        .split_once(' ')
        .expect("key")
        .1
        .to_string();
    let forged: String = known
        .lines()
        .map(|l| {
            if l.starts_with("10.77.0.11 ") {
                format!("10.77.0.11 {web2_key}\n")
            } else {
                format!("{l}\n")
            }
        })
        .collect();
    let inv = std::fs::read_to_string(lab.inventory()).expect("inventory");
    let dir = suite(&[("known_hosts", &forged)]);
    let kh = dir.path().join("known_hosts");
    let inv = regex::Regex::new(r#"known_hosts_file = "[^"]*""#)
        .expect("regex")
        .replace_all(&inv, format!("known_hosts_file = \"{}\"", kh.display()).as_str())
        .into_owned();
    std::fs::write(dir.path().join("inv.toml"), inv).expect("write inventory");
    let run = crate::util::cli_util_shakedown_in(
        dir.path(),
        &[
            "run",
            "-i",
            "inv.toml",
            "--format",
            "pretty",
            "--hosts",
            "web",
            &format!("{}/features/core.feature", env!("CARGO_MANIFEST_DIR")),
        ],
    );
    run.assert_exit(1)
        .assert_contains("cannot connect to web1 (10.77.0.11:22)")
        .assert_contains("6 scenarios (4 passed, 2 failed) on 2 hosts");
    assert!(run.all().to_lowercase().contains("host key"), "{}", run.all());
}

#[test]
fn every_step_on_a_host_shares_one_ssh_connection() {
    let Some(lab) = lab() else { return };
    lab.exec("web1", "rm -f /tmp/shakedown-conn");
    let scenario = "  Scenario: S{n}\n    When I run \"ps -o ppid= -p $PPID >> /tmp/shakedown-conn\"\n    Then the command should succeed\n";
    let body: String = (1..=6).map(|n| scenario.replace("{n}", &n.to_string())).collect();
    let dir = suite(&[("c.feature", &format!("@hosts:web1\nFeature: C\n{body}"))]);
    lab.shakedown_in(dir.path(), &["run", "c.feature", "--format", "pretty"])
        .assert_exit(0);
    let ids = lab.exec("web1", "sort -u /tmp/shakedown-conn");
    assert_eq!(ids.lines().count(), 1, "sshd connection processes seen: {ids}");
    assert_eq!(lab.exec("web1", "wc -l < /tmp/shakedown-conn").trim(), "6");
}

#[test]
fn the_ansible_ini_inventory_runs_the_same_suite() {
    let Some(lab) = lab() else { return };
    let ini = lab.inventory_ini();
    let run = crate::util::cli_util_shakedown_in(
        &crate::util::root(),
        &[
            "run",
            "-i",
            ini.to_str().expect("utf-8"),
            "features/core.feature",
            "--format",
            "pretty",
        ],
    );
    run.assert_exit(0)
        .assert_contains("18 scenarios (18 passed) on 6 hosts");
}

/// A copy of the lab inventory with `host_key_checking` and `known_hosts_file` replaced.
fn inventory_with(lab: &crate::util::Lab, checking: &str, known_hosts: &std::path::Path) -> String {
    let inv = std::fs::read_to_string(lab.inventory()).expect("inventory");
    let inv = regex::Regex::new(r#"known_hosts_file = "[^"]*""#)
        .expect("regex")
        .replace_all(
            &inv,
            format!("known_hosts_file = \"{}\"", known_hosts.display()).as_str(),
        )
        .into_owned();
    inv.replace(
        "host_key_checking = \"strict\"",
        &format!("host_key_checking = \"{checking}\""),
    )
}

#[test]
fn accept_new_records_an_unknown_key_and_off_accepts_a_changed_one() {
    let Some(lab) = lab() else { return };
    let feature = format!("{}/features/core.feature", env!("CARGO_MANIFEST_DIR"));
    let dir = suite(&[("known_hosts", "")]);
    let kh = dir.path().join("known_hosts");
    std::fs::write(dir.path().join("inv.toml"), inventory_with(&lab, "accept-new", &kh)).expect("write");
    let args = [
        "run",
        "-i",
        "inv.toml",
        "--format",
        "pretty",
        "--hosts",
        "web1",
        feature.as_str(),
    ];
    crate::util::cli_util_shakedown_in(dir.path(), &args).assert_exit(0);
    // Debian hashes recorded names (HashKnownHosts), so look for the key itself.
    let lab_known = std::fs::read_to_string(lab.dir.join("known_hosts")).expect("known_hosts");
    let web1_key = lab_known.lines().find(|l| l.starts_with("10.77.0.11 ")).expect("web1");
    let web1_key = web1_key.split_once(' ').expect("key").1;
    let recorded = std::fs::read_to_string(&kh).expect("known_hosts");
    assert!(recorded.contains(web1_key), "key recorded: {recorded}");
    // A forged key: strict refuses (tested above), off connects anyway.
    let known = std::fs::read_to_string(lab.dir.join("known_hosts")).expect("known_hosts");
    let web2_key = known
        .lines()
        .find(|l| l.starts_with("10.77.0.12 "))
        .expect("web2")
        .split_once(' ')
        .expect("key")
        .1;
    std::fs::write(&kh, format!("10.77.0.11 {web2_key}\n")).expect("forge");
    std::fs::write(dir.path().join("inv.toml"), inventory_with(&lab, "off", &kh)).expect("write");
    crate::util::cli_util_shakedown_in(dir.path(), &args)
        .assert_exit(0)
        .assert_contains("3 scenarios (3 passed)");
}

#[test]
fn the_users_ssh_config_is_honoured() {
    let Some(lab) = lab() else { return };
    // web1 is known to the inventory only by an alias that ~/.ssh/config resolves. The
    // test gives root a private home (a bind mount over /root in its own mount namespace).
    let home = suite(&[(
        ".ssh/config",
        "Host web1-alias\n  HostName 10.77.0.11\n  HostKeyAlias 10.77.0.11\n",
    )]);
    let inv = std::fs::read_to_string(lab.inventory()).expect("inventory");
    let inv = inv.replacen("address = \"10.77.0.11\"", "address = \"web1-alias\"", 1);
    let dir = suite(&[("inv.toml", &inv)]);
    let feature = format!("{}/features/core.feature", env!("CARGO_MANIFEST_DIR"));
    let script = format!(
        "mount --bind {} /root && exec {} run -i inv.toml --format pretty --hosts web1 -n 'own name' {feature}",
        home.path().display(),
        env!("CARGO_BIN_EXE_shakedown")
    );
    let out = std::process::Command::new("unshare")
        .env("XDG_STATE_HOME", crate::util::state_home())
        .args(["--mount", "--propagation", "private", "sh", "-c", &script])
        .current_dir(dir.path())
        .env("SHAKEDOWN_MYSQL_PASSWORD", lab.mysql_password())
        .env("NO_COLOR", "1")
        .output()
        .expect("unshare runs");
    let text = String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{text}");
    assert!(text.contains("The host knows its own name [web1]"), "{text}");
    // Without the config the alias does not resolve: the same run fails to connect.
    let run = crate::util::cli_util_shakedown_in(
        dir.path(),
        &[
            "run", "-i", "inv.toml", "--format", "pretty", "--hosts", "web1", "-n", "own name", &feature,
        ],
    );
    run.assert_exit(1)
        .assert_contains("cannot connect to web1 (web1-alias:22)");
}
