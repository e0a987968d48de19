//! `antiphon serve`'s WHIP endpoint (RFC 9725) over plain HTTP: an Antiphon connection as the
//! WHIP client publishes a data channel (`POST /whip`), trickles its end of candidates
//! (`PATCH`, `If-Match` its ETag), gets the echo, and ends the session (`DELETE`); and every
//! refusal the RFC lists: the wrong media type (415), no or a wrong bearer token (401), SDP
//! that does not parse (400, with its line), a stale ETag (412), an unknown session (404), a
//! method the resource does not take (405), CORS preflights from the page's origin and a
//! foreign one. Runs inside the loopback-only namespace.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use antiphon_peer::{
    PeerOptions, RTCConfiguration, RTCDataChannelInit, RTCPeerConnection, RTCPeerConnectionState,
    RTCSdpType, RTCSessionDescriptionInit,
};
use common::serve_with;

/// An HTTP response: status, head lines, body.
struct Answer {
    status: u16,
    head: String,
    body: String,
}

impl Answer {
    /// A header's value (names compared case-insensitively).
    fn header(&self, name: &str) -> Option<&str> {
        self.head.lines().find_map(|line| {
            let (key, value) = line.split_once(':')?;
            key.eq_ignore_ascii_case(name).then(|| value.trim())
        })
    }
}

/// One HTTP/1.1 request with `Connection: close`.
fn request(
    address: &str,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> Answer {
    let mut stream = TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(Duration::from_secs(20)))
        .expect("timeout");
    let mut text = format!(
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (name, value) in headers {
        text.push_str(&format!("{name}: {value}\r\n"));
    }
    text.push_str("\r\n");
    text.push_str(body);
    stream.write_all(text.as_bytes()).expect("request");
    let mut response = Vec::new();
    let _ = stream.read_to_end(&mut response);
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("a status line: {head}"));
    Answer {
        status,
        head: head.to_owned(),
        body: body.to_owned(),
    }
}

const SDP: (&str, &str) = ("Content-Type", "application/sdp");
const SDPFRAG: (&str, &str) = ("Content-Type", "application/trickle-ice-sdpfrag");

#[tokio::test(flavor = "multi_thread")]
async fn an_antiphon_client_publishes_trickles_and_deletes() {
    let server = serve_with(&["--whip-token", "s3cret"]);
    let address = server.address();
    let auth = ("Authorization", "Bearer s3cret");

    let client =
        RTCPeerConnection::with_options(RTCConfiguration::default(), PeerOptions::default())
            .expect("a client");
    let channel = client
        .create_data_channel("whip", RTCDataChannelInit::default())
        .await
        .expect("a channel");
    let offer = client.create_offer().await.expect("an offer");
    client
        .set_local_description(Some(offer.clone()))
        .await
        .expect("applied");

    let created = request(&address, "POST", "/whip", &[SDP, auth], &offer.sdp);
    assert_eq!(created.status, 201, "{}{}", created.head, created.body);
    assert_eq!(created.header("content-type"), Some("application/sdp"));
    let location = created.header("location").expect("Location").to_owned();
    assert!(location.starts_with("/whip/"), "{location}");
    let etag = created.header("etag").expect("ETag").to_owned();
    assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
    assert!(
        created.body.contains("a=candidate:"),
        "the answer carries candidates"
    );
    client
        .set_remote_description(RTCSessionDescriptionInit {
            sdp_type: RTCSdpType::Answer,
            sdp: created.body.clone(),
        })
        .await
        .expect("the answer applies");

    // A stale ETag is refused; the current one takes the client's end of candidates.
    let mid = offer
        .sdp
        .lines()
        .find_map(|l| l.strip_prefix("a=mid:"))
        .expect("a mid")
        .trim()
        .to_owned();
    let fragment = format!(
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\na=mid:{mid}\r\na=end-of-candidates\r\n"
    );
    let stale = request(
        &address,
        "PATCH",
        &location,
        &[SDPFRAG, auth, ("If-Match", "\"0\"")],
        &fragment,
    );
    assert_eq!(stale.status, 412, "{}", stale.body);
    let trickled = request(
        &address,
        "PATCH",
        &location,
        &[SDPFRAG, auth, ("If-Match", &etag)],
        &fragment,
    );
    assert_eq!(trickled.status, 204, "{}", trickled.body);
    let other = request(
        &address,
        "PATCH",
        &location,
        &[SDPFRAG, auth],
        "a=ice-ufrag:zzzz\r\na=ice-pwd:zzzzzzzzzzzzzzzzzzzzzzzz\r\n",
    );
    assert_eq!(
        other.status, 412,
        "another ICE session's candidates: {}",
        other.body
    );

    let state = tokio::time::timeout(
        Duration::from_secs(20),
        client.wait_for_state(|s| s == RTCPeerConnectionState::Connected),
    )
    .await
    .expect("connects");
    assert_eq!(state, RTCPeerConnectionState::Connected);
    channel.opened().await.expect("open");
    channel.send_text("hello whip").await.expect("sent");
    let echo = tokio::time::timeout(Duration::from_secs(10), channel.recv())
        .await
        .expect("an echo")
        .expect("a message");
    assert_eq!(&echo.data[..], b"echo: hello whip");

    let deleted = request(&address, "DELETE", &location, &[auth], "");
    assert_eq!(deleted.status, 200);
    let gone = request(&address, "DELETE", &location, &[auth], "");
    assert_eq!(gone.status, 404);
    let gone = request(&address, "PATCH", &location, &[SDPFRAG, auth], &fragment);
    assert_eq!(gone.status, 404);
    client.close().await;
    let lines: Vec<String> = server.lines.try_iter().collect();
    assert!(lines.iter().any(|l| l.ends_with(" deleted")), "{lines:#?}");
}

