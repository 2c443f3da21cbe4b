//! `shakedown connections`: the SSH masters kept between runs (`--keep-connections`), with
//! their host, age and idle time; `--close` closes them.

use std::time::{Duration, SystemTime};

use crate::cli::ConnectionsArgs;
use crate::error::{BadInput, ExitStatus};
use crate::transport::kept;

/// Lists (or closes) the kept masters; exit 2 when their directory is refused.
pub async fn connections(args: &ConnectionsArgs) -> Result<ExitStatus, BadInput> {
    let dir = kept::socket_dir().map_err(BadInput::one)?;
    let all = kept::list(&dir).await;
    if all.is_empty() {
        println!("no kept connection in {}", dir.display());
        return Ok(ExitStatus::Ok);
    }
    let now = SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    println!(
        "{:<20} {:<10} {:<24} {:>8} {:>8}  STATE",
        "HOST", "KIND", "ENDPOINT", "AGE", "IDLE"
    );
    for k in &all {
        let age = Duration::from_secs(now.saturating_sub(k.info.opened));
        let state = match (k.live, args.close) {
            (true, true) => "closed",
            (true, false) => "live",
            (false, _) => "gone",
        };
        println!(
            "{:<20} {:<10} {:<24} {:>8} {:>8}  {state}",
            k.info.host,
            k.info.kind,
            k.info.endpoint,
            short(age),
            short(k.idle),
            state = state,
        );
        if args.close {
            k.close().await;
        }
    }
    Ok(ExitStatus::Ok)
}

/// `3h12m`, `4m05s`, `12s`.
fn short(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m", s / 3600, s % 3600 / 60),
    }
}
