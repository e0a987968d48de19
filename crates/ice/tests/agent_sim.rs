//! Two sans-IO agents on a virtual clock over the seeded simulated network.

mod support;

use std::time::Duration;

use antiphon_ice::sim::LinkConfig;
use antiphon_ice::{CandidateType, IceConnectionState as State, IceEvent, IceRole, PairState};
use support::{World, addr, creds, mdns_candidate};

fn lossy(loss: f64) -> LinkConfig {
    LinkConfig::default()
        .with_delay(Duration::from_millis(25))
        .with_jitter(Duration::from_millis(40))
        .with_loss(loss)
        .with_duplicate(0.05)
        .with_mtu(None)
}

#[test]
fn controlling_offerer_and_controlled_answerer_connect() {
    let mut w = World::controlling_a(1);
    w.exchange_candidates();
    assert!(
        w.run_until(Duration::from_secs(5), World::both_connected),
        "not connected: {:?} {:?}",
        w.a.states,
        w.b.states
    );
    w.assert_consistent_selection();
    // Checking, then connected, in that order, on both sides.
    for side in [&w.a, &w.b] {
        let states: Vec<State> = side.states.iter().map(|(_, s)| *s).collect();
        assert_eq!(states, [State::Checking, State::Connected]);
        assert!(
            side.events.iter().any(
                |e| matches!(e, IceEvent::NewLocalCandidate(c) if c.kind == CandidateType::Host)
            )
        );
        assert!(side.events.contains(&IceEvent::GatheringComplete));
        assert!(
            side.events
                .iter()
                .any(|e| matches!(e, IceEvent::SelectedPairChanged { .. }))
        );
        assert_eq!(side.agent.drops().total(), 0, "{:?}", side.agent.drops());
    }
    // A clean 20 ms link connects within a few round trips.
    assert!(
        w.elapsed() < Duration::from_millis(300),
        "took {:?}",
        w.elapsed()
    );
    // Stays connected: consent checks keep it fresh for a minute.
    assert!(!w.run_until(Duration::from_secs(60), |w| !w.both_connected()));
}

#[test]
fn connects_over_lossy_reordering_duplicating_links() {
    for seed in 0..12 {
        let mut w = World::new(
            100 + seed,
            lossy(0.10),
            IceRole::Controlling,
            IceRole::Controlled,
        );
        w.exchange_candidates();
        assert!(
            w.run_until(Duration::from_secs(20), World::both_connected),
            "seed {seed}: {:?} {:?}",
            w.a.states,
            w.b.states
        );
        w.assert_consistent_selection();
        let (sent, lost) = w.net.counters();
        assert!(sent > 0 && lost <= sent);
    }
}

#[test]
fn role_conflicts_resolve() {
    for (role, seed) in [
        (IceRole::Controlling, 7),
        (IceRole::Controlled, 8),
        (IceRole::Controlling, 9),
        (IceRole::Controlled, 10),
    ] {
        let mut w = World::new(seed, LinkConfig::default(), role, role);
        w.exchange_candidates();
        assert!(
            w.run_until(Duration::from_secs(10), World::both_connected),
            "{role:?} seed {seed}: {:?} {:?}",
            w.a.states,
            w.b.states
        );
        assert_ne!(w.a.agent.role(), w.b.agent.role(), "roles still conflict");
        w.assert_consistent_selection();
        // The agent with the larger tie-breaker is controlling (RFC 8445 section 7.3.1.1).
        let a_wins = w.a.agent.tie_breaker() >= w.b.agent.tie_breaker();
        assert_eq!(w.a.agent.role() == IceRole::Controlling, a_wins);
        let switched =
            w.a.events
                .iter()
                .chain(&w.b.events)
                .filter(|e| matches!(e, IceEvent::RoleChanged(_)))
                .count();
        assert!(switched >= 1);
    }
}

