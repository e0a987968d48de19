//! W3C operation semantics of `RTCPeerConnection` over loopback: a refused description changes
//! nothing (and the right one still connects afterwards), and an ICE restart offer restarts the
//! agent only once it is applied; transceiver direction changes and stops renegotiate.

mod common;

use std::net::IpAddr;

use antiphon_codec::{Direction, MediaKind};
use antiphon_ice::IceGatheringState;
use antiphon_peer::{
    Error, PeerConnectionEvent, PeerConnectionEvents, PeerOptions, RTCConfiguration,
    RTCDataChannel, RTCDataChannelInit, RTCPeerConnection, RTCPeerConnectionState,
    RTCRtpTransceiverInit, RTCSessionDescriptionInit, RTCSignalingState,
};
use common::loopback::{loopback_peer as peer, negotiate, offer_and_answer, settled, within};

fn peer_on(ip: [u8; 4]) -> RTCPeerConnection {
    let options = PeerOptions::default().with_bind(vec![IpAddr::from(ip)]);
    RTCPeerConnection::with_options(RTCConfiguration::default(), options).expect("a connection")
}

fn ufrag(description: &RTCSessionDescriptionInit) -> &str {
    description
        .sdp
        .lines()
        .find_map(|l| l.strip_prefix("a=ice-ufrag:"))
        .expect("an a=ice-ufrag line")
}

