//! Data channels end to end over a real DTLS handshake and SCTP association (two connected UDP
//! sockets on loopback below DTLS, no ICE): DCEP and negotiated channels, ordered and unordered,
//! partially reliable, and the remote max-message-size.

use std::sync::Arc;
use std::time::Duration;

use antiphon_dtls::{
    Certificate, CertificateOptions, DtlsConfig, DtlsParameters, DtlsRole, HashAlgorithm,
};
use antiphon_peer::{Error, RTCDataChannelInit, SctpParameters, SctpTransport, TypeErrorReason};
use bytes::Bytes;

const PARAMETERS: SctpParameters = SctpParameters {
    local_port: 5000,
    remote_port: 5000,
    local_max_message_size: 262_144,
    remote_max_message_size: 262_144,
};

/// Two SCTP transports connected through DTLS over UDP on loopback, both with `parameters`.
async fn connected(parameters: SctpParameters) -> (Arc<SctpTransport>, Arc<SctpTransport>) {
    connected_with(parameters, parameters).await
}

/// Two SCTP transports connected through DTLS over two UDP sockets on loopback: `a` (the DTLS
/// client) with `for_a`, `b` with `for_b`.
async fn connected_with(
    for_a: SctpParameters,
    for_b: SctpParameters,
) -> (Arc<SctpTransport>, Arc<SctpTransport>) {
    let a = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    let b = tokio::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
    a.connect(b.local_addr().unwrap()).await.unwrap();
    b.connect(a.local_addr().unwrap()).await.unwrap();
    let cert_a = Certificate::generate(&CertificateOptions::default()).unwrap();
    let cert_b = Certificate::generate(&CertificateOptions::default()).unwrap();
    let fp_a = cert_a.fingerprint(HashAlgorithm::Sha256);
    let fp_b = cert_b.fingerprint(HashAlgorithm::Sha256);
    let (a, b) = tokio::join!(
        SctpTransport::connect(
            a,
            DtlsConfig::new(cert_a),
            DtlsParameters {
                role: DtlsRole::Client,
                remote_fingerprints: vec![fp_b]
            },
            for_a,
        ),
        SctpTransport::connect(
            b,
            DtlsConfig::new(cert_b),
            DtlsParameters {
                role: DtlsRole::Server,
                remote_fingerprints: vec![fp_a]
            },
            for_b,
        ),
    );
    (a.expect("sctp a"), b.expect("sctp b"))
}

async fn within<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::time::timeout(Duration::from_secs(10), future)
        .await
        .expect("timed out")
}

#[tokio::test]
async fn dcep_channel_carries_text_and_binary_both_ways() {
    let (a, b) = within(connected(PARAMETERS)).await;
    let opened = within(a.open(
        "chat",
        RTCDataChannelInit::default().with_protocol("json".into()),
    ))
    .await
    .expect("open");
    assert_eq!(
        opened.id().map(|id| id % 2),
        Some(0),
        "the DTLS client uses even stream ids"
    );
    opened.send_text("hello").await.expect("send");
    let accepted = within(b.accept()).await.expect("ondatachannel");
    assert_eq!(accepted.label(), "chat");
    assert_eq!(accepted.init().protocol, "json");
    assert!(accepted.init().ordered);
    let message = within(accepted.recv()).await.expect("message");
    assert!(message.is_string);
    assert_eq!(&message.data[..], b"hello");
    accepted
        .send(Bytes::from_static(&[1, 2, 3]))
        .await
        .expect("reply");
    let reply = within(opened.recv()).await.expect("reply");
    assert!(!reply.is_string);
    assert_eq!(&reply.data[..], &[1, 2, 3]);
}

#[tokio::test]
async fn server_side_opens_odd_stream_ids_and_partial_reliability_is_signalled() {
    let (a, b) = within(connected(PARAMETERS)).await;
    let init = RTCDataChannelInit::default()
        .with_ordered(false)
        .with_max_retransmits(Some(3));
    let opened = within(b.open("lossy", init)).await.expect("open");
    assert_eq!(
        opened.id().map(|id| id % 2),
        Some(1),
        "the DTLS server uses odd stream ids"
    );
    opened.send_text("x").await.expect("send");
    let accepted = within(a.accept()).await.expect("ondatachannel");
    assert!(!accepted.init().ordered);
    assert_eq!(accepted.init().max_retransmits, Some(3));
    assert_eq!(accepted.init().max_packet_life_time, None);
}

