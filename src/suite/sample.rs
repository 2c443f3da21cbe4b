//! Features and units built by hand for the unit tests of what reads results (reports, the
//! state, mail): the one place that spells out every field of [`Feature`], [`Scenario`],
//! [`Step`] and [`Unit`], so a new field is added here and nowhere else.

use std::sync::Arc;

use super::{Feature, Scenario, Step, StepKind, Unit};

/// A step with its keyword (`"Then "`), text and line (column 5).
pub(crate) fn step(keyword: &str, text: &str, line: usize) -> Step {
    Step {
        keyword: keyword.into(),
        kind: StepKind::Unknown,
        text: text.into(),
        line,
        column: 5,
        doc_string: None,
        table: None,
    }
}

/// A scenario named `name` at `line` (column 3).
pub(crate) fn scenario(name: &str, line: usize, steps: Vec<Step>) -> Scenario {
    Scenario {
        name: name.into(),
        keyword: "Scenario".into(),
        line,
        column: 3,
        tags: Vec::new(),
        rule: None,
        steps,
        row: None,
    }
}

/// A feature file at `path` named `name`.
pub(crate) fn feature(path: &str, name: &str, scenarios: Vec<Scenario>) -> Arc<Feature> {
    Arc::new(Feature {
        path: path.into(),
        name: name.into(),
        keyword: "Feature".into(),
        line: 1,
        tags: Vec::new(),
        description: String::new(),
        scenarios,
    })
}

/// The unit of `feature`'s scenario number `index` on `host`, its id as the plan makes it.
pub(crate) fn unit(feature: &Arc<Feature>, index: usize, host: &str) -> Arc<Unit> {
    let scenario = feature.scenarios[index].clone();
    Arc::new(Unit {
        id: format!("{}:{} [{host}]", feature.path.display(), scenario.line),
        feature: feature.clone(),
        scenario: Arc::new(scenario),
        host: Some(host.into()),
    })
}

/// The usual sample: `web.feature`'s scenario `name` at line 3, whose one step (line 4) is
/// `Then service nginx should be running`, on `host`.
pub(crate) fn nginx_unit(name: &str, host: &str) -> Arc<Unit> {
    let one = scenario(name, 3, vec![step("Then ", "service nginx should be running", 4)]);
    unit(&feature("web.feature", "Web", vec![one]), 0, host)
}
