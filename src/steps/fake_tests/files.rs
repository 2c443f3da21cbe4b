//! The file steps (system/files.rs) on a fake host: `stat` and `grep -F` as the steps send them.

use super::*;
use crate::facts::file::{contains_command, stat_command};

fn host() -> Fake {
    Fake::new()
        .on_cmd(
            &stat_command("/etc/app.conf"),
            ok("1700000000\n0|root|0|root|644|1699990000|120|regular file\n"),
        )
        .on_cmd(
            &stat_command("/etc/nologin"),
            Fake::output(
                1,
                "1700000000\n",
                "stat: cannot statx '/etc/nologin': No such file or directory\n",
            ),
        )
        .on_cmd(
            &contains_command("/etc/app.conf", "max_conn = 100"),
            Fake::output(0, "", ""),
        )
        .on_cmd(
            &contains_command("/etc/app.conf", "max_conn = 200"),
            Fake::output(1, "", ""),
        )
}

#[tokio::test]
async fn a_file_that_exists_passes_and_one_that_does_not_fails() {
    let fleet = Fleet::one(host());
    assert!(
        fleet
            .check(r#"Then the file "/etc/app.conf" should exist"#)
            .await
            .passed
    );
    let o = fleet.check(r#"Then the file "/etc/nologin" should exist"#).await;
    failed(&o, "file /etc/nologin to exist", "no such file: /etc/nologin");
    assert!(
        fleet
            .check(r#"Then the file "/etc/nologin" should not exist"#)
            .await
            .passed
    );
}

#[tokio::test]
async fn owner_mode_and_content_pass_and_fail_with_what_was_found() {
    let fleet = Fleet::one(host());
    assert!(
        fleet
            .check(r#"Then the file "/etc/app.conf" should be owned by "root""#)
            .await
            .passed
    );
    let o = fleet
        .check(r#"Then the file "/etc/app.conf" should be owned by "deploy""#)
        .await;
    failed(&o, "/etc/app.conf owned by deploy", "owned by root (uid 0)");
    assert!(
        fleet
            .check(r#"Then the file "/etc/app.conf" should have mode "0644""#)
            .await
            .passed
    );
    let o = fleet
        .check(r#"Then the file "/etc/app.conf" should have mode "0600""#)
        .await;
    failed(&o, "/etc/app.conf with mode 0600", "mode 0644");
    assert!(
        fleet
            .check(r#"Then the file "/etc/app.conf" should contain "max_conn = 100""#)
            .await
            .passed
    );
}

#[tokio::test]
async fn a_file_the_login_user_may_not_read_says_so_and_how_to_read_it() {
    let fake = Fake::new()
        .on_cmd(
            &contains_command("/etc/shadow", "root"),
            Fake::output(2, "", "grep: /etc/shadow: Permission denied\n"),
        )
        .on(
            "head -c 1048577 -- /etc/shadow",
            Fake::output(
                1,
                "",
                "head: cannot open '/etc/shadow' for reading: Permission denied\n",
            ),
        );
    let fleet = Fleet::one_as(fake, "deploy");
    let o = fleet
        .check(r#"Then the file "/etc/shadow" should contain "root""#)
        .await;
    failed(
        &o,
        "/etc/shadow containing \"root\"",
        "permission denied reading /etc/shadow as deploy (set become = true)",
    );
    let o = fleet.check(r#"Then the file "/etc/shadow" should match /root/"#).await;
    failed(
        &o,
        "/etc/shadow matching /root/",
        "permission denied reading /etc/shadow as deploy (set become = true)",
    );
}
