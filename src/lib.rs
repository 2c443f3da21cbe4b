//! shakedown: Behaviour-Driven Infrastructure. Gherkin scenarios run against real hosts
//! over SSH, HTTP and MySQL, reported as a console report, JUnit, Cucumber JSON or Nagios.
//!
//! The flow goes one way:
//!
//! ```text
//! features + inventory ─► suite (parse, filter, expand @hosts) ─► Plan of (scenario, host)
//!                      ─► runner (concurrency, deadlines) ─► steps ─► transport/facts/probes
//!                      ─► events ─► reports
//! ```
//! `lint` is the same pipeline stopped after the plan: nothing reaches the network.

#![warn(unreachable_pub)]

pub mod cli;
pub mod commands;
pub(crate) mod duration;
pub mod error;
pub mod event;
pub(crate) mod facts;
pub(crate) mod host;
pub mod inventory;
pub(crate) mod nearest;
pub(crate) mod notify;
pub(crate) mod outcome;
pub mod packs;
pub(crate) mod probes;
pub(crate) mod quote;
pub mod report;
pub(crate) mod runner;
pub mod serve;
pub(crate) mod signal;
pub(crate) mod state;
pub mod steps;
pub mod suite;
pub(crate) mod template;
pub(crate) mod transport;
