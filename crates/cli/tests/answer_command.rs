//! `antiphon answer` as a user runs it: what it answers, and what it refuses the way Chromium
//! refuses it, with the W3C error name on standard error and exit status 1 (issue 15, point 7).

mod common;

/// Runs `antiphon answer [args] -` on `input`: (exit code, stdout, stderr).
fn answer(args: &[&str], input: &str) -> (i32, String, String) {
    let output = common::antiphon_answer(args, input.as_bytes());
    (
        output.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&output.stdout).into_owned(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

const FINGERPRINT: &str = "a=fingerprint:sha-256 19:E2:1C:3B:4B:9F:81:E6:B8:5C:F4:A5:A8:D8:73:04:BB:05:2F:70:9F:04:A9:0E:05:E9:26:33:E8:70:88:A2\r\n";

/// An audio offer with `session` after `t=` and `media` lines in its section.
fn offer(session: &str, media: &str) -> String {
    format!(
        "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n{session}\
         m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n\
         a=ice-ufrag:abcd\r\na=ice-pwd:abcdefghijklmnopqrstuv\r\n{FINGERPRINT}\
         a=setup:actpass\r\na=mid:0\r\na=sendrecv\r\na=rtcp-mux\r\n\
         a=rtpmap:111 opus/48000/2\r\n{media}"
    )
}

fn refused(input: &str, expected: &str) {
    let (code, stdout, stderr) = answer(&["--sdp"], input);
    assert_eq!(code, 1, "refused:\n{stdout}{stderr}");
    assert!(stdout.is_empty(), "{stdout}");
    assert!(
        stderr.starts_with(&format!("antiphon: {expected}")),
        "{stderr}"
    );
}

#[test]
fn a_valid_offer_is_answered() {
    let (code, stdout, stderr) = answer(&["--sdp"], &offer("", ""));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.starts_with("v=0\r\n") && stdout.contains("m=audio 9 UDP/TLS/RTP/SAVPF 111"));
}

#[test]
fn a_json_answer_is_refused_with_invalid_state_error() {
    let json = serde_json::json!({"type": "answer", "sdp": offer("", "")}).to_string();
    refused(
        &json,
        "InvalidStateError: cannot set a remote description of type answer",
    );
}

#[test]
fn unknown_json_types_are_type_errors() {
    refused(r#"{"type":"offerr","sdp":"v=0\r\n"}"#, "TypeError");
}

#[test]
fn an_offer_without_t_is_an_sdp_syntax_error_at_its_line() {
    let text = offer("", "").replace("t=0 0\r\n", "");
    refused(
        &text,
        "RTCError: sdp-syntax-error: line 4, column 1: missing t= line",
    );
}

#[test]
fn ice_credentials_shorter_than_rfc_8839_allows_are_refused() {
    let short_ufrag = offer("", "").replace("ice-ufrag:abcd", "ice-ufrag:abc");
    refused(
        &short_ufrag,
        "InvalidAccessError: m= section 0: ice-ufrag shorter than 4 characters",
    );
    let short_pwd = offer("", "").replace(
        "ice-pwd:abcdefghijklmnopqrstuv",
        "ice-pwd:abcdefghijklmnopqrstu",
    );
    refused(
        &short_pwd,
        "InvalidAccessError: m= section 0: ice-pwd shorter than 22 characters",
    );
    let bad_char = offer("", "").replace("ice-ufrag:abcd", "ice-ufrag:ab-d");
    refused(
        &bad_char,
        "InvalidAccessError: m= section 0: ice-ufrag has a non ice-char at byte 2",
    );
}

#[test]
fn every_dropped_extension_id_is_explained() {
    let media = "a=extmap:14 urn:ietf:params:rtp-hdrext:ssrc-audio-level\r\n\
                 a=extmap:15 urn:ietf:params:rtp-hdrext:sdes:mid\r\n\
                 a=extmap:16 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time\r\n\
                 a=extmap:256 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time\r\n";
    let (code, stdout, stderr) = answer(&["--sdp", "--explain"], &offer("", media));
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("a=extmap:14 "), "{stdout}");
    for id in [15, 16] {
        assert!(!stdout.contains(&format!("a=extmap:{id} ")), "{stdout}");
        assert!(
            stderr.contains(&format!("extmap {id} "))
                && stderr.lines().any(|l| l.contains(&format!("extmap {id} "))
                    && l.contains(
                        "need the two-byte header, and the offer has no a=extmap-allow-mixed"
                    )),
            "{stderr}"
        );
    }
    assert!(
        stderr
            .lines()
            .any(|l| l.contains("extmap 256 ") && l.contains("valid ids are 1 to 255")),
        "{stderr}"
    );
    // With a=extmap-allow-mixed, 15 and 16 are answered (two-byte header).
    let (code, stdout, stderr) = answer(&["--sdp"], &offer("a=extmap-allow-mixed\r\n", media));
    assert_eq!(code, 0, "{stderr}");
    assert!(
        stdout.contains("a=extmap:15 ") && stdout.contains("a=extmap:16 "),
        "{stdout}"
    );
}
