//! Placeholders, in one place: a host's `{name}`, `{address}`, `{vars.KEY}` in step
//! arguments ([`substitute`], [`substitute_command`]) and the templates of a pack step: text with `{PARAM}` (a capture named in `params`), `{name}`,
//! `{address}` and `{vars.KEY}` placeholders, and how a value is escaped for each place it
//! lands: shell-quoted as one word in a command, escaped for its part of a URL (a path keeps
//! its `/`, a query value is encoded whole, never the scheme or host), JSON-escaped in a JSON
//! body, regex-escaped in a regex. `{{`/`}}` write braces; `${...}` and braces
//! around anything that is not an identifier (`{7}`, `{print $1}`) are left as written.

use crate::inventory::Host;

mod vars;

pub(crate) use vars::{substitute, substitute_command};

/// One piece of a template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Text as written.
    Text(String),
    /// The capture with this index.
    Capture(usize),
    /// `name`, `address` or `vars.KEY` of the current host.
    Inventory(String),
}

/// Where a value is inserted, deciding how it is escaped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Context {
    /// Verbatim (contains/equals texts, step text of a macro).
    Raw,
    /// One shell word (POSIX quoting).
    Shell,
    /// A URL: captures escaped for the part they land in (path, query), inventory values
    /// verbatim (they are addresses and base URLs).
    Url,
    /// Inside a JSON string.
    Json,
    /// Inside a regex: matched literally.
    Regex,
    /// An HTTP header value: verbatim, but no line breaks.
    Header,
    /// The text of another step (a macro): captures verbatim but without `"` (it would end
    /// a quoted argument) and with braces doubled; inventory placeholders kept for the
    /// usual substitution after matching.
    Step,
}

/// A parsed template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    /// The text as written in the pack (shown by `lint`).
    pub source: String,
    /// Its pieces.
    pub pieces: Vec<Piece>,
}

fn is_identifier(s: &str) -> bool {
    s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '.' || c == '-')
}

/// Parses `text`; an unknown `{identifier}` is an error naming the nearest known one.
/// Returns the byte offset of the bad placeholder with the message.
pub(crate) fn parse(text: &str, params: &[String]) -> Result<Template, (usize, String)> {
    parse_with_offsets(text, params).map(|(t, _)| t)
}

/// [`parse`], with the byte offset in `text` of each placeholder piece, in order.
fn parse_with_offsets(text: &str, params: &[String]) -> Result<(Template, Vec<usize>), (usize, String)> {
    let mut offsets = Vec::new();
    let mut pieces = Vec::new();
    let mut buf = String::new();
    let mut i = 0;
    let bytes = text.as_bytes();
    while i < text.len() {
        let rest = &text[i..];
        if rest.starts_with("{{") || rest.starts_with("}}") {
            buf.push_str(&rest[..1]);
            i += 2;
            continue;
        }
        let after_dollar = i > 0 && bytes[i - 1] == b'$';
        if rest.starts_with('{')
            && !after_dollar
            && let Some(end) = rest.find('}')
        {
            let inner = &rest[1..end];
            if is_identifier(inner) {
                let piece = placeholder(inner, params).map_err(|e| (i, e))?;
                pieces.push(Piece::Text(std::mem::take(&mut buf)));
                pieces.push(piece);
                offsets.push(i);
                i += end + 1;
                continue;
            }
        }
        let ch = rest.chars().next().expect("i is inside text");
        buf.push(ch);
        i += ch.len_utf8();
    }
    pieces.push(Piece::Text(buf));
    pieces.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
    let template = Template {
        source: text.to_string(),
        pieces,
    };
    Ok((template, offsets))
}

