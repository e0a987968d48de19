//! `antiphon serve` against clients that break the rules, each on its own WebSocket: the
//! offender's session ends with the RFC 6455 close code that names what it did, a malformed
//! message gets an `error` and the session stays open, the number of sessions is capped, and
//! every time the server goes on serving others. Runs inside the loopback-only namespace.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{
    read_frame, send_frame, send_text, serve, serve_with, still_serves, try_read_frame,
    try_websocket, websocket,
};

/// Frames until the server's close frame: its code, and whether a text frame came first.
fn close_code(stream: &mut TcpStream) -> (Option<u16>, bool) {
    let mut text = false;
    while let Some((opcode, payload)) = try_read_frame(stream) {
        match opcode {
            0x1 => text = true,
            0x8 => {
                let code = payload.get(..2).map(|c| u16::from_be_bytes([c[0], c[1]]));
                return (code, text);
            }
            _ => {}
        }
    }
    (None, text)
}

#[test]
fn invalid_utf8_in_a_text_frame_closes_with_1007() {
    let server = serve();
    let mut stream = websocket(&server.address());
    send_frame(&mut stream, 0x1, &[0x7b, 0xff, 0xfe, 0x7d]);
    let (code, text) = close_code(&mut stream);
    assert!(!text, "no JSON reply to a frame that is not UTF-8");
    assert_eq!(code, Some(1007));
    still_serves(&server.address());
}

#[test]
fn a_message_over_the_limit_closes_with_1009() {
    let server = serve();
    let mut stream = websocket(&server.address());
    send_frame(&mut stream, 0x1, &vec![b' '; 300 * 1024]);
    let (code, _) = close_code(&mut stream);
    assert_eq!(code, Some(1009));
    still_serves(&server.address());
}

#[test]
fn malformed_messages_get_an_error_and_the_session_stays_open() {
    let server = serve();
    let mut stream = websocket(&server.address());
    for message in [
        "not json",
        r#"{"type":"nonsense"}"#,
        r#"{"type":"offer","sdp":"v=0"}"#,
        r#"{"type":"answer"}"#,
    ] {
        send_text(&mut stream, message);
        let (opcode, payload) = read_frame(&mut stream);
        let text = String::from_utf8_lossy(&payload);
        assert_eq!(opcode, 0x1, "{message}: {text}");
        assert!(text.contains(r#""type":"error""#), "{message}: {text}");
    }
    // SDP that does not parse: the W3C error name and where.
    send_text(&mut stream, r#"{"type":"offer","sdp":"v=0\r\nx\r\n"}"#);
    let (_, payload) = read_frame(&mut stream);
    let text = String::from_utf8_lossy(&payload);
    assert!(
        text.contains(r#""about":"offer""#)
            && text.contains(r#""name":"RTCError""#)
            && text.contains(r#""line":2"#),
        "{text}"
    );
    send_text(&mut stream, r#"{"type":"getStats"}"#);
    assert_eq!(read_frame(&mut stream).0, 0x1, "still open");
}

#[test]
fn sessions_are_capped_and_a_closed_one_makes_room() {
    let server = serve_with(&["--max-sessions", "2"]);
    let address = server.address();
    let first = websocket(&address);
    let _second = websocket(&address);
    let refused = try_websocket(&address).expect_err("a third session");
    assert!(refused.starts_with("HTTP/1.1 503"), "{refused}");
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        match try_websocket(&address) {
            Ok(_) => break,
            Err(head) if Instant::now() < deadline => {
                assert!(head.starts_with("HTTP/1.1 503"), "{head}");
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(head) => panic!("no room after a session closed: {head}"),
        }
    }
}

#[test]
fn offers_are_rate_limited_per_session_and_the_session_stays_open() {
    let server = serve();
    let mut stream = websocket(&server.address());
    // The budget is 30 at once: each of these is taken (and refused as SDP), the next is over.
    for _ in 0..30 {
        send_text(&mut stream, r#"{"type":"offer","sdp":"v=0"}"#);
        let (_, payload) = read_frame(&mut stream);
        let text = String::from_utf8_lossy(&payload);
        assert!(!text.contains("QuotaExceededError"), "{text}");
    }
    send_text(&mut stream, r#"{"type":"offer","sdp":"v=0"}"#);
    let (_, payload) = read_frame(&mut stream);
    let text = String::from_utf8_lossy(&payload);
    assert!(
        text.contains(r#""name":"QuotaExceededError""#) && text.contains("too many offers"),
        "{text}"
    );
    // Another session has its own budget.
    let mut other = websocket(&server.address());
    send_text(&mut other, r#"{"type":"offer","sdp":"v=0"}"#);
    let (_, payload) = read_frame(&mut other);
    assert!(!String::from_utf8_lossy(&payload).contains("QuotaExceededError"));
    send_text(&mut stream, r#"{"type":"getStats"}"#);
    assert_eq!(read_frame(&mut stream).0, 0x1, "still open");
}

#[test]
fn a_silent_websocket_is_closed_and_one_that_answers_pings_stays() {
    let server = serve_with(&["--ws-idle-timeout", "2"]);
    let mut silent = websocket(&server.address());
    let mut alive = websocket(&server.address());
    let started = Instant::now();
    // The live client answers every ping for 4 s (twice the idle limit).
    let mut pings = 0;
    while started.elapsed() < Duration::from_secs(4) {
        alive
            .set_read_timeout(Some(Duration::from_millis(200)))
            .expect("timeout");
        if let Some((opcode, payload)) = try_read_frame(&mut alive) {
            assert_eq!(opcode, 0x9, "only pings arrive");
            pings += 1;
            send_frame(&mut alive, 0xA, &payload);
        }
    }
    assert!(pings >= 3, "{pings} pings in 4 s");
    let (code, _) = close_code(&mut silent);
    assert_eq!(code, Some(1008), "the silent one is closed");
    alive
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    send_text(&mut alive, r#"{"type":"getStats"}"#);
    loop {
        let (opcode, _) = read_frame(&mut alive);
        if opcode == 0x1 {
            break;
        }
        assert_eq!(opcode, 0x9, "pings, then the reply");
    }
}
