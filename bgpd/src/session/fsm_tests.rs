//! Step-by-step tests of the pure FSM: every transition of the happy path,
//! timers, OPEN errors, collisions both ways, back-off.

use super::*;
use crate::packet::{ErrorCode, Update, AS_TRANS};

const C1: ConnId = ConnId(1);
const C2: ConnId = ConnId(2);

fn cfg() -> FsmConfig {
    FsmConfig {
        local_as: 65000,
        remote_as: 65001,
        router_id: Ipv4Addr::new(192, 0, 2, 5),
        hold_time: 90,
        connect_retry: Duration::from_secs(30),
        passive: false,
        families: vec![AfiSafi::IPV4_UNICAST, AfiSafi::IPV6_UNICAST],
        graceful_restart: Some(GrConfig {
            restart_time: 120,
            forwarding_preserved: true,
            restart_state: false,
        }),
        extended_message: true,
        extended_next_hop: false,
        add_path: Vec::new(),
        role: None,
        strict_role: false,
        idle_hold_initial: IDLE_HOLD_INITIAL,
        idle_hold_max: IDLE_HOLD_MAX,
        stable_time: STABLE_TIME,
    }
}

fn peer_open(asn: u32, id: [u8; 4], hold: u16) -> Open {
    Open::new(
        asn,
        hold,
        Ipv4Addr::from(id),
        crate::packet::capability::typical(asn, &[AfiSafi::IPV4_UNICAST], 120),
    )
}

fn sends(actions: &[Action]) -> Vec<(ConnId, Message)> {
    actions
        .iter()
        .filter_map(|a| match a {
            Action::Send { conn, message } => Some((*conn, (**message).clone())),
            _ => None,
        })
        .collect()
}

fn notification_on(actions: &[Action], conn: ConnId) -> Option<Notification> {
    sends(actions).into_iter().find_map(|(c, m)| match m {
        Message::Notification(n) if c == conn => Some(n),
        _ => None,
    })
}

fn timer(actions: &[Action], kind: TimerKind) -> Option<Duration> {
    actions.iter().find_map(|a| match a {
        Action::StartTimer(k, d) if *k == kind => Some(*d),
        _ => None,
    })
}

fn codes(n: &Notification) -> (u8, u8) {
    (n.code(), n.subcode())
}

fn dropped(actions: &[Action], conn: ConnId) -> bool {
    actions.contains(&Action::DropConnection { conn })
}

/// Drive a fresh FSM to Established on C1 (outbound).
fn established(cfg: FsmConfig, remote_hold: u16, t: Instant) -> Fsm {
    let mut fsm = Fsm::new(cfg, 7);
    fsm.handle(Event::ManualStart, t);
    fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    fsm.handle(
        Event::BgpOpen {
            conn: C1,
            open: peer_open(65001, [192, 0, 2, 2], remote_hold),
        },
        t,
    );
    fsm.handle(Event::KeepAliveMsg { conn: C1 }, t);
    assert_eq!(fsm.state(), State::Established);
    fsm
}

