//! The W3C "perfect negotiation" pattern between two Antiphon connections on loopback: each
//! side offers when `negotiationneeded` fires, trickles its candidates, and on glare the polite
//! side rolls back (implicitly, by applying the remote offer) while the impolite side ignores
//! the colliding offer. Both sides change things at once; afterwards both are `stable`, need no
//! further negotiation, carry every section both sides added, and are connected.

mod common;

use std::sync::Arc;
use std::time::Duration;

use antiphon_codec::MediaKind;
use antiphon_peer::{
    PeerConnectionEvent, PeerConnectionEvents, RTCDataChannelInit, RTCIceCandidateInit,
    RTCPeerConnection, RTCPeerConnectionState, RTCRtpTransceiverInit, RTCSdpType,
    RTCSessionDescriptionInit, RTCSignalingState,
};
use common::loopback::loopback_peer;

fn peer() -> Arc<RTCPeerConnection> {
    Arc::new(loopback_peer())
}
use tokio::sync::mpsc;

#[derive(Debug)]
enum Signal {
    Description(RTCSessionDescriptionInit),
    Candidate(RTCIceCandidateInit),
}

/// What one side's loop saw, for the test to check.
#[derive(Debug, Default)]
struct Seen {
    offers_sent: usize,
    offers_ignored: usize,
    rolled_back: usize,
}

/// The perfect negotiation loop of webrtc-pc §10.7, until `stop` receives.
async fn negotiate(
    pc: Arc<RTCPeerConnection>,
    polite: bool,
    mut events: PeerConnectionEvents,
    mut inbox: mpsc::UnboundedReceiver<Signal>,
    outbox: mpsc::UnboundedSender<Signal>,
    mut stop: tokio::sync::oneshot::Receiver<()>,
) -> Seen {
    let mut seen = Seen::default();
    let mut ignore_offer = false;
    loop {
        tokio::select! {
            // Events first: a queued `negotiationneeded` is acted on before any description
            // that arrived meanwhile, as a browser's task queue would.
            biased;
            _ = &mut stop => return seen,
            event = events.recv() => match event {
                Some(PeerConnectionEvent::NegotiationNeeded) => {
                    // `makingOffer` spans this arm: no remote description is handled meanwhile.
                    pc.set_local_description(None).await.expect("an offer");
                    let local = pc.local_description().await.expect("a local description");
                    if local.sdp_type == RTCSdpType::Offer {
                        seen.offers_sent += 1;
                    }
                    let _ = outbox.send(Signal::Description(local));
                }
                Some(PeerConnectionEvent::IceCandidate(Some(candidate))) => {
                    let _ = outbox.send(Signal::Candidate(candidate));
                }
                Some(_) => {}
                None => return seen,
            },
            signal = inbox.recv() => match signal {
                Some(Signal::Description(description)) => {
                    let collision = description.sdp_type == RTCSdpType::Offer
                        && pc.signaling_state().await != RTCSignalingState::Stable;
                    ignore_offer = !polite && collision;
                    if ignore_offer {
                        seen.offers_ignored += 1;
                        continue;
                    }
                    if collision {
                        seen.rolled_back += 1;
                    }
                    let offer = description.sdp_type == RTCSdpType::Offer;
                    pc.set_remote_description(description).await.expect("applies");
                    if offer {
                        pc.set_local_description(None).await.expect("an answer");
                        let answer = pc.local_description().await.expect("the answer");
                        let _ = outbox.send(Signal::Description(answer));
                    }
                }
                Some(Signal::Candidate(candidate)) => {
                    if let Err(error) = pc.add_ice_candidate(candidate).await
                        && !ignore_offer
                    {
                        panic!("a candidate refused: {error:?}");
                    }
                }
                None => return seen,
            },
        }
    }
}

fn sections(sdp: &str) -> Vec<&str> {
    let mut kinds: Vec<&str> = sdp
        .lines()
        .filter_map(|l| l.strip_prefix("m="))
        .filter(|m| m.split(' ').nth(1).is_none_or(|port| port != "0"))
        .filter_map(|m| m.split(' ').next())
        .collect();
    kinds.sort_unstable();
    kinds
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn glare_resolves_and_both_sides_end_stable_connected_and_complete() {
    let (polite, impolite) = (peer(), peer());
    let (to_polite, polite_inbox) = mpsc::unbounded_channel();
    let (to_impolite, impolite_inbox) = mpsc::unbounded_channel();
    let (stop_polite, polite_stop) = tokio::sync::oneshot::channel();
    let (stop_impolite, impolite_stop) = tokio::sync::oneshot::channel();
    let (polite_events, impolite_events) = (polite.subscribe(), impolite.subscribe());
    let mut impolite_channels = impolite.subscribe();
    // Both sides change something at the same moment, before either loop runs: each loop
    // first offers, so the offers collide.
    let (a, b) = tokio::join!(
        async {
            // Opens once the exchanges settle.
            let chat = polite
                .create_data_channel("after-glare", RTCDataChannelInit::default())
                .await
                .expect("a data channel");
            polite
                .add_transceiver(MediaKind::Audio, RTCRtpTransceiverInit::default())
                .await
                .expect("audio");
            chat
        },
        impolite.add_transceiver(MediaKind::Video, RTCRtpTransceiverInit::default()),
    );
    let (chat, _) = (a, b.expect("video"));
    let polite_loop = tokio::spawn(negotiate(
        Arc::clone(&polite),
        true,
        polite_events,
        polite_inbox,
        to_impolite,
        polite_stop,
    ));
    let impolite_loop = tokio::spawn(negotiate(
        Arc::clone(&impolite),
        false,
        impolite_events,
        impolite_inbox,
        to_polite,
        impolite_stop,
    ));

    let settled = async {
        loop {
            let mut done = true;
            for pc in [&polite, &impolite] {
                let local = pc.current_local_description().await;
                done &= pc.signaling_state().await == RTCSignalingState::Stable
                    && pc.connection_state() == RTCPeerConnectionState::Connected
                    && local.is_some_and(|l| sections(&l.sdp) == ["application", "audio", "video"]);
            }
            if done {
                return;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    };
    tokio::time::timeout(Duration::from_secs(20), settled)
        .await
        .expect("both sides settle: stable, connected, audio + video + data negotiated");

    let channel = tokio::time::timeout(Duration::from_secs(20), async {
        chat.opened().await.map(|()| chat.clone())
    })
    .await
    .expect("opens in time")
    .expect("a channel");
    channel.send_text("settled").await.expect("sent");
    let remote = tokio::time::timeout(
        Duration::from_secs(20),
        impolite_channels.next_data_channel(),
    )
    .await
    .expect("in time")
    .expect("the remote channel");
    let message = remote.recv().await.expect("a message");
    assert_eq!(&message.data[..], b"settled");

    let _ = (stop_polite.send(()), stop_impolite.send(()));
    let polite_seen = polite_loop.await.expect("polite loop");
    let impolite_seen = impolite_loop.await.expect("impolite loop");
    // The offers collided: the polite side rolled back and answered, the impolite one ignored
    // the polite offer, and the polite side offered its own changes again afterwards.
    assert_eq!(polite_seen.rolled_back, 1, "{polite_seen:?}");
    assert_eq!(impolite_seen.offers_ignored, 1, "{impolite_seen:?}");
    assert!(polite_seen.offers_sent >= 2, "{polite_seen:?}");
    polite.close().await;
    impolite.close().await;
}
