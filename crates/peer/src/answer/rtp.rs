//! Mapping between SDP's `a=rtpmap` / `a=fmtp` / `a=rtcp-fb` / `a=extmap` and the typed offer
//! and answer of antiphon-codec.

use antiphon_codec::{
    self as codec, Codec, Fmtp, NegotiatedCodec, OfferedCodec, OfferedHeaderExtension,
    OfferedMedia, RtcpFeedback,
};
use antiphon_sdp::{self as sdp, Attribute, MediaDescription};

/// An offered format the answer ignores before codec negotiation, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IgnoredFormat {
    /// The format is not a payload type number (0..=127).
    NotAPayloadType(String),
    /// A dynamic payload type without `a=rtpmap`.
    MissingRtpmap(u8),
    /// The `a=fmtp` parameters do not parse.
    MalformedFmtp(u8, codec::CodecError),
}

impl std::fmt::Display for IgnoredFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::NotAPayloadType(format) => write!(f, "format {format:?} is not a payload type"),
            Self::MissingRtpmap(pt) => write!(f, "payload type {pt} has no a=rtpmap"),
            Self::MalformedFmtp(pt, error) => write!(f, "a=fmtp:{pt} does not parse: {error}"),
        }
    }
}

/// The `a=rtpmap`, `a=fmtp` and `a=rtcp-fb` lines of one section, gathered in one pass over its
/// attributes instead of one scan per payload type (a Chromium video section offers ~30
/// payload types among ~120 attributes).
struct FormatLines<'a> {
    /// The first `a=rtpmap` of each payload type.
    rtpmaps: [Option<&'a sdp::Rtpmap>; 128],
    /// The first `a=fmtp` of each payload type.
    fmtps: [Option<&'a sdp::Fmtp>; 128],
    /// `a=rtcp-fb` lines, in order (`*` ones included).
    feedback: Vec<&'a sdp::RtcpFb>,
}

impl<'a> FormatLines<'a> {
    fn of(section: &'a MediaDescription) -> Self {
        let mut lines = Self {
            rtpmaps: [None; 128],
            fmtps: [None; 128],
            feedback: Vec::new(),
        };
        for attribute in &section.attributes {
            match attribute {
                Attribute::Rtpmap(map) => {
                    if let Some(slot @ None) = lines.rtpmaps.get_mut(usize::from(map.payload_type))
                    {
                        *slot = Some(map);
                    }
                }
                Attribute::Fmtp(fmtp) => {
                    if let Some(slot @ None) = lines.fmtps.get_mut(usize::from(fmtp.payload_type)) {
                        *slot = Some(fmtp);
                    }
                }
                Attribute::RtcpFb(fb) => lines.feedback.push(fb),
                _ => {}
            }
        }
        lines
    }

    /// The `a=rtcp-fb` entries for `payload_type` (`None`: the `*` ones), in order.
    fn feedback_for(&self, payload_type: Option<u8>) -> Vec<RtcpFeedback> {
        self.feedback
            .iter()
            .filter(|fb| fb.payload_type == payload_type)
            .map(|fb| RtcpFeedback {
                feedback_type: fb.feedback.clone(),
                parameter: fb.param.clone(),
            })
            .collect()
    }
}

/// The codec-crate view of an offered RTP section, plus the formats that could not be mapped.
pub(crate) fn offered_media(
    section: &MediaDescription,
    kind: codec::MediaKind,
    session_attributes: &[Attribute],
) -> (OfferedMedia, Vec<IgnoredFormat>) {
    let lines = FormatLines::of(section);
    let mut offered = OfferedMedia::new(kind);
    offered.codecs.reserve(section.formats.len());
    let mut ignored = Vec::new();
    for format in &section.formats {
        let Some(payload_type) = format.parse::<u8>().ok().filter(|pt| *pt <= 127) else {
            ignored.push(IgnoredFormat::NotAPayloadType(format.to_string()));
            continue;
        };
        let index = usize::from(payload_type);
        let rtpmap = lines.rtpmaps.get(index).copied().flatten();
        let mut codec = match rtpmap {
            Some(map) => {
                let codec = Codec::new(kind, map.encoding.clone(), map.clock_rate);
                match map.channels {
                    Some(channels) => codec.with_channels(channels),
                    None => codec,
                }
            }
            None => match static_payload_type(kind, payload_type) {
                Some(codec) => codec,
                None => {
                    ignored.push(IgnoredFormat::MissingRtpmap(payload_type));
                    continue;
                }
            },
        };
        if let Some(fmtp) = lines.fmtps.get(index).copied().flatten() {
            match Fmtp::parse(&fmtp.params) {
                Ok(parsed) => codec.fmtp = parsed,
                Err(error) => {
                    ignored.push(IgnoredFormat::MalformedFmtp(payload_type, error));
                    continue;
                }
            }
        }
        let feedback = lines.feedback_for(Some(payload_type));
        offered
            .codecs
            .push(OfferedCodec::new(payload_type, codec).with_feedback(feedback));
    }
    offered.rtcp_feedback_wildcard = lines.feedback_for(None);

    // Media-level extmaps, plus session-level ones whose id the section does not redefine.
    let media_extmaps: Vec<&sdp::Extmap> = section.extmaps().collect();
    let session_extmaps = session_attributes.iter().filter_map(|a| match a {
        Attribute::Extmap(extmap) => Some(extmap),
        _ => None,
    });
    let extmaps = media_extmaps
        .iter()
        .copied()
        .chain(session_extmaps.filter(|session| media_extmaps.iter().all(|m| m.id != session.id)));
    for extmap in extmaps {
        if extmap.encrypt {
            // Encrypted header extensions (RFC 6904) are not supported; not answering them is
            // how an answerer declines (RFC 8285 §6).
            continue;
        }
        let mut extension = OfferedHeaderExtension::new(extmap.id, extmap.uri.clone());
        if let Some(direction) = extmap.direction {
            extension.direction = direction;
        }
        offered.header_extensions.push(extension);
    }
    (offered, ignored)
}

/// Appends the negotiated extensions to an answer section as `a=extmap` attributes (browsers
/// write extmaps first, then per codec rtpmap, rtcp-fb and fmtp).
pub(crate) fn write_extmaps(
    extensions: Vec<codec::NegotiatedHeaderExtension>,
    attributes: &mut Vec<Attribute>,
) {
    for extension in extensions {
        let direction = match extension.direction {
            codec::Direction::SendRecv => None,
            other => Some(other),
        };
        attributes.push(Attribute::Extmap(sdp::Extmap {
            id: extension.id,
            direction,
            encrypt: false,
            uri: extension.uri,
            extension_attributes: None,
        }));
    }
}

/// Appends `a=rtpmap`, `a=rtcp-fb` and `a=fmtp` lines for every negotiated codec.
pub(crate) fn write_codecs(codecs: Vec<NegotiatedCodec>, attributes: &mut Vec<Attribute>) {
    for accepted in codecs {
        let payload_type = accepted.payload_type;
        let codec = accepted.codec;
        let fmtp = (!codec.fmtp.is_empty()).then(|| codec.fmtp.into_text());
        attributes.push(Attribute::Rtpmap(sdp::Rtpmap {
            payload_type,
            encoding: codec.name,
            clock_rate: codec.clock_rate,
            channels: codec.channels,
        }));
        for feedback in accepted.rtcp_feedback {
            attributes.push(Attribute::RtcpFb(sdp::RtcpFb {
                payload_type: Some(payload_type),
                feedback: feedback.feedback_type,
                param: feedback.parameter,
            }));
        }
        if let Some(params) = fmtp {
            attributes.push(Attribute::Fmtp(sdp::Fmtp {
                payload_type,
                params,
            }));
        }
    }
}

/// The codecs of the RTP/AVP static payload type table (RFC 3551 §6) that WebRTC endpoints
/// still offer without `a=rtpmap`.
fn static_payload_type(kind: codec::MediaKind, payload_type: u8) -> Option<Codec> {
    let (name, clock_rate, media) = match payload_type {
        0 => ("PCMU", 8000, codec::MediaKind::Audio),
        3 => ("GSM", 8000, codec::MediaKind::Audio),
        4 => ("G723", 8000, codec::MediaKind::Audio),
        8 => ("PCMA", 8000, codec::MediaKind::Audio),
        9 => ("G722", 8000, codec::MediaKind::Audio),
        13 => ("CN", 8000, codec::MediaKind::Audio),
        18 => ("G729", 8000, codec::MediaKind::Audio),
        26 => ("JPEG", 90000, codec::MediaKind::Video),
        31 => ("H261", 90000, codec::MediaKind::Video),
        34 => ("H263", 90000, codec::MediaKind::Video),
        _ => return None,
    };
    (media == kind).then(|| Codec::new(kind, name, clock_rate))
}
