//! `antiphon serve` shuts down gracefully on SIGTERM (and Ctrl-C): it stops accepting, every
//! signaling session gets a WebSocket close 1001 (going away) and closes its connection, and
//! the process exits 0. Runs inside the loopback-only namespace.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{read_frame, send_text, serve, websocket};

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
