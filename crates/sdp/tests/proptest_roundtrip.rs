//! Property: for generated models, `parse(write(x)) == x` (strict mode, no warnings except
//! for the generated unknown attributes), and the view of `write(x)` agrees with `x`.

mod common;

use std::net::{IpAddr, Ipv4Addr};

use antiphon_sdp::*;
use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

fn token() -> impl Strategy<Value = String> {
    "[a-zA-Z0-9_-]{1,8}"
}

fn ip() -> impl Strategy<Value = IpAddr> {
    any::<[u8; 4]>().prop_map(|b| IpAddr::V4(Ipv4Addr::from(b)))
}

fn pt() -> impl Strategy<Value = u8> {
    0u8..=127
}

fn direction() -> impl Strategy<Value = Direction> {
    prop_oneof![
        Just(Direction::SendRecv),
        Just(Direction::SendOnly),
        Just(Direction::RecvOnly),
        Just(Direction::Inactive)
    ]
}

fn fingerprint() -> impl Strategy<Value = Attribute> {
    vec(any::<u8>(), 32).prop_map(|bytes| {
        let value = bytes
            .iter()
            .map(|b| format!("{b:02X}"))
            .collect::<Vec<_>>()
            .join(":");
        Attribute::Fingerprint(Fingerprint {
            algorithm: "sha-256".into(),
            value,
        })
    })
}

fn unknown() -> impl Strategy<Value = Attribute> {
    ("x-[a-z]{1,6}", option::of("[a-z0-9 :=]{0,12}"))
        .prop_map(|(name, value)| Attribute::Unknown { name, value })
}

fn either_level() -> impl Strategy<Value = Attribute> {
    prop_oneof![
        token().prop_map(Attribute::IceUfrag),
        token().prop_map(Attribute::IcePwd),
        vec(token(), 1..3).prop_map(Attribute::IceOptions),
        fingerprint(),
        prop_oneof![
            Just(Setup::Active),
            Just(Setup::Passive),
            Just(Setup::ActPass),
            Just(Setup::HoldConn)
        ]
        .prop_map(Attribute::Setup),
        Just(Attribute::ExtmapAllowMixed),
        direction().prop_map(Attribute::Direction),
        unknown(),
    ]
}

fn session_attribute() -> impl Strategy<Value = Attribute> {
    prop_oneof![
        either_level(),
        (token(), vec(token(), 0..4))
            .prop_map(|(semantics, mids)| Attribute::Group(Group { semantics, mids })),
        (token(), vec(token(), 0..3)).prop_map(|(semantic, identifiers)| Attribute::MsidSemantic(
            MsidSemantic {
                semantic,
                identifiers
            }
        )),
        Just(Attribute::IceLite),
        any::<u32>().prop_map(Attribute::IcePacing),
    ]
}

fn simulcast_streams() -> impl Strategy<Value = Vec<Vec<SimulcastStream>>> {
    vec(
        vec(
            ("[a-z0-9]{1,3}", any::<bool>())
                .prop_map(|(rid, paused)| SimulcastStream { rid, paused }),
            1..3,
        ),
        0..3,
    )
}

