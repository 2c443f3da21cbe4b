//! The HTML report of a mixed lab run (10 hosts of `.lab/fleet.toml`: some pairs pass, web2
//! fails on a fault injected for the test, the db hosts fail alike, and hosts outside a
//! scenario's `@hosts:` are not applicable), checked in a real browser: headless Chromium
//! dumps the DOM (one cell per pair, every failed cell links to an anchor that exists) and
//! takes a screenshot kept as a CI artifact (`target/html-report/report.png`); the page
//! validates (vnu, else tidy). Chromium and the validator are required when
//! `SHAKEDOWN_LAB=required` (CI); each of their runs is bounded by a deadline, after which
//! its whole process group is killed, and the group is killed after a normal exit too, so
//! no chromium process outlives the test.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::util::{Repair, lab, root, suite};

/// Every host of `.lab/fleet.toml`, in the report's order (by name).
const FLEET: [&str; 10] = [
    "app1", "db1", "db2", "int1", "int2", "lb1", "sd1", "sd2", "web1", "web2",
];

const FEATURE: &str = r#"Feature: The fleet at a glance
  @hosts:web,lb,db,app,systemd,internal
  Scenario: The system answers
    Then the command "uname -s" should succeed

  @hosts:web
  Scenario: The application config is deployed
    Then the command "test -f /etc/app.conf" should succeed

  @hosts:db
  Scenario: The release marker is deployed
    Then the command "cat /etc/shakedown-release" should succeed

  @hosts:web,lb,app
  Scenario: The host knows its name
    Then the command "hostname" should succeed
"#;

/// Which hosts each scenario of [`FEATURE`] runs on, and which of them fail.
const EXPECTED: [(&[&str], &[&str]); 4] = [
    (&FLEET, &[]),
    (&["web1", "web2"], &["web2"]),
    (&["db1", "db2"], &["db1", "db2"]),
    (&["web1", "web2", "lb1", "app1"], &[]),
];

/// Whether a tool is required: in CI (`SHAKEDOWN_LAB=required`) a missing one fails.
fn required() -> bool {
    std::env::var("SHAKEDOWN_LAB").as_deref() == Ok("required")
}

fn on_path(program: &str) -> Option<PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| Path::new(d).join(program))
        .find(|p| p.is_file())
}

