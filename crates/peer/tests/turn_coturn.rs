//! Relayed connections through a real TURN server (coturn, started on 127.0.0.1 in the
//! loopback-only namespace): two Antiphon connections with the relay policy connect through
//! it over UDP, TCP and TLS to the server, with long-term and with ephemeral credentials, and
//! echo on a data channel; getStats shows the selected pair's local candidate is `relay` with
//! the transport used. A wrong password and an untrusted certificate give no relay candidate
//! and a clear error, not a hang.

mod common;

use std::net::IpAddr;
use std::time::{SystemTime, UNIX_EPOCH};

use antiphon_ice::turn::ephemeral_credentials;
use antiphon_peer::{
    PeerConnectionEvent, PeerConnectionEvents, PeerOptions, RTCConfiguration, RTCDataChannelInit,
    RTCIceServer, RTCIceTransportPolicy, RTCPeerConnection, RTCPeerConnectionState,
    RTCSessionDescriptionInit, RTCStats,
};
use common::coturn::{Auth, Coturn};
use common::loopback::{settled, within};

fn relay_peer(url: &str, username: &str, password: &str, roots: Option<&str>) -> RTCPeerConnection {
    let configuration = RTCConfiguration::default()
        .with_ice_servers(vec![RTCIceServer {
            urls: vec![url.to_owned()],
            username: Some(username.to_owned()),
            credential: Some(password.to_owned()),
        }])
        .with_ice_transport_policy(RTCIceTransportPolicy::Relay);
    let options = PeerOptions::default()
        .with_bind(vec![IpAddr::from([127, 0, 0, 1])])
        .with_turn_roots_pem(roots.map(|pem| pem.as_bytes().to_vec()));
    RTCPeerConnection::with_options(configuration, options).expect("a connection")
}

/// Waits until gathering is complete, then the local description (with every candidate).
async fn gathered(
    pc: &RTCPeerConnection,
    events: &mut PeerConnectionEvents,
) -> RTCSessionDescriptionInit {
    within("gathering completes", async {
        loop {
            match events.recv().await {
                Some(PeerConnectionEvent::IceCandidate(None)) => break,
                Some(_) => {}
                None => panic!("events ended"),
            }
        }
    })
    .await;
    pc.local_description().await.expect("a local description")
}

/// Offer and answer, each sent once gathering completed (no trickle), as a server that
/// signals whole descriptions does.
async fn exchange(offerer: &RTCPeerConnection, answerer: &RTCPeerConnection) {
    let (mut offer_events, mut answer_events) = (offerer.subscribe(), answerer.subscribe());
    offerer.set_local_description(None).await.expect("an offer");
    let offer = gathered(offerer, &mut offer_events).await;
    answerer
        .set_remote_description(offer)
        .await
        .expect("the offer applies");
    answerer
        .set_local_description(None)
        .await
        .expect("an answer");
    let answer = gathered(answerer, &mut answer_events).await;
    offerer
        .set_remote_description(answer)
        .await
        .expect("the answer applies");
}

fn candidate_lines(description: &RTCSessionDescriptionInit) -> Vec<&str> {
    description
        .sdp
        .lines()
        .filter(|l| l.starts_with("a=candidate:"))
        .collect()
}

/// The selected pair's local candidate: its type and relay protocol.
async fn selected_local(pc: &RTCPeerConnection) -> (String, Option<&'static str>) {
    let report = pc.get_stats().await;
    let pair = report
        .selected_candidate_pair()
        .expect("a selected pair")
        .clone();
    match report.get(&pair.local_candidate_id) {
        Some(RTCStats::LocalCandidate(c)) => (c.candidate_type.clone(), c.relay_protocol),
        other => panic!("no local candidate {}: {other:?}", pair.local_candidate_id),
    }
}

