//! Table-driven negotiation tests: offered list, local capabilities, options, expected result.

mod common;

use antiphon_codec::{
    Capabilities, Codec, CodecCapability, Direction, Fmtp, MediaKind, NegotiationOptions,
    OfferedMedia,
    RejectionReason::{self, *},
    negotiate,
};
use common::{CHROME_AUDIO, CHROME_VIDEO, corpus_file, section, sections};

struct Case {
    name: &'static str,
    offer: OfferedMedia,
    local: Capabilities,
    options: NegotiationOptions,
    /// Accepted payload types, in answer order.
    accepted: &'static [u8],
    /// Rejected payload types with their reason, in offer order.
    rejected: Vec<(u8, RejectionReason)>,
    /// Answer fmtp for some accepted payload types.
    answer_fmtp: &'static [(u8, &'static str)],
}

impl Case {
    fn new(name: &'static str, offer: OfferedMedia, local: Capabilities) -> Self {
        Self {
            name,
            offer,
            local,
            options: NegotiationOptions::send_recv(),
            accepted: &[],
            rejected: Vec::new(),
            answer_fmtp: &[],
        }
    }
    fn options(mut self, options: NegotiationOptions) -> Self {
        self.options = options;
        self
    }
    fn accepts(mut self, accepted: &'static [u8]) -> Self {
        self.accepted = accepted;
        self
    }
    fn rejects(mut self, rejected: Vec<(u8, RejectionReason)>) -> Self {
        self.rejected = rejected;
        self
    }
    fn answers(mut self, answer_fmtp: &'static [(u8, &'static str)]) -> Self {
        self.answer_fmtp = answer_fmtp;
        self
    }

    fn check(&self) {
        let result = negotiate(&self.offer, &self.local, &self.options);
        let accepted: Vec<u8> = result.codecs.iter().map(|c| c.payload_type).collect();
        assert_eq!(
            accepted, self.accepted,
            "{}: accepted payload types",
            self.name
        );
        let rejected: Vec<(u8, RejectionReason)> = result
            .explanation
            .codecs
            .iter()
            .filter_map(|v| v.verdict.rejection().map(|r| (v.payload_type, r.clone())))
            .collect();
        assert_eq!(rejected, self.rejected, "{}: rejections", self.name);
        assert_eq!(
            result.explanation.codecs.len(),
            self.offer.codecs.len(),
            "{}: one verdict each",
            self.name
        );
        for (pt, fmtp) in self.answer_fmtp {
            let codec = result.codecs.iter().find(|c| c.payload_type == *pt);
            let got = codec.map(|c| c.codec.fmtp.to_string());
            assert_eq!(
                got.as_deref(),
                Some(*fmtp),
                "{}: answer fmtp of {pt}",
                self.name
            );
        }
    }
}

fn video(text: &str) -> OfferedMedia {
    section(MediaKind::Video, text)
}

fn audio(text: &str) -> OfferedMedia {
    section(MediaKind::Audio, text)
}

fn default_caps() -> Capabilities {
    Capabilities::browser_default()
}

/// The defaults with every video codec whose `kind/name fmtp` matches `drop` removed, together
/// with the rtx pointing at it.
fn caps_without(kind: MediaKind, drop: impl Fn(&Codec) -> bool) -> Capabilities {
    let mut caps = default_caps();
    let media = caps.of_kind_mut(kind);
    let dropped: Vec<u8> = media
        .codecs
        .iter()
        .filter(|c| drop(&c.codec))
        .filter_map(|c| c.preferred_payload_type)
        .collect();
    media.codecs.retain(|c| {
        let apt = c.codec.fmtp.get("apt").and_then(|a| a.parse::<u8>().ok());
        !drop(&c.codec) && apt.is_none_or(|apt| !dropped.contains(&apt))
    });
    caps
}

fn named(name: &'static str) -> impl Fn(&Codec) -> bool {
    move |c| c.name.eq_ignore_ascii_case(name)
}

