//! haproxy steps (to be filled by its issue).

use super::StepDef;

/// The haproxy family.
pub const STEPS: &[StepDef] = &[];
