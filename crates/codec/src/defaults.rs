//! The default capability set: what a current Chrome supports, with Chrome's payload types,
//! fmtp strings, feedback and header-extension ids (as seen in Chrome 13x offers).

use crate::{
    Capabilities, Codec, CodecCapability, Fmtp, HeaderExtensionCapability, MediaCapabilities,
    MediaKind, RtcpFeedback,
};

/// Well-known RTP header extension URIs.
pub mod uri {
    /// RFC 9335 / RFC 8843 `mid` (BUNDLE demultiplexing).
    pub const SDES_MID: &str = "urn:ietf:params:rtp-hdrext:sdes:mid";
    /// RFC 8852 `rtp-stream-id` (simulcast rid).
    pub const SDES_RTP_STREAM_ID: &str = "urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id";
    /// RFC 8852 `repaired-rtp-stream-id`.
    pub const SDES_REPAIRED_RTP_STREAM_ID: &str =
        "urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id";
    /// RFC 6464 client-to-mixer audio level.
    pub const SSRC_AUDIO_LEVEL: &str = "urn:ietf:params:rtp-hdrext:ssrc-audio-level";
    /// RFC 5450 transmission time offset.
    pub const TOFFSET: &str = "urn:ietf:params:rtp-hdrext:toffset";
    /// Google absolute send time.
    pub const ABS_SEND_TIME: &str = "http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time";
    /// Transport-wide sequence numbers for transport-cc.
    pub const TRANSPORT_WIDE_CC: &str =
        "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";
    /// 3GPP coordination of video orientation.
    pub const VIDEO_ORIENTATION: &str = "urn:3gpp:video-orientation";
    /// Google playout delay.
    pub const PLAYOUT_DELAY: &str = "http://www.webrtc.org/experiments/rtp-hdrext/playout-delay";
    /// Google video content type (screenshare or camera).
    pub const VIDEO_CONTENT_TYPE: &str =
        "http://www.webrtc.org/experiments/rtp-hdrext/video-content-type";
    /// Google video timing.
    pub const VIDEO_TIMING: &str = "http://www.webrtc.org/experiments/rtp-hdrext/video-timing";
    /// Google color space.
    pub const COLOR_SPACE: &str = "http://www.webrtc.org/experiments/rtp-hdrext/color-space";
    /// Google absolute capture time.
    pub const ABS_CAPTURE_TIME: &str =
        "http://www.webrtc.org/experiments/rtp-hdrext/abs-capture-time";
    /// AV1 RTP specification dependency descriptor.
    pub const DEPENDENCY_DESCRIPTOR: &str =
        "https://aomediacodec.github.io/av1-rtp-spec/#dependency-descriptor-rtp-header-extension";
    /// Google video layers allocation.
    pub const VIDEO_LAYERS_ALLOCATION: &str =
        "http://www.webrtc.org/experiments/rtp-hdrext/video-layers-allocation00";
}

fn fmtp(params: &[(&str, &str)]) -> Fmtp {
    params
        .iter()
        .fold(Fmtp::new(), |fmtp, (name, value)| fmtp.with(name, *value))
}

fn video_feedback() -> Vec<RtcpFeedback> {
    vec![
        RtcpFeedback::goog_remb(),
        RtcpFeedback::transport_cc(),
        RtcpFeedback::ccm_fir(),
        RtcpFeedback::nack(),
        RtcpFeedback::nack_pli(),
    ]
}

fn audio(pt: u8, name: &'static str, clock_rate: u32) -> CodecCapability {
    CodecCapability::new(Codec::new(MediaKind::Audio, name, clock_rate))
        .with_preferred_payload_type(pt)
}

fn video(pt: u8, name: &'static str, params: &[(&str, &str)]) -> CodecCapability {
    CodecCapability::new(Codec::new(MediaKind::Video, name, 90_000).with_fmtp(fmtp(params)))
        .with_preferred_payload_type(pt)
        .with_feedback(video_feedback())
}

fn rtx(pt: u8, apt: u8) -> CodecCapability {
    video(pt, "rtx", &[("apt", &apt.to_string())]).with_feedback(Vec::new())
}

fn h264(pt: u8, packetization_mode: &str, profile_level_id: &str) -> CodecCapability {
    video(
        pt,
        "H264",
        &[
            ("level-asymmetry-allowed", "1"),
            ("packetization-mode", packetization_mode),
            ("profile-level-id", profile_level_id),
        ],
    )
}

fn audio_capabilities() -> MediaCapabilities {
    let opus = CodecCapability::new(
        Codec::new(MediaKind::Audio, "opus", 48_000)
            .with_channels(2)
            .with_fmtp(fmtp(&[("minptime", "10"), ("useinbandfec", "1")])),
    )
    .with_preferred_payload_type(111)
    .with_feedback(vec![RtcpFeedback::transport_cc()]);
    let mut red =
        CodecCapability::new(Codec::new(MediaKind::Audio, "red", 48_000).with_channels(2))
            .with_preferred_payload_type(63);
    red.codec.fmtp.push(crate::FmtpParam {
        name: "111/111".to_owned(),
        value: None,
    });
    let ext = |uri: &'static str, id: u8| HeaderExtensionCapability::new(uri, Some(id));
    MediaCapabilities {
        codecs: vec![
            opus,
            red,
            audio(9, "G722", 8_000),
            audio(0, "PCMU", 8_000),
            audio(8, "PCMA", 8_000),
            audio(13, "CN", 8_000),
            audio(110, "telephone-event", 48_000),
            audio(126, "telephone-event", 8_000),
        ],
        header_extensions: vec![
            ext(uri::SSRC_AUDIO_LEVEL, 1),
            ext(uri::ABS_SEND_TIME, 2),
            ext(uri::TRANSPORT_WIDE_CC, 3),
            ext(uri::SDES_MID, 4),
            ext(uri::SDES_RTP_STREAM_ID, 10),
            ext(uri::SDES_REPAIRED_RTP_STREAM_ID, 11),
            HeaderExtensionCapability::new(uri::ABS_CAPTURE_TIME, None),
        ],
    }
}

