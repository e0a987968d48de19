//! Real browsers end to end, each scenario in both Chromium and Firefox ESR: the browser loads
//! `antiphon serve`'s page, offers over the `/ws` WebSocket (its log lines come back as the
//! server's `browser: ...`), applies Antiphon's answer, and must reach `connected` (ICE, then
//! DTLS with the fingerprint checked) and get every data channel message echoed back.
//!
//! The page's `?auto=1` checks (crates/cli/web/index.html) run three data channels (reliable
//! ordered, unordered with a retransmit limit, lifetime-limited) with text and binary echoes,
//! then what the query adds: media with fake devices, simulcast, receive-only media, ICE
//! restart, renegotiation adding audio then video, an RSA certificate, and 100 round trips of
//! 256 KiB messages. With media, every sending section's first codec in Antiphon's answer must
//! be the one the browser's sender reports and sends (getStats).
//!
//! Run inside a loopback-only network namespace (`cargo xtask test`); needs Chromium and
//! Firefox ESR (`.ci/run` installs both): fails, never skips, without them.

mod common;

use std::time::{Duration, Instant};

use common::browser::{Browser, Trust};
use common::coturn::{Auth, Coturn};
use common::lossy_relay::LossyRelay;
use common::{Server, serve_with};

/// Opens the page with `query` in `browser` and collects the server's output until the page
/// reports its result (or 120 s pass).
fn run(browser: Browser, server: &Server, query: &str, trust: &Trust<'_>) -> Vec<String> {
    let _running = browser.open_trusting(&format!("{}?{query}", server.url), trust);
    lines_until(server, Duration::from_secs(120), |line| {
        line.starts_with("browser: result ")
    })
}

/// The server's lines until one satisfies `last` (included), or `limit` passes.
fn lines_until(server: &Server, limit: Duration, last: impl Fn(&str) -> bool) -> Vec<String> {
    let deadline = Instant::now() + limit;
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = server.lines.recv_timeout(left) else {
            break;
        };
        let done = last(&line);
        seen.push(line);
        if done {
            break;
        }
    }
    seen
}

/// Runs `query` and checks the page's result and the connection on both sides; returns the
/// output and the same joined for messages.
fn passes(browser: Browser, query: &str) -> (Vec<String>, String) {
    passes_with(browser, query, &[])
}

/// [`passes`] against `antiphon serve` started with `args`.
fn passes_with(browser: Browser, query: &str, args: &[&str]) -> (Vec<String>, String) {
    let server = serve_with(args);
    passes_on(browser, &server, query, &Trust::Nothing)
}