#[test]
fn happy_path_every_transition() {
    let t = Instant::now();
    let mut fsm = Fsm::new(cfg(), 1);
    assert_eq!(fsm.state(), State::Idle);

    let a = fsm.handle(Event::ManualStart, t);
    assert_eq!(fsm.state(), State::Connect);
    assert!(a.contains(&Action::Connect));
    let retry = timer(&a, TimerKind::ConnectRetry).unwrap();
    assert!(retry >= Duration::from_millis(22_500) && retry <= Duration::from_secs(30));

    let a = fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    assert_eq!(fsm.state(), State::OpenSent);
    assert!(a.contains(&Action::StopTimer(TimerKind::ConnectRetry)));
    assert_eq!(timer(&a, TimerKind::Hold), Some(OPEN_SENT_HOLD));
    assert_eq!(
        sends(&a),
        vec![(C1, Message::Open(fsm.local_open().clone()))]
    );

    let a = fsm.handle(
        Event::BgpOpen {
            conn: C1,
            open: peer_open(65001, [192, 0, 2, 2], 30),
        },
        t,
    );
    assert_eq!(fsm.state(), State::OpenConfirm);
    assert_eq!(sends(&a), vec![(C1, Message::Keepalive)]);
    assert_eq!(timer(&a, TimerKind::Hold), Some(Duration::from_secs(30)));
    assert_eq!(fsm.timers(), (30, 10));

    let a = fsm.handle(Event::KeepAliveMsg { conn: C1 }, t);
    assert_eq!(fsm.state(), State::Established);
    assert_eq!(fsm.established_at(), Some(t));
    let up = a
        .iter()
        .find_map(|a| match a {
            Action::SessionUp {
                conn,
                caps,
                hold_time,
                keepalive_time,
                remote_open,
                ..
            } => Some((
                *conn,
                caps.clone(),
                *hold_time,
                *keepalive_time,
                remote_open.asn(),
            )),
            _ => None,
        })
        .unwrap();
    assert_eq!(up.0, C1);
    assert!(up.1.four_octet_as && up.1.extended_message);
    assert_eq!((up.2, up.3, up.4), (30, 10, 65001));

    let update = Received::Whole(Box::new(ParsedUpdate {
        update: Update::end_of_rib(AfiSafi::IPV4_UNICAST),
        report: Default::default(),
    }));
    let a = fsm.handle(
        Event::UpdateMsg {
            conn: C1,
            update: update.clone(),
        },
        t,
    );
    assert_eq!(timer(&a, TimerKind::Hold), Some(Duration::from_secs(30)));
    assert!(a.contains(&Action::DeliverUpdate(update)));
    // An UPDATE joining the last one restarts the hold timer too.
    let a = fsm.handle(
        Event::UpdateMsg {
            conn: C1,
            update: Received::Repeat,
        },
        t,
    );
    assert_eq!(timer(&a, TimerKind::Hold), Some(Duration::from_secs(30)));
    assert!(a.contains(&Action::DeliverUpdate(Received::Repeat)));

    let a = fsm.handle(Event::KeepAliveMsg { conn: C1 }, t);
    assert_eq!(
        a,
        vec![Action::StartTimer(TimerKind::Hold, Duration::from_secs(30))]
    );
}

#[test]
fn keepalive_scheduling() {
    let t = Instant::now();
    let mut fsm = established(cfg(), 90, t);
    assert_eq!(fsm.timers(), (90, 30));
    for _ in 0..50 {
        let a = fsm.handle(Event::KeepaliveTimerExpires, t);
        assert_eq!(sends(&a), vec![(C1, Message::Keepalive)]);
        let d = timer(&a, TimerKind::Keepalive).unwrap();
        assert!(
            d >= Duration::from_millis(22_500) && d <= Duration::from_secs(30),
            "{d:?}"
        );
    }
    // The smaller hold time wins.
    let mut c = cfg();
    c.hold_time = 9;
    let fsm = established(c, 180, t);
    assert_eq!(fsm.timers(), (9, 3));
}

#[test]
fn local_open_capabilities() {
    let mut c = cfg();
    c.local_as = 4_200_000_001;
    let open = c.local_open();
    assert_eq!(u32::from(open.my_as), AS_TRANS);
    assert_eq!(open.asn(), 4_200_000_001);
    assert_eq!(open.hold_time, 90);
    let caps = &open.capabilities;
    assert!(caps.contains(&Capability::Multiprotocol(AfiSafi::IPV4_UNICAST)));
    assert!(caps.contains(&Capability::Multiprotocol(AfiSafi::IPV6_UNICAST)));
    assert!(caps.contains(&Capability::RouteRefresh));
    assert!(caps.contains(&Capability::EnhancedRouteRefresh));
    assert!(caps.contains(&Capability::ExtendedMessage));
    let gr = caps
        .iter()
        .find_map(|c| match c {
            Capability::GracefulRestart(gr) => Some(gr.clone()),
            _ => None,
        })
        .unwrap();
    assert_eq!(gr.restart_time, 120);
    assert_eq!(gr.families.len(), 2);
    assert!(gr.families.iter().all(|f| f.forwarding_preserved));

    let mut c = cfg();
    c.graceful_restart = None;
    c.extended_message = false;
    c.hold_time = 2;
    let open = c.local_open();
    assert_eq!(open.hold_time, 3);
    assert!(!open.capabilities.iter().any(|c| matches!(
        c,
        Capability::GracefulRestart(_) | Capability::ExtendedMessage
    )));
}

fn restart_bit(open: &Open) -> Option<bool> {
    open.capabilities.iter().find_map(|c| match c {
        Capability::GracefulRestart(gr) => Some(gr.restart_state),
        _ => None,
    })
}

