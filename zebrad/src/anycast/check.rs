//! The health checks of anycast services, each one probe with a timeout.
//!
//! Owns: a TCP connect, an HTTP/1.1 GET (RFC 9112; expected status,
//! optional body substring and Host header) over plain TCP or over TLS
//! ([`tls`]: system roots or a CA file, SNI from the Host header, or
//! `insecure`), an ICMP/ICMPv6 echo ([`icmp`]), a DNS query over UDP
//! (RFC 1035 message built by hand; expected rcode), and a command's exit
//! status (`sh -c`, killed when its timeout ends). Every probe is bounded
//! by its own timeout and reports its latency.
//!
//! Never: decides health (that is [`super::fsm`]) or touches the RIB; a
//! check only returns an [`Outcome`]. It never panics on what a server
//! sends.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use super::{Check, CheckKind};

pub mod icmp;
#[cfg(test)]
mod in_netns;
pub mod tls;

pub use tls::TlsClient;

/// The most of an HTTP response a check reads.
const HTTP_MAX: usize = 64 * 1024;

/// The result of one probe.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Outcome {
    pub ok: bool,
    pub latency: Duration,
    /// What happened, for operators ("connected", "status 503", ...).
    pub detail: String,
}

/// Runs `check` once, bounded by its timeout.
pub async fn run(check: &Check) -> Outcome {
    let start = Instant::now();
    let r = tokio::time::timeout(check.timeout, probe(&check.kind)).await;
    let latency = start.elapsed();
    match r {
        Ok(Ok(detail)) => Outcome {
            ok: true,
            latency,
            detail,
        },
        Ok(Err(detail)) => Outcome {
            ok: false,
            latency,
            detail,
        },
        Err(_) => Outcome {
            ok: false,
            latency,
            detail: format!("timed out after {} ms", check.timeout.as_millis()),
        },
    }
}

async fn probe(kind: &CheckKind) -> Result<String, String> {
    match kind {
        CheckKind::Tcp { target } => {
            TcpStream::connect(target)
                .await
                .map_err(|e| format!("connect {target}: {e}"))?;
            Ok(format!("connected to {target}"))
        }
        CheckKind::Http {
            target,
            host,
            path,
            status,
            body,
        } => {
            let s = connect(*target).await?;
            exchange(s, host, path, *status, body.as_deref()).await
        }
        CheckKind::Https {
            target,
            host,
            path,
            status,
            body,
            tls,
        } => {
            let name = tls::server_name(host)?;
            let s = connect(*target).await?;
            let s = tls
                .connector()
                .connect(name, s)
                .await
                .map_err(|e| format!("TLS with {target}: {e}"))?;
            exchange(s, host, path, *status, body.as_deref()).await
        }
        CheckKind::Icmp { target } => icmp::echo(*target).await,
        CheckKind::Dns {
            server,
            name,
            qtype,
            rcode,
        } => dns(*server, name, *qtype, *rcode).await,
        CheckKind::Command { command } => {
            let st = tokio::process::Command::new("sh")
                .arg("-c")
                .arg(command)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .kill_on_drop(true)
                .status()
                .await
                .map_err(|e| format!("cannot run sh: {e}"))?;
            if st.success() {
                Ok("exit status 0".into())
            } else {
                Err(match st.code() {
                    Some(c) => format!("exit status {c}"),
                    None => "killed by a signal".into(),
                })
            }
        }
    }
}

async fn connect(target: SocketAddr) -> Result<TcpStream, String> {
    TcpStream::connect(target)
        .await
        .map_err(|e| format!("connect {target}: {e}"))
}

