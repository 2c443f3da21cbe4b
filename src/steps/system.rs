//! system steps (to be filled by its issue).

use super::StepDef;

/// The system family.
pub const STEPS: &[StepDef] = &[];