#[test]
fn answerer_reaches_an_offerer_whose_only_candidate_is_mdns() {
    // A is a browser offerer hiding its host address behind an unresolvable mDNS name.
    let mut w = World::new(21, lossy(0.0), IceRole::Controlling, IceRole::Controlled);
    let mdns = mdns_candidate("61b445d2-6503-41ac-96ce-ee3edac00e9f.local", 5000);
    w.b.agent
        .add_remote_candidate(&mdns)
        .expect("mDNS candidate accepted");
    assert_eq!(w.b.agent.pair_count(), 0, "an mDNS name cannot be paired");
    for c in w.b.agent.local_candidates() {
        w.a.agent
            .add_remote_candidate(&c)
            .expect("A takes B's host candidate");
    }
    assert!(
        w.run_until(Duration::from_secs(5), World::both_connected),
        "{:?} {:?}",
        w.a.states,
        w.b.states
    );
    w.assert_consistent_selection();
    // B learned A's address as a peer-reflexive candidate from A's checks and checked it back.
    assert_eq!(w.b.agent.remote_candidate_count(), 1);
    assert_eq!(w.b.agent.selected_pair(), Some((w.b.addr, w.a.addr)));
    assert_eq!(
        w.b.agent.pair_state(w.b.addr, w.a.addr),
        Some(PairState::Succeeded)
    );
}

#[test]
fn a_peer_that_stops_answering_goes_disconnected_then_failed() {
    let mut w = World::controlling_a(31);
    w.exchange_candidates();
    assert!(w.run_until(Duration::from_secs(5), World::both_connected));
    let silent_since = w.now;
    w.net.block(w.b.addr);
    assert!(
        w.run_until(Duration::from_secs(60), |w| w.a.agent.state()
            == State::Failed),
        "{:?}",
        w.a.states
    );
    let after: Vec<(Duration, State)> =
        w.a.states
            .iter()
            .filter(|(t, _)| *t > silent_since)
            .map(|(t, s)| (*t - silent_since, *s))
            .collect();
    assert_eq!(
        after.iter().map(|(_, s)| *s).collect::<Vec<_>>(),
        [State::Disconnected, State::Failed]
    );
    // Disconnected after more than a consent interval of silence, failed at the 30 s consent
    // timeout (measured from the last response, which came before the block).
    assert!(
        after[0].0 >= Duration::from_secs(2) && after[0].0 <= Duration::from_secs(9),
        "{after:?}"
    );
    assert!(
        after[1].0 >= Duration::from_secs(24) && after[1].0 <= Duration::from_secs(31),
        "{after:?}"
    );
    // Consent lost: nothing more is sent and there is no pair to send data on.
    assert_eq!(w.a.agent.selected_pair(), None);
    w.assert_a_sends_nothing_for(Duration::from_secs(30));
}

#[test]
fn a_disconnected_peer_that_comes_back_reconnects() {
    let mut w = World::controlling_a(32);
    w.exchange_candidates();
    assert!(w.run_until(Duration::from_secs(5), World::both_connected));
    w.net.block(w.b.addr);
    assert!(w.run_until(Duration::from_secs(20), |w| w.a.agent.state()
        == State::Disconnected));
    w.net.unblock(w.b.addr);
    assert!(
        w.run_until(Duration::from_secs(15), |w| w.a.agent.state()
            == State::Connected),
        "{:?}",
        w.a.states
    );
}

