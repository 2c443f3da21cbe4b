//! The lab as a real fleet (issue 20, point 5): the project's own `features/` run over
//! every host kind at once (namespace hosts, systemd hosts sd1 and sd2, int1 and int2
//! behind the bastion) with `.lab/fleet.toml`, logged in as `deploy` and reading as root
//! with `become`; then faults on a systemd host and on a host behind the bastion fail
//! exactly their own scenarios, with what was expected and what was found.

use crate::util::{Repair, assert_failures, lab};

/// Every host of the fleet that a suite of features/ names.
const HOSTS: [&str; 10] = [
    "web1", "web2", "lb1", "db1", "db2", "app1", "sd1", "sd2", "int1", "int2",
];

#[test]
fn the_project_features_pass_on_every_host_kind_as_deploy_with_become() {
    let Some(lab) = lab() else { return };
    let inv = lab.fleet_inventory();
    let inv = inv.to_str().expect("utf-8 path");
    let mut features: Vec<String> = std::fs::read_dir(crate::util::root().join("features"))
        .expect("features/")
        .map(|e| e.expect("entry").path().display().to_string())
        .filter(|p| p.ends_with(".feature"))
        .collect();
    features.sort();
    let mut seen = String::new();
    // One suite per run, as each is run on its own elsewhere: their timing checks (500 ms
    // pages) measure the hosts, not ten hosts' suites at once on this 2-core machine.
    for feature in &features {
        let run = lab.shakedown_as_fleet_in(
            &crate::util::root(),
            &["run", "-i", inv, feature, "-t", "not @deploy", "--format", "pretty"],
        );
        run.assert_exit(0);
        assert_failures(&run, &[], &HOSTS);
        seen.push_str(&run.stdout);
    }
    for host in HOSTS {
        assert!(
            seen.contains(&format!("[{host}]")),
            "no scenario ran on {host}:\n{seen}"
        );
    }
}

#[test]
fn faults_on_a_systemd_host_and_behind_the_bastion_fail_their_own_scenarios() {
    let Some(lab) = lab() else { return };
    let inv = lab.fleet_inventory();
    let inv = inv.to_str().expect("utf-8 path");
    let _nginx_sd1 = Repair::inject(&lab, "sd1", "systemctl stop nginx", "systemctl start nginx");
    let _failed_sd2 = Repair::inject(
        &lab,
        "sd2",
        "systemctl start lab-broken.service || true",
        "systemctl reset-failed lab-broken.service",
    );
    let _nginx_int1 = Repair::inject(&lab, "int1", "/etc/lab/svc stop nginx", "/etc/lab/svc start nginx");
    let run = lab.shakedown_as_fleet_in(
        &crate::util::root(),
        &["run", "-i", inv, "features/fleet.feature", "--format", "pretty"],
    );
    run.assert_exit(1);
    assert_failures(
        &run,
        &[
            (
                "sd1",
                &["expected service nginx running, found not running (systemd: nginx.service inactive (dead)"],
            ),
            (
                "sd2",
                &["expected no failed systemd units, found 1 failed: lab-broken.service"],
            ),
            (
                "int1",
                &["expected service nginx running, found not running (init script: /etc/init.d/nginx status: exit 3"],
            ),
        ],
        &["int2"],
    );
}
