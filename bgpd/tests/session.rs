//! Session layer over loopback: two of our sessions peering with each
//! other, hand-driven "raw" peers that misbehave on purpose, and BIRD when
//! it is installed. Every wait is bounded; every port is picked by the
//! kernel (port 0), so tests run in parallel.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::time::Duration;

use bgpd::packet::capability::typical;
use bgpd::packet::header::frame_length;
use bgpd::packet::notification::CeaseSubcode;
use bgpd::packet::{
    decode_message, pack_announcements, AfiSafi, AsPath, Message, Nlri, Notification, Open, Origin,
    PathAttributes, SessionCaps,
};
use bgpd::session::{
    session_map, spawn_listener, spawn_session, DownReason, SessionCommand, SessionConfig,
    SessionEvent, SessionHandle, SessionMap, State,
};
use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio::time::{sleep, timeout, Instant};

const WAIT: Duration = Duration::from_secs(15);

fn config(
    id: u32,
    local_as: u32,
    remote_as: u32,
    router_id: [u8; 4],
    remote: SocketAddr,
    passive: bool,
) -> SessionConfig {
    SessionConfig {
        id,
        remote_addr: remote.ip(),
        remote_port: remote.port(),
        local_addr: None,
        local_as,
        remote_as,
        router_id: Ipv4Addr::from(router_id),
        hold_time: 9,
        connect_retry: Duration::from_secs(1),
        passive,
        multihop: None,
        families: vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST],
        graceful_restart: None,
        extended_message: true,
        extended_next_hop: true,
        add_path: Vec::new(),
        role: None,
        strict_role: false,
        description: format!("test peer {id}"),
        password: None,
        ttl_security: false,
        interface: None,
    }
}

struct Side {
    handle: SessionHandle,
    events: mpsc::Receiver<SessionEvent>,
    _map: SessionMap,
}

impl Side {
    /// Next event matching `pred`, skipping others; `None` on timeout.
    async fn wait_for(
        &mut self,
        limit: Duration,
        pred: impl Fn(&SessionEvent) -> bool,
    ) -> Option<SessionEvent> {
        let deadline = Instant::now() + limit;
        loop {
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .ok()??;
            if pred(&ev) {
                return Some(ev);
            }
        }
    }

    async fn established(&mut self) -> SessionEvent {
        self.wait_for(WAIT, |e| matches!(e, SessionEvent::Established { .. }))
            .await
            .expect("session did not reach Established")
    }

    async fn down(&mut self) -> DownReason {
        match self
            .wait_for(WAIT, |e| matches!(e, SessionEvent::Down { .. }))
            .await
        {
            Some(SessionEvent::Down { reason, .. }) => reason,
            _ => panic!("session did not go down"),
        }
    }

    async fn send(&self, cmd: SessionCommand) {
        self.handle.tx.send(cmd).await.expect("session task gone");
    }
}

/// Poll the counters until `pred` holds.
async fn wait_stats(
    h: &SessionHandle,
    pred: impl Fn(&bgpd::session::StatsSnapshot) -> bool,
) -> bool {
    let deadline = Instant::now() + WAIT;
    while Instant::now() < deadline {
        if pred(&h.stats.snapshot()) {
            return true;
        }
        sleep(Duration::from_millis(50)).await;
    }
    false
}

async fn listen(ip: IpAddr) -> (SessionMap, SocketAddr) {
    let map = session_map();
    let addr = spawn_listener(SocketAddr::new(ip, 0), map.clone(), Default::default())
        .await
        .expect("bind listener")
        .local;
    (map, addr)
}

fn register(map: &SessionMap, ip: IpAddr, h: &SessionHandle) {
    map.lock().unwrap().insert(ip, h.clone());
}

/// Two of our sessions on `ip`: A (AS 65000, id .1) and B (AS 65001,
/// id .2), each with its own listener. With the current-thread runtime
/// neither task runs before both are registered.
async fn pair(ip: IpAddr, a_passive: bool, b_passive: bool, a_remote_as: u32) -> (Side, Side) {
    let (map_a, addr_a) = listen(ip).await;
    let (map_b, addr_b) = listen(ip).await;
    let (tx_a, events_a) = mpsc::channel(64);
    let (tx_b, events_b) = mpsc::channel(64);
    let a = spawn_session(
        config(1, 65000, a_remote_as, [192, 0, 2, 1], addr_b, a_passive),
        tx_a,
    );
    let b = spawn_session(
        config(2, 65001, 65000, [192, 0, 2, 2], addr_a, b_passive),
        tx_b,
    );
    register(&map_a, ip, &a);
    register(&map_b, ip, &b);
    (
        Side {
            handle: a,
            events: events_a,
            _map: map_a,
        },
        Side {
            handle: b,
            events: events_b,
            _map: map_b,
        },
    )
}

