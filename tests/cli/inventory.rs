//! Inventories through the real binary, with hosts that are never contacted: what a run
//! needs of a host only when it uses it (secrets, key files), Ansible inventories as they
//! are (ssh options, unused variables, JSON).

use crate::util::{shakedown_in, suite};

/// Two hosts: `here` (local, group web) and `db1` (SSH to an address nobody answers,
/// with a MySQL password read from an unset variable).
const INVENTORY: &str = r#"[hosts.here]
transport = "local"
groups = ["web"]

[hosts.db1]
address = "192.0.2.31"
groups = ["db"]

[hosts.db1.mysql]
user = "monitor"
password_env = "SHAKEDOWN_TEST_UNSET_PW"
"#;

const WEB: &str = "@hosts:web\nFeature: Web\n  Scenario: Echo\n    When I run \"echo ok\"\n    Then the output should contain \"ok\"\n";

#[test]
fn an_unset_secret_blocks_only_a_run_that_uses_its_host() {
    let db = "@hosts:db\nFeature: Db\n  Scenario: Up\n    Then MySQL should be accepting connections\n";
    let named =
        "@hosts:web\nFeature: Named\n  Scenario: Up\n    Then MySQL on \"db1\" should be accepting connections\n";
    let dir = suite(&[
        ("inv.toml", INVENTORY),
        ("web.feature", WEB),
        ("db.feature", db),
        ("named.feature", named),
    ]);
    let run = |args: &[&str]| shakedown_in(dir.path(), args, &[]);
    // A web-only feature (and a --hosts that leaves db1 out) does not need db1's password.
    run(&["run", "-i", "inv.toml", "web.feature", "--format", "pretty"])
        .assert_exit(0)
        .assert_contains("1 scenario (1 passed) on 1 host");
    run(&[
        "run",
        "-i",
        "inv.toml",
        "web.feature",
        "db.feature",
        "--hosts",
        "her*",
        "--format",
        "pretty",
    ])
    .assert_exit(0);
    run(&["lint", "-i", "inv.toml", "web.feature"]).assert_exit(0);
    // A run that uses db1, by tag or by naming it in a step, stops before contacting anything.
    let want = "inv.toml:11:16: SHAKEDOWN_TEST_UNSET_PW is not set (mysql.password_env of host db1)";
    for feature in ["db.feature", "named.feature"] {
        let r = run(&["run", "-i", "inv.toml", feature, "--format", "pretty"]);
        r.assert_exit(2).assert_contains(want);
        assert!(!r.all().contains("cannot connect"), "{}", r.all());
        run(&["lint", "-i", "inv.toml", feature])
            .assert_exit(2)
            .assert_contains(want);
    }
    run(&["check", "-i", "inv.toml", "db.feature"])
        .assert_exit(3)
        .assert_contains(want);
}

#[test]
fn a_missing_identity_file_is_named_at_lint() {
    let inventory = "[defaults]\nuser = \"root\"\n\n[hosts.web1]\naddress = \"192.0.2.11\"\nidentity_file = \"/nonexistent/shakedown/id_ed25519\"\n\n[hosts.here]\ntransport = \"local\"\ngroups = [\"web\"]\n";
    let web1 = "@hosts:web1\nFeature: W\n  Scenario: Up\n    Then port 22 should be listening\n";
    let dir = suite(&[("inv.toml", inventory), ("web1.feature", web1), ("web.feature", WEB)]);
    let r = shakedown_in(dir.path(), &["lint", "-i", "inv.toml", "web1.feature"], &[]);
    r.assert_exit(2)
        .assert_contains("inv.toml:6:17: identity_file /nonexistent/shakedown/id_ed25519 of host web1: no such file");
    // A host outside the run needs no key.
    shakedown_in(dir.path(), &["lint", "-i", "inv.toml", "web.feature"], &[]).assert_exit(0);
    // The same for an Ansible inventory, at the variable's value.
    let ini = "[web]\nweb1 ansible_host=192.0.2.11 ansible_ssh_private_key_file=/nonexistent/k\n";
    std::fs::write(dir.path().join("hosts.ini"), ini).expect("write");
    shakedown_in(dir.path(), &["lint", "-i", "hosts.ini", "web1.feature"], &[])
        .assert_exit(2)
        .assert_contains("hosts.ini:2:59: identity_file /nonexistent/k of host web1: no such file");
}

