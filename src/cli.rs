//! The command line (clap derive types only): what CLI.md lists for `run`, `check`, `lint`
//! and `steps`. Validation into run options happens in `commands/`.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

/// shakedown: Behaviour-Driven Infrastructure. Describe how production must behave in
/// Gherkin; shakedown checks it on every host over SSH, HTTP and MySQL.
#[derive(Debug, Parser)]
#[command(name = "shakedown", version, about, propagate_version = true)]
pub struct Cli {
    /// The command.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run suites and report on the console (and JUnit/JSON files).
    Run(RunArgs),
    /// Parse features, match every step, resolve every @hosts: tag; contact nothing.
    Lint(SelectArgs),
    /// Print the step catalogue with an example per sentence.
    Steps(StepsArgs),
    /// Run suites as a Nagios/Icinga plugin: status line with perfdata, exit 0..3.
    Check(CheckArgs),
    /// HTTP health endpoint: /healthz runs the suites (cached), /metrics, /pingdom.
    Serve(ServeArgs),
    /// Write a ready suite: features/, steps/, inventory.toml, ci/ examples.
    Init(InitArgs),
    /// List the SSH masters kept between runs (--keep-connections); --close closes them.
    Connections(ConnectionsArgs),
    /// Write the man pages and shell completions into a directory (for packagers).
    #[command(hide = true)]
    Manual(ManualArgs),
}

/// Which features, which inventory, which scenarios.
#[derive(Debug, Args, Clone)]
pub struct SelectArgs {
    /// Feature files or directories (searched recursively).
    #[arg(default_value = "features")]
    pub paths: Vec<PathBuf>,
    /// Native TOML or Ansible INI/YAML inventory (default: ./inventory.toml when it exists,
    /// else this machine only).
    #[arg(short, long, env = "SHAKEDOWN_INVENTORY")]
    pub inventory: Option<PathBuf>,
    /// Narrow every @hosts: selection (group, name, glob; comma list).
    #[arg(long, value_name = "PATTERN")]
    pub hosts: Option<String>,
    /// Cucumber tag expression, e.g. "@smoke and not @slow".
    #[arg(short, long, value_name = "EXPR")]
    pub tags: Option<String>,
    /// Only scenarios whose name matches this regex.
    #[arg(short, long, value_name = "REGEX")]
    pub name: Option<String>,
    /// Run only the K-th of N stable shards of (scenario, host) pairs.
    #[arg(long, value_name = "K/N")]
    pub partition: Option<String>,
    /// Custom step packs: every *.toml in DIR (default ./steps when it exists).
    #[arg(long, value_name = "DIR")]
    pub steps: Option<PathBuf>,
}

/// Console report styles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Every scenario and host; failing steps with expected/found.
    Pretty,
    /// A progress bar, failures as they happen.
    Progress,
    /// Nothing when every scenario passed; the failures otherwise (for cron).
    Quiet,
}

/// Execution options shared by `run`, `check` and `serve`, declared once so their texts and
/// defaults cannot drift apart. The run deadline (`--timeout`) stays per command: its default
/// differs.
#[derive(Debug, Args, Clone)]
pub struct ExecArgs {
    /// Scenarios in flight at once.
    #[arg(long, default_value_t = 64, value_parser = at_least_one)]
    pub concurrency: usize,
    /// Time allowed for each step (more than 0).
    #[arg(long, default_value = "10s", value_parser = timeout)]
    pub step_timeout: std::time::Duration,
    /// Re-run a failed scenario up to N times before it counts as failed.
    ///
    /// Each retry first waits 0.5 s, then 1 s, 2 s, 4 s, and 8 s before every later one
    /// (never past --timeout), then looks at the host afresh: the files, services, packages,
    /// ports, mounts and processes its steps check are read again (in one command per
    /// attempt), commands run again, and a MySQL connection that failed is tried again.
    #[arg(long, default_value_t = 0)]
    pub retries: u32,
    /// Keep each host's SSH master DURATION (e.g. 10m) after its last use, for the next
    /// run to reuse without a key exchange (over the inventory's `keep_connections`).
    ///
    /// Sockets live in $XDG_RUNTIME_DIR/shakedown/ (else ~/.cache/shakedown/), which must be
    /// the user's own with mode 0700; a master is reused only by a run with the very same
    /// connection settings (user, address, port, key, jump hosts, host-key policy,
    /// known-hosts file, ssh_config). Facts are never kept. `shakedown connections` lists
    /// and closes them.
    #[arg(long, value_name = "DURATION", value_parser = timeout)]
    pub keep_connections: Option<std::time::Duration>,
}