#[tokio::test]
async fn negotiated_channels_need_no_dcep() {
    let (a, b) = within(connected(PARAMETERS)).await;
    let init = RTCDataChannelInit::default()
        .with_negotiated(true)
        .with_id(Some(42));
    let left = within(a.open("n", init.clone())).await.expect("open a");
    let right = within(b.open("n", init)).await.expect("open b");
    left.send_text("ping").await.expect("send");
    assert_eq!(&within(right.recv()).await.expect("recv").data[..], b"ping");
    right.send_text("pong").await.expect("send");
    assert_eq!(&within(left.recv()).await.expect("recv").data[..], b"pong");
}

#[tokio::test]
async fn bad_channel_options_are_type_errors() {
    let (a, _b) = within(connected(PARAMETERS)).await;
    let both = RTCDataChannelInit::default()
        .with_max_retransmits(Some(1))
        .with_max_packet_life_time(Some(1));
    assert!(matches!(
        a.open("x", both).await,
        Err(Error::Type(TypeErrorReason::InvalidReliability))
    ));
    let no_id = RTCDataChannelInit::default().with_negotiated(true);
    assert!(matches!(
        a.open("x", no_id).await,
        Err(Error::Type(TypeErrorReason::NegotiatedWithoutId))
    ));
}

#[tokio::test]
async fn messages_up_to_the_remote_limit_pass_and_larger_ones_are_refused() {
    let parameters = SctpParameters {
        remote_max_message_size: 100_000,
        ..PARAMETERS
    };
    let (a, b) = within(connected(parameters)).await;
    let opened = within(a.open("big", RTCDataChannelInit::default()))
        .await
        .expect("open");
    let exact = Bytes::from(vec![7u8; 100_000]);
    opened
        .send(exact.clone())
        .await
        .expect("a message of exactly max-message-size");
    let accepted = within(b.accept()).await.expect("ondatachannel");
    let received = within(accepted.recv()).await.expect("big message");
    assert_eq!(received.data, exact);
    let too_big = opened.send(Bytes::from(vec![0u8; 100_001])).await;
    assert!(matches!(
        too_big,
        Err(Error::Type(TypeErrorReason::MessageTooLarge {
            size: 100_001,
            limit: 100_000
        }))
    ));
}

#[tokio::test]
async fn messages_up_to_our_limit_arrive_whole_above_256_kib() {
    let parameters = SctpParameters {
        local_max_message_size: 600_000,
        remote_max_message_size: 600_000,
        ..PARAMETERS
    };
    let (a, b) = within(connected(parameters)).await;
    let opened = within(a.open("big", RTCDataChannelInit::default()))
        .await
        .expect("open");
    let big: Bytes = (0..500_000u32).map(|i| (i % 251) as u8).collect();
    opened.send(big.clone()).await.expect("send 500 kB");
    let accepted = within(b.accept()).await.expect("ondatachannel");
    let received = within(accepted.recv()).await.expect("the 500 kB message");
    assert_eq!(received.data.len(), big.len());
    assert_eq!(received.data, big);
}

#[tokio::test]
async fn a_received_message_holds_only_its_own_bytes() {
    let (a, b) = within(connected(PARAMETERS)).await;
    let opened = within(a.open("small", RTCDataChannelInit::default()))
        .await
        .expect("open");
    let accepted = async {
        let accepted = b.accept().await.expect("ondatachannel");
        (accepted.recv().await, accepted.recv().await)
    };
    let (sent, (first, second)) = within(async {
        tokio::join!(
            async {
                opened.send_text("hello").await.expect("send");
                opened.send_text("again").await.expect("send");
            },
            accepted
        )
    })
    .await;
    let ((), first, second) = (sent, first.expect("first"), second.expect("second"));
    assert_eq!(&second.data[..], b"again", "the read buffer is reused");
    // A message keeps its own allocation, not the channel's read buffer (which must hold
    // max-message-size, 256 KiB here).
    let buffer = first
        .data
        .try_into_mut()
        .expect("the message owns its bytes");
    assert_eq!(&buffer[..], b"hello");
    assert!(buffer.capacity() < 1024, "capacity {}", buffer.capacity());
}