#[test]
fn a_json_inventory_is_read_as_yaml_whatever_its_name() {
    let json = r#"{
  "all": {
    "children": {
      "web": {"hosts": {"here": {"ansible_connection": "local", "greeting": "hello"}}}
    }
  }
}
"#;
    let feature = "@hosts:web\nFeature: J\n  Scenario: S\n    When I run \"echo {vars.greeting}\"\n    Then the output should contain \"hello\"\n";
    let dir = suite(&[("hosts.json", json), ("hosts", json), ("f.feature", feature)]);
    for inv in ["hosts.json", "hosts"] {
        shakedown_in(dir.path(), &["run", "-i", inv, "f.feature", "--format", "pretty"], &[])
            .assert_exit(0)
            .assert_contains("1 scenario (1 passed) on 1 host");
    }
    // Its errors are located like YAML's.
    std::fs::write(dir.path().join("bad.json"), "{\"all\": {\"host\": {}}}\n").expect("write");
    shakedown_in(dir.path(), &["lint", "-i", "bad.json", "f.feature"], &[])
        .assert_exit(2)
        .assert_contains("bad.json:1:10: unknown key \"host\" in group all (did you mean \"hosts\"?)");
}

#[test]
fn ssh_args_that_could_run_a_command_are_refused_naming_the_variable() {
    let dir = suite(&[("f.feature", WEB)]);
    let cases = [
        (
            "[web]\nhere ansible_connection=local ansible_ssh_common_args='-o ProxyCommand=\"touch /tmp/x\"'\n",
            "hosts.ini:2:55: ansible_ssh_common_args of host here: ProxyCommand runs a command on this machine; shakedown does not pass it",
        ),
        (
            "[web]\nhere ansible_connection=local\n[web:vars]\nansible_ssh_extra_args=-oPermitLocalCommand=yes -oLocalCommand=id\n",
            "hosts.ini:4:24: ansible_ssh_extra_args of group web: PermitLocalCommand=yes lets LocalCommand run a command on this machine; shakedown does not pass it",
        ),
        (
            "[web]\nhere ansible_connection=local ansible_ssh_common_args=\"-o 'Match exec \\\"id\\\"'\"\n",
            "hosts.ini:2:55: ansible_ssh_common_args of host here: Match runs a command (Match exec) or opens a block",
        ),
        (
            "[web]\nhere ansible_connection=local ansible_ssh_common_args='-o KnownHostsCommand=/bin/id'\n",
            "KnownHostsCommand runs a command on this machine",
        ),
    ];
    for (ini, want) in cases {
        std::fs::write(dir.path().join("hosts.ini"), ini).expect("write");
        shakedown_in(dir.path(), &["lint", "-i", "hosts.ini", "f.feature"], &[])
            .assert_exit(2)
            .assert_contains(want);
    }
}

#[test]
fn unused_ansible_variables_are_warned_with_their_place() {
    let ini = "[web]\nhere ansible_connection=local ansible_python_interpreter=/usr/bin/python3\n[web:vars]\nansible_become_exe=sudo\n";
    let dir = suite(&[("hosts.ini", ini), ("f.feature", WEB)]);
    for command in ["lint", "run"] {
        let r = shakedown_in(dir.path(), &[command, "-i", "hosts.ini", "f.feature"], &[]);
        r.assert_exit(0);
        assert!(
            r.stderr
                .contains("warning: hosts.ini:2:58: ansible_python_interpreter is not used by shakedown (ignored)"),
            "{}",
            r.all()
        );
        assert!(
            r.stderr
                .contains("warning: hosts.ini:4:20: ansible_become_exe is not used by shakedown (ignored)"),
            "{}",
            r.all()
        );
    }
}

