//! The process steps (system/accounts.rs) on a fake host with the lab's captured `ps`.

use super::*;

fn web1() -> Fake {
    Fake::new().on_cmd(&crate::facts::process::command(), ok(fixture("lab/ps-web1.txt")))
}

#[tokio::test]
async fn a_running_process_passes_and_a_missing_one_fails_with_similar_names() {
    let fleet = Fleet::one(web1());
    assert!(
        fleet
            .check(r#"Then a process named "nginx" should be running"#)
            .await
            .passed
    );
    let o = fleet.check(r#"Then a process named "mysqld" should be running"#).await;
    failed(&o, "a process named mysqld", "no process named mysqld");
    let o = fleet
        .check(r#"Then at least 4 processes named "nginx" should be running"#)
        .await;
    failed(
        &o,
        "at least 4 processes named nginx",
        "2 processes named nginx (pids 33 34)",
    );
    assert_eq!(fleet.fake("web1").ran().len(), 1);
}
