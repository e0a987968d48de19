//! SCTP packets from a hostile peer into the data channels of the sans-IO core
//! (`antiphon_peer::core::SctpChannels`, rtc-sctp underneath), after an honest handshake: never
//! a panic, and what the victim sends and reports stays bounded.
//!
//! Structure-aware: a client and a server connect honestly on a virtual clock and open a
//! channel, so the victim is an association with a channel open. Each fuzzed packet is then
//! made one the victim accepts as far as the common header goes: both ports 5000, the
//! verification tag the victim expects (read off a packet its honest peer sent it), and a
//! correct CRC-32C, so the fuzzer spends its time in chunk parsing and the association's
//! state machines, not on checksums. A flag sends the bytes raw instead. Between packets the
//! input can let virtual time pass (timers: retransmissions, heartbeats), make the victim
//! send (so SACKs and retransmissions have data to refer to), or let the honest peer speak.
//! A DTLS record in the core would carry these exact bytes: this is what a peer that
//! completed DTLS can make Antiphon read.
#![no_main]

use std::time::{Duration, Instant};

use antiphon_dtls::DtlsRole;
use antiphon_peer::core::{ChannelEvent, SctpChannels};
use antiphon_peer::{DataChannelMessage, RTCDataChannelInit, SctpParameters};
use arbitrary::Arbitrary;
use bytes::Bytes;
use libfuzzer_sys::fuzz_target;

/// At most this many steps per input.
const MAX_STEPS: usize = 64;
/// What one step may make the victim send or report, at most (its window is 1 MiB; a
/// retransmission burst is a window of 1,200-byte packets).
const MAX_OUTPUT_PER_STEP: usize = 4_096;

#[derive(Debug, Arbitrary)]
struct Input {
    /// The victim is the DTLS server (it answered the INIT) or the client.
    victim_is_server: bool,
    steps: Vec<Step>,
}

#[derive(Debug, Arbitrary)]
enum Step {
    /// Chunks after a common header the harness makes valid.
    Chunks(Vec<u8>),
    /// A whole packet, as it is.
    Raw(Vec<u8>),
    /// Virtual time passes (milliseconds) and the victim's timers run.
    Wait(u16),
    /// The victim sends a message of this many bytes (times 64) on its channel.
    Send { len: u8, string: bool },
    /// The honest peer's queued packets reach the victim, and the victim's reach it.
    Exchange,
}

fn parameters() -> SctpParameters {
    SctpParameters {
        local_port: 5000,
        remote_port: 5000,
        local_max_message_size: 262_144,
        remote_max_message_size: 262_144,
    }
}

/// Moves the packets each side has queued to the other until both are quiet; `false` if they
/// never are (a bound on a ping-pong that should not happen).
fn exchange(now: Instant, a: &mut SctpChannels, b: &mut SctpChannels) -> bool {
    for _ in 0..64 {
        let mut moved = false;
        while let Some(packet) = a.poll_transmit() {
            b.handle_receive(now, packet);
            moved = true;
        }
        while let Some(packet) = b.poll_transmit() {
            a.handle_receive(now, packet);
            moved = true;
        }
        if !moved {
            return true;
        }
    }
    false
}

/// `chunks` behind a common header to `tag`, with its CRC-32C (little-endian, as SCTP puts it).
fn packet(tag: [u8; 4], chunks: &[u8]) -> Bytes {
    let mut packet = Vec::with_capacity(12 + chunks.len());
    packet.extend_from_slice(&5000u16.to_be_bytes());
    packet.extend_from_slice(&5000u16.to_be_bytes());
    packet.extend_from_slice(&tag);
    packet.extend_from_slice(&[0; 4]);
    packet.extend_from_slice(chunks);
    let checksum = crc32c::crc32c(&packet);
    packet[8..12].copy_from_slice(&checksum.to_le_bytes());
    Bytes::from(packet)
}

/// Drains the victim's output, failing if one step made it send or report too much.
fn drain(victim: &mut SctpChannels, honest: &mut SctpChannels, now: Instant, deliver: bool) {
    let mut output = 0;
    while let Some(sent) = victim.poll_transmit() {
        output += 1;
        assert!(output <= MAX_OUTPUT_PER_STEP, "unbounded transmits");
        if deliver {
            honest.handle_receive(now, sent);
        }
    }
    while let Some(event) = victim.poll_event() {
        output += 1;
        assert!(output <= MAX_OUTPUT_PER_STEP, "unbounded events");
        if let ChannelEvent::Readable { id } = event {
            while let Some(message) = victim.receive(now, id) {
                assert!(message.data.len() <= 262_144, "a message past our limit");
            }
        }
    }
}

fuzz_target!(|input: Input| {
    let start = Instant::now();
    let mut now = start;
    let mut client = SctpChannels::new(DtlsRole::Client, parameters());
    let mut server = SctpChannels::new(DtlsRole::Server, parameters());
    let id = client
        .open(now, "fuzz", RTCDataChannelInit::default())
        .expect("open");
    client.start(now).expect("start");
    server.start(now).expect("start");
    // The honest handshake and the channel's DCEP exchange, then one packet each way so the
    // victim's verification tag can be read off what its peer sends it.
    assert!(
        exchange(now, &mut client, &mut server),
        "handshake never settled"
    );
    assert!(
        client.is_connected() && server.is_connected(),
        "no association"
    );
    let (mut victim, mut honest) = if input.victim_is_server {
        (server, client)
    } else {
        (client, server)
    };
    let probe = DataChannelMessage {
        is_string: false,
        data: Bytes::from_static(b"probe"),
    };
    honest.send(now, id, &probe).expect("honest send");
    let Some(to_victim) = honest.poll_transmit() else {
        panic!("the honest peer sent nothing");
    };
    let tag: [u8; 4] = to_victim[4..8].try_into().expect("common header");
    victim.handle_receive(now, to_victim);
    drain(&mut victim, &mut honest, now, true);

    for step in input.steps.into_iter().take(MAX_STEPS) {
        match step {
            Step::Chunks(chunks) => victim.handle_receive(now, packet(tag, &chunks)),
            Step::Raw(raw) => victim.handle_receive(now, Bytes::from(raw)),
            Step::Wait(ms) => {
                now += Duration::from_millis(u64::from(ms));
                victim.handle_timeout(now);
                honest.handle_timeout(now);
            }
            Step::Send { len, string } => {
                let message = DataChannelMessage {
                    is_string: string,
                    data: Bytes::from(vec![b'x'; usize::from(len) * 64]),
                };
                // Refused once the hostile packets closed the channel or the association.
                let _ = victim.send(now, id, &message);
            }
            Step::Exchange => {
                while let Some(packet) = honest.poll_transmit() {
                    victim.handle_receive(now, packet);
                }
                drain(&mut victim, &mut honest, now, true);
                while honest.poll_event().is_some() {}
                continue;
            }
        }
        drain(&mut victim, &mut honest, now, false);
        if let Some(due) = victim.poll_timeout() {
            assert!(due >= start, "a timer before the association began");
        }
    }
});
