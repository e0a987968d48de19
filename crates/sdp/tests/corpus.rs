//! Corpus test over /work/shared/corpus/sdp: every valid file parses and round-trips, every
//! invalid file is rejected where its class says (see each `.txt` sidecar and INDEX.tsv).
//! Table-driven; every failing file is reported at once.

mod corpus_files;

use std::path::Path;

use antiphon_sdp::{
    MediaKind, ParseOptions, SdpError, SessionDescription, ValidationError, Warning, parse_with,
};
use corpus_files::{CORPUS, sdp_files};

fn round_trip(description: &SessionDescription, options: &ParseOptions) -> Result<(), String> {
    let text = description.to_string();
    let mut appended = String::new();
    description.write_to(&mut appended);
    if appended != text {
        return Err(format!(
            "write_to differs from Display:\n{appended}\n---\n{text}"
        ));
    }
    match parse_with(text.as_bytes(), options) {
        Ok(again) if again.description == *description => {
            if again.description.to_string() == text {
                Ok(())
            } else {
                Err("second write differs".into())
            }
        }
        Ok(_) => Err("model differs after parse -> write -> parse".into()),
        Err(e) => Err(format!("written text does not parse: {e}\n{text}")),
    }
}

/// Valid files the strict parser rejects, with the line and why: the files break a rule
/// RFC 8866's structure check does not cover.
const STRICT_EXCEPTIONS: &[(&str, usize, &str)] = &[
    (
        "pionsdp-canonical-all-fields.sdp",
        16,
        "a=candidate at session level (RFC 8839 5.1: media level only)",
    ),
    (
        "sdptransform-st2110-20.sdp",
        23,
        "a=mid:secondary; is not a token (RFC 5888)",
    ),
];

/// Valid files (they parse) that break a single-description rule: the first violation.
fn expected_validation(name: &str) -> Option<ValidationError> {
    Some(match name {
        // FreeSWITCH offers UDP/TLS/RTP/SAVPF without any fingerprint.
        "aiortc-freeswitch-audio-no-dtls.sdp" => {
            ValidationError::MissingFingerprint { media_index: 0 }
        }
        // Trimmed test fixtures that dropped the DTLS lines.
        "pion-chrome-multicodec-offer-lenient.sdp" | "str0m-minimal-no-fmt-lenient.sdp" => {
            ValidationError::MissingFingerprint { media_index: 0 }
        }
        "pionsdp-media-out-of-order-lenient.sdp" => {
            ValidationError::MissingIceCredentials { media_index: 2 }
        }
        "sdptransform-simulcast-lenient.sdp" => {
            ValidationError::DuplicateSimulcast { media_index: 1 }
        }
        "sdptransform-st2110-20.sdp" => ValidationError::GroupUnknownMid {
            semantics: "DUP".into(),
            mid: "secondary".into(),
        },
        "str0m-firefox99-missing-setup-lenient.sdp" => ValidationError::GroupUnknownMid {
            semantics: "BUNDLE".into(),
            mid: "0".into(),
        },
        _ => return None,
    })
}

