//! Apache mod_status (`server-status?auto`), read over HTTP from the controller: how many
//! requests per second the server is serving. Apache's own `ReqPerSec` when the page has
//! it, else the growth of `Total Accesses` between two reads one second apart.

use std::time::{Duration, Instant};

use super::http::{Request, send};

/// The fields of `server-status?auto` that the request-rate check uses.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) struct ServerStatus {
    /// `Total Accesses` (needs `ExtendedStatus On`).
    pub total_accesses: Option<u64>,
    /// `ReqPerSec`: Apache's average since it started.
    pub req_per_sec: Option<f64>,
    /// `Uptime`, seconds.
    pub uptime: Option<u64>,
    /// `BusyWorkers`.
    pub busy_workers: Option<u64>,
    /// `IdleWorkers`.
    pub idle_workers: Option<u64>,
}

/// Parses the `Key: value` lines of `server-status?auto`; fails when the page is not one
/// (no `BusyWorkers`, `Total Accesses` or `ReqPerSec` line).
pub(crate) fn parse_server_status(text: &str) -> Result<ServerStatus, String> {
    let mut s = ServerStatus::default();
    for line in text.lines() {
        let Some((key, value)) = line.split_once(':') else {
            continue;
        };
        let value = value.trim();
        match key.trim() {
            "Total Accesses" => s.total_accesses = value.parse().ok(),
            // Apache prints ".0666667" without a leading zero.
            "ReqPerSec" => s.req_per_sec = value.parse().ok(),
            "Uptime" => s.uptime = value.parse().ok(),
            "BusyWorkers" => s.busy_workers = value.parse().ok(),
            "IdleWorkers" => s.idle_workers = value.parse().ok(),
            _ => {}
        }
    }
    if s.busy_workers.is_none() && s.total_accesses.is_none() && s.req_per_sec.is_none() {
        let head: String = text.chars().take(120).collect();
        return Err(format!(
            "not a mod_status ?auto page (no BusyWorkers, Total Accesses or ReqPerSec): {head:?}"
        ));
    }
    Ok(s)
}

/// A measured request rate and how it was obtained.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Rate {
    /// Requests per second.
    pub per_sec: f64,
    /// `ReqPerSec (average since Apache started 3600 s ago)` or `Total Accesses 120 -> 131 in 1.00 s`.
    pub how: String,
}

/// The rate from one page, or from two pages read `elapsed` apart (our own second read
/// counts as one access, which is subtracted).
pub(crate) fn rate(first: &ServerStatus, second: Option<(&ServerStatus, Duration)>) -> Result<Rate, String> {
    if let Some(r) = first.req_per_sec {
        let since = first.uptime.map(|u| format!(" started {u} s ago")).unwrap_or_default();
        return Ok(Rate {
            per_sec: r,
            how: format!("ReqPerSec, Apache's average since it{since}"),
        });
    }
    let missing = || "the status page has neither ReqPerSec nor Total Accesses (set ExtendedStatus On)".to_string();
    let a = first.total_accesses.ok_or_else(missing)?;
    let (second, elapsed) = second.ok_or_else(missing)?;
    let b = second.total_accesses.ok_or_else(missing)?;
    let secs = elapsed.as_secs_f64().max(0.001);
    let served = b.saturating_sub(a).saturating_sub(1);
    Ok(Rate {
        per_sec: served as f64 / secs,
        how: format!("Total Accesses {a} -> {b} in {secs:.2} s, less our own read"),
    })
}

/// Reads the status page at `url` (once, or twice a second apart when it has no ReqPerSec).
pub(crate) async fn read_rate(url: &str, timeout: Duration) -> Result<Rate, String> {
    let fetch = || async {
        let req = Request {
            method: reqwest::Method::GET,
            url: url.to_string(),
            headers: Vec::new(),
            body: None,
            via: None,
            timeout,
        };
        let resp = send(&req).await.map_err(|e| e.to_string())?;
        if resp.status != 200 {
            return Err(format!("{url} answered {}", resp.status_line()));
        }
        parse_server_status(&resp.text()).map_err(|e| format!("{url}: {e}"))
    };
    let first = fetch().await?;
    if first.req_per_sec.is_some() {
        return rate(&first, None);
    }
    let start = Instant::now();
    tokio::time::sleep(Duration::from_secs(1)).await;
    let second = fetch().await?;
    rate(&first, Some((&second, start.elapsed())))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_page_without_status_lines_is_refused() {
        assert!(
            parse_server_status("<html>Forbidden</html>")
                .unwrap_err()
                .contains("not a mod_status")
        );
    }

    #[test]
    fn rate_from_two_reads_subtracts_our_own() {
        let a = ServerStatus {
            total_accesses: Some(100),
            ..Default::default()
        };
        let b = ServerStatus {
            total_accesses: Some(111),
            ..Default::default()
        };
        let r = rate(&a, Some((&b, Duration::from_secs(1)))).unwrap();
        assert_eq!(r.per_sec, 10.0);
        assert!(r.how.starts_with("Total Accesses 100 -> 111 in 1.00 s"));
        assert!(
            rate(&ServerStatus::default(), None)
                .unwrap_err()
                .contains("ExtendedStatus On")
        );
    }

    #[test]
    fn reads_a_captured_apache_page() {
        let text = std::fs::read_to_string("fixtures/captured/apache/server-status-auto.txt").unwrap();
        let s = parse_server_status(&text).unwrap();
        assert!(s.req_per_sec.is_some_and(|r| r > 0.0), "{s:?}");
        assert!(s.total_accesses.is_some() && s.uptime.is_some() && s.idle_workers.is_some());
        let r = rate(&s, None).unwrap();
        assert_eq!(Some(r.per_sec), s.req_per_sec);
        assert!(
            r.how.starts_with("ReqPerSec, Apache's average since it started "),
            "{}",
            r.how
        );
    }
}
