//! The suite `shakedown init` writes is real: with the lab's inventory (same group names
//! as the example inventory: web, lb, db, replicas) every example scenario passes, and
//! with web2's document root moved away the two scenarios that see it fail, on web2 only.

use crate::util::{Repair, lab};

#[test]
fn the_init_suite_passes_on_the_lab_and_fails_where_the_document_root_is_gone() {
    let Some(lab) = lab() else { return };
    let tmp = tempfile::tempdir().expect("temp dir");
    crate::util::cli_util_shakedown_in(tmp.path(), &["init", "suite"]).assert_exit(0);
    let dir = tmp.path().join("suite");
    let run = lab.shakedown_in(&dir, &["run", "features", "--format", "pretty"]);
    run.assert_exit(0)
        .assert_contains("20 scenarios (20 passed) on 5 hosts");

    let _fault = Repair::inject(
        &lab,
        "web2",
        "mv /var/www/html /var/www/html.off",
        "mv /var/www/html.off /var/www/html",
    );
    let run = lab.shakedown_in(&dir, &["run", "features", "--format", "pretty"]);
    run.assert_exit(1)
        .assert_contains("FAILED: The document root is deployed [web2]")
        .assert_contains("20 scenarios (");
    assert!(
        !run.stdout.contains("FAILED: The document root is deployed [web1]"),
        "{}",
        run.stdout
    );
}
