//! The operations paths against the lab: nginx answering 500 on web2 makes the cron mail
//! name web2 (and only web2) with expected/found, and the NSCA passive results CRITICAL for
//! web2 and OK for web1, through the real SMTP server and nsca daemon.

use super::util::{Repair, lab, suite};

use crate::servers::{Nsca, SmtpSink, parse_result};

const WEB: &str = "@hosts:web\nFeature: Web servers\n  Scenario: Homepage\n    When I request \"http://{address}/\"\n    Then the response status should be 200\n";

#[test]
fn a_fault_on_web2_is_mailed_and_sent_as_a_critical_passive_result_for_web2_only() {
    let Some(lab) = lab() else { return };
    let sink = SmtpSink::start();
    let nsca = Nsca::start(None);
    let dir = suite(&[("web.feature", WEB)]);
    let (url, target) = (sink.url(), nsca.target());
    let args = [
        "run",
        "web.feature",
        "--format",
        "quiet",
        "--mail-to",
        "ops@example.com",
        "--smtp",
        &url,
        "--nsca",
        &target,
    ];
    // Healthy: no mail, both results OK.
    let run = lab.shakedown_in(dir.path(), &args);
    run.assert_exit(0);
    assert_eq!(run.all(), "");
    let ok = nsca.wait_lines(2);
    let states: Vec<_> = ok.iter().map(|l| parse_result(l)).map(|(h, _, s, _)| (h, s)).collect();
    assert!(
        states.contains(&("web1".into(), 0)) && states.contains(&("web2".into(), 0)),
        "{ok:#?}"
    );
    assert!(sink.messages().is_empty(), "no mail after a green run");

    let _fault = Repair::inject(&lab, "web2", "touch /var/www/FAIL", "rm -f /var/www/FAIL");
    let run = lab.shakedown_in(dir.path(), &args);
    run.assert_exit(1);
    assert_eq!(run.stderr, "");
    let mails = sink.wait_for(1);
    assert_eq!(mails[0]["subject"], "shakedown: 1 of 2 scenarios failed on web2");
    let body = mails[0]["body"].as_str().expect("body").replace("\r\n", "\n");
    for part in [
        "FAILED: Homepage [web2]",
        "host: web2",
        "expected: ",
        "found:    ",
        "500",
    ] {
        assert!(body.contains(part), "{part:?} in the mail:\n{body}");
    }
    assert!(!body.contains("[web1]"), "web1 passed:\n{body}");
    let lines = nsca.wait_lines(4);
    let after: Vec<_> = lines[2..].iter().map(|l| parse_result(l)).collect();
    let web2 = after.iter().find(|r| r.0 == "web2").expect("a web2 result");
    let web1 = after.iter().find(|r| r.0 == "web1").expect("a web1 result");
    assert_eq!((web2.1.as_str(), web2.2), ("Web servers", 2), "{web2:?}");
    assert!(web2.3.contains("CRITICAL web2: Homepage: "), "{web2:?}");
    assert_eq!((web1.1.as_str(), web1.2), ("Web servers", 0), "{web1:?}");
}
