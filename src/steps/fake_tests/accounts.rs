//! The user and group steps (system/accounts.rs) on a fake host: `getent`.

use super::*;

fn host() -> Fake {
    Fake::new()
        .reply(
            "getent passwd deploy",
            0,
            "deploy:x:1001:1001::/home/deploy:/bin/bash\n",
        )
        .reply("getent passwd ghost", 2, "")
        .reply("getent group www-data", 0, "www-data:x:33:\n")
        .reply("getent group ghosts", 2, "")
}

#[tokio::test]
async fn a_user_and_a_group_that_exist_pass_and_missing_ones_fail() {
    let fleet = Fleet::one(host());
    assert!(fleet.check(r#"Then the user "deploy" should exist"#).await.passed);
    let o = fleet.check(r#"Then the user "ghost" should exist"#).await;
    failed(&o, "user ghost", "no user ghost (getent passwd)");
    assert!(fleet.check(r#"Then the group "www-data" should exist"#).await.passed);
    let o = fleet.check(r#"Then the group "ghosts" should exist"#).await;
    failed(&o, "group ghosts", "no group ghosts (getent group)");
}
