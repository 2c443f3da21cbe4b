//! Ansible's `ansible_ssh_common_args` and `ansible_ssh_extra_args`: extra `ssh` command-line
//! arguments, split as Ansible splits them (Python's `shlex`), read as the ssh options they
//! set. Every option is sorted into one of four kinds:
//!
//! - options shakedown has a setting for (`Port`, `User`, `IdentityFile`, `UserKnownHostsFile`,
//!   `StrictHostKeyChecking`, `ConnectTimeout`, `ProxyJump`) become that setting, below any other that the
//!   inventory gives (on Ansible's command line these come last, and ssh keeps the first value
//!   of an option);
//! - options that can run a command, load code or open a tunnel on this machine (`ProxyCommand`,
//!   `LocalCommand`, `PermitLocalCommand`, `KnownHostsCommand`, `Match`, `Include`,
//!   `PKCS11Provider`, X11 forwarding...) are refused, naming the variable, unless set to the
//!   value that turns them off (`ProxyCommand=none`, `PermitLocalCommand=no`...);
//! - options of the connection shakedown manages itself (`ControlMaster`, `ControlPath`,
//!   `ControlPersist`, `BatchMode`, `ServerAliveInterval`) are ignored with a warning;
//! - any other ssh_config keyword is passed to ssh as it is (`HostKeyAlias=web1`), after checks
//!   that its value is one line and, for `HostName`, an address.
//!
//! Unknown keywords and flags are errors with the nearest keyword.

use std::time::Duration;

use super::Owner;
use crate::inventory::build::{JumpSpec, Settings, SshArgs};
use crate::inventory::validate::{self, Env};
use crate::inventory::{HostKeyChecking, Location};

/// What one option does, by its lower-case keyword.
enum Kind {
    /// Becomes a shakedown setting.
    Setting,
    /// Refused unless its value is the one given (`None`: always refused), with why.
    Runs(Option<&'static str>, &'static str),
    /// Ignored: shakedown sets it for its own connection.
    Managed,
    /// Passed to ssh as written.
    Passed,
}

fn kind(lower: &str) -> Kind {
    const RUNS_A_COMMAND: &str = "runs a command on this machine";
    match lower {
        "port"
        | "user"
        | "identityfile"
        | "userknownhostsfile"
        | "stricthostkeychecking"
        | "connecttimeout"
        | "proxyjump" => Kind::Setting,
        "proxycommand" => Kind::Runs(Some("none"), RUNS_A_COMMAND),
        "localcommand" => Kind::Runs(None, RUNS_A_COMMAND),
        "permitlocalcommand" => Kind::Runs(Some("no"), "lets LocalCommand run a command on this machine"),
        "knownhostscommand" => Kind::Runs(Some("none"), RUNS_A_COMMAND),
        "remotecommand" => Kind::Runs(Some("none"), "replaces the commands shakedown runs on the host"),
        "xauthlocation" => Kind::Runs(None, "names a program ssh runs on this machine"),
        "forwardx11" | "forwardx11trusted" => Kind::Runs(Some("no"), "runs xauth on this machine"),
        "pkcs11provider" => Kind::Runs(Some("none"), "loads a library into ssh on this machine"),
        "securitykeyprovider" => Kind::Runs(Some("internal"), "loads a library into ssh on this machine"),
        "match" => Kind::Runs(None, "runs a command (Match exec) or opens a block"),
        "host" => Kind::Runs(None, "opens a block of ssh configuration"),
        "include" => Kind::Runs(None, "reads more ssh configuration, which could run a command"),
        "localforward" | "remoteforward" | "dynamicforward" | "permitremoteopen" => {
            Kind::Runs(None, "opens a tunnel; shakedown's connections only read")
        }
        "tunnel" => Kind::Runs(Some("no"), "opens a tunnel; shakedown's connections only read"),
        "controlmaster" | "controlpath" | "controlpersist" | "batchmode" | "serveraliveinterval" => Kind::Managed,
        _ => Kind::Passed,
    }
}

