//! Header extension negotiation, offer validation, and a sweep over every corpus offer.

mod common;

use antiphon_codec::{
    Capabilities, Codec, CodecError, CodecRole, Direction, ExtensionRejection, MediaKind,
    NegotiationOptions, OfferedCodec, OfferedMedia, Verdict, negotiate, uri,
};
use common::{CHROME_AUDIO, CHROME_VIDEO, corpus_file, section, sections};

#[test]
fn header_extensions_keep_ids_and_reverse_directions() {
    let offer = section(
        MediaKind::Audio,
        "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
         a=extmap:2/sendonly http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
         a=extmap:3/recvonly http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
         a=extmap:15 urn:ietf:params:rtp-hdrext:sdes:mid
         a=extmap:0 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
         a=extmap:300 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
         a=extmap:4 urn:example:unknown
         a=extmap:2 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
         a=extmap:6 urn:ietf:params:rtp-hdrext:ssrc-audio-level
         a=extmap:7/inactive urn:ietf:params:rtp-hdrext:sdes:mid
         a=extmap:200 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time
         a=extmap:8 urn:3gpp:video-orientation",
    );
    let result = negotiate(
        &offer,
        &Capabilities::browser_default(),
        &NegotiationOptions::send_recv(),
    );
    let accepted: Vec<(u16, &str, Direction)> = result
        .header_extensions
        .iter()
        .map(|e| (e.id, &*e.uri, e.direction))
        .collect();
    assert_eq!(
        accepted,
        [
            (1, uri::SSRC_AUDIO_LEVEL, Direction::SendRecv),
            (2, uri::ABS_SEND_TIME, Direction::RecvOnly),
            (3, uri::TRANSPORT_WIDE_CC, Direction::SendOnly),
            // 15 is reserved in the one-byte header only: a valid two-byte id.
            (15, uri::SDES_MID, Direction::SendRecv),
            (200, uri::ABS_CAPTURE_TIME, Direction::SendRecv),
        ]
    );
    let rejected: Vec<(u16, ExtensionRejection)> = result
        .explanation
        .header_extensions
        .iter()
        .filter_map(|v| v.verdict.rejection().map(|r| (v.id, *r)))
        .collect();
    assert_eq!(
        rejected,
        [
            (0, ExtensionRejection::InvalidId),
            (300, ExtensionRejection::InvalidId),
            (4, ExtensionRejection::Unsupported),
            (2, ExtensionRejection::DuplicateId),
            (6, ExtensionRejection::DuplicateUri),
            (7, ExtensionRejection::DuplicateUri),
            (8, ExtensionRejection::Unsupported),
        ]
    );
}

#[test]
fn two_byte_ids_only_when_allowed() {
    let offer = section(
        MediaKind::Audio,
        "a=extmap:14 urn:ietf:params:rtp-hdrext:ssrc-audio-level
         a=extmap:15 urn:ietf:params:rtp-hdrext:sdes:mid
         a=extmap:255 http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time",
    );
    let verdicts = |options: &NegotiationOptions| -> Vec<(u16, Verdict<ExtensionRejection>)> {
        negotiate(&offer, &Capabilities::browser_default(), options)
            .explanation
            .header_extensions
            .into_iter()
            .map(|v| (v.id, v.verdict))
            .collect()
    };
    let without = NegotiationOptions::send_recv().with_two_byte_header_ids(false);
    assert_eq!(
        verdicts(&without),
        [
            (14, Verdict::Accepted),
            (
                15,
                Verdict::Rejected(ExtensionRejection::NeedsTwoByteHeader)
            ),
            (
                255,
                Verdict::Rejected(ExtensionRejection::NeedsTwoByteHeader)
            ),
        ]
    );
    let with = NegotiationOptions::send_recv().with_two_byte_header_ids(true);
    assert!(verdicts(&with).iter().all(|(_, v)| v.is_accepted()));
}

