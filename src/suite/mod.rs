//! From feature files and an inventory to a [`Plan`]: parse, filter by tags and names,
//! expand `@hosts:` over the inventory, partition. All synchronous; contacts no host.

pub mod dialect;
pub mod gherkin_ast;
mod gherkin_build;
pub mod gherkin_line;
pub mod gherkin_parser;
pub mod load;
pub mod model;
pub mod pickles;
pub mod plan;
pub mod refusals;
#[cfg(test)]
pub(crate) mod sample;
pub mod syntax_error;

pub use load::FeatureError;
pub use model::{DocString, Feature, Scenario, Step, StepKind};
pub use plan::{Plan, Unit};