const V4: IpAddr = IpAddr::V4(Ipv4Addr::LOCALHOST);
const V6: IpAddr = IpAddr::V6(Ipv6Addr::LOCALHOST);

#[tokio::test]
async fn established_and_update_v4() {
    let (mut a, mut b) = pair(V4, false, true, 65001).await;
    let SessionEvent::Established {
        caps, remote_open, ..
    } = a.established().await
    else {
        unreachable!()
    };
    assert!(caps.four_octet_as && caps.extended_message);
    assert_eq!(caps.extended_next_hop, vec![AfiSafi::IPV4_UNICAST]);
    assert_eq!(remote_open.asn(), 65001);
    assert_eq!(remote_open.bgp_id, Ipv4Addr::new(192, 0, 2, 2));
    let SessionEvent::Established {
        remote_open,
        local_addr,
        remote_addr,
        ..
    } = b.established().await
    else {
        unreachable!()
    };
    assert_eq!(remote_open.asn(), 65000);
    assert_eq!(local_addr.ip(), V4);
    assert_eq!(remote_addr.ip(), V4);

    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence([65000])),
        next_hop: Some(Ipv4Addr::LOCALHOST),
        ..PathAttributes::default()
    };
    let prefixes = vec![
        Nlri::new("10.0.0.0/24".parse().unwrap()),
        Nlri::new("10.0.1.0/24".parse().unwrap()),
    ];
    let msgs = pack_announcements(&attrs, &prefixes, &caps).unwrap();
    a.send(SessionCommand::Send(msgs)).await;
    let Some(SessionEvent::Updates { id, batch }) = b
        .wait_for(WAIT, |e| matches!(e, SessionEvent::Updates { .. }))
        .await
    else {
        panic!("no UPDATE")
    };
    assert_eq!(id, 2);
    assert_eq!((batch.len(), batch.routes()), (1, 2));
    let update = batch.iter().next().unwrap();
    assert!(!update.is_treat_as_withdraw());
    let announced: Vec<_> = update.announced().map(|(_, n)| n).collect();
    assert_eq!(announced, prefixes);
    assert_eq!(update.update.attributes.as_path, attrs.as_path);

    let sa = a.handle.stats.snapshot();
    let sb = b.handle.stats.snapshot();
    assert_eq!(sa.state, State::Established);
    assert_eq!((sa.hold_time, sa.keepalive_time), (9, 3));
    assert_eq!(sa.msgs_out.update, 1);
    assert_eq!(sb.msgs_in.update, 1);
    assert_eq!(sa.msgs_out.open, 1);
    assert!(sa.uptime().is_some());

    // Route refresh request reaches the other side.
    a.send(SessionCommand::RequestRefresh(AfiSafi::IPV6_UNICAST))
        .await;
    let ev = b
        .wait_for(WAIT, |e| matches!(e, SessionEvent::RouteRefresh { .. }))
        .await;
    assert!(
        matches!(ev, Some(SessionEvent::RouteRefresh { family, .. }) if family == AfiSafi::IPV6_UNICAST)
    );
}

#[tokio::test]
async fn established_v6() {
    let (mut a, mut b) = pair(V6, false, true, 65001).await;
    let SessionEvent::Established { local_addr, .. } = a.established().await else {
        unreachable!()
    };
    assert_eq!(local_addr.ip(), V6);
    b.established().await;
}

#[tokio::test]
async fn passive_side_only_accepts() {
    let (a, b) = pair(V4, true, true, 65001).await;
    sleep(Duration::from_secs(2)).await;
    for side in [&a, &b] {
        let s = side.handle.stats.snapshot();
        assert_eq!(s.state, State::Active);
        assert_eq!(s.msgs_out.total(), 0);
    }
    drop((a, b));
    // One passive, one active: the passive side's connection is inbound.
    let (mut a, mut b) = pair(V4, false, true, 65001).await;
    a.established().await;
    let SessionEvent::Established { remote_addr, .. } = b.established().await else {
        unreachable!()
    };
    let local_addr = a.handle.stats.snapshot().local_addr;
    // B sees A's ephemeral source port: A dialed.
    assert_eq!(Some(remote_addr), local_addr);
}