#[tokio::test]
async fn a_message_over_our_limit_closes_the_channel() {
    // `a` was told `b` accepts 1 MB; `b` accepts 64 KiB (a peer that ignores our limit).
    let for_a = SctpParameters {
        remote_max_message_size: 1_000_000,
        ..PARAMETERS
    };
    let for_b = SctpParameters {
        local_max_message_size: 65_536,
        ..PARAMETERS
    };
    let (a, b) = within(connected_with(for_a, for_b)).await;
    let opened = within(a.open("ignores-limit", RTCDataChannelInit::default()))
        .await
        .expect("open");
    opened
        .send(Bytes::from(vec![1u8; 100_000]))
        .await
        .expect("our side refuses nothing the remote announced");
    let accepted = within(b.accept()).await.expect("ondatachannel");
    assert_eq!(within(accepted.recv()).await, None);
    assert_eq!(within(accepted.recv()).await, None, "and stays closed");
}

#[tokio::test]
async fn empty_messages_arrive_and_a_closed_channel_ends_recv() {
    let (a, b) = within(connected(PARAMETERS)).await;
    let opened = within(a.open("empty", RTCDataChannelInit::default()))
        .await
        .expect("open");
    opened.send(Bytes::new()).await.expect("empty binary");
    opened.send_text("").await.expect("empty text");
    let accepted = within(b.accept()).await.expect("ondatachannel");
    let binary = within(accepted.recv())
        .await
        .expect("the empty binary message");
    assert!(!binary.is_string && binary.data.is_empty());
    let text = within(accepted.recv())
        .await
        .expect("the empty text message");
    assert!(text.is_string && text.data.is_empty());
    opened.close().await.expect("close");
    assert_eq!(within(accepted.recv()).await, None, "the remote closed it");
}

/// Issue 15 (9): what we may send is the remote's a=max-message-size, not ours. Firefox offers
/// 1073741823; a 400 kB message to it must go even though we accept 262144 ourselves.
#[tokio::test]
async fn sends_honour_the_remote_limit_not_ours() {
    let sender = SctpParameters {
        local_max_message_size: 262_144,
        remote_max_message_size: 1_073_741_823,
        ..PARAMETERS
    };
    let receiver = SctpParameters {
        local_max_message_size: 1_073_741_823,
        remote_max_message_size: 262_144,
        ..PARAMETERS
    };
    let (a, b) = within(connected_with(sender, receiver)).await;
    let opened = within(a.open("big", RTCDataChannelInit::default()))
        .await
        .expect("open");
    let big: Bytes = (0..400_000u32).map(|i| (i % 253) as u8).collect();
    within(opened.send(big.clone()))
        .await
        .expect("400 kB is within the remote's limit");
    let accepted = within(b.accept()).await.expect("ondatachannel");
    let received = within(accepted.recv()).await.expect("the 400 kB message");
    assert_eq!(received.data, big);
    // The other way, our limit holds: a clear TypeError, and the channel carries on.
    let too_big = accepted.send(big.clone()).await;
    assert!(
        matches!(
            too_big,
            Err(Error::Type(TypeErrorReason::MessageTooLarge {
                size: 400_000,
                limit: 262_144
            }))
        ),
        "{too_big:?}"
    );
    within(accepted.send_text("still open"))
        .await
        .expect("send after a refused one");
    let message = within(opened.recv())
        .await
        .expect("a message after the refused one");
    assert_eq!(&message.data[..], b"still open");
}

