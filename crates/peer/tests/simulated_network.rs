//! Two Antiphon peers negotiating and connecting over the simulated network (issue 6): two
//! pure `Negotiator`s exchange offer and answer (no sockets), and the ICE credentials and
//! candidates read back from those descriptions drive two sans-IO `IceAgent`s over the seeded
//! `antiphon_ice::sim` network (delay, jitter and so reordering, loss, duplication) on a
//! virtual clock until both are connected on the same path.
//!
//! DTLS is not carried over the simulated path: `antiphon-dtls` runs the handshake of the
//! webrtc-rs `dtls` crate, which needs a `webrtc_util::Conn` on a real tokio clock and spawns
//! its own tasks, so it cannot be stepped on the simulator's virtual clock. The fingerprints
//! negotiated here are checked to reach the other side; the handshake itself is tested over
//! in-memory pipes and UDP in `antiphon-dtls` and end to end over loopback here.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use antiphon_ice::sim::{LinkConfig, SimNetwork};
use antiphon_ice::{Candidate, Datagram, IceAgent, IceConnectionState, IceCredentials, IceRole};
use antiphon_peer::answer::{AnswerOptions, LocalTransport};
use antiphon_peer::{Negotiator, RTCSignalingState};
use antiphon_sdp::SessionDescription;
use common::negotiator;

/// One peer: its negotiator, its ICE agent and the address its socket would have.
struct Peer {
    negotiator: Negotiator,
    agent: IceAgent,
    addr: SocketAddr,
    transport: LocalTransport,
}

fn peer(start: Instant, seed: u64, name: &str, addr: SocketAddr, role: IceRole) -> Peer {
    let (agent, _certificate, transport) = common::sim::endpoint(start, seed, name, addr, role);
    Peer {
        negotiator: negotiator(AnswerOptions::default()),
        agent,
        addr,
        transport,
    }
}

/// Pure offer/answer: A offers a data channel section, B answers. Returns the descriptions
/// each side applied as remote.
fn negotiate(a: &mut Peer, b: &mut Peer) -> (SessionDescription, SessionDescription) {
    common::sim::exchange_data_offer(
        &mut a.negotiator,
        &a.transport,
        &mut b.negotiator,
        &b.transport,
    );
    for n in [&a.negotiator, &b.negotiator] {
        assert_eq!(n.signaling_state(), RTCSignalingState::Stable);
    }
    let remote = |n: &Negotiator| {
        n.current_remote_description()
            .expect("a remote description")
            .parsed
            .clone()
    };
    (remote(&a.negotiator), remote(&b.negotiator))
}

/// Applies the ICE part of the remote description to the agent: credentials and candidates of
/// the first m= section (the BUNDLE transport), end-of-candidates.
fn apply_remote(agent: &mut IceAgent, remote: &SessionDescription) {
    let ufrag = remote.media_ice_ufrag(0).expect("ice-ufrag");
    let pwd = remote.media_ice_pwd(0).expect("ice-pwd");
    agent.set_remote_credentials(IceCredentials::new(ufrag, pwd).expect("remote credentials"));
    let section = &remote.media[0];
    let mut count = 0;
    for value in section.candidates() {
        let candidate = Candidate::parse(value).expect("candidate from the description");
        agent
            .add_remote_candidate(&candidate)
            .expect("agent takes the candidate");
        count += 1;
    }
    assert!(count > 0, "the description carried no candidate");
    if section.has_end_of_candidates() {
        agent.end_of_remote_candidates();
    }
}

