//! `antiphon serve`: a small signaling server and demo page. The page offers a data channel
//! (and camera/microphone tracks with `?media=1`), POSTs its offer as browser JSON to `/offer`,
//! and applies Antiphon's answer; Antiphon connects and echoes every data channel message.
//!
//! Signaling is plain HTTP: the page sends its offer once gathering is complete and the answer
//! carries our candidates, so no trickle channel is needed.

use std::io::Write;
use std::net::SocketAddr;
use std::process::ExitCode;
use std::sync::Arc;

use antiphon_peer::{
    PeerConnectionEvent, RTCConfiguration, RTCPeerConnection, RTCSessionDescriptionInit,
};
use clap::Args;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::{TcpListener, TcpStream};

const PAGE: &str = include_str!("../web/index.html");

/// Largest request body accepted (an offer is a few KiB).
const MAX_BODY: usize = 256 * 1024;

/// Arguments of `antiphon serve`.
#[derive(Debug, Args)]
pub(crate) struct ServeArgs {
    /// The address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:8080")]
    addr: SocketAddr,
}

pub(crate) fn run(args: &ServeArgs) -> Result<ExitCode, String> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    runtime.block_on(serve(args.addr))?;
    Ok(ExitCode::SUCCESS)
}

fn say(line: &str) {
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{line}");
    let _ = out.flush();
}

async fn serve(addr: SocketAddr) -> Result<(), String> {
    let listener = TcpListener::bind(addr)
        .await
        .map_err(|e| format!("{addr}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    say(&format!("listening on http://{local}/"));
    loop {
        let (stream, _) = listener.accept().await.map_err(|e| e.to_string())?;
        tokio::spawn(async move {
            if let Err(error) = handle(stream).await {
                say(&format!("request failed: {error}"));
            }
        });
    }
}

struct Request {
    method: String,
    path: String,
    body: Vec<u8>,
}

async fn read_request(stream: &mut TcpStream) -> Result<Request, String> {
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader
        .read_line(&mut line)
        .await
        .map_err(|e| e.to_string())?;
    let mut parts = line.split_whitespace();
    let method = parts.next().ok_or("empty request")?.to_owned();
    let path = parts.next().ok_or("no path")?.to_owned();
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        reader
            .read_line(&mut header)
            .await
            .map_err(|e| e.to_string())?;
        let header = header.trim_end();
        if header.is_empty() {
            break;
        }
        if let Some((name, value)) = header.split_once(':')
            && name.eq_ignore_ascii_case("content-length")
        {
            length = value.trim().parse().map_err(|_| "bad content-length")?;
        }
    }
    if length > MAX_BODY {
        return Err("request body too large".to_owned());
    }
    let mut body = vec![0; length];
    reader
        .read_exact(&mut body)
        .await
        .map_err(|e| e.to_string())?;
    Ok(Request { method, path, body })
}

async fn respond(
    stream: &mut TcpStream,
    status: &str,
    content_type: &str,
    body: &[u8],
) -> Result<(), String> {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .await
        .map_err(|e| e.to_string())?;
    stream.write_all(body).await.map_err(|e| e.to_string())
}

async fn handle(mut stream: TcpStream) -> Result<(), String> {
    let request = read_request(&mut stream).await?;
    let path = request.path.split('?').next().unwrap_or("");
    match (request.method.as_str(), path) {
        ("GET", "/") => {
            respond(
                &mut stream,
                "200 OK",
                "text/html; charset=utf-8",
                PAGE.as_bytes(),
            )
            .await
        }
        ("POST", "/offer") => match answer(&request.body).await {
            Ok(json) => respond(&mut stream, "200 OK", "application/json", json.as_bytes()).await,
            Err(error) => {
                say(&format!("offer refused: {error}"));
                respond(
                    &mut stream,
                    "400 Bad Request",
                    "text/plain",
                    error.as_bytes(),
                )
                .await
            }
        },
        ("POST", "/log") => {
            say(&format!(
                "browser: {}",
                String::from_utf8_lossy(&request.body)
            ));
            respond(&mut stream, "204 No Content", "text/plain", b"").await
        }
        _ => respond(&mut stream, "404 Not Found", "text/plain", b"not found").await,
    }
}

/// Answers a browser offer and runs the connection: every data channel the browser opens is
/// echoed (`echo: ` before text messages; binary messages come back unchanged).
async fn answer(body: &[u8]) -> Result<String, String> {
    let text = std::str::from_utf8(body).map_err(|_| "offer is not UTF-8")?;
    let offer = RTCSessionDescriptionInit::from_json(text).map_err(|e| e.to_string())?;
    let pc =
        Arc::new(RTCPeerConnection::new(RTCConfiguration::default()).map_err(|e| e.to_string())?);
    pc.set_remote_description(offer)
        .await
        .map_err(|e| e.to_string())?;
    let answer = pc.create_answer().await.map_err(|e| e.to_string())?;
    pc.set_local_description(Some(answer.clone()))
        .await
        .map_err(|e| e.to_string())?;
    let mut events = pc.subscribe();
    let watcher = Arc::clone(&pc);
    tokio::spawn(async move {
        while let Ok(event) = events.recv().await {
            if let PeerConnectionEvent::ConnectionState(state) = event {
                say(&format!("connection {state:?}"));
            }
        }
        drop(watcher);
    });
    tokio::spawn(async move {
        while let Some(channel) = pc.accept_data_channel().await {
            say(&format!("data channel {:?} open", channel.label()));
            tokio::spawn(async move {
                while let Some(message) = channel.recv().await {
                    let sent = if message.is_string {
                        let text = String::from_utf8_lossy(&message.data);
                        channel.send_text(&format!("echo: {text}")).await
                    } else {
                        channel.send(message.data).await
                    };
                    if sent.is_err() {
                        break;
                    }
                }
            });
        }
    });
    Ok(answer.to_json())
}