fn placeholder(inner: &str, params: &[String]) -> Result<Piece, String> {
    if let Some(i) = params.iter().position(|p| p == inner) {
        return Ok(Piece::Capture(i));
    }
    if inner == "name" || inner == "address" || inner.starts_with("vars.") {
        return Ok(Piece::Inventory(inner.to_string()));
    }
    let known: Vec<&str> = params
        .iter()
        .map(String::as_str)
        .chain(["name", "address", "vars.KEY"])
        .collect();
    let hint = crate::nearest::nearest(inner, known.iter().copied())
        .map(|n| format!(" (did you mean {{{n}}}?)"))
        .unwrap_or_default();
    if params.is_empty() {
        // A feature's command line (`vars::substitute_command`): no captures.
        return Err(format!(
            "unknown placeholder {{{inner}}}{hint}: use {{name}}, {{address}} or {{vars.KEY}}; write {{{{ and }}}} for literal braces"
        ));
    }
    Err(format!(
        "unknown placeholder {{{inner}}}{hint}: use a name from `params` ({}), {{name}}, {{address}} or {{vars.KEY}}; write {{{{ and }}}} for literal braces",
        if params.is_empty() {
            "none".to_string()
        } else {
            params.join(", ")
        }
    ))
}

impl Template {
    /// Whether any placeholder is used.
    pub fn has_placeholders(&self) -> bool {
        self.pieces.iter().any(|p| !matches!(p, Piece::Text(_)))
    }

    /// Whether a host value (`{name}`, `{address}`, `{vars.KEY}`) is used.
    pub fn uses_inventory(&self) -> bool {
        self.pieces.iter().any(|p| matches!(p, Piece::Inventory(_)))
    }

    /// The text with every value escaped for `ctx`. Inventory values come from `host`.
    pub fn render(&self, ctx: Context, captures: &[String], host: Option<&Host>) -> Result<String, String> {
        let mut out = String::new();
        for piece in &self.pieces {
            match piece {
                Piece::Text(t) => out.push_str(t),
                Piece::Capture(i) => {
                    let value = captures.get(*i).map(String::as_str).unwrap_or("");
                    let escaped = match ctx {
                        Context::Url => url_capture(&out, value)?,
                        _ => escape(ctx, value, true)?,
                    };
                    out.push_str(&escaped);
                }
                Piece::Inventory(key) if ctx == Context::Step => {
                    out.push('{');
                    out.push_str(key);
                    out.push('}');
                }
                Piece::Inventory(key) => {
                    let value = vars::substitute(&format!("{{{key}}}"), host).map_err(|e| e.to_string())?;
                    out.push_str(&escape(ctx, &value, false)?);
                }
            }
        }
        Ok(out)
    }

    /// The text as `lint` shows it: placeholders as written, the rest verbatim.
    pub fn shown(&self) -> &str {
        &self.source
    }
}

fn escape(ctx: Context, value: &str, capture: bool) -> Result<String, String> {
    Ok(match ctx {
        Context::Raw => value.to_string(),
        Context::Shell => crate::transport::quote(value),
        Context::Url if capture => percent_encode(value),
        Context::Url => value.to_string(),
        Context::Json => {
            let s = serde_json::to_string(value).map_err(|e| e.to_string())?;
            s[1..s.len() - 1].to_string()
        }
        Context::Regex => regex::escape(value),
        Context::Step => {
            if value.contains('"') {
                return Err(format!(
                    "{value:?} cannot be passed on to another step: it contains a double quote"
                ));
            }
            if value.ends_with('\\') {
                // Before the closing quote it would read as `\"`, an escaped quote.
                return Err(format!(
                    "{value:?} cannot be passed on to another step: it ends with a backslash"
                ));
            }
            value.replace('{', "{{").replace('}', "}}")
        }
        Context::Header => {
            if value.contains(['\r', '\n']) {
                return Err(format!("{value:?} cannot go in an HTTP header: it has a line break"));
            }
            value.to_string()
        }
    })
}

