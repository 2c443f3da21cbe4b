//! Templates of a pack step: text with `{PARAM}` (a capture named in `params`), `{name}`,
//! `{address}` and `{vars.KEY}` placeholders, and how a value is escaped for each place it
//! lands: shell-quoted as one word in a command, percent-encoded in a URL, JSON-escaped in
//! a JSON body, regex-escaped in a regex. `{{`/`}}` write braces; `${...}` and braces
//! around anything that is not an identifier (`{7}`, `{print $1}`) are left as written.

use crate::inventory::Host;

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
    /// A URL: captures percent-encoded, inventory values verbatim (they are addresses).
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
pub fn parse(text: &str, params: &[String]) -> Result<Template, (usize, String)> {
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
        if rest.starts_with('{') && !after_dollar {
            if let Some(end) = rest.find('}') {
                let inner = &rest[1..end];
                if is_identifier(inner) {
                    let piece = placeholder(inner, params).map_err(|e| (i, e))?;
                    pieces.push(Piece::Text(std::mem::take(&mut buf)));
                    pieces.push(piece);
                    i += end + 1;
                    continue;
                }
            }
        }
        let ch = rest.chars().next().expect("i is inside text");
        buf.push(ch);
        i += ch.len_utf8();
    }
    pieces.push(Piece::Text(buf));
    pieces.retain(|p| !matches!(p, Piece::Text(t) if t.is_empty()));
    Ok(Template {
        source: text.to_string(),
        pieces,
    })
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
        // A feature's command line (`crate::steps::vars::substitute_command`): no captures.
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
                    out.push_str(&escape(ctx, value, true)?);
                }
                Piece::Inventory(key) if ctx == Context::Step => {
                    out.push('{');
                    out.push_str(key);
                    out.push('}');
                }
                Piece::Inventory(key) => {
                    let value = crate::steps::substitute(&format!("{{{key}}}"), host).map_err(|e| e.to_string())?;
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

/// Percent-encodes everything but RFC 3986 unreserved characters.
pub fn percent_encode(value: &str) -> String {
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
pub fn check_shell(t: &Template) -> Result<(), String> {
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
