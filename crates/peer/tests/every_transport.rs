//! Every transport connects (RFC 8843, RFC 9429 §5): an offer without BUNDLE gets one ICE +
//! DTLS transport per section, each gathering, checking and keyed, with SCTP on the data
//! section's; a `max-compat` offer gives every section a transport of its own, and keeps only
//! the tagged one when the answer bundles. Two Antiphon connections on loopback (run inside
//! the loopback-only namespace).

mod common;

use std::collections::BTreeSet;

use antiphon_codec::MediaKind;
use antiphon_peer::{
    PeerConnectionEvents, RTCBundlePolicy, RTCConfiguration, RTCDataChannelInit,
    RTCIceCandidateInit, RTCPeerConnection, RTCPeerConnectionState, RTCRtpTransceiverInit,
    RTCSessionDescriptionInit,
};
use bytes::Bytes;
use common::loopback::{loopback_peer, loopback_peer_with, settled, within};

/// A `max-compat` connection with an audio and a video transceiver and a data channel.
async fn max_compat_offerer() -> (RTCPeerConnection, antiphon_peer::RTCDataChannel) {
    let offerer = loopback_peer_with(
        RTCConfiguration::default().with_bundle_policy(RTCBundlePolicy::MaxCompat),
    );
    for kind in [MediaKind::Audio, MediaKind::Video] {
        offerer
            .add_transceiver(kind, RTCRtpTransceiverInit::default())
            .await
            .expect("a transceiver");
    }
    let channel = offerer
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .expect("a channel");
    (offerer, channel)
}

/// The values of the `a=<name>:` lines of `sdp`.
fn values<'a>(sdp: &'a str, name: &str) -> Vec<&'a str> {
    let prefix = format!("a={name}:");
    sdp.lines()
        .filter_map(|line| line.strip_prefix(prefix.as_str()))
        .collect()
}

/// The distinct ports of the candidates in `sdp`.
fn candidate_ports(sdp: &str) -> BTreeSet<String> {
    values(sdp, "candidate")
        .iter()
        .filter_map(|c| c.split(' ').nth(5).map(str::to_owned))
        .collect()
}

/// `description` as a peer without BUNDLE support would send it: no `a=group:BUNDLE`.
fn without_bundle(description: &RTCSessionDescriptionInit) -> RTCSessionDescriptionInit {
    RTCSessionDescriptionInit {
        sdp_type: description.sdp_type,
        sdp: description
            .sdp
            .split_inclusive("\r\n")
            .filter(|line| !line.starts_with("a=group:BUNDLE"))
            .collect(),
    }
}

/// `description` without its candidates, and its candidates as trickle messages naming their
/// sections by mid (then end-of-candidates for each).
fn trickled(
    description: &RTCSessionDescriptionInit,
) -> (RTCSessionDescriptionInit, Vec<RTCIceCandidateInit>) {
    let mut stripped = String::new();
    let mut candidates = Vec::new();
    let mut pending: Vec<String> = Vec::new();
    let mut flush = |mid: Option<&str>, pending: &mut Vec<String>| {
        for candidate in pending.drain(..) {
            candidates.push(RTCIceCandidateInit {
                candidate,
                sdp_mid: mid.map(str::to_owned),
                sdp_m_line_index: None,
            });
        }
    };
    let mut mid = None;
    for line in description.sdp.split_inclusive("\r\n") {
        let bare = line.trim_end();
        if bare.starts_with("m=") {
            flush(mid.as_deref(), &mut pending);
            mid = None;
        }
        if let Some(value) = bare.strip_prefix("a=mid:") {
            mid = Some(value.to_owned());
        }
        if let Some(value) = bare.strip_prefix("a=candidate:") {
            pending.push(format!("candidate:{value}"));
        } else if bare == "a=end-of-candidates" {
            pending.push(String::new());
        } else {
            stripped.push_str(line);
        }
    }
    flush(mid.as_deref(), &mut pending);
    let stripped = RTCSessionDescriptionInit {
        sdp_type: description.sdp_type,
        sdp: stripped,
    };
    (stripped, candidates)
}

