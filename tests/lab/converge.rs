//! `--until-pass` on the lab (issue 21, point 1): right after a deploy (nginx on web1
//! restarting, web1 out of HAProxy on lb1, both back a few seconds after the run starts)
//! a run with `--until-pass 30s` passes and says how long each pair took to converge;
//! without the option the same run fails. A fault kept in place fails after the budget
//! (not much later) with every attempt counted and kept in JUnit. A host whose sshd is
//! stopped, and started again a few seconds into the run, is connected again and passes.

use std::time::{Duration, Instant};

use crate::fault::{At, Fault, backend_up};
use crate::util::{Lab, Run, lab, suite, wait_until};

const DEPLOY: &str = r#"Feature: After the deploy

  @hosts:web1
  Scenario: web1 serves again
    When I request "http://{address}/health"
    Then the response status should be 200

  @hosts:lb1
  Scenario: web1 back in the balancer
    Then the server "web1" in HAProxy backend "app" should be UP
"#;

const WEB2_FILES: &str = r#"Feature: Reachable
  @hosts:web2
  Scenario: web2 has its config
    Then the file "/etc/app.conf" should exist
"#;

/// nginx on web1 stopped (mid-restart) and web1 in MAINT in HAProxy: a deploy under way.
fn deploying() -> Fault {
    Fault {
        name: "web1 being deployed",
        host: "web1",
        inject: vec![
            (At::Host("web1"), "/etc/lab/svc stop nginx".into()),
            (
                At::Host("lb1"),
                "echo 'set server app/web1 state maint' | socat stdio /run/haproxy/admin.sock".into(),
            ),
        ],
        repair: vec![
            (At::Host("web1"), "/etc/lab/svc start nginx".into()),
            (
                At::Host("lb1"),
                "echo 'set server app/web1 state ready' | socat stdio /run/haproxy/admin.sock".into(),
            ),
        ],
        injected: None,
        healed: Some(backend_up),
    }
}

/// The seconds of every `converged after S` in `text`.
fn converged_after(text: &str) -> Vec<f64> {
    let re = regex::Regex::new(r"converged after (\d+\.\d)s, (\d+) attempts").expect("regex");
    re.captures_iter(text).map(|c| c[1].parse().expect("seconds")).collect()
}

fn healthy(lab: &Lab) {
    wait_until("HAProxy sees web1 and web2 UP", Duration::from_secs(30), || {
        backend_up(lab)
    });
}

/// Runs `args` on `dir` while `fault` is in place, repairing it `after` into the run (the
/// deploy finishing by itself); returns the run and its wall time.
fn run_while_repairing(
    lab: &Lab,
    fault: &Fault,
    after: Duration,
    dir: &std::path::Path,
    args: &[&str],
) -> (Run, Duration) {
    let injected = fault.inject(lab);
    std::thread::scope(|s| {
        s.spawn(move || {
            std::thread::sleep(after);
            drop(injected);
        });
        let start = Instant::now();
        let run = lab.shakedown_in(dir, args);
        (run, start.elapsed())
    })
}

#[test]
fn a_deploy_under_way_converges_under_until_pass_and_fails_without() {
    let Some(lab) = lab() else { return };
    healthy(&lab);
    let dir = suite(&[("deploy.feature", DEPLOY)]);
    // Without the option: the run started right after the deploy fails.
    {
        let _deploying = deploying().inject(&lab);
        let run = lab.shakedown_in(dir.path(), &["run", "deploy.feature", "--format", "pretty"]);
        run.assert_exit(1).assert_contains("2 scenarios (0 passed, 2 failed)");
        assert!(!run.stdout.contains("converge"), "{}", run.stdout);
    }
    healthy(&lab);
    let junit = dir.path().join("junit.xml");
    let junit_arg = junit.to_str().expect("utf-8");
    let (run, took) = run_while_repairing(
        &lab,
        &deploying(),
        Duration::from_secs(3),
        dir.path(),
        &[
            "run",
            "deploy.feature",
            "--format",
            "pretty",
            "--until-pass",
            "30s",
            "--junit",
            junit_arg,
        ],
    );
    eprintln!("{}\ntook {took:?}", run.stdout);
    run.assert_exit(0)
        .assert_contains("2 scenarios (2 passed)")
        .assert_contains("\nConverged:\n")
        .assert_contains("  web1 deploy.feature:4 web1 serves again: converged after ")
        .assert_contains("  lb1 deploy.feature:9 web1 back in the balancer: converged after ");
    let times = converged_after(&run.stdout);
    // Each pair twice: its own line and the Converged: list.
    assert_eq!(times.len(), 4, "{}", run.stdout);
    // The repair comes 3 s after the run is started (the binary's own start-up and the
    // handshakes come first): each pair needed more than its first attempt and one pause.
    for t in times {
        assert!((0.5..30.0).contains(&t), "converged after {t}s: {}", run.stdout);
    }
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert_eq!(converged_after(&xml).len(), 2, "{xml}");
    assert!(xml.contains("attempt 1 failed: "), "{xml}");
    // The last attempt's measured response time is the one reported.
    assert!(xml.contains("measured:\n"), "{xml}");
}

