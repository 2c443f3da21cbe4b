//! Integration tests of the operations paths against real servers started by the tests:
//! the `--mail-to` mail through an SMTP server (aiosmtpd), passive results through the NSCA
//! daemon into a command file, and the Icinga 2 API. Suites run on this machine (local
//! transport): no lab needed. The lab variant is tests/lab/ops.rs.

#[path = "cli/util.rs"]
mod util;

#[path = "ops/servers.rs"]
mod servers;

#[path = "ops/mail.rs"]
mod mail;

#[path = "ops/nsca.rs"]
mod nsca;

#[path = "ops/icinga.rs"]
mod icinga;

#[path = "ops/examples.rs"]
mod examples;

#[path = "ops/timeouts.rs"]
mod timeouts;