fn media_attribute() -> impl Strategy<Value = Attribute> {
    prop_oneof![
        either_level(),
        token().prop_map(Attribute::Mid),
        (token(), option::of(token())).prop_map(|(stream_id, track_id)| Attribute::Msid(Msid {
            stream_id,
            track_id
        })),
        (
            pt(),
            "[a-zA-Z0-9-]{1,8}",
            1u32..200_000,
            option::of(1u16..=8)
        )
            .prop_map(|(payload_type, encoding, clock_rate, channels)| {
                Attribute::Rtpmap(Rtpmap {
                    payload_type,
                    encoding: encoding.into(),
                    clock_rate,
                    channels,
                })
            }),
        (pt(), "[a-z0-9=;-]{1,20}").prop_map(|(payload_type, params)| Attribute::Fmtp(Fmtp {
            payload_type,
            params
        })),
        (
            option::of(pt()),
            token(),
            option::of("[a-z]{1,5}( [a-z0-9]{1,4})?")
        )
            .prop_map(|(payload_type, feedback, param)| Attribute::RtcpFb(RtcpFb {
                payload_type,
                feedback: feedback.into(),
                param: param.map(Into::into)
            })),
        (any::<u16>(), option::of(ip())).prop_map(|(port, ip)| Attribute::Rtcp(Rtcp {
            port,
            connection: ip.map(Connection::from_ip)
        })),
        (
            1u16..4096,
            option::of(direction()),
            any::<bool>(),
            "urn:[a-z:-]{1,20}",
            option::of("[a-z0-9=]{1,8}")
        )
            .prop_map(|(id, direction, encrypt, uri, extension_attributes)| {
                Attribute::Extmap(Extmap {
                    id,
                    direction,
                    encrypt,
                    uri: uri.into(),
                    extension_attributes,
                })
            }),
        (
            any::<u32>(),
            "[a-z]{1,6}",
            option::of("[a-zA-Z0-9 +/]{0,12}")
        )
            .prop_map(|(id, attribute, value)| Attribute::Ssrc(Ssrc {
                id,
                attribute: attribute.into(),
                value
            })),
        (token(), vec(any::<u32>(), 0..4))
            .prop_map(|(semantics, ssrcs)| Attribute::SsrcGroup(SsrcGroup { semantics, ssrcs })),
        (
            "[a-z0-9]{1,4}",
            any::<bool>(),
            vec(pt(), 0..3),
            vec(
                ("max-[a-z]{1,5}", option::of("[0-9]{1,4}"))
                    .prop_map(|(name, value)| RidRestriction { name, value }),
                0..3
            )
        )
            .prop_map(|(id, send, formats, restrictions)| Attribute::Rid(Rid {
                id,
                direction: if send {
                    RidDirection::Send
                } else {
                    RidDirection::Recv
                },
                formats,
                restrictions,
            })),
        (simulcast_streams(), simulcast_streams())
            .prop_filter("one direction", |(send, recv)| !send.is_empty()
                || !recv.is_empty())
            .prop_map(|(send, recv)| Attribute::Simulcast(Simulcast { send, recv })),
        (
            "[a-zA-Z0-9+/]{1,8}",
            1u16..3,
            any::<u32>(),
            ip(),
            any::<u16>()
        )
            .prop_map(|(foundation, component, priority, ip, port)| {
                Attribute::Candidate(format!(
                    "{foundation} {component} udp {priority} {ip} {port} typ host generation 0"
                ))
            }),
        Just(Attribute::EndOfCandidates),
        Just(Attribute::RtcpMux),
        Just(Attribute::RtcpMuxOnly),
        Just(Attribute::RtcpRsize),
        Just(Attribute::BundleOnly),
        any::<u16>().prop_map(Attribute::SctpPort),
        any::<u64>().prop_map(Attribute::MaxMessageSize),
        (any::<u16>(), token(), option::of(any::<u32>())).prop_map(|(port, protocol, streams)| {
            Attribute::Sctpmap(Sctpmap {
                port,
                protocol,
                streams,
            })
        }),
        (1u32..1000).prop_map(|ms| Attribute::Ptime(Decimal::from_integer(ms))),
        any::<u32>().prop_map(Attribute::Maxptime),
        token().prop_map(Attribute::Label),
        (
            option::of(pt()),
            "(send|recv) \\[x=[0-9]{1,4},y=[0-9]{1,4}\\]"
        )
            .prop_map(|(payload_type, params)| Attribute::ImageAttr(ImageAttr {
                payload_type,
                params
            })),
        more_media_attributes(),
    ]
}

