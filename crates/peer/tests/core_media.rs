//! Media between two sans-IO cores on virtual time: once DTLS is connected each side keys
//! SRTP from the exporter, and RTP and RTCP cross a seeded link with delay, jitter (so
//! reordering), loss and duplication. Every packet that arrives is the packet sent, byte for
//! byte; no packet is delivered twice (the duplicates the link made are refused as replays and
//! counted); lost packets are NACKed and resent (as RTX when it is configured) until every one
//! is delivered; receiver reports give the sender the loss and the round trip; nothing is taken
//! from an address ICE did not validate.

mod common;

use std::collections::HashSet;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use antiphon_dtls::Certificate;
use antiphon_ice::sim::{LinkConfig, SimNetwork};
use antiphon_ice::{Datagram, IceAgent, IceRole};
use antiphon_peer::Negotiator;
use antiphon_peer::answer::{AnswerOptions, LocalTransport};
use antiphon_peer::core::{
    CongestionReport, ConnectionCore, CoreEvent, MediaError, MediaPacket, RtpParameters,
};
use antiphon_peer::media::rtcp::{keyframe_requests, nacks, picture_loss_indication};
use antiphon_peer::media::rtp::RtpHeader;
use antiphon_peer::media::send::RtxConfig;
use bytes::Bytes;

struct Side {
    negotiator: Negotiator,
    transport: LocalTransport,
    certificate: Certificate,
    agent: Option<IceAgent>,
    core: Option<ConnectionCore>,
    addr: SocketAddr,
    keyed: bool,
    rtp: Vec<Bytes>,
    rtcp: Vec<Bytes>,
    congestion: Vec<CongestionReport>,
}

fn side(start: Instant, seed: u64, name: &str, addr: SocketAddr, role: IceRole) -> Side {
    let (agent, certificate, transport) = common::sim::endpoint(start, seed, name, addr, role);
    Side {
        negotiator: common::negotiator(AnswerOptions::default()),
        transport,
        certificate,
        agent: Some(agent),
        core: None,
        addr,
        keyed: false,
        rtp: Vec::new(),
        rtcp: Vec::new(),
        congestion: Vec::new(),
    }
}

impl Side {
    fn core(&mut self) -> &mut ConnectionCore {
        self.core.as_mut().expect("core started")
    }

    fn start(&mut self, now: Instant) {
        let agent = self.agent.take().expect("agent");
        let core = common::sim::start_core(now, agent, &self.certificate, &self.negotiator);
        self.core = Some(core);
    }

    fn take_events(&mut self) {
        while let Some(event) = self.core().poll_event() {
            match event {
                CoreEvent::DtlsConnected(_) => self.keyed = true,
                CoreEvent::DtlsFailed(error) => panic!("DTLS failed: {error}"),
                CoreEvent::Media(MediaPacket::Rtp(packet)) => self.rtp.push(packet),
                CoreEvent::Media(MediaPacket::Rtcp(packet)) => self.rtcp.push(packet),
                CoreEvent::Congestion(report) => self.congestion.push(report),
                _ => {}
            }
        }
    }
}

/// Packet `seq` of a 50-packet-per-second stream: VP8-sized payloads that tell their number.
fn rtp(seq: u16) -> Bytes {
    let mut packet = vec![0x80, 96];
    packet.extend_from_slice(&seq.to_be_bytes());
    packet.extend_from_slice(&(u32::from(seq) * 1800).to_be_bytes());
    packet.extend_from_slice(&SSRC.to_be_bytes());
    packet.extend(std::iter::repeat_n(
        seq as u8,
        200 + usize::from(seq % 7) * 100,
    ));
    Bytes::from(packet)
}

struct Outcome {
    a: Side,
    b: Side,
    sent: usize,
}

/// A's stream, and the RTX stream that repairs it when RTX is on.
const SSRC: u32 = 0x0102_0304;
const RTX_SSRC: u32 = 0x0a0a_0a0a;