/// [`passes`] against a running `server`, the browser trusting what `trust` says.
fn passes_on(
    browser: Browser,
    server: &Server,
    query: &str,
    trust: &Trust<'_>,
) -> (Vec<String>, String) {
    let lines = run(browser, server, query, trust);
    let joined = lines.join("\n");
    let name = browser.name();
    assert!(
        lines.iter().any(|l| l == "browser: result ok"),
        "{name} ?{query}:\n{joined}"
    );
    assert!(
        joined.contains("browser: connection connected"),
        "{name}: {joined}"
    );
    assert!(
        joined.contains("connection Connected"),
        "{name}: Antiphon's side connected too:\n{joined}"
    );
    // Trickle both ways: the page offers before gathering, so its candidates reach Antiphon
    // only as `candidate` messages, each applied (a refused one is logged); Antiphon's answer
    // carries its host candidates and its end-of-candidates follows as a message.
    let trickle = lines
        .iter()
        .find_map(|l| l.strip_prefix("browser: trickle sent "))
        .unwrap_or_else(|| panic!("{name}: the page reports its trickle:\n{joined}"));
    let sent: u32 = trickle
        .split(' ')
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(
        sent >= 1 && trickle.ends_with(" end"),
        "{name}: candidates trickled both ways: {trickle}\n{joined}"
    );
    assert!(
        !joined.contains("candidate refused"),
        "{name}: Antiphon applied every trickled candidate:\n{joined}"
    );
    // Antiphon's getStats, as the page shows it: a connected transport, a selected pair with a
    // measured round trip, and the page's channels open with messages both ways. Through a
    // relay a round trip may go unmeasured: a check answered only once retransmitted (the
    // browser's relay dropped the first for want of a permission, or the loaded machine took
    // longer than the 250 ms timeout through coturn) measures nothing (Karn's rule).
    let stats = lines
        .iter()
        .find_map(|l| l.strip_prefix("browser: antiphon stats "))
        .unwrap_or_else(|| panic!("{name}: the page shows Antiphon's stats:\n{joined}"));
    let relayed = query.contains("relay=1");
    assert!(
        stats.contains(", dtls connected (")
            && stats.contains(", pair succeeded rtt ")
            && (relayed || !stats.contains(" rtt -"))
            && stats.contains("chat open "),
        "{name}: {stats}"
    );
    for label in ["chat", "unordered", "lifetime"] {
        assert!(
            joined.contains(&format!("data channel {label:?} open")),
            "{name}: {label}:\n{joined}"
        );
    }
    assert!(
        joined.contains(
            "browser: channels open chat:ordered:-:- unordered:unordered:5:- lifetime:ordered:-:5000"
        ),
        "{name}: the three reliability kinds:\n{joined}"
    );
    assert!(
        joined.contains("browser: echoed on chat,unordered,lifetime"),
        "{name}: {joined}"
    );
    // The page's live figures: a measured round trip, a row per channel, and the timeline's
    // connected states on both sides.
    let live = lines
        .iter()
        .find_map(|l| l.strip_prefix("browser: live "))
        .unwrap_or_else(|| panic!("{name}: the page reports its live figures:\n{joined}"));
    assert!(
        live.starts_with("rtt ")
            && (relayed || !live.starts_with("rtt -"))
            && live.ends_with(" timeline 5/5"),
        "{name}: {live}"
    );
    let rows: usize = live
        .split(" channels ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    assert!(rows >= 3, "{name}: a row per data channel: {live}");
    (lines, joined)
}

/// The page's `negotiated mid=.. answer=.. sender=.. stats=..` lines: per sending section, the
/// first codec of Antiphon's answer (`kind/name/pt`), the browser's sender's first negotiated
/// codec (`getParameters().codecs[0]`) and the codec of the RTP it sends (`getStats()`
/// outbound-rtp -> codec). All three must agree; returns the answer's codec per section.
fn negotiated_codecs(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("browser: negotiated "))
        .map(|line| {
            let field = |name: &str| {
                line.split(' ')
                    .find_map(|f| f.strip_prefix(name))
                    .unwrap_or_else(|| panic!("{name} in {line}"))
                    .to_owned()
            };
            let (answer, sender, stats) = (field("answer="), field("sender="), field("stats="));
            assert_eq!(answer, sender, "the sender's codec is the answer's: {line}");
            assert_eq!(
                answer, stats,
                "the browser sends the answer's codec: {line}"
            );
            answer
        })
        .collect()
}

