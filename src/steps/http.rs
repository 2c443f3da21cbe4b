//! http steps (to be filled by its issue).

use super::StepDef;

/// The http family.
pub const STEPS: &[StepDef] = &[];

/// What the HTTP steps of one scenario have seen (the responses of the last request
/// step), kept for the Then steps.
#[derive(Debug, Default)]
pub struct HttpState {}
