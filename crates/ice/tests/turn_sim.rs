//! Relayed ICE on the simulator: two agents allocate on a simulated TURN server, connect
//! through it and keep their allocations alive; a server that goes quiet, a stale nonce and
//! wrong credentials (virtual time throughout).

mod support;

use std::time::Duration;

use antiphon_ice::sim::LinkConfig;
use antiphon_ice::turn::server::SimTurnServer;
use antiphon_ice::turn::{TurnError, TurnServerConfig, TurnTransport};
use antiphon_ice::{
    AgentConfig, CandidateType, IceConnectionState as State, IceEvent, IceGatheringState, IceRole,
    Transmit,
};
use support::{World, addr, config};

const SERVER: &str = "10.0.0.9:3478";

fn relay_config(seed: u64, password: &str, relay_only: bool) -> AgentConfig {
    let mut c = config(seed);
    c.turn_servers = vec![TurnServerConfig::new(
        addr(SERVER),
        TurnTransport::Udp,
        "alice",
        password,
    )];
    c.relay_only = relay_only;
    c
}

/// Two relay-only agents on one simulated server, gathered (not yet exchanged).
fn relayed_world(seed: u64, link: LinkConfig, password: &str) -> World {
    let mut w = World::with_configs(
        seed,
        link,
        (
            relay_config(seed * 2 + 1, password, true),
            IceRole::Controlling,
        ),
        (
            relay_config(seed * 2 + 2, password, true),
            IceRole::Controlled,
        ),
    );
    w.turn = Some(SimTurnServer::new(addr(SERVER), "alice", "secret"));
    w
}

fn gathered(w: &World) -> bool {
    w.a.agent.gathering_state() == IceGatheringState::Complete
        && w.b.agent.gathering_state() == IceGatheringState::Complete
}

/// Gathers, exchanges candidates, connects; the virtual time from the exchange to connected.
fn connect(w: &mut World) -> Duration {
    assert!(
        w.run_until(Duration::from_secs(15), gathered),
        "gathering did not finish"
    );
    w.exchange_candidates();
    let exchanged = w.now;
    assert!(
        w.run_until(Duration::from_secs(20), World::both_connected),
        "not connected: {:?} {:?} drops {:?} {:?} events {:?}",
        w.a.states,
        w.b.states,
        w.a.agent.drops(),
        w.b.agent.drops(),
        w.a.events,
    );
    w.now - exchanged
}

#[test]
fn relay_only_agents_connect_through_the_server() {
    for seed in 0..6 {
        let link = LinkConfig::default()
            .with_delay(Duration::from_millis(15))
            .with_jitter(Duration::from_millis(20))
            .with_loss(if seed < 3 { 0.0 } else { 0.08 });
        let mut w = relayed_world(40 + seed, link, "secret");
        connect(&mut w);
        for side in [&w.a, &w.b] {
            let candidates = side.agent.local_candidates();
            assert_eq!(candidates.len(), 1, "relay only: {candidates:?}");
            let relay = &candidates[0];
            assert_eq!(relay.kind, CandidateType::Relay);
            assert_eq!(relay.address.to_string(), "10.0.0.9");
            // raddr/rport: the address the server saw us at.
            assert_eq!(relay.related_port, Some(side.addr.port()), "{}", relay);
            let (local, _) = side.agent.selected_pair().expect("selected");
            assert_eq!(
                Some(local),
                relay.socket_addr(),
                "the pair's local side is the relay"
            );
        }
        w.assert_consistent_selection();
        // Data (not STUN) sent on the pair arrives relayed on the other side.
        let (local, remote) = w.a.agent.selected_pair().expect("selected");
        let routed = w.a.agent.route(Transmit {
            source: local,
            destination: remote,
            contents: vec![23, 1, 2, 3],
        });
        assert!(
            routed.is_none(),
            "data from a relayed base goes to the server"
        );
        let mut got = None;
        w.run_until(Duration::from_secs(2), |_| false);
        while let Some(data) = w.b.agent.poll_relayed() {
            got = Some(data);
        }
        // Under loss the one datagram may be lost; on a clean link it must arrive.
        if seed < 3 {
            let data = got.expect("relayed data arrived");
            assert_eq!(data.contents, vec![23, 1, 2, 3]);
            assert_eq!(data.source, local);
        }
    }
}

#[test]
fn a_check_the_peers_relay_dropped_is_resent_when_the_peer_checks() {
    // B (the answerer) learns A's relay candidate at once and checks it, but A learns B's only
    // 100 ms later (with the answer): until then A's allocation has no permission for B and
    // the server drops B's check. A's own check reaching B then makes B send its check again
    // at once (RFC 8445 §7.3.1.4) instead of after its 250 ms retransmission timeout.
    let link = LinkConfig::default().with_delay(Duration::from_millis(5));
    let mut w = relayed_world(3, link, "secret");
    assert!(w.run_until(Duration::from_secs(5), gathered));
    for c in w.a.agent.local_candidates() {
        w.b.agent
            .add_remote_candidate(&c)
            .expect("B takes A's relay");
    }
    let start = w.now;
    w.advance(Duration::from_millis(100));
    for c in w.b.agent.local_candidates() {
        w.a.agent
            .add_remote_candidate(&c)
            .expect("A takes B's relay");
    }
    assert!(w.run_until(Duration::from_secs(5), World::both_connected));
    let took = w.now - start;
    assert!(
        took < Duration::from_millis(100 + 150),
        "connected {took:?} after B's first check"
    );
}

