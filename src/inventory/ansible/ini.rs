//! The Ansible INI inventory reader, following Ansible's `ini` plugin: host lines
//! (`name[:port] key=value ...`, split like a shell, ranges `web[1:3]`, `db-[a:c]`,
//! `node[01:10:2]`) before any section (group `ungrouped`) or in `[group]`; `key=value` lines in
//! `[group:vars]`; group names in `[group:children]`; `#` and `;` comment lines. Errors carry
//! `file:line:column`.

use std::path::Path;

use super::hostpattern::host_pattern;
use super::{Owner, Tree};
use crate::inventory::validate::{self, Env};
use crate::inventory::{Inventory, InventoryError};

/// What the lines of the current section are.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Hosts,
    Vars,
    Children,
}

/// Parses an Ansible INI inventory.
pub(super) fn parse(path: &Path, text: &str, env: Env) -> Result<Inventory, InventoryError> {
    let mut tree = Tree::new(path, text, env);
    let (mut group, mut kind) = ("ungrouped".to_string(), Kind::Hosts);
    let mut offset = 0;
    for raw in text.split_inclusive('\n') {
        let at = offset + raw.len() - raw.trim_start().len();
        offset += raw.len();
        let line = raw.trim();
        if line.is_empty() || line.starts_with(['#', ';']) {
            continue;
        }
        if line.starts_with('[') {
            (group, kind) = header(&mut tree, at, line)?;
            continue;
        }
        match kind {
            Kind::Hosts => host_line(&mut tree, &group, at, line)?,
            Kind::Vars => var_line(&mut tree, &group, at, line)?,
            Kind::Children => child_line(&mut tree, &group, at, line)?,
        }
    }
    tree.finish()
}

fn err(tree: &Tree, offset: usize, message: String) -> InventoryError {
    InventoryError::At {
        location: tree.loc(offset),
        message,
    }
}

/// `[group]`, `[group:vars]` or `[group:children]`, optionally followed by a comment.
fn header(tree: &mut Tree, at: usize, line: &str) -> Result<(String, Kind), InventoryError> {
    let invalid = || format!("invalid section header {line:?} (expected [group], [group:vars] or [group:children])");
    let Some(close) = line.find(']') else {
        return Err(err(tree, at, invalid()));
    };
    let rest = line[close + 1..].trim_start();
    if !(rest.is_empty() || rest.starts_with(['#', ';'])) {
        return Err(err(tree, at, invalid()));
    }
    let inner = &line[1..close];
    let (group, kind) = match inner.split_once(':') {
        Some((g, k)) => (g, Some(k)),
        None => (inner, None),
    };
    validate::name(group).map_err(|r| err(tree, at + 1, format!("invalid group name: {r}")))?;
    let kind = match kind {
        None => Kind::Hosts,
        Some("vars") => Kind::Vars,
        Some("children") => Kind::Children,
        Some(k) => {
            let hint = validate::hint(k, ["vars", "children"]);
            let message = format!("unknown section type {k:?} in [{inner}] (expected \"vars\" or \"children\"){hint}");
            return Err(err(tree, at + 2 + group.len(), message));
        }
    };
    if kind != Kind::Vars {
        let loc = tree.loc(at + 1);
        tree.declare(group, &loc);
    }
    Ok((group.to_string(), kind))
}