#[test]
fn ice_restart_builds_a_fresh_checklist() {
    let mut w = World::new(41, lossy(0.02), IceRole::Controlling, IceRole::Controlled);
    w.exchange_candidates();
    assert!(w.run_until(Duration::from_secs(10), World::both_connected));
    let (new_a, new_b) = (creds(9001), creds(9002));
    w.a.agent.restart(new_a.clone());
    w.b.agent.restart(new_b.clone());
    assert_eq!(w.a.agent.pair_count(), 0);
    assert_eq!(w.a.agent.local_credentials(), &new_a);
    // Data keeps flowing on the old pair meanwhile.
    assert!(w.a.agent.selected_pair().is_some());
    w.a.agent.set_remote_credentials(new_b);
    w.b.agent.set_remote_credentials(new_a);
    w.exchange_candidates();
    assert!(w.run_until(Duration::from_secs(10), |w| {
        w.a.agent.pair_state(w.a.addr, w.b.addr) == Some(PairState::Succeeded)
            && w.b.agent.pair_state(w.b.addr, w.a.addr) == Some(PairState::Succeeded)
            && w.both_connected()
    }));
    w.assert_consistent_selection();
    assert!(
        !w.run_until(Duration::from_secs(40), |w| !w.both_connected()),
        "lost consent after restart"
    );
}

#[test]
fn trickled_candidates_and_end_of_candidates() {
    let mut w = World::controlling_a(51);
    // Nothing to check yet.
    assert!(!w.run_until(Duration::from_secs(1), World::both_connected));
    // B trickles a candidate that goes nowhere, then its real one a second later.
    let dead = antiphon_ice::Candidate::new_udp(
        "9",
        2_000_000_000,
        addr("10.9.9.9:9"),
        CandidateType::Host,
    );
    w.a.agent.add_remote_candidate(&dead).expect("trickled");
    w.run_until(Duration::from_secs(1), |_| false);
    w.exchange_candidates();
    assert!(w.run_until(Duration::from_secs(10), World::both_connected));
    w.a.agent.end_of_remote_candidates();
    let late = antiphon_ice::Candidate::new_udp("8", 1, addr("10.8.8.8:8"), CandidateType::Host);
    assert!(
        w.a.agent.add_remote_candidate(&late).is_err(),
        "candidate after end-of-candidates"
    );
}

#[test]
fn all_pairs_failing_after_end_of_candidates_fails() {
    let mut w = World::controlling_a(61);
    w.net.block(w.b.addr);
    w.exchange_candidates();
    w.a.agent.end_of_remote_candidates();
    assert!(
        w.run_until(Duration::from_secs(20), |w| w.a.agent.state()
            == State::Failed),
        "{:?}",
        w.a.states
    );
    assert_eq!(
        w.a.agent.pair_state(w.a.addr, w.b.addr),
        Some(PairState::Failed)
    );
    assert!(w.elapsed() < Duration::from_secs(15));
}

#[test]
fn server_reflexive_candidates_come_from_the_stun_server() {
    let mut ca = support::config(71);
    ca.stun_servers = vec![addr("192.0.2.100:3478")];
    let mut w = World::with_configs(
        71,
        LinkConfig::default(),
        (ca, IceRole::Controlling),
        (support::config(72), IceRole::Controlled),
    );
    w.stun_server = Some((addr("192.0.2.100:3478"), |client| {
        std::net::SocketAddr::new("203.0.113.7".parse().expect("ip"), client.port() + 1)
    }));
    assert!(w.run_until(Duration::from_secs(5), |w| {
        w.a.events.contains(&IceEvent::GatheringComplete)
    }));
    let srflx: Vec<_> =
        w.a.agent
            .local_candidates()
            .into_iter()
            .filter(|c| c.kind == CandidateType::ServerReflexive)
            .collect();
    assert_eq!(srflx.len(), 1);
    assert_eq!(srflx[0].socket_addr(), Some(addr("203.0.113.7:5001")));
    assert_eq!(srflx[0].related_port, Some(5000));
    let host_event =
        w.a.events.iter().position(
            |e| matches!(e, IceEvent::NewLocalCandidate(c) if c.kind == CandidateType::Host),
        );
    let done =
        w.a.events
            .iter()
            .position(|e| *e == IceEvent::GatheringComplete);
    assert!(host_event < done);
}