#[test]
fn a_fault_kept_in_place_fails_after_the_budget_with_every_attempt() {
    let Some(lab) = lab() else { return };
    healthy(&lab);
    let dir = suite(&[("deploy.feature", DEPLOY)]);
    let junit = dir.path().join("junit.xml");
    let junit_arg = junit.to_str().expect("utf-8");
    let (run, took) = {
        let _kept = crate::fault::service_stopped("nginx stopped", "web1", "nginx").inject(&lab);
        let start = Instant::now();
        let run = lab.shakedown_in(
            dir.path(),
            &[
                "run",
                "deploy.feature",
                "--format",
                "pretty",
                "--until-pass",
                "6s",
                "--junit",
                junit_arg,
            ],
        );
        (run, start.elapsed())
    };
    eprintln!("{}\ntook {took:?}", run.stdout);
    // Attempts at 0, 0.5, 1.5, 3.5 and 6 s (the 4 s pause cut to the budget).
    run.assert_exit(1)
        .assert_contains("    did not converge in 6.")
        .assert_contains("s, 5 attempts\n");
    assert!(took >= Duration::from_secs(6), "{took:?}");
    assert!(took < Duration::from_secs(10), "budget 6 s, took {took:?}");
    let xml = std::fs::read_to_string(&junit).expect("junit written");
    assert!(xml.contains("did not converge in 6."), "{xml}");
    for n in 1..=4 {
        assert!(
            xml.contains(&format!("attempt {n} failed: When I request")),
            "attempt {n}: {xml}"
        );
    }
    healthy(&lab);
}

#[test]
fn a_host_whose_sshd_comes_back_is_connected_again_and_passes() {
    let Some(lab) = lab() else { return };
    let dir = suite(&[("f.feature", WEB2_FILES)]);
    let sshd = crate::fault::sshd_stopped("web2");
    {
        let _stopped = sshd.inject(&lab);
        let run = lab.shakedown_in(dir.path(), &["run", "f.feature", "--format", "pretty"]);
        run.assert_exit(1).assert_contains("cannot connect");
    }
    let (run, took) = run_while_repairing(
        &lab,
        &sshd,
        Duration::from_secs(3),
        dir.path(),
        &["run", "f.feature", "--format", "pretty", "--until-pass", "30s"],
    );
    eprintln!("{}\ntook {took:?}", run.stdout);
    run.assert_exit(0).assert_contains("1 scenario (1 passed)");
    let times = converged_after(&run.stdout);
    assert!(!times.is_empty() && times.iter().all(|t| *t >= 3.0), "{}", run.stdout);
}

/// Connections from the controller to the bastion's sshd that are up now.
fn logins_on_the_bastion(lab: &Lab) -> usize {
    lab.exec("bastion", "ss -Htn state established '( sport = :22 )' dst 10.77.0.1")
        .lines()
        .filter(|l| !l.trim().is_empty())
        .count()
}

#[test]
fn hosts_behind_a_bastion_whose_sshd_comes_back_share_one_new_connection_to_it() {
    let Some(lab) = lab() else { return };
    let Ok(inventory) = std::fs::read_to_string(lab.dir.join("bastion.toml")) else {
        eprintln!("skipped: the hosts behind the bastion are not up");
        return;
    };
    let feature =
        "@hosts:internal\nFeature: F\n  Scenario: S\n    When I run \"sleep 3\"\n    Then the command should succeed\n";
    let dir = suite(&[("f.feature", feature), ("i.toml", &inventory)]);
    let sshd = Fault::on(
        "bastion's sshd stopped",
        "bastion",
        "kill $(cat /run/sshd.pid)",
        "[ -e /proc/$(cat /run/sshd.pid)/status ] || /usr/sbin/sshd -f /etc/ssh/sshd_config_lab",
    );
    let injected = sshd.inject(&lab);
    let run = std::process::Command::new(env!("CARGO_BIN_EXE_shakedown"))
        .args([
            "run",
            "-i",
            "i.toml",
            "f.feature",
            "--format",
            "pretty",
            "--until-pass",
            "30s",
        ])
        .current_dir(dir.path())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("shakedown runs");
    // The first attempts are refused by the bastion; then it comes back.
    std::thread::sleep(Duration::from_secs(3));
    drop(injected);
    let sleeping = |h: &str| {
        !lab.exec(h, "pgrep -x sleep -a | grep -c 'sleep 3' || true")
            .starts_with('0')
    };
    wait_until("int1 and int2 running sleep 3", Duration::from_secs(20), || {
        sleeping("int1") && sleeping("int2")
    });
    let logins = logins_on_the_bastion(&lab);
    let out = run.wait_with_output().expect("shakedown ends");
    let stdout = String::from_utf8_lossy(&out.stdout);
    eprintln!("{stdout}");
    assert!(out.status.success(), "{stdout}");
    assert_eq!(converged_after(&stdout).len(), 4, "{stdout}");
    assert_eq!(
        logins, 1,
        "connections from the controller to the bastion during the run"
    );
}