/// Data channels, audio + video with fake devices (the answer's first codecs are what the
/// browser sends), and 100 round trips of 256 KiB messages, none stalled (5 s each at most;
/// the page reports the percentiles).
fn data_media_and_large_messages(browser: Browser) {
    let (lines, joined) = passes(browser, "auto=1&media=1&large=100");
    assert!(
        joined.contains("browser: antiphon connection connected"),
        "the page got Antiphon's state over the WebSocket:\n{joined}"
    );
    let codecs = lines
        .iter()
        .find(|l| l.starts_with("browser: codecs "))
        .unwrap_or_else(|| panic!("no codec report:\n{joined}"));
    assert!(
        codecs.contains("audio:sendrecv:audio/opus") && codecs.contains("video:sendrecv:video/VP8"),
        "opus and VP8 first, both ways (Antiphon returns the media): {codecs}"
    );
    media_came_back(browser, &lines, &joined);
    // Transport-wide congestion control feedback from Antiphon on what the page sent lets
    // Chromium's estimate rise from its 300 kbps start (without it, it stays at 281.6 kbps and
    // the camera at about 200 kbps); Firefox does not report its estimate.
    let back = media_report(&lines, &joined);
    // Nothing was lost on purpose: a handful of NACKs at most, each answered once. (Without
    // the MID in Antiphon's RTX packets, Firefox dropped them and NACKed one packet 40 to
    // 260 times.)
    assert!(
        figure(back, "antiphon-resent") <= 20.0,
        "retransmissions reached the browser: {back}"
    );
    if browser == Browser::Chromium {
        assert!(
            figure(back, "page-bwe") > 400_000.0,
            "Chromium's estimate rose: {back}"
        );
    }
    let negotiated = negotiated_codecs(&lines);
    assert_eq!(negotiated.len(), 2, "audio and video:\n{joined}");
    assert!(
        negotiated[0].starts_with("audio/opus/") && negotiated[1].starts_with("video/vp8/"),
        "{negotiated:?}"
    );
    let large = lines
        .iter()
        .find(|l| l.starts_with("browser: large ok 100 x 262144 bytes"))
        .unwrap_or_else(|| panic!("100 round trips of 256 KiB:\n{joined}"));
    #[expect(
        clippy::print_stdout,
        reason = "the timings, for a reader of the test output"
    )]
    {
        println!("{}: {large}", browser.name());
    }
}

/// The page's media through a relay that drops 5% of the RTP both ways (between the browser
/// and coturn, the browser relay-only): the returned video keeps decoding for 150 frames,
/// and the loss was repaired both ways: the browser resent for Antiphon's NACKs, Antiphon for
/// the browser's.
fn media_repaired_under_loss(browser: Browser) {
    let server = Coturn::start(Auth::User {
        username: "alice".into(),
        password: "secret".into(),
    });
    let upstream = std::net::SocketAddr::from(([127, 0, 0, 1], server.port));
    let relay = LossyRelay::start(upstream, 0.05, 20_261_204);
    let url = format!("turn:127.0.0.1:{}", relay.port);
    let args = [
        "--ice-server",
        url.as_str(),
        "--ice-username",
        "alice",
        "--ice-credential",
        "secret",
    ];
    let (lines, joined) = passes_with(browser, "auto=1&media=1&relay=1&minframes=150", &args);
    media_came_back(browser, &lines, &joined);
    let back = media_report(&lines, &joined);
    let figure = |name: &str| figure(back, name);
    let (dropped, forwarded) = relay.counts();
    let name = browser.name();
    #[expect(
        clippy::print_stdout,
        reason = "the figures, for a reader of the test output"
    )]
    {
        println!("{name}: relay dropped {dropped} RTP datagrams, forwarded {forwarded}");
    }
    assert!(dropped > 10, "{name}: the relay dropped media: {dropped}");
    assert!(figure("frames") > 150.0, "{name}: {back}");
    assert!(
        figure("antiphon-resent") > 0.0,
        "{name}: Antiphon answered NACKs: {back}"
    );
    assert!(
        figure("page-resent") > 0.0,
        "{name}: Antiphon's NACKs were answered: {back}"
    );
}

/// The page's `media back` report: the figures after `browser: media back `.
fn media_report<'a>(lines: &'a [String], joined: &str) -> &'a str {
    lines
        .iter()
        .find_map(|l| l.strip_prefix("browser: media back "))
        .unwrap_or_else(|| panic!("no media report:\n{joined}"))
}

/// The number after the first word `name` in a report (`... frames 152 ...`).
fn figure(report: &str, name: &str) -> f64 {
    let words: Vec<&str> = report.split(' ').collect();
    words
        .iter()
        .position(|w| *w == name)
        .and_then(|i| words.get(i + 1)?.parse().ok())
        .unwrap_or_else(|| panic!("no {name} in {report:?}"))
}