#[tokio::test]
async fn collision_when_both_dial() {
    let (mut a, mut b) = pair(V4, false, false, 65001).await;
    a.established().await;
    b.established().await;
    // Exactly one session survives, and stays.
    sleep(Duration::from_secs(3)).await;
    for side in [&mut a, &mut b] {
        let s = side.handle.stats.snapshot();
        assert_eq!(s.state, State::Established);
        assert_eq!(s.established_count, 1);
        assert_eq!(s.flaps, 0);
        assert!(side.events.try_recv().is_err(), "unexpected extra event");
    }
    // Whichever connection survived, both ends agree on it.
    let (sa, sb) = (a.handle.stats.snapshot(), b.handle.stats.snapshot());
    assert_eq!(sa.local_addr, sb.remote_addr);
    assert_eq!(sa.remote_addr, sb.local_addr);
}

#[tokio::test]
async fn admin_shutdown_message_shown_on_other_side() {
    let (mut a, mut b) = pair(V4, false, true, 65001).await;
    a.established().await;
    b.established().await;
    a.send(SessionCommand::Stop {
        communication: Some("maintenance 42".into()),
    })
    .await;
    assert_eq!(a.down().await, DownReason::AdminShutdown);
    let DownReason::NotificationReceived(n) = b.down().await else {
        panic!("B should have received a NOTIFICATION")
    };
    assert_eq!((n.code(), n.subcode()), (6, 2));
    assert_eq!(n.shutdown_communication(), Some(Ok("maintenance 42")));
    let sb = b.handle.stats.snapshot();
    let shown = sb.last_error.map(|e| e.to_string()).unwrap_or_default();
    assert!(shown.contains("maintenance 42"), "{shown}");
    assert!(wait_stats(&a.handle, |s| s.state == State::Idle).await);
    assert_eq!(
        a.handle.stats.snapshot().last_notification_sent,
        Some(Notification::cease_with_message(
            CeaseSubcode::AdministrativeShutdown,
            "maintenance 42"
        ))
    );
    // Stays down until started again.
    sleep(Duration::from_millis(1500)).await;
    assert_eq!(a.handle.stats.state(), State::Idle);
    a.send(SessionCommand::Start).await;
    a.established().await;
    b.established().await;
    // clear bgp: Cease/4, then up again by itself.
    a.send(SessionCommand::Reset).await;
    assert!(matches!(a.down().await, DownReason::NotificationSent(n) if n.subcode() == 4));
    a.established().await;
}

#[tokio::test]
async fn wrong_peer_as_is_2_2() {
    let (a, b) = pair(V4, false, true, 65099).await;
    assert!(
        wait_stats(&a.handle, |s| s
            .last_notification_sent
            .as_ref()
            .is_some_and(|n| (n.code(), n.subcode()) == (2, 2)))
        .await
    );
    let sent = a.handle.stats.snapshot().last_notification_sent.unwrap();
    assert_eq!(sent.data, 65001u16.to_be_bytes().to_vec());
    assert!(
        wait_stats(&b.handle, |s| s
            .last_notification_received
            .as_ref()
            .is_some_and(|n| (n.code(), n.subcode()) == (2, 2)))
        .await
    );
    assert_eq!(a.handle.stats.snapshot().established_count, 0);
    assert_eq!(b.handle.stats.snapshot().established_count, 0);
}

// ---- raw peers: the test speaks BGP by hand -------------------------------

struct Raw {
    stream: TcpStream,
    buf: BytesMut,
}

impl Raw {
    async fn accept(listener: &TcpListener) -> Raw {
        let (stream, _) = timeout(WAIT, listener.accept())
            .await
            .expect("no connection")
            .unwrap();
        Raw {
            stream,
            buf: BytesMut::new(),
        }
    }

    async fn recv(&mut self) -> Option<Message> {
        let framing = SessionCaps {
            extended_message: true,
            ..SessionCaps::default()
        };
        loop {
            if let Ok(Some(len)) = frame_length(&self.buf, &framing) {
                if self.buf.len() >= len {
                    let frame = self.buf.split_to(len);
                    return Some(
                        decode_message(&frame, &SessionCaps::four_octet())
                            .unwrap()
                            .message,
                    );
                }
            }
            match timeout(WAIT, self.stream.read_buf(&mut self.buf)).await {
                Ok(Ok(n)) if n > 0 => {}
                _ => return None,
            }
        }
    }

