//! Arbitrary messages from a "TURN server" into an allocated TURN client, and the same bytes
//! as a stream into the stream framer: never a panic; relayed data only ever comes from a peer
//! the client holds a permission or channel for; the framer's messages are whole STUN or
//! ChannelData messages.
#![no_main]

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use antiphon_ice::Transmit;
use antiphon_ice::turn::server::SimTurnServer;
use antiphon_ice::turn::{StreamFramer, TurnClient, TurnServerConfig, TurnState, TurnTransport};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|messages: Vec<Vec<u8>>| {
    let start = Instant::now();
    let client_addr: SocketAddr = "10.0.0.1:5000".parse().expect("addr");
    let server_addr: SocketAddr = "10.0.0.9:3478".parse().expect("addr");
    let peer: SocketAddr = "10.0.0.2:6000".parse().expect("addr");
    let config = TurnServerConfig::new(server_addr, TurnTransport::Udp, "alice", "secret");
    let mut client = TurnClient::new(start, config, 3);
    let mut server = SimTurnServer::new(server_addr, "alice", "secret");
    // Allocated, with a permission and a channel for one peer.
    client.send_to(start, peer, b"x");
    for _ in 0..10 {
        while let Some(out) = client.poll_transmit() {
            let request = Transmit {
                source: client_addr,
                destination: out.destination,
                contents: out.contents,
            };
            for reply in server.handle(start, &request) {
                let _ = client.handle_receive(start, &reply.contents);
            }
        }
        client.send_to(start, peer, b"y");
    }
    let mut framer = StreamFramer::new();
    for (i, bytes) in messages.iter().take(64).enumerate() {
        let now = start + Duration::from_millis(i as u64 * 100);
        if let Some((from, _)) = client.handle_receive(now, bytes) {
            assert!(
                client.has_permission(from.ip()) || client.channel(from).is_some(),
                "relayed data from {from} without a permission"
            );
        }
        client.handle_timeout(now);
        while client.poll_transmit().is_some() {}
        while client.poll_event().is_some() {}
        framer.push(bytes);
        while let Ok(Some(message)) = framer.next_message() {
            assert!(message.len() >= 4);
        }
    }
    assert!(matches!(
        client.state(),
        TurnState::Allocating | TurnState::Allocated | TurnState::Failed
    ));
});
