//! The service steps (system/services.rs) on a fake RHEL 9 host (systemd, booted).

use super::*;

fn rhel9() -> Fake {
    Fake::new()
        .on(platform_cmd(), ok(fixture("rhel9/platform.txt")))
        .reply("systemctl is-active -- nginx", 0, "active\n")
        .on("systemctl is-active -- php-fpm", Fake::output(3, "failed\n", ""))
        .reply("systemctl is-enabled -- nginx", 0, "enabled\n")
        .on("systemctl is-enabled -- httpd", Fake::output(1, "disabled\n", ""))
}

#[tokio::test]
async fn a_service_running_passes_and_a_failed_one_fails_with_its_state() {
    let fleet = Fleet::one(rhel9());
    assert!(
        fleet
            .check(r#"Then the service "nginx" should be running"#)
            .await
            .passed
    );
    let o = fleet.check(r#"Then the service "php-fpm" should be running"#).await;
    failed(&o, "service php-fpm running", "not running (systemd: failed)");
    assert!(fleet.fake("web1").unexpected().is_empty());
}

#[tokio::test]
async fn a_service_enabled_passes_and_a_disabled_one_fails() {
    let fleet = Fleet::one(rhel9());
    assert!(
        fleet
            .check(r#"Then the service "nginx" should be enabled at boot"#)
            .await
            .passed
    );
    let o = fleet
        .check(r#"Then the service "httpd" should be enabled at boot"#)
        .await;
    failed(
        &o,
        "service httpd enabled at boot",
        "disabled at boot (systemd: disabled)",
    );
    assert!(fleet.fake("web1").unexpected().is_empty());
}
