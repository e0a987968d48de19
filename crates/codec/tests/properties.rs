//! Property tests: negotiation never returns a codec we do not support, never changes an offered
//! payload type, never returns an rtx whose apt is not in the result, and never panics;
//! `negotiate_owned` returns what `negotiate` does; fmtp text round-trips.

use antiphon_codec::{
    Capabilities, Codec, CodecRole, Direction, Fmtp, FmtpParam, MediaKind, NegotiationOptions,
    OfferedCodec, OfferedHeaderExtension, OfferedMedia, RtcpFeedback, negotiate, negotiate_owned,
};
use proptest::prelude::*;

fn kind() -> impl Strategy<Value = MediaKind> {
    prop_oneof![Just(MediaKind::Audio), Just(MediaKind::Video)]
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![
        Just(Direction::SendRecv),
        Just(Direction::SendOnly),
        Just(Direction::RecvOnly),
        Just(Direction::Inactive)
    ]
}

fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(vec![
            "opus", "red", "G722", "PCMU", "PCMA", "CN", "telephone-event", "VP8", "VP9", "H264", "h264",
            "AV1", "H265", "rtx", "RTX", "ulpfec", "flexfec-03", "ISAC",
        ])
        .prop_map(str::to_owned),
        1 => "[A-Za-z0-9-]{1,8}",
    ]
}

fn clock_rate() -> impl Strategy<Value = u32> {
    prop_oneof![4 => prop::sample::select(vec![8_000u32, 16_000, 48_000, 90_000]), 1 => any::<u32>()]
}

/// Fmtp text built from parameters that matter (with good and bad values) and noise.
fn fmtp_text() -> impl Strategy<Value = String> {
    let param = prop_oneof![
        "profile-level-id=[0-9a-fA-F]{6}",
        prop::sample::select(vec![
            "profile-level-id=42e01f",
            "profile-level-id=42001f",
            "profile-level-id=640c1f",
            "profile-level-id=4d001f",
            "profile-level-id=64001f",
            "profile-level-id=zz",
            "profile-level-id=42f00b",
        ])
        .prop_map(str::to_owned),
        "packetization-mode=[0-3]",
        "level-asymmetry-allowed=[0-2]",
        "profile-id=[0-4]",
        "profile=[0-3]",
        "level-id=[0-9]{1,3}",
        "tier-flag=[0-2]",
        "tx-mode=(SRST|MRST|XX)",
        "apt=[0-9]{1,3}",
        "apt=[a-z]{1,2}",
        "[0-9]{1,3}/[0-9]{1,3}",
        "minptime=[0-9]{1,2}",
        "[a-z-]{1,8}=[a-zA-Z0-9]{0,4}",
    ];
    prop::collection::vec(param, 0..4).prop_map(|params| params.join(";"))
}

fn offered_codec(section: MediaKind) -> impl Strategy<Value = OfferedCodec> {
    (
        prop_oneof![8 => 0u8..128, 1 => any::<u8>()],
        prop_oneof![9 => Just(section), 1 => kind()],
        name(),
        clock_rate(),
        prop::option::of(prop_oneof![Just(1u16), Just(2u16), any::<u16>()]),
        fmtp_text(),
        prop::collection::vec(feedback(), 0..4),
    )
        .prop_map(
            |(payload_type, kind, name, clock_rate, channels, fmtp, rtcp_feedback)| {
                let mut codec = Codec::new(kind, name, clock_rate)
                    .with_fmtp(Fmtp::parse(&fmtp).unwrap_or_default());
                codec.channels = channels;
                OfferedCodec {
                    payload_type,
                    codec,
                    rtcp_feedback,
                }
            },
        )
}

fn feedback() -> impl Strategy<Value = RtcpFeedback> {
    prop::sample::select(vec![
        RtcpFeedback::nack(),
        RtcpFeedback::nack_pli(),
        RtcpFeedback::ccm_fir(),
        RtcpFeedback::goog_remb(),
        RtcpFeedback::transport_cc(),
        RtcpFeedback::new("x-odd", Some("p")),
    ])
}

