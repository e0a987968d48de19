//! Connections on one UDP port ([`UdpMux`], `PeerOptions::with_udp_mux`) on loopback: each
//! connects and carries its own data channel, their descriptions name the mux's port, the
//! mux routes each peer's datagrams to its connection only, and closed connections leave it.

mod common;

use std::net::SocketAddr;
use std::time::Duration;

use antiphon_ice::UdpMux;
use antiphon_peer::{
    PeerOptions, RTCConfiguration, RTCDataChannelInit, RTCPeerConnection, RTCPeerConnectionState,
    RTCSessionDescriptionInit,
};
use bytes::Bytes;
use common::loopback::{connect, loopback_peer, offer_and_answer_edited, settled, within};

fn muxed_peer(mux: &UdpMux) -> RTCPeerConnection {
    let options = PeerOptions::default().with_udp_mux(Some(mux.clone()));
    RTCPeerConnection::with_options(RTCConfiguration::default(), options).expect("a connection")
}

/// The ports of the host candidates in `sdp`.
fn candidate_ports(sdp: &str) -> Vec<u16> {
    sdp.lines()
        .filter_map(|line| line.strip_prefix("a=candidate:"))
        .filter_map(|candidate| candidate.split(' ').nth(5)?.parse().ok())
        .collect()
}

/// `offerer` opens a channel named `label` to `answerer` (both connected); a message goes
/// each way, and each side reads only its own.
async fn exchange(offerer: &RTCPeerConnection, answerer: &RTCPeerConnection, label: &str) {
    let mut events = answerer.subscribe();
    let channel = offerer
        .create_data_channel(label, RTCDataChannelInit::default())
        .await
        .expect("a channel");
    // The association is up (the setup channel made it): this one opens in-band (DCEP).
    within("the channel opens", channel.opened())
        .await
        .expect("open");
    let accepted = within("the datachannel event", events.next_data_channel())
        .await
        .expect("the answerer's end");
    assert_eq!(accepted.label(), label);
    let out = Bytes::from(format!("to {label}"));
    channel.send(out.clone()).await.expect("send");
    let got = within("the message", accepted.recv())
        .await
        .expect("a message");
    assert_eq!(got.data, out);
    let back = Bytes::from(format!("from {label}"));
    accepted.send(back.clone()).await.expect("send back");
    let got = within("the reply", channel.recv()).await.expect("a reply");
    assert_eq!(got.data, back);
}

/// `offerer` offers without its candidates (trickled candidates are not passed on either), so
/// the muxed `answerer` knows no address to check: the offerer's checks must reach it by its
/// ufrag alone, and its own answers learn the way back.
async fn connect_without_offered_candidates(
    offerer: &RTCPeerConnection,
    answerer: &RTCPeerConnection,
) -> RTCSessionDescriptionInit {
    let strip = |sdp: &str| -> String {
        sdp.split_inclusive('\n')
            .filter(|line| !line.starts_with("a=candidate:"))
            .collect()
    };
    let (_, answer) = offer_and_answer_edited(offerer, answerer, strip).await;
    offerer
        .set_remote_description(answer.clone())
        .await
        .expect("the answer applies");
    for pc in [offerer, answerer] {
        assert_eq!(
            within("connected", pc.wait_for_state(settled)).await,
            RTCPeerConnectionState::Connected
        );
    }
    answer
}

#[tokio::test]
async fn connections_share_one_port_each_way() {
    let mux = UdpMux::bind(&[
        SocketAddr::from(([127, 0, 0, 1], 0)),
        SocketAddr::from(([0, 0, 0, 0, 0, 0, 0, 1], 0)),
    ])
    .expect("the mux binds");
    let ports: Vec<u16> = mux.local_addresses().iter().map(SocketAddr::port).collect();

    // Three answerers on the mux (a server answering browsers), and one offerer on it.
    let mut pairs = Vec::new();
    for k in 0..3 {
        pairs.push((loopback_peer(), muxed_peer(&mux), format!("answerer{k}")));
    }
    pairs.push((muxed_peer(&mux), loopback_peer(), "offerer".to_owned()));
    for (offerer, answerer, label) in &pairs {
        // The channel exists before the offer, so the offer carries the data section.
        let channel = offerer
            .create_data_channel("setup", RTCDataChannelInit::default())
            .await
            .expect("a channel");
        let muxed = match label.as_str() {
            // Reached by ufrag alone.
            "answerer0" => connect_without_offered_candidates(offerer, answerer).await,
            "offerer" => connect(offerer, answerer).await.0,
            _ => connect(offerer, answerer).await.1,
        };
        let muxed_ports = candidate_ports(&muxed.sdp);
        assert!(!muxed_ports.is_empty(), "{label}: no candidates");
        assert!(
            muxed_ports.iter().all(|port| ports.contains(port)),
            "{label}: candidates {muxed_ports:?} off the mux's ports {ports:?}"
        );
        within("setup channel", channel.opened())
            .await
            .expect("open");
    }
    assert_eq!(mux.endpoints(), pairs.len());
    // All connected at once: each pair's messages reach only its own channel.
    for (offerer, answerer, label) in &pairs {
        exchange(offerer, answerer, label).await;
    }

    for (offerer, answerer, _) in pairs {
        offerer.close().await;
        answerer.close().await;
    }
    within("the mux forgets closed connections", async {
        while mux.endpoints() > 0 {
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    })
    .await;
}
