//! Interop with another peer connection: webrtc-rs (`webrtc` 0.17) over loopback UDP, in both
//! offer/answer roles. Each test proves the whole stack end to end against an independent
//! implementation: SDP both ways (non-trickle, candidates in the descriptions), ICE, DTLS with
//! fingerprints checked by both sides, SCTP, DCEP, and a text message each way.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use antiphon_peer::{
    PeerOptions, RTCConfiguration, RTCDataChannelInit, RTCPeerConnection, RTCPeerConnectionState,
    RTCSdpType, RTCSessionDescriptionInit,
};
use tokio::sync::{mpsc, watch};
use webrtc::api::APIBuilder;
use webrtc::api::interceptor_registry::register_default_interceptors;
use webrtc::api::media_engine::MediaEngine;
use webrtc::api::setting_engine::SettingEngine;
use webrtc::data_channel::RTCDataChannel as WebrtcRsDataChannel;
use webrtc::data_channel::data_channel_message::DataChannelMessage as WebrtcRsMessage;
use webrtc::ice::mdns::MulticastDnsMode;
use webrtc::ice::network_type::NetworkType;
use webrtc::interceptor::registry::Registry;
use webrtc::peer_connection::RTCPeerConnection as WebrtcRsPeerConnection;
use webrtc::peer_connection::configuration::RTCConfiguration as WebrtcRsConfiguration;
use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState as WebrtcRsState;
use webrtc::peer_connection::sdp::session_description::RTCSessionDescription;

/// Generous: a loopback handshake takes well under a second; this only bounds a hang.
const STEP_TIMEOUT: Duration = Duration::from_secs(20);

async fn within<T>(what: &str, future: impl std::future::Future<Output = T>) -> T {
    match tokio::time::timeout(STEP_TIMEOUT, future).await {
        Ok(value) => value,
        Err(_) => panic!("timed out waiting for: {what}"),
    }
}

fn antiphon_peer() -> RTCPeerConnection {
    let options = PeerOptions::default().with_bind(vec![IpAddr::from([127, 0, 0, 1])]);
    RTCPeerConnection::with_options(RTCConfiguration::default(), options)
        .expect("an Antiphon peer connection")
}

fn antiphon_done(state: RTCPeerConnectionState) -> bool {
    matches!(
        state,
        RTCPeerConnectionState::Connected | RTCPeerConnectionState::Failed
    )
}

/// A webrtc-rs peer connection that gathers only IPv4 UDP loopback host candidates (no mDNS),
/// so the test stays on 127.0.0.1, and its connection states as a watch channel.
async fn webrtc_rs_peer() -> (Arc<WebrtcRsPeerConnection>, watch::Receiver<WebrtcRsState>) {
    webrtc_rs_peer_with(false).await
}

/// [`webrtc_rs_peer`], as an ICE-lite agent when `lite` (`a=ice-lite`, host candidates only;
/// it answers checks but never sends its own nor nominates).
async fn webrtc_rs_peer_with(
    lite: bool,
) -> (Arc<WebrtcRsPeerConnection>, watch::Receiver<WebrtcRsState>) {
    let mut media = MediaEngine::default();
    media
        .register_default_codecs()
        .expect("webrtc-rs default codecs");
    let registry = register_default_interceptors(Registry::new(), &mut media)
        .expect("webrtc-rs default interceptors");
    let mut settings = SettingEngine::default();
    settings.set_network_types(vec![NetworkType::Udp4]);
    settings.set_include_loopback_candidate(true);
    settings.set_ip_filter(Box::new(|ip: IpAddr| ip.is_loopback()));
    settings.set_ice_multicast_dns_mode(MulticastDnsMode::Disabled);
    settings.set_lite(lite);
    let api = APIBuilder::new()
        .with_media_engine(media)
        .with_interceptor_registry(registry)
        .with_setting_engine(settings)
        .build();
    let pc = Arc::new(
        api.new_peer_connection(WebrtcRsConfiguration::default())
            .await
            .expect("a webrtc-rs peer connection"),
    );
    let (state_tx, state_rx) = watch::channel(WebrtcRsState::New);
    pc.on_peer_connection_state_change(Box::new(move |state| {
        let _ = state_tx.send(state);
        Box::pin(async {})
    }));
    (pc, state_rx)
}

