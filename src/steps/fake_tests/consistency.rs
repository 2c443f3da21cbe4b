//! The consistency steps (consistency.rs): one command's output compared across a group.

use super::*;

#[tokio::test]
async fn the_same_output_on_every_host_passes_and_a_different_one_fails() {
    let sum = |s: &str| Fake::new().reply("sh -c 'md5sum /etc/app.conf'", 0, format!("{s}  /etc/app.conf\n"));
    let fleet = Fleet::of(
        vec![("web1", sum("0123")), ("web2", sum("0123")), ("web3", sum("4567"))],
        &[("web", &["web1", "web2"]), ("all", &["web1", "web2", "web3"])],
    );
    let out = fleet
        .run_on(
            None,
            &[
                r#"Then the output of "md5sum /etc/app.conf" should be the same on all hosts in group "web""#,
                r#"Then the output of "md5sum /etc/app.conf" should be the same on all hosts in group "all""#,
            ],
        )
        .await
        .expect("both check");
    assert!(out[0].passed, "{:?}", out[0]);
    failed(
        &out[1],
        "output of `md5sum /etc/app.conf` the same on all hosts in group all",
        r#"web1, web2: "0123  /etc/app.conf"; web3: "4567  /etc/app.conf"; odd one out: web3"#,
    );
}