/// Every ssh_config(5) keyword of OpenSSH 9 (and common older or vendor ones ssh still
/// accepts), for "not an ssh option" errors with the nearest keyword.
const KEYWORDS: &[&str] = &[
    "AddKeysToAgent",
    "AddressFamily",
    "BatchMode",
    "BindAddress",
    "BindInterface",
    "CanonicalDomains",
    "CanonicalizeFallbackLocal",
    "CanonicalizeHostname",
    "CanonicalizeMaxDots",
    "CanonicalizePermittedCNAMEs",
    "CASignatureAlgorithms",
    "CertificateFile",
    "ChallengeResponseAuthentication",
    "ChannelTimeout",
    "CheckHostIP",
    "Ciphers",
    "ClearAllForwardings",
    "Compression",
    "ConnectionAttempts",
    "ConnectTimeout",
    "ControlMaster",
    "ControlPath",
    "ControlPersist",
    "DynamicForward",
    "EnableEscapeCommandline",
    "EnableSSHKeysign",
    "EscapeChar",
    "ExitOnForwardFailure",
    "FingerprintHash",
    "ForkAfterAuthentication",
    "ForwardAgent",
    "ForwardX11",
    "ForwardX11Timeout",
    "ForwardX11Trusted",
    "GatewayPorts",
    "GlobalKnownHostsFile",
    "GSSAPIAuthentication",
    "GSSAPIClientIdentity",
    "GSSAPIDelegateCredentials",
    "GSSAPIKexAlgorithms",
    "GSSAPIKeyExchange",
    "GSSAPIRenewalForcesRekey",
    "GSSAPIServerIdentity",
    "GSSAPITrustDns",
    "HashKnownHosts",
    "Host",
    "HostbasedAcceptedAlgorithms",
    "HostbasedAuthentication",
    "HostbasedKeyTypes",
    "HostKeyAlgorithms",
    "HostKeyAlias",
    "HostName",
    "IdentitiesOnly",
    "IdentityAgent",
    "IdentityFile",
    "IgnoreUnknown",
    "Include",
    "IPQoS",
    "KbdInteractiveAuthentication",
    "KbdInteractiveDevices",
    "KeepAlive",
    "KexAlgorithms",
    "KnownHostsCommand",
    "LocalCommand",
    "LocalForward",
    "LogLevel",
    "LogVerbose",
    "MACs",
    "Match",
    "NoHostAuthenticationForLocalhost",
    "NumberOfPasswordPrompts",
    "ObscureKeystrokeTiming",
    "PasswordAuthentication",
    "PermitLocalCommand",
    "PermitRemoteOpen",
    "PKCS11Provider",
    "Port",
    "PreferredAuthentications",
    "Protocol",
    "ProxyCommand",
    "ProxyJump",
    "ProxyUseFdpass",
    "PubkeyAcceptedAlgorithms",
    "PubkeyAcceptedKeyTypes",
    "PubkeyAuthentication",
    "RekeyLimit",
    "RemoteCommand",
    "RemoteForward",
    "RequestTTY",
    "RequiredRSASize",
    "RevokedHostKeys",
    "SecurityKeyProvider",
    "SendEnv",
    "ServerAliveCountMax",
    "ServerAliveInterval",
    "SessionType",
    "SetEnv",
    "StdinNull",
    "StreamLocalBindMask",
    "StreamLocalBindUnlink",
    "StrictHostKeyChecking",
    "SyslogFacility",
    "Tag",
    "TCPKeepAlive",
    "Tunnel",
    "TunnelDevice",
    "UpdateHostKeys",
    "UseKeychain",
    "User",
    "UserKnownHostsFile",
    "VerifyHostKeyDNS",
    "VisualHostKey",
    "XAuthLocation",
];

