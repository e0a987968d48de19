//! The TURN client alone against the simulated server and hand-made answers: redirects, stale
//! nonces, silence, forged and hostile messages, deallocation.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use antiphon_ice::Transmit;
use antiphon_ice::turn::server::SimTurnServer;
use antiphon_ice::turn::{
    TurnClient, TurnError, TurnEvent, TurnServerConfig, TurnState, TurnTransport,
};
use proptest::prelude::*;
use stun_rs::attributes::stun::{AlternateServer, ErrorCode, Fingerprint, Nonce, Realm};
use stun_rs::methods::ALLOCATE;
use stun_rs::{
    ErrorCode as ErrorCodeValue, MessageClass, MessageDecoderBuilder, MessageEncoderBuilder,
    StunMessageBuilder,
};

const CLIENT: &str = "10.0.0.1:5000";
const SERVER: &str = "10.0.0.9:3478";

fn addr(s: &str) -> SocketAddr {
    s.parse().expect("address")
}

fn client(now: Instant, server: &str) -> TurnClient {
    TurnClient::new(
        now,
        TurnServerConfig::new(addr(server), TurnTransport::Udp, "alice", "secret"),
        7,
    )
}

/// Moves messages between the client and `server` until neither has anything to say.
fn exchange(now: Instant, client: &mut TurnClient, server: &mut SimTurnServer) {
    for _ in 0..20 {
        let Some(out) = client.poll_transmit() else {
            return;
        };
        let request = Transmit {
            source: addr(CLIENT),
            destination: out.destination,
            contents: out.contents,
        };
        if request.destination != server.address() {
            continue;
        }
        for reply in server.handle(now, &request) {
            client.handle_receive(now, &reply.contents);
        }
    }
}

fn events(client: &mut TurnClient) -> Vec<TurnEvent> {
    std::iter::from_fn(|| client.poll_event()).collect()
}

/// An error response to the request `bytes`, with `extra` attributes.
fn error_response(
    bytes: &[u8],
    code: u16,
    with: impl FnOnce(StunMessageBuilder) -> StunMessageBuilder,
) -> Vec<u8> {
    let (request, _) = MessageDecoderBuilder::default()
        .build()
        .decode(bytes)
        .expect("a request");
    let builder = StunMessageBuilder::new(ALLOCATE, MessageClass::ErrorResponse)
        .with_transaction_id(*request.transaction_id())
        .with_attribute(ErrorCode::from(
            ErrorCodeValue::new(code, "test").expect("code"),
        ));
    let message = with(builder).with_attribute(Fingerprint::default()).build();
    let mut buffer = vec![0u8; 1024];
    let n = MessageEncoderBuilder::default()
        .build()
        .encode(&mut buffer, &message)
        .expect("encoded");
    buffer.truncate(n);
    buffer
}

#[test]
fn a_300_try_alternate_moves_to_the_alternate_server_once() {
    let now = Instant::now();
    let mut client = client(now, SERVER);
    let first = client.poll_transmit().expect("the first Allocate");
    assert_eq!(first.destination, addr(SERVER));
    let alternate = addr("10.0.0.10:3478");
    let redirect = error_response(&first.contents, 300, |b| {
        b.with_attribute(AlternateServer::from(alternate))
    });
    client.handle_receive(now, &redirect);
    assert_eq!(client.server(), alternate);
    let mut server = SimTurnServer::new(alternate, "alice", "secret");
    exchange(now, &mut client, &mut server);
    assert_eq!(client.state(), TurnState::Allocated);
    assert!(matches!(
        events(&mut client)[..],
        [TurnEvent::Allocated { .. }]
    ));

    // A second redirect is not followed.
    let mut client = self::client(now, SERVER);
    let first = client.poll_transmit().expect("Allocate");
    client.handle_receive(
        now,
        &error_response(&first.contents, 300, |b| {
            b.with_attribute(AlternateServer::from(alternate))
        }),
    );
    let again = client.poll_transmit().expect("Allocate to the alternate");
    client.handle_receive(
        now,
        &error_response(&again.contents, 300, |b| {
            b.with_attribute(AlternateServer::from(addr(SERVER)))
        }),
    );
    assert_eq!(client.state(), TurnState::Failed);
    assert_eq!(
        events(&mut client),
        [TurnEvent::Failed(TurnError::TryAlternate(Some(addr(
            SERVER
        ))))]
    );
}

#[test]
fn a_stale_nonce_is_retried_once_then_fails() {
    let now = Instant::now();
    let mut client = client(now, SERVER);
    let first = client.poll_transmit().expect("Allocate");
    let challenge = |bytes: &[u8], code| {
        error_response(bytes, code, |b| {
            b.with_attribute(Realm::new("antiphon.test").expect("realm"))
                .with_attribute(Nonce::new("n1").expect("nonce"))
        })
    };
    client.handle_receive(now, &challenge(&first.contents, 401));
    let authenticated = client.poll_transmit().expect("Allocate with credentials");
    client.handle_receive(now, &challenge(&authenticated.contents, 438));
    let retried = client.poll_transmit().expect("retried with the new nonce");
    assert_ne!(retried.contents, authenticated.contents);
    client.handle_receive(now, &challenge(&retried.contents, 438));
    assert_eq!(
        events(&mut client),
        [TurnEvent::Failed(TurnError::StaleNonce)]
    );
    assert!(client.poll_transmit().is_none());
}

