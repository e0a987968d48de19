//! Real-browser interop end to end: headless Chromium loads `antiphon serve`'s page and offers a
//! data channel over the `/ws` WebSocket (its log lines come back as the server's
//! `browser: ...`), alone, with fake camera and microphone tracks, with three-layer simulcast
//! video, or with receive-only audio and video; it applies Antiphon's answer, and must reach
//! `connected` (ICE, then DTLS with the fingerprint checked) and get its text and binary
//! messages echoed back over the data channel. With media, every sending section's first
//! codec in Antiphon's answer must be the one Chromium's sender reports and sends (getStats).
//! A separate test restarts ICE after the echoes (scenario (e)).
//!
//! Needs Chromium (`/usr/bin/chromium`; `CHROMIUM` overrides): fails, never skips, without it.

mod common;

use std::process::{Command, Stdio};

use common::{Server, serve};
use std::time::{Duration, Instant};

/// Runs Chromium on `query` and collects the server's output until `result ok` (or 60 s).
fn run_browser(server: &Server, query: &str) -> Vec<String> {
    let chromium = std::env::var("CHROMIUM").unwrap_or_else(|_| "/usr/bin/chromium".to_owned());
    assert!(
        std::path::Path::new(&chromium).exists(),
        "Chromium is required for this test: apt-get install chromium (or set CHROMIUM)"
    );
    let profile = std::env::temp_dir().join(format!(
        "antiphon-dc-{}-{}",
        std::process::id(),
        query.len()
    ));
    let mut browser = Command::new(chromium)
        .args([
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--use-fake-device-for-media-stream",
            "--use-fake-ui-for-media-stream",
        ])
        .arg(format!("--user-data-dir={}", profile.display()))
        .arg(format!("{}?{query}", server.url))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start chromium");
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut seen = Vec::new();
    while let Some(left) = deadline.checked_duration_since(Instant::now()) {
        let Ok(line) = server.lines.recv_timeout(left) else {
            break;
        };
        let done = line == "browser: result ok";
        seen.push(line);
        if done {
            break;
        }
    }
    let _ = browser.kill();
    let _ = browser.wait();
    let _ = std::fs::remove_dir_all(&profile);
    seen
}

/// The page's `negotiated mid=.. answer=.. sender=.. stats=..` lines: per sending section, the
/// first codec of Antiphon's answer (`kind/name/pt`), Chromium's sender's first negotiated codec
/// (`getParameters().codecs[0]`) and the codec of the RTP it sends (`getStats()` outbound-rtp ->
/// codec). All three must agree; returns the answer's codec per section.
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
            assert_eq!(
                answer, sender,
                "Chromium's sender codec is the answer's: {line}"
            );
            assert_eq!(answer, stats, "Chromium sends the answer's codec: {line}");
            answer
        })
        .collect()
}

#[test]
fn chromium_connects_and_exchanges_data_channel_messages() {
    let server = serve();

    let data_only = run_browser(&server, "auto=1");
    let joined = data_only.join("\n");
    assert!(
        joined.contains("browser: result ok"),
        "data-channel-only offer:\n{joined}"
    );
    assert!(joined.contains("browser: connection connected"), "{joined}");
    assert!(
        joined.contains("connection Connected"),
        "Antiphon's side connected too:\n{joined}"
    );
    assert!(joined.contains("data channel \"chat\" open"), "{joined}");
    assert!(
        joined.contains("browser: antiphon connection connected"),
        "the page got Antiphon's state over the WebSocket:\n{joined}"
    );

    let media = run_browser(&server, "auto=1&media=1");
    let joined = media.join("\n");
    assert!(
        joined.contains("browser: result ok"),
        "audio+video+data offer:\n{joined}"
    );
    let codecs = media
        .iter()
        .find(|l| l.starts_with("browser: codecs "))
        .unwrap_or_else(|| panic!("no codec report:\n{joined}"));
    assert!(
        codecs.contains("audio:sendonly:audio/opus"),
        "Chromium sends opus first: {codecs}"
    );
    assert!(
        codecs.contains("video:sendonly:video/VP8"),
        "Chromium sends VP8 first: {codecs}"
    );

    let negotiated = negotiated_codecs(&media);
    assert_eq!(negotiated.len(), 2, "audio and video:\n{joined}");
    assert!(
        negotiated[0].starts_with("audio/opus/") && negotiated[1].starts_with("video/vp8/"),
        "{negotiated:?}"
    );

    let simulcast = run_browser(&server, "auto=1&media=simulcast");
    let joined = simulcast.join("\n");
    assert!(
        joined.contains("browser: result ok"),
        "simulcast offer:\n{joined}"
    );
    assert!(
        joined.contains("video:sendonly:video/VP8/video/rtx/video/H264:rids=h,m,l"),
        "{joined}"
    );
    let negotiated = negotiated_codecs(&simulcast);
    assert_eq!(negotiated.len(), 1, "{joined}");
    assert!(negotiated[0].starts_with("video/vp8/"), "{negotiated:?}");

    let recvonly = run_browser(&server, "auto=1&media=recvonly");
    let joined = recvonly.join("\n");
    assert!(
        joined.contains("browser: result ok"),
        "recvonly offer:\n{joined}"
    );
    assert!(
        joined.contains("audio:inactive") && joined.contains("video:inactive"),
        "{joined}"
    );
}

/// Scenario (e): after data flows, the page calls `pc.restartIce()` and sends the new offer over
/// the same WebSocket; Antiphon answers with new ICE credentials on the same connection and
/// restarts its ICE agent; Chromium's selected pair must move to the new credentials, stay
/// connected, and messages must echo again both ways.
#[test]
fn chromium_ice_restart_keeps_the_data_channel() {
    let server = serve();
    let seen = run_browser(&server, "auto=1&restart=1");
    let joined = seen.join("\n");
    assert!(
        joined.contains("browser: result ok"),
        "ICE restart:\n{joined}"
    );
    assert!(joined.contains("answered a new offer"), "{joined}");
    assert!(
        joined.contains("browser: restart new credentials"),
        "{joined}"
    );
    assert!(
        joined.contains("browser: restart selected pair new connected"),
        "Chromium's selected pair uses the restarted credentials:\n{joined}"
    );
    assert!(!joined.contains("browser: connection failed"), "{joined}");
}
