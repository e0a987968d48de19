//! Test helpers: read hand-transcribed (or corpus) `m=` / `a=rtpmap` / `a=fmtp` / `a=rtcp-fb` /
//! `a=extmap` lines into [`OfferedMedia`]. This is a fixture reader for tests only; the crate
//! itself never parses SDP.

#![allow(dead_code, unreachable_pub)]

use std::path::PathBuf;

use antiphon_codec::{
    Codec, Direction, Fmtp, MediaKind, OfferedCodec, OfferedHeaderExtension, OfferedMedia,
    RtcpFeedback,
};

/// The shared corpus directory; tests fail (never skip) when it is missing.
pub fn corpus_file(name: &str) -> String {
    let path = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/corpus/sdp/valid"
    ))
    .join(name);
    std::fs::read_to_string(&path)
        .unwrap_or_else(|e| panic!("corpus file {} is required: {e}", path.display()))
}

/// Every audio and video section of an SDP text, in order.
pub fn sections(sdp: &str) -> Vec<OfferedMedia> {
    let mut result = Vec::new();
    let mut current: Option<(MediaKind, Vec<&str>)> = None;
    for line in sdp.lines().map(str::trim) {
        if let Some(m) = line.strip_prefix("m=") {
            if let Some((kind, lines)) = current.take() {
                result.push(section_from_lines(kind, &lines));
            }
            let kind = match m.split(' ').next() {
                Some("audio") => Some(MediaKind::Audio),
                Some("video") => Some(MediaKind::Video),
                _ => None,
            };
            current = kind.map(|k| (k, vec![line]));
        } else if let Some((_, lines)) = current.as_mut() {
            lines.push(line);
        }
    }
    if let Some((kind, lines)) = current {
        result.push(section_from_lines(kind, &lines));
    }
    result
}

/// One section from SDP-like text (the `m=` line is optional; without it, rtpmap order is used).
pub fn section(kind: MediaKind, text: &str) -> OfferedMedia {
    let lines: Vec<&str> = text
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect();
    section_from_lines(kind, &lines)
}

fn section_from_lines(kind: MediaKind, lines: &[&str]) -> OfferedMedia {
    let mut media = OfferedMedia::new(kind);
    let mut order: Vec<u8> = Vec::new();
    for line in lines {
        if let Some(m) = line.strip_prefix("m=") {
            order = m
                .split(' ')
                .skip(3)
                .filter_map(|pt| pt.parse().ok())
                .collect();
        } else if let Some(rest) = line.strip_prefix("a=rtpmap:") {
            // Lenient corpus files have rtpmaps without clock rates: those codecs are skipped.
            let Some((pt, encoding)) = rest.split_once(' ') else {
                continue;
            };
            let mut parts = encoding.split('/');
            let name = parts.next().unwrap_or_default();
            let Some(Ok(clock_rate)) = parts.next().map(str::parse) else {
                continue;
            };
            let Ok(pt) = pt.parse() else { continue };
            let mut codec = Codec::new(kind, name.to_owned(), clock_rate);
            if let Some(Ok(channels)) = parts.next().map(str::parse) {
                codec = codec.with_channels(channels);
            }
            media.codecs.push(OfferedCodec::new(pt, codec));
        }
    }
    for line in lines {
        if let Some(rest) = line.strip_prefix("a=fmtp:") {
            let (pt, value) = rest.split_once(' ').expect("fmtp value");
            let fmtp = Fmtp::parse(value).expect("fmtp parses");
            if let Some(codec) = codec_mut(&mut media, pt) {
                codec.codec.fmtp = fmtp;
            }
        } else if let Some(rest) = line.strip_prefix("a=rtcp-fb:") {
            let mut words = rest.split(' ');
            let pt = words.next().expect("rtcp-fb pt");
            let feedback =
                RtcpFeedback::new(words.next().expect("rtcp-fb type").to_owned(), words.next());
            if pt == "*" {
                media.rtcp_feedback_wildcard.push(feedback);
            } else if let Some(codec) = codec_mut(&mut media, pt) {
                codec.rtcp_feedback.push(feedback);
            }
        } else if let Some(rest) = line.strip_prefix("a=extmap:") {
            let (id, uri) = rest.split_once(' ').expect("extmap uri");
            let (id, direction) = match id.split_once('/') {
                Some((id, "sendonly")) => (id, Direction::SendOnly),
                Some((id, "recvonly")) => (id, Direction::RecvOnly),
                Some((id, "inactive")) => (id, Direction::Inactive),
                Some((id, _)) => (id, Direction::SendRecv),
                None => (id, Direction::SendRecv),
            };
            let uri = uri.split(' ').next().expect("uri");
            media.header_extensions.push(OfferedHeaderExtension {
                id: id.parse().expect("extmap id"),
                uri: uri.to_owned().into(),
                direction,
            });
        }
    }
    if !order.is_empty() {
        let mut ordered = Vec::new();
        for pt in order {
            if let Some(at) = media.codecs.iter().position(|c| c.payload_type == pt) {
                ordered.push(media.codecs.remove(at));
            }
        }
        ordered.append(&mut media.codecs);
        media.codecs = ordered;
    }
    media
}