/// The ssh command-line flags that only set an option, and the option they set.
fn flag_option(flag: char) -> Option<&'static str> {
    Some(match flag {
        'C' => "Compression=yes",
        '4' => "AddressFamily=inet",
        '6' => "AddressFamily=inet6",
        'A' => "ForwardAgent=yes",
        'a' => "ForwardAgent=no",
        'x' => "ForwardX11=no",
        'X' => "ForwardX11=yes",
        'Y' => "ForwardX11Trusted=yes",
        'k' => "GSSAPIDelegateCredentials=no",
        'K' => "GSSAPIDelegateCredentials=yes",
        'g' => "GatewayPorts=yes",
        _ => return None,
    })
}

/// The ssh flags that take a value and set an option (`-p 2222` is `Port=2222`).
fn valued_flag(flag: char) -> Option<&'static str> {
    Some(match flag {
        'o' => "",
        'i' => "IdentityFile",
        'p' => "Port",
        'l' => "User",
        'J' => "ProxyJump",
        'c' => "Ciphers",
        'm' => "MACs",
        'b' => "BindAddress",
        'B' => "BindInterface",
        'e' => "EscapeChar",
        'L' => "LocalForward",
        'R' => "RemoteForward",
        'D' => "DynamicForward",
        'w' => "TunnelDevice",
        _ => return None,
    })
}

/// Flags about how ssh runs, which shakedown decides for its own connection.
const MANAGED_FLAGS: &str = "vqTtnNfMsG";

/// What the arguments of one variable give: the options and settings, and warnings.
pub(super) struct Parsed {
    /// The settings and options.
    pub args: SshArgs,
    /// What was ignored, as messages without location.
    pub warnings: Vec<String>,
}

/// Reads the value of `var` (of `owner`) written at `at`; the error names the variable.
pub(super) fn parse(var: &str, value: &str, owner: &Owner, at: &Location, env: Env) -> Result<Parsed, String> {
    let of = format!("{var} of {owner}");
    let words = shlex::split(value).ok_or_else(|| format!("{of}: unclosed quote in {value:?}"))?;
    let mut options: Vec<String> = Vec::new();
    let mut warnings = Vec::new();
    let mut words = words.into_iter();
    while let Some(word) = words.next() {
        let Some(flags) = word.strip_prefix('-').filter(|f| !f.is_empty()) else {
            return Err(format!(
                "{of}: unexpected {word:?}; ssh options are written -o Keyword=value"
            ));
        };
        for (i, flag) in flags.char_indices() {
            if let Some(keyword) = valued_flag(flag) {
                let rest = &flags[i + flag.len_utf8()..];
                let arg = match rest {
                    "" => words.next().ok_or_else(|| format!("{of}: -{flag} needs a value"))?,
                    r => r.to_string(),
                };
                options.push(if keyword.is_empty() {
                    arg
                } else {
                    format!("{keyword}={arg}")
                });
                break;
            }
            if let Some(option) = flag_option(flag) {
                options.push(option.to_string());
            } else if MANAGED_FLAGS.contains(flag) {
                warnings.push(format!("{of}: -{flag} is ignored: shakedown runs ssh its own way"));
            } else if flag == 'F' {
                return Err(format!(
                    "{of}: -F reads another ssh configuration, which could run a command; shakedown does not pass it"
                ));
            } else {
                return Err(format!(
                    "{of}: -{flag} is not an ssh flag shakedown passes on; write the option as -o Keyword=value"
                ));
            }
        }
    }
    let mut args = SshArgs {
        settings: Box::default(),
        options: Vec::new(),
    };
    for text in options {
        option(&of, &text, at, env, &mut args, &mut warnings)?;
    }
    Ok(Parsed { args, warnings })
}