/// Waits until webrtc-rs reports connected or failed, and returns which.
async fn webrtc_rs_connected(states: &mut watch::Receiver<WebrtcRsState>) -> WebrtcRsState {
    let state = states
        .wait_for(|s| matches!(s, WebrtcRsState::Connected | WebrtcRsState::Failed))
        .await
        .map(|s| *s);
    state.expect("the webrtc-rs peer connection is alive")
}

/// Sets webrtc-rs's local description and waits for ICE gathering to complete, so its
/// description carries every candidate (no trickle); returns that description.
async fn set_local_and_gather(
    pc: &WebrtcRsPeerConnection,
    description: RTCSessionDescription,
) -> RTCSessionDescription {
    let mut gathered = pc.gathering_complete_promise().await;
    pc.set_local_description(description)
        .await
        .expect("webrtc-rs accepts its own description");
    within("webrtc-rs ICE gathering complete", gathered.recv()).await;
    pc.local_description()
        .await
        .expect("webrtc-rs has a local description")
}

/// A webrtc-rs data channel's open event and messages, forwarded into tokio channels.
struct WebrtcRsChannel {
    channel: Arc<WebrtcRsDataChannel>,
    opened: mpsc::UnboundedReceiver<()>,
    messages: mpsc::UnboundedReceiver<WebrtcRsMessage>,
}

impl WebrtcRsChannel {
    fn forward(channel: Arc<WebrtcRsDataChannel>) -> Self {
        let (open_tx, opened) = mpsc::unbounded_channel();
        channel.on_open(Box::new(move || {
            let _ = open_tx.send(());
            Box::pin(async {})
        }));
        let (message_tx, messages) = mpsc::unbounded_channel();
        channel.on_message(Box::new(move |message| {
            let _ = message_tx.send(message);
            Box::pin(async {})
        }));
        Self {
            channel,
            opened,
            messages,
        }
    }

    async fn wait_open(&mut self) {
        within("webrtc-rs data channel open", self.opened.recv())
            .await
            .expect("webrtc-rs reports the channel open");
    }

    async fn next_message(&mut self) -> WebrtcRsMessage {
        within("a message at webrtc-rs", self.messages.recv())
            .await
            .expect("the webrtc-rs channel delivers a message")
    }
}

/// The host candidates a description carries, for assertions that no trickle was needed.
fn candidate_lines(sdp: &str) -> Vec<&str> {
    sdp.lines()
        .filter(|l| l.starts_with("a=candidate:"))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webrtc_rs_offers_antiphon_answers_and_they_exchange_messages() {
    offer_from_webrtc_rs_answered_by_antiphon(false).await;
}

/// Issue 15 (6), RFC 8445 §6.1.1: facing an ICE-lite offerer, Antiphon answers but takes the
/// controlling role. A lite agent never sends checks nor nominates, so as the usual controlled
/// answerer Antiphon would wait for a nomination that never comes and the connection would
/// fail; it connects only because Antiphon checks and nominates.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_ice_lite_offerer_makes_antiphon_controlling() {
    offer_from_webrtc_rs_answered_by_antiphon(true).await;
}

/// Issue 15 (3), RFC 8843 §7.3.1: the offerer-tagged section is one Antiphon rejects (an
/// `m=text` section put first in webrtc-rs's BUNDLE group, carrying webrtc-rs's transport
/// attributes and candidates, as an offerer-tagged section does). Antiphon answers it with port
/// 0 and makes the data section its tag; it must still read the offerer's transport from the
/// offer's tag and its own from the answer's, and connect. webrtc-rs, which never offered the
/// text section, gets the answer without it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rejected_offerer_tag_leaves_the_rest_of_the_group_connected() {
    offer_from_webrtc_rs_answered_by_antiphon_with(false, true).await;
}

/// webrtc-rs (an ICE-lite agent when `lite`) offers a data channel, Antiphon answers, both
/// connect and a message goes each way.
async fn offer_from_webrtc_rs_answered_by_antiphon(lite: bool) {
    offer_from_webrtc_rs_answered_by_antiphon_with(lite, false).await;
}