#[test]
fn completed_after_end_of_candidates_on_both_sides() {
    let mut w = World::controlling_a(81);
    w.exchange_candidates();
    assert!(w.run_until(Duration::from_secs(5), World::both_connected));
    w.a.agent.end_of_remote_candidates();
    w.b.agent.end_of_remote_candidates();
    let completed =
        |w: &World| w.a.agent.state() == State::Completed && w.b.agent.state() == State::Completed;
    assert!(
        w.run_until(Duration::from_secs(5), completed),
        "{:?} {:?}",
        w.a.states,
        w.b.states
    );
    // Consent keeps it completed.
    assert!(!w.run_until(Duration::from_secs(40), |w| !completed(w)));
}

#[test]
fn facing_an_ice_lite_peer_we_are_controlling() {
    let mut config = support::config(91);
    config.remote_ice_lite = true;
    let agent = antiphon_ice::IceAgent::new(
        std::time::Instant::now(),
        config,
        IceRole::Controlled,
        creds(91),
    );
    assert_eq!(agent.role(), IceRole::Controlling);
}

#[test]
fn a_restart_the_peer_never_answers_fails_in_time() {
    let mut w = World::controlling_a(95);
    w.exchange_candidates();
    assert!(w.run_until(Duration::from_secs(5), World::both_connected));
    w.a.agent.restart(creds(9500));
    w.a.agent.set_remote_credentials(creds(9501));
    for c in w.b.agent.local_candidates() {
        w.a.agent.add_remote_candidate(&c).expect("candidate");
    }
    // B never restarts, so A's new checks (with credentials B does not know) all fail.
    assert!(
        w.run_until(Duration::from_secs(40), |w| w.a.agent.state()
            == State::Failed),
        "{:?}",
        w.a.states
    );
    assert!(
        w.b.agent
            .drops()
            .get(antiphon_ice::DropReason::BadIntegrity)
            > 0
    );
}

/// A clean link with a fixed 1 ms delay: a check and its response take 2 ms.
fn one_millisecond_link() -> LinkConfig {
    LinkConfig::default()
        .with_delay(Duration::from_millis(1))
        .with_jitter(Duration::ZERO)
        .with_loss(0.0)
        .with_duplicate(0.0)
        .with_mtu(None)
}

/// Candidates exchanged, both sides connect on one pair in under 25 ms: a few round trips of a
/// [`one_millisecond_link`], not a pacing interval (Ta, 50 ms).
fn connects_within_25_ms(w: &mut World) {
    w.exchange_candidates();
    assert!(w.run_until(Duration::from_secs(5), World::both_connected));
    w.assert_consistent_selection();
    assert!(
        w.elapsed() < Duration::from_millis(25),
        "took {:?}",
        w.elapsed()
    );
}

#[test]
fn nomination_does_not_wait_for_the_next_pacing_slot() {
    // A 1 ms link: one check, its response, the USE-CANDIDATE check and its response fit in a
    // few milliseconds. The nominating check re-checks a pair that just answered, so it goes
    // out at once instead of Ta (50 ms) after the previous check.
    let link = one_millisecond_link();
    let mut w = World::new(7, link, IceRole::Controlling, IceRole::Controlled);
    connects_within_25_ms(&mut w);
}

/// Each fault on its own, heavier than the combined lossy link above, over several seeds.
#[test]
fn connects_under_each_fault_alone() {
    let faults = [
        // 30% loss, no reordering.
        ("loss", LinkConfig::default().with_loss(0.30)),
        // Heavy reordering: jitter twelve times the base delay, nothing lost.
        (
            "reorder",
            LinkConfig::default()
                .with_delay(Duration::from_millis(5))
                .with_jitter(Duration::from_millis(60)),
        ),
        // Half of all datagrams arrive twice.
        ("duplicate", LinkConfig::default().with_duplicate(0.5)),
    ];
    for (name, link) in faults {
        for seed in 0..8 {
            let mut w = World::new(300 + seed, link, IceRole::Controlling, IceRole::Controlled);
            w.exchange_candidates();
            assert!(
                w.run_until(Duration::from_secs(30), World::both_connected),
                "{name} seed {seed}: {:?} {:?}",
                w.a.states,
                w.b.states
            );
            w.assert_consistent_selection();
            // Duplicated and reordered responses are absorbed: the selection holds and both
            // sides stay connected through a minute of consent checks.
            assert!(
                !w.run_until(Duration::from_secs(60), |w| !w.both_connected()
                    && link.loss == 0.0),
                "{name} seed {seed}: lost connection: {:?} {:?}",
                w.a.states,
                w.b.states
            );
            if link.loss == 0.0 {
                w.assert_consistent_selection();
            }
        }
    }
}

