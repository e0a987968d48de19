//! The whole connection on a simulated network and a virtual clock: two connections' tasks,
//! the same code the async handle drives (every signaling operation, the transports, ICE,
//! DTLS, SCTP and the data channels), their sockets bound on [`SimNetwork`] addresses instead
//! of UDP, driven step by step from a seed under loss, reordering and duplication. What the
//! loopback and browser tests show on real sockets (every transport of an offer without
//! BUNDLE connects, a data channel opens on the data section's) holds here on time the test
//! controls, and is reproducible from the seed.

use std::cell::RefCell;
use std::io;
use std::net::{IpAddr, SocketAddr};
use std::rc::Rc;
use std::time::{Duration, Instant};

use antiphon_codec::{Capabilities, MediaKind};
use antiphon_dtls::{Certificate, CertificateOptions};
use antiphon_ice::sim::{LinkConfig, SimNetwork};
use antiphon_ice::turn::server::SimTurnServer;
use antiphon_ice::turn::{TurnServerConfig, TurnTransport};
use antiphon_ice::{Datagram, Transmit};
use tokio::sync::{mpsc, watch};

use super::ice::{GatherServers, TurnTarget};
use super::network::{Network, PathSockets};
use super::task::{Outputs, PeerTask};
use crate::answer::AnswerOptions;
use crate::configuration::RTCBundlePolicy;
use crate::data_channel::{RTCDataChannelInit, RTCDataChannelState};
use crate::description::RTCSessionDescriptionInit;
use crate::events::{EventSender, PeerConnectionEvent, RTCPeerConnectionState};
use crate::negotiator::{Entropy, Negotiator};
use crate::transceiver::RTCRtpTransceiverInit;

/// Datagrams the connection sent, for the test to put on the network.
type Outbox = Rc<RefCell<Vec<Transmit>>>;

/// One transport's address on the simulated network.
struct SimSockets {
    address: SocketAddr,
    outbox: Outbox,
}

impl PathSockets for SimSockets {
    fn local_addresses(&self) -> Vec<SocketAddr> {
        vec![self.address]
    }

    fn try_send(&self, transmit: &Transmit) -> io::Result<()> {
        self.outbox.borrow_mut().push(transmit.clone());
        Ok(())
    }
}

/// A host's addresses: one port after the other on its IP.
struct SimHost {
    ip: IpAddr,
    next_port: u16,
    outbox: Outbox,
}

impl Network for SimHost {
    type Sockets = SimSockets;

    fn bind(&mut self, _ips: &[IpAddr], _ufrag: &str) -> io::Result<SimSockets> {
        self.next_port += 1;
        Ok(SimSockets {
            address: SocketAddr::new(self.ip, self.next_port),
            outbox: Rc::clone(&self.outbox),
        })
    }

    fn connect_turn(&mut self, _: SocketAddr, _: Option<&str>) -> io::Result<SocketAddr> {
        Err(io::ErrorKind::Unsupported.into())
    }

    fn send_on_stream(&self, _: &Transmit) -> bool {
        false
    }

    fn close_stream(&mut self, _: SocketAddr) {}
}

/// Entropy from a seed: ICE credentials, tie-breakers and transaction ids as every run of the
/// seed draws them (DTLS keys still come from the crypto library's generator).
struct SeededEntropy(rand::rngs::StdRng);

impl Entropy for SeededEntropy {
    fn next_u32(&mut self) -> u32 {
        rand::RngCore::next_u32(&mut self.0)
    }

    fn next_u64(&mut self) -> u64 {
        rand::RngCore::next_u64(&mut self.0)
    }
}

