//! Ansible host patterns as written in an inventory: `name`, `name:port`, and ranges
//! `web[1:3]`, `www[001:006]` (zero-padded like the start), `mail[:5]` (from 0),
//! `db-[a:c]`, `node[1:10:2]` (with a step), several per name. Shared by INI and YAML.

use crate::inventory::validate;

/// `name`, `name:port`, with ranges expanded; every name checked.
pub(super) fn host_pattern(pattern: &str) -> Result<(Vec<String>, Option<u16>), String> {
    let (name, port) = match pattern.rsplit_once(':') {
        Some((h, p))
            if !p.is_empty()
                && p.bytes().all(|b| b.is_ascii_digit())
                && h.matches('[').count() == h.matches(']').count() =>
        {
            let port = validate::port_text(p).map_err(|r| format!("invalid port in {pattern:?}: {r}"))?;
            (h, Some(port))
        }
        _ => (pattern, None),
    };
    let names = expand(name)?;
    for n in &names {
        validate::name(n).map_err(|r| format!("invalid host name: {r}"))?;
    }
    Ok((names, port))
}

/// Expands every `[start:end]` / `[start:end:step]` range in a host pattern.
fn expand(pattern: &str) -> Result<Vec<String>, String> {
    let Some(open) = pattern.find('[') else {
        return Ok(vec![pattern.to_string()]);
    };
    let Some(close) = pattern[open..].find(']').map(|i| open + i) else {
        return Err(format!("invalid host range {pattern:?}: no closing \"]\""));
    };
    let (head, spec, tail) = (&pattern[..open], &pattern[open + 1..close], &pattern[close + 1..]);
    let items = range(spec).map_err(|r| format!("invalid host range {pattern:?}: {r}"))?;
    let tails = expand(tail)?;
    let out: Vec<String> = items
        .iter()
        .flat_map(|i| tails.iter().map(move |t| format!("{head}{i}{t}")))
        .collect();
    if out.len() > 10_000 {
        return Err(format!("invalid host range {pattern:?}: more than 10000 hosts"));
    }
    Ok(out)
}

/// The items of one range: numbers (zero-padded like the start) or single letters.
fn range(spec: &str) -> Result<Vec<String>, String> {
    let parts: Vec<&str> = spec.split(':').collect();
    let (beg, end, step) = match parts[..] {
        [b, e] => (b, e, "1"),
        [b, e, s] => (b, e, s),
        _ => return Err("expected [start:end] or [start:end:step]".into()),
    };
    let beg = if beg.is_empty() { "0" } else { beg };
    let step = step
        .parse::<usize>()
        .ok()
        .filter(|s| *s > 0)
        .ok_or("the step must be a positive integer")?;
    let letter = |s: &str| {
        Some(s)
            .filter(|s| s.len() == 1)
            .and_then(|s| s.chars().next())
            .filter(char::is_ascii_alphabetic)
    };
    if let (Ok(b), Ok(e)) = (beg.parse::<u64>(), end.parse::<u64>()) {
        if b > e {
            return Err(format!("{beg} comes after {end}"));
        }
        if (e - b) / step as u64 >= 10_000 {
            return Err("more than 10000 hosts".into());
        }
        let width = if beg.len() > 1 && beg.starts_with('0') {
            beg.len()
        } else {
            0
        };
        return Ok((b..=e).step_by(step).map(|n| format!("{n:0width$}")).collect());
    }
    match (letter(beg), letter(end)) {
        (Some(b), Some(e)) if b <= e => Ok((b..=e).step_by(step).map(String::from).collect()),
        (Some(_), Some(_)) => Err(format!("{beg} comes after {end}")),
        _ => Err("expected numbers or single letters".into()),
    }
}