/// One HTTP/1.1 GET on an open stream (plain or TLS), judged by
/// [`judge_http`].
async fn exchange<S: AsyncRead + AsyncWrite + Unpin>(
    mut s: S,
    host: &str,
    path: &str,
    want: u16,
    body: Option<&str>,
) -> Result<String, String> {
    let req = format!(
        "GET {path} HTTP/1.1\r\nHost: {host}\r\nUser-Agent: zebrad-anycast\r\nAccept: */*\r\nConnection: close\r\n\r\n"
    );
    s.write_all(req.as_bytes())
        .await
        .map_err(|e| format!("send: {e}"))?;
    s.flush().await.map_err(|e| format!("send: {e}"))?;
    let mut buf = Vec::with_capacity(4096);
    let mut chunk = [0u8; 4096];
    loop {
        let n = match s.read(&mut chunk).await {
            Ok(n) => n,
            // A TLS server that closes without close_notify after a
            // complete response: judge what arrived.
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof && !buf.is_empty() => 0,
            Err(e) => return Err(format!("read: {e}")),
        };
        if n == 0 {
            break;
        }
        buf.extend_from_slice(&chunk[..n]);
        if buf.len() >= HTTP_MAX {
            break;
        }
        // Without a body to look for, the status line is enough.
        if body.is_none() && buf.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    judge_http(&buf, want, body)
}

/// Judges an HTTP response: the status code and, if asked, a substring of
/// the body.
pub fn judge_http(resp: &[u8], want: u16, body: Option<&str>) -> Result<String, String> {
    let text = String::from_utf8_lossy(resp);
    let line = text.lines().next().unwrap_or("");
    let mut parts = line.split_whitespace();
    let proto = parts.next().unwrap_or("");
    if !proto.starts_with("HTTP/") {
        return Err(format!("not an HTTP response: {:.60}", line));
    }
    let code: u16 = parts
        .next()
        .and_then(|c| c.parse().ok())
        .ok_or_else(|| format!("bad status line: {:.60}", line))?;
    if code != want {
        return Err(format!("status {code}, expected {want}"));
    }
    if let Some(b) = body {
        let content = text.split_once("\r\n\r\n").map(|x| x.1).unwrap_or("");
        if !content.contains(b) {
            return Err(format!("status {code} but the body lacks {b:?}"));
        }
    }
    Ok(format!("status {code}"))
}

/// DNS response codes by name (RFC 1035 §4.1.1, RFC 6895).
pub const RCODES: [(&str, u8); 6] = [
    ("NOERROR", 0),
    ("FORMERR", 1),
    ("SERVFAIL", 2),
    ("NXDOMAIN", 3),
    ("NOTIMP", 4),
    ("REFUSED", 5),
];

/// Query types by name.
pub const QTYPES: [(&str, u16); 8] = [
    ("A", 1),
    ("NS", 2),
    ("CNAME", 5),
    ("SOA", 6),
    ("PTR", 12),
    ("MX", 15),
    ("TXT", 16),
    ("AAAA", 28),
];

/// A DNS query message: header (id, RD), one question (`name`, `qtype`,
/// class IN). Errors on a label over 63 bytes or a name over 255.
pub fn dns_query(id: u16, name: &str, qtype: u16) -> Result<Vec<u8>, String> {
    let mut m = Vec::with_capacity(32 + name.len());
    m.extend_from_slice(&id.to_be_bytes());
    m.extend_from_slice(&[0x01, 0x00]); // RD
    m.extend_from_slice(&[0, 1, 0, 0, 0, 0, 0, 0]); // QD=1
    let mut total = 1;
    for label in name
        .trim_end_matches('.')
        .split('.')
        .filter(|l| !l.is_empty())
    {
        if label.len() > 63 {
            return Err(format!("label {label:?} is over 63 bytes"));
        }
        total += label.len() + 1;
        m.push(label.len() as u8);
        m.extend_from_slice(label.as_bytes());
    }
    if total > 255 {
        return Err(format!("name {name:?} is over 255 bytes"));
    }
    m.push(0);
    m.extend_from_slice(&qtype.to_be_bytes());
    m.extend_from_slice(&[0, 1]); // IN
    Ok(m)
}

/// Reads a DNS response to query `id`: Some((rcode, answer count)), or None
/// when it is not a response to it.
pub fn dns_response(id: u16, m: &[u8]) -> Option<(u8, u16)> {
    if m.len() < 12 || u16::from_be_bytes([m[0], m[1]]) != id || m[2] & 0x80 == 0 {
        return None;
    }
    Some((m[3] & 0x0f, u16::from_be_bytes([m[6], m[7]])))
}

fn rcode_name(r: u8) -> String {
    RCODES
        .iter()
        .find(|(_, v)| *v == r)
        .map(|(n, _)| n.to_string())
        .unwrap_or_else(|| format!("rcode {r}"))
}

async fn dns(server: SocketAddr, name: &str, qtype: u16, want: u8) -> Result<String, String> {
    let bind: SocketAddr = if server.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let sock = UdpSocket::bind(bind)
        .await
        .map_err(|e| format!("socket: {e}"))?;
    sock.connect(server)
        .await
        .map_err(|e| format!("connect {server}: {e}"))?;
    let id = (std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(0)
        & 0xffff) as u16;
    let q = dns_query(id, name, qtype)?;
    sock.send(&q).await.map_err(|e| format!("send: {e}"))?;
    let mut buf = [0u8; 4096];
    loop {
        let n = sock
            .recv(&mut buf)
            .await
            .map_err(|e| format!("receive from {server}: {e}"))?;
        let Some((rcode, answers)) = dns_response(id, &buf[..n]) else {
            continue;
        };
        let got = rcode_name(rcode);
        return if rcode == want {
            Ok(format!("{got}, {answers} answers"))
        } else {
            Err(format!("{got}, expected {}", rcode_name(want)))
        };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dns_query_bytes() {
        let q = dns_query(0x1234, "example.com.", 1).unwrap();
        assert_eq!(
            q,
            [
                0x12, 0x34, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 7, b'e', b'x', b'a', b'm', b'p', b'l',
                b'e', 3, b'c', b'o', b'm', 0, 0, 1, 0, 1
            ]
        );
        assert_eq!(dns_query(1, ".", 2).unwrap()[12..], [0, 0, 2, 0, 1]);
        assert!(dns_query(1, &"a".repeat(64), 1).is_err());
        let long = vec!["a".repeat(60); 5].join(".");
        assert!(dns_query(1, &long, 1).is_err());
    }

    #[test]
    fn dns_responses() {
        let mut r = dns_query(7, "example.com", 1).unwrap();
        assert_eq!(dns_response(7, &r), None, "a query is no response");
        r[2] |= 0x80;
        r[3] = 0x83; // RA, NXDOMAIN
        assert_eq!(dns_response(7, &r), Some((3, 0)));
        assert_eq!(dns_response(8, &r), None);
        assert_eq!(dns_response(7, &r[..5]), None);
        assert_eq!(rcode_name(3), "NXDOMAIN");
        assert_eq!(rcode_name(9), "rcode 9");
    }

    #[test]
    fn http_judgement() {
        let ok = b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nOK";
        assert!(judge_http(ok, 200, None).is_ok());
        assert!(judge_http(ok, 200, Some("OK")).is_ok());
        assert!(judge_http(ok, 200, Some("healthy")).is_err());
        assert!(judge_http(ok, 204, None)
            .unwrap_err()
            .contains("status 200"));
        assert!(judge_http(b"SSH-2.0-x\r\n", 200, None).is_err());
        assert!(judge_http(b"HTTP/1.1 abc\r\n", 200, None).is_err());
        assert!(judge_http(b"", 200, None).is_err());
    }

    #[tokio::test]
    async fn tcp_and_command_checks() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = l.local_addr().unwrap();
        let c = Check {
            kind: CheckKind::Tcp { target },
            timeout: Duration::from_secs(2),
        };
        assert!(run(&c).await.ok);
        drop(l);
        let o = run(&c).await;
        assert!(!o.ok && o.detail.contains("connect"), "{o:?}");

        let cmd = |s: &str, ms| Check {
            kind: CheckKind::Command { command: s.into() },
            timeout: Duration::from_millis(ms),
        };
        assert!(run(&cmd("true", 2000)).await.ok);
        assert_eq!(run(&cmd("exit 3", 2000)).await.detail, "exit status 3");
        let o = run(&cmd("sleep 5", 100)).await;
        assert!(!o.ok && o.detail.contains("timed out"), "{o:?}");
    }

    #[tokio::test]
    async fn http_and_dns_checks_against_local_servers() {
        let l = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let target = l.local_addr().unwrap();
        tokio::spawn(async move {
            while let Ok((mut s, _)) = l.accept().await {
                let mut b = [0u8; 1024];
                let _ = s.read(&mut b).await;
                let _ = s.write_all(b"HTTP/1.0 200 OK\r\n\r\nall good\n").await;
            }
        });
        let http = |body: Option<&str>| Check {
            kind: CheckKind::Http {
                target,
                host: "svc.example".into(),
                path: "/health".into(),
                status: 200,
                body: body.map(str::to_string),
            },
            timeout: Duration::from_secs(2),
        };
        assert!(run(&http(Some("good"))).await.ok);
        assert!(!run(&http(Some("bad"))).await.ok);

        let u = UdpSocket::bind("127.0.0.1:0").await.unwrap();
        let server = u.local_addr().unwrap();
        tokio::spawn(async move {
            let mut b = [0u8; 512];
            while let Ok((n, from)) = u.recv_from(&mut b).await {
                let mut r = b[..n].to_vec();
                r[2] |= 0x80;
                // NXDOMAIN for names starting with "no", else NOERROR.
                r[3] = if r[13] == b'n' && r[14] == b'o' { 3 } else { 0 };
                let _ = u.send_to(&r, from).await;
            }
        });
        let dns = |name: &str, rcode| Check {
            kind: CheckKind::Dns {
                server,
                name: name.into(),
                qtype: 1,
                rcode,
            },
            timeout: Duration::from_secs(2),
        };
        assert!(run(&dns("example.com", 0)).await.ok);
        let o = run(&dns("nothing.example", 0)).await;
        assert!(!o.ok && o.detail.contains("NXDOMAIN"), "{o:?}");
        assert!(run(&dns("nothing.example", 3)).await.ok);
    }
}