/// RFC 4724 §3: R set in the OPENs after our restart, clear once a session
/// was Established.
#[test]
fn restart_bit_only_until_first_established() {
    let t = Instant::now();
    let mut c = cfg();
    c.graceful_restart = Some(GrConfig {
        restart_time: 120,
        forwarding_preserved: true,
        restart_state: true,
    });
    assert_eq!(restart_bit(&c.local_open()), Some(true));
    let fsm = established(c, 90, t);
    assert_eq!(restart_bit(fsm.local_open()), Some(false));
}

#[test]
fn hold_expiry_sends_4_0() {
    let t = Instant::now();
    let mut fsm = established(cfg(), 90, t);
    let a = fsm.handle(Event::HoldTimerExpires, t + Duration::from_secs(90));
    assert_eq!(fsm.state(), State::Idle);
    assert_eq!(codes(&notification_on(&a, C1).unwrap()), (4, 0));
    assert!(dropped(&a, C1));
    assert!(a.contains(&Action::SessionDown {
        reason: DownReason::HoldTimerExpired
    }));
    assert_eq!(timer(&a, TimerKind::IdleHold), Some(IDLE_HOLD_INITIAL));
    // Idle hold expiry restarts.
    let a = fsm.handle(Event::IdleHoldTimerExpires, t + Duration::from_secs(92));
    assert_eq!(fsm.state(), State::Connect);
    assert!(a.contains(&Action::Connect));
}

#[test]
fn hold_expiry_in_open_sent() {
    let t = Instant::now();
    let mut fsm = Fsm::new(cfg(), 1);
    fsm.handle(Event::ManualStart, t);
    fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    let a = fsm.handle(Event::HoldTimerExpires, t + OPEN_SENT_HOLD);
    assert_eq!(codes(&notification_on(&a, C1).unwrap()), (4, 0));
    assert!(a.contains(&Action::ConnectionLost {
        reason: DownReason::HoldTimerExpired
    }));
    assert_eq!(fsm.state(), State::Idle);
}

#[test]
fn bad_open_peer_as() {
    let t = Instant::now();
    let mut fsm = Fsm::new(cfg(), 1);
    fsm.handle(Event::ManualStart, t);
    fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    let a = fsm.handle(
        Event::BgpOpen {
            conn: C1,
            open: peer_open(65002, [192, 0, 2, 2], 90),
        },
        t,
    );
    let n = notification_on(&a, C1).unwrap();
    assert_eq!(codes(&n), (2, 2));
    assert_eq!(n.data, 65002u16.to_be_bytes().to_vec());
    assert!(dropped(&a, C1));
    assert_eq!(fsm.state(), State::Idle);
    assert!(matches!(
        a.last(),
        Some(Action::StartTimer(TimerKind::IdleHold, _))
    ));

    // A 4-octet AS goes into the data whole.
    let mut fsm = Fsm::new(cfg(), 1);
    fsm.handle(Event::ManualStart, t);
    fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    let a = fsm.handle(
        Event::BgpOpen {
            conn: C1,
            open: peer_open(4_200_000_000, [192, 0, 2, 2], 90),
        },
        t,
    );
    let n = notification_on(&a, C1).unwrap();
    assert_eq!(n.data, 4_200_000_000u32.to_be_bytes().to_vec());
}

#[test]
fn bad_open_identifier_and_hold() {
    let t = Instant::now();
    // iBGP with our own identifier: 2/3.
    let mut c = cfg();
    c.remote_as = 65000;
    let mut fsm = Fsm::new(c, 1);
    fsm.handle(Event::ManualStart, t);
    fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    let a = fsm.handle(
        Event::BgpOpen {
            conn: C1,
            open: peer_open(65000, [192, 0, 2, 5], 90),
        },
        t,
    );
    assert_eq!(codes(&notification_on(&a, C1).unwrap()), (2, 3));

    // eBGP with the same identifier is allowed (RFC 6286 §2.2).
    let mut fsm = Fsm::new(cfg(), 1);
    fsm.handle(Event::ManualStart, t);
    fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    fsm.handle(
        Event::BgpOpen {
            conn: C1,
            open: peer_open(65001, [192, 0, 2, 5], 90),
        },
        t,
    );
    assert_eq!(fsm.state(), State::OpenConfirm);

    // Hold time 2 (the codec rejects it too): 2/6.
    let mut fsm = Fsm::new(cfg(), 1);
    fsm.handle(Event::ManualStart, t);
    fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    let a = fsm.handle(
        Event::BgpOpen {
            conn: C1,
            open: peer_open(65001, [192, 0, 2, 2], 2),
        },
        t,
    );
    assert_eq!(codes(&notification_on(&a, C1).unwrap()), (2, 6));

    // An OPEN error found by the codec.
    let mut fsm = Fsm::new(cfg(), 1);
    fsm.handle(Event::ManualStart, t);
    fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    let n = Notification::new(ErrorCode::from_u8(2, 1), vec![0, 4]);
    let a = fsm.handle(
        Event::BgpOpenMsgErr {
            conn: C1,
            notification: n.clone(),
        },
        t,
    );
    assert_eq!(notification_on(&a, C1), Some(n));
    assert_eq!(fsm.state(), State::Idle);
}