/// Both connected, and a message each way on the offerer's data channel.
async fn connected_with_data(
    offerer: &RTCPeerConnection,
    answerer: &RTCPeerConnection,
    answerer_events: &mut PeerConnectionEvents,
    channel: &antiphon_peer::RTCDataChannel,
) {
    for pc in [offerer, answerer] {
        assert_eq!(
            within("connected", pc.wait_for_state(settled)).await,
            RTCPeerConnectionState::Connected
        );
    }
    within("open", channel.opened()).await.expect("opens");
    let remote = within("ondatachannel", answerer_events.next_data_channel())
        .await
        .expect("the remote channel");
    channel
        .send(Bytes::from_static(b"over"))
        .await
        .expect("sent");
    let message = within("message", remote.recv()).await.expect("a message");
    assert_eq!(&message.data[..], b"over");
    remote
        .send(Bytes::from_static(b"back"))
        .await
        .expect("sent");
    let reply = within("reply", channel.recv()).await.expect("a reply");
    assert_eq!(&reply.data[..], b"back");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_max_compat_offer_gives_every_section_a_transport_of_its_own() {
    let (offerer, _channel) = max_compat_offerer().await;
    let offer = offerer.create_offer().await.expect("an offer");
    let ufrags: BTreeSet<_> = values(&offer.sdp, "ice-ufrag").into_iter().collect();
    assert_eq!(ufrags.len(), 3, "one ufrag per section:\n{}", offer.sdp);
    assert_eq!(
        candidate_ports(&offer.sdp).len(),
        3,
        "one socket per section:\n{}",
        offer.sdp
    );
    assert_eq!(values(&offer.sdp, "group"), ["BUNDLE 0 1 2"]);
}

/// What the other side receives of a description, and the candidates it then gets trickled.
type InTransit =
    fn(&RTCSessionDescriptionInit) -> (RTCSessionDescriptionInit, Vec<RTCIceCandidateInit>);

fn as_is(
    description: &RTCSessionDescriptionInit,
) -> (RTCSessionDescriptionInit, Vec<RTCIceCandidateInit>) {
    (description.clone(), Vec::new())
}

fn no_bundle(
    description: &RTCSessionDescriptionInit,
) -> (RTCSessionDescriptionInit, Vec<RTCIceCandidateInit>) {
    (without_bundle(description), Vec::new())
}

fn no_bundle_trickled(
    description: &RTCSessionDescriptionInit,
) -> (RTCSessionDescriptionInit, Vec<RTCIceCandidateInit>) {
    trickled(&without_bundle(description))
}

/// A `max-compat` offerer (audio, video, a data channel) and a default answerer after one
/// exchange, each description passed through its `InTransit` on the way, the trickled
/// candidates added after both are applied.
struct Exchanged {
    offerer: RTCPeerConnection,
    answerer: RTCPeerConnection,
    answerer_events: PeerConnectionEvents,
    channel: antiphon_peer::RTCDataChannel,
    /// The answer as the answerer created it.
    answer: RTCSessionDescriptionInit,
    /// The offer's candidates the answerer got trickled.
    offer_candidates: Vec<RTCIceCandidateInit>,
}

async fn exchange(offer_in_transit: InTransit, answer_in_transit: InTransit) -> Exchanged {
    let (offerer, channel) = max_compat_offerer().await;
    let answerer = loopback_peer();
    let answerer_events = answerer.subscribe();
    let offer = offerer.create_offer().await.expect("an offer");
    offerer
        .set_local_description(Some(offer.clone()))
        .await
        .expect("our offer applies");
    let (offer, offer_candidates) = offer_in_transit(&offer);
    answerer
        .set_remote_description(offer)
        .await
        .expect("the offer applies");
    let answer = answerer.create_answer().await.expect("an answer");
    answerer
        .set_local_description(Some(answer.clone()))
        .await
        .expect("the answer applies");
    let (received, answer_candidates) = answer_in_transit(&answer);
    offerer
        .set_remote_description(received)
        .await
        .expect("the answer applies");
    for candidate in offer_candidates.clone() {
        answerer.add_ice_candidate(candidate).await.expect("taken");
    }
    for candidate in answer_candidates {
        offerer.add_ice_candidate(candidate).await.expect("taken");
    }
    Exchanged {
        offerer,
        answerer,
        answerer_events,
        channel,
        answer,
        offer_candidates,
    }
}

impl Exchanged {
    /// Both connected with data both ways, and `count` transports connected on each side.
    async fn connected_over(&mut self, count: usize) {
        connected_with_data(
            &self.offerer,
            &self.answerer,
            &mut self.answerer_events,
            &self.channel,
        )
        .await;
        for pc in [&self.offerer, &self.answerer] {
            every_transport_connected(pc, count).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_without_bundle_connects_every_transport() {
    let mut exchanged = exchange(no_bundle, as_is).await;
    let answer = &exchanged.answer.sdp;
    assert!(values(answer, "group").is_empty(), "{answer}");
    let ufrags: BTreeSet<_> = values(answer, "ice-ufrag").into_iter().collect();
    assert_eq!(ufrags.len(), 3, "a transport per section:\n{answer}");
    assert_eq!(
        candidate_ports(answer).len(),
        3,
        "one socket per transport:\n{answer}"
    );
    exchanged.connected_over(3).await;
}

/// `pc` reports `count` transports, each with ICE connected over a pair of its own and DTLS
/// connected.
async fn every_transport_connected(pc: &RTCPeerConnection, count: usize) {
    let report = pc.get_stats().await;
    let transports: Vec<_> = report.transports().collect();
    assert_eq!(transports.len(), count, "{transports:?}");
    let mut pairs = BTreeSet::new();
    for transport in transports {
        assert_eq!(transport.dtls_state, "connected", "{transport:?}");
        assert!(
            matches!(transport.ice_state, "connected" | "completed"),
            "{transport:?}"
        );
        let pair = transport
            .selected_candidate_pair_id
            .clone()
            .expect("a selected pair");
        assert!(pairs.insert(pair), "each transport has its own pair");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn trickled_candidates_reach_the_transport_of_their_section() {
    let mut exchanged = exchange(no_bundle_trickled, trickled).await;
    let mids: BTreeSet<_> = exchanged
        .offer_candidates
        .iter()
        .filter_map(|c| c.sdp_mid.clone())
        .collect();
    assert_eq!(mids.len(), 3, "candidates in every section");
    exchanged.connected_over(3).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bundled_answer_to_a_max_compat_offer_keeps_the_tagged_transport() {
    let mut exchanged = exchange(as_is, as_is).await;
    assert_eq!(values(&exchanged.answer.sdp, "group"), ["BUNDLE 0 1 2"]);
    exchanged.connected_over(1).await;
    // A later offer describes the one transport left in every section.
    let again = exchanged.offerer.create_offer().await.expect("a new offer");
    let ufrags: BTreeSet<_> = values(&again.sdp, "ice-ufrag").into_iter().collect();
    assert_eq!(ufrags.len(), 1, "{}", again.sdp);
}

/// An offer of `count` audio sections outside any BUNDLE group.
fn unbundled_offer(count: usize) -> RTCSessionDescriptionInit {
    let fingerprint = ["AB"; 32].join(":");
    let mut sdp = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n".to_owned();
    for mid in 0..count {
        sdp.push_str(&format!(
            "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\na=mid:{mid}\r\n\
             a=ice-ufrag:ufr{mid}\r\na=ice-pwd:abcdefghijklmnopqrstuvwx\r\n\
             a=fingerprint:sha-256 {fingerprint}\r\na=setup:actpass\r\na=rtcp-mux\r\n\
             a=sendrecv\r\na=rtpmap:111 opus/48000/2\r\n"
        ));
    }
    RTCSessionDescriptionInit::offer(sdp)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_offer_needing_more_transports_than_allowed_is_refused_before_any_is_bound() {
    // `max-compat` answers every section on its own transport (`balanced` would answer one
    // audio section only, RFC 9429 §4.1.1).
    let answerer = loopback_peer_with(
        RTCConfiguration::default().with_bundle_policy(RTCBundlePolicy::MaxCompat),
    );
    let refused = answerer
        .set_remote_description(unbundled_offer(17))
        .await
        .expect_err("17 transports are over the default limit of 16");
    assert!(
        matches!(
            refused,
            antiphon_peer::Error::Operation(antiphon_peer::OperationReason::TooManyTransports {
                needed: 17,
                limit: 16
            })
        ),
        "{refused:?}"
    );
    assert_eq!(
        answerer.signaling_state().await,
        antiphon_peer::RTCSignalingState::Stable
    );
    assert_eq!(
        answerer.ice_gathering_state().await,
        antiphon_ice::IceGatheringState::New,
        "no socket was bound"
    );
    answerer
        .set_remote_description(unbundled_offer(16))
        .await
        .expect("16 are allowed");
    let answer = answerer.create_answer().await.expect("an answer");
    let ufrags: BTreeSet<_> = values(&answer.sdp, "ice-ufrag").into_iter().collect();
    assert_eq!(ufrags.len(), 16, "{}", answer.sdp);
    assert_eq!(candidate_ports(&answer.sdp).len(), 16, "{}", answer.sdp);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sections_the_answer_rejects_bind_no_transport() {
    // `balanced` answers one audio section of the three offered outside BUNDLE.
    let answerer = loopback_peer();
    answerer
        .set_remote_description(unbundled_offer(3))
        .await
        .expect("the offer applies");
    let report = answerer.get_stats().await;
    assert_eq!(report.transports().count(), 1);
    let answer = answerer.create_answer().await.expect("an answer");
    assert_eq!(
        answer.sdp.matches("m=audio 0 ").count(),
        2,
        "{}",
        answer.sdp
    );
    assert_eq!(candidate_ports(&answer.sdp).len(), 1, "{}", answer.sdp);
}