#[test]
fn become_keys_in_bad_shape_exit_2_before_any_host_is_contacted() {
    // 10.255.255.1 would hang a connect: exit 2 comes before anything is contacted.
    let dir = suite(&[("f.feature", WEB)]);
    let cases = [
        (
            "hosts.ini",
            "[web]\nhere ansible_host=10.255.255.1 ansible_become=yes ansible_become_pass=hunter2\n",
            "hosts.ini:2:71: ansible_become_pass of host here is not read from the inventory: put the password in an environment variable and name it with become_password_env",
        ),
        (
            "inv.toml",
            "[hosts.here]\naddress = \"10.255.255.1\"\ngroups = [\"web\"]\nbecome = true\nbecome_method = \"dosa\"\n",
            "inv.toml:5:17: invalid become_method in [hosts.here]: \"dosa\" is not one of \"sudo\", \"doas\", \"su\" (did you mean \"doas\"?)",
        ),
        (
            "inv.toml",
            "[hosts.here]\naddress = \"10.255.255.1\"\ngroups = [\"web\"]\nbecome = true\nbecome_password_env = \"SD_UNSET_BECOME\"\n",
            "inv.toml:5:23: SD_UNSET_BECOME is not set (become_password_env of host here)",
        ),
    ];
    for (file, text, want) in cases {
        std::fs::write(dir.path().join(file), text).expect("write");
        for command in ["lint", "run"] {
            let r = shakedown_in(dir.path(), &[command, "-i", file, "f.feature"], &[]);
            r.assert_exit(2).assert_contains(want);
            assert!(!r.all().contains("hunter2"), "{}", r.all());
        }
    }
}

#[test]
fn a_bad_jump_host_or_ssh_config_file_exits_2_before_any_host_is_contacted() {
    // 192.0.2.x (TEST-NET-1) is never contacted: the run stops at the inventory.
    let inventory = "[defaults]\nuser = \"deploy\"\n\n[hosts.bastion]\naddress = \"192.0.2.60\"\n\n[hosts.int1]\naddress = \"192.0.2.11\"\nproxy_jump = \"bastoin\"\n";
    let int1 = "@hosts:int1\nFeature: I\n  Scenario: Up\n    Then port 22 should be listening\n";
    let dir = suite(&[("inv.toml", inventory), ("int1.feature", int1)]);
    let run = |args: &[&str]| shakedown_in(dir.path(), args, &[]);
    let start = std::time::Instant::now();
    run(&["run", "-i", "inv.toml", "int1.feature"])
        .assert_exit(2)
        .assert_contains("inv.toml:9:14: invalid proxy_jump in [hosts.int1]: no host \"bastoin\" in the inventory (did you mean \"bastion\"?)");
    assert!(start.elapsed() < std::time::Duration::from_secs(3));
    let injected = inventory.replace("bastoin", "-oProxyCommand=touch /tmp/x");
    std::fs::write(dir.path().join("inv.toml"), injected).expect("write");
    run(&["lint", "-i", "inv.toml", "int1.feature"])
        .assert_exit(2)
        .assert_contains("inv.toml:9:14: invalid proxy_jump in [hosts.int1]: jump host \"-oProxyCommand=touch /tmp/x\": \"-oProxyCommand=touch /tmp/x\" starts with \"-\"");
    let config = inventory.replace(
        "proxy_jump = \"bastoin\"",
        "ssh_config = \"/nonexistent/shakedown/ssh_config\"",
    );
    std::fs::write(dir.path().join("inv.toml"), config).expect("write");
    run(&["lint", "-i", "inv.toml", "int1.feature"])
        .assert_exit(2)
        .assert_contains("inv.toml:9:14: ssh_config /nonexistent/shakedown/ssh_config of host int1: no such file");
}
