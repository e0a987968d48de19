//! createAnswer as a pure function: a real Chromium offer (audio, video and a data channel) in,
//! Antiphon's answer and the reason for every decision out. No socket, no task, no clock: the
//! ICE credentials, candidates and certificate fingerprint are given, as a server that keeps
//! its own would give them.
//!
//! ```sh
//! cargo run -p antiphon-peer --example answer_offer            # the bundled offer
//! cargo run -p antiphon-peer --example answer_offer -- offer.sdp
//! ```

#![allow(clippy::print_stdout, clippy::print_stderr)]

use antiphon_codec::Capabilities;
use antiphon_peer::RTCSessionDescriptionInit;
use antiphon_peer::answer::{
    self, AnswerContext, AnswerOptions, LocalSection, LocalTransport, SessionOrigin,
};

/// A real Chromium offer, as browser JSON (`{"type":"offer","sdp":...}`).
const BUNDLED: &str = include_str!("chromium-audio-video-data.json");

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let sdp = match std::env::args().nth(1) {
        Some(path) => std::fs::read_to_string(path)?,
        None => serde_json::from_str::<RTCSessionDescriptionInit>(BUNDLED)?.sdp,
    };
    // Parse errors carry the line and column.
    let offer = antiphon_sdp::parse(&sdp)?.description;

    // Our transport: ICE credentials, one host candidate, the sha-256 fingerprint of our DTLS
    // certificate (antiphon-dtls makes certificates; here it is a fixed value).
    let transport = LocalTransport {
        ice_ufrag: "Antp".into(),
        ice_pwd: "antiphonexamplepassword1".into(),
        candidates: vec!["1 1 udp 2130706431 127.0.0.1 50000 typ host".into()],
        gathering_complete: true,
        fingerprints: vec![antiphon_sdp::Fingerprint::new(
            "sha-256",
            "8F:4D:32:E3:6E:1C:A4:C5:36:1B:0A:88:52:9D:CE:6C:2F:0B:6E:07:3E:25:A4:1B:DB:F8:28:29:1F:D7:5F:4E",
        )],
        ..LocalTransport::default()
    };
    // Every offered section meets a receive-only transceiver, as with an RTCPeerConnection
    // that has no tracks yet.
    let local_sections = vec![LocalSection::default(); offer.media.len()];
    let context = AnswerContext {
        offer: &offer,
        local_sections: &local_sections,
        capabilities: &Capabilities::browser_default(),
        options: &AnswerOptions::default(),
    };
    let origin = SessionOrigin {
        session_id: 4_611_731_400_430_051_336,
        session_version: 2,
    };
    let answer = answer::create_answer(&context, &[transport], origin)?;
    print!("{}", answer.description);
    eprintln!("{}", answer.explanation);
    Ok(())
}