fn video_capabilities() -> MediaCapabilities {
    let ext = |uri: &'static str, id: u8| HeaderExtensionCapability::new(uri, Some(id));
    MediaCapabilities {
        codecs: vec![
            video(96, "VP8", &[]),
            rtx(97, 96),
            h264(103, "1", "42001f"),
            rtx(104, 103),
            h264(107, "0", "42001f"),
            rtx(108, 107),
            h264(109, "1", "42e01f"),
            rtx(114, 109),
            h264(115, "0", "42e01f"),
            rtx(116, 115),
            h264(117, "1", "4d001f"),
            rtx(118, 117),
            h264(39, "0", "4d001f"),
            rtx(40, 39),
            video(
                45,
                "AV1",
                &[("level-idx", "5"), ("profile", "0"), ("tier", "0")],
            ),
            rtx(46, 45),
            video(98, "VP9", &[("profile-id", "0")]),
            rtx(99, 98),
            video(100, "VP9", &[("profile-id", "2")]),
            rtx(101, 100),
            h264(119, "1", "64001f"),
            rtx(120, 119),
            h264(121, "0", "64001f"),
            rtx(122, 121),
            video(
                49,
                "H265",
                &[
                    ("level-id", "93"),
                    ("profile-id", "1"),
                    ("tier-flag", "0"),
                    ("tx-mode", "SRST"),
                ],
            ),
            rtx(50, 49),
            video(123, "red", &[]).with_feedback(Vec::new()),
            rtx(124, 123),
            video(125, "ulpfec", &[]).with_feedback(Vec::new()),
            video(35, "flexfec-03", &[("repair-window", "10000000")]).with_feedback(vec![
                RtcpFeedback::goog_remb(),
                RtcpFeedback::transport_cc(),
            ]),
        ],
        header_extensions: vec![
            ext(uri::TOFFSET, 14),
            ext(uri::ABS_SEND_TIME, 2),
            ext(uri::VIDEO_ORIENTATION, 13),
            ext(uri::TRANSPORT_WIDE_CC, 3),
            ext(uri::PLAYOUT_DELAY, 5),
            ext(uri::VIDEO_CONTENT_TYPE, 6),
            ext(uri::VIDEO_TIMING, 7),
            ext(uri::COLOR_SPACE, 8),
            ext(uri::SDES_MID, 4),
            ext(uri::SDES_RTP_STREAM_ID, 10),
            ext(uri::SDES_REPAIRED_RTP_STREAM_ID, 11),
            ext(uri::DEPENDENCY_DESCRIPTOR, 9),
            ext(uri::VIDEO_LAYERS_ALLOCATION, 12),
            HeaderExtensionCapability::new(uri::ABS_CAPTURE_TIME, None),
        ],
    }
}

impl Capabilities {
    /// What a current Chrome can send and receive, in Chrome's order:
    ///
    /// * audio: opus/48000/2 (`minptime=10;useinbandfec=1`, transport-cc), red/48000/2
    ///   (`111/111`), G722, PCMU, PCMA, CN/8000, telephone-event/48000 and /8000;
    /// * video: VP8; H264 42001f, 42e01f, 4d001f and 64001f, each with packetization-mode 1 and 0
    ///   and level-asymmetry-allowed=1; AV1 (`level-idx=5;profile=0;tier=0`); VP9 profile-id 0
    ///   and 2; H265 (`level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST`); red; ulpfec;
    ///   flexfec-03 (`repair-window=10000000`); an rtx for every codec but the FEC ones; every
    ///   media codec with `goog-remb`, `transport-cc`, `ccm fir`, `nack`, `nack pli`;
    /// * the header extensions Chrome offers (mid, rid, repaired-rid, abs-send-time,
    ///   transport-wide-cc, audio level, toffset, video orientation, playout delay, content type,
    ///   timing, color space) plus the ones it accepts when offered (dependency descriptor,
    ///   video layers allocation, abs-capture-time), all send-and-receive.
    ///
    /// Everything is both sendable and receivable.
    pub fn browser_default() -> Self {
        Self {
            audio: audio_capabilities(),
            video: video_capabilities(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::CodecRole;

    #[test]
    fn default_set_is_consistent() {
        let caps = Capabilities::browser_default();
        for kind in [MediaKind::Audio, MediaKind::Video] {
            let media = caps.of_kind(kind);
            let mut pts: Vec<u8> = media
                .codecs
                .iter()
                .filter_map(|c| c.preferred_payload_type)
                .collect();
            let count = pts.len();
            pts.sort_unstable();
            pts.dedup();
            assert_eq!(
                pts.len(),
                count,
                "{kind} preferred payload types are unique"
            );
            assert_eq!(count, media.codecs.len());
            for codec in &media.codecs {
                assert_eq!(codec.codec.kind, kind);
                if codec.codec.role() == CodecRole::Retransmission {
                    let apt: u8 = codec
                        .codec
                        .fmtp
                        .get("apt")
                        .and_then(|a| a.parse().ok())
                        .unwrap();
                    assert!(
                        media
                            .codecs
                            .iter()
                            .any(|c| c.preferred_payload_type == Some(apt))
                    );
                }
            }
        }
        assert_eq!(caps.video.codecs.len(), 30);
        assert_eq!(caps.sender(MediaKind::Video), caps.video);
        assert_eq!(caps.receiver(MediaKind::Audio), caps.audio);
    }
}
