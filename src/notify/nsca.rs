//! Passive results to an NSCA 2.x daemon (`--nsca HOST:PORT`), the protocol of `send_nsca`
//! 2.7-2.10: the server first sends a 132-byte init packet (128-byte IV, 4-byte timestamp);
//! the client answers with one 4304-byte version-3 data packet per result (version, CRC32,
//! timestamp, return code, host, service, plugin output; network byte order), encrypted
//! with XOR (method 1: IV, then password) when `SHAKEDOWN_NSCA_PASSWORD` is set, in clear
//! (method 0) otherwise. The daemon writes each as `PROCESS_SERVICE_CHECK_RESULT` to the
//! Nagios/Icinga command file. XOR hides nothing from an eavesdropper: use a VPN or stunnel
//! across untrusted networks, as with send_nsca.

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::TIMEOUT;
use super::results::ServiceResult;
use crate::inventory::secret::Secret;

/// Size of the server's init packet: IV and timestamp.
pub(crate) const INIT_PACKET: usize = 132;
/// Size of the IV at the start of the init packet.
const IV_SIZE: usize = 128;
/// Size of a version-3 data packet (with the C struct's padding).
pub(crate) const DATA_PACKET: usize = 4304;
/// Field sizes, each NUL-terminated.
const HOST_SIZE: usize = 64;
const SERVICE_SIZE: usize = 128;
const OUTPUT_SIZE: usize = 4096;
/// Field offsets in the data packet.
const OFF_CRC: usize = 4;
const OFF_TIME: usize = 8;
const OFF_CODE: usize = 12;
const OFF_HOST: usize = 14;
const OFF_SERVICE: usize = OFF_HOST + HOST_SIZE;
const OFF_OUTPUT: usize = OFF_SERVICE + SERVICE_SIZE;

/// An NSCA daemon to send to.
#[derive(Debug)]
pub(crate) struct Nsca {
    target: String,
    password: Option<Secret>,
}

/// Checks `HOST:PORT` (a port is required: NSCA has no fixed one, 5667 by convention).
pub(crate) fn parse_target(text: &str) -> Result<(String, u16), String> {
    let (host, port) = text
        .rsplit_once(':')
        .ok_or_else(|| format!("--nsca: {text:?} is not HOST:PORT (e.g. nagios.example.com:5667)"))?;
    let host = host.trim_start_matches('[').trim_end_matches(']');
    let port: u16 = port
        .parse()
        .ok()
        .filter(|p| *p != 0)
        .ok_or_else(|| format!("--nsca: {port:?} in {text:?} is not a port number"))?;
    if host.is_empty() {
        return Err(format!("--nsca: {text:?} names no host"));
    }
    Ok((host.to_string(), port))
}

impl Nsca {
    /// A daemon at `HOST:PORT`; XOR encryption when `password` is set.
    pub(crate) fn new(target: &str, password: Option<Secret>) -> Result<Self, String> {
        parse_target(target)?;
        Ok(Nsca {
            target: target.to_string(),
            password,
        })
    }

    /// Sends every result over one connection; returns the problems (none when all went).
    pub(crate) async fn send(&self, results: &[ServiceResult]) -> Vec<String> {
        if results.is_empty() {
            return Vec::new();
        }
        match tokio::time::timeout(TIMEOUT, self.exchange(results)).await {
            Ok(Ok(problems)) => problems,
            Ok(Err(e)) => vec![format!(
                "NSCA {}: {e}; {} not sent",
                self.target,
                results_word(results.len())
            )],
            Err(_) => vec![format!(
                "NSCA {}: no answer within {}s; results not sent",
                self.target,
                TIMEOUT.as_secs()
            )],
        }
    }

    async fn exchange(&self, results: &[ServiceResult]) -> std::io::Result<Vec<String>> {
        let (host, port) = parse_target(&self.target).map_err(std::io::Error::other)?;
        let mut stream = TcpStream::connect((host.as_str(), port)).await?;
        let mut init = [0u8; INIT_PACKET];
        stream
            .read_exact(&mut init)
            .await
            .map_err(|e| std::io::Error::new(e.kind(), format!("no init packet from the daemon ({e})")))?;
        let password = self.password.as_ref().map(|p| p.expose().as_bytes());
        let mut problems = Vec::new();
        for r in results {
            match encode(&init, r, password) {
                Ok(packet) => stream.write_all(&packet).await?,
                Err(e) => problems.push(format!("NSCA {}: {}/{} not sent: {e}", self.target, r.host, r.service)),
            }
        }
        stream.flush().await?;
        stream.shutdown().await?;
        Ok(problems)
    }
}

/// `1 result`, `3 results`.
fn results_word(n: usize) -> String {
    if n == 1 {
        "1 result".into()
    } else {
        format!("{n} results")
    }
}

/// One data packet for `result`, answering the daemon's `init` packet: timestamp from the
/// init packet (the daemon rejects packets older than its `max_packet_age`), unused bytes
/// random (as send_nsca does), CRC32 over the clear packet, then XOR with IV and password
/// when a password is given.
pub(crate) fn encode(
    init: &[u8; INIT_PACKET],
    result: &ServiceResult,
    password: Option<&[u8]>,
) -> Result<Vec<u8>, String> {
    let mut p = vec![0u8; DATA_PACKET];
    fill_random(&mut p);
    p[0..2].copy_from_slice(&3i16.to_be_bytes());
    p[OFF_CRC..OFF_CRC + 4].copy_from_slice(&[0; 4]);
    p[OFF_TIME..OFF_TIME + 4].copy_from_slice(&init[IV_SIZE..INIT_PACKET]);
    p[OFF_CODE..OFF_CODE + 2].copy_from_slice(&i16::from(result.state.code()).to_be_bytes());
    put(&mut p[OFF_HOST..OFF_SERVICE], "host name", &result.host, false)?;
    put(&mut p[OFF_SERVICE..OFF_OUTPUT], "service name", &result.service, false)?;
    put(
        &mut p[OFF_OUTPUT..OFF_OUTPUT + OUTPUT_SIZE],
        "output",
        &result.plugin_output(),
        true,
    )?;
    let crc = crc32fast::hash(&p);
    p[OFF_CRC..OFF_CRC + 4].copy_from_slice(&crc.to_be_bytes());
    if let Some(pw) = password {
        xor(&mut p, &init[..IV_SIZE], pw);
    }
    Ok(p)
}

