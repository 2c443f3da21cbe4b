//! `--nsca HOST:PORT`: one passive result per host and feature through the real NSCA 2.x
//! daemon into the command file, in clear (decryption_method 0) and XOR-encrypted with the
//! password (method 1); a dead daemon turns a green run into exit 2, a failed run stays 1;
//! the NSCA password never printed.

use shakedown::report::perfdata::parse_perfdata;

use crate::servers::{CANARY, Nsca, closed_port, parse_result};
use crate::util::{shakedown_in, suite};

const WEB: &str = "Feature: Web tier\n  Scenario: Greeting\n    When I run \"echo hello\"\n    Then the output should contain \"bye\"\n  Scenario: Kernel\n    When I run \"uname -s\"\n    Then the output should contain \"Linux\"\n";
const DB: &str = "Feature: Database tier\n  Scenario: Kernel\n    When I run \"uname -s\"\n    Then the output should contain \"Linux\"\n";

fn check_results(nsca: &Nsca, env: &[(&str, &str)]) {
    let dir = suite(&[("features/web.feature", WEB), ("features/db.feature", DB)]);
    let target = nsca.target();
    let run = shakedown_in(
        dir.path(),
        &["run", "features", "--format", "quiet", "--nsca", &target],
        env,
    );
    run.assert_exit(1);
    assert_eq!(run.stderr, "", "nothing on stderr when the results went");
    assert!(!run.all().contains(CANARY), "the password leaked:\n{}", run.all());
    let lines = nsca.wait_lines(2);
    assert_eq!(lines.len(), 2, "one result per host and feature: {lines:#?}");
    let mut results: Vec<_> = lines.iter().map(|l| parse_result(l)).collect();
    results.sort_by(|a, b| a.1.cmp(&b.1));
    let (host, service, state, output) = &results[0];
    assert_eq!(
        (host.as_str(), service.as_str(), *state),
        ("localhost", "Database tier", 0)
    );
    assert!(
        output.starts_with("SHAKEDOWN OK - 1 scenario passed on 1 host in "),
        "{output}"
    );
    let (host, service, state, output) = &results[1];
    assert_eq!((host.as_str(), service.as_str(), *state), ("localhost", "Web tier", 2));
    // Status line and perfdata as `check` prints them; long output after a `\n` (nsca escapes
    // line breaks in the command file).
    let (status, rest) = output.split_once(" | ").expect("perfdata");
    assert_eq!(
        status,
        "SHAKEDOWN CRITICAL - 1 of 2 scenarios failed: Greeting [localhost]"
    );
    let (perf, long) = rest.split_once("\\n").expect("long output");
    let perf = parse_perfdata(perf).expect("valid perfdata");
    let value = |label: &str| perf.iter().find(|p| p.label == label).map(|p| p.value);
    assert_eq!(
        (value("scenarios"), value("passed"), value("failed")),
        (Some(2.0), Some(1.0), Some(1.0))
    );
    assert_eq!(
        long,
        "CRITICAL localhost: Greeting: \"hello\", expected output of `echo hello` containing \"bye\" \
         (features/web.feature:4: Then the output should contain \"bye\")"
    );
}

#[test]
fn passive_results_reach_the_command_file_in_clear() {
    let nsca = Nsca::start(None);
    check_results(&nsca, &[("SHAKEDOWN_NSCA_PASSWORD", "")]);
}

#[test]
fn passive_results_reach_the_command_file_xor_encrypted() {
    let nsca = Nsca::start(Some(CANARY));
    check_results(&nsca, &[("SHAKEDOWN_NSCA_PASSWORD", CANARY)]);
    // With the wrong password the daemon cannot decrypt the packet (CRC mismatch) and
    // drops it: nothing more reaches the command file.
    let dir = suite(&[("f.feature", DB)]);
    let target = nsca.target();
    let run = shakedown_in(
        dir.path(),
        &["run", "f.feature", "--nsca", &target],
        &[("SHAKEDOWN_NSCA_PASSWORD", "wrong")],
    );
    run.assert_exit(0);
    // A packet the daemon accepted would be written before a second connection is served:
    // send a good one after the bad one and see only the good one arrive.
    let run = shakedown_in(
        dir.path(),
        &["run", "f.feature", "--nsca", &target],
        &[("SHAKEDOWN_NSCA_PASSWORD", CANARY)],
    );
    run.assert_exit(0);
    let lines = nsca.wait_lines(3);
    assert_eq!(lines.len(), 3, "the badly encrypted packet was dropped: {lines:#?}");
}

#[test]
fn a_dead_daemon_makes_a_green_run_exit_2_and_a_failed_run_stays_1() {
    let target = format!("127.0.0.1:{}", closed_port());
    let green = suite(&[("f.feature", DB)]);
    let run = shakedown_in(
        green.path(),
        &["run", "f.feature", "--format", "quiet", "--nsca", &target],
        &[("SHAKEDOWN_NSCA_PASSWORD", CANARY)],
    );
    run.assert_exit(2);
    assert_eq!(run.stdout, "", "the run itself passed: quiet prints nothing");
    assert!(
        run.stderr.starts_with(&format!("error: NSCA {target}: ")),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("Connection refused") && run.stderr.contains("1 result not sent"),
        "{}",
        run.stderr
    );
    assert!(!run.all().contains(CANARY));
    let red = suite(&[("f.feature", WEB)]);
    let run = shakedown_in(
        red.path(),
        &["run", "f.feature", "--format", "quiet", "--nsca", &target],
        &[],
    );
    run.assert_exit(1).assert_contains("FAILED: Greeting [localhost]");
    assert!(
        run.stderr.contains(&format!("error: NSCA {target}: ")),
        "{}",
        run.stderr
    );
    // `check`: the delivery problem is plugin output and turns OK into UNKNOWN.
    let run = shakedown_in(green.path(), &["check", "f.feature", "--nsca", &target], &[]);
    run.assert_exit(3)
        .assert_contains("SHAKEDOWN UNKNOWN - 1 scenario passed")
        .assert_contains(&format!("UNKNOWN NSCA {target}: "));
}

#[test]
fn check_sends_the_same_results_as_it_prints() {
    let nsca = Nsca::start(None);
    let dir = suite(&[("f.feature", WEB)]);
    let target = nsca.target();
    let run = shakedown_in(dir.path(), &["check", "f.feature", "--nsca", &target], &[]);
    run.assert_exit(2);
    let lines = nsca.wait_lines(1);
    let (_, service, state, output) = parse_result(&lines[0]);
    assert_eq!((service.as_str(), state), ("Web tier", 2));
    let first = run.stdout.lines().next().expect("status line");
    let (status, _) = first.split_once(" | ").expect("perfdata");
    assert!(output.starts_with(status), "{output}\nvs\n{first}");
}

#[test]
fn bad_nsca_targets_are_refused_at_startup() {
    let dir = suite(&[("f.feature", DB)]);
    for (target, message) in [
        ("nagios", "is not HOST:PORT"),
        ("nagios:0", "is not a port number"),
        (":5667", "names no host"),
    ] {
        let run = shakedown_in(dir.path(), &["run", "f.feature", "--nsca", target], &[]);
        run.assert_exit(2).assert_contains(message);
    }
}
