//! Shared fixtures: corpus access, a deterministic entropy source, and answering helpers.

#![allow(dead_code, unreachable_pub)]

pub mod coturn;
pub mod loopback;
pub mod sim;

use std::path::PathBuf;

use antiphon_codec::Capabilities;
use antiphon_peer::answer::{
    self, Answer, AnswerContext, AnswerOptions, LocalSection, LocalTransport, SessionOrigin,
};
use antiphon_peer::{Entropy, Negotiator};
use antiphon_sdp::{Fingerprint, SessionDescription};

/// `../shared/corpus`, which must exist.
pub fn corpus() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus"
    ));
    assert!(
        dir.is_dir(),
        "the shared corpus is missing at {}",
        dir.display()
    );
    dir
}

/// A corpus SDP file's text.
pub fn corpus_sdp(name: &str) -> String {
    let path = corpus().join("sdp/valid").join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// The bundled real Chromium 156 offer (audio, video, data channel).
pub fn chromium_offer() -> String {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../cli/offers/chromium-audio-video-data.json"
    );
    let json = std::fs::read_to_string(path).expect("bundled Chromium offer");
    antiphon_peer::RTCSessionDescriptionInit::from_json(&json)
        .expect("browser JSON")
        .sdp
}

/// Parses leniently, as setRemoteDescription does.
pub fn parse(text: &str) -> SessionDescription {
    antiphon_sdp::parse_with(text.as_bytes(), &antiphon_sdp::ParseOptions::lenient())
        .unwrap_or_else(|e| panic!("offer does not parse: {e}"))
        .description
}

/// A deterministic entropy source.
pub struct Counter(pub u64);

impl Entropy for Counter {
    fn next_u32(&mut self) -> u32 {
        self.0 += 1;
        (self.0 as u32).wrapping_mul(2_654_435_761)
    }
    fn next_u64(&mut self) -> u64 {
        self.0 += 1;
        self.0.wrapping_mul(0x9E37_79B9_7F4A_7C15)
    }
}

/// A negotiator with browser-default capabilities.
pub fn negotiator(options: AnswerOptions) -> Negotiator {
    Negotiator::new(
        Capabilities::browser_default(),
        options,
        Box::new(Counter(7)),
    )
}

/// The `k`-th test transport: distinct credentials per transport.
pub fn transport(k: usize) -> LocalTransport {
    LocalTransport {
        ice_ufrag: format!("uf{k:02}"),
        ice_pwd: format!("pwd{k:02}pwd{k:02}pwd{k:02}pwd{k:02}pw"),
        fingerprints: vec![Fingerprint {
            algorithm: "sha-256".to_owned(),
            value: "AB:".repeat(31) + "AB",
        }],
        ..LocalTransport::default()
    }
}

/// Answers `offer` with `local` transceivers and `options`.
pub fn answer_with(
    offer: &SessionDescription,
    local: &[LocalSection],
    options: &AnswerOptions,
) -> Answer {
    let capabilities = Capabilities::browser_default();
    let context = AnswerContext {
        offer,
        local_sections: local,
        capabilities: &capabilities,
        options,
    };
    let plan = answer::plan_answer(&context);
    let transports: Vec<_> = (0..plan.transports_needed()).map(transport).collect();
    plan.write(
        offer,
        &transports,
        SessionOrigin {
            session_id: 42,
            session_version: 1,
        },
        options,
    )
    .expect("enough transports")
}

/// Answers with default options and default (recvonly) transceivers, and re-parses the written
/// answer so tests look at what goes on the wire.
pub fn answer_text(offer_text: &str) -> (SessionDescription, SessionDescription) {
    answer_sections(offer_text, &[], &AnswerOptions::default())
}

/// Like [`answer_text`] with explicit transceivers and options.
pub fn answer_sections(
    offer_text: &str,
    local: &[LocalSection],
    options: &AnswerOptions,
) -> (SessionDescription, SessionDescription) {
    let offer = parse(offer_text);
    let answer = answer_with(&offer, local, options);
    let written = answer.description.to_string();
    let reparsed = antiphon_sdp::parse(&written)
        .unwrap_or_else(|e| panic!("our answer does not parse strictly: {e}\n{written}"))
        .description;
    (offer, reparsed)
}

/// A minimal offer: session lines, then the given m= sections.
pub fn offer(sections: &[&str]) -> String {
    let mut text = String::from("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n");
    for section in sections {
        text.push_str(section);
    }
    text
}

/// Transport attributes for a test section.
pub const TRANSPORT: &str = "a=ice-ufrag:ufrA\r\na=ice-pwd:0123456789012345678901\r\na=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\na=setup:actpass\r\n";

/// An audio section with opus and the given extra lines.
pub fn audio(mid: &str, extra: &str) -> String {
    format!(
        "m=audio 9 UDP/TLS/RTP/SAVPF 111 0\r\nc=IN IP4 0.0.0.0\r\n{TRANSPORT}a=mid:{mid}\r\na=rtcp-mux\r\na=rtpmap:111 opus/48000/2\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n{extra}"
    )
}

/// A video section with VP8 + rtx and the given extra lines.
pub fn video(mid: &str, extra: &str) -> String {
    format!(
        "m=video 9 UDP/TLS/RTP/SAVPF 96 97\r\nc=IN IP4 0.0.0.0\r\n{TRANSPORT}a=mid:{mid}\r\na=rtcp-mux\r\na=rtpmap:96 VP8/90000\r\na=rtcp-fb:96 nack\r\na=rtcp-fb:96 nack pli\r\na=rtpmap:97 rtx/90000\r\na=fmtp:97 apt=96\r\n{extra}"
    )
}

/// A data channel section.
pub fn data(mid: &str) -> String {
    format!(
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n{TRANSPORT}a=mid:{mid}\r\na=sctp-port:5000\r\na=max-message-size:262144\r\n"
    )
}

/// The plan of the answer to `offer` with default options and transceivers.
pub fn plan(offer: &SessionDescription) -> answer::AnswerPlan {
    let capabilities = Capabilities::browser_default();
    let options = AnswerOptions::default();
    answer::plan_answer(&AnswerContext {
        offer,
        local_sections: &[],
        capabilities: &capabilities,
        options: &options,
    })
}

/// Answers `offer` with default options and transceivers on the given transports, and re-parses
/// the written answer strictly.
pub fn answer_with_transports(
    offer: &SessionDescription,
    transports: &[LocalTransport],
) -> SessionDescription {
    let written = plan(offer)
        .write(
            offer,
            transports,
            SessionOrigin {
                session_id: 42,
                session_version: 1,
            },
            &AnswerOptions::default(),
        )
        .expect("enough transports")
        .description
        .to_string();
    antiphon_sdp::parse(&written)
        .unwrap_or_else(|e| panic!("our answer does not parse strictly: {e}\n{written}"))
        .description
}
