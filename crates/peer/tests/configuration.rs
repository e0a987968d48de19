//! `RTCConfiguration` as the connection uses it: STUN servers give server-reflexive candidates
//! in our descriptions (against a minimal RFC 5389 Binding responder on loopback), configured
//! certificates are the ones our fingerprints name, and what Antiphon cannot honour (TURN
//! without credentials, STUN over TLS, DTLS to a TURN server, malformed URLs, expired
//! certificates) is refused with the W3C error at construction, never ignored.

use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, SystemTime};

use antiphon_dtls::{Certificate, CertificateOptions, HashAlgorithm};
use antiphon_ice::IceGatheringState;
use antiphon_peer::{
    PeerConnectionEvent, PeerOptions, RTCConfiguration, RTCIceServer, RTCIceTransportPolicy,
    RTCPeerConnection,
};
use tokio::net::UdpSocket;

const MAGIC_COOKIE: u32 = 0x2112_A442;
/// The address our fake STUN server reports back: a documentation address, so a candidate
/// carrying it can only have come from the server.
const MAPPED_IP: [u8; 4] = [203, 0, 113, 7];

fn configuration(urls: &[&str]) -> RTCConfiguration {
    RTCConfiguration::default().with_ice_servers(vec![RTCIceServer {
        urls: urls.iter().map(|u| (*u).to_owned()).collect(),
        ..RTCIceServer::default()
    }])
}

fn loopback_options() -> PeerOptions {
    PeerOptions::default().with_bind(vec![IpAddr::from([127, 0, 0, 1])])
}

/// A Binding success response (RFC 5389 §7.3.1) with XOR-MAPPED-ADDRESS = 203.0.113.7 and the
/// client's port, for a Binding request; `None` for anything else.
fn binding_response(request: &[u8], client: SocketAddr) -> Option<Vec<u8>> {
    if request.len() < 20 || request[0..2] != [0x00, 0x01] {
        return None;
    }
    if u32::from_be_bytes(request[4..8].try_into().ok()?) != MAGIC_COOKIE {
        return None;
    }
    let mut response = Vec::with_capacity(32);
    response.extend_from_slice(&[0x01, 0x01, 0x00, 0x0c]);
    response.extend_from_slice(&request[4..20]);
    response.extend_from_slice(&[0x00, 0x20, 0x00, 0x08, 0x00, 0x01]);
    let port = client.port() ^ (MAGIC_COOKIE >> 16) as u16;
    response.extend_from_slice(&port.to_be_bytes());
    let ip = u32::from_be_bytes(MAPPED_IP) ^ MAGIC_COOKIE;
    response.extend_from_slice(&ip.to_be_bytes());
    Some(response)
}

/// Answers every Binding request it receives until the test ends; returns its address.
async fn stun_server() -> SocketAddr {
    let socket = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let address = socket.local_addr().expect("address");
    tokio::spawn(async move {
        let mut buf = [0u8; 1500];
        while let Ok((n, client)) = socket.recv_from(&mut buf).await {
            if let Some(response) = binding_response(&buf[..n], client) {
                let _ = socket.send_to(&response, client).await;
            }
        }
    });
    address
}

#[tokio::test]
async fn stun_servers_give_server_reflexive_candidates_trickled_after_the_offer() {
    let server = stun_server().await;
    let pc = RTCPeerConnection::with_options(
        configuration(&[&format!("stun:{server}")]),
        loopback_options(),
    )
    .expect("a connection");
    let mut events = pc.subscribe();
    assert_eq!(pc.ice_gathering_state().await, IceGatheringState::New);
    let _chat = pc
        .create_data_channel("chat", antiphon_peer::RTCDataChannelInit::default())
        .await
        .expect("a data channel");
    // The offer does not wait for the STUN server: it carries the host candidate, and gathering
    // goes on (the server's answer cannot be taken in while createOffer holds the connection).
    let offer = pc.create_offer().await.expect("an offer");
    assert!(offer.sdp.contains(" typ host"), "{}", offer.sdp);
    assert!(!offer.sdp.contains(" typ srflx"), "{}", offer.sdp);
    assert!(!offer.sdp.contains("a=end-of-candidates"), "{}", offer.sdp);
    pc.set_local_description(Some(offer))
        .await
        .expect("the offer applies");
    tokio::time::timeout(Duration::from_secs(10), pc.gathering_complete())
        .await
        .expect("gathering finishes");
    assert_eq!(pc.ice_gathering_state().await, IceGatheringState::Complete);

    let mut gathering = Vec::new();
    let mut trickled = Vec::new();
    while let Some(event) = events.try_recv() {
        match event {
            PeerConnectionEvent::IceGatheringState(state) => gathering.push(state),
            PeerConnectionEvent::IceCandidate(candidate) => trickled.push(candidate),
            _ => {}
        }
    }
    assert_eq!(
        gathering,
        [IceGatheringState::Gathering, IceGatheringState::Complete]
    );
    assert_eq!(
        trickled.len(),
        2,
        "the srflx candidate, then the end: {trickled:?}"
    );
    let srflx = trickled[0].as_ref().expect("a candidate first");
    assert!(srflx.candidate.starts_with("candidate:"), "{srflx:?}");
    assert!(srflx.candidate.contains(" 203.0.113.7 "), "{srflx:?}");
    assert!(
        srflx.candidate.contains(" typ srflx raddr 127.0.0.1 "),
        "{srflx:?}"
    );
    assert_eq!(srflx.sdp_mid.as_deref(), Some("0"));
    assert_eq!(srflx.sdp_m_line_index, Some(0));
    assert_eq!(trickled[1], None, "end-of-candidates last");

    // The local description carries what was trickled (W3C: candidates are added to it).
    let local = pc.local_description().await.expect("a local description");
    let line = format!("a={}", srflx.candidate);
    assert!(local.sdp.contains(&format!("{line}\r\n")), "{}", local.sdp);
    assert!(
        local.sdp.contains("a=end-of-candidates\r\n"),
        "{}",
        local.sdp
    );
    pc.close().await;
}

