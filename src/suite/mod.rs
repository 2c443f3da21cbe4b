//! From feature files and an inventory to a [`Plan`]: parse, filter by tags and names,
//! expand `@hosts:` over the inventory, partition. All synchronous; contacts no host.

pub mod load;
pub mod model;
pub mod plan;

pub use load::FeatureError;
pub use model::{DocString, Feature, Scenario, Step, StepKind};
pub use plan::{Plan, Unit};
