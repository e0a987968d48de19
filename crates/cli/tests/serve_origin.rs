//! `antiphon serve` refuses what a hostile page could make a user's browser send it: a
//! WebSocket to `/ws` from another origin (cross-site WebSocket hijacking) is answered 403
//! unless `--allow-origin` names that origin, and a request whose `Host` is a name other than
//! `localhost` (a DNS-rebinding page) is answered 403; the page's own origin and clients
//! without `Origin` (not browser pages) are served. Runs inside the loopback-only namespace.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{Server, serve, serve_with};

/// The status line of the server's answer to `GET path` with these extra headers.
fn status(server: &Server, path: &str, host: Option<&str>, origin: Option<&str>) -> String {
    let address = server
        .url
        .trim_start_matches("http://")
        .trim_end_matches('/')
        .to_owned();
    let mut stream = TcpStream::connect(&address).expect("connect");
    let mut request = format!("GET {path} HTTP/1.1\r\n");
    request.push_str(&format!("Host: {}\r\n", host.unwrap_or(&address)));
    if let Some(origin) = origin {
        request.push_str(&format!("Origin: {origin}\r\n"));
    }
    if path == "/ws" {
        request.push_str(
            "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\
             Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n",
        );
    }
    request.push_str("\r\n");
    stream.write_all(request.as_bytes()).expect("send");
    let mut answer = [0u8; 512];
    let n = stream.read(&mut answer).expect("read");
    String::from_utf8_lossy(&answer[..n])
        .lines()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn a_websocket_from_another_origin_is_refused_and_the_pages_own_is_served() {
    let server = serve();
    let own = server.url.trim_end_matches('/').to_owned();
    let cases = [
        (Some(own.as_str()), "101"),
        (None, "101"),
        (Some("https://evil.example"), "403"),
        (Some("null"), "403"),
    ];
    for (origin, expected) in cases {
        let line = status(&server, "/ws", None, origin);
        assert!(line.contains(expected), "Origin {origin:?}: {line}");
    }
    let refused = (0..100)
        .filter_map(|_| server.lines.recv_timeout(Duration::from_millis(100)).ok())
        .find(|l| l.starts_with("request refused: "))
        .expect("the refusal is logged");
    assert!(refused.contains("evil.example"), "{refused}");
}

#[test]
fn allow_origin_adds_an_origin() {
    let server = serve_with(&["--allow-origin", "https://app.example"]);
    assert!(status(&server, "/ws", None, Some("https://app.example")).contains("101"));
    assert!(status(&server, "/ws", None, Some("https://other.example")).contains("403"));
}

#[test]
fn a_host_that_is_not_this_machine_is_refused() {
    let server = serve();
    let port = server
        .url
        .trim_end_matches('/')
        .rsplit(':')
        .next()
        .unwrap_or("")
        .to_owned();
    for (host, expected) in [
        (format!("localhost:{port}"), "200"),
        (format!("127.0.0.1:{port}"), "200"),
        (format!("[::1]:{port}"), "200"),
        (format!("rebound.example:{port}"), "403"),
    ] {
        let line = status(&server, "/", Some(&host), None);
        assert!(line.contains(expected), "Host {host}: {line}");
    }
}
