//! consistency steps (to be filled by its issue).

use super::StepDef;

/// The consistency family.
pub const STEPS: &[StepDef] = &[];