/// The rarer media attributes, in their own union to keep the main one readable.
fn more_media_attributes() -> impl Strategy<Value = Attribute> {
    prop_oneof![
        (
            1u32..1_000_000_000,
            "[A-Z0-9_]{1,24}",
            "inline:[a-zA-Z0-9+/]{4,40}(\\|2\\^20)?",
            option::of("[A-Z_=0-9]{1,10}( [A-Z_]{1,8})?")
        )
            .prop_map(|(tag, suite, key_params, session_params)| {
                Attribute::Crypto(Crypto {
                    tag,
                    suite,
                    key_params,
                    session_params,
                })
            }),
        prop_oneof![Just(ConnectionMode::New), Just(ConnectionMode::Existing)]
            .prop_map(Attribute::ConnectionMode),
        "[0-9]{1,3}(\\.[0-9]{1,2})?".prop_map(|text| {
            Attribute::Framerate(Decimal::new(&text).unwrap_or_else(|| Decimal::from_integer(30)))
        }),
        "[0-9a-f]{8,32}".prop_map(Attribute::TlsId),
        "[a-zA-Z0-9+/=.]{1,40}".prop_map(Attribute::Identity),
        "(main|slides|alt)".prop_map(Attribute::Content),
        Just(Attribute::IceMismatch),
        (
            pt(),
            vec(("[a-z-]{1,12}", option::of("[a-z0-9]{1,6}")), 1..4)
        )
            .prop_map(|(payload_type, params)| {
                Attribute::Fmtp(Fmtp::from_params(
                    payload_type,
                    params.iter().map(|(name, value)| match value {
                        Some(value) => FmtpParam::pair(name, value),
                        None => FmtpParam::token(name),
                    }),
                ))
            }),
    ]
}

fn media() -> impl Strategy<Value = MediaDescription> {
    (
        prop_oneof![
            Just(MediaKind::Audio),
            Just(MediaKind::Video),
            Just(MediaKind::Application)
        ],
        any::<u16>(),
        vec(pt(), 1..5),
        ip(),
        vec(
            ("AS|TIAS", any::<u64>())
                .prop_map(|(bwtype, bandwidth)| Bandwidth { bwtype, bandwidth }),
            0..2,
        ),
        vec(media_attribute(), 0..12),
        option::of("[a-zA-Z ]{1,10}"),
        option::of(1u16..4),
    )
        .prop_map(
            |(kind, port, pts, ip, bandwidths, attributes, title, port_count)| {
                let (proto, formats) = match kind {
                    MediaKind::Application => {
                        (Proto::UDP_DTLS_SCTP, vec!["webrtc-datachannel".into()])
                    }
                    _ => (
                        Proto::UDP_TLS_RTP_SAVPF,
                        pts.iter().map(u8::to_string).collect(),
                    ),
                };
                let mut media = MediaDescription::new(kind, port, proto, formats);
                media.port_count = port_count;
                media.title = title;
                media.connections.push(Connection::from_ip(ip));
                media.bandwidths = bandwidths;
                media.attributes = attributes;
                media
            },
        )
}

fn typed_time() -> impl Strategy<Value = TypedTime> {
    (
        any::<u32>(),
        option::of(prop_oneof![
            Just(TimeUnit::Days),
            Just(TimeUnit::Hours),
            Just(TimeUnit::Seconds)
        ]),
    )
        .prop_map(|(value, unit)| TypedTime {
            value: u64::from(value),
            unit,
        })
}

fn description() -> impl Strategy<Value = SessionDescription> {
    (
        ("[a-z-]{1,8}", any::<u64>(), any::<u64>(), ip()),
        "[a-zA-Z0-9 -]{1,16}",
        option::of(ip()),
        vec(
            (
                any::<u32>(),
                any::<u32>(),
                vec((typed_time(), typed_time(), vec(typed_time(), 1..3)), 0..2),
            ),
            1..3,
        ),
        vec(session_attribute(), 0..8),
        vec(media(), 0..4),
        option::of("[a-z.@]{3,12}"),
    )
        .prop_map(
            |(
                (user, id, version, origin_ip),
                name,
                connection,
                times,
                attributes,
                media,
                email,
            )| {
                let origin = Origin::new(user, id, version, "IN", "IP4", origin_ip.to_string());
                let mut sdp = SessionDescription::new(origin, name);
                sdp.connection = connection.map(Connection::from_ip);
                sdp.times = times
                    .into_iter()
                    .map(|(start, stop, repeats)| Timing {
                        start: u64::from(start),
                        stop: u64::from(stop),
                        repeats: repeats
                            .into_iter()
                            .map(|(interval, duration, offsets)| Repeat {
                                interval,
                                duration,
                                offsets,
                            })
                            .collect(),
                    })
                    .collect();
                sdp.attributes = attributes;
                sdp.media = media;
                sdp.emails = email.into_iter().collect();
                sdp
            },
        )
}

