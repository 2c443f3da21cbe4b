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

pub mod cli;
pub mod commands;
pub mod duration;
pub mod error;
pub mod event;
pub mod facts;
pub mod host;
pub mod inventory;
pub mod nearest;
pub mod notify;
pub mod outcome;
pub mod packs;
pub mod probes;
pub mod quote;
pub mod report;
pub mod runner;
pub mod serve;
pub mod signal;
pub mod steps;
pub mod suite;
pub mod template;
pub mod transport;
