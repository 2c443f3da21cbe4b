//! HAProxy's `show stat`: read from the host's admin socket over SSH (with whatever the
//! host has: socat, `nc -U`, or python3) or from the stats CSV URL, and parsed by header
//! names (the column order changes between HAProxy versions).

use std::time::Duration;

use crate::host::HostHandle;
use crate::transport::script;

/// The socket path used when the host has no `haproxy_socket` variable.
pub(crate) const DEFAULT_SOCKET: &str = "/run/haproxy/admin.sock";

/// One line of `show stat`: a frontend, a backend, or one server of a backend.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct StatRow {
    /// Proxy (frontend/backend) name.
    pub pxname: String,
    /// `FRONTEND`, `BACKEND`, or the server name.
    pub svname: String,
    /// `UP`, `DOWN`, `MAINT`, `UP 1/2`, `no check`, `OPEN`...
    pub status: String,
    /// Last health check result (`L7OK`, `L4CON`, `L7STS`...), empty when unknown.
    pub check_status: String,
    /// What the last check status means (`Layer7 wrong status`), when known.
    pub check_desc: String,
    /// What the last check got (`Internal Server Error`, `Connection refused`), when known.
    pub last_chk: String,
}

impl StatRow {
    /// A server line (not the FRONTEND/BACKEND aggregate).
    pub(crate) fn is_server(&self) -> bool {
        self.svname != "FRONTEND" && self.svname != "BACKEND"
    }

    /// HAProxy sends it traffic: `UP`, `UP n/m` (failing checks, not yet down) or
    /// `no check` (no health check configured).
    pub(crate) fn is_up(&self) -> bool {
        self.status == "UP" || self.status.starts_with("UP ") || self.status == "no check"
    }

    /// Administratively in maintenance (`MAINT`, `MAINT (via x/y)`, `MAINT (resolution)`).
    pub(crate) fn is_maint(&self) -> bool {
        self.status.starts_with("MAINT")
    }

    /// `web2 DOWN (L7STS: HTTP status check returned code <500>)`.
    pub(crate) fn describe(&self) -> String {
        let words: Vec<&str> = [self.check_desc.as_str(), self.last_chk.as_str()]
            .into_iter()
            .filter(|w| !w.is_empty())
            .collect();
        let check = match (self.check_status.as_str(), words.join(": ")) {
            ("", w) if w.is_empty() => String::new(),
            ("", w) => format!(" ({w})"),
            (s, w) if w.is_empty() => format!(" ({s})"),
            (s, w) => format!(" ({s} {w})"),
        };
        let check = if self.is_up() && !self.status.starts_with("UP ") {
            String::new()
        } else {
            check
        };
        format!("{} {}{check}", self.svname, self.status)
    }
}

/// Parses `show stat` CSV (`# pxname,svname,...` header, then one line per proxy/server).
pub(crate) fn parse_show_stat(csv: &str) -> Result<Vec<StatRow>, String> {
    let mut lines = csv.lines().filter(|l| !l.trim().is_empty());
    let header = lines.next().ok_or("empty answer")?;
    let names: Vec<&str> = header.trim_start_matches('#').trim().split(',').collect();
    let col = |name: &str| {
        names
            .iter()
            .position(|n| *n == name)
            .ok_or_else(|| format!("no \"{name}\" column in {}", header.trim()))
    };
    let (px, sv, st) = (col("pxname")?, col("svname")?, col("status")?);
    let (cs, desc, last) = (col("check_status").ok(), col("check_desc").ok(), col("last_chk").ok());
    let mut rows = Vec::new();
    for line in lines {
        let cells: Vec<&str> = line.split(',').collect();
        let cell = |i: Option<usize>| {
            i.and_then(|i| cells.get(i))
                .map(|c| c.trim().to_string())
                .unwrap_or_default()
        };
        if cells.len() <= st {
            return Err(format!("short line in show stat: {line:?}"));
        }
        rows.push(StatRow {
            pxname: cell(Some(px)),
            svname: cell(Some(sv)),
            status: cell(Some(st)),
            // "* L4CON": a check is in progress (its `last_chk` is empty until it ends).
            check_status: cell(cs).trim_start_matches('*').trim_start().to_string(),
            check_desc: cell(desc),
            last_chk: cell(last),
        });
    }
    Ok(rows)
}

