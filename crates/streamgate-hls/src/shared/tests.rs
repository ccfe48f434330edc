//! The shared-token state machine, on a synthetic clock.

use super::*;

const WINDOW: Duration = Duration::from_secs(30);

fn claims(sid: &str) -> Claims {
    Claims {
        sub: "code".into(),
        eid: "demo".into(),
        sid: sid.into(),
        sp: Claims::stream_prefix("demo"),
        iat: 0,
        exp: i64::MAX,
        nbf: None,
        probe: false,
    }
}

fn ip(text: &str) -> IpAddr {
    text.parse().expect("ip")
}

fn at(start: Instant, secs: u64) -> Instant {
    start + Duration::from_secs(secs)
}

#[test]
fn two_players_at_once_are_reported_once_and_refused_in_refuse_mode() {
    for mode in [SharedTokenMode::Report, SharedTokenMode::Refuse] {
        let (t, mut rx) = SharedTokens::new(mode, WINDOW, Some("eu-1".into()));
        let c = claims("s1");
        let t0 = Instant::now();
        let (a, b) = (ip("198.51.100.1"), ip("203.0.113.9"));
        assert_eq!(t.observe(&c, a, at(t0, 0)), Verdict::Allow);
        // The second address is let through until the owner shows it is still there.
        assert_eq!(t.observe(&c, b, at(t0, 2)), Verdict::Allow);
        assert!(rx.try_recv().is_err(), "nothing proven yet");
        assert_eq!(
            t.observe(&c, a, at(t0, 4)),
            Verdict::Allow,
            "the owner plays on"
        );
        let report = rx.try_recv().expect("reported");
        assert_eq!(report.addresses, ["198.51.100.1", "203.0.113.9"]);
        assert_eq!(report.session_id, "s1");
        assert_eq!(report.edge.as_deref(), Some("eu-1"));
        assert_eq!(report.refused, mode == SharedTokenMode::Refuse);
        let expected = match mode {
            SharedTokenMode::Report => Verdict::Allow,
            SharedTokenMode::Refuse => Verdict::Refuse,
        };
        for s in 6..10 {
            assert_eq!(t.observe(&c, b, at(t0, s)), expected, "{mode:?}");
            assert_eq!(t.observe(&c, a, at(t0, s)), Verdict::Allow);
        }
        assert!(rx.try_recv().is_err(), "one report per session");
        assert_eq!(t.detected(), 1);
    }
}

#[test]
fn a_clean_address_change_is_never_reported_or_refused() {
    let (t, mut rx) = SharedTokens::new(SharedTokenMode::Refuse, WINDOW, None);
    let c = claims("s2");
    let t0 = Instant::now();
    let (wifi, mobile) = (ip("198.51.100.1"), ip("203.0.113.9"));
    for s in 0..10 {
        assert_eq!(t.observe(&c, wifi, at(t0, s)), Verdict::Allow);
    }
    // Right after the switch, and on: the old address never comes back.
    for s in 10..100 {
        assert_eq!(t.observe(&c, mobile, at(t0, s)), Verdict::Allow, "{s}");
    }
    assert!(rx.try_recv().is_err());
    // By now the new address owns the session; the old one is the newcomer.
    assert_eq!(t.observe(&c, wifi, at(t0, 100)), Verdict::Allow);
    assert_eq!(t.detected(), 0);
}

#[test]
fn ipv6_privacy_addresses_of_one_network_are_one_viewer_and_probes_are_ignored() {
    let (t, mut rx) = SharedTokens::new(SharedTokenMode::Refuse, WINDOW, None);
    let c = claims("s3");
    let t0 = Instant::now();
    for (s, addr) in ["2001:db8:1:2::a", "2001:db8:1:2::b", "2001:db8:1:2::a"]
        .iter()
        .enumerate()
    {
        assert_eq!(t.observe(&c, ip(addr), at(t0, s as u64)), Verdict::Allow);
    }
    let mut probe = claims("s3");
    probe.probe = true;
    assert_eq!(
        t.observe(&probe, ip("192.0.2.1"), at(t0, 5)),
        Verdict::Allow
    );
    assert_eq!(
        t.observe(&c, ip("2001:db8:1:2::c"), at(t0, 6)),
        Verdict::Allow
    );
    assert!(rx.try_recv().is_err());
}