fn extension() -> impl Strategy<Value = OfferedHeaderExtension> {
    (
        prop_oneof![0u16..20, any::<u16>()],
        prop::sample::select(vec![
            antiphon_codec::uri::SDES_MID,
            antiphon_codec::uri::ABS_SEND_TIME,
            antiphon_codec::uri::SSRC_AUDIO_LEVEL,
            antiphon_codec::uri::TOFFSET,
            "urn:example:x",
        ]),
        direction(),
    )
        .prop_map(|(id, uri, direction)| OfferedHeaderExtension {
            id,
            uri: uri.to_owned().into(),
            direction,
        })
}

fn offered_media() -> impl Strategy<Value = OfferedMedia> {
    kind().prop_flat_map(|kind| {
        (
            prop::collection::vec(offered_codec(kind), 0..40),
            prop::collection::vec(feedback(), 0..3),
            prop::collection::vec(extension(), 0..12),
        )
            .prop_map(move |(codecs, rtcp_feedback_wildcard, header_extensions)| {
                OfferedMedia {
                    kind,
                    codecs,
                    rtcp_feedback_wildcard,
                    header_extensions,
                }
            })
    })
}

/// The Chrome defaults with some codecs dropped and directions shuffled.
fn local_capabilities() -> impl Strategy<Value = Capabilities> {
    (
        prop::collection::vec((any::<bool>(), direction()), 40),
        any::<bool>(),
    )
        .prop_map(|(choices, keep_all)| {
            let mut caps = Capabilities::browser_default();
            if keep_all {
                return caps;
            }
            let mut choice = choices.into_iter().cycle();
            for media in [&mut caps.audio, &mut caps.video] {
                media.codecs.retain_mut(|capability| {
                    let (keep, direction) = choice.next().unwrap_or((true, Direction::SendRecv));
                    capability.direction = direction;
                    keep
                });
            }
            caps
        })
}

