//! The package steps (system/packages.rs) on a fake Debian 12 host.

use super::*;

fn debian12() -> Fake {
    let list = crate::facts::PackageManager::Dpkg.list_command();
    Fake::new()
        .on(platform_cmd(), ok(fixture("debian12/platform.txt")))
        .on_cmd(&list, ok(fixture("debian12/dpkg-query.txt")))
}

#[tokio::test]
async fn an_installed_package_passes_and_a_missing_one_fails() {
    let fleet = Fleet::one(debian12());
    assert!(
        fleet
            .check(r#"Then the package "bash" should be installed"#)
            .await
            .passed
    );
    let o = fleet
        .check(r#"Then the package "nginx-light" should be installed"#)
        .await;
    failed(
        &o,
        "package nginx-light installed",
        "not installed (dpkg has no package nginx-light)",
    );
    let o = fleet.check(r#"Then the package "bash" should not be installed"#).await;
    failed(
        &o,
        "package bash not installed",
        "installed, version 5.2.15-2+b8 (dpkg)",
    );
    // The platform and the package list were each read once, for all three steps.
    assert_eq!(fleet.fake("web1").ran().len(), 2, "{:?}", fleet.fake("web1").ran());
}
