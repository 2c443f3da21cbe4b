//! Package steps (installed, at a version, not installed) and the PHP module step, from the
//! package database and `php -m` facts; versions compared by [`crate::facts::package`].

use futures::future::BoxFuture;

use super::{host, name_ok};
use crate::facts::package::{self, parse_constraint};
use crate::facts::{self, PackageDb};
use crate::steps::expect::excerpt;
use crate::steps::{Args, Outcome, StepCtx, StepOutput};

/// Lint: a package name and a version constraint.
pub(super) fn check_version(args: &[String]) -> Result<(), String> {
    super::check_name(args)?;
    match args.get(1) {
        Some(c) if !c.contains('{') => parse_constraint(c).map(|_| ()),
        _ => Ok(()),
    }
}

/// `1.22.1-9 (dpkg)`, or the state of a package that is not installed.
fn describe(db: &PackageDb, name: &str) -> String {
    let versions = db.versions(name);
    if versions.is_empty() {
        let state = db.packages.get(name).and_then(|p| p.state.clone());
        match state {
            Some(s) => format!("not installed: {s}"),
            None => format!("not installed ({} has no package {name})", db.manager),
        }
    } else {
        format!("installed, version {} ({})", versions.join(", "), db.manager)
    }
}

pub(super) fn installed(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let name = a.get(0);
        let expected = format!("package {name} installed");
        if let Err(e) = name_ok(name) {
            return Ok(Outcome::fail(expected, e));
        }
        let (host, t) = host(ctx)?;
        let db = facts::packages(&host, t).await?;
        Ok(Outcome::check(
            !db.versions(name).is_empty(),
            expected,
            describe(&db, name),
        ))
    })
}

pub(super) fn not_installed(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let name = a.get(0);
        let expected = format!("package {name} not installed");
        if let Err(e) = name_ok(name) {
            return Ok(Outcome::fail(expected, e));
        }
        let (host, t) = host(ctx)?;
        let db = facts::packages(&host, t).await?;
        Ok(Outcome::check(
            db.versions(name).is_empty(),
            expected,
            describe(&db, name),
        ))
    })
}

pub(super) fn installed_at(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let (name, constraint) = (a.get(0), a.get(1));
        let expected = format!("package {name} installed at version {constraint}");
        let (op, want) = match name_ok(name).and_then(|_| parse_constraint(constraint)) {
            Ok(c) => c,
            Err(e) => return Ok(Outcome::fail(expected, e)),
        };
        let (host, t) = host(ctx)?;
        let db = facts::packages(&host, t).await?;
        let mut ok = false;
        for v in db.versions(name) {
            if package::satisfies(&host, db.manager, v, op, &want, t).await? {
                ok = true;
                break;
            }
        }
        let found = describe(&db, name);
        let found = if ok || db.versions(name).is_empty() {
            found
        } else {
            format!("{found}, which is not {constraint}")
        };
        Ok(Outcome::check(ok, expected, found))
    })
}

pub(super) fn php_module(ctx: &mut StepCtx, a: Args) -> BoxFuture<'_, StepOutput> {
    Box::pin(async move {
        let name = a.get(0);
        let expected = format!("PHP module {name} loaded");
        let (host, t) = host(ctx)?;
        let modules = facts::php_modules(&host, t).await?;
        let Some(modules) = modules.as_ref() else {
            return Ok(Outcome::fail(
                expected,
                "php is not installed (no php command on the host)",
            ));
        };
        Ok(match modules.iter().find(|m| m.eq_ignore_ascii_case(name.trim())) {
            Some(m) => Outcome::pass(expected, format!("loaded (php -m lists {m})")),
            None => Outcome::fail(
                expected,
                format!("not loaded; php -m lists {}", excerpt(&modules.join(", "))),
            ),
        })
    })
}