/// `pattern key=value ...`: the pattern names one host or a range, each gets the variables.
fn host_line(tree: &mut Tree, group: &str, at: usize, line: &str) -> Result<(), InventoryError> {
    let words = words(line).map_err(|(i, m)| err(tree, at + i, m))?;
    let Some(((pattern, p_off), vars)) = words.split_first() else {
        return Ok(());
    };
    let (names, port) = host_pattern(pattern).map_err(|m| err(tree, at + p_off, m))?;
    let loc = tree.loc(at + p_off);
    for name in &names {
        tree.add_host(name, group, &loc);
    }
    let mut assignments: Vec<(&str, String, usize)> = Vec::new();
    if let Some(port) = port {
        assignments.push(("ansible_port", port.to_string(), *p_off));
    }
    for (word, off) in vars {
        match word.split_once('=') {
            Some((key, value)) if !key.is_empty() => assignments.push((key, value.to_string(), off + key.len() + 1)),
            _ => {
                return Err(err(
                    tree,
                    at + off,
                    format!("expected key=value after host {pattern}, found {word:?}"),
                ));
            }
        }
    }
    for (key, value, off) in assignments {
        let vloc = tree.loc(at + off);
        for name in &names {
            let owner = Owner::Host(name.clone());
            tree.apply(&owner, key, &value, &vloc)
                .map_err(|message| InventoryError::At {
                    location: vloc.clone(),
                    message,
                })?;
        }
    }
    Ok(())
}

/// `key=value` in `[group:vars]`; matching quotes around the value are removed.
fn var_line(tree: &mut Tree, group: &str, at: usize, line: &str) -> Result<(), InventoryError> {
    let bad = || format!("expected key=value in [{group}:vars], found {line:?}");
    let Some((key, value)) = line.split_once('=') else {
        return Err(err(tree, at, bad()));
    };
    let key = key.trim();
    if key.is_empty() || key.contains(char::is_whitespace) {
        return Err(err(tree, at, bad()));
    }
    let value_off = line.len() - value.trim_start().len();
    let loc = tree.loc(at + value_off);
    let value = unquote(value.trim());
    tree.apply(&Owner::Group(group.to_string()), key, value, &loc)
        .map_err(|message| InventoryError::At { location: loc, message })
}

fn unquote(value: &str) -> &str {
    let quoted = value.len() >= 2
        && (value.starts_with('"') && value.ends_with('"') || value.starts_with('\'') && value.ends_with('\''));
    if quoted { &value[1..value.len() - 1] } else { value }
}

/// One child group name per line in `[group:children]`.
fn child_line(tree: &mut Tree, group: &str, at: usize, line: &str) -> Result<(), InventoryError> {
    let (child, rest) = line.split_once(char::is_whitespace).unwrap_or((line, ""));
    let rest = rest.trim_start();
    if !(rest.is_empty() || rest.starts_with(['#', ';'])) {
        return Err(err(
            tree,
            at,
            format!("expected one group name per line in [{group}:children], found {line:?}"),
        ));
    }
    validate::name(child).map_err(|r| err(tree, at, format!("invalid group name: {r}")))?;
    let loc = tree.loc(at);
    tree.add_child(group, child, &loc);
    Ok(())
}

/// Splits a host line as Python's `shlex` does with comments on: whitespace separates words,
/// quotes group and are removed, `\` escapes, `#` at the start of a word ends the line.
/// Each word comes with the byte offset where it starts; an error with the offset of the quote.
fn words(line: &str) -> Result<Vec<(String, usize)>, (usize, String)> {
    let mut out: Vec<(String, usize)> = Vec::new();
    let mut word: Option<(String, usize)> = None;
    let mut chars = line.char_indices();
    while let Some((i, c)) = chars.next() {
        if c.is_whitespace() {
            out.extend(word.take());
            continue;
        }
        if c == '#' && word.is_none() {
            break;
        }
        let w = &mut word.get_or_insert_with(|| (String::new(), i)).0;
        match c {
            '\'' | '"' => loop {
                match chars.next() {
                    Some((_, q)) if q == c => break,
                    Some((_, '\\')) if c == '"' => w.extend(chars.next().map(|(_, e)| e)),
                    Some((_, ch)) => w.push(ch),
                    None => return Err((i, "unclosed quote".to_string())),
                }
            },
            '\\' => w.extend(chars.next().map(|(_, e)| e)),
            _ => w.push(c),
        }
    }
    out.extend(word);
    Ok(out)
}