    async fn send(&mut self, m: &Message) {
        let bytes = m.to_bytes(&SessionCaps::four_octet()).unwrap();
        self.stream.write_all(&bytes).await.unwrap();
    }

    /// OPEN both ways and KEEPALIVE both ways.
    async fn handshake(&mut self, asn: u32, hold: u16) {
        assert!(matches!(self.recv().await, Some(Message::Open(_))));
        let open = Open::new(
            asn,
            hold,
            Ipv4Addr::new(192, 0, 2, 99),
            typical(asn, &[AfiSafi::IPV4_UNICAST], 120),
        );
        self.send(&Message::Open(open)).await;
        self.send(&Message::Keepalive).await;
        assert_eq!(self.recv().await, Some(Message::Keepalive));
    }

    /// Read until a NOTIFICATION (skipping keepalives).
    async fn notification(&mut self) -> Notification {
        loop {
            match self.recv().await {
                Some(Message::Notification(n)) => return n,
                Some(_) => continue,
                None => panic!("closed without NOTIFICATION"),
            }
        }
    }
}

/// One of our sessions dialing a raw listener.
async fn session_to_raw(hold: u16) -> (Side, TcpListener) {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let mut cfg = config(
        7,
        65000,
        65001,
        [192, 0, 2, 1],
        listener.local_addr().unwrap(),
        false,
    );
    cfg.hold_time = hold;
    let (tx, events) = mpsc::channel(64);
    let handle = spawn_session(cfg, tx);
    (
        Side {
            handle,
            events,
            _map: session_map(),
        },
        listener,
    )
}

fn raw_open(id: [u8; 4]) -> Message {
    Message::Open(Open::new(
        65001,
        9,
        Ipv4Addr::from(id),
        typical(65001, &[AfiSafi::IPV4_UNICAST], 120),
    ))
}

/// A real collision (RFC 4271 §6.8): our session (id 192.0.2.1) dials the
/// raw peer, the raw peer dials back, both connections get OPENs. Returns
/// whether our outbound connection survived.
async fn collision_case(raw_id: [u8; 4]) -> bool {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).await.unwrap();
    let (map, ours) = listen(V4).await;
    let (tx, events) = mpsc::channel(64);
    let handle = spawn_session(
        config(
            5,
            65000,
            65001,
            [192, 0, 2, 1],
            listener.local_addr().unwrap(),
            false,
        ),
        tx,
    );
    register(&map, V4, &handle);
    let mut s = Side {
        handle,
        events,
        _map: map,
    };
    let mut outbound = Raw::accept(&listener).await; // our dial
    assert!(matches!(outbound.recv().await, Some(Message::Open(_))));
    let mut inbound = Raw {
        stream: TcpStream::connect(ours).await.unwrap(),
        buf: BytesMut::new(),
    };
    // The second connection gets our OPEN too.
    assert!(matches!(inbound.recv().await, Some(Message::Open(_))));
    outbound.send(&raw_open(raw_id)).await;
    inbound.send(&raw_open(raw_id)).await;
    let (loser, survivor) = if u32::from_be_bytes(raw_id) > u32::from_be_bytes([192, 0, 2, 1]) {
        (&mut outbound, &mut inbound)
    } else {
        (&mut inbound, &mut outbound)
    };
    let n = loser.notification().await;
    assert_eq!((n.code(), n.subcode()), (6, 7));
    assert_eq!(survivor.recv().await, Some(Message::Keepalive));
    survivor.send(&Message::Keepalive).await;
    s.established().await;
    let st = s.handle.stats.snapshot();
    assert_eq!(st.established_count, 1);
    let ours_local = survivor.stream.peer_addr().unwrap();
    assert_eq!(st.local_addr, Some(ours_local));
    ours_local.port() != ours.port()
}

#[tokio::test]
async fn collision_remote_higher_keeps_its_connection() {
    assert!(!collision_case([192, 0, 2, 200]).await);
}

#[tokio::test]
async fn collision_local_higher_keeps_ours() {
    assert!(collision_case([192, 0, 2, 0]).await);
}

