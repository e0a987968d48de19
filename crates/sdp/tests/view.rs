//! The zero-copy view against the owned parser: over the whole corpus (both modes), on
//! hand-written inputs for each kind of line, and for deferred attribute errors, warnings and
//! limits.

mod common;
mod corpus_files;

use std::collections::BTreeMap;

use antiphon_sdp::view::{BandwidthView, ConnectionView, OriginView};
use antiphon_sdp::{
    Attribute, Level, Limit, Limits, ParseErrorKind, ParseOptions, Timing, WarningKind, parse_view,
    parse_with,
};
use common::{Agreement, check};
use corpus_files::sdp_files;

fn modes() -> [(&'static str, ParseOptions); 2] {
    [
        ("strict", ParseOptions::strict()),
        ("lenient", ParseOptions::lenient()),
    ]
}

/// The agreement for each (directory, file, mode).
type Outcomes = BTreeMap<(String, String, &'static str), Agreement>;

/// Every corpus file in both modes: how the view and `parse_with` agree (see
/// `common::check`), and the files where they do not.
fn corpus_outcomes() -> (Outcomes, Vec<String>) {
    let mut outcomes = BTreeMap::new();
    let mut failures = Vec::new();
    for dir in ["valid", "invalid"] {
        for (name, bytes) in sdp_files(dir) {
            for (mode, options) in modes() {
                match check(&bytes, &options) {
                    Ok(agreement) => {
                        outcomes.insert((dir.to_owned(), name.clone(), mode), agreement);
                    }
                    Err(e) => failures.push(format!("{dir}/{name}: {mode}: {e}")),
                }
            }
        }
    }
    (outcomes, failures)
}

#[test]
fn corpus_view_agrees_with_the_owned_parser() {
    let (outcomes, mut failures) = corpus_outcomes();
    for ((dir, name, mode), agreement) in &outcomes {
        // A valid file parses in lenient mode; strict mode may reject an attribute (the two
        // strict exceptions of the corpus test), never the structure.
        let allowed: &[Agreement] = match (dir.as_str(), *mode, name.ends_with("-lenient.sdp")) {
            ("valid", "lenient", _) => &[Agreement::BothAccept],
            ("valid", _, false) => &[Agreement::BothAccept, Agreement::AttributeValueError],
            _ => continue,
        };
        if !allowed.contains(agreement) {
            failures.push(format!("{dir}/{name}: {mode}: {agreement:?}"));
        }
    }
    // Files whose class is known: structural failures the view reports itself, and attribute
    // value failures it defers to `AttributeView::parse`.
    let expected = [
        ("libwebrtc-empty-line.sdp", "strict", Agreement::SameError),
        (
            "libwebrtc-uppercase-type-letter.sdp",
            "strict",
            Agreement::SameError,
        ),
        (
            "libwebrtc-broken-version-line.sdp",
            "lenient",
            Agreement::SameError,
        ),
        (
            "mozilla-libtest-missing-timing.sdp",
            "strict",
            Agreement::SameError,
        ),
        (
            "pionsdp-origin-bad-nettype.sdp",
            "strict",
            Agreement::SameError,
        ),
        (
            "libwebrtc-mline-fmt-not-integer.sdp",
            "lenient",
            Agreement::SameError,
        ),
        (
            "libwebrtc-bandwidth-not-integer.sdp",
            "strict",
            Agreement::SameError,
        ),
        (
            "libwebrtc-rtpmap-clock-not-integer.sdp",
            "strict",
            Agreement::AttributeValueError,
        ),
        (
            "libwebrtc-candidate-rport-not-integer.sdp",
            "lenient",
            Agreement::AttributeValueError,
        ),
        (
            "libwebrtc-fingerprint-malformed-hex.sdp",
            "strict",
            Agreement::AttributeValueError,
        ),
        (
            "mozilla-example-14-candidate-at-session-level.sdp",
            "strict",
            Agreement::AttributeValueError,
        ),
        (
            "mozilla-example-14-candidate-at-session-level.sdp",
            "lenient",
            Agreement::BothAccept,
        ),
        // The strict check of the session-level a=rtpmap (line 5) is an attribute rule; the
        // bad m= port on line 6 is structural.
        (
            "pionsdp-mline-port-65536.sdp",
            "strict",
            Agreement::EarlierAttributeValueError,
        ),
        (
            "pionsdp-mline-port-65536.sdp",
            "lenient",
            Agreement::SameError,
        ),
    ];
    for (name, mode, agreement) in expected {
        let got = outcomes.get(&("invalid".to_owned(), name.to_owned(), mode));
        if got != Some(&agreement) {
            failures.push(format!(
                "invalid/{name}: {mode}: {got:?}, expected {agreement:?}"
            ));
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

const FULL: &str = "v=0\r\n\
o=alice 2890844526 2890842807 IN IP4 192.0.2.10\r\n\
s=A session\r\n\
i=About it\r\n\
u=http://example.com/s\r\n\
e=alice@example.com\r\n\
p=+1 555 0100\r\n\
c=IN IP4 192.0.2.10\r\n\
b=AS:128\r\n\
t=2873397496 2873404696\r\n\
r=7d 1h 0 25h\r\n\
z=2882844526 -1h\r\n\
k=prompt\r\n\
a=group:BUNDLE a v\r\n\
a=ice-lite\r\n\
m=audio 49170/2 RTP/AVP 0 96\r\n\
i=Voice\r\n\
c=IN IP6 2001:db8::1\r\n\
b=TIAS:64000\r\n\
k=clear:secret\r\n\
a=mid:a\r\n\
a=rtpmap:96 opus/48000/2\r\n\
a=rtcp-mux\r\n\
m=video 0 RTP/AVP 31\r\n\
a=mid:v\r\n\
a=x-custom:kept\r\n";

fn within(input: &str, part: &str) -> bool {
    let start = input.as_ptr() as usize;
    let at = part.as_ptr() as usize;
    at >= start && at + part.len() <= start + input.len()
}

#[test]
fn every_line_type_is_typed_and_borrowed() {
    let view = parse_view(FULL, &ParseOptions::strict()).expect("the example parses");
    let d = &view.description;
    assert_eq!(d.version, 0);
    assert_eq!(
        d.origin,
        OriginView {
            username: "alice",
            session_id: 2_890_844_526,
            session_version: 2_890_842_807,
            net_type: "IN",
            addr_type: "IP4",
            address: "192.0.2.10",
        }
    );
    assert!(within(FULL, d.origin.username) && within(FULL, d.session_name));
    assert_eq!(d.session_name, "A session");
    assert_eq!(d.session_info, Some("About it"));
    assert_eq!(d.uri, Some("http://example.com/s"));
    assert_eq!(d.emails, ["alice@example.com"]);
    assert_eq!(d.phones, ["+1 555 0100"]);
    assert_eq!(
        d.connection,
        Some(ConnectionView {
            net_type: "IN",
            addr_type: "IP4",
            address: "192.0.2.10"
        })
    );
    assert_eq!(
        d.bandwidths,
        [BandwidthView {
            bwtype: "AS",
            bandwidth: 128
        }]
    );
    assert_eq!(d.times.len(), 1);
    let Timing {
        start,
        stop,
        repeats,
    } = &d.times[0];
    assert_eq!(
        (*start, *stop, repeats.len()),
        (2_873_397_496, 2_873_404_696, 1)
    );
    assert_eq!(repeats[0].interval.seconds(), 7 * 86_400);
    assert_eq!(d.time_zones, Some("2882844526 -1h"));
    assert_eq!(d.encryption_key, Some("prompt"));
    let names: Vec<&str> = d.attributes.iter().map(|a| a.name()).collect();
    assert_eq!(names, ["group", "ice-lite"]);
    assert_eq!(
        d.attribute("group").and_then(|a| a.value()),
        Some("BUNDLE a v")
    );
    assert_eq!(
        d.attribute("ice-lite").map(|a| (a.value(), a.line())),
        Some((None, 15))
    );
    assert_eq!(d.attributes[0].level(), Level::Session);

    assert_eq!(d.media.len(), 2);
    let audio = &d.media[0];
    assert_eq!(
        (
            audio.line,
            audio.kind,
            audio.port,
            audio.port_count,
            audio.proto
        ),
        (16, "audio", 49170, Some(2), "RTP/AVP")
    );
    assert!(audio.is_rtp() && within(FULL, audio.proto));
    assert_eq!(audio.formats().collect::<Vec<_>>(), ["0", "96"]);
    assert_eq!(audio.title, Some("Voice"));
    assert_eq!(audio.connections[0].address, "2001:db8::1");
    assert_eq!(audio.bandwidths[0].bwtype, "TIAS");
    assert_eq!(audio.encryption_key, Some("clear:secret"));
    assert_eq!(audio.mid(), Some("a"));
    let rtpmap = audio.attribute("rtpmap").expect("a=rtpmap");
    assert_eq!((rtpmap.line(), rtpmap.level()), (22, Level::Media));
    match rtpmap.parse() {
        Ok((Attribute::Rtpmap(map), None)) => {
            assert_eq!((map.payload_type, map.clock_rate), (96, 48000));
        }
        other => panic!("a=rtpmap: {other:?}"),
    }
    assert_eq!(audio.attributes_named("rtcp-mux").count(), 1);
    assert_eq!(audio.attributes_named("mid").count(), 1);

    let video = &d.media[1];
    assert_eq!((video.port, video.media_kind().as_str()), (0, "video"));
    assert_eq!(d.media_by_mid("v").map(|m| m.line), Some(24));
    let custom = video
        .attribute("x-custom")
        .expect("unknown attributes are kept");
    assert_eq!(
        (custom.name(), custom.value(), custom.text()),
        ("x-custom", Some("kept"), "x-custom:kept")
    );
    // Unknown attributes warn when typed, not in the view.
    assert!(view.warnings.is_empty());
    let (attribute, warning) = custom.parse().expect("unknown attributes are data");
    assert!(attribute.is_unknown());
    let warning = warning.expect("an unknown-attribute warning");
    assert_eq!((warning.line, warning.column), (26, 3));
    assert!(matches!(warning.kind, WarningKind::UnknownAttribute(ref name) if name == "x-custom"));

    let parsed = parse_with(FULL, &ParseOptions::strict()).expect("the owned parser agrees");
    assert_eq!(view.to_parsed(), Ok(parsed.clone()));
    assert_eq!(antiphon_sdp::Parsed::try_from(&view), Ok(parsed));
}

const HEAD: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

#[test]
fn attribute_value_errors_are_deferred_with_their_position() {
    let input = format!(
        "{HEAD}m=audio 9 RTP/AVP 96\r\nc=IN IP4 0.0.0.0\r\na=rtpmap:96 opus/x\r\na=mid:0\r\n"
    );
    let owned = parse_with(&input, &ParseOptions::strict()).expect_err("bad clock rate");
    assert_eq!((owned.line(), owned.column()), (Some(7), Some(18)));
    let view = parse_view(&input, &ParseOptions::strict()).expect("the structure is fine");
    let media = &view.description.media[0];
    assert_eq!(media.mid(), Some("0"));
    let rtpmap = media.attribute("rtpmap").expect("kept untyped");
    assert_eq!(rtpmap.value(), Some("96 opus/x"));
    assert_eq!(rtpmap.parse(), Err(owned.clone()));
    assert_eq!(view.to_parsed(), Err(owned));
    assert_eq!(
        check(input.as_bytes(), &ParseOptions::strict()),
        Ok(Agreement::AttributeValueError)
    );
}

#[test]
fn the_first_error_in_line_order_still_wins_in_the_owned_parser() {
    // Line 5: a malformed value; line 6: an unknown line type (structural).
    let input = format!("{HEAD}a=rtpmap:x\r\nq=1\r\n");
    let owned = parse_with(&input, &ParseOptions::lenient()).expect_err("two errors");
    assert_eq!(owned.line(), Some(5));
    let view = parse_view(&input, &ParseOptions::lenient()).expect_err("the structure is not");
    assert_eq!(view.line(), Some(6));
    assert_eq!(
        view.parse_error_kind(),
        Some(&ParseErrorKind::UnknownLineType('q'))
    );
    assert_eq!(
        check(input.as_bytes(), &ParseOptions::lenient()),
        Ok(Agreement::EarlierAttributeValueError)
    );
}

#[test]
fn lenient_warnings_split_between_the_view_and_typing() {
    // A blank line, a missing c= and an unknown attribute: the first two are structural.
    let input = format!("{HEAD}\r\na=x-one\r\nm=audio 9 RTP/AVP 0\r\na=sendrecv\r\n");
    let options = ParseOptions::lenient();
    let view = parse_view(&input, &options).expect("lenient accepts it");
    let kinds: Vec<(usize, &WarningKind)> =
        view.warnings.iter().map(|w| (w.line, &w.kind)).collect();
    assert_eq!(
        kinds,
        [
            (5, &WarningKind::BlankLine),
            (7, &WarningKind::MissingConnection)
        ]
    );
    let parsed = parse_with(&input, &options).expect("lenient accepts it");
    assert_eq!(parsed.warnings.len(), 3);
    assert_eq!(view.to_parsed(), Ok(parsed));
}

#[test]
fn limits_utf8_and_syntax_fail_in_the_view_as_in_the_owned_parser() {
    let small = Limits {
        max_input_bytes: 400,
        max_line_bytes: 40,
        max_media_sections: 2,
        max_attributes_per_section: 3,
        max_channels: 8,
    };
    let media = "m=audio 9 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n";
    let cases: Vec<(Vec<u8>, ParseOptions, ParseErrorKind)> = vec![
        (
            format!("{HEAD}{}", "a=x\r\n".repeat(100)).into_bytes(),
            ParseOptions::strict().with_limits(small),
            ParseErrorKind::LimitExceeded(Limit::InputBytes(400)),
        ),
        (
            format!("{HEAD}a={}\r\n", "x".repeat(60)).into_bytes(),
            ParseOptions::strict().with_limits(small),
            ParseErrorKind::LimitExceeded(Limit::LineBytes(40)),
        ),
        (
            format!("{HEAD}{}", media.repeat(3)).into_bytes(),
            ParseOptions::lenient().with_limits(small),
            ParseErrorKind::LimitExceeded(Limit::MediaSections(2)),
        ),
        (
            format!("{HEAD}{media}{}", "a=x\r\n".repeat(4)).into_bytes(),
            ParseOptions::strict().with_limits(small),
            ParseErrorKind::LimitExceeded(Limit::AttributesPerSection(3)),
        ),
        (
            [HEAD.as_bytes(), b"a=caf\xc3\xa9\xff\r\n"].concat(),
            ParseOptions::strict(),
            ParseErrorKind::InvalidUtf8,
        ),
        (
            format!("{HEAD}a= x\r\n").into_bytes(),
            ParseOptions::lenient(),
            ParseErrorKind::InvalidAttributeName,
        ),
        (
            format!("{HEAD}m=audio 9 RTP/AVP 0\r\n").into_bytes(),
            ParseOptions::strict(),
            ParseErrorKind::MissingLine(antiphon_sdp::LineType::Connection),
        ),
    ];
    for (input, options, kind) in cases {
        let owned = parse_with(&input, &options).expect_err("rejected");
        assert_eq!(owned.parse_error_kind(), Some(&kind));
        let view = parse_view(&input, &options).expect_err("rejected by the view too");
        assert_eq!(view, owned);
    }
}