/// A connection's task on host `ip`, with `policy`, its randomness from `seed`.
fn peer(ip: [u8; 4], policy: RTCBundlePolicy, seed: u64) -> (PeerTask<SimHost>, Outbox) {
    let outbox = Outbox::default();
    let host = SimHost {
        ip: IpAddr::from(ip),
        next_port: 40_000,
        outbox: Rc::clone(&outbox),
    };
    let options = AnswerOptions::default().with_bundle_policy(policy);
    let negotiator = Negotiator::new(
        std::sync::Arc::new(Capabilities::browser_default()),
        options,
        Box::new(SeededEntropy(rand::SeedableRng::seed_from_u64(seed))),
    );
    let certificate = Certificate::generate(&CertificateOptions::default()).expect("a certificate");
    let outputs = Outputs {
        events: EventSender::default(),
        state: watch::channel(RTCPeerConnectionState::New).0,
        dtls: watch::channel(None).0,
    };
    let (_ops_tx, ops) = mpsc::channel(1);
    let (commands_tx, commands) = mpsc::channel(64);
    let task = PeerTask::new(
        host,
        negotiator,
        certificate,
        vec![IpAddr::from(ip)],
        outputs,
        watch::channel(None).0,
        ops,
        commands,
        commands_tx,
    );
    (task, outbox)
}

/// `description` without its BUNDLE group, as from a peer that does not bundle.
fn without_bundle(description: &RTCSessionDescriptionInit) -> RTCSessionDescriptionInit {
    RTCSessionDescriptionInit {
        sdp_type: description.sdp_type,
        sdp: description
            .sdp
            .split_inclusive("\r\n")
            .filter(|line| !line.starts_with("a=group:BUNDLE"))
            .collect(),
    }
}

/// Hands `transmit` to whichever of `peers` owns its destination.
fn deliver(peers: &mut [&mut PeerTask<SimHost>], now: Instant, transmit: &Transmit) {
    for task in peers.iter_mut() {
        let Some(path) = task
            .paths
            .iter_mut()
            .find(|p| p.sockets.address == transmit.destination)
        else {
            continue;
        };
        let datagram = Datagram {
            source: transmit.source,
            destination: transmit.destination,
            contents: &transmit.contents,
        };
        path.core.handle_receive(now, datagram);
        task.after(now);
        return;
    }
}

/// The simulated TURN server of the relayed runs.
const TURN: &str = "10.0.0.9:3478";