#[test]
fn refusals_have_the_rfcs_status_codes() {
    let server = serve_with(&["--whip-token", "s3cret"]);
    let address = server.address();
    let auth = ("Authorization", "Bearer s3cret");
    let wrong = ("Authorization", "Bearer s3creT");

    let no_token = request(&address, "POST", "/whip", &[SDP], "v=0\r\n");
    assert_eq!(no_token.status, 401);
    assert_eq!(no_token.header("www-authenticate"), Some("Bearer"));
    assert_eq!(
        request(&address, "POST", "/whip", &[SDP, wrong], "v=0\r\n").status,
        401
    );

    let json = request(
        &address,
        "POST",
        "/whip",
        &[("Content-Type", "application/json"), auth],
        "{}",
    );
    assert_eq!(json.status, 415, "{}", json.body);

    let broken = request(&address, "POST", "/whip", &[SDP, auth], "v=0\r\nx\r\n");
    assert_eq!(broken.status, 400);
    assert!(broken.body.contains("line 2"), "{}", broken.body);

    let unknown = request(
        &address,
        "PATCH",
        "/whip/nonexistent",
        &[SDPFRAG, auth],
        "a=end-of-candidates\r\n",
    );
    assert_eq!(unknown.status, 404);
    assert_eq!(
        request(&address, "DELETE", "/whip/nonexistent", &[auth], "").status,
        404
    );
    assert_eq!(request(&address, "GET", "/whip", &[auth], "").status, 405);

    // A token guards the endpoint: any origin may use it, with CORS.
    let preflight = request(
        &address,
        "OPTIONS",
        "/whip",
        &[
            ("Origin", "https://publisher.example"),
            ("Access-Control-Request-Method", "POST"),
        ],
        "",
    );
    assert_eq!(preflight.status, 204);
    assert_eq!(
        preflight.header("access-control-allow-origin"),
        Some("https://publisher.example")
    );
    assert!(
        preflight
            .header("access-control-allow-headers")
            .is_some_and(|h| h.contains("Authorization") && h.contains("If-Match"))
    );
    assert!(
        preflight
            .header("access-control-expose-headers")
            .is_some_and(|h| h.contains("Location") && h.contains("ETag"))
    );
}

#[test]
fn without_a_token_only_the_pages_origin_and_allowed_ones_may_use_it() {
    let server = serve_with(&["--allow-origin", "https://allowed.example"]);
    let address = server.address();
    let own = format!("http://{address}");
    for (origin, status) in [
        (own.as_str(), 204),
        ("https://allowed.example", 204),
        ("https://evil.example", 403),
    ] {
        let preflight = request(&address, "OPTIONS", "/whip", &[("Origin", origin)], "");
        assert_eq!(preflight.status, status, "{origin}");
    }
    let refused = request(
        &address,
        "POST",
        "/whip",
        &[SDP, ("Origin", "https://evil.example")],
        "v=0\r\n",
    );
    assert_eq!(refused.status, 403);
}