#[tokio::test]
async fn hold_timer_expires_when_peer_goes_silent() {
    let (mut s, listener) = session_to_raw(3).await;
    let mut raw = Raw::accept(&listener).await;
    raw.handshake(65001, 3).await;
    s.established().await;
    assert_eq!(s.handle.stats.snapshot().keepalive_time, 1);
    let started = Instant::now();
    // Silent from now on; our side keeps sending keepalives meanwhile.
    let mut keepalives = 0;
    let n = loop {
        match raw.recv().await {
            Some(Message::Keepalive) => keepalives += 1,
            Some(Message::Notification(n)) => break n,
            other => panic!("unexpected {other:?}"),
        }
    };
    assert_eq!((n.code(), n.subcode()), (4, 0));
    assert!(keepalives >= 1, "no keepalives while waiting");
    let waited = started.elapsed();
    assert!(waited >= Duration::from_millis(2500), "{waited:?}");
    assert_eq!(s.down().await, DownReason::HoldTimerExpired);
    assert_eq!(
        s.handle.stats.snapshot().last_error,
        Some(DownReason::HoldTimerExpired)
    );
}

#[tokio::test]
async fn notification_sent_and_received() {
    let (mut s, listener) = session_to_raw(9).await;

    // Garbage on the wire: we answer 1/1 and close.
    let mut raw = Raw::accept(&listener).await;
    raw.handshake(65001, 9).await;
    s.established().await;
    raw.stream.write_all(&[0u8; 19]).await.unwrap();
    let n = raw.notification().await;
    assert_eq!((n.code(), n.subcode()), (1, 1));
    let DownReason::NotificationSent(sent) = s.down().await else {
        panic!("expected a sent NOTIFICATION")
    };
    assert_eq!(sent, n);
    assert_eq!(raw.recv().await, None, "connection not closed");

    // The session comes back after its idle hold; now the peer sends one.
    let mut raw = Raw::accept(&listener).await;
    raw.handshake(65001, 9).await;
    s.established().await;
    let cease = Notification::new(
        bgpd::packet::ErrorCode::Cease(CeaseSubcode::PeerDeconfigured),
        vec![],
    );
    raw.send(&Message::Notification(cease.clone())).await;
    assert_eq!(s.down().await, DownReason::NotificationReceived(cease));
    let st = s.handle.stats.snapshot();
    assert_eq!(st.flaps, 2);
    assert_eq!(
        st.last_error.unwrap().to_string(),
        "Notification received (Cease / Peer De-configured)"
    );
}

#[tokio::test]
async fn treat_as_withdraw_is_delivered_and_counted() {
    let (mut s, listener) = session_to_raw(9).await;
    let mut raw = Raw::accept(&listener).await;
    raw.handshake(65001, 9).await;
    s.established().await;
    #[rustfmt::skip]
    let body: &[u8] = &[
        0, 0,             // no withdrawn routes
        0, 20,            // attributes length
        0x40, 1, 1, 9,    // ORIGIN 9: malformed, treat-as-withdraw (RFC 7606 §7.1)
        0x40, 2, 6, 2, 1, 0, 0, 0xfd, 0xe9, // AS_PATH 65001
        0x40, 3, 4, 127, 0, 0, 1, // NEXT_HOP
        24, 10, 9, 9,     // 10.9.9.0/24
    ];
    let mut msg = vec![0xff; 16];
    msg.extend_from_slice(&((19 + body.len()) as u16).to_be_bytes());
    msg.push(2);
    msg.extend_from_slice(body);
    raw.stream.write_all(&msg).await.unwrap();
    let Some(SessionEvent::Updates { batch, .. }) = s
        .wait_for(WAIT, |e| matches!(e, SessionEvent::Updates { .. }))
        .await
    else {
        panic!("no UPDATE")
    };
    let update = batch.iter().next().unwrap();
    assert!(update.is_treat_as_withdraw());
    assert_eq!(
        update.withdrawn().collect::<Vec<_>>(),
        vec![(
            AfiSafi::IPV4_UNICAST,
            Nlri::new("10.9.9.0/24".parse().unwrap())
        )]
    );
    assert_eq!(s.handle.stats.snapshot().updates_treat_as_withdraw, 1);
    // The session stays up.
    assert_eq!(s.handle.stats.state(), State::Established);
}

// ---- BIRD -----------------------------------------------------------------

const BIRD: &str = "/usr/sbin/bird";

/// Kills BIRD and removes its directory when the test ends, pass or fail.
struct BirdGuard {
    child: std::process::Child,
    dir: std::path::PathBuf,
}