/// B vanishes after A's first check left and before any answer came back: without
/// end-of-candidates A fails at `checking_timeout` (30 s), never having connected.
#[test]
fn a_peer_that_vanishes_mid_checks_fails_at_the_checking_timeout() {
    let mut w = World::controlling_a(310);
    w.exchange_candidates();
    assert!(w.run_until(Duration::from_secs(1), |w| w.a.sent > 0 && w.b.sent > 0));
    assert!(!w.both_connected());
    let vanished_at = w.now;
    w.net.block(w.b.addr);
    assert!(
        w.run_until(Duration::from_secs(40), |w| w.a.agent.state()
            == State::Failed),
        "{:?}",
        w.a.states
    );
    let states: Vec<State> = w.a.states.iter().map(|(_, s)| *s).collect();
    assert_eq!(states, [State::Checking, State::Failed]);
    let failed_after = w.a.states[1].0 - vanished_at;
    assert!(
        failed_after >= Duration::from_secs(29) && failed_after <= Duration::from_secs(31),
        "failed after {failed_after:?}"
    );
    assert_eq!(w.a.agent.selected_pair(), None);
    // Failed means quiet.
    w.assert_a_sends_nothing_for(Duration::from_secs(30));
}

/// The same with end-of-candidates signalled: A fails once its only pair exhausts its
/// retransmissions (RTO 250 ms doubling to 1.6 s, 6 retransmissions: about 8 s), well before
/// the checking timeout.
#[test]
fn a_peer_that_vanishes_mid_checks_fails_when_its_pairs_fail() {
    let mut w = World::controlling_a(311);
    w.exchange_candidates();
    w.a.agent.end_of_remote_candidates();
    assert!(w.run_until(Duration::from_secs(1), |w| w.a.sent > 0 && w.b.sent > 0));
    let vanished_at = w.now;
    w.net.block(w.b.addr);
    assert!(
        w.run_until(Duration::from_secs(40), |w| w.a.agent.state()
            == State::Failed),
        "{:?}",
        w.a.states
    );
    let failed_after = w.a.states.last().expect("states").0 - vanished_at;
    assert!(
        failed_after >= Duration::from_secs(5) && failed_after <= Duration::from_secs(12),
        "failed after {failed_after:?}"
    );
    assert_eq!(
        w.a.agent.pair_state(w.a.addr, w.b.addr),
        Some(PairState::Failed)
    );
}

