//! A minimal echo server on the library API: every TCP connection is a signaling session, one
//! JSON line each way. The client sends its offer as browser JSON (`{"type":"offer","sdp":...}`,
//! every candidate in it); the server answers with one line, its answer with every candidate;
//! then every data channel message comes back. The session ends when its TCP connection
//! closes or its peer connection fails. `echo_client` is its client.
//!
//! ```sh
//! cargo run -p antiphon-peer --example echo_server -- 127.0.0.1:7000
//! cargo run -p antiphon-peer --example echo_server -- 127.0.0.1:7000 --sessions 1   # then exit
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use std::net::SocketAddr;

use antiphon_peer::{
    PeerConnectionEvent, PeerOptions, RTCConfiguration, RTCPeerConnection, RTCPeerConnectionState,
    RTCSessionDescriptionInit,
};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

/// The longest signaling line taken (an offer is a few KiB).
const MAX_LINE: usize = 256 * 1024;

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let addr: SocketAddr = args.next().unwrap_or("127.0.0.1:7000".into()).parse()?;
    let sessions: Option<usize> = match (args.next().as_deref(), args.next()) {
        (Some("--sessions"), Some(n)) => Some(n.parse()?),
        _ => None,
    };
    let listener = TcpListener::bind(addr).await?;
    println!("listening on {}", listener.local_addr()?);
    let mut served = Vec::new();
    while sessions.is_none_or(|n| served.len() < n) {
        let (stream, peer) = listener.accept().await?;
        served.push(tokio::spawn(async move {
            if let Err(error) = session(stream).await {
                eprintln!("{peer}: {error}");
            }
        }));
    }
    for session in served {
        session.await?;
    }
    Ok(())
}

/// One session: the offer in, the answer out, then echo until either side goes.
async fn session(stream: TcpStream) -> Result<(), Box<dyn std::error::Error + Send + Sync>> {
    let (read, mut write) = stream.into_split();
    let mut lines = BufReader::new(read.take(MAX_LINE as u64)).lines();
    let offer: RTCSessionDescriptionInit = match lines.next_line().await? {
        Some(line) => serde_json::from_str(&line)?,
        None => return Ok(()),
    };
    let pc = RTCPeerConnection::with_options(RTCConfiguration::default(), PeerOptions::default())?;
    let mut events = pc.subscribe();
    pc.set_remote_description(offer).await?;
    pc.set_local_description(None).await?;
    pc.gathering_complete().await;
    let answer = pc.local_description().await.ok_or("no local description")?;
    write
        .write_all(format!("{}\n", serde_json::to_string(&answer)?).as_bytes())
        .await?;
    println!("answered");
    loop {
        tokio::select! {
            event = events.recv() => match event {
                Some(PeerConnectionEvent::DataChannel(channel)) => {
                    println!("data channel {:?} open", channel.label());
                    tokio::spawn(async move {
                        while let Some(message) = channel.recv().await {
                            if channel.send(message.data).await.is_err() {
                                break;
                            }
                        }
                    });
                }
                Some(PeerConnectionEvent::ConnectionState(state)) => {
                    println!("connection {state:?}");
                    if matches!(state, RTCPeerConnectionState::Failed | RTCPeerConnectionState::Closed) {
                        break;
                    }
                }
                Some(_) => {}
                None => break,
            },
            // The client closed its signaling connection: the session is over.
            line = lines.next_line() => if !matches!(line, Ok(Some(_))) { break },
        }
    }
    pc.close().await;
    println!("session closed");
    Ok(())
}
