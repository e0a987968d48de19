//! Connections on loopback, for the tests that open sockets (run inside the loopback-only
//! namespace): a connection bound to 127.0.0.1, a complete offer/answer, a bounded wait.

use std::net::IpAddr;
use std::time::Duration;

use antiphon_peer::{
    PeerOptions, RTCConfiguration, RTCPeerConnection, RTCPeerConnectionState,
    RTCSessionDescriptionInit,
};

/// A connection with `configuration`, gathering on 127.0.0.1 only.
pub fn loopback_peer_with(configuration: RTCConfiguration) -> RTCPeerConnection {
    let options = PeerOptions::default().with_bind(vec![IpAddr::from([127, 0, 0, 1])]);
    RTCPeerConnection::with_options(configuration, options).expect("a connection")
}

/// A connection with the default configuration, gathering on 127.0.0.1 only.
pub fn loopback_peer() -> RTCPeerConnection {
    loopback_peer_with(RTCConfiguration::default())
}

/// `future`, or a panic naming `what` after 20 s.
pub async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(Duration::from_secs(20), future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out: {what}"),
    }
}

/// Connected or failed: where [`RTCPeerConnection::wait_for_state`] stops.
pub fn settled(state: RTCPeerConnectionState) -> bool {
    matches!(
        state,
        RTCPeerConnectionState::Connected | RTCPeerConnectionState::Failed
    )
}

/// `offerer` offers and applies it, `answerer` takes it, answers and applies its answer; the
/// offer and the answer, which the offerer has not seen yet.
pub async fn offer_and_answer(
    offerer: &RTCPeerConnection,
    answerer: &RTCPeerConnection,
) -> (RTCSessionDescriptionInit, RTCSessionDescriptionInit) {
    offer_and_answer_edited(offerer, answerer, str::to_owned).await
}

/// [`offer_and_answer`], the answerer taking the offer as `edit` rewrites its text (what a
/// signaling path or a peer that leaves things out would deliver); the offer as made.
pub async fn offer_and_answer_edited(
    offerer: &RTCPeerConnection,
    answerer: &RTCPeerConnection,
    edit: impl Fn(&str) -> String,
) -> (RTCSessionDescriptionInit, RTCSessionDescriptionInit) {
    let offer = offerer.create_offer().await.expect("an offer");
    offerer
        .set_local_description(Some(offer.clone()))
        .await
        .expect("our offer applies");
    answerer
        .set_remote_description(RTCSessionDescriptionInit::offer(edit(&offer.sdp)))
        .await
        .expect("the offer applies");
    let answer = answerer.create_answer().await.expect("an answer");
    answerer
        .set_local_description(Some(answer.clone()))
        .await
        .expect("our answer applies");
    (offer, answer)
}

/// `offerer` offers, `answerer` answers, both applied; the offer and the answer.
pub async fn negotiate(
    offerer: &RTCPeerConnection,
    answerer: &RTCPeerConnection,
) -> (RTCSessionDescriptionInit, RTCSessionDescriptionInit) {
    let (offer, answer) = offer_and_answer(offerer, answerer).await;
    offerer
        .set_remote_description(answer.clone())
        .await
        .expect("the answer applies");
    (offer, answer)
}

/// [`negotiate`], then both sides connected.
pub async fn connect(
    offerer: &RTCPeerConnection,
    answerer: &RTCPeerConnection,
) -> (RTCSessionDescriptionInit, RTCSessionDescriptionInit) {
    let descriptions = negotiate(offerer, answerer).await;
    for pc in [offerer, answerer] {
        assert_eq!(
            within("connected", pc.wait_for_state(settled)).await,
            RTCPeerConnectionState::Connected
        );
    }
    descriptions
}