/// B's address changes (say Wi-Fi to cellular): the old pair loses consent on A, then both
/// restart ICE with new credentials, B's new candidate is signalled, and they reconnect on
/// the new path.
#[test]
fn ice_restart_after_a_path_change_reconnects_on_the_new_path() {
    for seed in [320, 321, 322] {
        let mut w = World::new(seed, lossy(0.02), IceRole::Controlling, IceRole::Controlled);
        w.exchange_candidates();
        assert!(w.run_until(Duration::from_secs(10), World::both_connected));
        let old_b = w.b.addr;
        let new_b = addr("10.0.1.2:7000");
        // The old address is gone; B's datagrams now come from and go to the new one.
        w.net.block(old_b);
        w.b.addr = new_b;
        assert!(
            w.run_until(Duration::from_secs(20), |w| w.a.agent.state()
                == State::Disconnected),
            "seed {seed}: {:?}",
            w.a.states
        );
        // Restart: new credentials both ways, B gathers on its new socket, candidates again.
        let (new_a_creds, new_b_creds) = (creds(seed * 10 + 1), creds(seed * 10 + 2));
        w.a.agent.restart(new_a_creds.clone());
        w.b.agent.restart(new_b_creds.clone());
        w.b.agent.gather(&[new_b]);
        w.a.agent.set_remote_credentials(new_b_creds);
        w.b.agent.set_remote_credentials(new_a_creds);
        w.exchange_candidates();
        assert!(
            w.run_until(Duration::from_secs(20), |w| {
                w.both_connected() && w.a.agent.selected_pair() == Some((w.a.addr, new_b))
            }),
            "seed {seed}: {:?} {:?} selected {:?}",
            w.a.states,
            w.b.states,
            w.a.agent.selected_pair()
        );
        assert_eq!(w.b.agent.selected_pair(), Some((new_b, w.a.addr)));
        // And it stays up on the new path.
        assert!(
            !w.run_until(Duration::from_secs(40), |w| !w.both_connected()),
            "seed {seed}: lost the new path: {:?}",
            w.a.states
        );
    }
}

/// `getStats` of ICE on a clean 20 ms link: the selected pair's checks and consent requests are
/// counted both ways, and every round trip measures exactly 40 ms of virtual time.
#[test]
fn stats_count_checks_and_consent_and_measure_round_trips() {
    let mut w = World::controlling_a(3);
    w.exchange_candidates();
    assert!(w.run_until(Duration::from_secs(5), World::both_connected));
    // A minute of consent freshness (a request every 4 to 6 s).
    assert!(!w.run_until(Duration::from_secs(60), |w| !w.both_connected()));
    for side in [&w.a, &w.b] {
        let stats = side.agent.stats();
        assert_eq!(stats.state, State::Connected);
        assert_eq!(stats.local_ufrag, side.agent.local_credentials().ufrag());
        assert!(
            stats
                .remote_candidates
                .iter()
                .any(|c| c.kind == CandidateType::Host),
            "{:?}",
            stats.remote_candidates
        );
        let selected: Vec<_> = stats.pairs.iter().filter(|p| p.selected).collect();
        assert_eq!(selected.len(), 1, "{:?}", stats.pairs);
        let pair = selected[0];
        assert_eq!(Some((pair.local, pair.remote)), side.agent.selected_pair());
        assert_eq!(pair.state, PairState::Succeeded);
        assert!(pair.nominated);
        let c = &pair.counters;
        assert!(c.requests_received >= 1 && c.responses_sent >= 1, "{c:?}");
        assert!(c.consent_requests_sent >= 9, "{c:?}");
        assert!(
            c.responses_received >= c.consent_requests_sent,
            "every consent request (and at least one check) answered: {c:?}"
        );
        assert_eq!(c.current_round_trip_time, Some(Duration::from_millis(40)));
        assert_eq!(c.round_trip_time_measurements, c.responses_received);
        assert_eq!(
            c.total_round_trip_time,
            Duration::from_millis(40) * c.round_trip_time_measurements as u32
        );
    }
    assert!(
        w.a.agent
            .stats()
            .pairs
            .iter()
            .any(|p| p.selected && p.counters.requests_sent >= 1),
        "the controlling side checked and nominated"
    );
}

#[test]
fn a_silent_stun_server_does_not_delay_the_answering_check() {
    // B (controlled) gathers from a STUN server that never answers: its request takes the
    // first pacing slot. A's check reaches B a millisecond later; B's check back goes out at
    // once, not Ta (50 ms) after that request, so both connect within a few milliseconds.
    let link = one_millisecond_link();
    let mut cb = support::config(98);
    cb.stun_servers = vec![addr("192.0.2.100:3478")];
    let mut w = World::with_configs(
        97,
        link,
        (support::config(97), IceRole::Controlling),
        (cb, IceRole::Controlled),
    );
    connects_within_25_ms(&mut w);
}