/// The servers of `backend` (no aggregate lines), or an error naming the backends found.
pub(crate) fn servers<'a>(rows: &'a [StatRow], backend: &str) -> Result<Vec<&'a StatRow>, String> {
    let servers: Vec<&StatRow> = rows.iter().filter(|r| r.pxname == backend && r.is_server()).collect();
    if servers.is_empty() {
        let mut known: Vec<&str> = rows
            .iter()
            .filter(|r| r.svname == "BACKEND")
            .map(|r| r.pxname.as_str())
            .collect();
        known.dedup();
        return Err(format!(
            "no backend \"{backend}\" with servers (backends: {})",
            known.join(", ")
        ));
    }
    Ok(servers)
}

/// Every server of a backend with its status, for failure messages.
pub(crate) fn describe_all(servers: &[&StatRow]) -> String {
    servers.iter().map(|s| s.describe()).collect::<Vec<_>>().join("; ")
}

/// Reads `show stat` from the admin socket: socat if the host has it, else `nc -U`, else
/// python3. The script is a constant and the socket path its only argument ($1), so the
/// path is quoted like any argument. Its stderr first line names the tool used.
const READ_SOCKET: &str = r#"s=$1
if command -v socat >/dev/null 2>&1; then echo socat >&2; echo 'show stat' | socat -t 5 stdio "UNIX-CONNECT:$s"
elif command -v nc >/dev/null 2>&1 && nc -h 2>&1 | grep -q -e ' -U'; then echo 'nc -U' >&2; echo 'show stat' | nc -U "$s"
elif command -v python3 >/dev/null 2>&1; then echo python3 >&2; python3 -c 'import socket,sys
c=socket.socket(socket.AF_UNIX); c.connect(sys.argv[1]); c.sendall(b"show stat\n"); b=b""
while True:
    d=c.recv(65536)
    if not d: break
    b+=d
sys.stdout.write(b.decode("utf-8","replace"))' "$s"
else echo 'none of socat, nc -U, python3 on this host' >&2; exit 127; fi"#;

/// Where the stats came from, for messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Source(pub String);

