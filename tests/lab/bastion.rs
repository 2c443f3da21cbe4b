//! Hosts behind a bastion (ci/lab/bastion.sh): int1 and int2 on the internal bridge answer
//! only through the jump host `bastion`, as deploy. Each path an operator uses is checked on
//! them: the native `proxy_jump` key, an Ansible inventory's
//! `ansible_ssh_common_args='-o ProxyJump=...'`, a `ProxyJump` in an ssh_config file named by
//! the `ssh_config` key; and a dead bastion fails the hosts behind it quickly, naming it,
//! while the rest of the run goes on.

use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

use crate::util::{Lab, Repair, Run, cli_util_shakedown_in, lab, suite, wait_until};

const INTERNAL: &str = "@hosts:internal\nFeature: Behind the bastion\n  Scenario: Reached through the jump host\n    Then the file \"/etc/hostname\" should contain \"{name}\"\n    And the output of \"id -un\" should contain \"deploy\"\n";

/// The lab with the hosts behind the bastion; `None` (skipped) when they are not up, unless
/// `SHAKEDOWN_LAB=required`.
fn bastion_lab() -> Option<Lab> {
    let lab = lab()?;
    if !lab.dir.join("bastion.toml").exists() {
        assert_ne!(
            std::env::var("SHAKEDOWN_LAB").as_deref(),
            Ok("required"),
            "SHAKEDOWN_LAB=required but no {} (ci/lab.sh up runs ci/lab/bastion.sh up)",
            lab.dir.join("bastion.toml").display()
        );
        eprintln!("skipped: the hosts behind the bastion are not up");
        return None;
    }
    assert_contained();
    Some(lab)
}

/// Before anything connects: the internal subnet has the `unreachable` route here, so a
/// connection to it can never leave this machine by the default route.
#[track_caller]
fn assert_contained() {
    let get = Command::new("ip")
        .args(["route", "get", "10.77.200.11"])
        .output()
        .expect("ip runs");
    let said = String::from_utf8_lossy(&get.stderr);
    assert!(
        !get.status.success() && said.contains("No route to host"),
        "ip route get 10.77.200.11 must answer unreachable, said: {}{said}",
        String::from_utf8_lossy(&get.stdout)
    );
    let show = Command::new("ip")
        .args(["route", "show", "10.77.200.0/24"])
        .output()
        .expect("ip runs");
    assert_eq!(
        String::from_utf8_lossy(&show.stdout).trim(),
        "unreachable 10.77.200.0/24"
    );
}

fn path(lab: &Lab, file: &str) -> String {
    lab.dir.join(file).display().to_string()
}

fn read(lab: &Lab, file: &str) -> String {
    std::fs::read_to_string(lab.dir.join(file)).expect("a file of ci/lab/bastion.sh")
}

/// Runs the INTERNAL feature with `inventory` (text, written as `name`).
fn run_internal(name: &str, inventory: &str) -> Run {
    let dir = suite(&[("f.feature", INTERNAL), (name, inventory)]);
    cli_util_shakedown_in(dir.path(), &["run", "-i", name, "f.feature", "--format", "pretty"])
}

#[test]
fn the_internal_subnet_is_unreachable_and_a_direct_connection_fails_at_once() {
    let Some(lab) = bastion_lab() else { return };
    // Without the jump host: refused here at once ("No route to host"), never sent out.
    let direct = read(&lab, "bastion.toml").replace("proxy_jump = \"bastion\"", "");
    let start = Instant::now();
    let run = run_internal("direct.toml", &direct);
    run.assert_exit(1)
        .assert_contains("cannot connect to int1 (10.77.200.11:22)")
        .assert_contains("No route to host");
    assert!(start.elapsed() < Duration::from_secs(4), "{:?}", start.elapsed());
}