/// A capture's value in a URL, escaped for the part of the URL it lands in, as decided by
/// the URL rendered before it (`prefix`): in the query or fragment it is one value,
/// percent-encoded whole; in the path it keeps its `/` and encodes only what would leave the
/// path (`?`, `#`, `%`, spaces, non-ASCII), and a `..` segment is refused; right after the
/// host it is the path and must start with `/`. It can never become the scheme or host.
fn url_capture(prefix: &str, value: &str) -> Result<String, String> {
    let Some(scheme_end) = prefix.find("://") else {
        return Err(format!(
            "{value:?} would become part of the scheme of {prefix}{value}: a capture goes after the host"
        ));
    };
    let rest = &prefix[scheme_end + 3..];
    if rest.contains(['?', '#']) {
        return Ok(percent_encode(value));
    }
    if !rest.contains('/') && !value.starts_with('/') {
        return Err(format!(
            "{value:?} would become part of the host of {prefix}: a path that follows the host starts with \"/\""
        ));
    }
    // The segment the value ends up in starts in the prefix (`/items/{id}`).
    let last = rest.rsplit('/').next().filter(|_| rest.contains('/')).unwrap_or("");
    if format!("{last}{value}").split('/').any(|segment| segment == "..") {
        return Err(format!("{value:?} has a \"..\" segment: refused in a URL path"));
    }
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~/!$&'()*+,;=:@".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    Ok(out)
}