proptest! {
    #[test]
    fn parse_of_write_is_identity(sdp in description()) {
        let text = sdp.to_string();
        let mut appended = String::from("kept:");
        sdp.write_to(&mut appended);
        prop_assert_eq!(appended.strip_prefix("kept:"), Some(text.as_str()));
        let parsed = parse(&text).map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        prop_assert_eq!(&parsed.description, &sdp);
        let unknown = sdp.attributes.iter().chain(sdp.media.iter().flat_map(|m| &m.attributes))
            .filter(|a| a.is_unknown())
            .count();
        prop_assert_eq!(parsed.warnings.len(), unknown);
    }

    #[test]
    fn view_of_write_agrees(sdp in description()) {
        let text = sdp.to_string();
        let view = parse_view(&text, &ParseOptions::strict())
            .map_err(|e| TestCaseError::fail(format!("{e}\n{text}")))?;
        let d = &view.description;
        prop_assert_eq!(Origin::from(d.origin), sdp.origin.clone());
        prop_assert_eq!(d.session_name, sdp.session_name.as_str());
        prop_assert_eq!(d.connection.map(Connection::from), sdp.connection.clone());
        prop_assert_eq!(&d.times, &sdp.times);
        prop_assert_eq!(d.attributes.len(), sdp.attributes.len());
        for (view, attribute) in d.attributes.iter().zip(&sdp.attributes) {
            prop_assert_eq!(view.name(), attribute.name());
            prop_assert_eq!(&view.parse()?.0, attribute);
        }
        prop_assert_eq!(d.media.len(), sdp.media.len());
        for (view, media) in d.media.iter().zip(&sdp.media) {
            prop_assert_eq!(view.kind, media.kind.as_str());
            prop_assert_eq!((view.port, view.port_count), (media.port, media.port_count));
            prop_assert_eq!(view.proto, media.proto.as_str());
            prop_assert!(view.formats().eq(media.formats.iter().map(|f| &**f)));
            prop_assert_eq!(view.title, media.title.as_deref());
            let connections: Vec<Connection> = view.connections.iter().map(|&c| c.into()).collect();
            prop_assert_eq!(&connections, &media.connections);
            let bandwidths: Vec<Bandwidth> = view.bandwidths.iter().map(|&b| b.into()).collect();
            prop_assert_eq!(&bandwidths, &media.bandwidths);
            prop_assert_eq!(view.mid(), media.mid());
            prop_assert_eq!(view.attributes.len(), media.attributes.len());
            for (view, attribute) in view.attributes.iter().zip(&media.attributes) {
                prop_assert_eq!(view.name(), attribute.name());
                prop_assert_eq!(&view.parse()?.0, attribute);
            }
        }
        let parsed = view.to_parsed()?;
        prop_assert_eq!(&parsed.description, &sdp);
    }

    #[test]
    fn mutated_lines_view_agrees_with_the_owned_parser(
        sdp in description(),
        cuts in vec((any::<prop::sample::Index>(), any::<u8>()), 1..4),
    ) {
        let mut bytes = sdp.to_string().into_bytes();
        for (cut, byte) in cuts {
            if !bytes.is_empty() {
                let i = cut.index(bytes.len());
                bytes[i] = byte;
            }
        }
        for options in [ParseOptions::strict(), ParseOptions::lenient()] {
            common::check(&bytes, &options).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in vec(any::<u8>(), 0..512)) {
        let _ = parse_with(&bytes, &ParseOptions::lenient());
        let _ = parse_with(&bytes, &ParseOptions::strict());
        for options in [ParseOptions::strict(), ParseOptions::lenient()] {
            common::check(&bytes, &options).map_err(TestCaseError::fail)?;
        }
    }

    #[test]
    fn mutated_lines_never_panic(sdp in description(), cut in any::<prop::sample::Index>(), byte in any::<u8>()) {
        let mut bytes = sdp.to_string().into_bytes();
        if !bytes.is_empty() {
            let i = cut.index(bytes.len());
            bytes[i] = byte;
        }
        if let Ok(parsed) = parse_with(&bytes, &ParseOptions::lenient()) {
            let again = parse_with(parsed.description.to_string().as_bytes(), &ParseOptions::lenient());
            prop_assert_eq!(again.map(|p| p.description).ok(), Some(parsed.description));
        }
    }
}
