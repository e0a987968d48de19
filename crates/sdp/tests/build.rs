//! Building a description with the constructors (as the JSEP layer does for an answer),
//! writing it, and reading it back through every entry point.

use antiphon_sdp::*;

fn answer() -> SessionDescription {
    let mut sdp = SessionDescription::new(Origin::new("-", 42, 2, "IN", "IP4", "127.0.0.1"), "-");
    sdp.attributes
        .push(Attribute::Group(Group::bundle(["0", "1"])));
    sdp.attributes.push(Attribute::MsidSemantic(MsidSemantic {
        semantic: "WMS".into(),
        identifiers: vec!["*".into()],
    }));

    let mut audio =
        MediaDescription::new(MediaKind::Audio, 9, Proto::UDP_TLS_RTP_SAVPF, vec!["111"]);
    audio
        .connections
        .push(Connection::from_ip([0, 0, 0, 0].into()));
    audio.attributes.extend([
        Attribute::Rtcp(Rtcp::discard()),
        Attribute::IceUfrag("ufrag".into()),
        Attribute::IcePwd("passwordpasswordpassword".into()),
        Attribute::Fingerprint(Fingerprint::new("sha-256", vec!["AB"; 32].join(":"))),
        Attribute::Setup(Setup::Active),
        Attribute::Mid("0".into()),
        Attribute::Extmap(Extmap::new(1, "urn:ietf:params:rtp-hdrext:sdes:mid")),
        Attribute::Direction(Direction::RecvOnly),
        Attribute::RtcpMux,
        Attribute::Rtpmap(Rtpmap::new(111, "opus", 48000, Some(2))),
        Attribute::RtcpFb(RtcpFb::new(Some(111), "transport-cc", None)),
        Attribute::Fmtp(Fmtp::from_params(
            111,
            [
                FmtpParam::pair("minptime", "10"),
                FmtpParam::pair("useinbandfec", "1"),
            ],
        )),
    ]);

    let mut data = MediaDescription::new(
        MediaKind::Application,
        9,
        Proto::UDP_DTLS_SCTP,
        vec!["webrtc-datachannel"],
    );
    data.connections
        .push(Connection::from_ip([0, 0, 0, 0].into()));
    data.attributes.extend([
        Attribute::Mid("1".into()),
        Attribute::SctpPort(5000),
        Attribute::MaxMessageSize(262_144),
    ]);
    sdp.media = vec![audio, data];
    sdp
}

#[test]
fn built_answer_writes_parses_and_validates() {
    let sdp = answer();
    let text = sdp.to_string();
    assert!(text.starts_with("v=0\r\no=- 42 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n"));
    assert!(text.contains("\r\na=group:BUNDLE 0 1\r\n"));
    assert!(text.contains("\r\na=fmtp:111 minptime=10;useinbandfec=1\r\n"));
    assert!(text.contains("\r\nm=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\n"));
    assert!(text.split_terminator('\n').all(|line| line.ends_with('\r')));

    let parsed = parse(&text).expect("strict parse of our own output");
    assert_eq!(parsed.description, sdp);
    assert!(parsed.warnings.is_empty(), "{:?}", parsed.warnings);
    assert_eq!(sdp.validate(), Ok(()));

    let audio = &sdp.media[0];
    assert_eq!(audio.mid(), Some("0"));
    assert_eq!(audio.direction(), Some(Direction::RecvOnly));
    assert_eq!(
        audio.fmtp(111).and_then(|f| f.value("useinbandfec")),
        Some("1")
    );
    assert_eq!(audio.rtcp_fbs().count(), 1);
    assert!(audio.proto.is_rtp() && audio.has_rtcp_mux() && !audio.is_rejected());
    assert!(sdp.media[1].is_data_channel());
    assert_eq!(sdp.media_ice_ufrag(0), Some("ufrag"));
    assert_eq!(sdp.media_setup(0), Some(Setup::Active));
    assert_eq!(sdp.media_fingerprints(1).len(), 0);
    assert_eq!(
        sdp.bundle_groups().next().map(|g| g.mids.clone()),
        Some(vec!["0".to_owned(), "1".to_owned()])
    );
}

#[test]
fn entry_points_agree() {
    let text = answer().to_string();
    let from_bytes = parse_with(text.as_bytes(), &ParseOptions::strict()).map(|p| p.description);
    let from_str_ref = parse_with(&text, &ParseOptions::strict()).map(|p| p.description);
    let from_vec =
        parse_with(text.clone().into_bytes(), &ParseOptions::lenient()).map(|p| p.description);
    let from_str: Result<SessionDescription, SdpError> = text.parse();
    assert_eq!(from_bytes, Ok(answer()));
    assert_eq!(from_str_ref, Ok(answer()));
    assert_eq!(from_vec, Ok(answer()));
    assert_eq!(from_str, Ok(answer()));
}

#[test]
fn from_str_is_lenient_and_drops_warnings() {
    // Blank line, no t=, no c=: lenient accepts, strict does not.
    let text = "v=0\n\no=- 1 1 IN IP4 127.0.0.1\ns=-\nm=audio 9 RTP/AVP 0\na=x-thing\n";
    let description: SessionDescription = text.parse().expect("lenient");
    assert_eq!(description.media.len(), 1);
    assert!(parse(text).is_err());
}

#[test]
fn validation_errors_convert_into_sdp_error() {
    let mut sdp = answer();
    sdp.media[1].attributes[0] = Attribute::Mid("0".into());
    let error: SdpError = sdp.validate().map_err(SdpError::from).unwrap_err();
    assert_eq!(
        error,
        SdpError::Validation(ValidationError::DuplicateMid {
            mid: "0".into(),
            media_index: 1
        })
    );
    assert_eq!((error.line(), error.column()), (None, None));
    assert_eq!(error.to_string(), "m-section 1 repeats mid \"0\"");
    assert!(std::error::Error::source(&error).is_some());
}

#[test]
fn connection_from_ip_writes_the_address_as_display_does() {
    for octet in 0..=255u8 {
        for ip in [
            std::net::Ipv4Addr::new(octet, 0, 100, 9),
            std::net::Ipv4Addr::new(255, octet, 10, octet),
        ] {
            let connection = Connection::from_ip(ip.into());
            assert_eq!(connection.address, ip.to_string());
            assert_eq!(connection.addr_type, "IP4");
        }
    }
    let v6: std::net::IpAddr = "2001:db8::1".parse().expect("IPv6 literal");
    let connection = Connection::from_ip(v6);
    assert_eq!(
        (connection.addr_type.as_ref(), connection.address.as_ref()),
        ("IP6", "2001:db8::1")
    );
}

#[test]
fn shrink_to_fit_keeps_the_description_and_drops_spare_capacity() {
    let text = answer().to_string();
    let mut parsed = parse(&text).expect("parses").description;
    let before = parsed.clone();
    parsed.shrink_to_fit();
    assert_eq!(parsed, before);
    assert_eq!(parsed.to_string(), text);
    assert_eq!(parsed.media.capacity(), parsed.media.len());
    assert_eq!(parsed.attributes.capacity(), parsed.attributes.len());
    for media in &parsed.media {
        assert_eq!(media.attributes.capacity(), media.attributes.len());
        assert_eq!(media.connections.capacity(), media.connections.len());
        assert_eq!(media.formats.capacity(), media.formats.len());
    }
}