/// Runs both agents on `net` until both are connected (or completed) or `limit` of virtual time passes.
/// Returns the virtual time it took.
fn run(
    start: Instant,
    net: &mut SimNetwork,
    peers: [&mut IceAgent; 2],
    addrs: [SocketAddr; 2],
    limit: Duration,
) -> Option<Duration> {
    let [a, b] = peers;
    let mut now = start;
    // Both descriptions carry end-of-candidates, so a connected agent soon says completed.
    let up = |agent: &IceAgent| {
        matches!(
            agent.state(),
            IceConnectionState::Connected | IceConnectionState::Completed
        )
    };
    let connected = |a: &IceAgent, b: &IceAgent| up(a) && up(b);
    for _ in 0..200_000 {
        for agent in [&mut *a, &mut *b] {
            while let Some(t) = agent.poll_transmit() {
                net.send(now, t);
            }
            while agent.poll_event().is_some() {}
        }
        if connected(a, b) {
            return Some(now - start);
        }
        let next = [a.poll_timeout(), b.poll_timeout(), net.next_delivery()]
            .into_iter()
            .flatten()
            .min()?;
        now = now.max(next);
        if now - start > limit {
            return None;
        }
        while let Some(t) = net.pop_due(now) {
            let d = Datagram {
                source: t.source,
                destination: t.destination,
                contents: &t.contents,
            };
            if t.destination == addrs[0] {
                let _ = a.handle_receive(now, d);
            } else if t.destination == addrs[1] {
                let _ = b.handle_receive(now, d);
            }
        }
        for agent in [&mut *a, &mut *b] {
            if agent.poll_timeout().is_some_and(|t| t <= now) {
                agent.handle_timeout(now);
            }
        }
    }
    None
}

/// Negotiates and connects one pair on a network with this seed and link; returns the time.
fn negotiate_and_connect(seed: u64, link: LinkConfig) -> Duration {
    let start = Instant::now();
    let (addr_a, addr_b): (SocketAddr, SocketAddr) = (
        "10.0.0.1:5000".parse().expect("addr"),
        "10.0.0.2:6000".parse().expect("addr"),
    );
    // RFC 8445 section 6.1.1: the offerer is controlling.
    let mut a = peer(start, seed * 2 + 1, "offr", addr_a, IceRole::Controlling);
    let mut b = peer(start, seed * 2 + 2, "answ", addr_b, IceRole::Controlled);
    let (remote_of_a, remote_of_b) = negotiate(&mut a, &mut b);
    // What each side learned is what the other put in: credentials and fingerprint.
    assert_eq!(
        remote_of_a.media_ice_ufrag(0),
        Some(b.transport.ice_ufrag.as_str())
    );
    assert_eq!(
        remote_of_b.media_ice_ufrag(0),
        Some(a.transport.ice_ufrag.as_str())
    );
    let fingerprint_of = |d: &SessionDescription| {
        d.media[0]
            .fingerprints()
            .chain(d.fingerprints())
            .next()
            .cloned()
            .expect("a fingerprint")
    };
    assert_eq!(fingerprint_of(&remote_of_a), b.transport.fingerprints[0]);
    assert_eq!(fingerprint_of(&remote_of_b), a.transport.fingerprints[0]);
    apply_remote(&mut a.agent, &remote_of_a);
    apply_remote(&mut b.agent, &remote_of_b);

    let mut net = SimNetwork::new(seed, link);
    let took = run(
        start,
        &mut net,
        [&mut a.agent, &mut b.agent],
        [a.addr, b.addr],
        Duration::from_secs(30),
    );
    let Some(took) = took else {
        panic!(
            "seed {seed}: not connected in 30 s: A {:?}, B {:?}, network {:?}",
            a.agent.state(),
            b.agent.state(),
            net.counters()
        );
    };
    assert_eq!(
        a.agent.selected_pair(),
        Some((a.addr, b.addr)),
        "seed {seed}"
    );
    assert_eq!(
        b.agent.selected_pair(),
        Some((b.addr, a.addr)),
        "seed {seed}"
    );
    took
}

#[test]
fn negotiated_peers_connect_on_a_clean_link() {
    for seed in 0..4 {
        let took = negotiate_and_connect(seed, LinkConfig::default());
        // 20 ms one way: a few round trips.
        assert!(took < Duration::from_millis(500), "seed {seed}: {took:?}");
    }
}

#[test]
fn negotiated_peers_connect_over_delay_reordering_and_ten_percent_loss() {
    let link = LinkConfig::default()
        .with_delay(Duration::from_millis(40))
        .with_jitter(Duration::from_millis(60))
        .with_loss(0.10)
        .with_duplicate(0.02)
        .with_mtu(None);
    let mut slowest = Duration::ZERO;
    for seed in 0..16 {
        slowest = slowest.max(negotiate_and_connect(100 + seed, link));
    }
    assert!(slowest < Duration::from_secs(15), "slowest {slowest:?}");
}