/// What a bounded run of a program gave.
struct Bounded {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` in its own process group with a deadline: on timeout the whole group is
/// killed (Chromium can hang, and forks helpers); after a normal exit any helper left in
/// the group is killed too.
fn bounded(mut cmd: Command, deadline: Duration) -> Bounded {
    use std::os::unix::process::CommandExt;
    let what = format!("{cmd:?}");
    let mut child = cmd
        .process_group(0)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{what}: {e}"));
    let group = child.id() as i32;
    let kill_group = || {
        // SAFETY: kill(2) on the process group this test created; ESRCH when it is gone.
        unsafe { libc::kill(-group, libc::SIGKILL) };
    };
    let mut out = child.stdout.take().expect("stdout");
    let mut err = child.stderr.take().expect("stderr");
    let reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = out.read_to_string(&mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = String::new();
        let _ = err.read_to_string(&mut s);
        s
    });
    let start = Instant::now();
    let status = loop {
        match child.try_wait().expect("wait") {
            Some(status) => break Some(status),
            None if start.elapsed() > deadline => {
                kill_group();
                let _ = child.wait();
                break None;
            }
            None => std::thread::sleep(Duration::from_millis(50)),
        }
    };
    kill_group();
    let stdout = reader.join().unwrap_or_default();
    let stderr = err_reader.join().unwrap_or_default();
    assert!(
        status.is_some(),
        "{what} still running after {deadline:?}: killed\n{stderr}"
    );
    Bounded {
        code: status.and_then(|s| s.code()),
        stdout,
        stderr,
    }
}

/// Headless Chromium on `page` with `args` (as root it needs --no-sandbox), a throwaway
/// profile, bounded.
fn chromium(chromium: &Path, page: &Path, args: &[&str]) -> Bounded {
    let profile = tempfile::tempdir().expect("profile dir");
    let mut cmd = Command::new(chromium);
    cmd.args(["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run"])
        .arg(format!("--user-data-dir={}", profile.path().display()))
        .args(args)
        .arg(format!("file://{}", page.display()));
    bounded(cmd, Duration::from_secs(60))
}

/// The matrix rows of a page (or a DOM dump): (host, cells), each cell its whole
/// `<td ...>...</td>` text.
fn matrix(dom: &str) -> Vec<(String, Vec<String>)> {
    let body = dom
        .split("<tbody>")
        .nth(1)
        .and_then(|b| b.split("</tbody>").next())
        .unwrap_or_else(|| panic!("no matrix in:\n{dom}"));
    let row = regex::Regex::new(r#"(?s)<tr><th scope="row">([^<]*)</th>(.*?)</tr>"#).expect("regex");
    let cell = regex::Regex::new(r"(?s)<td[^>]*>.*?</td>").expect("regex");
    row.captures_iter(body)
        .map(|c| {
            let cells = cell.find_iter(&c[2]).map(|m| m.as_str().to_string()).collect();
            (c[1].to_string(), cells)
        })
        .collect()
}

/// Checks the matrix of `dom` against [`EXPECTED`]: one row per host of the fleet, one
/// cell per scenario, each cell's state; every failed cell links to an anchor of `dom`.
fn check_matrix(dom: &str) {
    let rows = matrix(dom);
    let hosts: Vec<&str> = rows.iter().map(|(h, _)| h.as_str()).collect();
    assert_eq!(hosts, FLEET, "a row per host");
    let anchor = regex::Regex::new(r##"<a href="#([^"]+)">"##).expect("regex");
    let mut links = 0;
    for (host, cells) in &rows {
        assert_eq!(cells.len(), EXPECTED.len(), "a cell per scenario on {host}: {cells:?}");
        for (cell, (runs_on, fails_on)) in cells.iter().zip(EXPECTED) {
            let class = if !runs_on.contains(&host.as_str()) {
                "n"
            } else if fails_on.contains(&host.as_str()) {
                "f"
            } else {
                "p"
            };
            assert!(
                cell.starts_with(&format!("<td class=\"{class}\"")),
                "{host}: {class}: {cell}"
            );
            if class == "f" {
                let id = &anchor.captures(cell).unwrap_or_else(|| panic!("no link in {cell}"))[1];
                assert!(dom.contains(&format!(" id=\"{id}\"")), "{host}: #{id} has no target");
                links += 1;
            } else {
                assert!(!cell.contains("<a "), "{host}: a link in a {class} cell: {cell}");
            }
        }
    }
    assert_eq!(links, 3, "web2, db1 and db2 failed");
}

/// Validates `page`: vnu (`VNU_JAR`, or the npm package vnu-jar that ci/install-deps.sh
/// installs) when there is one, else tidy: `Some((validator, valid, messages))`, `None`
/// when neither is installed.
fn validate(page: &Path) -> Option<(&'static str, bool, String)> {
    let jar = std::env::var_os("VNU_JAR")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("/opt/vnu/node_modules/vnu-jar/build/dist/vnu.jar"));
    let (name, mut cmd) = if jar.is_file() && on_path("java").is_some() {
        let mut cmd = Command::new("java");
        cmd.arg("-jar").arg(&jar).arg("--errors-only");
        ("vnu", cmd)
    } else {
        let mut cmd = Command::new(on_path("tidy")?);
        cmd.args(["-q", "-e"]);
        ("tidy", cmd)
    };
    cmd.arg(page);
    let v = bounded(cmd, Duration::from_secs(120));
    Some((name, v.code == Some(0), format!("{}{}", v.stdout, v.stderr)))
}

/// `page` validates, and the same page broken does not (the validator is not vacuous).
fn assert_valid(page: &Path) {
    let Some((name, valid, messages)) = validate(page) else {
        assert!(!required(), "no HTML validator (vnu or tidy): run ci/install-deps.sh");
        eprintln!("skipped validation: no vnu nor tidy");
        return;
    };
    assert!(valid, "{name}: {}: {messages}", page.display());
    eprintln!("{name}: {} is valid HTML", page.display());
    let broken = page.with_extension("broken.html");
    let text = std::fs::read_to_string(page).expect("page");
    std::fs::write(&broken, text.replacen("<tbody>", "<tbody><p>not a row</p>", 1)).expect("write");
    let (_, valid, _) = validate(&broken).expect("validator");
    assert!(!valid, "{name} accepts a <p> in a <tbody>");
}

#[test]
fn the_html_report_of_a_mixed_lab_run_renders_in_chromium() {
    let Some(lab) = lab() else { return };
    let inv = lab.fleet_inventory();
    let inv = inv.to_str().expect("utf-8 path");
    let dir = suite(&[("fleet.feature", FEATURE)]);
    let (run, check) = {
        let _fault = Repair::inject(
            &lab,
            "web2",
            "mv /etc/app.conf /etc/app.conf.html-test",
            "mv /etc/app.conf.html-test /etc/app.conf",
        );
        let args = [
            "run",
            "-i",
            inv,
            "fleet.feature",
            "--format",
            "quiet",
            "--html",
            "report/",
        ];
        let run = lab.shakedown_as_fleet_in(dir.path(), &args);
        let check = lab.shakedown_as_fleet_in(dir.path(), &["check", "-i", inv, "fleet.feature", "--html", "one.html"]);
        (run, check)
    };
    // The lab is not needed past this point: other lab tests may go on while the pages
    // are checked.
    let secrets = [lab.become_password(), lab.mysql_password()];
    drop(lab);
    run.assert_exit(1);
    check.assert_exit(2);
    let index = dir.path().join("report/index.html");
    let one = dir.path().join("one.html");
    let page = std::fs::read_to_string(&index).expect("report/index.html");
    assert!(page.contains("<link rel=\"stylesheet\" href=\"shakedown.css\">"));
    assert!(dir.path().join("report/shakedown.css").is_file());
    assert!(
        page.contains("18 scenarios (15 passed, 3 failed) on 10 hosts in "),
        "{}",
        run.all()
    );
    check_matrix(&page);
    check_matrix(&std::fs::read_to_string(&one).expect("one.html"));
    assert!(page.contains("<code>shakedown run -i ",));
    // db1 and db2 fail alike: said once, with a link to each; web2 on its own.
    assert!(
        page.contains(
            "<li><b>db1, db2 (2 hosts)</b>: The release marker is deployed: Then the command \
             &quot;cat /etc/shakedown-release&quot; should succeed (fleet.feature:12): expected "
        ) && page.contains("<br>details: <a href=\"#f-2-3\">db1</a>, <a href=\"#f-3-3\">db2</a></li>"),
        "{page}"
    );
    assert!(page.contains("<li><b><a href=\"#f-10-2\">web2</a></b>: The application config is deployed: "));
    for secret in &secrets {
        assert!(!page.contains(secret.as_str()), "a secret in the page");
    }
    assert_valid(&index);
    assert_valid(&one);

    // Kept as CI artifacts.
    let out = root().join("target/html-report");
    std::fs::create_dir_all(&out).expect("target/html-report");
    std::fs::copy(&index, out.join("index.html")).expect("copy");
    std::fs::copy(dir.path().join("report/shakedown.css"), out.join("shakedown.css")).expect("copy");
    let Some(browser) = on_path("chromium") else {
        assert!(!required(), "chromium is not installed: run ci/install-deps.sh");
        eprintln!("skipped the browser: no chromium");
        return;
    };
    let dom = chromium(&browser, &out.join("index.html"), &["--dump-dom"]);
    assert_eq!(dom.code, Some(0), "chromium --dump-dom: {}", dom.stderr);
    check_matrix(&dom.stdout);
    assert!(!dom.stdout.contains("<script"), "no script in the rendered page");

    let png = out.join("report.png");
    let _ = std::fs::remove_file(&png);
    let shot = chromium(
        &browser,
        &out.join("index.html"),
        &[
            &format!("--screenshot={}", png.display()),
            "--window-size=1100,1000",
            "--hide-scrollbars",
        ],
    );
    assert_eq!(shot.code, Some(0), "chromium --screenshot: {}", shot.stderr);
    let bytes = std::fs::read(&png).expect("the screenshot");
    assert!(bytes.starts_with(b"\x89PNG\r\n\x1a\n"), "not a PNG");
    let (width, height) = (
        u32::from_be_bytes(bytes[16..20].try_into().expect("width")),
        u32::from_be_bytes(bytes[20..24].try_into().expect("height")),
    );
    assert_eq!((width, height), (1100, 1000), "the screenshot's size");
    eprintln!("screenshot: {} ({} bytes)", png.display(), bytes.len());
}
