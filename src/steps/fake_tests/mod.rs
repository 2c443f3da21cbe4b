//! Async unit tests of the step families on the fake transport ([`crate::transport::Fake`]):
//! each test finds a sentence's definition in the step library, builds a [`StepCtx`] on a
//! fake host as the runner does, calls the step, and asserts what it passed or failed with.
//! Canned outputs come from `fixtures/captured/` where a capture exists.

mod accounts;
mod command;
mod consistency;
mod files;
mod mounts;
mod packages;
mod ports;
mod processes;
mod services;

use std::sync::Arc;
use std::time::Duration;

use crate::host::HostPool;
use crate::inventory::{Host, Inventory};
use crate::steps::{Args, Match, Outcome, StepCtx, StepLibrary};
use crate::suite::{Feature, Scenario, Unit};
use crate::transport::{Fake, Output};

/// A captured output from `fixtures/captured/`.
fn fixture(path: &str) -> String {
    std::fs::read_to_string(format!("{}/fixtures/captured/{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
}

/// Exit 0 with `stdout`.
fn ok(stdout: impl Into<Vec<u8>>) -> Output {
    Fake::output(0, stdout, "")
}

/// The shell text of the platform detection, as the facts send it.
fn platform_cmd() -> String {
    crate::facts::platform::command().to_shell()
}

/// The built-in Rust steps (no pack), compiled once for every test (it takes a while
/// unoptimised).
fn library() -> &'static StepLibrary {
    static LIBRARY: std::sync::OnceLock<StepLibrary> = std::sync::OnceLock::new();
    LIBRARY.get_or_init(|| {
        StepLibrary::from_defs(crate::steps::builtin_tables().into_iter().flatten().cloned().collect())
            .expect("built-in sentences compile")
    })
}

/// Fake hosts by name, in one pool (groups: name → members), and the fakes to inspect.
struct Fleet {
    pool: Arc<HostPool>,
    fakes: std::collections::BTreeMap<String, Arc<Fake>>,
}

impl Fleet {
    /// One fake host, `web1`.
    fn one(fake: Fake) -> Self {
        Fleet::of(vec![("web1", fake)], &[])
    }

    /// One fake host, `web1`, logged into as `user`.
    fn one_as(fake: Fake, user: &str) -> Self {
        let fleet = Fleet::of(vec![("web1", fake)], &[]);
        let mut inventory = Inventory::default();
        let mut host = Host::local("web1");
        host.user = Some(user.to_string());
        inventory.hosts.insert("web1".into(), host);
        let fakes = fleet.fakes;
        let pool = HostPool::with_transports(&inventory, |h| fakes[&h.name].clone());
        Fleet {
            pool: Arc::new(pool),
            fakes,
        }
    }

    /// Fake hosts, and groups of them.
    fn of(hosts: Vec<(&str, Fake)>, groups: &[(&str, &[&str])]) -> Self {
        let mut inventory = Inventory::default();
        let mut fakes = std::collections::BTreeMap::new();
        for (name, fake) in hosts {
            let mut host = Host::local(name);
            host.groups = groups
                .iter()
                .filter(|(_, members)| members.contains(&name))
                .map(|(g, _)| g.to_string())
                .collect();
            inventory.hosts.insert(name.to_string(), host);
            fakes.insert(name.to_string(), Arc::new(fake));
        }
        for (group, members) in groups {
            inventory
                .groups
                .insert(group.to_string(), members.iter().map(|m| m.to_string()).collect());
        }
        let pool = HostPool::with_transports(&inventory, |h| fakes[&h.name].clone());
        Fleet {
            pool: Arc::new(pool),
            fakes,
        }
    }

    /// The fake of host `name`.
    fn fake(&self, name: &str) -> &Fake {
        &self.fakes[name]
    }

    /// Runs `texts` in order on `host` in one scenario (as the runner's ordered steps share
    /// the scenario's state), each through the step library; their outcomes, or the error
    /// of the first that could not check.
    async fn run_on(&self, host: Option<&str>, texts: &[&str]) -> Result<Vec<Outcome>, String> {
        let library = library();
        let scenario = Scenario {
            name: "fake".into(),
            keyword: "Scenario".into(),
            line: 1,
            column: 1,
            tags: vec![],
            rule: None,
            steps: vec![],
            row: None,
        };
        let feature = Arc::new(Feature {
            path: "fake.feature".into(),
            name: "fake".into(),
            keyword: "Feature".into(),
            line: 1,
            tags: vec![],
            description: String::new(),
            scenarios: vec![scenario.clone()],
        });
        let unit = Arc::new(Unit {
            id: "fake.feature:1".into(),
            feature,
            scenario: Arc::new(scenario),
            host: host.map(str::to_string),
        });
        let handle = host.map(|h| self.pool.get(h).expect("a host of the fleet"));
        let mut ctx = StepCtx {
            unit,
            host: handle.clone(),
            pool: self.pool.clone(),
            step_timeout: Duration::from_secs(5),
            last_command: None,
            http: Default::default(),
        };
        let mut outcomes = Vec::new();
        for text in texts {
            // The runner matches the text after the keyword.
            let text = text.split_once(' ').map_or(*text, |(_, t)| t);
            let Match::One(def, raw) = library.find(text) else {
                panic!("no one definition for {text:?}");
            };
            let values = library
                .substitute_args(def, &raw, handle.as_ref().map(|h| &h.host))
                .expect("arguments substitute");
            let args = Args {
                values,
                doc_string: None,
                table: None,
            };
            outcomes.push(library.call(def, &mut ctx, args).await.map_err(|e| e.to_string())?);
        }
        Ok(outcomes)
    }

    /// Runs one step on `web1`: its outcome.
    async fn check(&self, text: &str) -> Outcome {
        let mut out = self
            .run_on(Some("web1"), &[text])
            .await
            .unwrap_or_else(|e| panic!("{text}: {e}"));
        out.remove(0)
    }
}

/// Asserts a failed outcome with its expected and found text.
#[track_caller]
fn failed(o: &Outcome, expected: &str, found: &str) {
    assert!(!o.passed, "{o:?}");
    assert_eq!((o.expected.as_str(), o.found.as_str()), (expected, found));
}
