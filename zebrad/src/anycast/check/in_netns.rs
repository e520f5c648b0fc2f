//! The ICMP and HTTPS checks against servers these tests start, each test
//! in a thread that first moves into a new, empty network namespace (it
//! dies with the thread; nothing touches the host's). Needs root.
//!
//! The namespace: `lo` up with 192.0.2.1/32 and 2001:db8::1/128 (they
//! answer), and a veth pair whose far end has no address, routed to for
//! 198.51.100.0/24 and 2001:db8:99::/64 (nothing answers there).

use std::net::IpAddr;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use nix::sched::{unshare, CloneFlags};
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use super::{icmp, run, TlsClient};
use crate::anycast::{Check, CheckKind};

fn ip(args: &str) {
    let out = Command::new("ip")
        .args(args.split_whitespace())
        .output()
        .expect("run ip");
    assert!(
        out.status.success(),
        "ip {args}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Runs `body` in a new network namespace set up as the module says, on a
/// current-thread runtime, bounded to 60 s.
fn netns<F, Fut>(body: F)
where
    F: FnOnce() -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()>,
{
    let t = std::thread::spawn(move || {
        unshare(CloneFlags::CLONE_NEWNET).expect("unshare(CLONE_NEWNET): run the tests as root");
        ip("link set lo up");
        ip("addr add 192.0.2.1/32 dev lo");
        ip("addr add 2001:db8::1/128 dev lo nodad");
        ip("link add hc0 type veth peer name hc1");
        ip("link set hc0 up");
        ip("link set hc1 up");
        ip("route add 198.51.100.0/24 dev hc0");
        ip("-6 route add 2001:db8:99::/64 dev hc0");
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async move {
            tokio::time::timeout(Duration::from_secs(60), body())
                .await
                .expect("test timed out");
        });
    });
    if let Err(e) = t.join() {
        std::panic::resume_unwind(e);
    }
}

fn icmp_check(target: &str) -> Check {
    Check {
        kind: CheckKind::Icmp {
            target: target.parse().unwrap(),
        },
        timeout: Duration::from_millis(500),
    }
}

async fn icmp_cases() {
    for answers in ["192.0.2.1", "2001:db8::1"] {
        let o = run(&icmp_check(answers)).await;
        assert!(o.ok, "{answers}: {o:?}");
        assert!(o.detail.contains("echo reply"), "{o:?}");
        assert!(o.latency < Duration::from_millis(500), "{o:?}");
    }
    for silent in ["198.51.100.9", "2001:db8:99::9"] {
        let o = run(&icmp_check(silent)).await;
        assert!(!o.ok && o.detail.contains("timed out"), "{silent}: {o:?}");
        assert!(o.latency >= Duration::from_millis(500), "{o:?}");
    }
    // Probes in flight together each match their own reply.
    let c = icmp_check("192.0.2.1");
    let (a, b) = tokio::join!(run(&c), run(&c));
    assert!(a.ok && b.ok, "{a:?} {b:?}");
}

#[test]
fn icmp_echo_over_raw_and_ping_sockets() {
    netns(|| async {
        // A new namespace allows no ping sockets (ping_group_range "1 0"):
        // the check falls back to a raw socket.
        let raw = |t: &str| icmp::open(t.parse::<IpAddr>().unwrap()).unwrap().1;
        assert!(raw("192.0.2.1") && raw("2001:db8::1"));
        icmp_cases().await;
        // Allow root's group ping sockets: the same checks over them.
        std::fs::write("/proc/sys/net/ipv4/ping_group_range", "0 0").unwrap();
        assert!(!raw("192.0.2.1") && !raw("2001:db8::1"));
        icmp_cases().await;
    });
}

/// What the HTTPS server saw: the SNI and the request's Host header.
type Seen = Arc<Mutex<Vec<(Option<String>, String)>>>;

/// A TLS server on 192.0.2.1:8443 with a self-signed certificate for
/// `svc.example` and 192.0.2.1, answering `200 OK` with "service up" and
/// closing without close_notify. Returns the certificate (PEM).
async fn https_server(seen: Seen) -> String {
    let ck =
        rcgen::generate_simple_self_signed(vec!["svc.example".into(), "192.0.2.1".into()]).unwrap();
    let pem = ck.cert.pem();
    let cert = CertificateDer::from(ck.cert.der().to_vec());
    let key = PrivateKeyDer::Pkcs8(ck.signing_key.serialize_der().into());
    let cfg = rustls::ServerConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_no_client_auth()
    .with_single_cert(vec![cert], key)
    .unwrap();
    let acceptor = tokio_rustls::TlsAcceptor::from(Arc::new(cfg));
    let l = tokio::net::TcpListener::bind("192.0.2.1:8443")
        .await
        .unwrap();
    tokio::spawn(async move {
        while let Ok((tcp, _)) = l.accept().await {
            let acceptor = acceptor.clone();
            let seen = seen.clone();
            tokio::spawn(async move {
                // A handshake the client refuses ends here.
                let Ok(mut s) = acceptor.accept(tcp).await else {
                    return;
                };
                let sni = s.get_ref().1.server_name().map(str::to_string);
                let mut req = Vec::new();
                let mut b = [0u8; 1024];
                while !req.windows(4).any(|w| w == b"\r\n\r\n") {
                    match s.read(&mut b).await {
                        Ok(0) | Err(_) => return,
                        Ok(n) => req.extend_from_slice(&b[..n]),
                    }
                }
                let req = String::from_utf8_lossy(&req).into_owned();
                let host = req
                    .lines()
                    .find_map(|l| l.strip_prefix("Host: "))
                    .unwrap_or("")
                    .to_string();
                seen.lock().unwrap().push((sni, host));
                let _ = s
                    .write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nservice up")
                    .await;
                let _ = s.flush().await;
                // Dropped without close_notify, as many servers do.
            });
        }
    });
    pem
}

#[test]
fn https_checks_against_a_self_signed_server() {
    netns(|| async {
        let seen: Seen = Arc::default();
        let pem = https_server(seen.clone()).await;
        let dir = std::env::temp_dir().join(format!("zebrad-https-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let ca = dir.join("ca.pem");
        std::fs::write(&ca, &pem).unwrap();
        let trusted = TlsClient::new(Some(&ca), false).unwrap();
        let check = |host: &str, status, body: Option<&str>, tls: &TlsClient| Check {
            kind: CheckKind::Https {
                target: "192.0.2.1:8443".parse().unwrap(),
                host: host.into(),
                path: "/health".into(),
                status,
                body: body.map(str::to_string),
                tls: tls.clone(),
            },
            timeout: Duration::from_secs(3),
        };

        let o = run(&check("svc.example", 200, Some("up"), &trusted)).await;
        assert!(o.ok && o.detail == "status 200", "{o:?}");
        assert_eq!(
            seen.lock().unwrap().pop(),
            Some((Some("svc.example".into()), "svc.example".into())),
            "SNI and Host header"
        );
        // By IP address: the certificate's IP SAN; no SNI is sent for one.
        let o = run(&check("192.0.2.1:8443", 200, None, &trusted)).await;
        assert!(o.ok, "{o:?}");
        assert_eq!(
            seen.lock().unwrap().pop(),
            Some((None, "192.0.2.1:8443".into()))
        );

        let o = run(&check("svc.example", 503, None, &trusted)).await;
        assert!(
            !o.ok && o.detail.contains("status 200, expected 503"),
            "{o:?}"
        );
        let o = run(&check("svc.example", 200, Some("down"), &trusted)).await;
        assert!(!o.ok && o.detail.contains("lacks"), "{o:?}");

        // A name the certificate does not hold.
        let o = run(&check("other.example", 200, None, &trusted)).await;
        assert!(!o.ok && o.detail.contains("TLS"), "{o:?}");
        // The system's roots do not know a self-signed certificate.
        if let Ok(system) = TlsClient::new(None, false) {
            let o = run(&check("svc.example", 200, None, &system)).await;
            assert!(!o.ok && o.detail.contains("TLS"), "{o:?}");
        }
        // insecure: any certificate, any name.
        let any = TlsClient::new(None, true).unwrap();
        let o = run(&check("other.example", 200, Some("service up"), &any)).await;
        assert!(o.ok, "{o:?}");
        // Nothing listening.
        let mut c = check("svc.example", 200, None, &any);
        if let CheckKind::Https { target, .. } = &mut c.kind {
            target.set_port(8444);
        }
        let o = run(&c).await;
        assert!(!o.ok && o.detail.contains("connect"), "{o:?}");
        std::fs::remove_dir_all(&dir).unwrap();
    });
}