/// Connects A and B over `link`, then A sends `count` RTP packets 20 ms apart and B a PLI
/// after every 50th packet it receives; runs 2 s of virtual time past the last packet. With
/// `rtx`, A resends as RTX (payload type 97 for 96) and B knows the RTX stream.
fn run(seed: u64, link: LinkConfig, count: u16, rtx: bool) -> Outcome {
    run_with(seed, link, count, rtx, None)
}

/// [`run`], with transport-wide congestion control feedback on extension `twcc` both ways.
fn run_with(seed: u64, link: LinkConfig, count: u16, rtx: bool, twcc: Option<u8>) -> Outcome {
    let start = Instant::now();
    let addr_a: SocketAddr = "10.0.0.1:5000".parse().expect("addr");
    let addr_b: SocketAddr = "10.0.0.2:6000".parse().expect("addr");
    let mut a = side(start, seed * 2 + 1, "offr", addr_a, IceRole::Controlling);
    let mut b = side(start, seed * 2 + 2, "answ", addr_b, IceRole::Controlled);
    common::sim::exchange_data_offer(
        &mut a.negotiator,
        &a.transport,
        &mut b.negotiator,
        &b.transport,
    );
    a.start(start);
    b.start(start);
    let clock_rates = std::collections::HashMap::from([(96, 90_000), (97, 90_000)]);
    let mut sending = RtpParameters::default();
    sending.clock_rates = clock_rates.clone();
    let mut receiving = RtpParameters::default();
    receiving.clock_rates = clock_rates;
    if rtx {
        sending.senders.insert(
            SSRC,
            RtxConfig {
                ssrc: RTX_SSRC,
                payload_types: std::collections::HashMap::from([(96, 97)]),
            },
        );
        receiving.repair_payload_types.insert(97, 96);
        receiving.repair_ssrcs.insert(RTX_SSRC, SSRC);
        // As browsers negotiate it: feedback may go alone.
        receiving.reduced_size = true;
    }
    sending.transport_cc_extension = twcc;
    receiving.transport_cc_extension = twcc;
    a.core().set_rtp_parameters(sending);
    b.core().set_rtp_parameters(receiving);
    // Before DTLS there are no keys: refused, nothing queued.
    assert_eq!(
        a.core().send_media(start, &MediaPacket::Rtp(rtp(0))),
        Err(MediaError::NotKeyed)
    );

    let mut net = SimNetwork::new(seed, link);
    let mut now = start;
    let mut next_seq = 0u16;
    let mut next_send = None;
    let mut plis_sent = 0;
    let mut end = None;
    loop {
        for side in [&mut a, &mut b] {
            side.take_events();
        }
        if a.keyed && b.keyed && next_send.is_none() {
            next_send = Some(now);
        }
        if let Some(due) = next_send.filter(|due| *due <= now && next_seq < count) {
            a.core()
                .send_media(now, &MediaPacket::Rtp(rtp(next_seq)))
                .expect("send");
            next_seq += 1;
            next_send = Some(due + Duration::from_millis(20));
            if next_seq == count {
                end = Some(now + Duration::from_secs(2));
            }
        }
        if b.rtp.len() / 50 > plis_sent {
            plis_sent += 1;
            let pli = Bytes::copy_from_slice(&picture_loss_indication(0x0a0b_0c0d, SSRC));
            b.core()
                .send_media(now, &MediaPacket::Rtcp(pli))
                .expect("pli");
        }
        for side in [&mut a, &mut b] {
            while let Some(transmit) = side.core().poll_transmit() {
                net.send(now, transmit);
            }
        }
        if end.is_some_and(|end| now >= end) {
            break;
        }
        let next = [
            a.core().poll_timeout(),
            b.core().poll_timeout(),
            net.next_delivery(),
            next_send.filter(|_| next_seq < count),
            end,
        ]
        .into_iter()
        .flatten()
        .min()
        .expect("pending");
        now = now.max(next);
        assert!(
            now - start < Duration::from_secs(60),
            "seed {seed}: never keyed"
        );
        let (a_addr, b_addr) = (a.addr, b.addr);
        common::sim::deliver_and_tick(&mut net, now, &mut [(a_addr, a.core()), (b_addr, b.core())]);
    }
    Outcome {
        a,
        b,
        sent: usize::from(count),
    }
}