/// Issue 15 (5): the legacy `DTLS/SCTP <port>` form names each side's own port. An offer on
/// 5001 answered by Antiphon gives us local 5000 / remote 5001 and the offerer the mirror image,
/// and the association (which checks both ports of every packet) comes up on them.
#[tokio::test]
async fn legacy_sctpmap_ports_negotiate_and_carry_the_association() {
    use antiphon_peer::{Negotiator, OsEntropy, RTCSessionDescriptionInit};
    let offer = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n\
        m=application 9 DTLS/SCTP 5001\r\nc=IN IP4 0.0.0.0\r\n\
        a=ice-ufrag:ufrA\r\na=ice-pwd:0123456789012345678901\r\n\
        a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n\
        a=setup:actpass\r\na=mid:d\r\na=sctpmap:5001 webrtc-datachannel 1024\r\n";
    let mut negotiator = Negotiator::new(
        antiphon_codec::Capabilities::browser_default(),
        Default::default(),
        Box::new(OsEntropy),
    );
    negotiator
        .set_remote_description(&RTCSessionDescriptionInit::offer(offer))
        .expect("legacy offer");
    let certificate = Certificate::generate(&CertificateOptions::default()).unwrap();
    let answer = negotiator
        .create_answer(|_| {
            antiphon_peer::answer::LocalTransport::new(
                "ufrB",
                "abcdefghijklmnopqrstuvwx",
                &certificate,
            )
        })
        .expect("answer");
    let parse = |text: &str| {
        antiphon_sdp::parse_with(text.as_bytes(), &antiphon_sdp::ParseOptions::lenient())
            .expect("parses")
            .description
    };
    let (offer, answer) = (parse(offer), parse(&answer.sdp));
    let ours = SctpParameters::negotiated(&answer, &offer).expect("ours");
    let theirs = SctpParameters::negotiated(&offer, &answer).expect("theirs");
    assert_eq!((ours.local_port, ours.remote_port), (5000, 5001));
    assert_eq!((theirs.local_port, theirs.remote_port), (5001, 5000));
    let (offerer, answerer) = within(connected_with(theirs, ours)).await;
    let opened = within(offerer.open("legacy", RTCDataChannelInit::default()))
        .await
        .expect("open over distinct ports");
    opened.send_text("hi").await.expect("send");
    let accepted = within(answerer.accept()).await.expect("ondatachannel");
    let message = within(accepted.recv()).await.expect("message");
    assert_eq!(&message.data[..], b"hi");
}

/// `bufferedAmount` grows with what is queued and `buffered_amount_low()` (the
/// `bufferedamountlow` event) returns once it falls to the threshold; readyState follows close.
#[tokio::test]
async fn buffered_amount_falls_to_the_threshold_and_wakes_the_sender() {
    let (a, b) = within(connected(PARAMETERS)).await;
    let opened = within(a.open("bulk", RTCDataChannelInit::default()))
        .await
        .expect("open");
    opened.send_text("first").await.expect("send");
    let accepted = within(b.accept()).await.expect("ondatachannel");
    within(accepted.recv()).await.expect("first");
    let threshold = 64 * 1024;
    opened.set_buffered_amount_low_threshold(threshold);
    assert_eq!(opened.buffered_amount_low_threshold(), threshold);
    let message = Bytes::from(vec![7u8; 256 * 1024]);
    for _ in 0..4 {
        opened.send(message.clone()).await.expect("send");
    }
    assert!(
        opened.buffered_amount() > threshold,
        "1 MiB sent at once is not all acknowledged yet: {}",
        opened.buffered_amount()
    );
    within(opened.buffered_amount_low()).await;
    assert!(opened.buffered_amount() <= threshold);
    for _ in 0..4 {
        let received = within(accepted.recv()).await.expect("a message");
        assert_eq!(received.data.len(), 256 * 1024);
    }
    assert_eq!(
        opened.ready_state(),
        antiphon_peer::RTCDataChannelState::Open
    );
    opened.close().await.expect("close");
    // `closing` until the remote resets its side too (W3C: the closing procedure).
    assert_ne!(
        opened.ready_state(),
        antiphon_peer::RTCDataChannelState::Open
    );
    within(opened.closed()).await;
    assert_eq!(
        opened.ready_state(),
        antiphon_peer::RTCDataChannelState::Closed
    );
    assert!(within(accepted.recv()).await.is_none());
    assert_eq!(
        accepted.ready_state(),
        antiphon_peer::RTCDataChannelState::Closed
    );
}