async fn relayed_echo(
    url: &str,
    username: &str,
    password: &str,
    roots: Option<&str>,
    protocol: &str,
) {
    let offerer = relay_peer(url, username, password, roots);
    let answerer = relay_peer(url, username, password, roots);
    let mut answerer_events = answerer.subscribe();
    let chat = offerer
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .expect("a channel");
    exchange(&offerer, &answerer).await;
    for pc in [&offerer, &answerer] {
        let local = pc.local_description().await.expect("local");
        let lines = candidate_lines(&local);
        assert!(!lines.is_empty(), "{url}: no candidate gathered");
        assert!(
            lines.iter().all(|l| l.contains(" typ relay ")),
            "{url}: {lines:?}"
        );
        assert_eq!(
            within("connected", pc.wait_for_state(settled)).await,
            RTCPeerConnectionState::Connected,
            "{url}"
        );
        assert_eq!(
            selected_local(pc).await,
            ("relay".to_owned(), Some(protocol)),
            "{url}"
        );
    }
    within("open", chat.opened())
        .await
        .expect("the channel opens");
    let remote = within("datachannel", answerer_events.next_data_channel())
        .await
        .expect("the remote channel");
    for round in 0..20 {
        chat.send_text(&format!("ping {round}"))
            .await
            .expect("sent");
        let message = within("ping", remote.recv()).await.expect("a ping");
        remote.send(message.data.clone()).await.expect("echoed");
        let echo = within("echo", chat.recv()).await.expect("an echo");
        assert_eq!(echo.data, format!("ping {round}").as_bytes(), "{url}");
    }
    // A large message: many ChannelData datagrams each way.
    let big = vec![7u8; 200_000];
    chat.send(bytes::Bytes::from(big.clone()))
        .await
        .expect("sent");
    let message = within("big", remote.recv()).await.expect("the big message");
    assert_eq!(message.data.len(), big.len());
    offerer.close().await;
    answerer.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn relay_only_connections_echo_through_coturn_over_udp_tcp_and_tls() {
    let server = Coturn::start(Auth::User {
        username: "alice".into(),
        password: "secret".into(),
    });
    let (port, tls) = (server.port, server.tls_port);
    relayed_echo(
        &format!("turn:127.0.0.1:{port}"),
        "alice",
        "secret",
        None,
        "udp",
    )
    .await;
    relayed_echo(
        &format!("turn:127.0.0.1:{port}?transport=tcp"),
        "alice",
        "secret",
        None,
        "tcp",
    )
    .await;
    relayed_echo(
        &format!("turns:127.0.0.1:{tls}"),
        "alice",
        "secret",
        Some(&server.certificate_pem),
        "tls",
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ephemeral_credentials_from_a_shared_secret_are_accepted() {
    let server = Coturn::start(Auth::Secret("s3cret".into()));
    let expires = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("after 1970")
        .as_secs()
        + 3600;
    let (username, password) = ephemeral_credentials("s3cret", "bot", expires);
    relayed_echo(
        &format!("turn:127.0.0.1:{}", server.port),
        &username,
        &password,
        None,
        "udp",
    )
    .await;
}

/// Gathering with one TURN server that cannot give a candidate: it completes with none, and
/// the failure is reported as an `icecandidateerror`.
async fn no_relay_candidate(url: &str, password: &str, roots: Option<&str>) -> String {
    let pc = relay_peer(url, "alice", password, roots);
    let mut events = pc.subscribe();
    let _chat = pc
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .expect("a channel");
    pc.set_local_description(None).await.expect("an offer");
    let mut error = None;
    within("gathering completes", async {
        loop {
            match events.recv().await {
                Some(PeerConnectionEvent::IceCandidateError(e)) => error = Some(e),
                Some(PeerConnectionEvent::IceCandidate(None)) => break,
                Some(_) => {}
                None => panic!("events ended"),
            }
        }
    })
    .await;
    let local = pc.local_description().await.expect("local");
    assert!(candidate_lines(&local).is_empty(), "{url}: {local:?}");
    pc.close().await;
    let error = error.unwrap_or_else(|| panic!("{url}: no icecandidateerror"));
    assert_eq!(error.url, url);
    error.error_text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_password_and_an_untrusted_certificate_are_clear_errors() {
    let server = Coturn::start(Auth::User {
        username: "alice".into(),
        password: "secret".into(),
    });
    let text = no_relay_candidate(&format!("turn:127.0.0.1:{}", server.port), "wrong", None).await;
    assert!(text.contains("username or password"), "{text}");
    // The server's certificate is signed by a CA nobody trusts here.
    let text = no_relay_candidate(
        &format!("turns:127.0.0.1:{}", server.tls_port),
        "secret",
        None,
    )
    .await;
    assert!(text.to_lowercase().contains("certificate"), "{text}");
}
