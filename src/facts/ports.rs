//! Listening TCP sockets: `ss -ltn` (every address family, IPv4 and IPv6), or
//! `/proc/net/tcp` and `/proc/net/tcp6` (state `0A`) on hosts without `ss`. Read once per
//! host per run, in the host's network namespace.

use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use futures::future::BoxFuture;

use super::{FactError, failed, run};
use crate::host::HostHandle;
use crate::transport::Cmd;

/// One listening TCP socket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Listener {
    /// The local address as `ss` shows it (`0.0.0.0`, `[::]`, `*`, `127.0.0.1%lo`).
    pub address: String,
    /// The port.
    pub port: u16,
}

impl std::fmt::Display for Listener {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}:{}", self.address, self.port)
    }
}

/// Parses `ss -ltn` (with or without its header line and State column).
pub(crate) fn parse_ss(text: &str) -> Vec<Listener> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        // With a State column: LISTEN Recv-Q Send-Q Local Peer; without: Recv-Q Send-Q Local Peer.
        let local = if f.first().is_some_and(|s| s.parse::<u64>().is_ok()) {
            f.get(2)
        } else {
            f.get(3)
        };
        let Some((address, port)) = local.and_then(|l| l.rsplit_once(':')) else {
            continue;
        };
        if let Ok(port) = port.parse() {
            out.push(Listener {
                address: address.to_string(),
                port,
            });
        }
    }
    out
}

/// Parses `/proc/net/tcp` or `/proc/net/tcp6` (several concatenated are fine): the
/// sockets in state `0A` (LISTEN).
pub(crate) fn parse_proc_net_tcp(text: &str) -> Vec<Listener> {
    let mut out = Vec::new();
    for line in text.lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.get(3) != Some(&"0A") {
            continue;
        }
        let Some((addr, port)) = f.get(1).and_then(|l| l.split_once(':')) else {
            continue;
        };
        let (Ok(port), Some(address)) = (u16::from_str_radix(port, 16), proc_address(addr)) else {
            continue;
        };
        out.push(Listener { address, port });
    }
    out
}

/// Decodes the kernel's hex address: 32-bit words in host (little-endian) byte order.
fn proc_address(hex: &str) -> Option<String> {
    let words: Vec<u32> = (0..hex.len() / 8)
        .map(|i| u32::from_str_radix(&hex[i * 8..i * 8 + 8], 16).map(u32::swap_bytes))
        .collect::<Result<_, _>>()
        .ok()?;
    match words.as_slice() {
        [w] => Some(Ipv4Addr::from(*w).to_string()),
        [a, b, c, d] => {
            let mut bytes = [0u8; 16];
            for (i, w) in [a, b, c, d].into_iter().enumerate() {
                bytes[i * 4..i * 4 + 4].copy_from_slice(&w.to_be_bytes());
            }
            Some(format!("[{}]", Ipv6Addr::from(bytes)))
        }
        _ => None,
    }
}

/// The first command tried: `ss -ltn`.
pub(crate) fn command() -> Cmd {
    Cmd::new("ss").arg("-ltn")
}

/// Reads the listening sockets: `ss -ltn`, or `/proc/net/tcp{,6}` when `ss` is missing.
pub(crate) async fn read(host: &HostHandle, timeout: Duration) -> Result<Vec<Listener>, FactError> {
    let cmd = command();
    let out = run(host, &cmd, timeout).await?;
    match out.status {
        Some(0) => Ok(parse_ss(&out.stdout_text())),
        Some(127) => {
            // No ss (minimal images): the kernel's own tables; tcp6 may be absent.
            let cmd = Cmd::new("cat").args(["/proc/net/tcp", "/proc/net/tcp6"]);
            let out = run(host, &cmd, timeout).await?;
            if out.stdout.is_empty() {
                return Err(failed(&cmd, &out));
            }
            Ok(parse_proc_net_tcp(&out.stdout_text()))
        }
        _ => Err(failed(&cmd, &out)),
    }
}

/// The listening TCP sockets as a whole-host fact ([`super::HostFact`]).
pub(crate) struct PortsFact;

#[allow(non_upper_case_globals)]
impl super::Fact {
    /// The listening TCP sockets ([`super::ports`]).
    pub const Ports: super::Fact = super::Fact::whole_host(5, "Ports", &PortsFact);
}

impl super::HostFact for PortsFact {
    type Value = Vec<Listener>;

    fn part(&self) -> String {
        command().to_shell()
    }

    fn parse(&self, text: &str, _: &super::HostFacts) -> Option<Vec<Listener>> {
        Some(parse_ss(text))
    }

    fn read<'a>(&'a self, host: &'a HostHandle, timeout: Duration) -> BoxFuture<'a, Result<Vec<Listener>, FactError>> {
        Box::pin(read(host, timeout))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fixture(path: &str) -> String {
        std::fs::read_to_string(format!("{}/fixtures/captured/{path}", env!("CARGO_MANIFEST_DIR"))).expect(path)
    }

    #[test]
    fn ss_of_this_machine_agrees_with_proc() {
        let ss = parse_ss(&fixture("debian12/ss-ltn.txt"));
        assert!(!ss.is_empty());
        let mut procs = parse_proc_net_tcp(&fixture("debian12/proc-net-tcp.txt"));
        procs.extend(parse_proc_net_tcp(&fixture("debian12/proc-net-tcp6.txt")));
        let mut a: Vec<u16> = ss.iter().map(|l| l.port).collect();
        let mut b: Vec<u16> = procs.iter().map(|l| l.port).collect();
        a.sort();
        b.sort();
        assert_eq!(a, b);
    }

    #[test]
    fn lab_web1_listens_on_ssh_http_https_and_the_slow_backend() {
        let l = parse_ss(&fixture("lab/ss-ltn-web1.txt"));
        let shown: Vec<String> = l.iter().map(ToString::to_string).collect();
        assert_eq!(shown, ["10.77.0.11:22", "127.0.0.1:8081", "0.0.0.0:80", "0.0.0.0:443"]);
    }

    #[test]
    fn ss_address_forms() {
        let text = "State  Recv-Q Send-Q Local Address:Port Peer Address:Port Process\n\
                    LISTEN 0      511          0.0.0.0:80        0.0.0.0:*\n\
                    LISTEN 0      4096            [::]:443          [::]:*\n\
                    LISTEN 0      128     127.0.0.1%lo:53        0.0.0.0:*\n\
                    LISTEN 0      128                *:8404            *:*\n";
        let l = parse_ss(text);
        assert_eq!(l.len(), 4);
        assert_eq!(l[1].to_string(), "[::]:443");
        assert_eq!(l[2].address, "127.0.0.1%lo");
        // Old ss without the State column for -l.
        let l = parse_ss("Recv-Q Send-Q Local Address:Port Peer Address:Port\n0 128 *:22 *:*\n");
        assert_eq!(
            l,
            vec![Listener {
                address: "*".into(),
                port: 22
            }]
        );
    }

    #[test]
    fn proc_net_tcp_addresses() {
        let text = "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode\n\
                    0: 0100007F:0CEA 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 1 1\n\
                    1: 0B004D0A:0016 0100004D:D431 01 00000000:00000000 00:00000000 00000000     0        0 2 1\n\
                    2: 00000000000000000000000001000000:0050 00000000000000000000000000000000:0000 0A 0 0 0 0 0 3 1\n";
        let l = parse_proc_net_tcp(text);
        assert_eq!(l.len(), 2);
        assert_eq!(l[0].to_string(), "127.0.0.1:3306");
        assert_eq!(l[1].to_string(), "[::1]:80");
    }
}
