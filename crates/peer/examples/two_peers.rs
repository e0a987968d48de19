//! Two peer connections in one process, a data channel between them: Alice offers, Bob
//! answers, each description sent whole once gathering is complete (signaling here is a
//! function call; `antiphon serve` shows trickle over a WebSocket). They connect for real over
//! loopback UDP (ICE, DTLS with the fingerprints checked, SCTP), Bob echoes, and Alice times
//! ten round trips.
//!
//! ```sh
//! cargo run -p antiphon-peer --example two_peers
//! ```

#![allow(clippy::print_stdout)]

use std::net::IpAddr;
use std::time::Instant;

use antiphon_peer::{
    PeerConnectionEvent, PeerOptions, RTCConfiguration, RTCDataChannelInit, RTCPeerConnection,
    RTCPeerConnectionState, RTCSessionDescriptionInit,
};

/// `setLocalDescription()`, then the description once every candidate is in it.
async fn described(
    pc: &RTCPeerConnection,
) -> Result<RTCSessionDescriptionInit, antiphon_peer::Error> {
    pc.set_local_description(None).await?;
    pc.gathering_complete().await;
    Ok(pc
        .local_description()
        .await
        .expect("a local description was just set"))
}

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    // Loopback only: this example needs no network.
    let options = PeerOptions::default().with_bind(vec![IpAddr::from([127, 0, 0, 1])]);
    let alice = RTCPeerConnection::with_options(RTCConfiguration::default(), options.clone())?;
    let bob = RTCPeerConnection::with_options(RTCConfiguration::default(), options)?;

    // Bob echoes every message on every channel Alice opens.
    let mut bob_events = bob.subscribe();
    tokio::spawn(async move {
        while let Some(event) = bob_events.recv().await {
            if let PeerConnectionEvent::DataChannel(channel) = event {
                tokio::spawn(async move {
                    while let Some(message) = channel.recv().await {
                        if channel.send(message.data).await.is_err() {
                            break;
                        }
                    }
                });
            }
        }
    });

    let chat = alice
        .create_data_channel("chat", RTCDataChannelInit::default())
        .await?;
    let offer = described(&alice).await?;
    bob.set_remote_description(offer).await?;
    let answer = described(&bob).await?;
    alice.set_remote_description(answer).await?;

    let state = alice
        .wait_for_state(|s| {
            matches!(
                s,
                RTCPeerConnectionState::Connected | RTCPeerConnectionState::Failed
            )
        })
        .await;
    println!("alice: {state:?}");
    chat.opened().await?;
    for n in 0..10 {
        let sent = Instant::now();
        chat.send_text(&format!("ping {n}")).await?;
        let back = chat.recv().await.ok_or("the channel closed")?;
        println!(
            "{} in {:?}",
            String::from_utf8_lossy(&back.data),
            sent.elapsed()
        );
    }
    alice.close().await;
    bob.close().await;
    Ok(())
}