/// Checks, when a pack is loaded, that no capture of a URL template can land in its scheme
/// or host (or port): a capture before `://` with no inventory base URL before it, right
/// after `://`, or inside the host (text of the host follows it, or host text written in the
/// pack precedes it and the path follows). Whatever the template, [`url_capture`] still
/// refuses at run time a value that would reach the host. Returns the byte offset of the
/// capture in `text` with the message.
pub(crate) fn check_url(text: &str, params: &[String]) -> Result<(), (usize, String)> {
    let (t, offsets) = parse_with_offsets(text, params)?;
    let mut before = String::new();
    let mut placeholders = offsets.iter();
    for (i, piece) in t.pieces.iter().enumerate() {
        let capture = match piece {
            Piece::Text(text) => {
                before.push_str(text);
                continue;
            }
            Piece::Inventory(_) => {
                before.push('\0');
                placeholders.next();
                continue;
            }
            Piece::Capture(c) => *c,
        };
        let offset = placeholders.next().copied().unwrap_or(0);
        let name = params.get(capture).map(String::as_str).unwrap_or("?");
        let fail = |part: &str| {
            Err((
                offset,
                format!(
                    "the capture {{{name}}} would be the {part} of the URL: put captures after the host (`http://{{address}}{{{name}}}`, `http://{{address}}/items/{{{name}}}`) or in the query (`?q={{{name}}}`)"
                ),
            ))
        };
        let Some(scheme_end) = before.find("://") else {
            if before.contains('\0') {
                before.push('\0');
                continue;
            }
            return fail("scheme");
        };
        let authority = &before[scheme_end + 3..];
        if !authority.contains(['/', '?', '#']) {
            let next = t.pieces.get(i + 1);
            let continues_host = match next {
                Some(Piece::Text(text)) => !text.starts_with(['/', '?', '#']),
                Some(_) => true,
                None => false,
            };
            let after_inventory = matches!(t.pieces.get(i.wrapping_sub(1)), Some(Piece::Inventory(_)));
            let glued = !after_inventory && matches!(next, Some(Piece::Text(text)) if text.starts_with('/'));
            if authority.is_empty() || continues_host || glued {
                return fail("host");
            }
        }
        before.push('\0');
    }
    Ok(())
}

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub(crate) fn percent_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || b"-._~".contains(&b) {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Checks a command template: every placeholder must stand where the shell reads a word
/// as data once (not inside quotes or backticks, where its quoting would be undone), and
/// a template with placeholders may not re-read text as code (`eval`, `sh -c`, heredocs).
pub(crate) fn check_shell(t: &Template) -> Result<(), String> {
    if !t.has_placeholders() {
        return Ok(());
    }
    #[derive(PartialEq)]
    enum State {
        Plain,
        Single,
        Double,
        Backtick,
    }
    let mut state = State::Plain;
    let mut literal = String::new();
    for piece in &t.pieces {
        let text = match piece {
            Piece::Text(text) => text,
            other => {
                if state != State::Plain {
                    let name = placeholder_name(other, t);
                    return Err(format!(
                        "placeholder {name} inside quotes or backticks: placeholders are shell-quoted for you, write them bare (grep -- {name} FILE)"
                    ));
                }
                literal.push_str(" WORD ");
                continue;
            }
        };
        let mut chars = text.chars();
        while let Some(c) = chars.next() {
            literal.push(c);
            state = match (&state, c) {
                (State::Plain | State::Double | State::Backtick, '\\') => {
                    chars.next();
                    continue;
                }
                (State::Plain, '\'') => State::Single,
                (State::Single, '\'') => State::Plain,
                (State::Plain, '"') => State::Double,
                (State::Double, '"') => State::Plain,
                (State::Plain, '`') => State::Backtick,
                (State::Backtick, '`') => State::Plain,
                _ => continue,
            };
        }
    }
    let code =
        regex::Regex::new(r"(^|[\s;&|(])(eval|(ba|da|z|k)?sh\s+-c|su\s+-c)\b|<<").expect("constant regex compiles");
    if code.is_match(&literal) {
        return Err(
            "a command with placeholders may not use eval, sh -c or a heredoc: they would run a quoted value as code"
                .into(),
        );
    }
    Ok(())
}

fn placeholder_name(piece: &Piece, _t: &Template) -> String {
    match piece {
        Piece::Capture(i) => format!("#{}", i + 1),
        Piece::Inventory(k) => format!("{{{k}}}"),
        Piece::Text(_) => String::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(names: &[&str]) -> Vec<String> {
        names.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_placeholders_and_leaves_other_braces() {
        let t = parse("grep -c {user} ${HOME} [0-9]{7} {{x}} awk '{print $1}'", &p(&["user"])).unwrap();
        assert_eq!(
            t.render(Context::Raw, &["bob".into()], None).unwrap(),
            "grep -c bob ${HOME} [0-9]{7} {x} awk '{print $1}'"
        );
        let err = parse("cat {usr}", &p(&["user"])).unwrap_err();
        assert_eq!(err.0, 4);
        assert!(err.1.contains("did you mean {user}?"), "{}", err.1);
    }

    #[test]
    fn shell_values_stay_one_word() {
        let t = parse("crontab -l -u {user} | grep -F -- {entry}", &p(&["user", "entry"])).unwrap();
        check_shell(&t).unwrap();
        let line = t
            .render(
                Context::Shell,
                &["x; touch /tmp/pwned".into(), "$(id)'`id`\n".into()],
                None,
            )
            .unwrap();
        assert_eq!(
            line,
            "crontab -l -u 'x; touch /tmp/pwned' | grep -F -- '$(id)'\\''`id`\n'"
        );
    }

    #[test]
    fn dangerous_values_reach_a_real_shell_as_data() {
        let dir = tempfile::tempdir().unwrap();
        let canary = dir.path().join("pwned");
        let c = canary.to_str().unwrap();
        let t = parse("printf %s {x}", &p(&["x"])).unwrap();
        for value in [
            format!("$(touch {c})"),
            format!("`touch {c}`"),
            format!("'; touch {c}; echo '"),
            format!("a\ntouch {c}\n"),
            format!("x\ntouch {c}"),
            format!("\"; touch {c}; \""),
        ] {
            let line = t.render(Context::Shell, std::slice::from_ref(&value), None).unwrap();
            let out = std::process::Command::new("sh").arg("-c").arg(&line).output().unwrap();
            assert_eq!(String::from_utf8_lossy(&out.stdout), value, "{line}");
            assert!(!canary.exists(), "{line} ran a command");
        }
    }

    #[test]
    fn unsafe_shell_templates_are_rejected() {
        let params = p(&["x"]);
        for bad in [
            "echo '{x}'",
            "echo \"{x}\"",
            "echo `cat {x}`",
            "eval {x}",
            "sh -c {x}",
            "cat <<EOF\n{x}\nEOF",
        ] {
            let t = parse(bad, &params).unwrap();
            assert!(check_shell(&t).is_err(), "{bad}");
        }
        for good in [
            "echo {x}",
            "echo 'a' {x} \"b\"",
            "test -f {x} && echo \"it's\"",
            "echo it\\'s {x}",
        ] {
            let t = parse(good, &params).unwrap();
            assert!(check_shell(&t).is_ok(), "{good}");
        }
        // Without placeholders anything goes: the pack author wrote it, lint shows it.
        check_shell(&parse("sh -c 'echo hi'", &params).unwrap()).unwrap();
    }

    #[test]
    fn a_url_capture_in_the_path_keeps_its_slashes() {
        let mut host = crate::inventory::Host::local("web1");
        host.address = "10.0.0.1".into();
        let t = parse("http://{address}{path}", &p(&["path"])).unwrap();
        let url = |v: &str| t.render(Context::Url, &[v.to_string()], Some(&host));
        assert_eq!(url("/health").unwrap(), "http://10.0.0.1/health");
        assert_eq!(
            url("/a b/c?d#e%f/é").unwrap(),
            "http://10.0.0.1/a%20b/c%3Fd%23e%25f/%C3%A9",
            "what would leave the path is encoded"
        );
        assert_eq!(url("/a:b@c!$&'()*+,;=~").unwrap(), "http://10.0.0.1/a:b@c!$&'()*+,;=~");
        for bad in ["/../etc/passwd", "/a/..", "/a/../b"] {
            let e = url(bad).unwrap_err();
            assert!(e.contains("has a \"..\" segment"), "{bad}: {e}");
        }
        let e = url("evil.example/x").unwrap_err();
        assert!(e.contains("would become part of the host of http://10.0.0.1"), "{e}");
        assert!(url(":8080/x").is_err() && url("@evil/x").is_err());
        // After a literal path: the capture continues it.
        let t = parse("http://{address}/items/{id}", &p(&["id"])).unwrap();
        let got = t.render(Context::Url, &["a/b c".to_string()], Some(&host)).unwrap();
        assert_eq!(got, "http://10.0.0.1/items/a/b%20c");
        let err = t.render(Context::Url, &["..".to_string()], Some(&host)).unwrap_err();
        assert!(err.contains("\"..\""), "{err}");
        // After a base URL from the inventory.
        host.vars.insert("base".into(), "http://10.0.0.1:8080/app".into());
        let t = parse("{vars.base}{path}", &p(&["path"])).unwrap();
        let got = t.render(Context::Url, &["/x y".to_string()], Some(&host)).unwrap();
        assert_eq!(got, "http://10.0.0.1:8080/app/x%20y");
    }

    #[test]
    fn url_json_regex_header_escaping() {
        let t = parse("http://{address}/q?user={u}", &p(&["u"])).unwrap();
        let mut host = crate::inventory::Host::local("web1");
        host.address = "10.0.0.1:8080".into();
        assert_eq!(
            t.render(Context::Url, &["a b&c=/".into()], Some(&host)).unwrap(),
            "http://10.0.0.1:8080/q?user=a%20b%26c%3D%2F"
        );
        let t = parse(r#"{"user": "{u}"}"#, &p(&["u"])).unwrap();
        assert_eq!(
            t.render(Context::Json, &["a\"b".into()], None).unwrap(),
            r#"{"user": "a\"b"}"#
        );
        let t = parse("^{u}$", &p(&["u"])).unwrap();
        assert_eq!(t.render(Context::Regex, &["a.b*".into()], None).unwrap(), r"^a\.b\*$");
        let t = parse("{u}", &p(&["u"])).unwrap();
        assert!(t.render(Context::Header, &["a\r\nX: y".into()], None).is_err());
        let t = parse("Then the file \"{u}\" should exist", &p(&["u"])).unwrap();
        assert!(
            t.render(Context::Step, &["C:\\".into()], None)
                .unwrap_err()
                .contains("backslash")
        );
        assert_eq!(
            t.render(Context::Step, &["a\\b".into()], None).unwrap(),
            "Then the file \"a\\b\" should exist"
        );
    }
}
