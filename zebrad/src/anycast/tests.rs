//! Manager tests without an interface (no netlink): routes follow health,
//! depref keeps them with the high metric, show reports the state,
//! last-site protection, drain, load-balancer reports and their TTL.

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

fn nowhere(_: IpNetwork) -> bool {
    false
}

fn everywhere(_: IpNetwork) -> bool {
    true
}

fn env() -> Env<'static> {
    Env {
        ifindex: &no_iface,
        elsewhere: &nowhere,
    }
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
    assert!(m.event(ev(true), t, &env()).is_empty());
    let a = m.event(ev(true), t, &env());
    assert_eq!(a.len(), 1);
    let RibAction::Add(r) = &a[0] else {
        panic!("{a:?}")
    };
    assert_eq!((r.metric, r.kind), (0, RouteKind::Blackhole));
    let show = m.show("", t);
    assert_eq!(show.services[0].state, "up");
    assert!(show.services[0].advertised);
    assert_eq!(show.services[0].checks[0].passes, 2);
    assert!(m.event(ev(false), t, &env()).is_empty());
    assert_eq!(m.show("web", t).services[0].state, "pending-down");
    let a = m.event(ev(false), t, &env());
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
            &env()
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
    assert!(m.event(ev(false), t, &env()).is_empty());
    let a = m.event(ev(false), t, &env());
    let [RibAction::Add(r)] = a.as_slice() else {
        panic!("{a:?}")
    };
    assert_eq!(r.metric, 1000);
    m.event(ev(true), t, &env());
    let a = m.event(ev(true), t, &env());
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
        &env(),
    );
    m.event(
        Event::Round {
            id,
            results: round(true),
        },
        t,
        &env(),
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
        &env(),
    );
    assert!(m
        .event(
            Event::Round {
                id,
                results: round(true)
            },
            t,
            &env()
        )
        .is_empty());
    assert!(!m.show("", t).services[0].address_present);
}

fn up(m: &mut Manager, id: u64, t: Instant) -> Vec<RibAction> {
    let mut a = m.event(
        Event::Round {
            id,
            results: round(true),
        },
        t,
        &env(),
    );
    a.extend(m.event(
        Event::Round {
            id,
            results: round(true),
        },
        t,
        &env(),
    ));
    a
}

#[tokio::test]
async fn last_site_keeps_advertising_until_another_site_has_the_prefix() {
    let (tx, _rx) = mpsc::channel(16);
    let mut m = Manager::new(tx);
    let t = Instant::now();
    let mut s = svc(DownAction::Withdraw);
    s.last_site = true;
    s.depref.prepend = 2;
    m.apply(&[s], t);
    let id = m.svcs[0].id;
    let (wtx, mut wrx) = mpsc::channel(16);
    m.watch(String::new(), wtx);
    assert_eq!(wrx.try_recv().unwrap().unwrap().state, "init");
    assert_eq!(up(&mut m, id, t).len(), 1);
    assert_eq!(wrx.try_recv().unwrap().unwrap().state, "up");
    let p: IpNetwork = "203.0.113.10/32".parse().unwrap();
    let fail = |m: &mut Manager, e: &Env| {
        m.event(
            Event::Round {
                id,
                results: round(false),
            },
            t,
            e,
        )
    };
    fail(&mut m, &env());
    let a = fail(&mut m, &env());
    let [RibAction::Add(r)] = a.as_slice() else {
        panic!("{a:?}")
    };
    assert_eq!(r.metric, 1000);
    let attrs = m.attributes(p).unwrap();
    assert!(attrs.last_resort);
    assert_eq!((attrs.as_path_prepend, attrs.med), (2, Some(1000)));
    let st = &m.show("web", t).services[0];
    assert!(st.last_site && st.advertised && st.depreferred);
    assert_eq!(st.effective, "last-site");
    let ev = wrx.try_recv().unwrap().unwrap();
    assert_eq!(
        (ev.state.as_str(), ev.previous.as_str()),
        ("last-site", "up")
    );
    assert!(ev.reason.contains("no other site"), "{}", ev.reason);
    // Another site's route appears in the RIB: the withdrawal proceeds.
    let other = Env {
        ifindex: &no_iface,
        elsewhere: &everywhere,
    };
    assert_eq!(m.rib_changed(t, &other), [RibAction::Del(p)]);
    assert_eq!(m.show("web", t).services[0].effective, "down");
    assert!(m.attributes(p).is_none());
    // ... and goes away again: last site once more.
    assert_eq!(m.rib_changed(t, &env()).len(), 1);
    assert_eq!(m.show("web", t).services[0].effective, "last-site");
    // Recovery: advertised normally.
    let a = up(&mut m, id, t);
    let [RibAction::Add(r)] = a.as_slice() else {
        panic!("{a:?}")
    };
    assert_eq!(r.metric, 0);
    assert!(!m.attributes(p).unwrap().last_resort);
}