/// A message each way on a new channel `from` creates (or on `early`, created before
/// negotiation, which must be the one labelled `label`).
async fn exchange(
    from: &RTCPeerConnection,
    to: &mut PeerConnectionEvents,
    label: &str,
    early: Option<RTCDataChannel>,
) {
    let channel = match early {
        Some(channel) => channel,
        None => from
            .create_data_channel(label, RTCDataChannelInit::default())
            .await
            .expect("a channel"),
    };
    assert_eq!(channel.label(), label);
    within("open", channel.opened()).await.expect("opens");
    channel.send_text("ping").await.expect("sent");
    let remote = within("ondatachannel", to.next_data_channel())
        .await
        .expect("the remote channel");
    assert_eq!(remote.label(), label);
    let message = within("ping", remote.recv()).await.expect("a message");
    assert_eq!(&message.data[..], b"ping");
    remote.send_text("pong").await.expect("sent");
    let reply = within("pong", channel.recv()).await.expect("a reply");
    assert_eq!(&reply.data[..], b"pong");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_remote_offer_refused_for_want_of_sockets_changes_nothing() {
    let offerer = peer();
    let _chat = offerer
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .expect("a data channel");
    let offer = offerer.create_offer().await.expect("an offer");
    // 192.0.2.1 (TEST-NET-1) is no address of this machine: binding it fails, after the
    // negotiator has taken the offer.
    let answerer = peer_on([192, 0, 2, 1]);
    let error = answerer
        .set_remote_description(offer)
        .await
        .expect_err("no socket, no transport");
    assert!(matches!(error, Error::Operation(_)), "{error:?}");
    assert_eq!(answerer.signaling_state().await, RTCSignalingState::Stable);
    assert!(answerer.remote_description().await.is_none());
    assert_eq!(answerer.ice_gathering_state().await, IceGatheringState::New);
    assert!(
        answerer.create_answer().await.is_err(),
        "nothing to answer: the offer is gone"
    );
    offerer.close().await;
    answerer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_answer_with_no_usable_fingerprint_changes_nothing_and_the_right_one_connects() {
    let offerer = peer();
    let answerer = peer();
    let mut answerer_events = answerer.subscribe();
    let early = offerer
        .create_data_channel("after-refusal", RTCDataChannelInit::default())
        .await
        .expect("a data channel");
    let (_, answer) = offer_and_answer(&offerer, &answerer).await;
    // A hash function nobody knows: the line parses, but no fingerprint can be checked.
    let unusable = RTCSessionDescriptionInit::answer(
        answer
            .sdp
            .replace("a=fingerprint:sha-256 ", "a=fingerprint:sha-257 "),
    );
    assert_ne!(unusable.sdp, answer.sdp);
    let error = offerer
        .set_remote_description(unusable)
        .await
        .expect_err("refused");
    assert!(matches!(error, Error::InvalidAccess(_)), "{error:?}");
    assert_eq!(
        offerer.signaling_state().await,
        RTCSignalingState::HaveLocalOffer
    );
    assert!(offerer.remote_description().await.is_none());
    assert_eq!(offerer.connection_state(), RTCPeerConnectionState::New);

    offerer
        .set_remote_description(answer)
        .await
        .expect("the real answer applies");
    assert_eq!(
        within("connects", offerer.wait_for_state(settled)).await,
        RTCPeerConnectionState::Connected
    );
    exchange(&offerer, &mut answerer_events, "after-refusal", Some(early)).await;
    offerer.close().await;
    answerer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_restart_offer_restarts_the_agent_only_once_applied() {
    let a = peer();
    let b = peer();
    let (mut a_events, mut b_events) = (a.subscribe(), b.subscribe());
    let early = a
        .create_data_channel("before", RTCDataChannelInit::default())
        .await
        .expect("a data channel");
    let (first_offer, _) = negotiate(&a, &b).await;
    for pc in [&a, &b] {
        assert_eq!(
            within("connects", pc.wait_for_state(settled)).await,
            RTCPeerConnectionState::Connected
        );
    }
    exchange(&a, &mut b_events, "before", Some(early)).await;

    a.restart_ice().await;
    let restart = a.create_offer().await.expect("a restart offer");
    assert_ne!(ufrag(&restart), ufrag(&first_offer), "new credentials");
    // The restart offer is dropped; b renegotiates instead. a's answer keeps a's credentials:
    // its agent was not restarted by an offer nobody applied.
    let (_, answer) = negotiate(&b, &a).await;
    assert_eq!(ufrag(&answer), ufrag(&first_offer));
    exchange(&b, &mut a_events, "renegotiated", None).await;

    // The restart is still pending: the next offer carries the same new credentials, and once
    // applied on both sides the connection goes on over the restarted agents.
    let (again, _) = negotiate(&a, &b).await;
    assert_eq!(ufrag(&again), ufrag(&restart));
    exchange(&a, &mut b_events, "restarted", None).await;
    assert_eq!(a.connection_state(), RTCPeerConnectionState::Connected);
    let (after, _) = negotiate(&a, &b).await;
    assert_eq!(
        ufrag(&after),
        ufrag(&restart),
        "the restart is done: no further new credentials"
    );
    a.close().await;
    b.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_direction_change_and_a_stop_ask_for_negotiation_and_reach_the_next_offer() {
    let a = peer();
    let b = peer();
    let audio = a
        .add_transceiver(MediaKind::Audio, RTCRtpTransceiverInit::default())
        .await
        .expect("audio");
    let video = a
        .add_transceiver(MediaKind::Video, RTCRtpTransceiverInit::default())
        .await
        .expect("video");
    negotiate(&a, &b).await;
    let mut events = a.subscribe();
    a.set_direction(audio, Direction::RecvOnly)
        .await
        .expect("a direction");
    let needed = within("negotiationneeded", async {
        // State changes of the connection coming up may come first.
        while let Some(event) = events.recv().await {
            if matches!(event, PeerConnectionEvent::NegotiationNeeded) {
                return true;
            }
        }
        false
    })
    .await;
    assert!(needed);
    a.stop_transceiver(video).await.expect("stopped");
    let mut b_events = b.subscribe();
    let (offer, _) = negotiate(&a, &b).await;
    // The exchange carried every change: neither side asks for another one.
    for events in [&mut events, &mut b_events] {
        while let Some(event) = events.try_recv() {
            assert!(
                !matches!(event, PeerConnectionEvent::NegotiationNeeded),
                "negotiation needed again after the exchange"
            );
        }
    }
    let sections: Vec<&str> = offer.sdp.split("\r\nm=").skip(1).collect();
    assert!(sections[0].starts_with("audio 9 "), "{}", offer.sdp);
    assert!(sections[0].contains("a=recvonly\r\n"), "{}", offer.sdp);
    assert!(sections[1].starts_with("video 0 "), "{}", offer.sdp);
    let transceivers = a.get_transceivers().await;
    // b's transceiver for it was made by the first offer (recvonly, nothing to send): it
    // answers our recvonly with inactive (JSEP §5.3.1).
    assert_eq!(transceivers[0].direction, Direction::RecvOnly);
    assert_eq!(transceivers[0].current_direction, Some(Direction::Inactive));
    assert!(transceivers[1].stopped);
    assert_eq!(a.signaling_state().await, RTCSignalingState::Stable);
    a.close().await;
    assert!(
        a.set_direction(audio, Direction::SendRecv).await.is_err(),
        "closed"
    );
    b.close().await;
}

/// The `track` events `events` holds now.
fn tracks(events: &mut antiphon_peer::PeerConnectionEvents) -> Vec<antiphon_peer::RTCTrackEvent> {
    std::iter::from_fn(|| events.try_recv())
        .filter_map(|event| match event {
            PeerConnectionEvent::Track(track) => Some(track),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn track_fires_when_the_remote_starts_sending_and_again_after_it_stopped() {
    let (a, b) = (peer(), peer());
    let mut b_events = b.subscribe();
    let audio = a
        .add_track(
            antiphon_peer::MediaStreamTrack {
                id: "mic".to_owned(),
                kind: MediaKind::Audio,
            },
            vec!["stream".to_owned()],
        )
        .await
        .expect("a track");
    a.add_transceiver(
        MediaKind::Video,
        RTCRtpTransceiverInit::default().with_direction(Direction::RecvOnly),
    )
    .await
    .expect("video to receive");
    negotiate(&a, &b).await;
    let fired = tracks(&mut b_events);
    assert_eq!(fired.len(), 1, "audio only: a sends no video: {fired:?}");
    assert_eq!(fired[0].mid, "0");
    assert_eq!(fired[0].kind, MediaKind::Audio);
    assert_eq!(fired[0].track_id.as_deref(), Some("mic"));
    assert_eq!(fired[0].stream_ids, ["stream"]);
    assert!(
        fired[0].transceiver.is_some(),
        "the transceiver the offer made"
    );

    negotiate(&a, &b).await;
    assert!(
        tracks(&mut b_events).is_empty(),
        "still sending: no second event"
    );

    a.set_direction(audio, Direction::Inactive)
        .await
        .expect("stops");
    negotiate(&a, &b).await;
    assert!(tracks(&mut b_events).is_empty());
    a.set_direction(audio, Direction::SendRecv)
        .await
        .expect("sends again");
    negotiate(&a, &b).await;
    assert_eq!(tracks(&mut b_events).len(), 1, "sending again fires again");
}