/// Sorts one `Keyword=value` (or `Keyword value`) option.
fn option(
    of: &str,
    text: &str,
    at: &Location,
    env: Env,
    args: &mut SshArgs,
    warnings: &mut Vec<String>,
) -> Result<(), String> {
    let text = text.trim();
    let end = text.find(|c: char| c == '=' || c.is_whitespace()).unwrap_or(text.len());
    let (keyword, rest) = text.split_at(end);
    let rest = rest.trim_start();
    let value = rest.strip_prefix('=').unwrap_or(rest).trim_start();
    let lower = keyword.to_ascii_lowercase();
    let Some(known) = KEYWORDS.iter().find(|k| k.eq_ignore_ascii_case(keyword)) else {
        let hint = validate::hint(keyword, KEYWORDS.iter().copied());
        return Err(format!("{of}: {keyword:?} is not an ssh option{hint}"));
    };
    if let Some(c) = value.chars().find(|c| c.is_control() && *c != '\t') {
        return Err(format!("{of}: the value of {known} contains {c:?}"));
    }
    if value.is_empty() {
        return Err(format!("{of}: {known} has no value"));
    }
    let unquoted = value.trim_matches('"');
    match kind(&lower) {
        Kind::Runs(Some(off), _) if unquoted.eq_ignore_ascii_case(off) => {
            args.options.push(format!("{known}={value}"));
        }
        Kind::Runs(..) if lower == "proxycommand" && jump_command(unquoted, at, env).is_ok() => {
            args.options.push(format!("{known}={value}"));
        }
        Kind::Runs(off, why) => {
            // A yes/no option is named with its value; a command or path only by keyword.
            let shown = if off == Some("no") {
                format!("{known}={unquoted}")
            } else {
                known.to_string()
            };
            let instead = match jump_command(unquoted, at, env) {
                Err(e) if lower == "proxycommand" => format!(
                    " ({e}; only the jump-host form `ssh [-p PORT] [-l USER] [-i KEY] [-o Keyword=value] -W %h:%p HOST` is, or ProxyJump=HOST)"
                ),
                _ => String::new(),
            };
            return Err(format!("{of}: {shown} {why}; shakedown does not pass it{instead}"));
        }
        Kind::Managed => warnings.push(format!(
            "{of}: {known} is ignored: shakedown keeps one connection per host its own way"
        )),
        Kind::Setting => setting(of, known, &lower, unquoted, at, env, args)?,
        Kind::Passed => {
            let bad = |reason: String| format!("{of}: {known}: {reason}");
            if lower == "hostname" {
                validate::address(unquoted).map_err(bad)?;
            }
            args.options.push(format!("{known}={value}"));
        }
    }
    Ok(())
}

/// An option with a shakedown setting: the first value of each wins, as in ssh.
fn setting(
    of: &str,
    known: &str,
    lower: &str,
    value: &str,
    at: &Location,
    env: Env,
    args: &mut SshArgs,
) -> Result<(), String> {
    let bad = |reason: String| format!("{of}: {known}: {reason}");
    let s: &mut Settings = &mut args.settings;
    match lower {
        "port" if s.port.is_none() => s.port = Some(validate::port_text(value).map_err(bad)?),
        "user" if s.user.is_none() => {
            validate::user(value).map_err(bad)?;
            s.user = Some(value.to_string());
        }
        "identityfile" if s.identity_file.is_none() => {
            s.identity_file = Some(validate::path(value, env).map_err(bad)?);
            s.identity_file_at = Some(at.clone());
        }
        // ssh adds every IdentityFile it is given.
        "identityfile" => args.options.push(format!("{known}={value}")),
        "userknownhostsfile" if s.known_hosts_file.is_none() => {
            s.known_hosts_file = Some(validate::path(value, env).map_err(bad)?);
        }
        "stricthostkeychecking" if s.host_key_checking.is_none() => {
            s.host_key_checking = Some(match value.to_ascii_lowercase().as_str() {
                "yes" | "ask" => HostKeyChecking::Strict,
                "accept-new" => HostKeyChecking::AcceptNew,
                "no" | "off" => HostKeyChecking::Off,
                _ => return Err(bad(format!("{value:?} is not yes, accept-new, no, off or ask"))),
            });
        }
        // The jump hosts become shakedown's proxy_jump: each hop gets its own key and
        // known-hosts (ssh's -o options would reach the destination only).
        "proxyjump" if s.proxy_jump.is_none() => {
            s.proxy_jump = Some(JumpSpec {
                hops: validate::jump_hops(value).map_err(bad)?,
                at: at.clone(),
                what: of.to_string(),
                names_only: false,
            });
        }
        "connecttimeout" if s.connect_timeout.is_none() => {
            let secs: u64 = value
                .parse()
                .ok()
                .filter(|n| *n > 0)
                .ok_or_else(|| bad(format!("{value:?} is not a number of seconds")))?;
            s.connect_timeout = Some(Duration::from_secs(secs));
        }
        _ => {}
    }
    Ok(())
}