/// What changed since the last run (`run`, `check`): where the (scenario, host) pairs'
/// history is kept.
#[derive(Debug, Args, Clone, Default)]
pub struct StateArgs {
    /// Keep each (scenario, host) pair's last result here, to report new failures, those
    /// still failing (since when) and recoveries (default: a file under
    /// $XDG_STATE_HOME/shakedown/ or ~/.local/state/shakedown/ named from the suite paths,
    /// the inventory and --partition).
    #[arg(long, value_name = "FILE", conflicts_with = "no_state")]
    pub state: Option<PathBuf>,
    /// Keep no history: the reports say nothing about earlier runs.
    #[arg(long)]
    pub no_state: bool,
}

/// `run` options.
#[derive(Debug, Args, Clone)]
pub struct RunArgs {
    /// What to run.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Concurrency, step deadline, retries.
    #[command(flatten)]
    pub exec: ExecArgs,
    /// Time allowed for the whole run; what has not finished is reported as timed out.
    #[arg(long, value_parser = timeout)]
    pub timeout: Option<std::time::Duration>,
    /// Wait for convergence: re-run failing scenario × host pairs until they pass or
    /// DURATION (e.g. 30s, 2m) since each pair's first attempt is spent.
    ///
    /// Right after a deploy: only the pairs that fail are run again, after 0.5 s, 1 s, 2 s,
    /// then every 4 s, each time against the host read afresh; a host that could not be
    /// reached is connected again (within its connect timeout). The report says how long
    /// each pair took to converge ("converged after 14.2s, 4 attempts") or that it did not.
    /// With --retries N as well, a pair gets at most N retries within DURATION. --timeout,
    /// --fail-fast and SIGINT still end the run.
    #[arg(long, value_name = "DURATION", value_parser = timeout)]
    pub until_pass: Option<std::time::Duration>,
    /// Stop starting new scenarios after the first failure.
    ///
    /// Once a scenario has failed (after its retries), no other scenario starts its first
    /// step: those waiting for their turn (--concurrency) or for their host's connection are
    /// reported "not run", no retry starts and no host's facts are read ahead; scenarios
    /// already running steps finish the attempt they are on (a command is never cut).
    #[arg(long)]
    pub fail_fast: bool,
    /// Console report (default: progress on a terminal, pretty otherwise).
    #[arg(long, value_enum)]
    pub format: Option<Format>,
    /// No colours (also NO_COLOR).
    #[arg(long)]
    pub no_color: bool,
    /// Write every command sent to a host, one per line, to this file.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Also write a JUnit XML report (Jenkins, GitLab) to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a Cucumber JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write an HTML report: FILE (one page, style inline), or DIR/ (DIR/index.html
    /// and DIR/shakedown.css).
    ///
    /// A host × scenario matrix (✓ passed, ✗ failed, ◷ timed out, ○ not run, · not
    /// applicable), each failed cell a link to its details, the summary line, the run's time
    /// and command line. No script, no external asset. Jenkins' HTML Publisher serves pages
    /// under a Content-Security-Policy that drops inline styles: give it a directory (an
    /// existing one, or a path ending in /), whose stylesheet is a file beside the page.
    #[arg(long, value_name = "FILE|DIR/")]
    pub html: Option<PathBuf>,
    /// Mail after a failed run, passive results to Nagios/Icinga.
    #[command(flatten)]
    pub notify: NotifyArgs,
    /// The pairs' history between runs.
    #[command(flatten)]
    pub history: StateArgs,
}