#[tokio::test]
async fn drain_sends_graceful_shutdown_then_withdraws() {
    let (tx, _rx) = mpsc::channel(16);
    let mut m = Manager::new(tx);
    let t = Instant::now();
    let mut s = svc(DownAction::Withdraw);
    s.drain_time = Duration::from_secs(5);
    s.attrs.communities = vec![65000 << 16 | 1];
    m.apply(&[s], t);
    let id = m.svcs[0].id;
    up(&mut m, id, t);
    let p: IpNetwork = "203.0.113.10/32".parse().unwrap();
    assert!(m.drain("nope", true, "operator", "", t, &env()).is_err());
    let (a, st) = m
        .drain("web", true, "operator", "maintenance", t, &env())
        .unwrap();
    assert_eq!(a, [RibAction::Refresh(p)], "same route, new attributes");
    assert_eq!(
        m.attributes(p).unwrap().communities,
        [65000 << 16 | 1, advert::GRACEFUL_SHUTDOWN]
    );
    assert_eq!(
        (st.drain.as_str(), st.effective.as_str()),
        ("graceful-shutdown", "graceful-shutdown")
    );
    assert!(st.reason.contains("maintenance"), "{}", st.reason);
    // The drain time passes (the Wake event).
    let a = m.event(Event::Wake { id }, t + Duration::from_secs(5), &env());
    assert_eq!(a, [RibAction::Del(p)]);
    assert_eq!(m.show("web", t).services[0].effective, "drained");
    // Checks keep passing: still drained.
    assert!(up(&mut m, id, t + Duration::from_secs(6)).is_empty());
    let (a, st) = m
        .drain(
            "web",
            false,
            "operator",
            "",
            t + Duration::from_secs(7),
            &env(),
        )
        .unwrap();
    assert_eq!(a.len(), 1);
    assert_eq!(st.effective, "up");
    assert_eq!(m.attributes(p).unwrap().communities, [65000 << 16 | 1]);
}

#[tokio::test]
async fn maintenance_file_drains() {
    let (tx, _rx) = mpsc::channel(16);
    let mut m = Manager::new(tx);
    let t = Instant::now();
    let dir = std::env::temp_dir().join(format!("zebrad-maint-{}", std::process::id()));
    let _ = std::fs::create_dir_all(&dir);
    let file = dir.join("down");
    let _ = std::fs::remove_file(&file);
    let mut s = svc(DownAction::Withdraw);
    s.drain_time = Duration::ZERO;
    m.apply(&[s], t);
    m.set_maintenance_file(Some(file.clone()));
    let id = m.svcs[0].id;
    up(&mut m, id, t);
    assert!(m.tick(t, &env()).is_empty());
    std::fs::write(&file, b"").unwrap();
    let a = m.tick(t, &env());
    assert_eq!(a.len(), 1, "{a:?}");
    let st = &m.show("web", t).services[0];
    assert_eq!(
        (st.effective.as_str(), st.drain_source.as_str()),
        ("drained", "maintenance-file")
    );
    std::fs::remove_file(&file).unwrap();
    let a = m.tick(t, &env());
    assert!(matches!(a.as_slice(), [RibAction::Add(_)]), "{a:?}");
    let _ = std::fs::remove_dir(&dir);
}

#[tokio::test]
async fn load_balancer_reports_expire() {
    let (tx, _rx) = mpsc::channel(16);
    let mut m = Manager::new(tx);
    let t = Instant::now();
    let mut s = Service::new("lb", vec!["203.0.113.20/32".parse().unwrap()], Vec::new());
    s.lb = Some(LbUse {
        ttl: Duration::from_secs(3),
        only: true,
    });
    m.apply(&[s], t);
    let rep = |healthy| pb::HealthReport {
        service: "lb".into(),
        healthy,
        ttl_ms: 0,
        reporter: "haproxy1".into(),
        reason: "backend pool".into(),
    };
    let (a, st) = m.lb_report(&rep(true), t, &env()).unwrap();
    assert_eq!((a.len(), st.as_str()), (1, "up"));
    let s = &m.show("lb", t).services[0];
    assert_eq!(
        (s.lb_state.as_str(), s.lb_reporter.as_str()),
        ("healthy", "haproxy1")
    );
    let id = m.svcs[0].id;
    // Renewed in time: nothing changes.
    let t2 = t + Duration::from_secs(2);
    assert!(m.lb_report(&rep(true), t2, &env()).unwrap().0.is_empty());
    assert!(m
        .event(Event::Wake { id }, t + Duration::from_secs(3), &env())
        .is_empty());
    // Silent past the TTL: down.
    let a = m.event(Event::Wake { id }, t2 + Duration::from_secs(3), &env());
    assert_eq!(a.len(), 1);
    let s = &m.show("lb", t2 + Duration::from_secs(3)).services[0];
    assert_eq!(
        (s.effective.as_str(), s.lb_state.as_str()),
        ("down", "expired")
    );
    assert!(s.reason.contains("expired"), "{}", s.reason);
    // An unhealthy report is down at once.
    let t3 = t2 + Duration::from_secs(4);
    assert_eq!(m.lb_report(&rep(true), t3, &env()).unwrap().1, "up");
    assert_eq!(m.lb_report(&rep(false), t3, &env()).unwrap().1, "down");
    // A service without lb_ttl refuses reports.
    let (tx, _rx) = mpsc::channel(16);
    let mut m2 = Manager::new(tx);
    m2.apply(&[svc(DownAction::Withdraw)], t);
    let mut r = rep(true);
    r.service = "web".into();
    assert!(m2.lb_report(&r, t, &env()).is_err());
}

#[tokio::test]
async fn checks_and_reports_combined_need_both() {
    let (tx, _rx) = mpsc::channel(16);
    let mut m = Manager::new(tx);
    let t = Instant::now();
    let mut s = svc(DownAction::Withdraw);
    s.lb = Some(LbUse {
        ttl: Duration::from_secs(3),
        only: false,
    });
    m.apply(&[s], t);
    let id = m.svcs[0].id;
    assert!(up(&mut m, id, t).is_empty(), "no report yet");
    let r = pb::HealthReport {
        service: "web".into(),
        healthy: true,
        ..Default::default()
    };
    assert_eq!(m.lb_report(&r, t, &env()).unwrap().0.len(), 1);
    let s = &m.show("web", t).services[0];
    assert_eq!(s.history.len(), 2);
    assert!(s.history[0].passed);
}