/// One hop of `ProxyJump`: `[user@]host[:port]` or `ssh://[user@]host[:port]`, which ssh
/// runs as its own ssh command: never an option, never shell syntax.
fn jump_hop(hop: &str) -> Result<(), String> {
    let bare = hop.strip_prefix("ssh://").unwrap_or(hop);
    let ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '_' | '@' | ':' | '[' | ']' | '%');
    match bare.chars().find(|c| !ok(*c)) {
        _ if bare.is_empty() => Err("an empty jump host".into()),
        _ if bare.starts_with('-') => Err(format!("{hop:?} starts with \"-\"")),
        Some(c) => Err(format!("{hop:?} contains {c:?}")),
        None => Ok(()),
    }
}

/// Whether a `ProxyCommand` is the jump-host form `ssh [FLAGS] -W %h:%p [USER@]HOST`, shown
/// safe: ssh runs it with `sh -c "exec COMMAND"`, and here every word is plain (no quote,
/// `$`, backtick, `;`, `|`, redirection or space survives the check), the program is ssh,
/// its flags are only those that pick the jump host and its options pass the same checks
/// as the host's own (no nested ProxyCommand), and `%h`/`%p` expand to the checked address
/// and port. So it only ever runs ssh to the jump host, as `ProxyJump` does.
fn jump_command(value: &str, at: &Location, env: Env) -> Result<(), String> {
    let words = shlex::split(value).ok_or("unclosed quote")?;
    let plain = |w: &str| {
        !w.is_empty()
            && w.chars().all(|c| {
                c.is_ascii_alphanumeric()
                    || matches!(c, '@' | '%' | ':' | '.' | '_' | '/' | '=' | ',' | '+' | '-' | '[' | ']')
            })
    };
    if let Some(w) = words.iter().find(|w| !plain(w)) {
        return Err(format!("{w:?} is not a plain word"));
    }
    let mut words = words.iter().map(String::as_str);
    let program = words.next().unwrap_or_default();
    if program != "ssh" && !program.ends_with("/ssh") {
        return Err(format!("it runs {program:?}, not ssh"));
    }
    let (mut forward, mut destination) = (false, None);
    while let Some(word) = words.next() {
        let Some(flag) = word.strip_prefix('-') else {
            if destination.replace(word).is_some() {
                return Err(format!("{word:?} is a second destination"));
            }
            continue;
        };
        let (f, rest) = flag.split_at(flag.len().min(1));
        if rest.is_empty() && "q46CTAaxvN".contains(f) && !f.is_empty() {
            continue;
        }
        let arg = match rest {
            "" => words.next().ok_or_else(|| format!("-{f} needs a value"))?,
            r => r,
        };
        match f {
            "W" if matches!(arg, "%h:%p" | "[%h]:%p") => forward = true,
            "p" => validate::port_text(arg).map(|_| ())?,
            "l" => validate::user(arg)?,
            "J" => arg.split(',').try_for_each(jump_hop)?,
            "i" => {}
            "o" => {
                let mut scratch = SshArgs::default();
                option("the jump command", arg, at, env, &mut scratch, &mut Vec::new())?;
            }
            _ => return Err(format!("-{f} is not a jump-host flag")),
        }
    }
    match (forward, destination) {
        (true, Some(host)) => jump_hop(host),
        (false, _) => Err("it has no -W %h:%p".into()),
        (true, None) => Err("it names no jump host".into()),
    }
}
