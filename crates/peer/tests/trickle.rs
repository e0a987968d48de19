//! Trickle ICE (RFC 8838) between two Antiphon connections on loopback: descriptions are
//! created at once with the candidates found so far, later ones arrive as `icecandidate`
//! events, and `addIceCandidate` takes the peer's, end-of-candidates included.

mod common;

use std::net::SocketAddr;

use antiphon_ice::IceGatheringState;
use antiphon_peer::{
    PeerConnectionEvent, PeerConnectionEvents, RTCConfiguration, RTCIceCandidateInit, RTCIceServer,
    RTCPeerConnection, RTCPeerConnectionState, RTCSessionDescriptionInit,
};
use common::loopback::{
    loopback_peer_with as peer, offer_and_answer, settled as connected, within,
};
use tokio::net::UdpSocket;

/// The description without its candidates, as a peer that trickles sends it before gathering.
fn without_candidates(description: &RTCSessionDescriptionInit) -> RTCSessionDescriptionInit {
    let sdp: String = description
        .sdp
        .split_inclusive("\r\n")
        .filter(|line| {
            !line.starts_with("a=candidate:") && !line.starts_with("a=end-of-candidates")
        })
        .collect();
    RTCSessionDescriptionInit {
        sdp_type: description.sdp_type,
        sdp,
    }
}

/// The candidates of `from`'s local description as trickle messages, then end-of-candidates.
async fn candidates_of(from: &RTCPeerConnection) -> Vec<RTCIceCandidateInit> {
    let local = from.local_description().await.expect("a local description");
    let mut mid = None;
    let index = 0u16;
    let mut found = Vec::new();
    for line in local.sdp.lines() {
        if line.starts_with("m=") && mid.is_some() {
            break;
        }
        if let Some(value) = line.strip_prefix("a=mid:") {
            mid = Some(value.to_owned());
        }
        if let Some(value) = line.strip_prefix("a=")
            && value.starts_with("candidate:")
        {
            found.push(value.to_owned());
        }
    }
    let mut messages: Vec<RTCIceCandidateInit> = found
        .into_iter()
        .map(|candidate| RTCIceCandidateInit {
            candidate,
            sdp_mid: mid.clone(),
            sdp_m_line_index: Some(index),
        })
        .collect();
    messages.push(RTCIceCandidateInit {
        candidate: String::new(),
        sdp_mid: mid,
        sdp_m_line_index: Some(index),
    });
    messages
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn descriptions_without_candidates_connect_through_trickled_candidates() {
    let offerer = peer(RTCConfiguration::default());
    let answerer = peer(RTCConfiguration::default());
    let mut answerer_events = answerer.subscribe();
    let chat = offerer
        .create_data_channel("chat", antiphon_peer::RTCDataChannelInit::default())
        .await
        .expect("a data channel");
    let offer = offerer.create_offer().await.expect("an offer");
    offerer
        .set_local_description(Some(offer.clone()))
        .await
        .expect("the offer applies");
    answerer
        .set_remote_description(without_candidates(&offer))
        .await
        .expect("a candidate-less offer applies");
    let answer = answerer.create_answer().await.expect("an answer");
    answerer
        .set_local_description(Some(answer.clone()))
        .await
        .expect("the answer applies");
    offerer
        .set_remote_description(without_candidates(&answer))
        .await
        .expect("a candidate-less answer applies");
    // Neither side knows an address of the other until the candidates are trickled: the
    // connection comes up only if addIceCandidate works both ways.
    for candidate in candidates_of(&offerer).await {
        answerer.add_ice_candidate(candidate).await.expect("taken");
    }
    for candidate in candidates_of(&answerer).await {
        offerer.add_ice_candidate(candidate).await.expect("taken");
    }
    assert_eq!(
        within("offerer connects", offerer.wait_for_state(connected)).await,
        RTCPeerConnectionState::Connected
    );
    assert_eq!(
        within("answerer connects", answerer.wait_for_state(connected)).await,
        RTCPeerConnectionState::Connected
    );
    let channel = within("open", async { chat.opened().await.map(|()| chat.clone()) })
        .await
        .expect("a channel");
    channel.send_text("trickled").await.expect("sent");
    let remote = within("ondatachannel", answerer_events.next_data_channel())
        .await
        .expect("the remote channel");
    let message = within("message", remote.recv()).await.expect("a message");
    assert_eq!(&message.data[..], b"trickled");
    offerer.close().await;
    answerer.close().await;
}

/// A UDP socket that takes STUN requests and never answers them.
async fn silent_stun_server() -> (UdpSocket, SocketAddr) {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let address = socket.local_addr().expect("address");
    (socket, address)
}

/// The next `icecandidate` event.
async fn next_candidate(events: &mut PeerConnectionEvents) -> Option<RTCIceCandidateInit> {
    loop {
        match events.recv().await {
            Some(PeerConnectionEvent::IceCandidate(candidate)) => return candidate,
            Some(_) => {}
            None => panic!("events ended"),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stun_server_that_never_answers_holds_up_nothing() {
    let (_silent, server) = silent_stun_server().await;
    let configuration = RTCConfiguration::default().with_ice_servers(vec![RTCIceServer {
        urls: vec![format!("stun:{server}")],
        ..RTCIceServer::default()
    }]);
    let offerer = peer(RTCConfiguration::default());
    let answerer = peer(configuration);
    let mut answerer_events = answerer.subscribe();
    let _chat = offerer
        .create_data_channel("chat", antiphon_peer::RTCDataChannelInit::default())
        .await
        .expect("a data channel");
    let (_, answer) = offer_and_answer(&offerer, &answerer).await;
    // The STUN transaction takes seconds to time out; the answer did not wait for it.
    assert_eq!(
        answerer.ice_gathering_state().await,
        IceGatheringState::Gathering
    );
    assert!(answer.sdp.contains(" typ host"), "{}", answer.sdp);
    assert!(
        !answer.sdp.contains("a=end-of-candidates"),
        "{}",
        answer.sdp
    );
    offerer
        .set_remote_description(answer)
        .await
        .expect("the answer applies");
    assert_eq!(
        within("answerer connects", answerer.wait_for_state(connected)).await,
        RTCPeerConnectionState::Connected
    );
    // Gathering ends when the request times out: end-of-candidates, and nothing else.
    assert_eq!(
        within("end-of-candidates", next_candidate(&mut answerer_events)).await,
        None
    );
    assert_eq!(
        answerer.ice_gathering_state().await,
        IceGatheringState::Complete
    );
    let local = answerer.local_description().await.expect("a description");
    assert!(
        local.sdp.contains("a=end-of-candidates\r\n"),
        "{}",
        local.sdp
    );
    assert!(!local.sdp.contains(" typ srflx"), "{}", local.sdp);
    offerer.close().await;
    answerer.close().await;
}