/// `check` options: those of `run` without the console, and a run deadline by default.
#[derive(Debug, Args, Clone)]
pub struct CheckArgs {
    /// What to run.
    #[command(flatten)]
    pub select: SelectArgs,
    /// Concurrency, step deadline, retries.
    #[command(flatten)]
    pub exec: ExecArgs,
    /// Time allowed for the whole run (below the monitoring's own timeout); then UNKNOWN
    /// with what is known.
    #[arg(long, default_value = "50s", value_parser = timeout)]
    pub timeout: std::time::Duration,
    /// Wait for convergence: re-run failing scenario × host pairs until they pass or
    /// DURATION (e.g. 30s, 2m) since each pair's first attempt is spent.
    ///
    /// Right after a deploy: only the pairs that fail are run again, after 0.5 s, 1 s, 2 s,
    /// then every 4 s, each time against the host read afresh; a host that could not be
    /// reached is connected again (within its connect timeout). The report says how long
    /// each pair took to converge ("converged after 14.2s, 4 attempts") or that it did not.
    /// With --retries N as well, a pair gets at most N retries within DURATION. --timeout,
    /// --fail-fast and SIGINT still end the run.
    #[arg(long, value_name = "DURATION", value_parser = timeout)]
    pub until_pass: Option<std::time::Duration>,
    /// Stop starting new scenarios after the first failure.
    ///
    /// Once a scenario has failed (after its retries), no other scenario starts its first
    /// step: those waiting for their turn (--concurrency) or for their host's connection are
    /// reported "not run", no retry starts and no host's facts are read ahead; scenarios
    /// already running steps finish the attempt they are on (a command is never cut).
    #[arg(long)]
    pub fail_fast: bool,
    /// Write every command sent to a host, one per line, to this file.
    #[arg(long, value_name = "FILE")]
    pub trace: Option<PathBuf>,
    /// Also write a JUnit XML report to this file.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Also write a Cucumber JSON report to this file.
    #[arg(long, value_name = "FILE")]
    pub json: Option<PathBuf>,
    /// Also write an HTML report: FILE (one page, style inline), or DIR/ (DIR/index.html
    /// and DIR/shakedown.css).
    ///
    /// A host × scenario matrix (✓ passed, ✗ failed, ◷ timed out, ○ not run, · not
    /// applicable), each failed cell a link to its details, the summary line, the run's time
    /// and command line. No script, no external asset. Jenkins' HTML Publisher serves pages
    /// under a Content-Security-Policy that drops inline styles: give it a directory (an
    /// existing one, or a path ending in /), whose stylesheet is a file beside the page.
    #[arg(long, value_name = "FILE|DIR/")]
    pub html: Option<PathBuf>,
    /// Mail after a failed run, passive results to Nagios/Icinga.
    #[command(flatten)]
    pub notify: NotifyArgs,
    /// The pairs' history between runs.
    #[command(flatten)]
    pub history: StateArgs,
}

/// Telling others about a run (`run`, `check`): a mail after a failed run, passive
/// service results (one per host and feature) to NSCA or the Icinga 2 API.
#[derive(Debug, Args, Clone, Default)]
#[command(next_help_heading = "Notifications")]
pub struct NotifyArgs {
    /// After a run with failures, mail the failure report (JUnit XML attached) to ADDR
    /// (repeatable; needs --smtp).
    #[arg(long, value_name = "ADDR")]
    pub mail_to: Vec<String>,
    /// Sender of that mail (default shakedown@<this host>).
    #[arg(long, value_name = "ADDR")]
    pub mail_from: Option<String>,
    /// SMTP server: smtp://HOST:25 (clear), or smtps://USER@HOST:465 with the password in
    /// SHAKEDOWN_SMTP_PASSWORD.
    #[arg(long, value_name = "URL")]
    pub smtp: Option<String>,
    /// Send one passive result per host and feature to this NSCA 2.x daemon (XOR
    /// encryption with SHAKEDOWN_NSCA_PASSWORD when set).
    #[arg(long, value_name = "HOST:PORT")]
    pub nsca: Option<String>,
    /// Send the same results through the Icinga 2 API, https://USER@HOST:5665 (password
    /// in SHAKEDOWN_ICINGA_PASSWORD).
    #[arg(long, value_name = "URL")]
    pub icinga_api: Option<String>,
    /// CA certificate(s), PEM, that the Icinga 2 API's certificate is verified against
    /// (default: the system roots).
    #[arg(long, value_name = "FILE")]
    pub icinga_ca: Option<PathBuf>,
}

