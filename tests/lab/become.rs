//! `become` against real hosts (issue 20, point 3), with the `deploy` user of
//! ci/lab/become.sh: logged in as deploy, root-only reads work through sudo (web1), sudo
//! with a password that travels on standard input only (db2), doas (web2); a host whose
//! sudo asks a password that is not given, or where deploy has no rights (app1), fails at
//! once with a clear message; and without `become` every step that can read unprivileged
//! does, while one that cannot says so.

use std::time::{Duration, Instant};

use crate::util::{Lab, Run, lab, shakedown_with_env, suite};

/// The lab's deploy inventory (ci/lab/become.sh), with `edit` applied to its text.
fn deploy_inventory(lab: &Lab, edit: impl Fn(String) -> String) -> String {
    let text = std::fs::read_to_string(lab.dir.join("deploy.toml")).expect("deploy.toml (ci/lab/become.sh up)");
    edit(text)
}

/// `shakedown ARGS` in a directory holding `inv.toml` and `s.feature`, with the MySQL
/// password and, when given, db2's sudo password in the environment.
fn run_with(
    lab: &Lab,
    inventory: &str,
    feature: &str,
    password: Option<&str>,
    args: &[&str],
) -> (Run, tempfile::TempDir) {
    let dir = suite(&[("inv.toml", inventory), ("s.feature", feature)]);
    std::fs::create_dir_all(dir.path().join("out")).expect("out dir");
    let mysql = lab.mysql_password();
    let mut env = vec![("SHAKEDOWN_MYSQL_PASSWORD", mysql.as_str())];
    if let Some(pw) = password {
        env.push(("SHAKEDOWN_BECOME_PASSWORD", pw));
    }
    let mut full = vec![args[0], "-i", "inv.toml", "s.feature"];
    full.extend_from_slice(&args[1..]);
    (shakedown_with_env(dir.path(), &full, &env), dir)
}

/// Reads only root may do: a file of mode 0600, /etc/shadow, the processes behind ports.
const ROOT_READS: &str = r#"Feature: root-only reads
  Scenario: secret file
    Then the file "/etc/lab-become-secret" should contain "token = "
    And the file "/etc/lab-become-secret" should have mode "0600"
  Scenario: shadow
    Then the file "/etc/shadow" should match /^root:/
  Scenario: processes behind ports
    When I run "ss -ltnp"
    Then the output should contain "nginx"
"#;

/// A root-only file (mode 0600) on `host`, removed when dropped.
fn secret_file<'a>(lab: &'a Lab, host: &'a str) -> crate::util::Repair<'a> {
    crate::util::Repair::inject(
        lab,
        host,
        "umask 077; printf 'token = lab\\n' >/etc/lab-become-secret",
        "rm -f /etc/lab-become-secret",
    )
}

#[test]
fn as_deploy_with_become_root_only_reads_work_and_without_it_they_say_why() {
    let Some(lab) = lab() else { return };
    let _secret = secret_file(&lab, "web1");
    let feature = format!("@hosts:web1\n{ROOT_READS}");
    let inv = deploy_inventory(&lab, |t| t);
    let (run, _d) = run_with(&lab, &inv, &feature, None, &["run", "--format", "pretty"]);
    run.assert_exit(0).assert_contains("3 scenarios (3 passed) on 1 host");

    // The same, logged in as deploy without become: each read says why it cannot.
    let inv = deploy_inventory(&lab, |t| t.replace("become = true\n", "become = false\n"));
    let (run, _d) = run_with(&lab, &inv, &feature, None, &["run", "--format", "pretty"]);
    run.assert_exit(1);
    let failed: Vec<&str> = crate::util::failures(&run, "web1");
    let denied = "permission denied reading /etc/lab-become-secret as deploy (set become = true)";
    assert!(run.stdout.contains(denied), "{}", run.all());
    assert!(
        run.stdout
            .contains("permission denied reading /etc/shadow as deploy (set become = true)"),
        "{}",
        run.all()
    );
    assert_eq!(failed.len(), 3, "three failed scenarios: {failed:#?}\n{}", run.all());
}

