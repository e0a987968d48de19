//! Structured offers (built with `arbitrary` from plausible pieces, so the fuzzer spends its time
//! in negotiation rather than in the parser) into the pure answer function. Every answer must
//! parse strictly and pass the numbered checklist.
#![no_main]

use antiphon_codec::{Capabilities, Direction};
use antiphon_peer::answer::{
    AnswerContext, AnswerOptions, LocalSection, LocalTransport, SessionOrigin, create_answer,
};
use antiphon_peer::checklist::check_answer;
use antiphon_peer::{RTCBundlePolicy, RTCRtcpMuxPolicy};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

const CODECS: &[&str] = &[
    "opus/48000/2",
    "PCMU/8000",
    "G722/8000",
    "telephone-event/8000",
    "CN/8000",
    "VP8/90000",
    "VP9/90000",
    "H264/90000",
    "AV1/90000",
    "rtx/90000",
    "red/90000",
    "ulpfec/90000",
    "x-unknown/90000",
];
const FMTPS: &[&str] = &[
    "",
    "minptime=10;useinbandfec=1",
    "profile-level-id=42e01f;packetization-mode=1",
    "profile-level-id=640c1f;level-asymmetry-allowed=1",
    "profile-id=2",
    "apt=96",
    "apt=97",
    "apt=200",
    "111/111",
    "garbage;;==",
];
const DIRECTIONS: &[&str] = &[
    "",
    "a=sendrecv\r\n",
    "a=sendonly\r\n",
    "a=recvonly\r\n",
    "a=inactive\r\n",
];
const SETUPS: &[&str] = &["actpass", "active", "passive", "holdconn"];

#[derive(Debug, Arbitrary)]
struct Section {
    kind: u8,
    port_zero: bool,
    bundle_only: bool,
    transport: bool,
    rtcp_mux: bool,
    setup: u8,
    direction: u8,
    codecs: Vec<(u8, u8, u8)>,
    simulcast: Option<(bool, Vec<u8>)>,
    local_direction: u8,
    stopped: bool,
}

#[derive(Debug, Arbitrary)]
struct Offer {
    sections: Vec<Section>,
    bundle: Vec<u8>,
    policy: u8,
    negotiate_mux: bool,
}

fn build(offer: &Offer) -> String {
    let mut text = String::from("v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=-\r\nt=0 0\r\n");
    if !offer.bundle.is_empty() {
        text.push_str("a=group:BUNDLE");
        for mid in &offer.bundle {
            text.push_str(&format!(" m{}", mid % 8));
        }
        text.push_str("\r\n");
    }
    for (index, section) in offer.sections.iter().take(8).enumerate() {
        let port = if section.port_zero { 0 } else { 9 };
        match section.kind % 3 {
            2 => text.push_str(&format!(
                "m=application {port} UDP/DTLS/SCTP webrtc-datachannel\r\n"
            )),
            kind => {
                let media = if kind == 0 { "audio" } else { "video" };
                let pts: Vec<String> = section
                    .codecs
                    .iter()
                    .take(12)
                    .map(|c| (96 + c.0 % 32).to_string())
                    .collect();
                let fmts = if pts.is_empty() {
                    "0".to_owned()
                } else {
                    pts.join(" ")
                };
                text.push_str(&format!("m={media} {port} UDP/TLS/RTP/SAVPF {fmts}\r\n"));
            }
        }
        text.push_str("c=IN IP4 0.0.0.0\r\n");
        text.push_str(&format!("a=mid:m{index}\r\n"));
        if section.transport {
            text.push_str("a=ice-ufrag:abcd\r\na=ice-pwd:0123456789012345678901\r\n");
            text.push_str("a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n");
            text.push_str(&format!(
                "a=setup:{}\r\n",
                SETUPS[usize::from(section.setup) % SETUPS.len()]
            ));
        }
        if section.bundle_only {
            text.push_str("a=bundle-only\r\n");
        }
        if section.kind % 3 == 2 {
            text.push_str("a=sctp-port:5000\r\n");
            continue;
        }
        text.push_str(DIRECTIONS[usize::from(section.direction) % DIRECTIONS.len()]);
        if section.rtcp_mux {
            text.push_str("a=rtcp-mux\r\n");
        }
        for (pt, codec, fmtp) in section.codecs.iter().take(12) {
            let pt = 96 + pt % 32;
            text.push_str(&format!(
                "a=rtpmap:{pt} {}\r\n",
                CODECS[usize::from(*codec) % CODECS.len()]
            ));
            let fmtp = FMTPS[usize::from(*fmtp) % FMTPS.len()];
            if !fmtp.is_empty() {
                text.push_str(&format!("a=fmtp:{pt} {fmtp}\r\n"));
            }
        }
        if let Some((send, rids)) = &section.simulcast {
            let dir = if *send { "send" } else { "recv" };
            let names: Vec<String> = rids.iter().take(4).map(|r| format!("r{}", r % 5)).collect();
            for name in &names {
                text.push_str(&format!("a=rid:{name} {dir}\r\n"));
            }
            if !names.is_empty() {
                text.push_str(&format!("a=simulcast:{dir} {}\r\n", names.join(";")));
            }
        }
    }
    text
}

fuzz_target!(|offer: Offer| {
    let text = build(&offer);
    let Ok(parsed) = antiphon_sdp::parse(&text) else {
        return;
    };
    if parsed.description.validate().is_err() {
        return;
    }
    let description = parsed.description;
    let local: Vec<LocalSection> = offer
        .sections
        .iter()
        .take(8)
        .map(|s| LocalSection {
            direction: [
                Direction::SendRecv,
                Direction::SendOnly,
                Direction::RecvOnly,
                Direction::Inactive,
            ][usize::from(s.local_direction) % 4],
            stopped: s.stopped,
            ..LocalSection::default()
        })
        .collect();
    let options = AnswerOptions::default()
        .with_bundle_policy(
            [
                RTCBundlePolicy::Balanced,
                RTCBundlePolicy::MaxBundle,
                RTCBundlePolicy::MaxCompat,
            ][usize::from(offer.policy) % 3],
        )
        .with_rtcp_mux_policy(if offer.negotiate_mux {
            RTCRtcpMuxPolicy::Negotiate
        } else {
            RTCRtcpMuxPolicy::Require
        });
    let capabilities = Capabilities::browser_default();
    let context = AnswerContext {
        offer: &description,
        local_sections: &local,
        capabilities: &capabilities,
        options: &options,
    };
    let transports: Vec<LocalTransport> = (0..16)
        .map(|k| LocalTransport {
            ice_ufrag: format!("uf{k:02}"),
            ice_pwd: "0123456789012345678901".to_owned(),
            fingerprints: vec![antiphon_sdp::Fingerprint {
                algorithm: "sha-256".to_owned(),
                value: "AB:".repeat(31) + "AB",
            }],
            ..LocalTransport::default()
        })
        .collect();
    let origin = SessionOrigin {
        session_id: 1,
        session_version: 1,
    };
    let answer = create_answer(&context, &transports, origin)
        .expect("16 transports are enough for 8 sections");
    let written = answer.description.to_string();
    let reparsed = antiphon_sdp::parse(&written)
        .unwrap_or_else(|e| panic!("answer does not parse: {e}\n{written}"))
        .description;
    let violations = check_answer(&description, &reparsed);
    assert!(
        violations.is_empty(),
        "{violations:?}\noffer:\n{text}\nanswer:\n{written}"
    );
});