/// `serve` options: the selection and execution options of `check`, where to listen, and
/// how long a result is reused.
#[derive(Debug, Args, Clone)]
pub struct ServeArgs {
    /// What to run.
    #[command(flatten)]
    pub select: SelectArgs,
    /// HOST:PORT to listen on: an address or a host name, resolved at start (port 0: any
    /// free port, printed on stderr).
    #[arg(long, value_name = "HOST:PORT", default_value = "127.0.0.1:7979", value_parser = listen_address)]
    pub listen: String,
    /// Answer from the last result while it is younger than this; then run again.
    #[arg(long, value_name = "DUR", default_value = "5s", value_parser = crate::duration::parse)]
    pub cache: std::time::Duration,
    /// Concurrency, step deadline, retries.
    #[command(flatten)]
    pub exec: ExecArgs,
    /// Time allowed for each run; what has not finished is reported as timed out.
    #[arg(long, default_value = "50s", value_parser = timeout)]
    pub timeout: std::time::Duration,
}

/// `connections` options.
#[derive(Debug, Args, Clone)]
pub struct ConnectionsArgs {
    /// Close every kept master (each ends once the runs using it are done).
    #[arg(long)]
    pub close: bool,
}

/// `init` options.
#[derive(Debug, Args, Clone)]
pub struct InitArgs {
    /// Directory to write the suite into (created if missing).
    #[arg(default_value = ".")]
    pub dir: PathBuf,
}

/// `steps` options.
#[derive(Debug, Args, Clone)]
pub struct StepsArgs {
    /// Only steps whose sentence or example holds each word of this text (any case); none:
    /// exit 1, with the nearest words.
    pub filter: Option<String>,
    /// Custom step packs: every *.toml in DIR (default ./steps when it exists).
    #[arg(long, value_name = "DIR")]
    pub steps: Option<PathBuf>,
    /// Print the format of step packs (steps/*.toml) and exit.
    #[arg(long)]
    pub help_format: bool,
}

/// `--concurrency`: a count of at least 1 (0 would run nothing, or everything at once).
fn at_least_one(s: &str) -> Result<usize, String> {
    match s.parse::<usize>() {
        Ok(0) => Err("must be at least 1".into()),
        Ok(n) => Ok(n),
        Err(e) => Err(e.to_string()),
    }
}

/// `--step-timeout`, `--timeout`: a duration (the grammar of [`crate::duration`]) of more
/// than 0, which would fail every step or end the run before it starts.
fn timeout(s: &str) -> Result<std::time::Duration, String> {
    match crate::duration::parse(s)? {
        d if d.is_zero() => Err("must be more than 0: nothing could finish in no time".into()),
        d => Ok(d),
    }
}

/// `--listen`: HOST:PORT, where HOST is an address (`[::1]` for IPv6) or a name resolved
/// now (`localhost:7979`); kept as written, `serve` binds the first address that works.
fn listen_address(s: &str) -> Result<String, String> {
    use std::net::ToSocketAddrs;
    let Some((host, port)) = s.rsplit_once(':') else {
        return Err("not HOST:PORT, e.g. 127.0.0.1:7979 or localhost:7979".into());
    };
    if host.is_empty() || port.parse::<u16>().is_err() {
        return Err("not HOST:PORT, e.g. 127.0.0.1:7979 or localhost:7979".into());
    }
    match s.to_socket_addrs().map(|mut addrs| addrs.next()) {
        Ok(Some(_)) => Ok(s.to_string()),
        Ok(None) => Err(format!("{host} has no address")),
        Err(e) => Err(format!("cannot resolve {host}: {e}")),
    }
}

/// `manual` options.
#[derive(Debug, clap::Args, Clone)]
pub struct ManualArgs {
    /// Directory to write man/ and completions/ into (created if missing).
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
}
