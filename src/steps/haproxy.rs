//! HAProxy steps: are the servers of a backend UP (all of them, at least N, one by name)
//! or in MAINT, as HAProxy itself sees them (`show stat` from the current host's stats
//! socket over SSH, or its stats CSV URL). Every failure lists each server with its status.

use futures::future::BoxFuture;

use super::{Args, Lane, Measurement, Outcome, Range, StepCtx, StepDef, StepError, StepOutput};
use crate::probes::haproxy::{StatRow, describe_all, read_stats, servers};

const MODULE: &str = "src/steps/haproxy.rs";

/// Where the steps read from: appended to each doc so `shakedown steps` says it.
macro_rules! source {
    () => {
        " Reads `show stat` on the current host (the load balancer): from the admin socket at the host variable `haproxy_socket` (default /run/haproxy/admin.sock) over SSH, with socat, `nc -U` or python3, whichever the host has; or, when the host variable `haproxy_stats_url` is set (e.g. \"http://{address}:8404/stats;csv\"), from that CSV, fetched from this machine."
    };
}

/// The haproxy family.
pub const STEPS: &[StepDef] = &[
    StepDef {
        line: line!(),
        sentence: "the HAProxy backend {string} should have all servers UP",
        example: r#"Then the HAProxy backend "app" should have all servers UP"#,
        doc: concat!(
            "Every server of the backend is UP (`UP n/m`, a server failing checks but not yet down, and `no check` count as UP: HAProxy still sends them traffic). The failure lists every server with its status and last check.",
            source!()
        ),
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: None,
        run: all_up,
    },
    StepDef {
        line: line!(),
        sentence: "the HAProxy backend {string} should have at least {int} servers UP",
        example: r#"Then the HAProxy backend "app" should have at least 2 servers UP"#,
        doc: concat!(
            "At least N servers of the backend are UP (as above). Measured: the number of servers UP. The failure lists every server with its status.",
            source!()
        ),
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: Some(check_count),
        run: at_least_up,
    },
    StepDef {
        line: line!(),
        sentence: "the server {string} in HAProxy backend {string} should be UP",
        example: r#"Then the server "web1" in HAProxy backend "app" should be UP"#,
        doc: concat!(
            "The named server of the backend is UP (as above). The failure gives its status and last check, and lists the other servers.",
            source!()
        ),
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: None,
        run: server_up,
    },
    StepDef {
        line: line!(),
        sentence: "the server {string} in HAProxy backend {string} should be in MAINT",
        example: r#"Then the server "web1" in HAProxy backend "app" should be in MAINT"#,
        doc: concat!(
            "The named server is in maintenance (`MAINT`, including `MAINT (via ...)` when it tracks a server in MAINT), as `set server app/web1 state maint` or a drained deploy leaves it.",
            source!()
        ),
        module: MODULE,
        file: MODULE,
        lane: Lane::Ahead,
        facts: &[],
        needs_host: true,
        check: None,
        run: server_maint,
    },
];

fn check_count(args: &[String]) -> Result<(), String> {
    match args.get(1).map(|n| n.parse::<u32>()) {
        Some(Ok(_)) => Ok(()),
        _ => Err(format!(
            "server count \"{}\" is not a whole number ≥ 0",
            args.get(1).map(String::as_str).unwrap_or("")
        )),
    }
}

/// The backend's servers from the current host, with where they were read.
async fn backend(ctx: &StepCtx, name: &str) -> Result<(Vec<StatRow>, String), StepError> {
    let host = ctx.host()?;
    let (rows, source) = read_stats(&host, ctx.step_timeout).await.map_err(StepError::Other)?;
    let servers = servers(&rows, name).map_err(|e| StepError::Other(format!("{e} (read from {})", source.0)))?;
    Ok((servers.into_iter().cloned().collect(), source.0))
}

fn all_up(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (servers, _) = backend(ctx, a.get(0)).await?;
        let refs: Vec<&StatRow> = servers.iter().collect();
        let up = servers.iter().filter(|s| s.is_up()).count();
        let expected = format!("all {} servers of HAProxy backend {} UP", servers.len(), a.get(0));
        let found = format!("{up} of {} UP: {}", servers.len(), describe_all(&refs));
        let all = Range::at_least(servers.len() as f64);
        Ok(Outcome::check(up == servers.len(), expected, found).with(count(a.get(0), up, Some(all))))
    })
}

fn at_least_up(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let want = a.int(1)?;
        let (servers, _) = backend(ctx, a.get(0)).await?;
        let refs: Vec<&StatRow> = servers.iter().collect();
        let up = servers.iter().filter(|s| s.is_up()).count();
        let expected = format!("at least {want} servers of HAProxy backend {} UP", a.get(0));
        let found = format!("{up} of {} UP: {}", servers.len(), describe_all(&refs));
        Ok(Outcome::check(up as i64 >= want, expected, found).with(count(
            a.get(0),
            up,
            Some(Range::at_least(want as f64)),
        )))
    })
}

fn count(backend: &str, up: usize, crit: Option<Range>) -> Measurement {
    Measurement {
        label: format!("backend {backend} servers UP"),
        value: up as f64,
        unit: String::new(),
        warn: None,
        crit,
    }
}

/// Checks one server's row with `ok`.
async fn one_server(ctx: &StepCtx, a: &Args, state: &str, ok: fn(&StatRow) -> bool) -> StepOutput {
    let (server, name) = (a.get(0), a.get(1));
    let (servers, _) = backend(ctx, name).await?;
    let expected = format!("server {server} in HAProxy backend {name} {state}");
    let Some(row) = servers.iter().find(|s| s.svname == server) else {
        let names: Vec<&str> = servers.iter().map(|s| s.svname.as_str()).collect();
        return Ok(Outcome::fail(
            expected,
            format!("no server {server} in backend {name} (servers: {})", names.join(", ")),
        ));
    };
    let others: Vec<&StatRow> = servers.iter().filter(|s| s.svname != server).collect();
    let others = if others.is_empty() {
        String::new()
    } else {
        format!("; others: {}", describe_all(&others))
    };
    Ok(Outcome::check(ok(row), expected, format!("{}{others}", row.describe())))
}

fn server_up(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move { one_server(ctx, &a, "UP", StatRow::is_up).await })
}

fn server_maint(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move { one_server(ctx, &a, "in MAINT", StatRow::is_maint).await })
}