#[test]
fn as_deploy_without_become_every_step_that_can_read_unprivileged_does() {
    let Some(lab) = lab() else { return };
    let inv = deploy_inventory(&lab, |t| t.replace("become = true\n", "become = false\n"));
    let feature = r#"@hosts:web1
Feature: unprivileged reads
  Scenario: what a deploy user may read
    Then the service "nginx" should be running
    And the service "ssh" should be enabled at boot
    And the package "nginx" should be installed
    And "/mnt/data" should be mounted with option "noatime"
    And port 80 should be listening
    And a process named "nginx" should be running
    And the file "/etc/app.conf" should contain "max_conn = 100"
    And the file "/etc/shadow" should exist
    And the file "/etc/shadow" should have mode "0640"
    And the user "appuser" should exist
    And the group "deploy" should exist
"#;
    let (run, _d) = run_with(&lab, &inv, feature, None, &["run", "--format", "pretty"]);
    run.assert_exit(0).assert_contains("1 scenario (1 passed) on 1 host");
    // The login is deploy's indeed, not root's.
    let feature = "@hosts:web1\nFeature: who\n  Scenario: id\n    When I run \"id -un\"\n    Then the output should contain \"deploy\"\n";
    let (run, _d) = run_with(&lab, &inv, feature, None, &["run"]);
    run.assert_exit(0);
}

#[test]
fn sudo_with_a_password_takes_it_on_stdin_and_without_it_fails_at_once() {
    let Some(lab) = lab() else { return };
    let _secret = secret_file(&lab, "db2");
    let feature = r#"@hosts:db2
Feature: db2 as deploy
  Scenario: secret file
    Then the file "/etc/lab-become-secret" should contain "token = "
  Scenario: whoami
    When I run "id -un"
    Then the output should contain "root"
"#;
    let password = lab.become_password();
    let inv = deploy_inventory(&lab, |t| t);
    // With the password: root, and the password nowhere in any output.
    let (run, dir) = run_with(
        &lab,
        &inv,
        feature,
        Some(&password),
        &[
            "run",
            "--format",
            "pretty",
            "--junit",
            "out/junit.xml",
            "--json",
            "out/report.json",
            "--trace",
            "out/trace.log",
        ],
    );
    run.assert_exit(0).assert_contains("2 scenarios (2 passed) on 1 host");
    let mut texts = vec![("stdout+stderr".to_string(), run.all())];
    for f in ["out/junit.xml", "out/report.json", "out/trace.log"] {
        texts.push((f.to_string(), std::fs::read_to_string(dir.path().join(f)).expect(f)));
    }
    let trace = &texts[3].1;
    assert!(
        trace.contains("\tsudo -k -S -p '' -u root -- "),
        "the trace shows the commands as sent, behind sudo: {trace}"
    );
    // A wrong password: refused, named, not shown.
    let wrong = "cnryQ7xWrongSudoPwZ9";
    let started = Instant::now();
    let (run, _d) = run_with(&lab, &inv, feature, Some(wrong), &["run", "--format", "pretty"]);
    run.assert_exit(1)
        .assert_contains("sudo on db2 refused the password of become_password_env (as deploy)");
    assert!(
        started.elapsed() < Duration::from_secs(15),
        "bounded: {:?}",
        started.elapsed()
    );
    texts.push(("wrong password run".into(), run.all()));
    // Nagios check with the password.
    let (check, _d) = run_with(&lab, &inv, feature, Some(&password), &["check"]);
    check.assert_exit(0);
    texts.push(("check".into(), check.all()));
    for (what, text) in &texts {
        assert!(!text.contains(&password), "{what} shows the sudo password");
        assert!(!text.contains(wrong), "{what} shows the wrong password");
    }

    // Without a password: sudo -n fails at once with the message, on every step.
    let inv = deploy_inventory(&lab, |t| {
        t.replace("become_password_env = \"SHAKEDOWN_BECOME_PASSWORD\"\n", "")
    });
    let started = Instant::now();
    let (run, _d) = run_with(&lab, &inv, feature, None, &["run", "--format", "pretty"]);
    let took = started.elapsed();
    run.assert_exit(1)
        .assert_contains("sudo on db2 needs a password (set become_password_env)");
    assert!(took < Duration::from_secs(5), "at once, not on a prompt: {took:?}");
    // And an unset variable is bad input: exit 2 before any host is contacted.
    let inv = deploy_inventory(&lab, |t| t);
    let (run, _d) = run_with(&lab, &inv, feature, None, &["run"]);
    run.assert_exit(2)
        .assert_contains("SHAKEDOWN_BECOME_PASSWORD is not set (become_password_env of host db2)");
}

