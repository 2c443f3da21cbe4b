//! The command steps (command.rs): `When I run`, then its exit status and output.

use super::*;

fn host() -> Fake {
    Fake::new()
        .reply(
            "sh -c uptime",
            0,
            " 10:00:00 up 3 days,  load average: 0.10, 0.20, 0.30\n",
        )
        .on("sh -c 'systemctl is-system-running'", Fake::output(1, "degraded\n", ""))
}

#[tokio::test]
async fn a_command_that_succeeds_passes_and_its_status_and_output_are_checked() {
    let fleet = Fleet::one(host());
    let out = fleet
        .run_on(
            Some("web1"),
            &[
                r#"When I run "uptime""#,
                "Then the command should succeed",
                r#"Then the output should contain "load average""#,
                "Then the exit status should be 3",
                r#"Then the output should not contain "load average""#,
            ],
        )
        .await
        .expect("every step checks");
    assert!(out[0].passed && out[1].passed && out[2].passed);
    failed(
        &out[3],
        "`uptime` to exit 3",
        r#"exit status 0, output " 10:00:00 up 3 days,  load average: 0.10, 0.20, 0.30""#,
    );
    failed(
        &out[4],
        r#"output of `uptime` not containing "load average""#,
        r#"" 10:00:00 up 3 days,  load average: 0.10, 0.20, 0.30""#,
    );
}

#[tokio::test]
async fn a_command_that_fails_fails_the_succeed_step_with_its_status() {
    let fleet = Fleet::one(host());
    let out = fleet
        .run_on(
            Some("web1"),
            &[
                r#"When I run "systemctl is-system-running""#,
                "Then the command should succeed",
                "Then the exit status should be 1",
                "Then the command should fail",
            ],
        )
        .await
        .expect("every step checks");
    failed(
        &out[1],
        "`systemctl is-system-running` to exit 0",
        r#"exit status 1, output "degraded""#,
    );
    assert!(out[2].passed && out[3].passed);
}