#[test]
fn native_proxy_jump_reaches_the_hosts_behind_the_bastion() {
    let Some(lab) = bastion_lab() else { return };
    let inventory = read(&lab, "bastion.toml");
    run_internal("bastion.toml", &inventory)
        .assert_exit(0)
        .assert_contains("2 scenarios (2 passed) on 2 hosts");
    // int1's nginx, read through the bastion (as deploy, without sudo).
    let nginx = "@hosts:int1\nFeature: N\n  Scenario: Web\n    Then a process named \"nginx\" should be running\n    And port 80 should be listening\n";
    let dir = suite(&[("n.feature", nginx), ("i.toml", &inventory)]);
    cli_util_shakedown_in(dir.path(), &["run", "-i", "i.toml", "n.feature", "--format", "pretty"])
        .assert_exit(0)
        .assert_contains("1 scenario (1 passed) on 1 host");
    // A jump host that cannot reach the internal bridge: the hop is really taken.
    let wrong = inventory.replace("proxy_jump = \"bastion\"", "proxy_jump = \"web1\"");
    let kh = path(&lab, "known_hosts");
    let wrong = wrong.replace(
        "[hosts.bastion]",
        &format!(
            "[hosts.web1]\naddress = \"10.77.0.11\"\nuser = \"root\"\nknown_hosts_file = \"{kh}\"\n\n[hosts.bastion]"
        ),
    );
    let run = run_internal("wrong.toml", &wrong);
    run.assert_exit(1)
        .assert_contains("cannot connect to int1 (10.77.200.11:22 through jump host web1 (10.77.0.11:22))");
}

#[test]
fn ansible_proxy_jump_in_ssh_common_args_reaches_the_hosts_behind_the_bastion() {
    let Some(lab) = bastion_lab() else { return };
    let ini = read(&lab, "bastion.ini");
    assert!(ini.contains("-o ProxyJump=deploy@10.77.0.60:22"), "{ini}");
    run_internal("bastion.ini", &ini)
        .assert_exit(0)
        .assert_contains("2 scenarios (2 passed) on 2 hosts");
    let direct = ini.replace("-o ProxyJump=deploy@10.77.0.60:22 ", "");
    run_internal("direct.ini", &direct)
        .assert_exit(1)
        .assert_contains("cannot connect to int2 (10.77.200.12:22)")
        .assert_contains("No route to host");
}

#[test]
fn a_proxy_jump_in_the_ssh_config_file_of_the_ssh_config_key_reaches_the_hosts() {
    let Some(lab) = bastion_lab() else { return };
    let inventory = |config: &str| {
        format!(
            "[defaults]\nssh_config = \"{config}\"\n\n[hosts.int1]\ngroups = [\"internal\"]\n\n[hosts.int2]\ngroups = [\"internal\"]\n"
        )
    };
    // Only the file says where the hosts are, who logs in, with which key and jump host.
    run_internal("c.toml", &inventory(&path(&lab, "bastion_ssh_config")))
        .assert_exit(0)
        .assert_contains("2 scenarios (2 passed) on 2 hosts");
    let config = read(&lab, "bastion_ssh_config").replace("  ProxyJump bastion\n", "");
    let dir = tempfile::tempdir().expect("tempdir");
    let no_jump: PathBuf = dir.path().join("no_jump_config");
    std::fs::write(&no_jump, config).expect("write");
    run_internal("c.toml", &inventory(&no_jump.display().to_string()))
        .assert_exit(1)
        .assert_contains("cannot connect to int1 (int1:22)")
        .assert_contains("No route to host");
}