#[test]
fn a_host_where_deploy_has_no_sudo_rights_says_so() {
    let Some(lab) = lab() else { return };
    let feature = "@hosts:app1\nFeature: app1\n  Scenario: whoami\n    When I run \"id -un\"\n    Then the output should contain \"root\"\n";
    let inv = deploy_inventory(&lab, |t| t.replace("become = false  #", "become = true  #"));
    let started = Instant::now();
    let (run, _d) = run_with(&lab, &inv, feature, None, &["run", "--format", "pretty"]);
    run.assert_exit(1)
        .assert_contains("sudo on app1 needs a password (set become_password_env), or deploy may not use sudo there");
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
    // A password does not help: deploy has none sudo accepts there.
    let inv = inv.replace(
        "[hosts.app1]\n",
        "[hosts.app1]\nbecome_password_env = \"SHAKEDOWN_BECOME_PASSWORD\"\n",
    );
    let (run, _d) = run_with(
        &lab,
        &inv,
        feature,
        Some("cnryQ7xNotAppPwZ9"),
        &["run", "--format", "pretty"],
    );
    run.assert_exit(1)
        .assert_contains("sudo on app1 refused the password of become_password_env (as deploy)");
    assert!(!run.all().contains("cnryQ7xNotAppPwZ9"));
}

#[test]
fn doas_where_it_permits_deploy_and_a_clear_refusal_where_not() {
    let Some(lab) = lab() else { return };
    let _secret = secret_file(&lab, "web2");
    let feature = format!("@hosts:web2\n{ROOT_READS}");
    let inv = deploy_inventory(&lab, |t| t);
    assert!(inv.contains("[hosts.web2]\nbecome_method = \"doas\"\n"), "{inv}");
    let (run, _d) = run_with(&lab, &inv, &feature, None, &["run", "--format", "pretty"]);
    run.assert_exit(0).assert_contains("3 scenarios (3 passed) on 1 host");
    // web1 has no doas.conf: doas says so at once.
    let inv = inv.replace("[hosts.web1]\n", "[hosts.web1]\nbecome_method = \"doas\"\n");
    let feature = "@hosts:web1\nFeature: doas\n  Scenario: whoami\n    When I run \"id -un\"\n    Then the output should contain \"root\"\n";
    let (run, _d) = run_with(&lab, &inv, feature, None, &["run", "--format", "pretty"]);
    run.assert_exit(1)
        .assert_contains("doas on web1: doas is not enabled, /etc/doas.conf: No such file or directory");
    // A rule that asks a password: doas reads it from a terminal only, so `doas -n` refuses
    // at once (measured: without -n and without a terminal it fails at once too).
    let _rule = crate::util::Repair::inject(
        &lab,
        "web2",
        "printf 'permit deploy\\n' >/etc/doas.conf",
        "umask 077; printf 'permit nopass deploy\\n' >/etc/doas.conf",
    );
    let inv = deploy_inventory(&lab, |t| t);
    let feature = feature.replace("web1", "web2");
    let started = Instant::now();
    let (run, _d) = run_with(&lab, &inv, &feature, None, &["run", "--format", "pretty"]);
    run.assert_exit(1).assert_contains(
        "doas on web2 refused deploy without a password (doas.conf needs `permit nopass deploy as root`): Authentication required",
    );
    assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
}