#[tokio::test]
async fn without_stun_servers_only_host_candidates_are_gathered() {
    let pc = RTCPeerConnection::with_options(RTCConfiguration::default(), loopback_options())
        .expect("a connection");
    let _chat = pc
        .create_data_channel("chat", antiphon_peer::RTCDataChannelInit::default())
        .await
        .expect("a data channel");
    let offer = pc.create_offer().await.expect("an offer");
    let candidates: Vec<&str> = offer
        .sdp
        .lines()
        .filter(|line| line.starts_with("a=candidate:"))
        .collect();
    assert!(!candidates.is_empty());
    assert!(
        candidates.iter().all(|c| c.contains(" typ host")),
        "{candidates:?}"
    );
    pc.close().await;
}

#[tokio::test]
async fn a_configured_certificate_is_the_one_the_fingerprint_names() {
    let certificate = Certificate::generate(&CertificateOptions::default()).expect("certificate");
    let expected = certificate.fingerprint(HashAlgorithm::Sha256).to_string();
    let pc = RTCPeerConnection::with_options(
        RTCConfiguration::default().with_certificates(vec![certificate]),
        loopback_options(),
    )
    .expect("a connection");
    let _chat = pc
        .create_data_channel("chat", antiphon_peer::RTCDataChannelInit::default())
        .await
        .expect("a data channel");
    let offer = pc.create_offer().await.expect("an offer");
    assert!(
        offer.sdp.contains(&format!("a=fingerprint:{expected}")),
        "{expected} not in {}",
        offer.sdp
    );
    pc.close().await;
}

#[test]
fn what_cannot_be_honoured_is_refused_at_construction() {
    let refused = |configuration: RTCConfiguration| {
        RTCPeerConnection::new(configuration)
            .err()
            .map(|error| error.name())
    };
    // A TURN server needs credentials (W3C: InvalidAccessError).
    assert_eq!(
        refused(configuration(&["turn:turn.example.org"])),
        Some("InvalidAccessError")
    );
    assert_eq!(
        refused(configuration(&["turns:turn.example.org"])),
        Some("InvalidAccessError")
    );
    let with_credentials = |url: &str| {
        let mut c = configuration(&[url]);
        c.ice_servers[0].username = Some("alice".into());
        c.ice_servers[0].credential = Some("secret".into());
        c
    };
    assert_eq!(
        refused(with_credentials("turn:turn.example.org?transport=tcp")),
        None
    );
    // STUN over TLS maps a TCP connection (no UDP candidate can use it); DTLS to a TURN server
    // is not implemented.
    assert_eq!(
        refused(configuration(&["stuns:stun.example.org"])),
        Some("NotSupportedError")
    );
    assert_eq!(
        refused(with_credentials("turns:turn.example.org?transport=udp")),
        Some("NotSupportedError")
    );
    assert_eq!(refused(configuration(&["stun:"])), Some("SyntaxError"));
    assert_eq!(
        refused(configuration(&["stun:host:70000"])),
        Some("SyntaxError")
    );
    assert_eq!(
        refused(configuration(&["http://stun.example.org"])),
        Some("SyntaxError")
    );
    // The relay policy is honoured (with no TURN server there is simply no candidate).
    assert_eq!(
        refused(
            RTCConfiguration::default().with_ice_transport_policy(RTCIceTransportPolicy::Relay)
        ),
        None
    );
    let a_year_ago = SystemTime::now() - Duration::from_secs(365 * 24 * 3600);
    let expired = Certificate::generate_at(
        &CertificateOptions::default().with_validity(Duration::from_secs(24 * 3600)),
        a_year_ago,
    )
    .expect("certificate");
    assert_eq!(
        refused(RTCConfiguration::default().with_certificates(vec![expired])),
        Some("InvalidAccessError")
    );
}
