//! Inventories against the lab: the lab's own Ansible `inventory.ini` as it is (the ssh
//! options of `ansible_ssh_common_args` really reach ssh), and a secret needed only by the
//! hosts a run uses.

use crate::util::{cli_util_shakedown_in, lab, suite};

const WEB1: &str = "@hosts:web1\nFeature: O\n  Scenario: Sshd\n    Then port 22 should be listening\n";

/// The lab's inventory.ini without its `shakedown_known_hosts_file` line, so only
/// `ansible_ssh_common_args` says where the lab's host keys are.
fn ini_with_only_the_ssh_args(lab: &crate::util::Lab) -> String {
    let ini = std::fs::read_to_string(lab.inventory_ini()).expect("inventory.ini");
    let args = format!(
        "ansible_ssh_common_args='-o UserKnownHostsFile={} -o StrictHostKeyChecking=yes'",
        lab.dir.join("known_hosts").display()
    );
    assert!(ini.contains(&args), "the lab's inventory.ini changed:\n{ini}");
    ini.lines()
        .filter(|l| !l.starts_with("shakedown_known_hosts_file="))
        .map(|l| format!("{l}\n"))
        .collect()
}

#[test]
fn the_ssh_options_of_ansible_ssh_common_args_reach_ssh() {
    let Some(lab) = lab() else { return };
    let good = ini_with_only_the_ssh_args(&lab);
    let dir = suite(&[("empty_known_hosts", ""), ("f.feature", WEB1)]);
    let run = |inventory: &str| {
        std::fs::write(dir.path().join("hosts.ini"), inventory).expect("write");
        cli_util_shakedown_in(
            dir.path(),
            &["run", "-i", "hosts.ini", "f.feature", "--format", "pretty"],
        )
    };
    // The right known-hosts file, from the args only: strict checking passes.
    run(&good)
        .assert_exit(0)
        .assert_contains("1 scenario (1 passed) on 1 host");
    // A wrong one in the args: ssh refuses the host key, so the option was really passed.
    let lab_kh = lab.dir.join("known_hosts").display().to_string();
    let wrong_kh = dir.path().join("empty_known_hosts").display().to_string();
    let wrong = run(&good.replace(&lab_kh, &wrong_kh));
    wrong
        .assert_exit(1)
        .assert_contains("cannot connect to web1 (10.77.0.11:22)");
    assert!(wrong.all().contains("Host key verification failed"), "{}", wrong.all());
    // An option shakedown has no setting of its own for, passed to ssh as written:
    // HostKeyAlias makes ssh look the key up under another name, one the known-hosts file
    // has (the run passes, the user's and system's ssh configuration still read) or lacks.
    run(&good.replace(
        "-o StrictHostKeyChecking=yes",
        "-o StrictHostKeyChecking=yes -o HostKeyAlias=10.77.0.11",
    ))
    .assert_exit(0);
    let aliased = run(&good.replace(
        "-o StrictHostKeyChecking=yes",
        "-o StrictHostKeyChecking=yes -o HostKeyAlias=nosuch.shakedown.test",
    ));
    aliased.assert_exit(1).assert_contains("cannot connect to web1");
    assert!(
        aliased.all().contains("Host key verification failed"),
        "{}",
        aliased.all()
    );
}

#[test]
fn an_unset_secret_blocks_only_the_runs_that_use_its_host() {
    let Some(lab) = lab() else { return };
    let inventory = std::fs::read_to_string(lab.inventory())
        .expect("inventory")
        .replace("SHAKEDOWN_MYSQL_PASSWORD", "SHAKEDOWN_LAB_UNSET_PW");
    let web = "@hosts:web\nFeature: W\n  Scenario: Nginx\n    Then port 80 should be listening\n";
    let db = "@hosts:db\nFeature: D\n  Scenario: Up\n    Then MySQL should be accepting connections\n";
    let dir = suite(&[("inv.toml", &inventory), ("web.feature", web), ("db.feature", db)]);
    let run = |args: &[&str]| {
        let mut full = vec!["run", "-i", "inv.toml", "--format", "pretty"];
        full.extend_from_slice(args);
        cli_util_shakedown_in(dir.path(), &full)
    };
    run(&["web.feature"])
        .assert_exit(0)
        .assert_contains("2 scenarios (2 passed) on 2 hosts");
    run(&["web.feature", "db.feature", "--hosts", "web*"])
        .assert_exit(0)
        .assert_contains("2 scenarios (2 passed) on 2 hosts");
    let blocked = run(&["db.feature"]);
    blocked
        .assert_exit(2)
        .assert_contains("SHAKEDOWN_LAB_UNSET_PW is not set (mysql.password_env of host db1)")
        .assert_contains("SHAKEDOWN_LAB_UNSET_PW is not set (mysql.password_env of host db2)");
    assert!(!blocked.all().contains("scenario"), "nothing ran:\n{}", blocked.all());
}
