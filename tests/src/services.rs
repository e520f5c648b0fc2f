//! The services anycast tests and benches health-check, started inside a
//! node: a TCP server that accepts and closes, Python's HTTP server, and a
//! DNS responder that answers every query NOERROR (tiny Python programs,
//! so nothing beyond python3 is needed). Each start waits (bounded) until
//! the service answers.

use std::time::Duration;

use crate::{wait_until, Node, Proc};

const TCP_SERVER: &str = r#"
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", int(sys.argv[1])))
s.listen(64)
while True:
    c, _ = s.accept()
    c.close()
"#;

const DNS_RESPONDER: &str = r#"
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", int(sys.argv[1])))
while True:
    d, a = s.recvfrom(512)
    if len(d) >= 12:
        # Same id and question, QR RD RA, NOERROR, no answers.
        s.sendto(d[:2] + b"\x81\x80" + d[4:6] + b"\x00" * 6 + d[12:], a)
"#;

const START: Duration = Duration::from_secs(20);

fn listening(node: &Node, p: Proc, port: u16, what: &str) -> Proc {
    wait_until(START, &format!("{what} listening on {port}"), || {
        p.assert_running();
        node.tcp_connect("127.0.0.1", port).is_ok()
    });
    p
}

/// A TCP server on 127.0.0.1:`port` that accepts and closes connections.
pub fn tcp_server(node: &Node, name: &str, port: u16) -> Proc {
    let p = node.spawn(name, &["python3", "-c", TCP_SERVER, &port.to_string()]);
    listening(node, p, port, "the TCP server")
}

/// Python's HTTP server on 127.0.0.1:`port` (200 for `/`).
pub fn http_server(node: &Node, name: &str, port: u16) -> Proc {
    let p = node.spawn(
        name,
        &[
            "python3",
            "-m",
            "http.server",
            "--bind",
            "127.0.0.1",
            &port.to_string(),
        ],
    );
    listening(node, p, port, "the HTTP server")
}

/// A DNS responder on UDP 127.0.0.1:`port` answering NOERROR. UDP has no
/// listening state to wait for: the first check that fails just counts
/// toward rise.
pub fn dns_responder(node: &Node, name: &str, port: u16) -> Proc {
    node.spawn(name, &["python3", "-c", DNS_RESPONDER, &port.to_string()])
}