fn codec_mut<'a>(media: &'a mut OfferedMedia, pt: &str) -> Option<&'a mut OfferedCodec> {
    let pt: u8 = pt.parse().ok()?;
    media.codecs.iter_mut().find(|c| c.payload_type == pt)
}

/// A modern Chrome (M13x, with AV1 and H265) video offer section, transcribed from a captured
/// offer: 27 payload types.
pub const CHROME_VIDEO: &str = "
m=video 9 UDP/TLS/RTP/SAVPF 96 97 103 104 107 108 109 114 115 116 117 118 39 40 45 46 98 99 100 101 119 120 49 50 123 124 125
a=extmap:14 urn:ietf:params:rtp-hdrext:toffset
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:13 urn:3gpp:video-orientation
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:5 http://www.webrtc.org/experiments/rtp-hdrext/playout-delay
a=extmap:6 http://www.webrtc.org/experiments/rtp-hdrext/video-content-type
a=extmap:7 http://www.webrtc.org/experiments/rtp-hdrext/video-timing
a=extmap:8 http://www.webrtc.org/experiments/rtp-hdrext/color-space
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=extmap:10 urn:ietf:params:rtp-hdrext:sdes:rtp-stream-id
a=extmap:11 urn:ietf:params:rtp-hdrext:sdes:repaired-rtp-stream-id
a=rtpmap:96 VP8/90000
a=rtcp-fb:96 goog-remb
a=rtcp-fb:96 transport-cc
a=rtcp-fb:96 ccm fir
a=rtcp-fb:96 nack
a=rtcp-fb:96 nack pli
a=rtpmap:97 rtx/90000
a=fmtp:97 apt=96
a=rtpmap:103 H264/90000
a=rtcp-fb:103 goog-remb
a=rtcp-fb:103 transport-cc
a=rtcp-fb:103 ccm fir
a=rtcp-fb:103 nack
a=rtcp-fb:103 nack pli
a=fmtp:103 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42001f
a=rtpmap:104 rtx/90000
a=fmtp:104 apt=103
a=rtpmap:107 H264/90000
a=rtcp-fb:107 goog-remb
a=rtcp-fb:107 transport-cc
a=rtcp-fb:107 ccm fir
a=rtcp-fb:107 nack
a=rtcp-fb:107 nack pli
a=fmtp:107 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42001f
a=rtpmap:108 rtx/90000
a=fmtp:108 apt=107
a=rtpmap:109 H264/90000
a=rtcp-fb:109 goog-remb
a=rtcp-fb:109 transport-cc
a=rtcp-fb:109 ccm fir
a=rtcp-fb:109 nack
a=rtcp-fb:109 nack pli
a=fmtp:109 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=42e01f
a=rtpmap:114 rtx/90000
a=fmtp:114 apt=109
a=rtpmap:115 H264/90000
a=rtcp-fb:115 goog-remb
a=rtcp-fb:115 transport-cc
a=rtcp-fb:115 ccm fir
a=rtcp-fb:115 nack
a=rtcp-fb:115 nack pli
a=fmtp:115 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=42e01f
a=rtpmap:116 rtx/90000
a=fmtp:116 apt=115
a=rtpmap:117 H264/90000
a=rtcp-fb:117 goog-remb
a=rtcp-fb:117 transport-cc
a=rtcp-fb:117 ccm fir
a=rtcp-fb:117 nack
a=rtcp-fb:117 nack pli
a=fmtp:117 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=4d001f
a=rtpmap:118 rtx/90000
a=fmtp:118 apt=117
a=rtpmap:39 H264/90000
a=rtcp-fb:39 goog-remb
a=rtcp-fb:39 transport-cc
a=rtcp-fb:39 ccm fir
a=rtcp-fb:39 nack
a=rtcp-fb:39 nack pli
a=fmtp:39 level-asymmetry-allowed=1;packetization-mode=0;profile-level-id=4d001f
a=rtpmap:40 rtx/90000
a=fmtp:40 apt=39
a=rtpmap:45 AV1/90000
a=rtcp-fb:45 goog-remb
a=rtcp-fb:45 transport-cc
a=rtcp-fb:45 ccm fir
a=rtcp-fb:45 nack
a=rtcp-fb:45 nack pli
a=fmtp:45 level-idx=5;profile=0;tier=0
a=rtpmap:46 rtx/90000
a=fmtp:46 apt=45
a=rtpmap:98 VP9/90000
a=rtcp-fb:98 goog-remb
a=rtcp-fb:98 transport-cc
a=rtcp-fb:98 ccm fir
a=rtcp-fb:98 nack
a=rtcp-fb:98 nack pli
a=fmtp:98 profile-id=0
a=rtpmap:99 rtx/90000
a=fmtp:99 apt=98
a=rtpmap:100 VP9/90000
a=rtcp-fb:100 goog-remb
a=rtcp-fb:100 transport-cc
a=rtcp-fb:100 ccm fir
a=rtcp-fb:100 nack
a=rtcp-fb:100 nack pli
a=fmtp:100 profile-id=2
a=rtpmap:101 rtx/90000
a=fmtp:101 apt=100
a=rtpmap:119 H264/90000
a=rtcp-fb:119 goog-remb
a=rtcp-fb:119 transport-cc
a=rtcp-fb:119 ccm fir
a=rtcp-fb:119 nack
a=rtcp-fb:119 nack pli
a=fmtp:119 level-asymmetry-allowed=1;packetization-mode=1;profile-level-id=64001f
a=rtpmap:120 rtx/90000
a=fmtp:120 apt=119
a=rtpmap:49 H265/90000
a=rtcp-fb:49 goog-remb
a=rtcp-fb:49 transport-cc
a=rtcp-fb:49 ccm fir
a=rtcp-fb:49 nack
a=rtcp-fb:49 nack pli
a=fmtp:49 level-id=93;profile-id=1;tier-flag=0;tx-mode=SRST
a=rtpmap:50 rtx/90000
a=fmtp:50 apt=49
a=rtpmap:123 red/90000
a=rtpmap:124 rtx/90000
a=fmtp:124 apt=123
a=rtpmap:125 ulpfec/90000
";

/// A modern Chrome audio offer section (opus, red 111/111, G722, PCMU, PCMA, CN, DTMF).
pub const CHROME_AUDIO: &str = "
m=audio 9 UDP/TLS/RTP/SAVPF 111 63 9 0 8 13 110 126
a=extmap:1 urn:ietf:params:rtp-hdrext:ssrc-audio-level
a=extmap:2 http://www.webrtc.org/experiments/rtp-hdrext/abs-send-time
a=extmap:3 http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01
a=extmap:4 urn:ietf:params:rtp-hdrext:sdes:mid
a=rtpmap:111 opus/48000/2
a=rtcp-fb:111 transport-cc
a=fmtp:111 minptime=10;useinbandfec=1
a=rtpmap:63 red/48000/2
a=fmtp:63 111/111
a=rtpmap:9 G722/8000
a=rtpmap:0 PCMU/8000
a=rtpmap:8 PCMA/8000
a=rtpmap:13 CN/8000
a=rtpmap:110 telephone-event/48000
a=rtpmap:126 telephone-event/8000
";
