//! Integration tests against the lab of real hosts (`ci/lab.sh up`): sshd, MariaDB primary
//! and replica, nginx, HAProxy, Apache. Each family has its own module; every test takes
//! the lab lock, so faults injected by one test never meet another.

mod util;

mod core;
mod database;
mod ops;
mod packs;
mod reports;
mod system;
mod web;