/// Writes `text` NUL-terminated into `field`. Names that do not fit are an error (a cut
/// name would be another service); output is cut at a character boundary.
fn put(field: &mut [u8], what: &str, text: &str, may_cut: bool) -> Result<(), String> {
    let max = field.len() - 1;
    let bytes = if text.len() <= max {
        text.as_bytes()
    } else if may_cut {
        let mut end = max;
        while !text.is_char_boundary(end) {
            end -= 1;
        }
        &text.as_bytes()[..end]
    } else {
        return Err(format!("{what} {text:?} is longer than NSCA's {max} bytes"));
    };
    if bytes.contains(&0) {
        return Err(format!("{what} holds a NUL byte"));
    }
    field[..bytes.len()].copy_from_slice(bytes);
    field[bytes.len()] = 0;
    Ok(())
}

/// NSCA's encryption method 1: XOR with the IV (repeated), then with the password.
pub(crate) fn xor(buf: &mut [u8], iv: &[u8], password: &[u8]) {
    for (i, b) in buf.iter_mut().enumerate() {
        *b ^= iv[i % iv.len()];
        if !password.is_empty() {
            *b ^= password[i % password.len()];
        }
    }
}

/// Random bytes from the kernel; zeros stay if it cannot give them (only padding).
fn fill_random(buf: &mut [u8]) {
    use std::io::Read;
    let _ = std::fs::File::open("/dev/urandom").and_then(|mut f| f.read_exact(buf));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::nagios::State;

    fn result(output_long: usize) -> ServiceResult {
        ServiceResult {
            host: "web2".into(),
            service: "Web servers".into(),
            state: State::Critical,
            status: "SHAKEDOWN CRITICAL - 1 of 1 scenario failed: Home [web2]".into(),
            long: vec!["x".repeat(output_long)],
            perfdata: vec!["scenarios=1".into()],
        }
    }

    fn init() -> [u8; INIT_PACKET] {
        let mut init = [0u8; INIT_PACKET];
        for (i, b) in init.iter_mut().enumerate() {
            *b = (i * 7 % 251) as u8;
        }
        init[IV_SIZE..].copy_from_slice(&1_795_432_317u32.to_be_bytes());
        init
    }

    /// The daemon's side: decrypt, check the CRC over the packet with the field zeroed.
    fn decode(mut p: Vec<u8>, password: Option<&[u8]>) -> Vec<u8> {
        if let Some(pw) = password {
            xor(&mut p, &init()[..IV_SIZE], pw);
        }
        let crc = u32::from_be_bytes(p[OFF_CRC..OFF_CRC + 4].try_into().expect("4 bytes"));
        p[OFF_CRC..OFF_CRC + 4].copy_from_slice(&[0; 4]);
        assert_eq!(crc32fast::hash(&p), crc, "CRC32");
        p
    }

    fn field(p: &[u8], at: usize, size: usize) -> String {
        let f = &p[at..at + size];
        String::from_utf8_lossy(&f[..f.iter().position(|b| *b == 0).expect("NUL")]).into_owned()
    }

    #[test]
    fn packet_layout_matches_send_nsca() {
        for pw in [None, Some(&b"canary-pw"[..])] {
            let p = encode(&init(), &result(10), pw).expect("fits");
            assert_eq!(p.len(), DATA_PACKET);
            let p = decode(p, pw);
            assert_eq!(&p[0..2], &[0, 3]);
            assert_eq!(&p[OFF_TIME..OFF_TIME + 4], &1_795_432_317u32.to_be_bytes());
            assert_eq!(&p[OFF_CODE..OFF_CODE + 2], &[0, 2]);
            assert_eq!(field(&p, OFF_HOST, HOST_SIZE), "web2");
            assert_eq!(field(&p, OFF_SERVICE, SERVICE_SIZE), "Web servers");
            assert!(field(&p, OFF_OUTPUT, OUTPUT_SIZE).starts_with("SHAKEDOWN CRITICAL - 1 of 1"));
        }
    }

    #[test]
    fn long_output_is_cut_long_names_are_refused() {
        let p = decode(encode(&init(), &result(5000), None).expect("cut"), None);
        assert_eq!(field(&p, OFF_OUTPUT, OUTPUT_SIZE).len(), OUTPUT_SIZE - 1);
        let mut r = result(1);
        r.service = "s".repeat(200);
        assert!(
            encode(&init(), &r, None)
                .unwrap_err()
                .contains("longer than NSCA's 127 bytes")
        );
    }

    #[test]
    fn targets_need_host_and_port() {
        assert_eq!(parse_target("nagios:5667"), Ok(("nagios".into(), 5667)));
        assert_eq!(parse_target("[::1]:5667"), Ok(("::1".into(), 5667)));
        assert!(parse_target("nagios").is_err());
        assert!(parse_target(":5667").is_err());
        assert!(parse_target("nagios:x").is_err());
    }
}