/// The page's camera and microphone came back through Antiphon: the browser received the
/// returned audio and decoded its samples, and decoded the returned video.
fn media_came_back(browser: Browser, lines: &[String], joined: &str) {
    let back = media_report(lines, joined);
    let words: Vec<&str> = back.split(' ').collect();
    let figure = |name: &str| figure(back, name);
    #[expect(
        clippy::print_stdout,
        reason = "the figures, for a reader of the test output"
    )]
    {
        println!("{}: media back {back}", browser.name());
    }
    assert!(figure("packets") > 0.0, "audio came back: {back}");
    assert!(
        figure("samples") > 0.0,
        "the returned audio decodes: {back}"
    );
    assert!(
        figure("energy") > 0.0,
        "the returned audio is not silence: {back}"
    );
    let video_packets = words
        .iter()
        .rposition(|w| *w == "packets")
        .and_then(|i| words.get(i + 1)?.parse::<u64>().ok())
        .unwrap_or(0);
    assert!(video_packets > 0, "video came back: {back}");
    assert!(
        figure("frames") > 10.0,
        "the returned video decodes: {back}"
    );
    // Antiphon's getStats of the same streams: received, sent back, and reported on by the
    // browser's receiver (remote-inbound-rtp with a round trip).
    assert!(
        figure("inbound") > 0.0 && figure("outbound") > 0.0,
        "{back}"
    );
    assert!(
        figure("reported") >= 1.0,
        "the browser's receiver reports reached Antiphon: {back}"
    );
    // Antiphon numbered what it sent transport-wide; the browser's feedback on it came back.
    assert!(
        figure("antiphon-twcc") > 0.0,
        "the browser's transport-wide feedback reached Antiphon: {back}"
    );
}

/// Three-layer simulcast video offered; receive-only audio and video answered inactive.
fn simulcast_and_receive_only(browser: Browser) {
    let (lines, joined) = passes(browser, "auto=1&media=simulcast");
    assert!(
        joined.contains("video:sendonly:video/VP8/video/rtx/") && joined.contains(":rids=h,m,l"),
        "{joined}"
    );
    let negotiated = negotiated_codecs(&lines);
    assert_eq!(negotiated.len(), 1, "{joined}");
    assert!(negotiated[0].starts_with("video/vp8/"), "{negotiated:?}");
    // Antiphon receives the layers as streams of their own, told apart by their rids (the
    // browsers send two of the three for the fake camera's 640x480: Chromium h and m, Firefox
    // m and l).
    let rids: Vec<&str> = lines
        .iter()
        .find_map(|l| l.strip_prefix("browser: antiphon simulcast rids "))
        .unwrap_or_else(|| panic!("no simulcast report:\n{joined}"))
        .split(',')
        .collect();
    assert!(
        rids.len() >= 2 && rids.iter().all(|rid| ["h", "m", "l"].contains(rid)),
        "{rids:?}\n{joined}"
    );

    let (_, joined) = passes(browser, "auto=1&media=recvonly");
    assert!(
        joined.contains("audio:inactive") && joined.contains("video:inactive"),
        "{joined}"
    );
}

/// On one connection: renegotiation adding audio, then video (new offers on the same
/// WebSocket, the data channels carrying on), then an ICE restart (`pc.restartIce()`): new
/// credentials both ways, the browser's selected pair on them, messages echoed after it.
fn renegotiation_and_ice_restart(browser: Browser) {
    let (_, joined) = passes(browser, "auto=1&renegotiate=1&restart=1");
    assert!(
        joined.contains("browser: renegotiated audio:sendrecv,video:sendrecv"),
        "{joined}"
    );
    assert!(joined.contains("answered a new offer"), "{joined}");
    assert!(
        joined.contains("browser: restart new credentials"),
        "{joined}"
    );
    assert!(
        joined.contains("browser: restart selected pair new connected"),
        "the selected pair uses the restarted credentials:\n{joined}"
    );
    assert!(!joined.contains("browser: connection failed"), "{joined}");
    assert!(!joined.contains("offer refused"), "{joined}");
}

