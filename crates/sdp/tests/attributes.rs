//! Table-driven tests per attribute: each line parses to the expected typed value and is
//! written back byte for byte; malformed values fail at the expected column.

use antiphon_sdp::*;

const HEAD: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";
const MEDIA: &str = "m=audio 9 UDP/TLS/RTP/SAVPF 111\r\nc=IN IP4 0.0.0.0\r\n";

fn media_sdp(line: &str) -> String {
    format!("{HEAD}{MEDIA}{line}\r\n")
}

fn parse_media_attribute(line: &str) -> Result<Attribute, SdpError> {
    let parsed = parse(&media_sdp(line))?;
    Ok(parsed.description.media[0].attributes[0].clone())
}

fn s(text: &str) -> String {
    text.to_owned()
}

/// The fields that keep well-known tokens borrowed compare by value: an owned copy will do.
fn c(text: &str) -> std::borrow::Cow<'static, str> {
    text.to_owned().into()
}

fn media_table() -> Vec<(&'static str, Attribute)> {
    vec![
        ("a=mid:0", Attribute::Mid(s("0"))),
        (
            "a=msid:stream track",
            Attribute::Msid(Msid {
                stream_id: s("stream"),
                track_id: Some(s("track")),
            }),
        ),
        (
            "a=msid:-",
            Attribute::Msid(Msid {
                stream_id: s("-"),
                track_id: None,
            }),
        ),
        ("a=ice-ufrag:F7gI", Attribute::IceUfrag(s("F7gI"))),
        (
            "a=ice-pwd:x9cml/YzichV2+XlhiMu8g",
            Attribute::IcePwd(s("x9cml/YzichV2+XlhiMu8g")),
        ),
        (
            "a=ice-options:trickle ice2",
            Attribute::IceOptions(vec![s("trickle"), s("ice2")]),
        ),
        ("a=ice-mismatch", Attribute::IceMismatch),
        (
            "a=candidate:1 1 udp 2113937151 192.0.2.1 54400 typ host generation 0",
            Attribute::Candidate(s(
                "1 1 udp 2113937151 192.0.2.1 54400 typ host generation 0",
            )),
        ),
        (
            "a=remote-candidates:1 192.0.2.1 5000",
            Attribute::RemoteCandidates(s("1 192.0.2.1 5000")),
        ),
        ("a=end-of-candidates", Attribute::EndOfCandidates),
        (
            "a=fingerprint:sha-1 4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB",
            Attribute::Fingerprint(Fingerprint {
                algorithm: s("sha-1"),
                value: s("4A:AD:B9:B1:3F:82:18:3B:54:02:12:DF:3E:5D:49:6B:19:E5:7C:AB"),
            }),
        ),
        ("a=setup:actpass", Attribute::Setup(Setup::ActPass)),
        ("a=setup:holdconn", Attribute::Setup(Setup::HoldConn)),
        (
            "a=tls-id:91bbf309c0990a6bec11e38ba2933cee",
            Attribute::TlsId(s("91bbf309c0990a6bec11e38ba2933cee")),
        ),
        (
            "a=rtpmap:111 opus/48000/2",
            Attribute::Rtpmap(Rtpmap {
                payload_type: 111,
                encoding: c("opus"),
                clock_rate: 48000,
                channels: Some(2),
            }),
        ),
        (
            "a=rtpmap:96 VP8/90000",
            Attribute::Rtpmap(Rtpmap {
                payload_type: 96,
                encoding: c("VP8"),
                clock_rate: 90000,
                channels: None,
            }),
        ),
        (
            "a=fmtp:111 minptime=10;useinbandfec=1",
            Attribute::Fmtp(Fmtp {
                payload_type: 111,
                params: s("minptime=10;useinbandfec=1"),
            }),
        ),
        (
            "a=rtcp-fb:96 nack pli",
            Attribute::RtcpFb(RtcpFb {
                payload_type: Some(96),
                feedback: c("nack"),
                param: Some(c("pli")),
            }),
        ),
        (
            "a=rtcp-fb:* transport-cc",
            Attribute::RtcpFb(RtcpFb {
                payload_type: None,
                feedback: c("transport-cc"),
                param: None,
            }),
        ),
        ("a=rtcp:9 IN IP4 0.0.0.0", Attribute::Rtcp(Rtcp::discard())),
        (
            "a=rtcp:12312",
            Attribute::Rtcp(Rtcp {
                port: 12312,
                connection: None,
            }),
        ),
        ("a=rtcp-mux", Attribute::RtcpMux),
        ("a=rtcp-mux-only", Attribute::RtcpMuxOnly),
        ("a=rtcp-rsize", Attribute::RtcpRsize),
        (
            "a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level",
            Attribute::Extmap(Extmap {
                id: 1,
                direction: None,
                encrypt: false,
                uri: c("urn:ietf:params:rtp-hdrext:ssrc-audio-level"),
                extension_attributes: None,
            }),
        ),
        (
            "a=extmap:2/sendonly urn:ietf:params:rtp-hdrext:encrypt urn:ietf:params:rtp-hdrext:toffset vad=on",
            Attribute::Extmap(Extmap {
                id: 2,
                direction: Some(Direction::SendOnly),
                encrypt: true,
                uri: c("urn:ietf:params:rtp-hdrext:toffset"),
                extension_attributes: Some(s("vad=on")),
            }),
        ),
        ("a=extmap-allow-mixed", Attribute::ExtmapAllowMixed),
        (
            "a=ssrc:1 cname:stream_1_cname",
            Attribute::Ssrc(Ssrc {
                id: 1,
                attribute: c("cname"),
                value: Some(s("stream_1_cname")),
            }),
        ),
        (
            "a=ssrc:2754920552 msid:A B",
            Attribute::Ssrc(Ssrc {
                id: 2754920552,
                attribute: c("msid"),
                value: Some(s("A B")),
            }),
        ),
        (
            "a=ssrc:5150",
            Attribute::Ssrc(Ssrc {
                id: 5150,
                attribute: c(""),
                value: None,
            }),
        ),
        (
            "a=ssrc-group:FID 1 2",
            Attribute::SsrcGroup(SsrcGroup {
                semantics: s("FID"),
                ssrcs: vec![1, 2],
            }),
        ),
        (
            "a=rid:1 send pt=97,98;max-width=1280;max-fr",
            Attribute::Rid(Rid {
                id: s("1"),
                direction: RidDirection::Send,
                formats: vec![97, 98],
                restrictions: vec![
                    RidRestriction {
                        name: s("max-width"),
                        value: Some(s("1280")),
                    },
                    RidRestriction {
                        name: s("max-fr"),
                        value: None,
                    },
                ],
            }),
        ),
        (
            "a=rid:h recv",
            Attribute::Rid(Rid {
                id: s("h"),
                direction: RidDirection::Recv,
                formats: vec![],
                restrictions: vec![],
            }),
        ),
        (
            "a=simulcast:send 1,~4;2;3 recv c",
            Attribute::Simulcast(Simulcast {
                send: vec![
                    vec![
                        SimulcastStream {
                            rid: s("1"),
                            paused: false,
                        },
                        SimulcastStream {
                            rid: s("4"),
                            paused: true,
                        },
                    ],
                    vec![SimulcastStream {
                        rid: s("2"),
                        paused: false,
                    }],
                    vec![SimulcastStream {
                        rid: s("3"),
                        paused: false,
                    }],
                ],
                recv: vec![vec![SimulcastStream {
                    rid: s("c"),
                    paused: false,
                }]],
            }),
        ),
        ("a=sctp-port:5000", Attribute::SctpPort(5000)),
        (
            "a=sctpmap:5000 webrtc-datachannel 1024",
            Attribute::Sctpmap(Sctpmap {
                port: 5000,
                protocol: s("webrtc-datachannel"),
                streams: Some(1024),
            }),
        ),
        (
            "a=max-message-size:262144",
            Attribute::MaxMessageSize(262144),
        ),
        ("a=sendrecv", Attribute::Direction(Direction::SendRecv)),
        ("a=sendonly", Attribute::Direction(Direction::SendOnly)),
        ("a=recvonly", Attribute::Direction(Direction::RecvOnly)),
        ("a=inactive", Attribute::Direction(Direction::Inactive)),
        ("a=bundle-only", Attribute::BundleOnly),
        (
            "a=identity:eyJpZHAiOnt9fQ==",
            Attribute::Identity(s("eyJpZHAiOnt9fQ==")),
        ),
        (
            "a=ptime:0.125",
            Attribute::Ptime(Decimal::new("0.125").expect("decimal")),
        ),
        ("a=maxptime:120", Attribute::Maxptime(120)),
        (
            "a=framerate:29.97",
            Attribute::Framerate(Decimal::new("29.97").expect("decimal")),
        ),
        ("a=content:slides", Attribute::Content(s("slides"))),
        ("a=label:1", Attribute::Label(s("1"))),
        (
            "a=imageattr:100 recv [x=[48:1920],y=[48:1080],q=1.0]",
            Attribute::ImageAttr(ImageAttr {
                payload_type: Some(100),
                params: s("recv [x=[48:1920],y=[48:1080],q=1.0]"),
            }),
        ),
        (
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80 inline:abc",
            Attribute::Crypto(Crypto {
                tag: 1,
                suite: s("AES_CM_128_HMAC_SHA1_80"),
                key_params: s("inline:abc"),
                session_params: None,
            }),
        ),
        (
            "a=crypto:2 AES_CM_128_HMAC_SHA1_32 inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32 KDR=1 UNENCRYPTED_SRTCP",
            Attribute::Crypto(Crypto {
                tag: 2,
                suite: s("AES_CM_128_HMAC_SHA1_32"),
                key_params: s("inline:NzB4d1BINUAvLEw6UzF3WSJ+PSdFcGdUJShpX1Zj|2^20|1:32"),
                session_params: Some(s("KDR=1 UNENCRYPTED_SRTCP")),
            }),
        ),
        (
            "a=connection:new",
            Attribute::ConnectionMode(ConnectionMode::New),
        ),
        (
            "a=connection:existing",
            Attribute::ConnectionMode(ConnectionMode::Existing),
        ),
        (
            "a=x-flag",
            Attribute::Unknown {
                name: s("x-flag"),
                value: None,
            },
        ),
    ]
}

