//! `--until-pass` in the reports (issue 21, point 1), from hand-built results (no clock, no
//! hosts): a pair that passed at its fourth attempt says `converged after 14.2s, 4
//! attempts` on its console line, in the `Converged:` list and in JUnit's system-out; one
//! that never passed says `did not converge in 30.1s, 2 attempts` with every earlier
//! attempt's failure kept in JUnit; the last attempt's measured values are the ones that
//! feed perfdata and JUnit. Without the option none of it appears.

use std::sync::Arc;
use std::time::Duration;

use shakedown::event::{Attempt, RunSummary, UnitResult};
use shakedown::report::console::{Console, failure_report};
use shakedown::report::{junit, nagios};
use shakedown::steps::{Outcome, StepResult};

use super::events::{failing_run, ms};

/// The failing run as `--until-pass` reports it: web1's "Homepage is fast" passed at its
/// fourth attempt (14.2 s after the first started), web2's never did (30.1 s, 2 attempts).
fn converging_run() -> RunSummary {
    let (_, summary) = failing_run();
    let refused = || Attempt {
        steps: vec![(
            StepResult::Failed(Outcome::fail("status 200", "no response: connection refused")),
            ms(2),
        )],
    };
    let results = summary
        .results
        .iter()
        .map(|r| {
            let mut r = UnitResult::clone(r);
            match (r.unit.scenario.name.as_str(), r.unit.host.as_deref()) {
                ("Homepage is fast", Some("web1")) => {
                    r.attempts = 4;
                    r.earlier = vec![refused(), refused(), refused()];
                    r.converging = Some(Duration::from_millis(14_200));
                }
                ("Homepage is fast", Some("web2")) => r.converging = Some(Duration::from_millis(30_100)),
                _ => r.converging = Some(r.duration),
            }
            Arc::new(r)
        })
        .collect();
    RunSummary { results, ..summary }
}

fn meta() -> junit::Meta {
    junit::Meta {
        started: junit_report::OffsetDateTime::UNIX_EPOCH,
        hostname: "ci-runner".into(),
    }
}

#[test]
fn the_console_says_how_long_a_pair_took_to_converge_or_that_it_did_not() {
    let summary = converging_run();
    let text = |i: usize| Console::unit_text(&summary.results[i], false);
    assert!(
        text(0).starts_with("✓ Homepage is fast [web1] 0.04s (converged after 14.2s, 4 attempts)\n"),
        "{}",
        text(0)
    );
    assert!(
        text(1).contains("    host: web2\n    did not converge in 30.1s, 2 attempts\n"),
        "{}",
        text(1)
    );
    assert!(!text(1).contains("attempts: 2"), "{}", text(1));
    // Pairs that passed at once say nothing more.
    assert!(!text(3).contains("converge"), "{}", text(3));
    let report = failure_report(&summary);
    assert!(
        report.contains(
            "\nConverged:\n  web1 features/web.feature:5 Homepage is fast: converged after 14.2s, 4 attempts\n"
        ),
        "{report}"
    );
    assert_eq!(report.matches("converged after").count(), 1, "{report}");
}

#[test]
fn junit_keeps_the_convergence_time_and_every_attempt_and_the_last_measured_values() {
    let summary = converging_run();
    let xml = junit::render(&summary, &meta());
    assert!(
        xml.contains("host: web1\nconverged after 14.2s, 4 attempts (--until-pass)\nattempts: 4 (this report shows the last)\n  attempt 1 failed: "),
        "{xml}"
    );
    assert_eq!(
        xml.matches("failed: When I request").count() + xml.matches("failed: Then").count(),
        4,
        "{xml}"
    );
    assert!(
        xml.contains("host: web2\ndid not converge in 30.1s, 2 attempts (--until-pass)\nattempts: 2 (this report shows the last)\n  attempt 1 failed: Then the response time should be under 500 ms (features/web.feature:7): expected under 500 ms, found response time 950 ms"),
        "{xml}"
    );
    // The last attempt's values: 812 ms measured, not the first attempt's 950 ms.
    assert!(xml.contains("home time = 812 ms"), "{xml}");
    assert!(!xml.contains("home time = 950 ms"), "{xml}");
    let (_, nagios) = nagios::output(&summary, Some(Duration::from_secs(50)), &[]);
    assert!(nagios.contains("'web2 Homepage is fast: home time'=812ms;"), "{nagios}");
    assert!(!nagios.contains("=950ms"), "{nagios}");
}

#[test]
fn without_until_pass_no_report_speaks_of_convergence() {
    let (_, summary) = failing_run();
    let xml = junit::render(&summary, &meta());
    assert!(!xml.contains("converge"), "{xml}");
    let report = failure_report(&summary);
    assert!(!report.contains("onverge"), "{report}");
}
