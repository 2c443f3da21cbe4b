//! Integration tests against the lab of real hosts (`ci/lab.sh up`): sshd, MariaDB primary
//! and replica, nginx, HAProxy, Apache. Each family has its own module; every test takes
//! the lab lock, so faults injected by one test never meet another.

mod util;

/// The real SMTP server and nsca daemon of tests/ops, shared by the ops and canary tests.
#[path = "../ops/servers.rs"]
mod servers;

mod bastion;
mod r#become;
mod canary;
mod converge;
mod core;
mod database;
mod deadlines;
mod fault;
mod faults;
mod fleet;
mod html;
mod init;
mod injection;
mod inventory;
mod ops;
mod packs;
mod processes;
mod reports;
mod runner;
mod scale;
mod serve;
mod state;
mod system;
mod systemd;
mod warm;
mod web;