/// webrtc-rs's offer with an `m=text` section first in its BUNDLE group that takes over the
/// group's transport lines (credentials, fingerprint, setup, candidates).
fn with_unsupported_tag_first(offer: &str) -> String {
    let (session, data) = offer.split_at(offer.find("m=application").expect("a data section"));
    let transport = |line: &str| {
        [
            "a=ice-ufrag:",
            "a=ice-pwd:",
            "a=fingerprint:",
            "a=setup:",
            "a=candidate:",
        ]
        .iter()
        .any(|p| line.starts_with(p))
            || line == "a=end-of-candidates"
    };
    let lines: Vec<&str> = data.split("\r\n").collect();
    let moved: String = lines
        .iter()
        .filter(|l| transport(l))
        .map(|l| format!("{l}\r\n"))
        .collect();
    let kept: Vec<&str> = lines
        .iter()
        .copied()
        .filter(|l| !(l.starts_with("a=candidate:") || *l == "a=end-of-candidates"))
        .collect();
    let text = format!(
        "m=text 9 UDP/TLS/RTP/SAVPF 98\r\nc=IN IP4 0.0.0.0\r\n{moved}a=mid:t\r\na=rtcp-mux\r\na=rtpmap:98 t140/1000\r\n"
    );
    let session = session.replacen("a=group:BUNDLE ", "a=group:BUNDLE t ", 1);
    format!("{session}{text}{}", kept.join("\r\n"))
}

/// Antiphon's answer without its (rejected) first section, for a peer that never offered it.
fn without_first_section(answer: &str) -> String {
    let first = answer.find("m=").expect("an m= section");
    let second = first + 2 + answer[first + 2..].find("m=").expect("a second m= section");
    format!("{}{}", &answer[..first], &answer[second..])
}