/// An offerer with the `max-compat` policy (audio, video and a data channel) and a default
/// answerer exchange descriptions, the offer without its BUNDLE group, then run on `link`
/// until both are connected with DTLS up on all three transports and the channel open.
/// `relayed`: both have the relay policy and allocate on a simulated TURN server, so
/// everything (checks, DTLS, SCTP) goes through it. Returns the virtual time that took.
fn every_transport_connects(seed: u64, link: LinkConfig, relayed: bool) -> Duration {
    let start = Instant::now();
    let mut now = start;
    let (mut a, a_out) = peer([10, 0, 0, 1], RTCBundlePolicy::MaxCompat, seed);
    let (mut b, b_out) = peer([10, 0, 0, 2], RTCBundlePolicy::Balanced, seed ^ 0x5eed);
    let mut servers = GatherServers::default();
    let mut turn = None;
    if relayed {
        let address: SocketAddr = TURN.parse().expect("address");
        servers.turn.push(TurnTarget {
            config: TurnServerConfig::new(address, TurnTransport::Udp, "alice", "secret"),
            url: format!("turn:{TURN}"),
            tls_host: None,
        });
        turn = Some(SimTurnServer::new(address, "alice", "secret"));
        a.relay_only = true;
        b.relay_only = true;
    }
    for kind in [MediaKind::Audio, MediaKind::Video] {
        a.negotiator
            .add_transceiver(kind, RTCRtpTransceiverInit::default())
            .expect("a transceiver");
    }
    // Candidates found after the descriptions (relay ones, as allocations come) trickle.
    let mut a_events = a.outputs.events.subscribe();
    let mut b_events = b.outputs.events.subscribe();
    let channel = a
        .create_data_channel(now, "chat".to_owned(), RTCDataChannelInit::default())
        .expect("a channel");
    let offer = a.create_offer(now, &servers).expect("an offer");
    a.set_local_description(now, Some(offer.clone()), &servers)
        .expect("our offer applies");
    b.set_remote_description(now, without_bundle(&offer), &servers)
        .expect("the offer applies");
    let answer = b.create_answer(now, &servers).expect("an answer");
    b.set_local_description(now, Some(answer.clone()), &servers)
        .expect("the answer applies");
    a.set_remote_description(now, answer, &servers)
        .expect("the answer applies");
    assert_eq!(
        (a.paths.len(), b.paths.len()),
        (3, 3),
        "a transport per section"
    );

    let mut network = SimNetwork::new(seed, link);
    let deadline = start + Duration::from_secs(120);
    loop {
        for outbox in [&a_out, &b_out] {
            for transmit in outbox.borrow_mut().drain(..) {
                network.send(now, transmit);
            }
        }
        while let Some(transmit) = network.pop_due(now) {
            if let Some(server) = turn.as_mut()
                && server.owns(transmit.destination)
            {
                for relayed in server.handle(now, &transmit) {
                    network.send(now, relayed);
                }
                continue;
            }
            deliver(&mut [&mut a, &mut b], now, &transmit);
        }
        for task in [&mut a, &mut b] {
            task.handle_timeouts(now);
            task.after(now);
        }
        for (events, to) in [(&mut a_events, &mut b), (&mut b_events, &mut a)] {
            while let Some(event) = events.try_recv() {
                if let PeerConnectionEvent::IceCandidate(Some(candidate)) = event {
                    to.add_ice_candidate(now, candidate)
                        .expect("a trickled candidate applies");
                    to.after(now);
                }
            }
        }
        let connected = |task: &PeerTask<SimHost>| {
            *task.outputs.state.borrow() == RTCPeerConnectionState::Connected
                && task.paths.iter().all(|p| p.dtls.is_some())
        };
        if connected(&a) && connected(&b) && channel.ready_state() == RTCDataChannelState::Open {
            for path in a.paths.iter().chain(&b.paths) {
                let agent = path.core.agent();
                let (local, _) = agent.selected_pair().expect("a selected pair");
                let relayed = agent.relay_protocol(local).is_some();
                assert_eq!(relayed, turn.is_some(), "seed {seed}: {local} relayed");
                if relayed {
                    assert!(
                        agent
                            .local_candidates()
                            .iter()
                            .all(|c| { c.kind == antiphon_ice::CandidateType::Relay })
                    );
                }
            }
            return now - start;
        }
        assert!(
            now < deadline,
            "seed {seed}: not connected within 120 s of virtual time"
        );
        let next = [&a, &b]
            .iter()
            .flat_map(|task| task.paths.iter().filter_map(|p| p.core.poll_timeout()))
            .chain(network.next_delivery())
            .min()
            .unwrap_or(now + Duration::from_millis(10));
        let pending = !a_out.borrow().is_empty() || !b_out.borrow().is_empty();
        now = if pending {
            now
        } else {
            next.max(now + Duration::from_micros(1))
        };
    }
}

#[test]
fn every_transport_connects_on_a_clean_link() {
    // 20 ms each way: ICE checks, two DTLS round trips, SCTP's and DCEP's, at least 200 ms.
    let took = every_transport_connects(1, LinkConfig::default(), false);
    assert!(
        took > Duration::from_millis(200) && took < Duration::from_secs(2),
        "{took:?}"
    );
}

#[test]
fn every_transport_connects_under_loss_reordering_and_duplication() {
    let link = LinkConfig::default()
        .with_delay(Duration::from_millis(50))
        .with_jitter(Duration::from_millis(40))
        .with_loss(0.10)
        .with_duplicate(0.05)
        .with_mtu(Some(1200));
    for seed in 0..8 {
        every_transport_connects(seed, link, false);
    }
}

#[test]
fn every_transport_connects_through_a_turn_server_with_the_relay_policy() {
    // Each side's checks, DTLS and SCTP go through its own allocation: twice the hops.
    let took = every_transport_connects(3, LinkConfig::default(), true);
    assert!(took < Duration::from_secs(5), "{took:?}");
    let lossy = LinkConfig::default()
        .with_delay(Duration::from_millis(30))
        .with_jitter(Duration::from_millis(30))
        .with_loss(0.05)
        .with_mtu(Some(1300));
    for seed in 10..14 {
        every_transport_connects(seed, lossy, true);
    }
}
