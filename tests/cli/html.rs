//! `--html`: the HTML report written by `run` and `check` on this machine, as one file or as
//! a directory (page and stylesheet); a path that cannot be written is bad input, before any
//! host is contacted.

use crate::util::{shakedown_in, suite};

const MIXED: &str = "\
Feature: Mixed
  Scenario: Passes
    When I run \"true\"
    Then the exit status should be 0
  Scenario: Fails <here> & \"there\"
    When I run \"echo found-it\"
    Then the exit status should be 1
";

/// The `<td` cells of the page's matrix.
fn cells(page: &str) -> Vec<&str> {
    let body = page
        .split("<tbody>")
        .nth(1)
        .and_then(|b| b.split("</tbody>").next())
        .expect("a matrix");
    body.split("<td").skip(1).collect()
}

#[test]
fn run_and_check_write_the_html_report() {
    let dir = suite(&[("f.feature", MIXED)]);
    let run = shakedown_in(
        dir.path(),
        &["run", "f.feature", "--format", "quiet", "--html", "r.html"],
        &[],
    );
    run.assert_exit(1);
    let page = std::fs::read_to_string(dir.path().join("r.html")).expect("--html FILE written");
    assert!(
        page.starts_with("<!DOCTYPE html>") && page.contains("<style>"),
        "{page}"
    );
    let cells = cells(&page);
    assert_eq!(cells.len(), 2, "a cell per pair: {cells:?}");
    assert!(
        cells[0].starts_with(" class=\"p\"") && cells[1].starts_with(" class=\"f\""),
        "{cells:?}"
    );
    assert!(cells[1].contains("<a href=\"#f-1-2\">✗</a>") && page.contains("id=\"f-1-2\""));
    assert!(page.contains("Fails &lt;here&gt; &amp; &quot;there&quot;"));
    assert!(page.contains("2 scenarios (1 passed, 1 failed) on 1 host in "));
    assert!(page.contains("<code>shakedown run f.feature --format quiet --html r.html</code>"));
    assert!(!page.contains("style=\"") && !page.contains("<script"));

    // A directory (given with a trailing slash, created): the page links its stylesheet.
    let run = shakedown_in(
        dir.path(),
        &["run", "f.feature", "--format", "quiet", "--html", "out/"],
        &[],
    );
    run.assert_exit(1);
    let index = std::fs::read_to_string(dir.path().join("out/index.html")).expect("DIR/index.html written");
    assert!(index.contains("<link rel=\"stylesheet\" href=\"shakedown.css\">") && !index.contains("<style"));
    let css = std::fs::read_to_string(dir.path().join("out/shakedown.css")).expect("DIR/shakedown.css written");
    assert!(css.contains("table.m"));

    // `check` writes it too, beside its plugin output.
    let check = shakedown_in(dir.path(), &["check", "f.feature", "--html", "out"], &[]);
    check.assert_exit(2);
    assert!(check.stdout.starts_with("SHAKEDOWN CRITICAL"), "{}", check.stdout);
    let index = std::fs::read_to_string(dir.path().join("out/index.html")).expect("rewritten");
    assert!(
        index.contains("<code>shakedown check f.feature --html out</code>"),
        "{index}"
    );
}

#[test]
fn an_unwritable_html_path_is_bad_input_and_nothing_runs() {
    let dir = suite(&[("f.feature", "Feature: F\n  Scenario: S\n    When I run \"touch ran\"\n")]);
    for path in ["no/such/dir/r.html", "no/such/dir/"] {
        let run = shakedown_in(dir.path(), &["run", "f.feature", "--html", path], &[]);
        run.assert_exit(2)
            .assert_contains("cannot write the HTML report to no/such/dir/");
        assert!(!dir.path().join("ran").exists(), "a host was contacted");
    }
    let run = shakedown_in(dir.path(), &["check", "f.feature", "--html", "no/such/dir/r.html"], &[]);
    run.assert_exit(3);
    assert!(
        run.stdout
            .starts_with("SHAKEDOWN UNKNOWN - cannot write the HTML report"),
        "{}",
        run.stdout
    );
    assert!(!dir.path().join("ran").exists(), "a host was contacted");
}
