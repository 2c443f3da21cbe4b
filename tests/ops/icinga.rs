//! `--icinga-api URL --icinga-ca FILE`: one passive result per host and feature through a
//! real Icinga 2 API (Debian icinga2-bin 2.13, started by the test with its own config and
//! a test CA), read back from `/v1/objects/services`; refused passwords, unknown services,
//! unverifiable certificates and a dead API reported on stderr (exit 2 after a green run);
//! the API password never printed.

use crate::servers::{CANARY, Icinga2, closed_port, wait_until};
use crate::util::{Run, shakedown_in, suite};

const SERVICE: &str = "Web tier";
/// web1 passes, web2 fails (its name is not in the output).
const WEB: &str = "@hosts:web1,web2\nFeature: Web tier\n  Scenario: Greeting\n    When I run \"echo web1\"\n    Then the output should contain \"{name}\"\n";
const INVENTORY: &str = "[hosts.web1]\ntransport = \"local\"\n[hosts.web2]\ntransport = \"local\"\n";

fn run(dir: &std::path::Path, extra: &[&str], password: &str) -> Run {
    let mut args = vec!["run", "-i", "inventory.toml", "web.feature", "--format", "quiet"];
    args.extend_from_slice(extra);
    shakedown_in(dir, &args, &[("SHAKEDOWN_ICINGA_PASSWORD", password)])
}

#[test]
fn passive_results_reach_icinga2_through_its_api() {
    let icinga = Icinga2::start(CANARY, &["web1", "web2"], SERVICE);
    let dir = suite(&[("web.feature", WEB), ("inventory.toml", INVENTORY)]);
    let (url, ca) = (icinga.url(), icinga.ca());
    let ca = ca.to_str().expect("utf-8 path");
    let r = run(dir.path(), &["--icinga-api", &url, "--icinga-ca", ca], CANARY);
    r.assert_exit(1).assert_contains("FAILED: Greeting [web2]");
    assert_eq!(r.stderr, "", "the API took every result");
    assert!(!r.all().contains(CANARY), "the password leaked:\n{}", r.all());
    let mut web2 = None;
    wait_until("both results in Icinga 2", std::time::Duration::from_secs(10), || {
        web2 = icinga.last_result("web2", SERVICE);
        web2.is_some() && icinga.last_result("web1", SERVICE).is_some()
    });
    let web2 = web2.expect("web2 result");
    assert_eq!(web2["state"], 2, "{web2}");
    assert_eq!(web2["active"], false, "a passive result: {web2}");
    let output = web2["output"].as_str().expect("output");
    assert_eq!(
        output,
        "SHAKEDOWN CRITICAL - 1 of 1 scenario failed: Greeting [web2]\nCRITICAL web2: Greeting: \"web1\", \
         expected output of `echo web1` containing \"web2\" (web.feature:5: Then the output should contain \"{name}\")"
    );
    let perf: Vec<&str> = web2["performance_data"]
        .as_array()
        .expect("perfdata")
        .iter()
        .filter_map(|p| p.as_str())
        .collect();
    assert_eq!(
        &perf[..4],
        ["scenarios=1", "passed=0", "failed=1", "skipped=0"],
        "{perf:?}"
    );
    let web1 = icinga.last_result("web1", SERVICE).expect("web1 result");
    assert_eq!(web1["state"], 0, "{web1}");
    assert!(
        web1["output"]
            .as_str()
            .unwrap_or_default()
            .starts_with("SHAKEDOWN OK - 1 scenario passed on 1 host"),
        "{web1}"
    );
}

#[test]
fn icinga_api_errors_are_reported_without_the_password() {
    let icinga = Icinga2::start(CANARY, &["web1"], SERVICE);
    let dir = suite(&[("web.feature", WEB), ("inventory.toml", INVENTORY)]);
    let (url, ca) = (icinga.url(), icinga.ca());
    let ca = ca.to_str().expect("utf-8 path");
    let green = ["--hosts", "web1", "--icinga-api", &url, "--icinga-ca", ca];
    // A wrong password: 401, and a green run exits 2.
    let r = run(dir.path(), &green, "wrong-password");
    r.assert_exit(2);
    assert!(
        r.stderr.contains(&format!(
            "error: Icinga API {url}: web1!Web tier not accepted: HTTP 401 Unauthorized"
        )),
        "{}",
        r.stderr
    );
    // A certificate the system roots do not know (no --icinga-ca): refused.
    let r = run(dir.path(), &["--hosts", "web1", "--icinga-api", &url], CANARY);
    r.assert_exit(2).assert_contains("certificate");
    assert!(!r.all().contains(CANARY), "the password leaked:\n{}", r.all());
    // A service Icinga does not know (web2 has no object): 404 with the API's words; the
    // run failed anyway, so it stays 1.
    let r = run(dir.path(), &["--icinga-api", &url, "--icinga-ca", ca], CANARY);
    r.assert_exit(1);
    assert!(
        r.stderr
            .contains("web2!Web tier not accepted: HTTP 404 Not Found: No objects found."),
        "{}",
        r.stderr
    );
    assert!(!r.all().contains(CANARY), "the password leaked:\n{}", r.all());
    // No API at all.
    let dead = format!("https://shakedown@localhost:{}", closed_port());
    let r = run(
        dir.path(),
        &["--hosts", "web1", "--icinga-api", &dead, "--icinga-ca", ca],
        CANARY,
    );
    r.assert_exit(2).assert_contains("cannot connect");
    assert!(!r.all().contains(CANARY), "the password leaked:\n{}", r.all());
}

#[test]
fn bad_icinga_options_are_refused_at_startup() {
    let dir = suite(&[("web.feature", WEB), ("inventory.toml", INVENTORY)]);
    let cases: &[(&[&str], &str, &str)] = &[
        (
            &["--icinga-api", "https://localhost:5665"],
            CANARY,
            "the URL names the API user",
        ),
        (&["--icinga-api", "http://u@localhost:5665"], CANARY, "https:// only"),
        (
            &["--icinga-api", "https://u@localhost:5665"],
            "",
            "set SHAKEDOWN_ICINGA_PASSWORD",
        ),
        (
            &[
                "--icinga-api",
                "https://u@localhost:5665",
                "--icinga-ca",
                "/nonexistent.pem",
            ],
            CANARY,
            "--icinga-ca: cannot read /nonexistent.pem",
        ),
        (
            &["--icinga-ca", "/etc/hostname"],
            CANARY,
            "--icinga-ca needs --icinga-api",
        ),
    ];
    for (opts, password, message) in cases {
        let r = run(dir.path(), opts, password);
        r.assert_exit(2).assert_contains(message);
        assert!(!r.all().contains(CANARY));
    }
    let inline = format!("https://u:{CANARY}@localhost:5665");
    let r = run(dir.path(), &["--icinga-api", &inline], "");
    r.assert_exit(2)
        .assert_contains("do not write the password into the URL");
    assert!(!r.all().contains(CANARY), "the password leaked:\n{}", r.all());
}
