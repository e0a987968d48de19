//! `antiphon serve` against clients that hold connections: a request head that never ends, a
//! kept-alive connection left idle, more connections than the cap, and more than the process
//! may open at all (the descriptor limit, where `accept` fails with EMFILE). Each time the
//! server closes or refuses what it must and goes on serving. Runs inside the loopback-only
//! namespace.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::{
    send_text, serve_with, serve_with_descriptor_limit, still_serves, try_read_frame, websocket,
};

fn connect(address: &str) -> TcpStream {
    let stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    stream
}

/// Reads until the server closes the connection: what it sent, and how long that took.
fn until_closed(stream: &mut TcpStream) -> (Vec<u8>, Duration) {
    let started = Instant::now();
    let mut received = Vec::new();
    let _ = stream.read_to_end(&mut received);
    (received, started.elapsed())
}

#[test]
fn a_request_head_that_never_ends_is_closed_after_the_header_timeout() {
    let server = serve_with(&["--header-timeout", "1"]);
    let address = server.address();
    let mut stream = connect(&address);
    stream
        .write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .expect("half a head");
    let (received, waited) = until_closed(&mut stream);
    assert!(
        received.is_empty() || received.starts_with(b"HTTP/1.1 408"),
        "{}",
        String::from_utf8_lossy(&received)
    );
    assert!(
        waited >= Duration::from_millis(800) && waited < Duration::from_secs(5),
        "closed after {waited:?}"
    );
    still_serves(&address);
}

#[test]
fn a_kept_alive_connection_left_idle_is_closed() {
    let server = serve_with(&["--header-timeout", "1"]);
    let address = server.address();
    let mut stream = connect(&address);
    let request = format!("GET /config HTTP/1.1\r\nHost: {address}\r\n\r\n");
    stream.write_all(request.as_bytes()).expect("request");
    let mut head = [0u8; 15];
    stream.read_exact(&mut head).expect("an answer");
    assert_eq!(&head, b"HTTP/1.1 200 OK");
    let (_, waited) = until_closed(&mut stream);
    assert!(waited < Duration::from_secs(5), "closed after {waited:?}");
}

#[test]
fn connections_over_the_cap_are_answered_503_and_a_closed_one_makes_room() {
    let server = serve_with(&["--max-connections", "2"]);
    let address = server.address();
    let first = connect(&address);
    let _second = connect(&address);
    // The accept loop takes them in order: the third is over the cap.
    std::thread::sleep(Duration::from_millis(200));
    let mut third = connect(&address);
    let request = format!("GET / HTTP/1.1\r\nHost: {address}\r\n\r\n");
    third.write_all(request.as_bytes()).expect("request");
    let (received, _) = until_closed(&mut third);
    let text = String::from_utf8_lossy(&received);
    assert!(text.starts_with("HTTP/1.1 503"), "{text}");
    assert!(text.ends_with("too many connections\n"), "{text}");
    drop(first);
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let mut next = connect(&address);
        next.write_all(request.as_bytes()).expect("request");
        let mut head = [0u8; 12];
        next.read_exact(&mut head).expect("an answer");
        if &head == b"HTTP/1.1 200" {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no room after a connection closed"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let joined: Vec<String> = server.lines.try_iter().collect();
    assert!(
        joined
            .iter()
            .any(|l| l == "connection refused: too many connections (--max-connections)"),
        "{joined:?}"
    );
}

/// With 64 descriptors, 200 clients that each send half a request head: `accept` fails with
/// EMFILE while they are held; the server says so, keeps running, and serves again once the
/// header timeout has closed them.
#[test]
fn at_the_descriptor_limit_accept_errors_are_survived() {
    let mut server = serve_with_descriptor_limit(64, &["--header-timeout", "2"]);
    let address = server.address();
    let mut held = Vec::new();
    for _ in 0..200 {
        // The kernel completes connections into the listen backlog whether or not they are
        // accepted; past the backlog, a connect may be refused or time out: that is fine.
        if let Ok(mut stream) =
            TcpStream::connect_timeout(&address.parse().expect("address"), Duration::from_secs(1))
        {
            let _ = stream.write_all(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\n");
            held.push(stream);
        }
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut said = false;
    while !said && Instant::now() < deadline {
        if let Ok(line) = server.lines.recv_timeout(Duration::from_millis(100)) {
            said = line.starts_with("accept failed: ") && line.contains("(retrying)");
        }
    }
    assert!(said, "the server reports the failed accept");
    assert!(
        server.exit_within(Duration::from_millis(500)).is_none(),
        "the server still runs"
    );
    drop(held);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let mut stream = websocket(&address);
        send_text(&mut stream, r#"{"type":"getStats"}"#);
        if let Some((0x1, payload)) = try_read_frame(&mut stream) {
            assert!(String::from_utf8_lossy(&payload).contains("getStats before the offer"));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "serves again after the clients left"
        );
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(server.exit_within(Duration::ZERO).is_none());
}