#[test]
fn a_silent_server_times_out_within_twelve_seconds() {
    let start = Instant::now();
    let mut client = client(start, SERVER);
    let mut now = start;
    let mut sent = 0;
    while client.state() == TurnState::Allocating {
        while client.poll_transmit().is_some() {
            sent += 1;
        }
        now = client.poll_timeout().expect("a retransmission is due");
        client.handle_timeout(now);
    }
    assert_eq!(events(&mut client), [TurnEvent::Failed(TurnError::Timeout)]);
    assert_eq!(sent, 5, "the request and four retransmissions");
    assert!(now - start < Duration::from_secs(12), "{:?}", now - start);
    assert_eq!(client.poll_timeout(), None);
}

#[test]
fn forged_and_unsolicited_messages_change_nothing() {
    let now = Instant::now();
    let mut client = client(now, SERVER);
    let mut server = SimTurnServer::new(addr(SERVER), "alice", "secret");
    exchange(now, &mut client, &mut server);
    assert_eq!(client.state(), TurnState::Allocated);
    let _ = events(&mut client);
    let peer = addr("10.0.0.2:6000");
    // Data from a peer without a permission, and ChannelData on a channel never bound, are not
    // relayed data.
    let relayed = client.relayed_address().expect("relayed");
    let stranger = server.handle(
        now,
        &Transmit {
            source: peer,
            destination: relayed,
            contents: vec![1, 2, 3],
        },
    );
    assert!(
        stranger.is_empty(),
        "the server relays nothing without a permission"
    );
    assert_eq!(
        client.handle_receive(now, &[0x40, 0x00, 0x00, 0x01, 9, 0, 0, 0]),
        None
    );
    // Once permitted, data flows; a message the server never sent to this client is ignored.
    client.send_to(now, peer, b"hello");
    exchange(now, &mut client, &mut server);
    assert!(client.has_permission(peer.ip()));
    for reply in server.handle(
        now,
        &Transmit {
            source: peer,
            destination: relayed,
            contents: b"back".to_vec(),
        },
    ) {
        assert_eq!(
            client.handle_receive(now, &reply.contents),
            Some((peer, b"back".to_vec()))
        );
    }
    assert_eq!(client.state(), TurnState::Allocated);
}

#[test]
fn a_stale_allocation_on_our_address_is_deleted_and_made_again() {
    // An earlier client on the same address allocated and never deleted it.
    let now = Instant::now();
    let mut server = SimTurnServer::new(addr(SERVER), "alice", "secret");
    let mut earlier = client(now, SERVER);
    exchange(now, &mut earlier, &mut server);
    assert_eq!(earlier.state(), TurnState::Allocated);
    drop(earlier);
    let mut client = client(now, SERVER);
    exchange(now, &mut client, &mut server);
    assert_eq!(
        client.state(),
        TurnState::Allocated,
        "{:?}",
        events(&mut client)
    );
    assert_eq!(server.allocation_count(now), 1);
}

#[test]
fn close_deletes_the_allocation_on_the_server() {
    let now = Instant::now();
    let mut client = client(now, SERVER);
    let mut server = SimTurnServer::new(addr(SERVER), "alice", "secret");
    exchange(now, &mut client, &mut server);
    assert_eq!(server.allocation_count(now), 1);
    client.close(now);
    assert_eq!(client.state(), TurnState::Closing);
    exchange(now, &mut client, &mut server);
    assert_eq!(client.state(), TurnState::Closed);
    assert_eq!(server.allocation_count(now), 0);
}

proptest! {
    /// Whatever arrives, in any state, the client neither panics nor leaves its states.
    #[test]
    fn hostile_bytes_never_panic(inputs in proptest::collection::vec(proptest::collection::vec(any::<u8>(), 0..120), 1..20)) {
        let now = Instant::now();
        let mut client = client(now, SERVER);
        let mut server = SimTurnServer::new(addr(SERVER), "alice", "secret");
        for (i, bytes) in inputs.iter().enumerate() {
            if i == 3 {
                exchange(now, &mut client, &mut server);
            }
            let _ = client.handle_receive(now, bytes);
            // The header of a real STUN message with a random body.
            let mut stun = vec![0x01, 0x13, 0, 0, 0x21, 0x12, 0xa4, 0x42];
            stun.extend_from_slice(&[0; 12]);
            stun.extend_from_slice(bytes);
            let length = u16::try_from(bytes.len()).unwrap_or(0);
            stun[2..4].copy_from_slice(&length.to_be_bytes());
            let _ = client.handle_receive(now, &stun);
        }
        prop_assert!(matches!(client.state(), TurnState::Allocating | TurnState::Allocated | TurnState::Failed));
    }
}