/// Every packet B got is one A sent, unchanged, and none twice; with loss repaired, no hole
/// between the oldest and the newest B got (a lost first or last packet is one nobody knows
/// is missing).
fn check_repaired(outcome: &mut Outcome, seed: u64) {
    let delivered = check_delivery(outcome);
    let seqs = outcome
        .b
        .rtp
        .iter()
        .map(|p| RtpHeader::parse(p).expect("RTP").sequence_number);
    let (oldest, newest) = (seqs.clone().min().expect("some"), seqs.max().expect("some"));
    assert_eq!(
        delivered,
        usize::from(newest - oldest) + 1,
        "seed {seed}: a hole was left"
    );
    assert!(
        delivered + 3 >= outcome.sent,
        "seed {seed}: {delivered} of {}",
        outcome.sent
    );
}

/// A got NACKs from B, and every RTCP packet carrying them starts with `packet_type` (201: a
/// receiver report first; 205: the NACK alone).
fn check_nacks_start_with(outcome: &Outcome, packet_type: u8, seed: u64) {
    let with_nacks: Vec<&Bytes> = outcome
        .a
        .rtcp
        .iter()
        .filter(|c| !nacks(c).is_empty())
        .collect();
    assert!(!with_nacks.is_empty(), "seed {seed}");
    assert!(
        with_nacks.iter().all(|c| c.get(1) == Some(&packet_type)),
        "seed {seed}"
    );
}

/// Every packet B got is one A sent, unchanged, and none twice.
fn check_delivery(outcome: &mut Outcome) -> usize {
    let mut seen = HashSet::new();
    for packet in &outcome.b.rtp {
        let header = RtpHeader::parse(packet).expect("RTP");
        assert_eq!(packet, &rtp(header.sequence_number), "delivered as sent");
        assert!(
            seen.insert(header.sequence_number),
            "delivered twice: {}",
            header.sequence_number
        );
    }
    seen.len()
}

#[test]
fn media_crosses_a_clean_link_in_both_directions() {
    let mut outcome = run(3, LinkConfig::default(), 300, false);
    assert_eq!(check_delivery(&mut outcome), outcome.sent);
    let (a, b) = (
        outcome.a.core().media_counters(),
        outcome.b.core().media_counters(),
    );
    assert_eq!((a.rtp_sent, b.rtp_received), (300, 300));
    assert_eq!(b.rtcp_sent, a.rtcp_received);
    assert_eq!(b.replayed + b.unprotect_failed, 0);
    // B's six PLIs arrived, each about A's stream; the other compounds are B's reports.
    let plis: Vec<Vec<u32>> = outcome
        .a
        .rtcp
        .iter()
        .map(|c| keyframe_requests(c))
        .filter(|r| !r.is_empty())
        .collect();
    assert_eq!(plis, vec![vec![SSRC]; 6]);
    assert!(outcome.a.rtcp.len() > 6, "B's receiver reports too");
    assert_eq!(
        outcome.a.core().srtp_profile(),
        outcome.b.core().srtp_profile()
    );

    // B's statistics of A's stream, and what its receiver reports told A.
    let inbound = outcome.b.core().inbound_rtp();
    assert_eq!(inbound.len(), 1);
    let (ssrc, received) = inbound[0];
    assert_eq!(
        (ssrc, received.packets_received, received.packets_lost),
        (SSRC, 300, 0)
    );
    assert!(
        received.jitter < 0.001,
        "a link without jitter: {}",
        received.jitter
    );
    let outbound = outcome.a.core().outbound_rtp();
    let (ssrc, sent) = outbound[0];
    assert_eq!(
        (ssrc, sent.packets_sent, sent.retransmitted_packets_sent),
        (SSRC, 300, 0)
    );
    let remote = sent.remote.expect("a receiver report about A's stream");
    assert_eq!(
        (remote.cumulative_lost, remote.extended_highest_sequence),
        (0, 299)
    );
    // A's sender reports and B's report blocks: the round trip is the link's, 2 x 20 ms.
    let rtt = sent.round_trip_time.expect("a round trip");
    assert!(
        (Duration::from_millis(35)..Duration::from_millis(60)).contains(&rtt),
        "{rtt:?}"
    );
}

