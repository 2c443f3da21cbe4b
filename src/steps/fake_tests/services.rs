//! The service steps (system/services.rs) on a fake RHEL 9 host (systemd, booted).

use super::*;

fn rhel9() -> Fake {
    Fake::new()
        .on(platform_cmd(), ok(fixture("rhel9/platform.txt")))
        .reply(
            "systemctl show --property=Id,LoadState,ActiveState,SubState,UnitFileState,TriggeredBy -- nginx",
            0,
            "Id=nginx.service\nTriggeredBy=\nLoadState=loaded\nActiveState=active\nSubState=running\nUnitFileState=enabled\n",
        )
        .reply(
            "systemctl show --property=Id,LoadState,ActiveState,SubState,UnitFileState,TriggeredBy -- php-fpm",
            0,
            "Id=php-fpm.service\nTriggeredBy=\nLoadState=loaded\nActiveState=failed\nSubState=failed\nUnitFileState=enabled\n",
        )
        .reply(
            "systemctl show --property=Id,LoadState,ActiveState,SubState,UnitFileState,TriggeredBy -- php-fmp",
            0,
            "Id=php-fmp.service\nTriggeredBy=\nLoadState=not-found\nActiveState=inactive\nSubState=dead\nUnitFileState=\n",
        )
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
    failed(
        &o,
        "service php-fpm running",
        "not running (systemd: php-fpm.service failed (failed), enabled)",
    );
    let o = fleet.check(r#"Then the service "php-fmp" should be running"#).await;
    failed(
        &o,
        "service php-fmp running",
        "no such unit (systemd: no unit php-fmp.service)",
    );
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
