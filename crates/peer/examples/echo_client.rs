//! The client of `echo_server`: offers a data channel over the server's one-line-each-way
//! signaling, connects, sends ten messages and checks that each comes back, then closes.
//! Exits non-zero if anything fails.
//!
//! ```sh
//! cargo run -p antiphon-peer --example echo_client -- 127.0.0.1:7000
//! ```

#![allow(clippy::print_stdout)]

use std::time::Duration;

use antiphon_peer::{
    PeerOptions, RTCConfiguration, RTCDataChannelInit, RTCPeerConnection, RTCSessionDescriptionInit,
};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let addr = std::env::args().nth(1).unwrap_or("127.0.0.1:7000".into());
    // The server may still be starting: try for ten seconds.
    let mut stream = None;
    for _ in 0..100 {
        match TcpStream::connect(&addr).await {
            Ok(connected) => {
                stream = Some(connected);
                break;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    let (read, mut write) = stream.ok_or("no echo_server there")?.into_split();
    let mut lines = BufReader::new(read).lines();

    let pc = RTCPeerConnection::with_options(RTCConfiguration::default(), PeerOptions::default())?;
    let channel = pc
        .create_data_channel("echo", RTCDataChannelInit::default())
        .await?;
    pc.set_local_description(None).await?;
    pc.gathering_complete().await;
    let offer = pc.local_description().await.ok_or("no offer")?;
    write
        .write_all(format!("{}\n", serde_json::to_string(&offer)?).as_bytes())
        .await?;
    let answer: RTCSessionDescriptionInit =
        serde_json::from_str(&lines.next_line().await?.ok_or("no answer")?)?;
    pc.set_remote_description(answer).await?;

    tokio::time::timeout(Duration::from_secs(20), channel.opened()).await??;
    for n in 0..10 {
        let text = format!("message {n}");
        channel.send_text(&text).await?;
        let back = tokio::time::timeout(Duration::from_secs(5), channel.recv())
            .await?
            .ok_or("the channel closed")?;
        if back.data != text.as_bytes() {
            return Err(format!("sent {text:?}, got {:?}", back.data).into());
        }
    }
    println!("10 messages echoed");
    pc.close().await;
    Ok(())
}