#[test]
fn ids_bound_on_the_same_rtp_session_keep_their_uri() {
    let offer = section(
        MediaKind::Video,
        "a=extmap:3 urn:ietf:params:rtp-hdrext:sdes:mid
         a=extmap:5 urn:3gpp:video-orientation",
    );
    let bound = vec![(3, uri::SDES_MID.into()), (5, uri::SSRC_AUDIO_LEVEL.into())];
    let result = negotiate(
        &offer,
        &Capabilities::browser_default(),
        &NegotiationOptions::send_recv().with_bound_extension_ids(bound),
    );
    assert_eq!(
        result.explanation.header_extension(uri::SDES_MID),
        Some(&Verdict::Accepted),
        "the same id for the same URI is the point of BUNDLE"
    );
    assert_eq!(
        result.explanation.header_extension(uri::VIDEO_ORIENTATION),
        Some(&Verdict::Rejected(ExtensionRejection::IdBoundToOtherUri))
    );
    assert_eq!(result.header_extensions.len(), 1);
}

#[test]
fn header_extension_direction_is_narrowed_by_ours() {
    let mut local = Capabilities::browser_default();
    for extension in &mut local.video.header_extensions {
        match &*extension.uri {
            uri::ABS_SEND_TIME => extension.direction = Direction::SendOnly,
            uri::VIDEO_TIMING => extension.direction = Direction::Inactive,
            _ => {}
        }
    }
    let offer = section(
        MediaKind::Video,
        "a=extmap:2/sendonly http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
         a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
         a=extmap:9 https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension",
    );
    let result = negotiate(&offer, &local, &NegotiationOptions::send_recv());
    assert_eq!(
        result.explanation.header_extension(uri::ABS_SEND_TIME),
        Some(&Verdict::Rejected(
            ExtensionRejection::DirectionNotSupported
        ))
    );
    assert_eq!(
        result.explanation.header_extension(uri::VIDEO_TIMING),
        Some(&Verdict::Rejected(ExtensionRejection::Unsupported))
    );
    assert_eq!(result.header_extensions.len(), 1);
    assert_eq!(result.header_extensions[0].id, 9);
}

#[test]
fn chrome_offers_keep_every_extension_id() {
    for text in [CHROME_AUDIO, CHROME_VIDEO] {
        let offer = sections(text).remove(0);
        let result = negotiate(
            &offer,
            &Capabilities::browser_default(),
            &NegotiationOptions::send_recv(),
        );
        let offered: Vec<(u16, &str)> = offer
            .header_extensions
            .iter()
            .map(|e| (e.id, &*e.uri))
            .collect();
        let accepted: Vec<(u16, &str)> = result
            .header_extensions
            .iter()
            .map(|e| (e.id, &*e.uri))
            .collect();
        assert_eq!(accepted, offered);
    }
}

#[test]
fn validate_reports_the_first_broken_rule() {
    let vp8 = || Codec::new(MediaKind::Video, "VP8", 90_000);
    let rtx = |apt: &str| {
        Codec::new(MediaKind::Video, "rtx", 90_000)
            .with_fmtp(antiphon_codec::Fmtp::new().with("apt", apt))
    };
    let red = |refs: &str| {
        Codec::new(MediaKind::Video, "red", 90_000).with_fmtp(refs.parse().expect("fmtp"))
    };
    let media = |codecs: Vec<OfferedCodec>| OfferedMedia {
        codecs,
        ..OfferedMedia::new(MediaKind::Video)
    };
    let cases: Vec<(OfferedMedia, Result<(), CodecError>)> = vec![
        (
            media(vec![
                OfferedCodec::new(96, vp8()),
                OfferedCodec::new(97, rtx("96")),
            ]),
            Ok(()),
        ),
        (
            media(vec![
                OfferedCodec::new(96, vp8()),
                OfferedCodec::new(96, vp8()),
            ]),
            Err(CodecError::DuplicatePayloadType { payload_type: 96 }),
        ),
        (
            media(vec![OfferedCodec::new(128, vp8())]),
            Err(CodecError::PayloadTypeOutOfRange { payload_type: 128 }),
        ),
        (
            media(vec![OfferedCodec::new(74, vp8())]),
            Err(CodecError::PayloadTypeConflictsWithRtcp { payload_type: 74 }),
        ),
        (
            media(vec![OfferedCodec::new(
                97,
                Codec::new(MediaKind::Video, "rtx", 90_000),
            )]),
            Err(CodecError::RtxMissingApt { payload_type: 97 }),
        ),
        (
            media(vec![OfferedCodec::new(97, rtx("96"))]),
            Err(CodecError::RtxAptNotOffered {
                payload_type: 97,
                apt: 96,
            }),
        ),
        (
            media(vec![OfferedCodec::new(97, rtx("x"))]),
            Err(CodecError::InvalidParameterValue {
                parameter: "apt",
                value: "x".to_owned(),
                expected: "a payload type 0..=127",
            }),
        ),
        (
            media(vec![
                OfferedCodec::new(96, vp8()),
                OfferedCodec::new(116, red("96/98")),
            ]),
            Err(CodecError::RedPayloadTypeNotOffered {
                payload_type: 116,
                referenced: 98,
            }),
        ),
    ];
    for (offer, expected) in cases {
        assert_eq!(offer.validate(), expected, "{offer:?}");
    }
}