#[test]
fn allocations_survive_thirty_minutes_through_refreshes() {
    let mut w = relayed_world(7, LinkConfig::default(), "secret");
    // A short lifetime makes the refreshes frequent: each is sent a minute... before expiry.
    w.turn.as_mut().expect("server").set_lifetime(300);
    connect(&mut w);
    let start = w.now;
    assert!(
        !w.run_until(Duration::from_secs(30 * 60), |w| !w.both_connected()),
        "lost the connection after {:?}",
        w.now - start
    );
    let server = w.turn.as_ref().expect("server");
    assert_eq!(server.allocation_count(w.now), 2);
    // 30 min at a 300 s lifetime refreshed 60 s early: 7 refreshes each.
    assert!(
        server.refreshes() >= 14,
        "refreshes: {}",
        server.refreshes()
    );
    // A rotated nonce makes the next refreshes 438 Stale Nonce: retried once, they succeed.
    let before = server.refreshes();
    w.turn.as_mut().expect("server").rotate_nonce();
    assert!(!w.run_until(Duration::from_secs(10 * 60), |w| !w.both_connected()));
    let server = w.turn.as_ref().expect("server");
    assert!(
        server.refreshes() >= before + 4,
        "no refresh after the new nonce"
    );
    assert_eq!(server.allocation_count(w.now), 2);
    for side in [&w.a, &w.b] {
        assert!(
            !side
                .events
                .iter()
                .any(|e| matches!(e, IceEvent::RelayFailed { .. })),
            "{:?}",
            side.events
        );
    }
    // Closing deletes the allocations.
    w.a.agent.close();
    w.b.agent.close();
    w.run_until(Duration::from_secs(5), |_| false);
    assert_eq!(w.turn.as_ref().expect("server").allocation_count(w.now), 0);
}

#[test]
fn a_server_that_stops_answering_fails_the_candidate_without_a_hang() {
    let mut w = relayed_world(9, LinkConfig::default(), "secret");
    w.turn.as_mut().expect("server").set_answering(false);
    assert!(
        w.run_until(Duration::from_secs(15), gathered),
        "gathering waited for a server that never answers"
    );
    for side in [&w.a, &w.b] {
        assert!(side.agent.local_candidates().is_empty());
        assert!(side.events.iter().any(|e| matches!(
            e,
            IceEvent::RelayFailed {
                error: TurnError::Timeout,
                ..
            }
        )));
        assert!(side.events.contains(&IceEvent::GatheringComplete));
    }
    // After an ICE restart the failed allocation is made again (the server is back).
    w.turn.as_mut().expect("server").set_answering(true);
    let fresh = support::creds(99);
    w.a.agent.restart(fresh);
    assert!(w.run_until(Duration::from_secs(5), |w| {
        !w.a.agent.local_candidates().is_empty()
    }));
}

#[test]
fn wrong_credentials_are_a_clear_error() {
    let mut w = relayed_world(11, LinkConfig::default(), "not-the-password");
    assert!(w.run_until(Duration::from_secs(15), gathered));
    for side in [&w.a, &w.b] {
        assert!(
            side.events.iter().any(|e| matches!(
                e,
                IceEvent::RelayFailed {
                    error: TurnError::Unauthorized,
                    ..
                }
            )),
            "{:?}",
            side.events
        );
        assert!(side.agent.local_candidates().is_empty());
    }
    assert_eq!(w.turn.as_ref().expect("server").allocation_count(w.now), 0);
    let text = TurnError::Unauthorized.to_string();
    assert!(text.contains("username or password"), "{text}");
}

#[test]
fn relay_candidates_rank_below_host_and_pair_with_every_remote() {
    let mut w = World::with_configs(
        13,
        LinkConfig::default(),
        (relay_config(27, "secret", false), IceRole::Controlling),
        (relay_config(28, "secret", false), IceRole::Controlled),
    );
    w.turn = Some(SimTurnServer::new(addr(SERVER), "alice", "secret"));
    connect(&mut w);
    for side in [&w.a, &w.b] {
        let candidates = side.agent.local_candidates();
        let host = candidates
            .iter()
            .find(|c| c.kind == CandidateType::Host)
            .expect("host");
        let relay = candidates
            .iter()
            .find(|c| c.kind == CandidateType::Relay)
            .expect("relay");
        assert!(relay.priority < host.priority);
        assert_eq!(relay.priority >> 24, 0, "type preference 0");
        // With every candidate allowed the direct host pair wins.
        let (local, _) = side.agent.selected_pair().expect("selected");
        assert_eq!(Some(local), host.socket_addr());
    }
    assert_eq!(w.a.agent.state(), State::Connected);
}
