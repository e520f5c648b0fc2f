//! Manager tests without an interface (no netlink): routes follow health,
//! depref keeps them with the high metric, show reports the state.

use super::*;

fn svc(down: DownAction) -> Service {
    let mut s = Service::new(
        "web",
        vec!["203.0.113.10/32".parse().unwrap()],
        vec![Check {
            kind: CheckKind::Command {
                command: "true".into(),
            },
            timeout: Duration::from_secs(1),
        }],
    );
    s.down_action = down;
    s.interval = Duration::from_secs(3600);
    s.fast_interval = Duration::from_secs(3600);
    s
}

fn round(ok: bool) -> Vec<Outcome> {
    vec![Outcome {
        ok,
        latency: Duration::from_millis(1),
        detail: if ok { "fine".into() } else { "broken".into() },
    }]
}

fn no_iface(_: &str) -> Option<u32> {
    None
}

#[tokio::test]
async fn routes_follow_health() {
    let (tx, _rx) = mpsc::channel(16);
    let mut m = Manager::new(tx);
    let t = Instant::now();
    let (a, ch) = m.apply(&[svc(DownAction::Withdraw)], t);
    assert!(a.is_empty());
    assert_eq!(ch, ["service web started"]);
    let id = m.svcs[0].id;
    let ev = |ok| Event::Round {
        id,
        results: round(ok),
    };
    assert!(m.event(ev(true), t, &no_iface).is_empty());
    let a = m.event(ev(true), t, &no_iface);
    assert_eq!(a.len(), 1);
    let RibAction::Add(r) = &a[0] else {
        panic!("{a:?}")
    };
    assert_eq!((r.metric, r.kind), (0, RouteKind::Blackhole));
    let show = m.show("", t);
    assert_eq!(show.services[0].state, "up");
    assert!(show.services[0].advertised);
    assert_eq!(show.services[0].checks[0].passes, 2);
    assert!(m.event(ev(false), t, &no_iface).is_empty());
    assert_eq!(m.show("web", t).services[0].state, "pending-down");
    let a = m.event(ev(false), t, &no_iface);
    assert_eq!(a, [RibAction::Del("203.0.113.10/32".parse().unwrap())]);
    let s = &m.show("web", t).services[0];
    assert_eq!(
        (s.state.as_str(), s.flaps, s.advertised),
        ("down", 1, false)
    );
    assert!(s.reason.contains("broken"), "{}", s.reason);
    assert!(m.show("other", t).services.is_empty());
    // Reports of an unknown service are ignored.
    assert!(m
        .event(
            Event::Round {
                id: 999,
                results: round(true)
            },
            t,
            &no_iface
        )
        .is_empty());
    let (a, _) = m.shutdown();
    assert!(a.is_empty(), "nothing advertised: nothing to withdraw");
}

#[tokio::test]
async fn depref_keeps_the_route_with_a_high_metric() {
    let (tx, _rx) = mpsc::channel(16);
    let mut m = Manager::new(tx);
    let t = Instant::now();
    m.apply(&[svc(DownAction::Depref)], t);
    let id = m.svcs[0].id;
    let ev = |ok| Event::Round {
        id,
        results: round(ok),
    };
    // Never up: nothing advertised even when confirmed down? Init first.
    assert!(m.event(ev(false), t, &no_iface).is_empty());
    let a = m.event(ev(false), t, &no_iface);
    let [RibAction::Add(r)] = a.as_slice() else {
        panic!("{a:?}")
    };
    assert_eq!(r.metric, 1000);
    m.event(ev(true), t, &no_iface);
    let a = m.event(ev(true), t, &no_iface);
    let [RibAction::Add(r)] = a.as_slice() else {
        panic!("{a:?}")
    };
    assert_eq!(r.metric, 0);
    let (a, _) = m.shutdown();
    assert_eq!(a, [RibAction::Del("203.0.113.10/32".parse().unwrap())]);
}

#[tokio::test]
async fn reload_keeps_unchanged_services_and_restarts_changed_ones() {
    let (tx, _rx) = mpsc::channel(16);
    let mut m = Manager::new(tx);
    let t = Instant::now();
    let s = svc(DownAction::Withdraw);
    m.apply(std::slice::from_ref(&s), t);
    let id = m.svcs[0].id;
    m.event(
        Event::Round {
            id,
            results: round(true),
        },
        t,
        &no_iface,
    );
    m.event(
        Event::Round {
            id,
            results: round(true),
        },
        t,
        &no_iface,
    );
    let (a, ch) = m.apply(std::slice::from_ref(&s), t);
    assert!(a.is_empty() && ch.is_empty());
    let mut s2 = s.clone();
    s2.rise = 3;
    let (a, ch) = m.apply(&[s2], t);
    assert_eq!(a, [RibAction::Del("203.0.113.10/32".parse().unwrap())]);
    assert_eq!(ch, ["service web stopped", "service web started"]);
    assert_eq!(m.show("", t).services[0].state, "init");
}

#[tokio::test]
async fn missing_interface_means_not_advertised() {
    let (tx, _rx) = mpsc::channel(16);
    let mut m = Manager::new(tx);
    let t = Instant::now();
    let mut s = svc(DownAction::Withdraw);
    s.interface = Some("nonexistent0".into());
    m.apply(&[s], t);
    assert!(m.owns_address("nonexistent0", "203.0.113.10/32".parse().unwrap()));
    assert!(!m.owns_address("lo", "203.0.113.10/32".parse().unwrap()));
    let id = m.svcs[0].id;
    m.event(
        Event::Round {
            id,
            results: round(true),
        },
        t,
        &no_iface,
    );
    assert!(m
        .event(
            Event::Round {
                id,
                results: round(true)
            },
            t,
            &no_iface
        )
        .is_empty());
    assert!(!m.show("", t).services[0].address_present);
}