#[test]
fn hold_time_zero() {
    let t = Instant::now();
    let mut fsm = Fsm::new(cfg(), 1);
    fsm.handle(Event::ManualStart, t);
    fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    let a = fsm.handle(
        Event::BgpOpen {
            conn: C1,
            open: peer_open(65001, [192, 0, 2, 2], 0),
        },
        t,
    );
    assert_eq!(fsm.timers(), (0, 0));
    assert!(a.contains(&Action::StopTimer(TimerKind::Hold)));
    assert!(a.contains(&Action::StopTimer(TimerKind::Keepalive)));
    assert_eq!(timer(&a, TimerKind::Keepalive), None);
    let a = fsm.handle(Event::KeepAliveMsg { conn: C1 }, t);
    assert_eq!(fsm.state(), State::Established);
    assert_eq!(timer(&a, TimerKind::Hold), None);
    let a = fsm.handle(Event::KeepAliveMsg { conn: C1 }, t);
    assert!(a.is_empty());
}

#[test]
fn passive_only_accepts() {
    let t = Instant::now();
    let mut c = cfg();
    c.passive = true;
    let mut fsm = Fsm::new(c, 1);
    let a = fsm.handle(Event::ManualStart, t);
    assert_eq!(fsm.state(), State::Active);
    assert!(!a.contains(&Action::Connect));
    assert!(fsm.handle(Event::ConnectRetryTimerExpires, t).is_empty());
    let a = fsm.handle(Event::TcpConnectionConfirmed { conn: C1 }, t);
    assert_eq!(fsm.state(), State::OpenSent);
    assert!(matches!(sends(&a)[..], [(C1, Message::Open(_))]));
    // After a failure it waits for the peer again, never dials.
    fsm.handle(
        Event::TcpConnectionFails {
            conn: C1,
            error: None,
        },
        t,
    );
    assert_eq!(fsm.state(), State::Idle);
    let a = fsm.handle(Event::IdleHoldTimerExpires, t);
    assert_eq!(fsm.state(), State::Active);
    assert!(!a.contains(&Action::Connect));
}

#[test]
fn dial_failure_waits_for_connect_retry() {
    let t = Instant::now();
    let mut fsm = Fsm::new(cfg(), 1);
    fsm.handle(Event::ManualStart, t);
    let a = fsm.handle(
        Event::ConnectFailed {
            error: "refused".into(),
        },
        t,
    );
    assert!(a.is_empty());
    assert_eq!(fsm.state(), State::Active);
    let a = fsm.handle(Event::ConnectRetryTimerExpires, t);
    assert_eq!(fsm.state(), State::Connect);
    assert!(a.contains(&Action::Connect));
    assert!(timer(&a, TimerKind::ConnectRetry).is_some());
    // Still trying: the timer in Connect redials.
    let a = fsm.handle(Event::ConnectRetryTimerExpires, t);
    assert!(a.contains(&Action::AbortConnect) && a.contains(&Action::Connect));
    // An inbound connection in Connect replaces the dial.
    let a = fsm.handle(Event::TcpConnectionConfirmed { conn: C2 }, t);
    assert!(a.contains(&Action::AbortConnect));
    assert_eq!(fsm.primary(), Some(C2));
}

/// Both sides dialed: C1 is ours (outbound), C2 the peer's (inbound).
fn colliding(local_id: [u8; 4]) -> Fsm {
    let t = Instant::now();
    let mut c = cfg();
    c.router_id = Ipv4Addr::from(local_id);
    let mut fsm = Fsm::new(c, 1);
    fsm.handle(Event::ManualStart, t);
    fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    let a = fsm.handle(Event::TcpConnectionConfirmed { conn: C2 }, t);
    assert_eq!(
        sends(&a),
        vec![(C2, Message::Open(fsm.local_open().clone()))]
    );
    assert_eq!(fsm.secondary(), Some(C2));
    fsm
}

