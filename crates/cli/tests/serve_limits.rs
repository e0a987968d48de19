//! `antiphon serve` against clients that break the rules, each on its own WebSocket: the
//! offender's session ends with the RFC 6455 close code that names what it did, a malformed
//! message gets an `error` and the session stays open, the number of sessions is capped, and
//! every time the server goes on serving others. Runs inside the loopback-only namespace.

mod common;

use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{
    Server, read_frame, send_frame, send_text, serve, serve_with, try_read_frame, try_websocket,
    websocket,
};

fn address(server: &Server) -> String {
    server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned()
}

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

/// A fresh session still gets answers: the server kept serving.
fn still_serves(server: &Server) {
    let mut stream = websocket(&address(server));
    send_text(&mut stream, r#"{"type":"getStats"}"#);
    let (opcode, payload) = read_frame(&mut stream);
    assert_eq!(opcode, 0x1);
    let text = String::from_utf8_lossy(&payload);
    assert!(text.contains("getStats before the offer"), "{text}");
}

#[test]
fn invalid_utf8_in_a_text_frame_closes_with_1007() {
    let server = serve();
    let mut stream = websocket(&address(&server));
    send_frame(&mut stream, 0x1, &[0x7b, 0xff, 0xfe, 0x7d]);
    let (code, text) = close_code(&mut stream);
    assert!(!text, "no JSON reply to a frame that is not UTF-8");
    assert_eq!(code, Some(1007));
    still_serves(&server);
}

#[test]
fn a_message_over_the_limit_closes_with_1009() {
    let server = serve();
    let mut stream = websocket(&address(&server));
    send_frame(&mut stream, 0x1, &vec![b' '; 300 * 1024]);
    let (code, _) = close_code(&mut stream);
    assert_eq!(code, Some(1009));
    still_serves(&server);
}

#[test]
fn malformed_messages_get_an_error_and_the_session_stays_open() {
    let server = serve();
    let mut stream = websocket(&address(&server));
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
    let address = address(&server);
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
