//! Hostile remote offers: each is refused with a typed error or answered, within bounded work;
//! a refused offer changes no state.

mod common;

use antiphon_peer::answer::AnswerOptions;
use antiphon_peer::{Error, InvalidAccessReason, RTCSessionDescriptionInit, RTCSignalingState};
use common::*;

fn apply(
    text: String,
) -> (
    antiphon_peer::Negotiator,
    Result<antiphon_peer::Applied, Error>,
) {
    let mut n = negotiator(AnswerOptions::default());
    let result = n.set_remote_description(&RTCSessionDescriptionInit::offer(text));
    (n, result)
}

fn assert_refused_cleanly(n: &antiphon_peer::Negotiator) {
    assert_eq!(n.signaling_state(), RTCSignalingState::Stable);
    assert!(n.remote_description().is_none());
    assert!(n.transceivers().is_empty());
}

#[test]
fn oversized_offer_is_a_syntax_error() {
    let huge = offer(&[&audio("0", &"a=x-filler:0123456789\r\n".repeat(60_000))]);
    assert!(huge.len() > 1024 * 1024);
    let (n, result) = apply(huge);
    assert!(matches!(result, Err(Error::SdpSyntax(_))), "{result:?}");
    assert_refused_cleanly(&n);
}

#[test]
fn too_many_sections_is_a_syntax_error() {
    let sections: Vec<String> = (0..1100).map(|i| audio(&i.to_string(), "")).collect();
    let refs: Vec<&str> = sections.iter().map(String::as_str).collect();
    let (n, result) = apply(offer(&refs));
    assert!(matches!(result, Err(Error::SdpSyntax(_))), "{result:?}");
    assert_refused_cleanly(&n);
}

#[test]
fn many_sections_within_limits_are_answered() {
    let sections: Vec<String> = (0..256).map(|i| audio(&format!("m{i}"), "")).collect();
    let refs: Vec<&str> = sections.iter().map(String::as_str).collect();
    let mids: Vec<String> = (0..256).map(|i| format!("m{i}")).collect();
    let text = offer(&refs).replace(
        "t=0 0\r\n",
        &format!("t=0 0\r\na=group:BUNDLE {}\r\n", mids.join(" ")),
    );
    let (mut n, result) = apply(text);
    result.expect("256 bundled sections are fine");
    let answer = n.create_answer(transport).unwrap();
    let parsed = antiphon_sdp::parse(&answer.sdp).unwrap().description;
    assert_eq!(parsed.media.len(), 256);
    // One transport: every bundled section repeats the same credentials.
    let mut ufrags: Vec<Option<&str>> = parsed.media.iter().map(|m| m.ice_ufrag()).collect();
    ufrags.dedup();
    assert_eq!(ufrags, [Some("uf00")]);
}

#[test]
fn duplicate_mids_and_unknown_bundle_mids_are_invalid_access() {
    let duplicate = offer(&[&audio("a", ""), &video("a", "")]);
    let (n, result) = apply(duplicate);
    assert!(
        matches!(
            result,
            Err(Error::InvalidAccess(InvalidAccessReason::Invalid(_)))
        ),
        "{result:?}"
    );
    assert_refused_cleanly(&n);
    let unknown =
        offer(&[&audio("a", "")]).replace("t=0 0\r\n", "t=0 0\r\na=group:BUNDLE a nope\r\n");
    let (n, result) = apply(unknown);
    assert!(
        matches!(
            result,
            Err(Error::InvalidAccess(InvalidAccessReason::Invalid(_)))
        ),
        "{result:?}"
    );
    assert_refused_cleanly(&n);
}

#[test]
fn invalid_utf8_is_a_syntax_error_with_a_line() {
    let bytes = b"v=0\r\no=- 1 1 IN IP4 0.0.0.0\r\ns=\xff\r\nt=0 0\r\n";
    let error = antiphon_sdp::parse_with(bytes, &antiphon_sdp::ParseOptions::lenient())
        .expect_err("invalid UTF-8");
    assert_eq!(error.line(), Some(3));
}

#[test]
fn absurd_ports_and_payload_types_are_refused_or_ignored() {
    let port = audio("0", "").replacen("m=audio 9 ", "m=audio 70000 ", 1);
    let (n, result) = apply(offer(&[&port]));
    assert!(matches!(result, Err(Error::SdpSyntax(_))), "{result:?}");
    assert_refused_cleanly(&n);
    // Payload types out of 0..=127 are not codecs: the section has nothing in common.
    let pts = audio("0", "")
        .replacen("111 0\r\n", "300 128\r\n", 1)
        .replace("a=rtpmap:111", "a=rtpmap:300")
        .replace("a=fmtp:111", "a=fmtp:300");
    let (mut n, result) = apply(offer(&[&pts]));
    match result {
        Err(Error::SdpSyntax(_)) => assert_refused_cleanly(&n),
        Ok(_) => {
            let answer = n.create_answer(transport).unwrap();
            let parsed = antiphon_sdp::parse(&answer.sdp).unwrap().description;
            assert_eq!(parsed.media[0].port, 0, "{}", answer.sdp);
        }
        Err(other) => panic!("unexpected {other:?}"),
    }
}

#[test]
fn thousands_of_candidates_in_an_offer_are_bounded_by_the_attribute_limit() {
    let candidates: String = (0..5000)
        .map(|i| {
            format!(
                "a=candidate:{i} 1 udp 2130706431 10.0.{}.{} 5000 typ host\r\n",
                i / 250,
                i % 250
            )
        })
        .collect();
    let (n, result) = apply(offer(&[&audio("0", &candidates)]));
    assert!(matches!(result, Err(Error::SdpSyntax(_))), "{result:?}");
    assert_refused_cleanly(&n);
}