#[test]
fn collision_local_higher_keeps_outbound() {
    let t = Instant::now();
    let remote = peer_open(65001, [192, 0, 2, 2], 90);
    // OPEN first on the outbound connection.
    let mut fsm = colliding([192, 0, 2, 9]);
    let a = fsm.handle(
        Event::BgpOpen {
            conn: C1,
            open: remote.clone(),
        },
        t,
    );
    assert_eq!(codes(&notification_on(&a, C2).unwrap()), (6, 7));
    assert!(dropped(&a, C2) && !dropped(&a, C1));
    assert_eq!(fsm.state(), State::OpenConfirm);
    assert_eq!((fsm.primary(), fsm.secondary()), (Some(C1), None));

    // OPEN first on the inbound connection.
    let mut fsm = colliding([192, 0, 2, 9]);
    let a = fsm.handle(
        Event::BgpOpen {
            conn: C2,
            open: remote,
        },
        t,
    );
    assert_eq!(codes(&notification_on(&a, C2).unwrap()), (6, 7));
    assert!(dropped(&a, C2) && !dropped(&a, C1));
    assert_eq!(fsm.state(), State::OpenSent);
    assert_eq!((fsm.primary(), fsm.secondary()), (Some(C1), None));
}

#[test]
fn collision_remote_higher_keeps_inbound() {
    let t = Instant::now();
    let remote = peer_open(65001, [192, 0, 2, 200], 90);
    // OPEN first on the inbound connection: it wins and goes on.
    let mut fsm = colliding([192, 0, 2, 9]);
    let a = fsm.handle(
        Event::BgpOpen {
            conn: C2,
            open: remote.clone(),
        },
        t,
    );
    assert_eq!(codes(&notification_on(&a, C1).unwrap()), (6, 7));
    assert!(dropped(&a, C1) && !dropped(&a, C2));
    assert_eq!(fsm.state(), State::OpenConfirm);
    assert_eq!(sends(&a).last(), Some(&(C2, Message::Keepalive)));
    assert_eq!(fsm.primary(), Some(C2));
    assert!(!a.iter().any(|a| matches!(
        a,
        Action::ConnectionLost { .. } | Action::SessionDown { .. }
    )));

    // OPEN first on the outbound connection: it loses, the inbound one
    // waits for its OPEN.
    let mut fsm = colliding([192, 0, 2, 9]);
    let a = fsm.handle(
        Event::BgpOpen {
            conn: C1,
            open: remote.clone(),
        },
        t,
    );
    assert_eq!(codes(&notification_on(&a, C1).unwrap()), (6, 7));
    assert_eq!((fsm.state(), fsm.primary()), (State::OpenSent, Some(C2)));
    fsm.handle(
        Event::BgpOpen {
            conn: C2,
            open: remote,
        },
        t,
    );
    fsm.handle(Event::KeepAliveMsg { conn: C2 }, t);
    assert_eq!(fsm.state(), State::Established);

    // The peer resolved first and closed our outbound one with Cease/7.
    let mut fsm = colliding([192, 0, 2, 9]);
    let a = fsm.handle(
        Event::NotifMsg {
            conn: C1,
            notification: collision_cease(),
        },
        t,
    );
    assert!(dropped(&a, C1));
    assert_eq!((fsm.state(), fsm.primary()), (State::OpenSent, Some(C2)));
}

#[test]
fn collision_with_established_closes_new() {
    let t = Instant::now();
    let mut fsm = established(cfg(), 90, t);
    let a = fsm.handle(Event::TcpConnectionConfirmed { conn: C2 }, t);
    assert_eq!(codes(&notification_on(&a, C2).unwrap()), (6, 7));
    assert!(dropped(&a, C2));
    assert_eq!(fsm.state(), State::Established);
}

#[test]
fn collision_winner_rule() {
    let lo = Ipv4Addr::new(10, 0, 0, 1);
    let hi = Ipv4Addr::new(10, 0, 0, 2);
    assert_eq!(collision_winner(hi, 1, lo, 2), Direction::Outbound);
    assert_eq!(collision_winner(lo, 2, hi, 1), Direction::Inbound);
    // Equal identifiers (eBGP): the larger AS keeps its connection.
    assert_eq!(collision_winner(lo, 2, lo, 1), Direction::Outbound);
    assert_eq!(collision_winner(lo, 1, lo, 2), Direction::Inbound);
}