/// The browser's DTLS certificate is RSA (`generateCertificate`), not its default ECDSA: the
/// handshake and the fingerprint check still pass (Antiphon's own stays ECDSA).
/// Perfect negotiation with glare: both sides offer at once (the page polite, Antiphon
/// impolite); Antiphon ignores the page's offer, the page rolls back and answers, then offers
/// again, and both transceivers end up negotiated.
fn perfect_negotiation_with_glare(browser: Browser) {
    let (_, joined) = passes(browser, "auto=1&glare=1");
    let name = browser.name();
    for expected in [
        "offered (negotiationneeded)",
        "ignored a colliding offer",
        "the page answered our offer",
    ] {
        assert!(joined.contains(expected), "{name}: {expected}:\n{joined}");
    }
    assert!(
        joined.contains("browser: glare settled audio:sendrecv,video:inactive"),
        "{name}: the page's audio and Antiphon's video negotiated:\n{joined}"
    );
}

/// An offer without BUNDLE (the page strips its group, as a peer that does not bundle):
/// audio, video and data each on a transport of their own, all three connected with DTLS on
/// both sides, the data channels echoing on theirs.
fn every_transport_without_bundle(browser: Browser) {
    let (lines, joined) = passes(browser, "auto=1&media=1&bundle=none");
    let name = browser.name();
    #[expect(
        clippy::print_stdout,
        reason = "the transports, for a reader of the test output"
    )]
    for line in lines
        .iter()
        .filter(|l| l.starts_with("browser: transports "))
    {
        println!("{name}: {line}");
    }
    assert!(
        joined.contains(
            "browser: transports browser connected,connected,connected antiphon connected,connected,connected"
        ),
        "{name}: three transports connected on both sides:\n{joined}"
    );
}

/// `antiphon serve --udp-port 0`: every connection on one UDP port the system picks (a UDP
/// mux). An offer without BUNDLE (three transports, each its own endpoint of the mux) with
/// media: all three connect, and every candidate Antiphon answered with is on the mux's port.
fn one_udp_port(browser: Browser) {
    let server = serve_with(&["--udp-port", "0"]);
    let name = browser.name();
    // The line after `listening on`.
    let media = server
        .lines
        .recv_timeout(Duration::from_secs(10))
        .expect("serve names its UDP port");
    let mux_ports: Vec<String> = media
        .strip_prefix("media on udp ")
        .unwrap_or_else(|| panic!("{name}: serve names its UDP port: {media}"))
        .split(' ')
        .filter_map(|a| a.rsplit(':').next().map(str::to_owned))
        .collect();
    let (lines, joined) = passes_on(
        browser,
        &server,
        "auto=1&media=1&bundle=none&mux=1",
        &Trust::Nothing,
    );
    let answered = lines
        .iter()
        .find_map(|l| l.strip_prefix("browser: answer ports "))
        .unwrap_or_else(|| panic!("{name}: the page reports the answer's ports:\n{joined}"));
    assert!(
        !answered.is_empty()
            && answered
                .split(',')
                .all(|p| mux_ports.iter().any(|m| m == p)),
        "{name}: answered ports {answered} are the mux's {mux_ports:?}"
    );
    assert!(
        joined.contains(
            "browser: transports browser connected,connected,connected antiphon connected,connected,connected"
        ),
        "{name}: three transports connected on one port:\n{joined}"
    );
}