async fn offer_from_webrtc_rs_answered_by_antiphon_with(lite: bool, unsupported_first: bool) {
    let (remote, mut remote_states) = webrtc_rs_peer_with(lite).await;
    let channel = remote
        .create_data_channel("chat", None)
        .await
        .expect("webrtc-rs creates a data channel");
    let mut channel = WebrtcRsChannel::forward(channel);

    let offer = remote.create_offer(None).await.expect("webrtc-rs offers");
    let offer = set_local_and_gather(&remote, offer).await;
    assert_eq!(
        offer.sdp.contains("a=ice-lite"),
        lite,
        "lite offers say so:\n{}",
        offer.sdp
    );
    let candidates = candidate_lines(&offer.sdp);
    assert!(
        !candidates.is_empty() && candidates.iter().all(|c| c.contains(" 127.0.0.1 ")),
        "webrtc-rs offers loopback host candidates only: {candidates:?}"
    );

    let local = antiphon_peer();

    let mut local_events = local.subscribe();
    let offered = if unsupported_first {
        with_unsupported_tag_first(&offer.sdp)
    } else {
        offer.sdp.clone()
    };
    local
        .set_remote_description(RTCSessionDescriptionInit::offer(offered.clone()))
        .await
        .unwrap_or_else(|e| panic!("Antiphon accepts the offer: {e}\n{offered}"));
    let mut answer = local.create_answer().await.expect("Antiphon answers");
    assert_eq!(answer.sdp_type, RTCSdpType::Answer);
    if unsupported_first {
        assert!(answer.sdp.contains("m=text 0 "), "{}", answer.sdp);
        assert!(
            answer.sdp.contains("a=group:BUNDLE 0\r\n"),
            "{}",
            answer.sdp
        );
    }
    assert!(
        !candidate_lines(&answer.sdp).is_empty(),
        "the answer carries our host candidates:\n{}",
        answer.sdp
    );
    local
        .set_local_description(Some(answer.clone()))
        .await
        .expect("Antiphon applies its answer");
    if unsupported_first {
        answer.sdp = without_first_section(&answer.sdp);
    }
    remote
        .set_remote_description(
            RTCSessionDescription::answer(answer.sdp.clone()).expect("an answer description"),
        )
        .await
        .unwrap_or_else(|e| panic!("webrtc-rs rejects our answer: {e}\n{}", answer.sdp));

    assert_eq!(
        within("Antiphon connected", local.wait_for_state(antiphon_done)).await,
        RTCPeerConnectionState::Connected
    );
    assert_eq!(
        within(
            "webrtc-rs connected",
            webrtc_rs_connected(&mut remote_states)
        )
        .await,
        WebrtcRsState::Connected
    );

    channel.wait_open().await;
    let accepted = within("Antiphon ondatachannel", local_events.next_data_channel())
        .await
        .expect("Antiphon accepts webrtc-rs's channel");
    assert_eq!(accepted.label(), "chat");
    assert_eq!(
        accepted.init(),
        &RTCDataChannelInit::default().with_id(accepted.id())
    );

    channel
        .channel
        .send_text("hello from webrtc-rs")
        .await
        .expect("webrtc-rs sends");
    let message = within("a message at Antiphon", accepted.recv())
        .await
        .expect("Antiphon's channel delivers a message");
    assert!(message.is_string);
    assert_eq!(&message.data[..], b"hello from webrtc-rs");

    accepted
        .send_text("hello from Antiphon")
        .await
        .expect("Antiphon sends");
    let reply = channel.next_message().await;
    assert!(reply.is_string);
    assert_eq!(&reply.data[..], b"hello from Antiphon");

    // webrtc-rs first: its close() resets every data channel stream and fails with "sending
    // reset packet in non-Established state" when our close has already ended the association.
    remote.close().await.expect("webrtc-rs closes");
    local.close().await;
    assert_eq!(local.connection_state(), RTCPeerConnectionState::Closed);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn antiphon_offers_webrtc_rs_answers_and_they_exchange_messages() {
    let local = antiphon_peer();
    let chat = local
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .expect("Antiphon asks for a data channel section");
    let offer = local.create_offer().await.expect("Antiphon offers");
    assert!(
        !candidate_lines(&offer.sdp).is_empty(),
        "the offer carries our host candidates:\n{}",
        offer.sdp
    );
    local
        .set_local_description(Some(offer.clone()))
        .await
        .expect("Antiphon applies its offer");

    let (remote, mut remote_states) = webrtc_rs_peer().await;
    let (channels_tx, mut channels) = mpsc::unbounded_channel();
    remote.on_data_channel(Box::new(move |channel| {
        // Handlers are installed before webrtc-rs starts reading the channel.
        let _ = channels_tx.send(WebrtcRsChannel::forward(channel));
        Box::pin(async {})
    }));
    remote
        .set_remote_description(
            RTCSessionDescription::offer(offer.sdp.clone()).expect("an offer description"),
        )
        .await
        .unwrap_or_else(|e| panic!("webrtc-rs rejects our offer: {e}\n{}", offer.sdp));
    let answer = remote.create_answer(None).await.expect("webrtc-rs answers");
    let answer = set_local_and_gather(&remote, answer).await;
    let candidates = candidate_lines(&answer.sdp);
    assert!(
        !candidates.is_empty() && candidates.iter().all(|c| c.contains(" 127.0.0.1 ")),
        "webrtc-rs answers with loopback host candidates only: {candidates:?}"
    );
    local
        .set_remote_description(RTCSessionDescriptionInit::answer(answer.sdp.clone()))
        .await
        .unwrap_or_else(|e| panic!("Antiphon rejects webrtc-rs's answer: {e}\n{}", answer.sdp));

    assert_eq!(
        within("Antiphon connected", local.wait_for_state(antiphon_done)).await,
        RTCPeerConnectionState::Connected
    );
    assert_eq!(
        within(
            "webrtc-rs connected",
            webrtc_rs_connected(&mut remote_states)
        )
        .await,
        WebrtcRsState::Connected
    );

    let channel = within("Antiphon's channel open (SCTP association up)", async {
        chat.opened().await.map(|()| chat.clone())
    })
    .await
    .expect("Antiphon opens a channel");
    assert_eq!(channel.label(), "chat");
    let mut remote_channel = within("webrtc-rs ondatachannel", channels.recv())
        .await
        .expect("webrtc-rs reports our channel");
    assert_eq!(remote_channel.channel.label(), "chat");
    remote_channel.wait_open().await;

    channel
        .send_text("hello from Antiphon")
        .await
        .expect("Antiphon sends");
    let message = remote_channel.next_message().await;
    assert!(message.is_string);
    assert_eq!(&message.data[..], b"hello from Antiphon");

    remote_channel
        .channel
        .send_text("hello from webrtc-rs")
        .await
        .expect("webrtc-rs sends");
    let reply = within("a message at Antiphon", channel.recv())
        .await
        .expect("Antiphon's channel delivers a message");
    assert!(reply.is_string);
    assert_eq!(&reply.data[..], b"hello from webrtc-rs");

    // webrtc-rs first: its close() resets every data channel stream and fails with "sending
    // reset packet in non-Established state" when our close has already ended the association.
    remote.close().await.expect("webrtc-rs closes");
    local.close().await;
    assert_eq!(local.connection_state(), RTCPeerConnectionState::Closed);
}