#[test]
fn media_attributes_parse_and_write_back() {
    let mut failures = Vec::new();
    for (line, expected) in media_table() {
        match parse_media_attribute(line) {
            Ok(got) if got == expected => {
                let written = got.to_string();
                let mut appended = String::new();
                got.write_to(&mut appended);
                if written != format!("{line}\r\n") || appended != written {
                    failures.push(format!(
                        "{line}: written back as {written:?} (write_to: {appended:?})"
                    ));
                }
            }
            Ok(got) => failures.push(format!("{line}: parsed as {got:?}")),
            Err(e) => failures.push(format!("{line}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn session_attributes_parse_and_write_back() {
    let table = vec![
        (
            "a=group:BUNDLE 0 1",
            Attribute::Group(Group {
                semantics: s("BUNDLE"),
                mids: vec![s("0"), s("1")],
            }),
        ),
        (
            "a=msid-semantic: WMS local_stream_1",
            Attribute::MsidSemantic(MsidSemantic {
                semantic: s("WMS"),
                identifiers: vec![s("local_stream_1")],
            }),
        ),
        ("a=ice-lite", Attribute::IceLite),
        ("a=ice-pacing:500", Attribute::IcePacing(500)),
        ("a=setup:active", Attribute::Setup(Setup::Active)),
    ];
    let mut failures = Vec::new();
    for (line, expected) in table {
        match parse(&format!("{HEAD}{line}\r\n")) {
            Ok(parsed) if parsed.description.attributes == [expected.clone()] => {
                if expected.to_string() != format!("{line}\r\n") {
                    failures.push(format!(
                        "{line}: written back as {:?}",
                        expected.to_string()
                    ));
                }
            }
            Ok(parsed) => failures.push(format!(
                "{line}: parsed as {:?}",
                parsed.description.attributes
            )),
            Err(e) => failures.push(format!("{line}: {e}")),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn malformed_values_point_at_the_field() {
    // (line, 1-based column inside the a= line, error kind)
    let table: Vec<(&str, usize, ParseErrorKind)> = vec![
        (
            "a=rtpmap:128 x/1",
            10,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "rtpmap",
                field: "payload type",
            },
        ),
        (
            "a=rtpmap:96 VP8/x",
            17,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "rtpmap",
                field: "clock rate",
            },
        ),
        (
            "a=rtpmap:96 L16/8000/300",
            22,
            ParseErrorKind::LimitExceeded(Limit::Channels(255)),
        ),
        (
            "a=setup:maybe",
            9,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "setup",
                field: "role",
            },
        ),
        (
            "a=extmap:1/sideways urn:x",
            12,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "extmap",
                field: "direction",
            },
        ),
        (
            "a=rtcp-mux:yes",
            12,
            ParseErrorKind::UnexpectedAttributeValue {
                attribute: "rtcp-mux",
            },
        ),
        (
            "a=mid",
            6,
            ParseErrorKind::MissingAttributeValue { attribute: "mid" },
        ),
        (
            "a=fingerprint:sha-256 AB:CD",
            23,
            ParseErrorKind::FingerprintLength {
                expected: 32,
                found: 2,
            },
        ),
        (
            "a=rid:1 sideways",
            9,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "rid",
                field: "direction",
            },
        ),
        (
            "a=simulcast:sideways 1",
            13,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "simulcast",
                field: "direction",
            },
        ),
        (
            "a=crypto:1234567890 AES_CM_128_HMAC_SHA1_80 inline:abc",
            10,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "crypto",
                field: "tag",
            },
        ),
        (
            "a=crypto:1 AES-CM inline:abc",
            15,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "crypto",
                field: "suite",
            },
        ),
        (
            "a=crypto:1 AES_CM_128_HMAC_SHA1_80",
            35,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "crypto",
                field: "key params",
            },
        ),
        (
            "a=rid:a.b send",
            8,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "rid",
                field: "rid-id",
            },
        ),
        (
            "a=ssrc:1 c@name:x",
            11,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "ssrc",
                field: "source attribute",
            },
        ),
        (
            "a=candidate:fo.o 1 udp 1 192.0.2.1 9 typ host",
            15,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "candidate",
                field: "foundation",
            },
        ),
        (
            "a=connection:maybe",
            14,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "connection",
                field: "mode",
            },
        ),
        (
            "a=max-message-size:-1",
            20,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "max-message-size",
                field: "size",
            },
        ),
    ];
    let line_no = 7;
    let mut failures = Vec::new();
    for (line, column, kind) in table {
        match parse(&media_sdp(line)) {
            Err(SdpError::Parse(e))
                if e.line == line_no && e.column == column && e.kind == kind => {}
            other => failures.push(format!(
                "{line}: expected {line_no}:{column} {kind:?}, got {other:?}"
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn unknown_attributes_are_warnings() {
    let parsed = parse(&media_sdp("a=x-google-flag:conference")).expect("parses");
    assert_eq!(
        parsed.warnings,
        [Warning {
            line: 7,
            column: 3,
            kind: WarningKind::UnknownAttribute(s("x-google-flag"))
        }]
    );
    assert_eq!(
        parsed.warnings[0].to_string(),
        "line 7, column 3: unknown attribute a=x-google-flag kept verbatim"
    );
}

#[test]
fn legacy_simulcast_is_normalized() {
    let parsed = parse(&media_sdp(
        "a=simulcast: send rid=1,4;2;3 paused=4 recv rid=c",
    ))
    .expect("parses");
    let attribute = &parsed.description.media[0].attributes[0];
    assert_eq!(
        attribute.to_string(),
        "a=simulcast:send 1,~4;2;3 recv c\r\n"
    );
    assert!(matches!(
        parsed.warnings[0].kind,
        WarningKind::LegacySyntax(_)
    ));
}

#[test]
fn lenient_rtpmap_without_clock_rate() {
    let sdp = media_sdp("a=rtpmap:96 AppleLossless");
    assert!(parse(&sdp).is_err());
    let parsed = parse_with(sdp.as_bytes(), &ParseOptions::lenient()).expect("lenient parses");
    let rtpmap = parsed.description.media[0].rtpmaps().next().cloned();
    assert_eq!(
        rtpmap.map(|r| (r.clock_rate, r.to_owned_line())),
        Some((0, s("a=rtpmap:96 AppleLossless\r\n")))
    );
}

trait OwnedLine {
    fn to_owned_line(&self) -> String;
}

impl OwnedLine for Rtpmap {
    fn to_owned_line(&self) -> String {
        Attribute::Rtpmap(self.clone()).to_string()
    }
}

/// webrtc-rs writes its ICE-lite flag as `a=ice-lite:ice-lite`: lenient mode keeps the flag
/// (written back as `a=ice-lite`) with a warning at the value; strict mode refuses it there.
#[test]
fn a_flag_with_a_value_is_tolerated_only_in_lenient_mode() {
    let text = format!("{HEAD}a=ice-lite:ice-lite\r\n{MEDIA}a=rtcp-mux:yes\r\n");
    let parsed = parse_with(text.as_bytes(), &ParseOptions::lenient()).expect("lenient");
    assert!(parsed.description.ice_lite());
    assert!(parsed.description.media[0].has_rtcp_mux());
    let tolerated: Vec<(usize, usize)> = parsed
        .warnings
        .iter()
        .filter(|w| {
            matches!(
                w.kind,
                WarningKind::Tolerated(ParseErrorKind::UnexpectedAttributeValue { .. })
            )
        })
        .map(|w| (w.line, w.column))
        .collect();
    assert_eq!(tolerated, [(5, 12), (8, 12)]);
    let written = parsed.description.to_string();
    assert!(written.contains("a=ice-lite\r\n") && written.contains("a=rtcp-mux\r\n"));
    match parse(&text) {
        Err(SdpError::Parse(error)) => {
            assert_eq!((error.line, error.column), (5, 12));
            assert!(matches!(
                error.kind,
                ParseErrorKind::UnexpectedAttributeValue {
                    attribute: "ice-lite"
                }
            ));
        }
        other => panic!("strict mode refuses a flag with a value: {other:?}"),
    }
}

#[test]
fn a_fingerprint_reads_into_the_value_dtls_checks_and_back() {
    let digest = ["ab"; 32].join(":");
    let Ok(Attribute::Fingerprint(attribute)) =
        parse_media_attribute(&format!("a=fingerprint:SHA-256 {digest}"))
    else {
        panic!("a fingerprint attribute");
    };
    assert_eq!(attribute.value, digest, "kept as written");
    let typed = attribute.typed().expect("a usable fingerprint");
    assert_eq!(typed.algorithm(), antiphon_types::HashAlgorithm::Sha256);
    assert_eq!(typed.digest(), &[0xab; 32][..]);
    let written = Fingerprint::from(&typed);
    assert_eq!(written.algorithm, "sha-256");
    assert_eq!(written.value, digest.to_uppercase());
    assert_eq!(written.typed(), Ok(typed));
    // A registered hash the SDP grammar takes, but no certificate fingerprint may use.
    let md5 = Fingerprint::new("md5", ["00"; 16].join(":"));
    assert!(matches!(
        md5.typed(),
        Err(antiphon_types::FingerprintError::RefusedHashAlgorithm { .. })
    ));
    let sha224 = Fingerprint::new("sha-224", ["00"; 28].join(":"));
    assert!(matches!(
        sha224.typed(),
        Err(antiphon_types::FingerprintError::UnknownHashAlgorithm { .. })
    ));
}