/// The page with `iceTransportPolicy: "relay"` and coturn as its TURN server (`url`, from
/// `antiphon serve --ice-server`): every message goes through the relay, and the browser's
/// selected pair has a relay candidate on its side (Antiphon, with every candidate allowed,
/// may answer from its host candidate).
/// `shared_secret`: coturn takes ephemeral credentials (`use-auth-secret`) and `antiphon serve
/// --ice-secret` makes them for the page and for each session.
fn relayed_through_coturn(browser: Browser, transport: &str, shared_secret: bool) {
    let server = Coturn::start(if shared_secret {
        Auth::Secret("s3cret".into())
    } else {
        Auth::User {
            username: "alice".into(),
            password: "secret".into(),
        }
    });
    let url = match transport {
        "udp" => format!("turn:127.0.0.1:{}", server.port),
        _ => format!("turn:127.0.0.1:{}?transport={transport}", server.port),
    };
    let credentials: [&str; 4] = if shared_secret {
        ["--ice-username", "page", "--ice-secret", "s3cret"]
    } else {
        ["--ice-username", "alice", "--ice-credential", "secret"]
    };
    let mut args = vec!["--ice-server", url.as_str()];
    args.extend(credentials);
    let (_, joined) = passes_with(browser, "auto=1&relay=1", &args);
    let name = browser.name();
    assert!(
        joined.contains(&format!(
            "browser: selected local browser relay/{transport} antiphon "
        )),
        "{name}: the browser's side of the selected pair is its relay candidate:\n{joined}\ncoturn:\n{}",
        server.log()
    );
}

