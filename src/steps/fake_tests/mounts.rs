//! The mount steps (system/mounts.rs) on a fake host with the lab's captured mount table.

use super::*;

fn web1() -> Fake {
    Fake::new()
        .on_cmd(
            &crate::facts::mount::mounts_command(),
            ok(fixture("lab/mountinfo-web1.txt")),
        )
        .on_cmd(&crate::facts::mount::fstab_command(), ok(fixture("lab/fstab.txt")))
}

#[tokio::test]
async fn a_mount_point_passes_and_a_missing_one_fails() {
    let fleet = Fleet::one(web1());
    assert!(fleet.check(r#"Then "/etc" should be mounted"#).await.passed);
    assert!(
        fleet
            .check(r#"Then "/etc" should be mounted with type "overlay""#)
            .await
            .passed
    );
    let o = fleet.check(r#"Then "/ebs1" should be mounted"#).await;
    failed(&o, "/ebs1 mounted", "not mounted: /ebs1 is on / (ext4 /dev/vda)");
    let o = fleet.check(r#"Then "/etc" should be mounted with type "ext4""#).await;
    failed(&o, "/etc mounted with type ext4", "mounted with type overlay");
}