impl Drop for BirdGuard {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One birdc command's output ("" if birdc fails).
fn birdc(guard: &BirdGuard, cmd: &str) -> String {
    std::process::Command::new("/usr/sbin/birdc")
        .arg("-s")
        .arg(guard.dir.join("bird.ctl"))
        .args(cmd.split(' '))
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

fn free_port() -> u16 {
    std::net::TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .unwrap()
}

#[tokio::test]
async fn interop_with_bird() {
    if !std::path::Path::new(BIRD).exists() {
        eprintln!("BIRD not installed, skipping");
        return;
    }
    let (map, ours) = listen(V4).await;
    let bird_port = free_port();
    let dir = std::env::temp_dir().join(format!("bgpd-session-bird-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let conf = dir.join("bird.conf");
    std::fs::write(
        &conf,
        format!(
            "router id 192.0.2.2;\n\
             log \"{}/bird.log\" all;\n\
             protocol device {{ }}\n\
             protocol static {{ ipv4; route 198.51.100.0/24 blackhole; }}\n\
             protocol bgp ours {{\n\
             \x20 local 127.0.0.1 port {bird_port} as 65001;\n\
             \x20 neighbor 127.0.0.1 port {} as 65000;\n\
             \x20 multihop;\n\
             \x20 hold time 9;\n\
             \x20 connect delay time 1;\n\
             \x20 ipv4 {{ import all; export filter {{ bgp_next_hop = 192.0.2.99; accept; }}; }};\n\
             }}\n",
            dir.display(),
            ours.port()
        ),
    )
    .unwrap();
    let child = std::process::Command::new(BIRD)
        .arg("-f")
        .arg("-c")
        .arg(&conf)
        .arg("-s")
        .arg(dir.join("bird.ctl"))
        .arg("-P")
        .arg(dir.join("bird.pid"))
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start BIRD");
    let guard = BirdGuard { child, dir };

    let mut cfg = config(
        9,
        65000,
        65001,
        [192, 0, 2, 1],
        SocketAddr::new(V4, bird_port),
        false,
    );
    cfg.multihop = Some(2);
    let (tx, events) = mpsc::channel(64);
    let handle = spawn_session(cfg, tx);
    register(&map, V4, &handle);
    let mut s = Side {
        handle,
        events,
        _map: map,
    };
    let SessionEvent::Established {
        remote_open, caps, ..
    } = s.established().await
    else {
        unreachable!()
    };
    assert_eq!(remote_open.asn(), 65001);
    assert_eq!(remote_open.bgp_id, Ipv4Addr::new(192, 0, 2, 2));
    assert!(caps.four_octet_as);
    // BIRD exports its static route to us.
    let want = Nlri::new("198.51.100.0/24".parse().unwrap());
    let got = s
        .wait_for(WAIT, |e| match e {
            SessionEvent::Updates { batch, .. } => {
                batch.iter().any(|u| u.announced().any(|(_, n)| n == want))
            }
            _ => false,
        })
        .await;
    if got.is_none() {
        eprintln!("{}", birdc(&guard, "show protocols all ours"));
        eprintln!(
            "{}",
            std::fs::read_to_string(guard.dir.join("bird.log")).unwrap_or_default()
        );
    }
    assert!(got.is_some(), "no route from BIRD");
    // BIRD takes a route from us.
    let attrs = PathAttributes {
        origin: Some(Origin::Igp),
        as_path: Some(AsPath::from_sequence([65000])),
        next_hop: Some(Ipv4Addr::LOCALHOST),
        ..PathAttributes::default()
    };
    let ours_route = Nlri::new("203.0.113.0/24".parse().unwrap());
    let msgs = pack_announcements(&attrs, &[ours_route], &caps).unwrap();
    s.send(SessionCommand::Send(msgs)).await;
    let deadline = Instant::now() + WAIT;
    let mut shown = String::new();
    while Instant::now() < deadline && !shown.contains("203.0.113.0/24") {
        sleep(Duration::from_millis(300)).await;
        shown = birdc(&guard, "show route protocol ours");
    }
    assert!(shown.contains("203.0.113.0/24"), "{shown}");
    // And keeps the session up across a few keepalives.
    sleep(Duration::from_secs(4)).await;
    let st = s.handle.stats.snapshot();
    assert_eq!(st.state, State::Established);
    assert!(st.msgs_in.keepalive >= 2, "{:?}", st.msgs_in);
}