#[test]
fn a_dead_bastion_fails_the_hosts_behind_it_quickly_and_the_run_goes_on() {
    let Some(lab) = bastion_lab() else { return };
    // The hosts behind the bastion and a base host (root, the lab's known_hosts), one run.
    let inventory = format!(
        "{}\n[hosts.web1]\naddress = \"10.77.0.11\"\nuser = \"root\"\nknown_hosts_file = \"{}\"\n",
        read(&lab, "bastion.toml"),
        path(&lab, "known_hosts")
    );
    let feature = "@hosts:internal,web1\nFeature: F\n  Scenario: S\n    Then the file \"/etc/hostname\" should contain \"{name}\"\n";
    let dir = suite(&[("f.feature", feature), ("i.toml", &inventory)]);
    let run = || cli_util_shakedown_in(dir.path(), &["run", "-i", "i.toml", "f.feature", "--format", "pretty"]);
    run().assert_exit(0).assert_contains("on 3 hosts");
    let sshd_answers =
        || std::net::TcpStream::connect_timeout(&"10.77.0.60:22".parse().unwrap(), Duration::from_secs(1)).is_ok();
    {
        let _fault = Repair::inject(
            &lab,
            "bastion",
            "kill $(cat /run/sshd.pid)",
            "/usr/sbin/sshd -f /etc/ssh/sshd_config_lab",
        );
        wait_until("the bastion's sshd gone", Duration::from_secs(10), || !sshd_answers());
        let start = Instant::now();
        let dead = run();
        let took = start.elapsed();
        dead.assert_exit(1);
        crate::util::assert_failures(
            &dead,
            &[
                ("int1", &["through jump host bastion (10.77.0.60:22)"]),
                ("int2", &["through jump host bastion (10.77.0.60:22)"]),
            ],
            &["web1"],
        );
        // Within the connect timeout (5 s): the hop is refused at once.
        assert!(took < Duration::from_secs(5), "took {took:?}\n{}", dead.all());
    }
    wait_until("the bastion's sshd back", Duration::from_secs(10), sshd_answers);
    run().assert_exit(0);
    // A bastion that does not answer at all (its link down): the hop's connect timeout
    // (5 s), once for every host behind it, not once per host nor the whole deadline.
    {
        let _fault = Repair::inject(&lab, "bastion", "ip link set eth0 down", "ip link set eth0 up");
        let start = Instant::now();
        let dead = run();
        let took = start.elapsed();
        dead.assert_exit(1);
        crate::util::assert_failures(
            &dead,
            &[
                (
                    "int1",
                    &[
                        "through jump host bastion (10.77.0.60:22)): failed to connect to the remote host: connect to host 10.77.0.60 port 22: Connection timed out",
                    ],
                ),
                ("int2", &["through jump host bastion (10.77.0.60:22)"]),
            ],
            &["web1"],
        );
        assert!(took < Duration::from_secs(7), "took {took:?}\n{}", dead.all());
    }
    wait_until("the bastion back", Duration::from_secs(10), sshd_answers);
    run().assert_exit(0);
}

/// Connections from the controller to the bastion's sshd that are up now, as the bastion
/// sees them.
fn logins_on_the_bastion(lab: &Lab) -> usize {
    lab.exec("bastion", "ss -Htn state established '( sport = :22 )' dst 10.77.0.1")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

#[test]
fn the_hosts_behind_one_bastion_share_one_connection_to_it() {
    let Some(lab) = bastion_lab() else { return };
    let feature = "@hosts:internal\nFeature: F\n  Scenario: S\n    When I run \"sleep 3\"\n";
    let inventory = read(&lab, "bastion.toml");
    let dir = suite(&[("f.feature", feature), ("i.toml", &inventory)]);
    assert_eq!(
        logins_on_the_bastion(&lab),
        0,
        "a connection to the bastion before the run"
    );
    let mut run = Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .env("XDG_STATE_HOME", crate::util::state_home())
        .args(["run", "-i", "i.toml", "f.feature", "--format", "quiet"])
        .current_dir(dir.path())
        .spawn()
        .expect("shakedown runs");
    // Both hosts behind the bastion are connected (their command runs): one connection.
    let sleeping = |h: &str| {
        !lab.exec(h, "pgrep -x sleep -a | grep -c 'sleep 3' || true")
            .starts_with('0')
    };
    wait_until("int1 and int2 running sleep 3", Duration::from_secs(10), || {
        sleeping("int1") && sleeping("int2")
    });
    let logins = logins_on_the_bastion(&lab);
    assert!(run.wait().expect("shakedown ends").success());
    assert_eq!(
        logins, 1,
        "connections from the controller to the bastion during the run"
    );
    // The shared master ends with the run: nothing stays connected to the bastion.
    wait_until(
        "no connection to the bastion after the run",
        Duration::from_secs(3),
        || logins_on_the_bastion(&lab) == 0,
    );
}
