//! Hostile input: limits, invalid UTF-8, structural errors, all typed and located.

use antiphon_sdp::*;

const HEAD: &str = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\n";

fn err(input: &[u8], options: &ParseOptions) -> ParseError {
    match parse_with(input, options) {
        Err(SdpError::Parse(e)) => e,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[test]
fn limits_are_enforced_with_typed_errors() {
    let small = Limits {
        max_input_bytes: 400,
        max_line_bytes: 40,
        max_media_sections: 2,
        max_attributes_per_section: 3,
        max_channels: 8,
    };
    let options = ParseOptions::strict().with_limits(small);
    let media = "m=audio 9 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\n";
    let cases: Vec<(String, usize, ParseErrorKind)> = vec![
        (
            format!("{HEAD}{}", "a=x\r\n".repeat(100)),
            1,
            ParseErrorKind::LimitExceeded(Limit::InputBytes(400)),
        ),
        (
            format!("{HEAD}a={}\r\n", "x".repeat(60)),
            5,
            ParseErrorKind::LimitExceeded(Limit::LineBytes(40)),
        ),
        (
            format!("{HEAD}{}", media.repeat(3)),
            9,
            ParseErrorKind::LimitExceeded(Limit::MediaSections(2)),
        ),
        (
            format!("{HEAD}{media}{}", "a=x\r\n".repeat(4)),
            10,
            ParseErrorKind::LimitExceeded(Limit::AttributesPerSection(3)),
        ),
        (
            format!("{HEAD}{media}a=rtpmap:0 L16/8000/9\r\n"),
            7,
            ParseErrorKind::LimitExceeded(Limit::Channels(8)),
        ),
    ];
    for (input, line, kind) in cases {
        let e = err(input.as_bytes(), &options);
        assert_eq!((e.line, &e.kind), (line, &kind), "{e}");
    }
    // The same inputs are fine under the default limits (except the channel count is legal too).
    assert!(
        parse_with(
            format!("{HEAD}{}", media.repeat(3)).as_bytes(),
            &ParseOptions::strict()
        )
        .is_ok()
    );
}

#[test]
fn invalid_utf8_points_at_the_line_and_column() {
    let mut input = HEAD.as_bytes().to_vec();
    input.extend_from_slice(b"a=x-name:ab\xff\r\n");
    let e = err(&input, &ParseOptions::lenient());
    assert_eq!(
        (e.line, e.column, e.kind),
        (5, 12, ParseErrorKind::InvalidUtf8)
    );
}

#[test]
fn structural_errors_are_located() {
    let cases: Vec<(&str, usize, usize, ParseErrorKind)> = vec![
        ("", 1, 1, ParseErrorKind::MissingLine(LineType::Version)),
        (
            "o=- 1 1 IN IP4 127.0.0.1\r\n",
            1,
            1,
            ParseErrorKind::UnexpectedLine {
                expected: LineType::Version,
                found: LineType::Origin,
            },
        ),
        (
            "v=0\r\ns=-\r\n",
            2,
            1,
            ParseErrorKind::UnexpectedLine {
                expected: LineType::Origin,
                found: LineType::SessionName,
            },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n",
            4,
            1,
            ParseErrorKind::MissingLine(LineType::Timing),
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nc=IN IP4 0.0.0.0\r\n",
            5,
            1,
            ParseErrorKind::OutOfOrder {
                found: LineType::Connection,
                after: LineType::Timing,
            },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\n",
            5,
            1,
            ParseErrorKind::MissingLine(LineType::Connection),
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nx=1\r\n",
            5,
            1,
            ParseErrorKind::UnknownLineType('x'),
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 0\r\nc=IN IP4 0.0.0.0\r\ns=x\r\n",
            7,
            1,
            ParseErrorKind::OutOfOrder {
                found: LineType::SessionName,
                after: LineType::Media,
            },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 70000 RTP/AVP 0\r\n",
            5,
            9,
            ParseErrorKind::InvalidNumber { field: "port" },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/AVP 128\r\n",
            5,
            19,
            ParseErrorKind::InvalidField {
                field: "payload type",
            },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 1.2.3\r\ns=-\r\nt=0 0\r\n",
            2,
            16,
            ParseErrorKind::InvalidAddress,
        ), // Columns point at the offending character even in the middle of a field.
        (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=aud@o 9 RTP/AVP 0\r\n",
            5,
            6,
            ParseErrorKind::InvalidField {
                field: "media type",
            },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\nm=audio 9 RTP/A(P 0\r\n",
            5,
            16,
            ParseErrorKind::InvalidField { field: "protocol" },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nb=A@S:1\r\nt=0 0\r\n",
            4,
            4,
            ParseErrorKind::InvalidField {
                field: "bandwidth type",
            },
        ),
        (
            "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE 0 a,b 1\r\n",
            5,
            19,
            ParseErrorKind::InvalidAttributeValue {
                attribute: "group",
                field: "identification tag",
            },
        ),
    ];
    for (input, line, column, kind) in cases {
        let e = err(input.as_bytes(), &ParseOptions::strict());
        assert_eq!(
            (e.line, e.column, &e.kind),
            (line, column, &kind),
            "{input:?}: {e}"
        );
    }
}

#[test]
fn lenient_mode_reports_what_it_tolerated() {
    let input = "v=0\n\no=- 1 1 IN IP4 127.0.0.1\ns=\nm=audio 9 RTP/AVP\n";
    let parsed = parse_with(input.as_bytes(), &ParseOptions::lenient()).expect("lenient parses");
    let kinds: Vec<(usize, WarningKind)> = parsed
        .warnings
        .into_iter()
        .map(|w| (w.line, w.kind))
        .collect();
    assert_eq!(
        kinds,
        [
            (2, WarningKind::BlankLine),
            (4, WarningKind::EmptySessionName),
            (5, WarningKind::MissingTiming),
            (5, WarningKind::MediaWithoutFormats),
            (5, WarningKind::MissingConnection),
        ]
    );
    assert!(parse(input).is_err());
}

#[test]
fn error_is_send_sync_static_and_displays_position() {
    fn assert_traits<T: std::error::Error + Send + Sync + Clone + 'static>() {}
    assert_traits::<SdpError>();
    assert_traits::<ValidationError>();
    let e = parse("v=0\r\no=- x 1 IN IP4 127.0.0.1\r\n").unwrap_err();
    assert_eq!(
        e.to_string(),
        "line 2, column 5: session id is not a valid number"
    );
    assert_eq!((e.line(), e.column()), (Some(2), Some(5)));
}