fn with_codec(mut caps: Capabilities, capability: CodecCapability) -> Capabilities {
    caps.of_kind_mut(capability.codec.kind)
        .codecs
        .push(capability);
    caps
}

fn codec(kind: MediaKind, name: &str, clock_rate: u32, fmtp: &str) -> Codec {
    Codec::new(kind, name.to_owned(), clock_rate).with_fmtp(Fmtp::parse(fmtp).expect("fmtp"))
}

fn mismatch(parameter: &'static str, offered: Option<&str>) -> RejectionReason {
    FmtpMismatch {
        parameter,
        offered: offered.map(str::to_owned),
    }
}

fn only_h264(fmtp: &'static str) -> Capabilities {
    caps_without(MediaKind::Video, move |c| {
        c.name != "rtx" && !(c.name == "H264" && c.fmtp.to_string() == fmtp)
    })
}

#[test]
fn browser_offers() {
    let safari = sections(&corpus_file("aiortc-safari-audio-video-data.sdp"));
    let firefox = sections(&corpus_file("mozilla-test-firefox-video-offer.sdp"));
    let str0m_chrome_audio = sections(&corpus_file("str0m-chrome-audio-offer.sdp"));
    let cases = vec![
        Case::new("modern Chrome video against the Chrome defaults", video(CHROME_VIDEO), default_caps())
            .accepts(&[
                96, 97, 103, 104, 107, 108, 109, 114, 115, 116, 117, 118, 39, 40, 45, 46, 98, 99, 100, 101, 119,
                120, 49, 50, 123, 124, 125,
            ])
            .answers(&[
                (97, "apt=96"),
                (103, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f"),
                (39, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f"),
                (45, "level-idx=5;profile=0;tier=0"),
                (100, "profile-id=2"),
                (49, "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST"),
                (124, "apt=123"),
                (125, ""),
            ]),
        Case::new("modern Chrome audio against the Chrome defaults", audio(CHROME_AUDIO), default_caps())
            .accepts(&[111, 63, 9, 0, 8, 13, 110, 126])
            .answers(&[(111, "minptime=10;useinbandfec=1"), (63, "111/111")]),
        Case::new(
            "older Chrome audio (str0m corpus): ISAC unsupported, CN and DTMF only at supported rates",
            str0m_chrome_audio[0].clone(),
            default_caps(),
        )
        .accepts(&[111, 9, 0, 8, 13, 110, 126])
        .rejects(vec![
            (103, UnsupportedMimeType),
            (104, UnsupportedMimeType),
            (106, ClockRateMismatch),
            (105, ClockRateMismatch),
            (112, ClockRateMismatch),
            (113, ClockRateMismatch),
        ]),
        Case::new("Firefox H264 pm=1 and pm absent against CB pm=1 only", firefox[0].clone(), only_h264(
            "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
        ))
        .accepts(&[126])
        .rejects(vec![(120, UnsupportedMimeType), (97, mismatch("packetization-mode", None))])
        .answers(&[(126, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f")]),
        Case::new("Firefox H264 pm=1 and pm absent against the defaults", firefox[0].clone(), default_caps())
            .accepts(&[126, 120, 97])
            .answers(&[(97, "level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f")]),
        Case::new("Safari video: Constrained High 640c1f is not High 64001f", safari[1].clone(), default_caps())
            .accepts(&[98, 99, 100, 101, 127, 125, 104])
            .rejects(vec![(96, mismatch("profile-level-id", Some("640c1f"))), (97, RtxPrimaryRejected { apt: 96 })]),
        Case::new(
            "Safari video against a Constrained High capability",
            safari[1].clone(),
            with_codec(
                default_caps(),
                CodecCapability::new(codec(
                    MediaKind::Video,
                    "H264",
                    90_000,
                    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c34",
                )),
            ),
        )
        .accepts(&[96, 97, 98, 99, 100, 101, 127, 125, 104])
        .answers(&[(96, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=640c34")]),
        Case::new("Safari audio: ISAC, iLBC, 16 kHz CN and DTMF rejected", safari[0].clone(), default_caps())
            .accepts(&[111, 9, 0, 8, 13, 110, 126])
            .rejects(vec![
                (103, UnsupportedMimeType),
                (102, UnsupportedMimeType),
                (105, ClockRateMismatch),
                (113, ClockRateMismatch),
            ]),
    ];
    for case in cases {
        case.check();
    }
}

#[test]
fn fmtp_rules() {
    let cases = vec![
        Case::new(
            "VP9 profile 2 offered, only profile 0 supported; its rtx goes too",
            video(
                "a=rtpmap:98 VP9/90000
                 a=fmtp:98 profile-id=0
                 a=rtpmap:99 rtx/90000
                 a=fmtp:99 apt=98
                 a=rtpmap:100 VP9/90000
                 a=fmtp:100 profile-id=2
                 a=rtpmap:101 rtx/90000
                 a=fmtp:101 apt=100",
            ),
            caps_without(MediaKind::Video, |c| c.name == "VP9" && c.fmtp.get("profile-id") == Some("2")),
        )
        .accepts(&[98, 99])
        .rejects(vec![(100, mismatch("profile-id", Some("2"))), (101, RtxPrimaryRejected { apt: 100 })]),
        Case::new(
            "VP9 without profile-id is profile 0",
            video("a=rtpmap:98 VP9/90000"),
            caps_without(MediaKind::Video, |c| c.name == "VP9" && c.fmtp.get("profile-id") == Some("0")),
        )
        .rejects(vec![(98, mismatch("profile-id", None))]),
        Case::new(
            "H264 level asymmetry: both allow -> our level; offerer does not -> the lower",
            video(
                "a=rtpmap:96 H264/90000
                 a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e034
                 a=rtpmap:97 H264/90000
                 a=fmtp:97 packetization-mode=1;profile-level-id=42e00a
                 a=rtpmap:98 H264/90000
                 a=fmtp:98 packetization-mode=1;profile-level-id=42e034",
            ),
            default_caps(),
        )
        .accepts(&[96, 97, 98])
        .answers(&[
            (96, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
            (97, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e00a"),
            (98, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
        ]),
        Case::new(
            "H264 level asymmetry the other way: our level is higher",
            video(
                "a=rtpmap:96 H264/90000
                 a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e00b",
            ),
            with_codec(
                caps_without(MediaKind::Video, named("H264")),
                CodecCapability::new(codec(
                    MediaKind::Video,
                    "H264",
                    90_000,
                    "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e034",
                )),
            ),
        )
        .accepts(&[96])
        .answers(&[(96, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e034")]),
        Case::new(
            "H264 level asymmetry: we do not allow it -> the lower level",
            video(
                "a=rtpmap:96 H264/90000
                 a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f",
            ),
            with_codec(
                caps_without(MediaKind::Video, named("H264")),
                CodecCapability::new(codec(MediaKind::Video, "H264", 90_000, "packetization-mode=1;profile-level-id=42e034")),
            ),
        )
        .accepts(&[96])
        .answers(&[(96, "packetization-mode=1;profile-level-id=42e01f")]),
        Case::new(
            "H264 profile spellings: 42c0 and 4d40 and level 1b; 640c34 needs Constrained High",
            video(
                "a=rtpmap:96 H264/90000
                 a=fmtp:96 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42c01f
                 a=rtpmap:97 H264/90000
                 a=fmtp:97 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d401f
                 a=rtpmap:98 H264/90000
                 a=fmtp:98 packetization-mode=1;profile-level-id=42f00b
                 a=rtpmap:99 H264/90000
                 a=fmtp:99 packetization-mode=1;profile-level-id=640c34
                 a=rtpmap:100 H264/90000
                 a=fmtp:100 packetization-mode=1;profile-level-id=42e0zz",
            ),
            only_h264("level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f"),
        )
        .accepts(&[96, 98])
        .rejects(vec![
            (97, mismatch("profile-level-id", Some("4d401f"))),
            (99, mismatch("profile-level-id", Some("640c34"))),
            (
                100,
                InvalidFmtp(antiphon_codec::CodecError::InvalidParameterValue {
                    parameter: "profile-level-id",
                    value: "42e0zz".to_owned(),
                    expected: "6 hex digits",
                }),
            ),
        ])
        .answers(&[
            (96, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42c01f"),
            (98, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42f00b"),
        ]),
        Case::new(
            "H264 Main 4d40 matches our Main 4d00",
            video(
                "a=rtpmap:97 H264/90000
                 a=fmtp:97 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d401f",
            ),
            default_caps(),
        )
        .accepts(&[97])
        .answers(&[(97, "level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d401f")]),
        Case::new(
            "Chrome's H265 level ids: the answer carries the lower level; profile 2 is not profile 1",
            video(
                "a=rtpmap:49 H265/90000
                 a=fmtp:49 level-id=180;profile-id=1;tier-flag=0;tx-mode=SRST
                 a=rtpmap:50 rtx/90000
                 a=fmtp:50 apt=49
                 a=rtpmap:51 H265/90000
                 a=fmtp:51 level-id=93;profile-id=2;tier-flag=0;tx-mode=SRST
                 a=rtpmap:52 rtx/90000
                 a=fmtp:52 apt=51
                 a=rtpmap:53 H265/90000
                 a=fmtp:53 level-id=93;profile-id=1;tier-flag=1;tx-mode=SRST",
            ),
            default_caps(),
        )
        .accepts(&[49, 50])
        .rejects(vec![
            (51, mismatch("profile-id", Some("2"))),
            (52, RtxPrimaryRejected { apt: 51 }),
            (53, mismatch("tier-flag", Some("1"))),
        ])
        .answers(&[(49, "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST")]),
        Case::new(
            "H265 level 93 offered against our level 180",
            video(
                "a=rtpmap:49 H265/90000
                 a=fmtp:49 level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST",
            ),
            with_codec(
                caps_without(MediaKind::Video, named("H265")),
                CodecCapability::new(codec(
                    MediaKind::Video,
                    "H265",
                    90_000,
                    "level-id=180;profile-id=1;tier-flag=0;tx-mode=SRST",
                )),
            ),
        )
        .accepts(&[49])
        .answers(&[(49, "level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST")]),
        Case::new(
            "AV1 profile 1 offered, only profile 0 supported; absent profile is 0",
            video(
                "a=rtpmap:45 AV1/90000
                 a=fmtp:45 level-idx=5;profile=1;tier=0
                 a=rtpmap:35 AV1/90000",
            ),
            default_caps(),
        )
        .accepts(&[35])
        .rejects(vec![(45, mismatch("profile", Some("1")))])
        .answers(&[(35, "level-idx=5;profile=0;tier=0")]),
        Case::new(
            "opus: offered parameters do not decide, our parameters answer, unknown ones survive",
            audio(
                "a=rtpmap:109 opus/48000/2
                 a=fmtp:109 maxplaybackrate=48000;stereo=1;useinbandfec=1;x-custom=1
                 a=rtpmap:110 opus/48000",
            ),
            default_caps(),
        )
        .accepts(&[109])
        .rejects(vec![(110, ChannelsMismatch)])
        .answers(&[(109, "minptime=10;useinbandfec=1")]),
    ];
    for case in cases {
        case.check();
    }
}

#[test]
fn dependent_codecs() {
    let cases = vec![
        Case::new(
            "red and DTMF/48000 go with opus; 8 kHz helpers stay with PCMU",
            audio(CHROME_AUDIO),
            caps_without(MediaKind::Audio, named("opus")),
        )
        .accepts(&[9, 0, 8, 13, 126])
        .rejects(vec![
            (111, UnsupportedMimeType),
            (63, RedPrimaryRejected { payload_type: 111 }),
            (110, NoCodecAtClockRate { clock_rate: 48_000 }),
        ]),
        Case::new(
            "CN and DTMF at 8 kHz need an accepted 8 kHz codec",
            audio(CHROME_AUDIO),
            caps_without(MediaKind::Audio, |c| {
                ["G722", "PCMU", "PCMA"].contains(&&*c.name)
            }),
        )
        .accepts(&[111, 63, 110])
        .rejects(vec![
            (9, UnsupportedMimeType),
            (0, UnsupportedMimeType),
            (8, UnsupportedMimeType),
            (13, NoCodecAtClockRate { clock_rate: 8_000 }),
            (126, NoCodecAtClockRate { clock_rate: 8_000 }),
        ]),
        Case::new(
            "video red, ulpfec and red's rtx need an accepted media codec",
            video(
                "a=rtpmap:96 VP8/90000
                 a=rtpmap:97 rtx/90000
                 a=fmtp:97 apt=96
                 a=rtpmap:116 red/90000
                 a=rtpmap:117 ulpfec/90000
                 a=rtpmap:98 rtx/90000
                 a=fmtp:98 apt=116",
            ),
            caps_without(MediaKind::Video, named("VP8")),
        )
        .rejects(vec![
            (96, UnsupportedMimeType),
            (97, RtxPrimaryRejected { apt: 96 }),
            (116, NoPrimaryCodec),
            (117, NoPrimaryCodec),
            (98, RtxPrimaryRejected { apt: 116 }),
        ]),
        Case::new(
            "red referring to an unoffered payload type; rtx with every kind of bad apt",
            video(
                "a=rtpmap:96 VP8/90000
                 a=rtpmap:116 red/90000
                 a=fmtp:116 96/120
                 a=rtpmap:97 rtx/90000
                 a=rtpmap:98 rtx/90000
                 a=fmtp:98 apt=abc
                 a=rtpmap:99 rtx/90000
                 a=fmtp:99 apt=150
                 a=rtpmap:100 rtx/90000
                 a=fmtp:100 apt=50
                 a=rtpmap:101 rtx/90000
                 a=fmtp:101 apt=99
                 a=rtpmap:102 rtx/90000
                 a=fmtp:102 apt=96
                 a=rtpmap:103 flexfec-03/90000
                 a=fmtp:103 repair-window=10000000",
            ),
            default_caps(),
        )
        .accepts(&[96, 102, 103])
        .rejects(vec![
            (116, RedPrimaryRejected { payload_type: 120 }),
            (97, RtxMissingApt),
            (
                98,
                RtxInvalidApt {
                    value: "abc".to_owned(),
                },
            ),
            (
                99,
                RtxInvalidApt {
                    value: "150".to_owned(),
                },
            ),
            (100, RtxAptNotOffered { apt: 50 }),
            (
                101,
                RtxInvalidApt {
                    value: "99".to_owned(),
                },
            ),
        ])
        .answers(&[(102, "apt=96"), (103, "repair-window=10000000")]),
        Case::new(
            "audio rtx must share its codec's clock rate",
            audio(
                "a=rtpmap:111 opus/48000/2
                 a=rtpmap:96 rtx/48000
                 a=fmtp:96 apt=111
                 a=rtpmap:97 rtx/8000
                 a=fmtp:97 apt=111",
            ),
            with_codec(
                with_codec(
                    default_caps(),
                    CodecCapability::new(codec(MediaKind::Audio, "rtx", 48_000, "apt=111")),
                ),
                CodecCapability::new(codec(MediaKind::Audio, "rtx", 8_000, "apt=0;rtx-time=200")),
            ),
        )
        .accepts(&[111, 96])
        .rejects(vec![(97, RtxClockRateMismatch { apt: 111 })])
        .answers(&[(96, "apt=111")]),
    ];
    for case in cases {
        case.check();
    }
}

#[test]
fn bad_payload_types() {
    let mut offer = video(
        "a=rtpmap:96 VP8/90000
         a=rtpmap:96 VP9/90000
         a=rtpmap:72 VP8/90000
         a=rtpmap:97 rtx/90000
         a=fmtp:97 apt=96",
    );
    offer.codecs.push(antiphon_codec::OfferedCodec::new(
        200,
        Codec::new(MediaKind::Video, "VP8", 90_000),
    ));
    offer.codecs.push(antiphon_codec::OfferedCodec::new(
        111,
        Codec::new(MediaKind::Audio, "opus", 48_000).with_channels(2),
    ));
    Case::new(
        "duplicate, RTCP-colliding, out-of-range and wrong-kind payload types",
        offer,
        default_caps(),
    )
    .accepts(&[96, 97])
    .rejects(vec![
        (96, DuplicatePayloadType),
        (72, PayloadTypeConflictsWithRtcp),
        (200, PayloadTypeOutOfRange),
        (
            111,
            WrongMediaKind {
                section: MediaKind::Video,
            },
        ),
    ])
    .check();
}

#[test]
fn preferences_and_direction() {
    let prefs = vec![
        codec(MediaKind::Video, "VP9", 90_000, "profile-id=0"),
        codec(MediaKind::Video, "rtx", 90_000, ""),
        codec(MediaKind::Video, "VP8", 90_000, ""),
    ];
    let chrome = video(CHROME_VIDEO);
    let excluded = [103, 107, 109, 115, 117, 39, 45, 100, 119, 49, 123];
    let mut rejected = Vec::new();
    for offered in &chrome.codecs {
        let pt = offered.payload_type;
        let apt = offered
            .codec
            .fmtp
            .get("apt")
            .and_then(|a| a.parse::<u8>().ok());
        if excluded.contains(&pt) || pt == 125 {
            rejected.push((pt, ExcludedByPreferences));
        } else if let Some(apt) = apt.filter(|apt| excluded.contains(apt)) {
            rejected.push((pt, RtxPrimaryRejected { apt }));
        }
    }
    // Preferences only stop codecs we support: rtx is listed; red and ulpfec are not.
    let mut decode_only_av1 = default_caps();
    for capability in &mut decode_only_av1.video.codecs {
        if capability.codec.name == "AV1" {
            capability.direction = Direction::RecvOnly;
        } else if capability.codec.name == "VP8" {
            capability.direction = Direction::SendOnly;
        }
    }
    let small = || {
        video(
            "a=rtpmap:96 VP8/90000
             a=rtpmap:97 rtx/90000
             a=fmtp:97 apt=96
             a=rtpmap:45 AV1/90000
             a=rtpmap:46 rtx/90000
             a=fmtp:46 apt=45",
        )
    };
    let cases = vec![
        Case::new(
            "codec preferences reorder and exclude",
            chrome.clone(),
            default_caps(),
        )
        .options(NegotiationOptions::send_recv().with_codec_preferences(prefs))
        .accepts(&[98, 97, 99, 96])
        .rejects(rejected),
        Case::new(
            "a send-only codec and a receive-only codec in a sendrecv section",
            small(),
            decode_only_av1.clone(),
        )
        .rejects(vec![
            (
                96,
                DirectionNotSupported {
                    needed: Direction::SendRecv,
                },
            ),
            (97, RtxPrimaryRejected { apt: 96 }),
            (
                45,
                DirectionNotSupported {
                    needed: Direction::SendRecv,
                },
            ),
            (46, RtxPrimaryRejected { apt: 45 }),
        ]),
        Case::new(
            "recvonly answer takes the decode-only codec",
            small(),
            decode_only_av1.clone(),
        )
        .options(NegotiationOptions::send_recv().with_direction(Direction::RecvOnly))
        .accepts(&[45, 46])
        .rejects(vec![
            (
                96,
                DirectionNotSupported {
                    needed: Direction::RecvOnly,
                },
            ),
            (97, RtxPrimaryRejected { apt: 96 }),
        ]),
        Case::new(
            "sendonly answer takes the encode-only codec",
            small(),
            decode_only_av1.clone(),
        )
        .options(NegotiationOptions::send_recv().with_direction(Direction::SendOnly))
        .accepts(&[96, 97])
        .rejects(vec![
            (
                45,
                DirectionNotSupported {
                    needed: Direction::SendOnly,
                },
            ),
            (46, RtxPrimaryRejected { apt: 45 }),
        ]),
        Case::new(
            "inactive answer takes either",
            small(),
            decode_only_av1.clone(),
        )
        .options(NegotiationOptions::send_recv().with_direction(Direction::Inactive))
        .accepts(&[96, 97, 45, 46]),
    ];
    for case in cases {
        case.check();
    }
    assert!(
        decode_only_av1
            .sender(MediaKind::Video)
            .codecs
            .iter()
            .all(|c| c.codec.name != "AV1")
    );
    assert!(
        decode_only_av1
            .receiver(MediaKind::Video)
            .codecs
            .iter()
            .any(|c| c.codec.name == "AV1")
    );
    assert!(
        decode_only_av1
            .receiver(MediaKind::Video)
            .codecs
            .iter()
            .all(|c| c.codec.name != "VP8")
    );
}

#[test]
fn different_codecs_per_media_section() {
    // One Chrome offer with VP9 in the first video section and VP8 in the second.
    let offer = sections(&corpus_file("pion-chrome-multicodec-offer-lenient.sdp"));
    assert_eq!(offer.len(), 2);
    Case::new("first section: VP9", offer[0].clone(), default_caps())
        .accepts(&[98])
        .check();
    Case::new("second section: VP8", offer[1].clone(), default_caps())
        .accepts(&[96])
        .check();
    let vp8_only = NegotiationOptions::send_recv().with_codec_preferences(vec![codec(
        MediaKind::Video,
        "VP8",
        90_000,
        "",
    )]);
    Case::new(
        "first section with VP8-only preferences",
        offer[0].clone(),
        default_caps(),
    )
    .options(vp8_only.clone())
    .rejects(vec![(98, ExcludedByPreferences)])
    .check();
    Case::new(
        "second section with VP8-only preferences",
        offer[1].clone(),
        default_caps(),
    )
    .options(vp8_only)
    .accepts(&[96])
    .check();
}

#[test]
fn rtcp_feedback_is_intersected_and_wildcards_apply() {
    let mut offer = sections(&corpus_file("aiortc-firefox61-rtcpfb-wildcard.sdp")).remove(0);
    offer.codecs[0]
        .rtcp_feedback
        .push(antiphon_codec::RtcpFeedback::new(
            "x-unknown",
            Some("param"),
        ));
    offer.codecs[0]
        .rtcp_feedback
        .push(antiphon_codec::RtcpFeedback::ccm_fir());
    offer.codecs[0]
        .rtcp_feedback
        .push(antiphon_codec::RtcpFeedback::new("NACK", None));
    let mut local = default_caps();
    for capability in &mut local.video.codecs {
        if capability.codec.name == "VP9" {
            capability
                .rtcp_feedback
                .retain(|fb| fb.feedback_type != "goog-remb");
        }
    }
    let result = negotiate(&offer, &local, &NegotiationOptions::send_recv());
    let feedback = |pt: u8| -> Vec<String> {
        result
            .codecs
            .iter()
            .find(|c| c.payload_type == pt)
            .map(|c| c.rtcp_feedback.iter().map(ToString::to_string).collect())
            .unwrap_or_default()
    };
    assert_eq!(feedback(120), ["ccm fir", "NACK", "nack pli", "goog-remb"]);
    assert_eq!(feedback(121), ["nack", "nack pli"]);
    assert_eq!(
        result
            .codecs
            .iter()
            .map(|c| c.remote_fmtp.to_string())
            .collect::<Vec<_>>(),
        ["max-fs=12288;max-fr=60", "max-fs=12288;max-fr=60"]
    );
}
