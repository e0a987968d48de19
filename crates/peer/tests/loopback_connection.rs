//! Two Antiphon peer connections over loopback UDP: offer/answer, ICE, DTLS with the
//! fingerprints enforced, SCTP, and a data channel message each way.

use std::net::IpAddr;
use std::time::Duration;

use antiphon_peer::{
    PeerConnectionEvents, PeerOptions, RTCConfiguration, RTCDataChannel, RTCDataChannelInit,
    RTCPeerConnection, RTCPeerConnectionState, RTCSessionDescriptionInit, RTCSignalingState,
};
use bytes::Bytes;

/// A peer connection with the default configuration, bound to 127.0.0.1 only.
fn loopback_peer() -> RTCPeerConnection {
    let options = PeerOptions::default().with_bind(vec![IpAddr::from([127, 0, 0, 1])]);
    RTCPeerConnection::with_options(RTCConfiguration::default(), options).unwrap()
}

/// A complete offer/answer exchange; returns the offer and the answer that were applied.
async fn negotiate(
    offerer: &RTCPeerConnection,
    answerer: &RTCPeerConnection,
) -> (RTCSessionDescriptionInit, RTCSessionDescriptionInit) {
    let offer = offerer.create_offer().await.unwrap();
    offerer
        .set_local_description(Some(offer.clone()))
        .await
        .unwrap();
    answerer
        .set_remote_description(offer.clone())
        .await
        .unwrap();
    let answer = answerer.create_answer().await.unwrap();
    answerer
        .set_local_description(Some(answer.clone()))
        .await
        .unwrap();
    offerer
        .set_remote_description(answer.clone())
        .await
        .unwrap();
    (offer, answer)
}

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(20), future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// Waits for `chat` (created by the offerer) to open, sends `text` on it, and returns it with
/// the channel the answerer reported (`answerer`: its events), once the message has arrived there intact.
async fn open_chat(
    chat: &RTCDataChannel,
    answerer: &mut PeerConnectionEvents,
    text: &str,
) -> (RTCDataChannel, RTCDataChannel) {
    within("open", chat.opened()).await.unwrap();
    let channel = chat.clone();
    channel.send_text(text).await.unwrap();
    let remote = within("ondatachannel", answerer.next_data_channel())
        .await
        .expect("a channel");
    assert_eq!(remote.label(), "chat");
    let message = within("message", remote.recv()).await.expect("a message");
    assert_eq!(&message.data[..], text.as_bytes());
    (channel, remote)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_peers_connect_and_exchange_data_channel_messages() {
    let offerer = loopback_peer();
    let answerer = loopback_peer();
    let mut answerer_events = answerer.subscribe();
    let chat = offerer
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .unwrap();

    let offer = offerer.create_offer().await.unwrap();
    offerer
        .set_local_description(Some(offer.clone()))
        .await
        .unwrap();
    answerer.set_remote_description(offer).await.unwrap();
    assert_eq!(
        answerer.signaling_state().await,
        RTCSignalingState::HaveRemoteOffer
    );
    let answer = answerer.create_answer().await.unwrap();
    assert!(
        answer.sdp.contains("a=candidate:"),
        "the answer carries our host candidate"
    );
    answerer
        .set_local_description(Some(answer.clone()))
        .await
        .unwrap();
    offerer.set_remote_description(answer).await.unwrap();

    let connected = |s| {
        matches!(
            s,
            RTCPeerConnectionState::Connected | RTCPeerConnectionState::Failed
        )
    };
    assert_eq!(
        within("offerer connects", offerer.wait_for_state(connected)).await,
        RTCPeerConnectionState::Connected
    );
    assert_eq!(
        within("answerer connects", answerer.wait_for_state(connected)).await,
        RTCPeerConnectionState::Connected
    );

    let (channel, remote) = open_chat(&chat, &mut answerer_events, "hello from the offerer").await;
    remote.send(Bytes::from_static(b"and back")).await.unwrap();
    let reply = within("reply", channel.recv()).await.expect("a reply");
    assert_eq!(&reply.data[..], b"and back");

    offerer.close().await;
    answerer.close().await;
    assert_eq!(offerer.connection_state(), RTCPeerConnectionState::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_fingerprint_fails_the_connection() {
    let offerer = loopback_peer();
    let answerer = loopback_peer();
    let _chat = offerer
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .unwrap();
    let offer = offerer.create_offer().await.unwrap();
    offerer
        .set_local_description(Some(offer.clone()))
        .await
        .unwrap();
    // A man in the middle swaps the offerer's fingerprint for another certificate's.
    let other = antiphon_dtls::Certificate::generate(&antiphon_dtls::CertificateOptions::default())
        .unwrap();
    let real = offerer
        .certificate()
        .fingerprint(antiphon_dtls::HashAlgorithm::Sha256)
        .hex();
    let fake = other
        .fingerprint(antiphon_dtls::HashAlgorithm::Sha256)
        .hex();
    let mut tampered = offer.clone();
    tampered.sdp = offer.sdp.replace(&real, &fake);
    assert_ne!(tampered.sdp, offer.sdp);
    answerer.set_remote_description(tampered).await.unwrap();
    let answer = answerer.create_answer().await.unwrap();
    answerer
        .set_local_description(Some(answer.clone()))
        .await
        .unwrap();
    offerer.set_remote_description(answer).await.unwrap();
    let done = |s| {
        matches!(
            s,
            RTCPeerConnectionState::Connected | RTCPeerConnectionState::Failed
        )
    };
    assert_eq!(
        within("answerer fails", answerer.wait_for_state(done)).await,
        RTCPeerConnectionState::Failed
    );
    assert_eq!(
        within("offerer fails", offerer.wait_for_state(done)).await,
        RTCPeerConnectionState::Failed
    );
}

fn ufrag(sdp: &str) -> String {
    sdp.lines()
        .find_map(|line| line.strip_prefix("a=ice-ufrag:"))
        .expect("an a=ice-ufrag line")
        .trim()
        .to_owned()
}

/// `restartIce()` on the offerer: the re-offer and its answer carry new credentials on both
/// sides, both ICE agents start over with them, and the data channel opened before the restart
/// carries messages each way after it (same DTLS and SCTP association).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ice_restart_reconnects_with_new_credentials_and_keeps_the_channel() {
    let offerer = loopback_peer();
    let answerer = loopback_peer();
    let mut answerer_events = answerer.subscribe();
    let chat = offerer
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .unwrap();
    let (offer, answer) = negotiate(&offerer, &answerer).await;
    let settled = |s| {
        matches!(
            s,
            RTCPeerConnectionState::Connected | RTCPeerConnectionState::Failed
        )
    };
    assert_eq!(
        within("answerer connects", answerer.wait_for_state(settled)).await,
        RTCPeerConnectionState::Connected
    );
    let (channel, remote) = open_chat(&chat, &mut answerer_events, "before").await;

    offerer.restart_ice().await;
    let reoffer = offerer.create_offer().await.unwrap();
    assert_ne!(ufrag(&reoffer.sdp), ufrag(&offer.sdp), "new offerer ufrag");
    offerer
        .set_local_description(Some(reoffer.clone()))
        .await
        .unwrap();
    answerer.set_remote_description(reoffer).await.unwrap();
    let reanswer = answerer.create_answer().await.unwrap();
    assert_ne!(
        ufrag(&reanswer.sdp),
        ufrag(&answer.sdp),
        "new answerer ufrag"
    );
    answerer
        .set_local_description(Some(reanswer.clone()))
        .await
        .unwrap();
    offerer.set_remote_description(reanswer).await.unwrap();

    // Old pairs are gone on both sides: these only arrive over pairs checked with the new
    // credentials (SCTP retransmits until the new pair is selected).
    channel.send_text("after, from the offerer").await.unwrap();
    let message = within("offerer -> answerer after restart", remote.recv())
        .await
        .unwrap();
    assert_eq!(message.data, Bytes::from_static(b"after, from the offerer"));
    remote.send_text("after, from the answerer").await.unwrap();
    let message = within("answerer -> offerer after restart", channel.recv())
        .await
        .unwrap();
    assert_eq!(
        message.data,
        Bytes::from_static(b"after, from the answerer")
    );
    assert_eq!(
        offerer.connection_state(),
        RTCPeerConnectionState::Connected
    );
    assert_eq!(
        answerer.connection_state(),
        RTCPeerConnectionState::Connected
    );
    offerer.close().await;
    answerer.close().await;
}

/// `createDataChannel` in the W3C order: the channel is created before any negotiation (which
/// puts a data section in the offer), and opens once signaling is done and SCTP is up.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_data_channel_created_before_negotiation_opens_after_it() {
    let offerer = loopback_peer();
    let answerer = loopback_peer();
    let mut answerer_events = answerer.subscribe();
    let pending = offerer
        .create_data_channel("early", RTCDataChannelInit::default())
        .await
        .expect("createDataChannel before negotiation");
    assert_eq!(
        pending.ready_state(),
        antiphon_peer::RTCDataChannelState::Connecting,
        "created before negotiation, it waits"
    );
    assert_eq!(
        pending.id(),
        None,
        "no stream before the DTLS role is known"
    );
    let (offer, _) = negotiate(&offerer, &answerer).await;
    assert!(
        offer.sdp.contains("m=application "),
        "the offer carries a data section: {}",
        offer.sdp
    );
    within("the early channel opens", pending.opened())
        .await
        .expect("open");
    let channel = pending;
    assert_eq!(
        channel.id(),
        Some(1),
        "the offerer is the DTLS server: odd ids"
    );
    assert_eq!(channel.label(), "early");
    channel.send_text("created early").await.unwrap();
    let remote = within("ondatachannel", answerer_events.next_data_channel())
        .await
        .expect("the remote channel");
    assert_eq!(remote.label(), "early");
    let message = within("message", remote.recv()).await.expect("a message");
    assert_eq!(&message.data[..], b"created early");
    offerer.close().await;
    answerer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn create_data_channel_checks_its_arguments_and_the_connection_state() {
    let pc = loopback_peer();
    let both = RTCDataChannelInit::default()
        .with_max_retransmits(Some(1))
        .with_max_packet_life_time(Some(100));
    let error = pc
        .create_data_channel("x", both)
        .await
        .expect_err("exclusive");
    assert_eq!(error.name(), "TypeError");
    let negotiated = RTCDataChannelInit::default().with_negotiated(true);
    let error = pc
        .create_data_channel("x", negotiated)
        .await
        .expect_err("negotiated without id");
    assert_eq!(error.name(), "TypeError");
    // A channel closed while it waits never opens.
    let abandoned = pc
        .create_data_channel("abandoned", RTCDataChannelInit::default())
        .await
        .unwrap();
    abandoned.close().await.unwrap();
    assert_eq!(
        abandoned.ready_state(),
        antiphon_peer::RTCDataChannelState::Closed
    );
    assert!(abandoned.opened().await.is_err());
    // A channel waiting for a connection that closes never opens, and says why.
    let pending = pc
        .create_data_channel("never", RTCDataChannelInit::default())
        .await
        .unwrap();
    pc.close().await;
    let error = within("the pending channel gives up", pending.opened())
        .await
        .expect_err("closed before connecting");
    assert_eq!(error.name(), "InvalidStateError");
    let error = pc
        .create_data_channel("late", RTCDataChannelInit::default())
        .await
        .expect_err("closed");
    assert_eq!(error.name(), "InvalidStateError");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_waiting_recv_ends_when_either_connection_closes() {
    let offerer = loopback_peer();
    let answerer = loopback_peer();
    let mut answerer_events = answerer.subscribe();
    let chat = offerer
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .unwrap();
    negotiate(&offerer, &answerer).await;
    let (channel, remote) = open_chat(&chat, &mut answerer_events, "hello").await;
    let waiting_here = tokio::spawn(async move { channel.recv().await });
    let waiting_there = tokio::spawn(async move { remote.recv().await });
    tokio::time::sleep(Duration::from_millis(50)).await;
    // The answerer closes: its own reader ends, and so does the offerer's (the remote side
    // went away).
    answerer.close().await;
    let there = within("the closing side's recv", waiting_there)
        .await
        .unwrap();
    assert_eq!(there, None);
    let here = within("the other side's recv", waiting_here).await.unwrap();
    assert_eq!(here, None);
    offerer.close().await;
}

/// Issue 15 (8): messages up to max-message-size flow without stalls. Twenty round trips of
/// 256 KiB (the largest message our default a=max-message-size allows) over loopback UDP,
/// through ICE, DTLS and SCTP, each bounded by a generous 5 s. Every send over 128 KiB used to
/// wait, forever, for the peer to send something (webrtc-sctp's send queue; see
/// third_party/webrtc-sctp/ANTIPHON.md).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_messages_round_trip_without_stalls() {
    let offerer = loopback_peer();
    let answerer = loopback_peer();
    let mut answerer_events = answerer.subscribe();
    let chat = offerer
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .unwrap();
    negotiate(&offerer, &answerer).await;
    let (channel, remote) = open_chat(&chat, &mut answerer_events, "hello").await;
    let echo = tokio::spawn(async move {
        while let Some(message) = remote.recv().await {
            if remote.send(message.data).await.is_err() {
                break;
            }
        }
    });
    let payload: Bytes = (0..262_144u32).map(|i| (i * 7 + 3) as u8).collect();
    let mut times = Vec::new();
    for round in 0..20 {
        let started = std::time::Instant::now();
        let reply = tokio::time::timeout(Duration::from_secs(5), async {
            channel.send(payload.clone()).await.unwrap();
            channel.recv().await
        })
        .await
        .unwrap_or_else(|_| panic!("round trip {round} stalled"))
        .expect("an echo");
        assert_eq!(reply.data, payload, "round trip {round}");
        times.push(started.elapsed());
    }
    times.sort();
    #[expect(
        clippy::print_stderr,
        reason = "the timings, for a reader of the test output"
    )]
    {
        eprintln!(
            "256 KiB round trips: median {:?}, max {:?}",
            times[10], times[19]
        );
    }
    offerer.close().await;
    answerer.close().await;
    echo.abort();
}