#[test]
fn an_ansible_inventory_s_become_variables_work_unchanged() {
    let Some(lab) = lab() else { return };
    let _secret = secret_file(&lab, "web1");
    let dir = lab.dir.display();
    let ini = format!(
        "[web]\nweb1 ansible_host=10.77.0.11\n[web:vars]\nansible_user=deploy\nansible_become=yes\nansible_become_method=sudo\nansible_become_user=root\nansible_ssh_private_key_file={dir}/id_ed25519\nshakedown_known_hosts_file={dir}/known_hosts\n"
    );
    let feature = format!("@hosts:web1\n{ROOT_READS}");
    let d = suite(&[("hosts.ini", &ini), ("s.feature", &feature)]);
    let run = shakedown_with_env(d.path(), &["run", "-i", "hosts.ini", "s.feature"], &[]);
    run.assert_exit(0).assert_contains("3 scenarios (3 passed) on 1 host");
    assert!(!run.stderr.contains("not used by shakedown"), "{}", run.all());
}

#[test]
fn become_adds_no_command_only_a_sudo_in_front_of_each() {
    let Some(lab) = lab() else { return };
    let feature = std::fs::read_to_string(crate::util::root().join("features/system.feature")).expect("system.feature");
    let feature = feature.replace("Feature:", "@hosts:web1,lb1,db1\nFeature:");
    let password = lab.become_password();
    let commands = |inventory: &str| -> Vec<String> {
        let (run, dir) = run_with(
            &lab,
            inventory,
            &feature,
            Some(&password),
            &["run", "--trace", "out/trace.log"],
        );
        run.assert_exit(0);
        let trace = std::fs::read_to_string(dir.path().join("out/trace.log")).expect("trace");
        trace
            .lines()
            .map(|l| {
                let f: Vec<&str> = l.splitn(5, '\t').collect();
                format!("{}\t{}", f[1], f[4])
            })
            .collect()
    };
    let root = std::fs::read_to_string(lab.inventory()).expect("inventory");
    // app1 stays unprivileged in deploy.toml (deploy has no sudo rights there): left out.
    let others = |v: Vec<String>| -> Vec<String> { v.into_iter().filter(|l| !l.starts_with("app1\t")).collect() };
    let as_root = others(commands(&root));
    let as_deploy = others(commands(&deploy_inventory(&lab, |t| t)));
    assert_eq!(as_root.len(), as_deploy.len(), "{as_root:#?}\n{as_deploy:#?}");
    let mut hosts = std::collections::BTreeSet::new();
    for line in &as_deploy {
        let (host, cmd) = line.split_once('\t').expect("host and command");
        let prefix = match host {
            "db2" => "sudo -k -S -p '' -u root -- ",
            "web2" => "doas -n -u root -- sh -c ",
            _ => "sudo -n -u root -- ",
        };
        assert!(cmd.starts_with(prefix), "{host}: {cmd}");
        hosts.insert(host);
    }
    let batches = as_deploy.iter().filter(|l| l.contains("sh -c '{ sh -c")).count();
    assert!(hosts.len() >= 3, "{hosts:?}");
    assert_eq!(
        batches,
        hosts.len(),
        "one facts batch per host, in one sudo: {as_deploy:#?}"
    );
}

#[test]
fn su_takes_its_password_on_stdin_and_refuses_a_wrong_one() {
    let Some(lab) = lab() else { return };
    // Root has no password in the lab: su to deploy itself on db2, with deploy's password
    // (su asks it of anyone but root), proves the password path.
    let inv = deploy_inventory(&lab, |t| {
        t.replace(
            "[hosts.db2]\n",
            "[hosts.db2]\nbecome_method = \"su\"\nbecome_user = \"deploy\"\n",
        )
    });
    let feature = "@hosts:db2\nFeature: su\n  Scenario: whoami\n    When I run \"id -un\"\n    Then the output should contain \"deploy\"\n";
    let password = lab.become_password();
    let (run, _d) = run_with(&lab, &inv, feature, Some(&password), &["run", "--format", "pretty"]);
    run.assert_exit(0);
    assert!(!run.all().contains(&password));
    let started = Instant::now();
    let (run, _d) = run_with(
        &lab,
        &inv,
        feature,
        Some("cnryQ7xWrongSuPwZ9"),
        &["run", "--format", "pretty"],
    );
    run.assert_exit(1)
        .assert_contains("su on db2 refused the password of become_password_env (as deploy)");
    assert!(!run.all().contains("cnryQ7xWrongSuPwZ9"));
    assert!(started.elapsed() < Duration::from_secs(10), "{:?}", started.elapsed());
}
