//! RTP through the whole sans-IO media path of a connected `ConnectionCore`, per packet:
//! **send** is `send_media` (the RTP session's statistics and retransmission history, SRTP
//! protect with AEAD_AES_128_GCM, the datagram queued on the selected pair) and `poll_transmit`;
//! **receive** is `handle_receive` of that datagram (RFC 7983 demultiplexing, the address
//! check, SRTP unprotect with the replay window, receive statistics and loss tracking) and
//! `poll_event` delivering the packet. The figure to read is packets per second per core:
//! 1 s divided by the time per packet. The SRTP step alone, and the peers' SRTP, are in the
//! `srtp` bench.
//!
//! The two cores connect over the simulated network (no sockets), as `tests/core_media.rs`
//! does, before anything is timed.

use std::hint::black_box;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

use antiphon_benches::{FixedEntropy, rtp_packet};
use antiphon_codec::Capabilities;
use antiphon_ice::sim::{LinkConfig, SimNetwork};
use antiphon_ice::{Datagram, IceRole, Transmit};
use antiphon_peer::Negotiator;
use antiphon_peer::answer::AnswerOptions;
use antiphon_peer::core::{ConnectionCore, CoreEvent, MediaPacket};
use bytes::Bytes;
use criterion::{BatchSize, BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};

/// The simulator helpers the tests use (shared by path).
#[path = "../../crates/peer/tests/common/sim.rs"]
#[allow(unreachable_pub)]
mod sim;

fn negotiator() -> Negotiator {
    Negotiator::new(
        Capabilities::browser_default(),
        AnswerOptions::default(),
        Box::new(FixedEntropy(7)),
    )
}

/// Two cores connected over a lossless simulated link, DTLS done and SRTP keyed both ways.
fn connected() -> (ConnectionCore, ConnectionCore, Instant) {
    let start = Instant::now();
    let addr_a: SocketAddr = "10.0.0.1:5000".parse().expect("addr");
    let addr_b: SocketAddr = "10.0.0.2:6000".parse().expect("addr");
    let (agent_a, cert_a, transport_a) =
        sim::endpoint(start, 1, "offr", addr_a, IceRole::Controlling);
    let (agent_b, cert_b, transport_b) =
        sim::endpoint(start, 2, "answ", addr_b, IceRole::Controlled);
    let (mut neg_a, mut neg_b) = (negotiator(), negotiator());
    sim::exchange_data_offer(&mut neg_a, &transport_a, &mut neg_b, &transport_b);
    let mut a = sim::start_core(start, agent_a, &cert_a, &neg_a);
    let mut b = sim::start_core(start, agent_b, &cert_b, &neg_b);
    let mut net = SimNetwork::new(
        1,
        LinkConfig::default().with_delay(Duration::from_millis(1)),
    );
    let mut now = start;
    let mut keyed = [false, false];
    while keyed != [true, true] {
        for (k, core) in [&mut a, &mut b].into_iter().enumerate() {
            while let Some(event) = core.poll_event() {
                if let CoreEvent::DtlsConnected(_) = event {
                    keyed[k] = true;
                }
            }
            while let Some(transmit) = core.poll_transmit() {
                net.send(now, transmit);
            }
        }
        let next = [a.poll_timeout(), b.poll_timeout(), net.next_delivery()]
            .into_iter()
            .flatten()
            .min()
            .expect("pending");
        now = now.max(next);
        assert!(now - start < Duration::from_secs(30), "never keyed");
        sim::deliver_and_tick(&mut net, now, &mut [(addr_a, &mut a), (addr_b, &mut b)]);
    }
    (a, b, now)
}

/// `core` sends packet `seq`; the datagrams it queues (the packet's, and any ICE check due).
fn send(core: &mut ConnectionCore, now: Instant, seq: u16, payload: usize) -> Vec<Transmit> {
    core.send_media(
        now,
        &MediaPacket::Rtp(Bytes::from(rtp_packet(seq, payload))),
    )
    .expect("keyed");
    std::iter::from_fn(|| core.poll_transmit()).collect()
}

fn media_path(c: &mut Criterion) {
    let mut group = c.benchmark_group("media_path");
    for payload in [160usize, 1200] {
        group.throughput(Throughput::Elements(1));
        let (mut a, _, now) = connected();
        let mut seq = 0u16;
        group.bench_function(BenchmarkId::new("send", payload), |bench| {
            bench.iter(|| {
                seq = seq.wrapping_add(1);
                a.send_media(
                    now,
                    &MediaPacket::Rtp(Bytes::from(rtp_packet(seq, payload))),
                )
                .expect("keyed");
                while let Some(transmit) = a.poll_transmit() {
                    black_box(transmit);
                }
            });
        });
        // Fresh cores: the sender above went round the sequence numbers many times without
        // this receiver, whose rollover counter would no longer match (SRTP, RFC 3711 §3.3.1).
        let (mut a, mut b, now) = connected();
        let mut seq = 0u16;
        group.bench_function(BenchmarkId::new("receive", payload), |bench| {
            bench.iter_batched(
                || {
                    seq = seq.wrapping_add(1);
                    send(&mut a, now, seq, payload)
                },
                |transmits| {
                    for transmit in &transmits {
                        b.handle_receive(
                            now,
                            Datagram {
                                source: transmit.source,
                                destination: transmit.destination,
                                contents: &transmit.contents,
                            },
                        );
                    }
                    let mut delivered = 0;
                    while let Some(event) = b.poll_event() {
                        if let CoreEvent::Media(MediaPacket::Rtp(packet)) = event {
                            delivered += packet.len();
                        }
                    }
                    assert_eq!(delivered, 12 + payload, "delivered, not refused");
                },
                BatchSize::SmallInput,
            );
        });
    }
    group.finish();
}

criterion_group!(benches, media_path);
criterion_main!(benches);
