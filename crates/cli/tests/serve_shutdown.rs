//! `antiphon serve` shuts down gracefully on SIGTERM (and Ctrl-C): it stops accepting, every
//! signaling session gets a WebSocket close 1001 (going away) and closes its connection, and
//! the process exits 0. Runs inside the loopback-only namespace.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;
use std::time::Duration;

use common::serve;

/// A WebSocket to `/ws` of the server at `address` (the handshake's answer read).
fn websocket(address: &str) -> TcpStream {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let request = format!(
        "GET /ws HTTP/1.1\r\nHost: {address}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"
    );
    stream.write_all(request.as_bytes()).expect("handshake");
    let mut head = Vec::new();
    let mut byte = [0u8; 1];
    while !head.ends_with(b"\r\n\r\n") {
        stream.read_exact(&mut byte).expect("handshake answer");
        head.push(byte[0]);
    }
    assert!(
        head.starts_with(b"HTTP/1.1 101"),
        "{}",
        String::from_utf8_lossy(&head)
    );
    stream
}

/// Sends `text` as one masked text frame (the mask key is zero: the payload goes as is).
fn send_text(stream: &mut TcpStream, text: &str) {
    let mut frame = vec![0x81u8];
    let len = text.len();
    if len < 126 {
        frame.push(0x80 | u8::try_from(len).expect("short"));
    } else {
        frame.push(0x80 | 126);
        frame.extend_from_slice(&u16::try_from(len).expect("under 64 KiB").to_be_bytes());
    }
    frame.extend_from_slice(&[0, 0, 0, 0]);
    frame.extend_from_slice(text.as_bytes());
    stream.write_all(&frame).expect("send");
}

/// The next frame's opcode and payload.
fn read_frame(stream: &mut TcpStream) -> (u8, Vec<u8>) {
    let mut head = [0u8; 2];
    stream.read_exact(&mut head).expect("frame head");
    let len = match head[1] & 0x7f {
        126 => {
            let mut ext = [0u8; 2];
            stream.read_exact(&mut ext).expect("length");
            usize::from(u16::from_be_bytes(ext))
        }
        127 => {
            let mut ext = [0u8; 8];
            stream.read_exact(&mut ext).expect("length");
            usize::try_from(u64::from_be_bytes(ext)).expect("length")
        }
        short => usize::from(short),
    };
    let mut payload = vec![0u8; len];
    stream.read_exact(&mut payload).expect("payload");
    (head[0] & 0x0f, payload)
}

#[test]
fn sigterm_closes_every_session_and_exits_zero() {
    let mut server = serve();
    let address = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    // The bundled Chromium offer, without candidates: nothing to check, the connection is
    // answered and stays open until the shutdown closes it.
    let offer: serde_json::Value =
        serde_json::from_str(include_str!("../offers/chromium-audio-video-data.json"))
            .expect("offer JSON");
    let sdp: String = offer["sdp"]
        .as_str()
        .expect("sdp")
        .split_inclusive("\r\n")
        .filter(|line| !line.starts_with("a=candidate:"))
        .collect();
    let mut stream = websocket(&address);
    send_text(
        &mut stream,
        &serde_json::json!({"type": "offer", "sdp": sdp}).to_string(),
    );
    loop {
        let (opcode, payload) = read_frame(&mut stream);
        if opcode == 1 && String::from_utf8_lossy(&payload).contains("\"answer\"") {
            break;
        }
    }
    let killed = Command::new("kill")
        .args(["-TERM", &server.pid().to_string()])
        .status()
        .expect("kill");
    assert!(killed.success());
    let close = loop {
        let (opcode, payload) = read_frame(&mut stream);
        if opcode == 8 {
            break payload;
        }
    };
    assert_eq!(
        close.get(..2),
        Some(&1001u16.to_be_bytes()[..]),
        "going away"
    );
    let status = server
        .exit_within(Duration::from_secs(10))
        .expect("the server exits");
    assert!(status.success(), "{status:?}");
    let lines: Vec<String> = server.lines.try_iter().collect();
    assert!(
        lines.iter().any(|l| l == "shut down: every session closed"),
        "{lines:?}"
    );
}