/// Reads and parses `show stat` for the host: from `haproxy_stats_url` (fetched from the
/// controller) when the host has that variable, else from its socket (`haproxy_socket`,
/// default [`DEFAULT_SOCKET`]) over SSH.
pub(crate) async fn read_stats(host: &HostHandle, timeout: Duration) -> Result<(Vec<StatRow>, Source), String> {
    if let Some(url) = host.host.vars.get("haproxy_stats_url") {
        let url = crate::template::substitute(url, Some(&host.host)).map_err(|e| e.to_string())?;
        let req = super::http::Request {
            method: reqwest::Method::GET,
            url: url.clone(),
            headers: Vec::new(),
            body: None,
            via: None,
            timeout,
        };
        let resp = super::http::send(&req).await.map_err(|e| format!("stats CSV: {e}"))?;
        if resp.status != 200 {
            return Err(format!("stats CSV {url} answered {}", resp.status_line()));
        }
        let rows = parse_show_stat(&resp.text()).map_err(|e| format!("stats CSV {url}: {e}"))?;
        return Ok((rows, Source(format!("stats CSV {url}"))));
    }
    let socket = host
        .host
        .vars
        .get("haproxy_socket")
        .map(String::as_str)
        .unwrap_or(DEFAULT_SOCKET);
    let cmd = script(READ_SOCKET, &[socket]);
    let out = host.run(&cmd, timeout).await.map_err(|e| e.to_string())?;
    let stderr = out.stderr_text();
    let mut err_lines = stderr.lines();
    let tool = err_lines.next().unwrap_or("").trim().to_string();
    let source = Source(format!("{socket} on {} with {tool}", host.host.name));
    let stdout = out.stdout_text();
    if !out.success() || stdout.trim().is_empty() {
        let why: Vec<&str> = err_lines.collect();
        let why = if why.is_empty() {
            format!("{}, no output", crate::outcome::exit_status(out.status))
        } else {
            why.join(" ")
        };
        let hint = if out.status == Some(127) {
            " (or set the host variable haproxy_stats_url)"
        } else {
            ""
        };
        return Err(format!("cannot read show stat from {}: {}{hint}", source.0, why.trim()));
    }
    let rows = parse_show_stat(&stdout).map_err(|e| format!("{}: {e}", source.0))?;
    Ok((rows, source))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn columns_are_found_by_name() {
        let csv = "# svname,status,pxname,check_status\nweb1,UP,app,L7OK\nBACKEND,UP,app,\n";
        let rows = parse_show_stat(csv).unwrap();
        assert_eq!(rows[0].pxname, "app");
        assert_eq!(rows[0].svname, "web1");
        assert_eq!(rows[0].check_status, "L7OK");
        assert_eq!(servers(&rows, "app").unwrap().len(), 1);
        assert!(
            parse_show_stat("# pxname,status\n")
                .unwrap_err()
                .contains("no \"svname\" column")
        );
        assert!(parse_show_stat("").is_err());
    }

    #[test]
    fn a_check_in_progress_is_read_without_its_star() {
        let csv = "# pxname,svname,status,check_status,check_desc,last_chk\napp,web2,DOWN,* L4CON,Layer4 connection problem,\n";
        let rows = parse_show_stat(csv).unwrap();
        assert_eq!(rows[0].describe(), "web2 DOWN (L4CON Layer4 connection problem)");
    }

    #[test]
    fn statuses() {
        let row = |status: &str| StatRow {
            pxname: "app".into(),
            svname: "web1".into(),
            status: status.into(),
            check_status: "L4CON".into(),
            check_desc: "Layer4 connection problem".into(),
            last_chk: "Connection refused".into(),
        };
        assert!(row("UP").is_up() && row("UP 1/2").is_up() && row("no check").is_up());
        assert!(!row("DOWN").is_up() && !row("MAINT").is_up());
        assert!(row("MAINT (via app/web2)").is_maint());
        assert_eq!(
            row("DOWN").describe(),
            "web1 DOWN (L4CON Layer4 connection problem: Connection refused)"
        );
        assert_eq!(row("UP").describe(), "web1 UP");
    }

    fn fixture(name: &str) -> Vec<StatRow> {
        let text = std::fs::read_to_string(format!("fixtures/captured/haproxy/{name}")).unwrap();
        parse_show_stat(&text).unwrap()
    }

    #[test]
    fn healthy_backend_from_socket_and_url() {
        for name in ["show-stat-all-up.csv", "stats-url-all-up.csv"] {
            let rows = fixture(name);
            let app = servers(&rows, "app").unwrap();
            assert_eq!(app.len(), 2, "{name}");
            assert!(app.iter().all(|s| s.is_up()));
            assert_eq!(describe_all(&app), "web1 UP; web2 UP");
        }
    }

    #[test]
    fn down_servers_say_why() {
        let rows = fixture("show-stat-web2-down-500.csv");
        let app = servers(&rows, "app").unwrap();
        assert_eq!(
            describe_all(&app),
            "web1 UP; web2 DOWN (L7STS Layer7 wrong status: Internal Server Error)"
        );
        let rows = fixture("show-stat-web2-down-stopped.csv");
        let app = servers(&rows, "app").unwrap();
        assert_eq!(
            app[1].describe(),
            "web2 DOWN (L4CON Layer4 connection problem: Connection refused)"
        );
    }

    #[test]
    fn maint_is_read() {
        let rows = fixture("show-stat-web1-maint.csv");
        let app = servers(&rows, "app").unwrap();
        assert!(app[0].is_maint() && !app[0].is_up());
        assert_eq!(app[0].describe(), "web1 MAINT");
        assert!(servers(&rows, "nope").unwrap_err().contains("(backends: app, stats)"));
    }
}