/// Every `a=fmtp` value in the valid corpus parses, and writes back to itself (modulo
/// whitespace around separators).
#[test]
fn every_corpus_fmtp_value_parses_and_round_trips() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/sdp/valid"
    );
    let mut values = 0;
    for entry in
        std::fs::read_dir(dir).unwrap_or_else(|e| panic!("corpus directory {dir} is required: {e}"))
    {
        let path = entry.expect("dir entry").path();
        let text = std::fs::read_to_string(&path).expect("corpus file");
        for line in text
            .lines()
            .filter_map(|l| l.trim_end().strip_prefix("a=fmtp:"))
        {
            let Some((_, value)) = line.split_once(' ') else {
                continue;
            };
            let fmtp = antiphon_codec::Fmtp::parse(value)
                .unwrap_or_else(|e| panic!("{}: {value:?}: {e}", path.display()));
            let compact: String = value
                .split(';')
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .collect::<Vec<_>>()
                .join(";");
            assert_eq!(
                fmtp.to_string(),
                compact.replace(" = ", "="),
                "{}",
                path.display()
            );
            values += 1;
        }
    }
    assert!(values > 100, "only {values} fmtp values found");
}

/// Every audio/video section of every valid corpus file, negotiated against the defaults: the
/// result is consistent, and every section from a browser keeps a media codec.
#[test]
fn corpus_offers_negotiate_consistently() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/sdp/valid"
    );
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("corpus directory {dir} is required: {e}"))
        .map(|entry| {
            entry
                .expect("dir entry")
                .file_name()
                .into_string()
                .expect("utf-8 name")
        })
        .filter(|name| name.ends_with(".sdp"))
        .collect();
    entries.sort();
    assert!(entries.len() > 50, "corpus looks truncated");
    let mut sections_seen = 0;
    for name in &entries {
        let text = corpus_file(name);
        for offer in sections(&text) {
            sections_seen += 1;
            let result = negotiate(
                &offer,
                &Capabilities::browser_default(),
                &NegotiationOptions::send_recv(),
            );
            assert_eq!(
                result.explanation.codecs.len(),
                offer.codecs.len(),
                "{name}"
            );
            let pts: Vec<u8> = result.codecs.iter().map(|c| c.payload_type).collect();
            for codec in &result.codecs {
                assert!(
                    offer
                        .codecs
                        .iter()
                        .any(|o| o.payload_type == codec.payload_type),
                    "{name}"
                );
                if codec.codec.role() == CodecRole::Retransmission {
                    let apt: u8 = codec
                        .codec
                        .fmtp
                        .get("apt")
                        .and_then(|a| a.parse().ok())
                        .expect("apt");
                    assert!(
                        pts.contains(&apt),
                        "{name}: rtx {} apt {apt}",
                        codec.payload_type
                    );
                }
            }
            let from_browser = ["chrome", "firefox", "safari"]
                .iter()
                .any(|b| name.contains(b));
            let offers_common = offer.codecs.iter().any(|o| {
                ["opus", "VP8", "PCMU"]
                    .iter()
                    .any(|n| o.codec.name.eq_ignore_ascii_case(n))
            });
            if from_browser && offers_common {
                assert!(result.has_media_codec(), "{name}: {:?}", result.explanation);
            }
        }
    }
    assert!(
        sections_seen > 100,
        "only {sections_seen} media sections found"
    );
}