#[test]
fn loss_is_repaired_by_nack_and_duplicates_are_never_delivered() {
    let link = LinkConfig::default()
        .with_delay(Duration::from_millis(40))
        .with_jitter(Duration::from_millis(60))
        .with_loss(0.05)
        .with_duplicate(0.2);
    for seed in [5, 6, 7] {
        let mut outcome = run(seed, link, 500, false);
        // Every packet arrived in the end (B NACKed, A resent the original); every duplicate
        // the link made was refused as a replay.
        check_repaired(&mut outcome, seed);
        let delivered = outcome.b.rtp.len();
        let counters = outcome.b.core().media_counters();
        let sent = outcome.a.core().outbound_rtp()[0].1;
        assert!(
            sent.retransmitted_packets_sent > 10,
            "seed {seed}: {sent:?}"
        );
        assert!(counters.replayed > 50, "seed {seed}: {counters:?}");
        // Without reduced-size RTCP every NACK goes after a receiver report (RFC 3550 §6.1).
        check_nacks_start_with(&outcome, 201, seed);
        assert_eq!(counters.rtp_received as usize, delivered, "seed {seed}");
        assert_eq!(counters.unprotect_failed, 0, "seed {seed}");
        // Reordered on the link, and delivered in arrival order all the same.
        let order: Vec<u16> = outcome
            .b
            .rtp
            .iter()
            .map(|p| RtpHeader::parse(p).expect("RTP").sequence_number)
            .collect();
        assert!(
            order.windows(2).any(|w| w[0] > w[1]),
            "seed {seed}: the link reordered nothing"
        );
    }
}

#[test]
fn rtx_repairs_loss_with_the_original_packets() {
    let link = LinkConfig::default()
        .with_delay(Duration::from_millis(30))
        .with_jitter(Duration::from_millis(40))
        .with_loss(0.1)
        .with_duplicate(0.1);
    for seed in [11, 12] {
        let mut outcome = run(seed, link, 400, true);
        // Byte for byte the packets A sent: the RTX wrapping is undone.
        check_repaired(&mut outcome, seed);
        let counters = outcome.b.core().media_counters();
        assert!(counters.repaired > 20, "seed {seed}: {counters:?}");
        // Reduced-size RTCP: the NACKs went alone.
        check_nacks_start_with(&outcome, 205, seed);
        let inbound = outcome.b.core().inbound_rtp();
        assert_eq!(
            inbound.len(),
            1,
            "the RTX stream is not a stream of its own"
        );
        assert_eq!(inbound[0].1.packets_lost, 0, "seed {seed}");
    }
}