#[test]
fn idle_hold_grows_and_resets() {
    let mut t = Instant::now();
    let mut fsm = Fsm::new(cfg(), 3);
    fsm.handle(Event::ManualStart, t);
    let mut delays = Vec::new();
    for _ in 0..10 {
        fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
        let a = fsm.handle(
            Event::NotifMsg {
                conn: C1,
                notification: Notification::new(ErrorCode::from_u8(6, 5), vec![]),
            },
            t,
        );
        let d = timer(&a, TimerKind::IdleHold).unwrap();
        delays.push(d.as_secs());
        t += d;
        fsm.handle(Event::IdleHoldTimerExpires, t);
        assert_eq!(fsm.state(), State::Connect);
    }
    assert_eq!(delays, vec![1, 2, 4, 8, 16, 32, 64, 120, 120, 120]);

    // Established for a short while: the back-off keeps growing.
    let mut fsm2 = established(cfg(), 90, t);
    for _ in 0..3 {
        let a = fsm2.handle(Event::HoldTimerExpires, t);
        assert!(timer(&a, TimerKind::IdleHold).is_some());
        fsm2.handle(Event::IdleHoldTimerExpires, t);
        fsm2.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
        fsm2.handle(
            Event::BgpOpen {
                conn: C1,
                open: peer_open(65001, [192, 0, 2, 2], 90),
            },
            t,
        );
        fsm2.handle(Event::KeepAliveMsg { conn: C1 }, t);
    }
    assert_eq!(fsm2.next_idle_hold(), Duration::from_secs(8));
    // Stable for longer than STABLE_TIME: back to the initial delay.
    let a = fsm2.handle(Event::HoldTimerExpires, t + STABLE_TIME);
    assert_eq!(timer(&a, TimerKind::IdleHold), Some(IDLE_HOLD_INITIAL));
    assert_eq!(fsm2.next_idle_hold(), Duration::from_secs(2));
}

#[test]
fn admin_shutdown_and_start() {
    let t = Instant::now();
    let mut fsm = established(cfg(), 90, t);
    let a = fsm.handle(
        Event::ManualStop {
            communication: Some("maintenance window".into()),
        },
        t,
    );
    let n = notification_on(&a, C1).unwrap();
    assert_eq!(codes(&n), (6, 2));
    assert_eq!(n.shutdown_communication(), Some(Ok("maintenance window")));
    assert!(a.contains(&Action::SessionDown {
        reason: DownReason::AdminShutdown
    }));
    assert_eq!(timer(&a, TimerKind::IdleHold), None);
    assert!(fsm.is_admin_down());
    // Automatic restarts and inbound connections are refused.
    assert!(fsm.handle(Event::IdleHoldTimerExpires, t).is_empty());
    let a = fsm.handle(Event::TcpConnectionConfirmed { conn: C2 }, t);
    assert_eq!(codes(&notification_on(&a, C2).unwrap()), (6, 5));
    assert!(dropped(&a, C2));
    assert_eq!(fsm.state(), State::Idle);
    // Manual start dials again.
    let a = fsm.handle(Event::ManualStart, t);
    assert!(a.contains(&Action::Connect));

    // Stop without a communication: plain Cease/2, while dialing.
    let a = fsm.handle(
        Event::ManualStop {
            communication: None,
        },
        t,
    );
    assert!(a.contains(&Action::AbortConnect));
    assert_eq!(fsm.state(), State::Idle);
}

#[test]
fn notification_received_keeps_communication() {
    let t = Instant::now();
    let mut fsm = established(cfg(), 90, t);
    let n = Notification::cease_with_message(CeaseSubcode::AdministrativeShutdown, "bye");
    let a = fsm.handle(
        Event::NotifMsg {
            conn: C1,
            notification: n.clone(),
        },
        t,
    );
    assert!(sends(&a).is_empty());
    let reason = DownReason::NotificationReceived(n);
    assert_eq!(
        reason.to_string(),
        "Notification received (Cease / Administrative Shutdown \"bye\")"
    );
    assert!(a.contains(&Action::SessionDown { reason }));
}

