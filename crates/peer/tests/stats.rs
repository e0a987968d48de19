//! `getStats()` between two Antiphon connections on loopback: every report a browser gives for a
//! data-channel connection, consistent within one report and across the two sides (each side's
//! remote certificate is the other's local one, and both match the fingerprints signalled).

mod common;

use antiphon_peer::{RTCDataChannelInit, RTCDataChannelState, RTCStats, RTCStatsReport};
use common::loopback::{connect, loopback_peer as peer, within};

fn sdp_fingerprint(sdp: &str) -> String {
    sdp.lines()
        .find_map(|l| l.strip_prefix("a=fingerprint:sha-256 "))
        .expect("a sha-256 fingerprint")
        .to_owned()
}

/// The certificate report with this id's fingerprint.
fn fingerprint_of(report: &RTCStatsReport, id: &str) -> String {
    match report.get(id) {
        Some(RTCStats::Certificate(c)) => {
            assert_eq!(c.fingerprint_algorithm, "sha-256");
            assert!(!c.base64_certificate.is_empty());
            c.fingerprint.clone()
        }
        other => panic!("no certificate {id}: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_fresh_connection_reports_new_transports_and_nothing_else() {
    let pc = peer();
    let report = pc.get_stats().await;
    let transport = report.transport().expect("a transport report");
    assert_eq!(transport.ice_state, "new");
    assert_eq!(transport.dtls_state, "new");
    assert!(transport.selected_candidate_pair_id.is_none());
    assert!(
        report
            .iter()
            .all(|s| !matches!(s, RTCStats::CandidatePair(_) | RTCStats::DataChannel(_)))
    );
    fingerprint_of(&report, &transport.local_certificate_id);
    pc.close().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_connected_pair_reports_transport_pairs_candidates_certificates_and_channels() {
    let offerer = peer();
    let answerer = peer();
    let mut answerer_events = answerer.subscribe();
    let chat = offerer
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await
        .expect("a data channel");
    let (offer, answer) = connect(&offerer, &answerer).await;
    let channel = within("open", async { chat.opened().await.map(|()| chat.clone()) })
        .await
        .expect("a channel");
    channel.send_text("ping").await.expect("sent");
    let remote = within("accept", answerer_events.next_data_channel())
        .await
        .expect("a channel");
    within("message", remote.recv()).await.expect("a message");

    let ours = offerer.get_stats().await;
    let theirs = answerer.get_stats().await;
    for (report, local_sdp, remote_sdp) in [
        (&ours, &offer.sdp, &answer.sdp),
        (&theirs, &answer.sdp, &offer.sdp),
    ] {
        let transport = report.transport().expect("a transport report");
        assert_eq!(transport.dtls_state, "connected");
        assert!(matches!(transport.ice_state, "connected" | "completed"));
        assert!(transport.bytes_sent > 0 && transport.bytes_received > 0);
        assert!(transport.packets_sent > 0 && transport.packets_received > 0);
        assert_eq!(
            fingerprint_of(report, &transport.local_certificate_id),
            sdp_fingerprint(local_sdp)
        );
        let remote_id = transport.remote_certificate_id.as_deref().expect("remote");
        assert_eq!(
            fingerprint_of(report, remote_id),
            sdp_fingerprint(remote_sdp)
        );

        let pair = report.selected_candidate_pair().expect("a selected pair");
        assert_eq!(pair.state, "succeeded");
        assert!(pair.nominated);
        assert!(pair.bytes_sent > 0 && pair.bytes_received > 0);
        assert!(pair.bytes_sent <= transport.bytes_sent);
        assert!(pair.responses_received > 0 && pair.responses_sent > 0);
        assert!(pair.current_round_trip_time.is_some_and(|rtt| rtt > 0.0));
        assert!(pair.total_round_trip_time >= pair.current_round_trip_time.unwrap_or(0.0));
        match report.get(&pair.local_candidate_id) {
            Some(RTCStats::LocalCandidate(c)) => {
                assert_eq!(c.address, "127.0.0.1");
                assert_eq!(c.protocol, "udp");
            }
            other => panic!("no local candidate {}: {other:?}", pair.local_candidate_id),
        }
        assert!(
            matches!(
                report.get(&pair.remote_candidate_id),
                Some(RTCStats::RemoteCandidate(_))
            ),
            "no remote candidate {}",
            pair.remote_candidate_id
        );
    }
    // The DTLS roles are opposite; each side's remote certificate is the other's own.
    let (a, b) = (ours.transport().expect("t"), theirs.transport().expect("t"));
    assert_ne!(a.dtls_role, b.dtls_role);
    assert!(a.dtls_role.is_some() && b.dtls_role.is_some());
    assert_eq!(
        a.remote_certificate_id.as_deref(),
        Some(b.local_certificate_id.as_str())
    );

    let sent = ours
        .iter()
        .find_map(|s| match s {
            RTCStats::DataChannel(d) => Some(d.clone()),
            _ => None,
        })
        .expect("the channel's report");
    assert_eq!(sent.label, "chat");
    assert_eq!(sent.state, "open");
    assert_eq!((sent.messages_sent, sent.bytes_sent), (1, 4));
    let received = theirs
        .iter()
        .find_map(|s| match s {
            RTCStats::DataChannel(d) => Some(d.clone()),
            _ => None,
        })
        .expect("the remote channel's report");
    assert_eq!(
        (received.messages_received, received.bytes_received),
        (1, 4)
    );
    assert_eq!(
        received.data_channel_identifier,
        sent.data_channel_identifier
    );

    // W3C JSON: an array of objects with `type` and camelCase members.
    let json = serde_json::to_value(&ours).expect("serializes");
    let pair = json
        .as_array()
        .expect("an array")
        .iter()
        .find(|s| s["type"] == "candidate-pair" && s["nominated"] == true)
        .expect("a nominated candidate-pair");
    assert!(pair["currentRoundTripTime"].is_number(), "{pair}");
    assert!(pair["localCandidateId"].is_string(), "{pair}");

    channel.close().await.expect("closes");
    // `closing` until the remote resets its side of the stream too.
    tokio::time::timeout(std::time::Duration::from_secs(10), channel.closed())
        .await
        .expect("the channel closes");
    assert_eq!(channel.ready_state(), RTCDataChannelState::Closed);
    let after = offerer.get_stats().await;
    let counts = after
        .iter()
        .find_map(|s| match s {
            RTCStats::PeerConnection(p) => Some((p.data_channels_opened, p.data_channels_closed)),
            _ => None,
        })
        .expect("a peer-connection report");
    assert_eq!(counts, (1, 1));
    offerer.close().await;
    answerer.close().await;
    assert_eq!(
        offerer.get_stats().await.transport().expect("t").dtls_state,
        "closed"
    );
}