#[test]
fn transport_wide_feedback_reports_every_arrival_and_loss() {
    const TWCC: u8 = 5;
    // No jitter: arrivals keep the sending order and the spacing (a constant delay).
    let link = LinkConfig::default()
        .with_delay(Duration::from_millis(30))
        .with_loss(0.05);
    for seed in [21, 22] {
        let outcome = run_with(seed, link, 400, false, Some(TWCC));
        // What B received, by transport-wide sequence number (A numbered every packet,
        // retransmissions too), each carrying the payload A sent.
        let mut received = HashSet::new();
        for packet in &outcome.b.rtp {
            let header = RtpHeader::parse(packet).expect("RTP");
            let twcc = header.extension(TWCC).expect("numbered");
            received.insert(u64::from(u16::from_be_bytes([twcc[0], twcc[1]])));
            assert_eq!(
                packet[header.header_len..],
                rtp(header.sequence_number)[12..],
                "seed {seed}"
            );
        }
        let results: Vec<_> = outcome
            .a
            .congestion
            .iter()
            .flat_map(|report| match report {
                CongestionReport::Transport(results) => results.clone(),
                other => panic!("seed {seed}: {other:?}"),
            })
            .collect();
        // Each packet reported at most once, in order; the feedback the link lost leaves its
        // packets unreported (as with libwebrtc, feedback is not sent again).
        let sequences: Vec<u64> = results.iter().map(|r| r.sequence).collect();
        assert!(sequences.windows(2).all(|w| w[0] < w[1]), "seed {seed}");
        let newest = *received.iter().max().expect("some");
        assert!(
            results.len() as u64 * 10 >= (newest + 1) * 8,
            "seed {seed}: {} of {} reported",
            results.len(),
            newest + 1
        );
        // Arrived exactly when B got it; missing exactly when B did not.
        for result in &results {
            assert_eq!(
                result.arrival_micros.is_some(),
                received.contains(&result.sequence),
                "seed {seed}: {result:?}"
            );
        }
        let lost = results
            .iter()
            .filter(|r| r.arrival_micros.is_none())
            .count();
        assert!(lost > 5, "seed {seed}: the link lost {lost}");
        // Arrival spacing is sending spacing, to a 250 µs tick.
        let arrived: Vec<_> = results
            .iter()
            .filter(|r| r.arrival_micros.is_some())
            .collect();
        for pair in arrived.windows(2) {
            let sent = (pair[1].sent_at - pair[0].sent_at).as_micros() as i64;
            let got =
                pair[1].arrival_micros.expect("arrived") - pair[0].arrival_micros.expect("arrived");
            assert!((got - sent).abs() <= 250, "seed {seed}: {got} vs {sent}");
        }
        assert!(results.iter().all(|r| r.size > 200), "RTP sizes");
    }
}

#[test]
fn media_from_an_unvalidated_address_or_forged_is_dropped() {
    let mut outcome = run(9, LinkConfig::default(), 10, false);
    let now = Instant::now() + Duration::from_secs(30);
    // A sequence number never sent, so the replay window does not refuse it first.
    let forged = rtp(400);
    let b_addr = outcome.b.addr;
    let a_addr = outcome.a.addr;
    let b = outcome.b.core();
    let before = b.media_counters();
    // Plain RTP from the peer's own address: not SRTP, authentication fails.
    b.handle_receive(
        now,
        Datagram {
            source: a_addr,
            destination: b_addr,
            contents: &forged,
        },
    );
    // From an address ICE never checked: not even looked at.
    let stranger: SocketAddr = "10.9.9.9:9".parse().expect("addr");
    b.handle_receive(
        now,
        Datagram {
            source: stranger,
            destination: b_addr,
            contents: &forged,
        },
    );
    let after = b.media_counters();
    assert_eq!(after.unprotect_failed, before.unprotect_failed + 1);
    assert_eq!(after.dropped_unkeyed, before.dropped_unkeyed + 1);
    assert_eq!(after.rtp_received, before.rtp_received);
    // Bytes that are not RTP are refused before protection.
    assert_eq!(
        b.send_media(now, &MediaPacket::Rtp(Bytes::from_static(&[0x80, 96, 0]))),
        Err(MediaError::Malformed)
    );
    b.close(now);
    assert_eq!(
        b.send_media(now, &MediaPacket::Rtp(rtp(1))),
        Err(MediaError::Closed)
    );
}