#[test]
fn admin_reset_restarts_at_once() {
    let t = Instant::now();
    let mut fsm = established(cfg(), 90, t);
    let a = fsm.handle(
        Event::AdminReset {
            communication: None,
        },
        t,
    );
    assert_eq!(codes(&notification_on(&a, C1).unwrap()), (6, 4));
    assert!(a.iter().any(|a| matches!(
        a,
        Action::SessionDown {
            reason: DownReason::NotificationSent(_)
        }
    )));
    assert_eq!(
        a.last()
            .map(|a| matches!(a, Action::StartTimer(TimerKind::ConnectRetry, _))),
        Some(true)
    );
    assert_eq!(fsm.state(), State::Connect);
}

#[test]
fn unexpected_messages_are_fsm_errors() {
    let t = Instant::now();
    let mut fsm = Fsm::new(cfg(), 1);
    fsm.handle(Event::ManualStart, t);
    fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    let a = fsm.handle(Event::KeepAliveMsg { conn: C1 }, t);
    assert_eq!(codes(&notification_on(&a, C1).unwrap()), (5, 1));

    let mut fsm = established(cfg(), 90, t);
    let a = fsm.handle(
        Event::BgpOpen {
            conn: C1,
            open: peer_open(65001, [192, 0, 2, 2], 90),
        },
        t,
    );
    assert_eq!(codes(&notification_on(&a, C1).unwrap()), (5, 3));
    // Events of unknown connections only close them.
    let a = fsm.handle(Event::KeepAliveMsg { conn: ConnId(77) }, t);
    assert_eq!(a, vec![Action::DropConnection { conn: ConnId(77) }]);
}

#[test]
fn route_refresh() {
    let t = Instant::now();
    let mut fsm = established(cfg(), 90, t);
    let a = fsm.handle(Event::RequestRefresh(AfiSafi::IPV4_UNICAST), t);
    assert_eq!(
        sends(&a),
        vec![(
            C1,
            Message::RouteRefresh(RouteRefresh::new(
                AfiSafi::IPV4_UNICAST,
                RouteRefreshSubtype::Request
            ))
        )]
    );
    let rr = RouteRefresh::new(AfiSafi::IPV6_UNICAST, RouteRefreshSubtype::Begin);
    let a = fsm.handle(
        Event::RouteRefreshMsg {
            conn: C1,
            refresh: rr,
        },
        t,
    );
    assert!(a.contains(&Action::DeliverRouteRefresh(rr)));
    let odd = RouteRefresh::new(AfiSafi::IPV6_UNICAST, RouteRefreshSubtype::Unknown(9));
    let a = fsm.handle(
        Event::RouteRefreshMsg {
            conn: C1,
            refresh: odd,
        },
        t,
    );
    assert!(!a
        .iter()
        .any(|a| matches!(a, Action::DeliverRouteRefresh(_))));
}

#[test]
fn jitter_range() {
    for seed in 0..200 {
        let mut fsm = Fsm::new(cfg(), seed);
        for _ in 0..20 {
            let d = fsm.jitter(Duration::from_secs(100));
            assert!(d >= Duration::from_secs(75) && d <= Duration::from_secs(100));
        }
    }
}

#[test]
fn down_reason_words() {
    assert_eq!(
        DownReason::HoldTimerExpired.to_string(),
        "Hold Timer Expired"
    );
    assert_eq!(DownReason::AdminShutdown.to_string(), "Admin. shutdown");
    assert_eq!(DownReason::TcpClosed.to_string(), "Peer closed the session");
    let n = Notification::new(ErrorCode::from_u8(6, 4), vec![]);
    assert_eq!(
        DownReason::NotificationSent(n).to_string(),
        "Notification sent (Cease / Administrative Reset)"
    );
}

#[test]
fn prefix_limit_sends_cease_1_with_rfc4486_data_and_stays_down() {
    let t = Instant::now();
    let mut fsm = established(cfg(), 90, t);
    let a = fsm.handle(
        Event::PrefixLimitExceeded {
            family: AfiSafi::IPV6_UNICAST,
            max: 1000,
        },
        t,
    );
    let n = notification_on(&a, C1).unwrap();
    assert_eq!(codes(&n), (6, 1));
    // AFI 2, SAFI 1, upper bound 1000 (RFC 4486 §4).
    assert_eq!(n.data, vec![0, 2, 1, 0, 0, 0x03, 0xe8]);
    assert!(a.iter().any(|x| matches!(x, Action::SessionDown { .. })));
    assert!(fsm.is_admin_down());
    assert_eq!(fsm.state(), State::Idle);
    assert!(fsm.handle(Event::IdleHoldTimerExpires, t).is_empty());
    // Not Established: nothing to tear down.
    let mut idle = Fsm::new(cfg(), 1);
    assert!(idle
        .handle(
            Event::PrefixLimitExceeded {
                family: AfiSafi::IPV4_UNICAST,
                max: 1
            },
            t
        )
        .is_empty());
    // `clear bgp` (ManualStart) dials again.
    assert!(fsm.handle(Event::ManualStart, t).contains(&Action::Connect));
}