fn options() -> impl Strategy<Value = NegotiationOptions> {
    let defaults = Capabilities::browser_default();
    let all: Vec<Codec> = defaults
        .audio
        .codecs
        .iter()
        .chain(&defaults.video.codecs)
        .map(|c| c.codec.clone())
        .collect();
    (
        direction(),
        prop::option::of(prop::sample::subsequence(all.clone(), 0..all.len()).prop_shuffle()),
        any::<bool>(),
    )
        .prop_map(|(direction, preferences, two_byte)| {
            NegotiationOptions::send_recv()
                .with_direction(direction)
                .with_codec_preferences(preferences.unwrap_or_default())
                .with_two_byte_header_ids(two_byte)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn negotiation_invariants(offer in offered_media(), local in local_capabilities(), options in options()) {
        let result = negotiate(&offer, &local, &options);
        // Consuming the offer moves instead of copying and changes nothing else.
        prop_assert_eq!(&negotiate_owned(offer.clone(), &local, &options), &result);
        prop_assert_eq!(result.explanation.codecs.len(), offer.codecs.len());
        let accepted_verdicts = result.explanation.codecs.iter().filter(|v| v.verdict.is_accepted()).count();
        prop_assert_eq!(accepted_verdicts, result.codecs.len());
        let pts: Vec<u8> = result.codecs.iter().map(|c| c.payload_type).collect();
        let mut unique = pts.clone();
        unique.sort_unstable();
        unique.dedup();
        prop_assert_eq!(unique.len(), pts.len(), "payload types are unique in the answer");
        for negotiated in &result.codecs {
            // The payload type is an offered one, carrying the same codec as offered.
            let offered = offer.codecs.iter().find(|o| o.payload_type == negotiated.payload_type);
            prop_assert!(offered.is_some());
            let offered = offered.map(|o| &o.codec).unwrap_or(&negotiated.codec);
            prop_assert!(negotiated.payload_type <= 127);
            prop_assert!(offered.is_same_format(&negotiated.codec));
            prop_assert_eq!(&negotiated.remote_fmtp, &offered.fmtp);
            // We support it, in the needed direction.
            let supported = local.of_kind(offer.kind).codecs.iter().any(|capability| {
                capability.direction.covers(options.direction)
                    && capability.codec.is_same_format(offered)
                    && (offered.role() != CodecRole::Media || capability.codec.is_compatible_with(offered))
            });
            prop_assert!(supported, "unsupported codec {} accepted", offered);
            // Feedback is a subset of what was offered.
            for fb in &negotiated.rtcp_feedback {
                let offered_fb = offer.codecs.iter().filter(|o| o.payload_type == negotiated.payload_type)
                    .flat_map(|o| &o.rtcp_feedback).chain(&offer.rtcp_feedback_wildcard);
                prop_assert!(offered_fb.clone().any(|o| o.same_as(fb)));
            }
            match negotiated.codec.role() {
                CodecRole::Retransmission => {
                    let apt = negotiated.codec.fmtp.get("apt").and_then(|a| a.parse::<u8>().ok());
                    prop_assert!(apt.is_some_and(|apt| pts.contains(&apt)), "rtx {} apt {:?}", negotiated.payload_type, apt);
                }
                CodecRole::Redundancy => {
                    for token in negotiated.codec.fmtp.tokens() {
                        for part in token.split('/') {
                            let pt = part.parse::<u8>().ok();
                            prop_assert!(pt.is_some_and(|pt| pts.contains(&pt)));
                        }
                    }
                }
                _ => {}
            }
        }
        let ids: Vec<u16> = result.header_extensions.iter().map(|e| e.id).collect();
        let mut unique_ids = ids.clone();
        unique_ids.sort_unstable();
        unique_ids.dedup();
        prop_assert_eq!(unique_ids.len(), ids.len());
        for extension in &result.header_extensions {
            prop_assert!(offer.header_extensions.iter().any(|o| o.id == extension.id && o.uri == extension.uri));
        }
    }

    #[test]
    fn fmtp_parse_never_panics(text in "(?s).{0,80}") {
        if let Ok(fmtp) = Fmtp::parse(&text) {
            prop_assert_eq!(Fmtp::parse(&fmtp.to_string()), Ok(fmtp));
        }
    }

    #[test]
    fn fmtp_round_trips(params in prop::collection::vec(
        prop_oneof![
            ("[a-zA-Z][a-zA-Z0-9-]{0,10}", "[a-zA-Z0-9=/,.+-]{0,10}")
                .prop_map(|(name, value)| FmtpParam { name, value: Some(value) }),
            "[0-9][0-9/,-]{0,6}( [0-9]{1,3}){0,3}".prop_map(|name| FmtpParam { name, value: None }),
        ],
        0..10,
    )) {
        let fmtp: Fmtp = params.into_iter().collect();
        prop_assert_eq!(Fmtp::parse(&fmtp.to_string()), Ok(fmtp));
    }

    #[test]
    fn typed_fmtp_readers_never_panic(text in fmtp_text()) {
        if let Ok(fmtp) = Fmtp::parse(&text) {
            let _ = antiphon_codec::H264Fmtp::from_fmtp(&fmtp);
            let _ = antiphon_codec::H265Fmtp::from_fmtp(&fmtp);
            let _ = antiphon_codec::Av1Fmtp::from_fmtp(&fmtp);
            let _ = antiphon_codec::Vp9Fmtp::from_fmtp(&fmtp);
            let _ = antiphon_codec::OpusFmtp::from_fmtp(&fmtp);
        }
    }

    #[test]
    fn profile_level_id_round_trips(text in "[0-9a-f]{6}") {
        if let Ok(id) = antiphon_codec::ProfileLevelId::parse(&text) {
            prop_assert_eq!(id.to_string(), text.clone());
            let again = antiphon_codec::ProfileLevelId::parse(&id.with_level(id.level()).to_string());
            prop_assert_eq!(again.map(|p| (p.profile(), p.level())), Ok((id.profile(), id.level())));
        }
    }
}
