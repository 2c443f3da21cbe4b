//! Service steps: running / not running, enabled / not enabled at boot, from the facts of
//! [`crate::facts::service`], with the init system or method that answered in the found text.

use futures::future::BoxFuture;

use super::host;
use crate::facts::platform::InitSystem;
use crate::facts::{self, service::check_service_name};
use crate::steps::{Args, Outcome, StepCtx, StepOutput};

/// Lint: a service name (placeholders are checked when they are filled in).
pub(super) fn check(args: &[String]) -> Result<(), String> {
    match args.first() {
        Some(n) if !n.contains('{') => check_service_name(n),
        _ => Ok(()),
    }
}

async fn is_running(ctx: &StepCtx, name: &str, want: bool) -> StepOutput {
    let expected = format!("service {name} {}", if want { "running" } else { "not running" });
    // A name that is not a service name is a failed check: nothing is sent to the host.
    if let Err(e) = check_service_name(name) {
        return Ok(Outcome::fail(expected, e));
    }
    let (host, t) = host(ctx)?;
    let r = facts::running(&host, name, t).await?;
    let state = match (r.running, r.missing) {
        (true, _) => "running",
        (false, true) => "no such unit",
        (false, false) => "not running",
    };
    let found = format!("{state} ({})", r.method);
    Ok(Outcome::check(r.running == want, expected, found))
}

async fn is_enabled(ctx: &StepCtx, name: &str, want: bool) -> StepOutput {
    let expected = format!(
        "service {name} {}",
        if want { "enabled at boot" } else { "not enabled at boot" }
    );
    if let Err(e) = check_service_name(name) {
        return Ok(Outcome::fail(expected, e));
    }
    let (host, t) = host(ctx)?;
    let e = facts::enablement(&host, name, t).await?;
    let found = if e.init == InitSystem::Systemd && e.state == "not-found" {
        format!("no such unit ({}: no unit file {name})", e.init)
    } else {
        format!(
            "{} at boot ({}: {})",
            if e.enabled { "enabled" } else { "disabled" },
            e.init,
            e.state
        )
    };
    Ok(Outcome::check(e.enabled == want, expected, found))
}

pub(super) fn running(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move { is_running(ctx, a.get(0), true).await })
}

pub(super) fn not_running(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move { is_running(ctx, a.get(0), false).await })
}

pub(super) fn enabled(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move { is_enabled(ctx, a.get(0), true).await })
}

pub(super) fn not_enabled(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move { is_enabled(ctx, a.get(0), false).await })
}