#[test]
fn valid_corpus_parses_and_round_trips() {
    let mut failures = Vec::new();
    for (name, bytes) in sdp_files("valid") {
        let lenient_only = name.ends_with("-lenient.sdp");
        let mut modes = vec![("lenient", ParseOptions::lenient())];
        let exception = STRICT_EXCEPTIONS.iter().find(|(file, _, _)| *file == name);
        match exception {
            Some((_, line, _)) => match parse_with(&bytes, &ParseOptions::strict()) {
                Err(e) if e.line() == Some(*line) => {}
                other => failures.push(format!(
                    "{name}: strict: expected error at line {line}, got {other:?}"
                )),
            },
            None if !lenient_only => modes.push(("strict", ParseOptions::strict())),
            None => {}
        }
        for (mode, options) in modes {
            match parse_with(&bytes, &options) {
                Ok(parsed) => {
                    if let Err(e) = round_trip(&parsed.description, &options) {
                        failures.push(format!("{name}: {mode}: {e}"));
                    }
                    let expected = expected_validation(&name);
                    let got = parsed.description.validate();
                    let ok = match &expected {
                        Some(expected) => got.as_ref().err() == Some(expected),
                        None => got.is_ok(),
                    };
                    if !ok {
                        failures.push(format!(
                            "{name}: {mode}: validation {got:?}, expected {expected:?}"
                        ));
                    }
                }
                Err(e) => failures.push(format!("{name}: {mode}: {e}")),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// What lenient mode does with an invalid file.
#[derive(Debug, Clone, Copy)]
enum Lenient {
    /// Rejects it at this line.
    Rejects(usize),
    /// Accepts it with a warning at this line (a deviation browsers tolerate).
    Warns(usize),
}

/// The expectation for one invalid file.
#[derive(Debug, Clone)]
enum Expect {
    /// The parser rejects it: strict mode at this line, lenient mode as given.
    Parse(usize, Lenient),
    /// It parses (lenient) but `validate` reports this.
    Invalid(ValidationError),
    /// Needs the paired offer or a JSEP policy: the peer crate's job. It parses and passes
    /// single-description validation.
    Peer,
}

fn invalid_table() -> Vec<(&'static str, &'static str, Expect)> {
    use Expect::{Invalid, Parse, Peer};
    use Lenient::{Rejects, Warns};
    let both = |line| Parse(line, Rejects(line));
    let level = |line| Parse(line, Warns(line));
    vec![
        (
            "libwebrtc-attr-plus-instead-of-equals.sdp",
            "syntax",
            both(10),
        ),
        ("libwebrtc-attr-space-after-equals.sdp", "syntax", both(10)),
        (
            "libwebrtc-audio-with-sctp-proto.sdp",
            "semantic",
            Invalid(ValidationError::ProtoMismatch {
                media_index: 0,
                kind: MediaKind::Audio,
                proto: "UDP/DTLS/SCTP".into(),
            }),
        ),
        ("libwebrtc-bandwidth-not-integer.sdp", "syntax", both(41)),
        ("libwebrtc-broken-session-name-line.sdp", "syntax", both(3)),
        ("libwebrtc-broken-version-line.sdp", "syntax", both(1)),
        (
            "libwebrtc-candidate-port-out-of-range.sdp",
            "syntax",
            both(11),
        ),
        (
            "libwebrtc-candidate-priority-not-integer.sdp",
            "syntax",
            both(10),
        ),
        (
            "libwebrtc-candidate-rport-not-integer.sdp",
            "syntax",
            both(14),
        ),
        (
            "libwebrtc-duplicate-simulcast.sdp",
            "semantic",
            Invalid(ValidationError::DuplicateSimulcast { media_index: 1 }),
        ),
        ("libwebrtc-empty-attribute.sdp", "syntax", both(9)),
        ("libwebrtc-empty-line.sdp", "syntax", Parse(9, Warns(9))),
        ("libwebrtc-fingerprint-extra-field.sdp", "syntax", both(20)),
        (
            "libwebrtc-fingerprint-malformed-hex.sdp",
            "syntax",
            both(20),
        ),
        (
            "libwebrtc-fingerprint-md5.sdp",
            "semantic",
            Invalid(ValidationError::WeakFingerprint {
                media_index: Some(0),
                algorithm: "md5".into(),
            }),
        ),
        (
            "libwebrtc-mid-illegal-chars.sdp",
            "syntax",
            Parse(13, Warns(13)),
        ),
        ("libwebrtc-mline-fmt-not-integer.sdp", "syntax", both(7)),
        ("libwebrtc-negative-bandwidth.sdp", "syntax", both(6)),
        ("libwebrtc-rtpmap-clock-not-integer.sdp", "syntax", both(24)),
        (
            "libwebrtc-rtpmap-duplicate-conflict.sdp",
            "semantic",
            Invalid(ValidationError::ConflictingRtpmap {
                media_index: 0,
                payload_type: 108,
            }),
        ),
        ("libwebrtc-rtpmap-too-many-channels.sdp", "strict", both(6)),
        ("libwebrtc-ssrc-not-integer.sdp", "syntax", both(27)),
        ("libwebrtc-uppercase-type-letter.sdp", "syntax", both(10)),
        (
            "mozilla-example-08-fingerprint-length-mismatch.sdp",
            "syntax",
            both(48),
        ),
        (
            "mozilla-example-11-ice-lite-at-media-level.sdp",
            "semantic-level",
            level(62),
        ),
        (
            "mozilla-example-14-candidate-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-15-bundle-only-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-16-fmtp-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-17-ice-mismatch-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-18-imageattr-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-19-label-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-20-maxptime-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-21-mid-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-22-msid-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-23-ptime-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-24-remote-candidates-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-25-rtcp-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-26-rtcp-fb-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-27-rtcp-mux-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-28-rtcp-rsize-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-29-rtpmap-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-30-sctpmap-missing-tokens.sdp",
            "syntax",
            both(6),
        ),
        (
            "mozilla-example-31-ssrc-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-32-ssrc-group-at-session-level.sdp",
            "semantic-level",
            level(6),
        ),
        (
            "mozilla-example-33-imageattr-garbage.sdp",
            "syntax",
            both(9),
        ),
        (
            "mozilla-libtest-bundle-only-session-level.sdp",
            "semantic-level",
            level(5),
        ),
        ("mozilla-libtest-empty.sdp", "syntax", both(1)),
        // The bad o= address (line 2) comes before the media-level a=ice-lite.
        (
            "mozilla-libtest-ice-lite-media-level.sdp",
            "semantic-level",
            both(2),
        ),
        (
            "mozilla-libtest-missing-timing.sdp",
            "syntax",
            Parse(4, Warns(4)),
        ),
        ("mozilla-libtest-not-sdp.sdp", "syntax", both(1)),
        ("mozilla-libtest-origin-bad-ipv4.sdp", "syntax", both(2)),
        (
            "mozilla-libtest-rtcp-port-not-integer.sdp",
            "syntax",
            both(6),
        ),
        ("mozilla-libtest-timing-non-numeric.sdp", "syntax", both(4)),
        (
            "mozilla-libtest-unknown-media-type.sdp",
            "strict",
            Parse(5, Warns(5)),
        ),
        // Strict mode first flags the session-level a=rtpmap on line 5; the bad port is line 6.
        (
            "pionsdp-mline-port-65536.sdp",
            "syntax",
            Parse(5, Rejects(6)),
        ),
        (
            "pionsdp-mline-port-dashes.sdp",
            "syntax",
            Parse(5, Rejects(6)),
        ),
        (
            "pionsdp-mline-port-minus-one.sdp",
            "syntax",
            Parse(5, Rejects(6)),
        ),
        ("pionsdp-origin-bad-addrtype.sdp", "syntax", both(2)),
        ("pionsdp-origin-bad-nettype.sdp", "syntax", both(2)),
        ("pionsdp-origin-empty.sdp", "syntax", both(2)),
        ("pionsdp-origin-missing-nettype.sdp", "syntax", both(2)),
        ("pionsdp-origin-username-only.sdp", "syntax", both(2)),
        ("sdptransform-invalid.sdp", "syntax", both(7)),
        ("semantic-answer-mline-kind-changed.sdp", "semantic", Peer),
        ("semantic-answer-setup-actpass.sdp", "semantic", Peer),
        (
            "semantic-offer-missing-fingerprint.sdp",
            "semantic",
            Invalid(ValidationError::MissingFingerprint { media_index: 0 }),
        ),
        (
            "semantic-offer-missing-ice-credentials.sdp",
            "semantic",
            Invalid(ValidationError::MissingIceCredentials { media_index: 0 }),
        ),
        (
            "semantic-offer-simulcast-unknown-rid.sdp",
            "semantic",
            Invalid(ValidationError::SimulcastUnknownRid {
                media_index: 2,
                rid: "4".into(),
            }),
        ),
        ("semantic-offer-without-rtcp-mux.sdp", "semantic", Peer),
    ]
}

fn check_rejected(
    result: Result<antiphon_sdp::Parsed, SdpError>,
    line: usize,
) -> Result<(), String> {
    match result {
        Err(e) if e.line() == Some(line) => Ok(()),
        Err(e) => Err(format!(
            "error at the wrong line: {e} (expected line {line})"
        )),
        Ok(_) => Err(format!("accepted (expected an error at line {line})")),
    }
}

fn warned_at(warnings: &[Warning], line: usize) -> bool {
    warnings.iter().any(|w| w.line == line)
}

#[test]
fn invalid_corpus_is_rejected_where_its_class_says() {
    let files = sdp_files("invalid");
    let table = invalid_table();
    let mut failures = Vec::new();
    for name in files.keys() {
        if !table.iter().any(|(file, _, _)| file == name) {
            failures.push(format!("{name}: no expectation in the table"));
        }
    }
    for (name, class, expect) in table {
        let Some(bytes) = files.get(name) else {
            failures.push(format!("{name}: listed but missing from the corpus"));
            continue;
        };
        let sidecar = Path::new(CORPUS)
            .join("invalid")
            .join(name.replace(".sdp", ".txt"));
        let reason = std::fs::read_to_string(&sidecar).unwrap_or_default();
        if !reason.starts_with(&format!("[{class}]")) {
            failures.push(format!(
                "{name}: table class {class} but sidecar says {reason:?}"
            ));
        }
        let strict = || parse_with(bytes, &ParseOptions::strict());
        let lenient = || parse_with(bytes, &ParseOptions::lenient());
        let outcome = match expect {
            Expect::Parse(line, lenient_expect) => check_rejected(strict(), line)
                .map_err(|e| format!("strict: {e}"))
                .and_then(|()| match lenient_expect {
                    Lenient::Rejects(line) => {
                        check_rejected(lenient(), line).map_err(|e| format!("lenient: {e}"))
                    }
                    Lenient::Warns(line) => match lenient() {
                        Ok(parsed) if warned_at(&parsed.warnings, line) => Ok(()),
                        Ok(parsed) => Err(format!(
                            "lenient: no warning at line {line}: {:?}",
                            parsed.warnings
                        )),
                        Err(e) => Err(format!(
                            "lenient: rejected ({e}), expected a warning at line {line}"
                        )),
                    },
                }),
            Expect::Invalid(expected) => match lenient() {
                Ok(parsed) => match parsed.description.validate() {
                    Err(got) if got == expected => Ok(()),
                    other => Err(format!("validate gave {other:?}, expected {expected:?}")),
                },
                Err(e) => Err(format!("lenient parse failed: {e}")),
            },
            Expect::Peer => match lenient() {
                Ok(parsed) => parsed
                    .description
                    .validate()
                    .map_err(|e| format!("unexpected validation error {e}")),
                Err(e) => Err(format!("lenient parse failed: {e}")),
            },
        };
        if let Err(e) = outcome {
            failures.push(format!("{name}: {e}"));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
