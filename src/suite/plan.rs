//! The plan: every (scenario, host) pair that will run, fully resolved before anything
//! runs. `@hosts:` tags are expanded over the inventory here, `--hosts` narrows them, and
//! unknown patterns are errors at the tag's line.

use std::path::PathBuf;
use std::sync::Arc;

use super::load::FeatureError;
use super::model::{Feature, Scenario};
use crate::inventory::Inventory;

/// One unit of work: a scenario on one host (or on no host).
#[derive(Debug, Clone)]
pub struct Unit {
    /// Stable id, `features/web.feature:12 [web1]`: used for partitions and names.
    pub id: String,
    /// The feature the scenario belongs to.
    pub feature: Arc<Feature>,
    /// The scenario.
    pub scenario: Arc<Scenario>,
    /// Inventory name of the current host, if any.
    pub host: Option<String>,
}

impl Unit {
    /// `Scenario name [host]`, as every report names it (an outline row whose name other
    /// rows share: `Scenario name #2 [host]`, see [`crate::suite::Scenario::title`]).
    pub fn display_name(&self) -> String {
        match &self.host {
            Some(h) => format!("{} [{}]", self.scenario.title(), h),
            None => self.scenario.title(),
        }
    }
}

/// Everything a run will do, in order.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    /// The features read (including those whose scenarios were all filtered out).
    pub features: Vec<Arc<Feature>>,
    /// The units, feature by feature, scenario by scenario, host by host.
    pub units: Vec<Unit>,
    /// How many units the paths, `--tags`, `--name` and `--hosts` selected, before
    /// `--partition`: none is bad input, an empty shard is not.
    pub selected: usize,
}

/// How the user narrowed the selection.
#[derive(Debug, Clone, Default)]
pub struct Selection {
    /// Cucumber tag expression (`-t`).
    pub tags: Option<gherkin::tagexpr::TagOperation>,
    /// Scenario name regex (`-n`).
    pub name: Option<regex::Regex>,
    /// `--hosts` pattern.
    pub hosts: Option<String>,
    /// `--partition K/N` as (K, N), 1-based K.
    pub partition: Option<(u64, u64)>,
}

/// Builds the plan; an unknown `@hosts:` pattern is an error at the scenario's line.
pub fn build(features: Vec<Feature>, inventory: &Inventory, sel: &Selection) -> Result<Plan, FeatureError> {
    let narrow = match &sel.hosts {
        Some(p) => Some(inventory.select(p).map_err(|e| FeatureError {
            path: PathBuf::from(format!("--hosts {p:?}")),
            line: 0,
            column: 0,
            message: e.to_string(),
        })?),
        None => None,
    };
    let mut plan = Plan::default();
    for feature in features {
        let feature = Arc::new(feature);
        plan.features.push(feature.clone());
        for scenario in &feature.scenarios {
            if !selected(scenario, sel) {
                continue;
            }
            let scenario = Arc::new(scenario.clone());
            for host in hosts_for(&feature, &scenario, inventory, narrow.as_deref())? {
                let id = match &host {
                    Some(h) => format!("{}:{} [{}]", feature.path.display(), scenario.line, h),
                    None => format!("{}:{}", feature.path.display(), scenario.line),
                };
                plan.units.push(Unit {
                    id,
                    feature: feature.clone(),
                    scenario: scenario.clone(),
                    host,
                });
            }
        }
    }
    plan.selected = plan.units.len();
    if let Some((k, n)) = sel.partition {
        plan.units.retain(|u| shard_of(&u.id, n) == k);
    }
    Ok(plan)
}

/// Whether `--tags` and `--name` select the scenario.
pub fn selected(s: &Scenario, sel: &Selection) -> bool {
    if let Some(expr) = &sel.tags {
        let bare: Vec<String> = s.tags.iter().map(|t| t.trim_start_matches('@').to_string()).collect();
        if !eval_tags(expr, &bare) {
            return false;
        }
    }
    if let Some(re) = &sel.name {
        // The pickle's name, as Cucumber matches it, or the numbered title reports show.
        if !re.is_match(&s.name) && !re.is_match(&s.title()) {
            return false;
        }
    }
    true
}

/// Evaluates a parsed Cucumber tag expression (the gherkin crate parses, tags without `@`).
fn eval_tags(expr: &gherkin::tagexpr::TagOperation, tags: &[String]) -> bool {
    use gherkin::tagexpr::TagOperation as Op;
    match expr {
        Op::And(a, b) => eval_tags(a, tags) && eval_tags(b, tags),
        Op::Or(a, b) => eval_tags(a, tags) || eval_tags(b, tags),
        Op::Not(a) => !eval_tags(a, tags),
        Op::Tag(t) => tags.iter().any(|x| x == t.trim_start_matches('@')),
    }
}

fn hosts_for(
    feature: &Feature,
    scenario: &Scenario,
    inventory: &Inventory,
    narrow: Option<&[String]>,
) -> Result<Vec<Option<String>>, FeatureError> {
    let Some(pattern) = scenario.hosts_pattern() else {
        if inventory.is_implicit() {
            return Ok(vec![Some("localhost".into())]);
        }
        return Ok(vec![None]);
    };
    let hosts = inventory.select(pattern).map_err(|e| FeatureError {
        path: feature.path.clone(),
        line: scenario.line,
        column: scenario.column,
        message: format!("@hosts:{pattern}: {e}"),
    })?;
    Ok(hosts
        .into_iter()
        .filter(|h| narrow.is_none_or(|n| n.contains(h)))
        .map(Some)
        .collect())
}

/// The 1-based shard of `id` among `n`: FNV-1a, stable on every machine and version.
pub fn shard_of(id: &str, n: u64) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash % n + 1
}
