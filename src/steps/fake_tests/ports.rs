//! The listening-port steps (system/accounts.rs) on a fake host with the lab's captured `ss`.

use super::*;

fn web1() -> Fake {
    Fake::new().on_cmd(&crate::facts::ports::command(), ok(fixture("lab/ss-ltn-web1.txt")))
}

#[tokio::test]
async fn a_listening_port_passes_and_a_closed_one_fails() {
    let fleet = Fleet::one(web1());
    assert!(fleet.check("Then port 80 should be listening").await.passed);
    assert!(fleet.check("Then port 3306 should not be listening").await.passed);
    let o = fleet.check("Then port 3306 should be listening").await;
    failed(
        &o,
        "TCP port 3306 listening",
        "nothing listens on 3306 (listening: 22, 80, 443, 8081)",
    );
    let o = fleet.check("Then port 443 should not be listening").await;
    failed(&o, "TCP port 443 not listening", "listening on 0.0.0.0:443");
}