#[test]
fn add_path_is_advertised_for_unicast_families_only() {
    use crate::packet::capability::AddPathMode;
    assert!(cfg().local_open().add_path().next().is_none());
    let mut c = cfg();
    c.families.push(AfiSafi::L2VPN_EVPN);
    c.add_path = vec![
        (AfiSafi::IPV4_UNICAST, AddPathMode::Both),
        (AfiSafi::IPV6_UNICAST, AddPathMode::Both),
        (AfiSafi::L2VPN_EVPN, AddPathMode::Both),
    ];
    assert_eq!(
        c.local_open().add_path().collect::<Vec<_>>(),
        vec![
            (AfiSafi::IPV4_UNICAST, AddPathMode::Both),
            (AfiSafi::IPV6_UNICAST, AddPathMode::Both)
        ]
    );
}

/// The reply of an FSM with our `role` (and `strict`) to an OPEN from
/// AS 65001 carrying `caps` on top of the typical ones.
fn role_reply(role: Role, strict: bool, caps: Vec<Capability>) -> (Vec<Action>, Fsm) {
    let t = Instant::now();
    let mut c = cfg();
    c.role = Some(role);
    c.strict_role = strict;
    let mut fsm = Fsm::new(c, 1);
    fsm.handle(Event::ManualStart, t);
    fsm.handle(Event::TcpConnectionAcknowledged { conn: C1 }, t);
    let mut open = peer_open(65001, [192, 0, 2, 2], 90);
    open.capabilities.extend(caps);
    let a = fsm.handle(Event::BgpOpen { conn: C1, open }, t);
    (a, fsm)
}

#[test]
fn role_capability_advertised_on_ebgp_only() {
    let mut c = cfg();
    c.role = Some(Role::Customer);
    assert!(c
        .local_open()
        .capabilities
        .contains(&Capability::Role(Role::Customer)));
    c.remote_as = c.local_as;
    assert!(!c
        .local_open()
        .capabilities
        .iter()
        .any(|cap| matches!(cap, Capability::Role(_))));
}

#[test]
fn role_pairs_and_mismatch() {
    // RFC 9234 §4.2: customer–provider is fine; the caps say so.
    let (a, fsm) = role_reply(
        Role::Customer,
        false,
        vec![Capability::Role(Role::Provider)],
    );
    assert_eq!(notification_on(&a, C1), None);
    assert_eq!(fsm.state(), State::OpenConfirm);
    // Both providers: Role Mismatch 2/11, and the session does not come up.
    let (a, fsm) = role_reply(
        Role::Provider,
        false,
        vec![Capability::Role(Role::Provider)],
    );
    assert_eq!(codes(&notification_on(&a, C1).unwrap()), (2, 11));
    assert_eq!(fsm.state(), State::Idle);
    // No role from the peer: fine, unless strict.
    let (a, _) = role_reply(Role::Peer, false, vec![]);
    assert_eq!(notification_on(&a, C1), None);
    let (a, _) = role_reply(Role::Peer, true, vec![]);
    assert_eq!(codes(&notification_on(&a, C1).unwrap()), (2, 11));
    // Two different roles from the peer: mismatch.
    let (a, _) = role_reply(
        Role::Peer,
        false,
        vec![
            Capability::Role(Role::Peer),
            Capability::Role(Role::Customer),
        ],
    );
    assert_eq!(codes(&notification_on(&a, C1).unwrap()), (2, 11));
}

#[test]
fn negotiated_roles_reach_session_caps() {
    let t = Instant::now();
    let (_, mut fsm) = role_reply(Role::Customer, true, vec![Capability::Role(Role::Provider)]);
    let a = fsm.handle(Event::KeepAliveMsg { conn: C1 }, t);
    let caps = a
        .iter()
        .find_map(|a| match a {
            Action::SessionUp { caps, .. } => Some(caps.clone()),
            _ => None,
        })
        .expect("session up");
    assert_eq!(caps.local_role, Some(Role::Customer));
    assert_eq!(caps.peer_role, Some(Role::Provider));
}