/// `antiphon serve` over HTTPS, the page's WebSocket over WSS (the page picks `wss:` on
/// `https:`): Chromium with `--tls-self-signed`, trusting the public key the server prints
/// (`--ignore-certificate-errors-spki-list`); Firefox with `--tls-cert`/`--tls-key` from a
/// throwaway CA put into its profile's certificate database. Media needs the secure context.
/// Without that trust, neither browser loads the page (checked by hand: the test then fails).
fn over_https(browser: Browser) {
    let dir = std::env::temp_dir().join(format!(
        "antiphon-https-{}-{}",
        browser.name(),
        std::process::id()
    ));
    std::fs::create_dir_all(&dir).expect("a directory for the certificates");
    let (ca, cert, key) = common::coturn::throwaway_certificates();
    let (ca_path, cert_path, key_path) = (
        dir.join("ca.pem"),
        dir.join("cert.pem"),
        dir.join("key.pem"),
    );
    for (path, pem) in [(&ca_path, &ca), (&cert_path, &cert), (&key_path, &key)] {
        std::fs::write(path, pem).expect("write a PEM file");
    }
    let server = match browser {
        Browser::Chromium => serve_with(&["--tls-self-signed"]),
        Browser::Firefox => serve_with(&[
            "--tls-cert",
            cert_path.to_str().expect("UTF-8 path"),
            "--tls-key",
            key_path.to_str().expect("UTF-8 path"),
        ]),
    };
    assert!(
        server.url.starts_with("https://127.0.0.1:"),
        "{}",
        server.url
    );
    let fingerprint = server
        .lines
        .recv_timeout(Duration::from_secs(5))
        .expect("the fingerprint");
    assert!(
        fingerprint.starts_with("certificate sha-256 "),
        "{fingerprint}"
    );
    let spki;
    let trust = match browser {
        Browser::Chromium => {
            let line = server
                .lines
                .recv_timeout(Duration::from_secs(5))
                .expect("the key's hash");
            spki = line
                .strip_prefix("public key sha-256 (base64) ")
                .unwrap_or_else(|| panic!("{line}"))
                .to_owned();
            Trust::PublicKey(&spki)
        }
        Browser::Firefox => Trust::Authority(&ca_path),
    };
    let (lines, joined) = passes_on(browser, &server, "auto=1&media=1", &trust);
    assert!(
        joined.contains("browser: signaling wss:"),
        "{}: the page's WebSocket is wss:\n{joined}",
        browser.name()
    );
    assert_eq!(
        negotiated_codecs(&lines).len(),
        2,
        "audio and video:\n{joined}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The WHIP client page (`/whip.html`, RFC 9725): camera, microphone and a data channel
/// published with `POST /whip`, the browser's candidates trickled in `PATCH` requests (each
/// `If-Match` the ETag), the echo checked, an ICE restart (`PATCH` with `If-Match: *`, our new
/// credentials and candidates applied from the answer fragment), the echo checked again, then
/// `DELETE`: the page sends it only when every step before it succeeded.
fn whip_client_page(browser: Browser) {
    let server = serve_with(&[]);
    let _running = browser.open(&format!("{}whip.html?auto=1&restart=1", server.url));
    let seen = lines_until(&server, Duration::from_secs(90), |line| {
        line.starts_with("whip session ") && line.ends_with(" deleted")
    });
    let joined = seen.join("\n");
    let name = browser.name();
    for expected in [
        " created",
        ": connection Connected",
        ": data channel \"whip\" open",
        ": ICE restarted",
        " deleted",
    ] {
        assert!(joined.contains(expected), "{name}: {expected}:\n{joined}");
    }
    assert!(!joined.contains("whip refused"), "{name}:\n{joined}");
}

fn rsa_certificate(browser: Browser) {
    passes(browser, "auto=1&cert=rsa");
}

#[test]
fn chromium_one_udp_port() {
    one_udp_port(Browser::Chromium);
}

#[test]
fn firefox_one_udp_port() {
    one_udp_port(Browser::Firefox);
}

#[test]
fn chromium_data_media_and_large_messages() {
    data_media_and_large_messages(Browser::Chromium);
}

#[test]
fn firefox_data_media_and_large_messages() {
    data_media_and_large_messages(Browser::Firefox);
}

#[test]
fn chromium_simulcast_and_receive_only() {
    simulcast_and_receive_only(Browser::Chromium);
}

#[test]
fn firefox_simulcast_and_receive_only() {
    simulcast_and_receive_only(Browser::Firefox);
}

#[test]
fn chromium_renegotiation_and_ice_restart() {
    renegotiation_and_ice_restart(Browser::Chromium);
}

#[test]
fn firefox_renegotiation_and_ice_restart() {
    renegotiation_and_ice_restart(Browser::Firefox);
}

#[test]
fn chromium_perfect_negotiation_with_glare() {
    perfect_negotiation_with_glare(Browser::Chromium);
}

#[test]
fn firefox_perfect_negotiation_with_glare() {
    perfect_negotiation_with_glare(Browser::Firefox);
}

#[test]
fn chromium_rsa_certificate() {
    rsa_certificate(Browser::Chromium);
}

#[test]
fn firefox_rsa_certificate() {
    rsa_certificate(Browser::Firefox);
}

#[test]
fn chromium_every_transport_without_bundle() {
    every_transport_without_bundle(Browser::Chromium);
}

#[test]
fn firefox_every_transport_without_bundle() {
    every_transport_without_bundle(Browser::Firefox);
}

#[test]
fn chromium_media_repaired_under_loss() {
    media_repaired_under_loss(Browser::Chromium);
}

#[test]
fn firefox_media_repaired_under_loss() {
    media_repaired_under_loss(Browser::Firefox);
}

#[test]
fn chromium_relayed_through_coturn_over_udp() {
    relayed_through_coturn(Browser::Chromium, "udp", false);
}

#[test]
fn chromium_relayed_through_coturn_over_tcp() {
    relayed_through_coturn(Browser::Chromium, "tcp", false);
}

#[test]
fn chromium_relayed_through_coturn_with_credentials_from_a_shared_secret() {
    relayed_through_coturn(Browser::Chromium, "udp", true);
}

#[test]
fn firefox_relayed_through_coturn_over_udp() {
    relayed_through_coturn(Browser::Firefox, "udp", false);
}

#[test]
fn chromium_over_https_with_a_self_signed_certificate() {
    over_https(Browser::Chromium);
}

#[test]
fn firefox_over_https_with_a_certificate_of_a_trusted_authority() {
    over_https(Browser::Firefox);
}

#[test]
fn chromium_whip_client_page() {
    whip_client_page(Browser::Chromium);
}

#[test]
fn firefox_whip_client_page() {
    whip_client_page(Browser::Firefox);
}
